"""A map payload from its parts, with nothing but :mod:`json`: what a stored map needs to become a page.

:func:`targeting.render.payload.payload_parts` makes the parts (JSON texts); this module joins them and makes a
PCN's or a practice's view of its ICB's map. It imports neither numpy nor pandas, so ``map`` for an area whose
map was precomputed at build answers in the time it takes to read one file.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["ATTRIBUTION", "join_parts", "script_json", "view_parts"]

#: Shown on every map: the boundaries' licence (ONS LSOA December 2021 BSC).
ATTRIBUTION = ("LSOA boundaries © ONS (Dec 2021), OGL v3 · Contains OS data © Crown copyright and database right "
               "2021")


def script_json(obj: Any) -> str:
    """JSON safe to embed in a <script> block: no ``</script>``, HTML comments or line separators can break out."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def view_parts(parts: dict[str, Any], kind: str, code: str, bounds: Any, practices: str | None,
               pcn: str | None = None) -> dict[str, Any]:
    """A PCN's or practice's view of its ICB's map: zoomed to its patients, with its practices and footprints.

    The PCN's own indicative footprint (a practice's: its PCN's) is marked ``selected`` among its ICB's, and a
    practice's own marker is marked as selected among the ICB's practices.

    Parameters
    ----------
    parts
        The ICB's map parts.
    kind, code
        ``"pcn"`` or ``"practice"`` and its code.
    bounds
        Where to zoom (``[[south, west], [north, east]]``).
    practices
        For a PCN, its practices' overlay (JSON text; None if it has none). A practice's view keeps the ICB's.
    pcn
        The PCN whose footprint is selected (default: for a PCN, itself; a practice passes its PCN).
    """
    out = {**parts, "overlays": dict(parts["overlays"]), "bounds": bounds,
           "show": ["core20", "practices", "footprints"]}
    if kind == "pcn":
        pcn = code
        if practices is None:
            out["overlays"].pop("practices", None)
        else:
            out["overlays"]["practices"] = practices
    elif kind == "practice" and "practices" in out["overlays"]:
        ov = json.loads(out["overlays"]["practices"])
        out["overlays"]["practices"] = script_json({**ov, "sel": code})
    if pcn and "footprints" in out["overlays"]:
        # every footprint of the ICB stays, the PCN's own marked ``selected`` (drawn bold and solid)
        fp = json.loads(out["overlays"]["footprints"])
        fp["lines"] = [{**ln, "selected": 1} if ln.get("pcn") == pcn else ln for ln in fp["lines"]]
        out["overlays"]["footprints"] = script_json(fp)
    return out


def join_parts(parts: dict[str, Any], initial: str | None = None) -> str:
    """The payload JSON from its parts, showing layer ``initial`` first (default the parts' own, or the first)."""
    keys = parts.get("keys") or [json.loads(x)["key"] for x in parts["layers"]]
    first = initial if initial in keys else parts["initial"] if parts.get("initial") in keys else keys[0]
    overlays = ",".join(f"{script_json(k)}:{v}" for k, v in parts["overlays"].items())
    return ("{" + f'"topo":{parts["topo"]},"props":{parts["props"]},"layers":[{",".join(parts["layers"])}],'
            f'"initial":{script_json(first)},"imd":{int(parts["imd"])},"bounds":{script_json(parts["bounds"])},'
            f'"nodata":{script_json(parts["nodata"])},"overlays":{{{overlays}}},'
            f'"show":{script_json(list(parts["show"]))},"attribution":{script_json(ATTRIBUTION)}' + "}")
