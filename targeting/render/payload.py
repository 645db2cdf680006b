"""The map payload: everything a map draws, as one JSON string safe to embed in a page.

One map carries the LSOA geometry once, as a topology (:mod:`targeting.render.topology`: shared boundaries,
quantised and delta-encoded coordinates), and, for every layer, one colour class and one value per LSOA.
Switching a layer restyles the polygons in the browser, so it needs no round trip to Python; panning and zooming
never do either. Numbers travel packed into short strings (:mod:`targeting.render._pack`). Outlines (Core20,
PCN footprints, outreach patches) are lists of the topology's arcs, not polygons of their own.

A payload is built in *parts* (:func:`payload_parts`), JSON texts that :func:`join_parts` puts together, so a
precomputed area's parts can be stored once and a PCN's view made from its ICB's parts
(:mod:`targeting.render.store`).

Everything shown in a tooltip or legend that came from data (names, codes, a user's labels) is HTML-escaped here,
before it reaches the page, and the JSON escapes ``<``, ``>`` and ``&`` so it cannot leave a ``<script>`` block.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo.codes import ENGLISH_LSOA
from geo.editions import EDITIONS, Edition
from geo.months import WRITTEN_FOR
from targeting.render._pack import pack, pack_values
from targeting.render.layer import MapLayer, fmt_value
from targeting.render.palette import NO_DATA, OKABE_ITO, PATTERN_CSS
from targeting.render.parts import ATTRIBUTION, join_parts, script_json

if TYPE_CHECKING:
    import geopandas as gpd

    from targeting.render.topology import Topology

__all__ = ["ATTRIBUTION", "footprints_overlay", "join_parts", "map_payload", "outline_overlay", "patches_overlay",
           "payload_bytes", "payload_parts", "practices_overlay", "script_json"]

def _class_string(classes: Any) -> str:
    """One character per LSOA: its colour class (0–9), or '-' for no data."""
    arr = np.asarray(classes)
    return "".join(np.where(arr < 0, "-", np.clip(arr, 0, 9).astype(int).astype(str)).tolist())


def _num(v: float, decimals: int) -> float | None:
    if v is None or np.isnan(v):
        return None
    r = round(float(v), decimals)
    return int(r) if decimals == 0 else r


def _swatch(colour: str, pattern: str | None) -> str:
    return PATTERN_CSS[pattern].format(c=colour) if pattern in PATTERN_CSS else colour


def _legend_html(layer: MapLayer, *, pick: bool = True) -> str:
    """A layer's legend. With ``pick`` (an LSOA layer) each class is a button that picks out its LSOAs.

    Picking lets a class be found without telling neighbouring colours apart: ten sequential classes cannot all
    differ by 3:1 in contrast. The page's script makes the buttons a labelled group of toggles, the n-th for class
    n (kept out of here: 32 layers' legends ride in every map). A markers' legend (``pick=False``) is plain rows.
    """
    e = html.escape
    pats = layer.extra.get("patterns") or ()
    tag, cls = ("button", "c20-class") if pick else ("div", "c20-key")
    rows = "".join(f'<{tag} class="{cls}"><i style="background:{_swatch(c, pats[i] if i < len(pats) else None)}">'
                   f'</i>{e(lab)}</{tag}>'
                   for i, (c, lab) in enumerate(zip(layer.palette, layer.class_labels, strict=False)))
    if (layer.classes < 0).any():
        rows += f'<{tag} class="{cls}" data-k="-"><i style="background:{NO_DATA}"></i>no data</{tag}>'
    rows = f'<div class="c20-classes">{rows}</div>' if pick else f"<div>{rows}</div>"
    units = f'<div class="c20-units">{e(layer.units)}</div>' if layer.units else ""
    note = f'<div class="c20-note">{e(layer.note)}</div>' if layer.note else ""
    return (f'<div class="c20-title">{e(layer.label)}</div>{units}{rows}{note}'
            f'<div class="c20-src">Source: {e(layer.source)} · {e(layer.vintage)}</div>')


def _layer_json(lay: MapLayer) -> str:
    d: dict[str, Any] = {"key": lay.key, "label": html.escape(lay.label), "group": html.escape(lay.group),
                         "units": html.escape(lay.units), "cls": _class_string(lay.classes),
                         "pal": list(lay.palette), "legend": _legend_html(lay)}
    vals = np.asarray(lay.values, dtype=float)
    cls = np.asarray(lay.classes)
    if lay.extra.get("flag"):
        d["flag"] = [html.escape(x) for x in lay.class_labels]
    if lay.extra.get("patterns"):
        d["pat"] = list(lay.extra["patterns"])
    # a value that is its class (flags, categories) or its class plus one (IMD deciles) is not sent twice
    derived = next((k for k in (0, 1) if np.array_equal(np.where(cls < 0, np.nan, cls + k), vals, equal_nan=True)),
                   None)
    if derived is None:
        d.update(v=pack_values(vals, lay.decimals), s=lay.decimals)
    else:
        d["vc"] = derived
    return script_json(d)


def _props(lsoas: pd.DataFrame, edition: Edition) -> str:
    """What the tooltips show, one column each (packed numbers; names as the LSOA's suffix after its LAD)."""
    n = len(lsoas)
    e = html.escape

    def col(name: str) -> np.ndarray:
        # LSOA 2011 rows have no IMD 2025 nor some Census columns: those show as "no data"
        return lsoas[name].to_numpy() if name in lsoas.columns else np.full(n, np.nan)

    codes = [str(c) for c in lsoas["lsoa_code"]]
    lads = [str(x) for x in lsoas["lad_name"]]
    lad_list = list(dict.fromkeys(lads))
    lad_idx = {x: i for i, x in enumerate(lad_list)}
    names = []
    for name, lad in zip(lsoas["lsoa_name"].astype(str), lads, strict=True):
        # "Newcastle upon Tyne 012A" is sent as "+012A" after its LAD's name
        names.append("+" + e(name[len(lad) + 1:]) if name.startswith(lad + " ") else e(name))
    out: dict[str, Any] = {"lads": [e(x) for x in lad_list], "l": pack([lad_idx[x] for x in lads]), "n": names}
    if codes and all(ENGLISH_LSOA.match(c) for c in codes):
        out["cp"] = "E01"
        out["c"] = pack(np.diff([int(c[3:]) for c in codes], prepend=0), signed=True)
    else:
        out["c"] = [e(c) for c in codes]
    core = col(edition.core20)
    out["k"] = "".join("1" if v is True or v == 1 else "0" for v in core)
    for key, name, dec in (("d25", "imd25_decile", 0), ("d19", "imd19_decile", 0), ("r", "residents", 0),
                           ("m", "pct_minority", 1), ("g", "registered_patients", 0)):
        out[key] = pack_values(np.asarray(col(name), dtype=float), dec)
    if "core20_2019_ambiguous_merge" in lsoas.columns:
        # merged LSOA 2021s whose LSOA 2011 parents straddle the IMD 2019 Core20 line: hatched on the IMD 2019 layer
        amb = np.flatnonzero(lsoas["core20_2019_ambiguous_merge"].fillna(False).to_numpy(dtype=bool))
        if len(amb):
            out["am"] = [int(i) for i in amb]
            out["amk"] = EDITIONS[2019].layer_key
    return script_json(out)


def _lines(topo: Topology, groups: Sequence[Any], labels: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """One outline per group with a label: its arcs (packed differences of sorted arc indices) and properties."""
    from targeting.render.topology import outlines

    by = outlines(topo, groups)
    out = []
    for g, props in labels.items():
        arcs = sorted(by.get(g, []))
        if arcs:
            out.append({**props, "a": pack(np.diff(arcs, prepend=0))})
    return out


def outline_overlay(label: str, geoms: Sequence[Any], groups: Sequence[Any],
                    labels: dict[Any, dict[str, Any]], **extra: Any) -> str | None:
    """An overlay of outlines of groups of LSOAs (PCN footprints, patches), with the arcs it needs.

    Parameters
    ----------
    label
        The overlay's name in the map's menu.
    geoms, groups
        Each LSOA's polygon (EPSG:4326) and its group (``None``: in no group).
    labels
        Group → properties of its outline (HTML-escaped strings or numbers), e.g. ``{"label": ...}``.
    extra
        Other entries of the overlay (e.g. a palette).

    Returns
    -------
    str or None
        The overlay's JSON text (its own arcs, packed), or None if no group has an outline.
    """
    if len(geoms) == 0:
        return None
    from targeting.render.topology import build_topology

    topo = build_topology(np.asarray(geoms, dtype=object))
    lines = _lines(topo, list(groups), labels)
    if not lines:
        return None
    used = sorted({a for ln in lines for a in _unpack_arcs(ln["a"])})
    renumber = {a: i for i, a in enumerate(used)}
    for ln in lines:
        ln["a"] = pack(np.diff([renumber[a] for a in _unpack_arcs(ln["a"])], prepend=0))
    return script_json({"label": html.escape(label), "topo": topo.to_json(used), "lines": lines, **extra})


def _unpack_arcs(text: str) -> list[int]:
    from targeting.render._pack import unpack

    return np.cumsum(unpack(text)).tolist()


def _cell(v: Any) -> Any:
    """A marker's label value: text escaped, a whole number as an int, other numbers to 1 decimal, NaN as null."""
    if not isinstance(v, int | float | np.integer | np.floating):
        return html.escape(str(v))
    return None if pd.isna(v) else (int(v) if float(v).is_integer() else round(float(v), 1))


def _points(cols: dict[str, list[Any]]) -> list[list[Any]]:
    """One marker per geocoded row: latitude, longitude and the other columns' label values, in order."""
    lat, lon = cols.pop("lat"), cols.pop("lon")
    out = []
    for y, x, *labels in zip(lat, lon, *cols.values(), strict=True):
        if np.isfinite(float(y)) and np.isfinite(float(x)):  # not geocoded: not drawn
            out.append([round(float(y), 5), round(float(x), 5), *[_cell(v) for v in labels]])
    return out


def practices_overlay(practices: pd.DataFrame, practice_values: MapLayer | None = None, *,
                      month: str = WRITTEN_FOR) -> str | None:
    """Practices as clustered markers coloured by PCN, or by a user's values (see :func:`map_payload`).

    ``month`` names the registration month of the practices and their PCNs (``atlas.month.label``).
    """
    if practices is None or not len(practices):
        return None
    # plain lists of the columns drawn (this runs once per PCN at build: no frame is built)
    col = {c: practices[c].tolist()
           for c in ("lat", "lon", "pcn_code", "practice_code", "practice_name", "pcn_name", "list_size")}
    pcns = list(dict.fromkeys(str(c) for c in col["pcn_code"]))
    if practice_values is None:
        colour = {c: i % len(OKABE_ITO) for i, c in enumerate(pcns)}
        cls, txt = [colour[str(c)] for c in col["pcn_code"]], [""] * len(practices)
        pal, label, legend = list(OKABE_ITO), f"GP practices, coloured by PCN ({month})", ""
    else:
        if len(practice_values.values) != len(practices):
            raise ValueError("practice_values must have one value per practice")
        pal = [*practice_values.palette, NO_DATA]
        cls = np.where(practice_values.classes < 0, len(pal) - 1, practice_values.classes).tolist()
        # plain text: _points escapes it once, and the page adds the line break
        txt = [f"{practice_values.label}: " + (
            "withheld or no data" if np.isnan(v) else f"{fmt_value(v, practice_values.decimals)} "
            f"{practice_values.units}") for v in practice_values.values]
        label, legend = f"GP practices: {practice_values.label}", _legend_html(practice_values, pick=False)
    return script_json({
        "label": html.escape(label), "pal": pal, "legend": legend, "cluster": practice_values is None,
        "pts": _points({"lat": col["lat"], "lon": col["lon"], "pcn_i": cls, "practice_code": col["practice_code"],
                        "practice_name": col["practice_name"], "pcn_name": col["pcn_name"],
                        "list_size": col["list_size"], "val": txt})})


def payload_parts(
    lsoas: gpd.GeoDataFrame,
    layers: Sequence[MapLayer],
    *,
    initial: str | None = None,
    edition: Edition = EDITIONS[2025],
    practices: pd.DataFrame | None = None,
    footprints: pd.DataFrame | None = None,
    patches: pd.DataFrame | None = None,
    bounds: list[list[float]] | None = None,
    show: Sequence[str] = ("core20",),
    practice_values: MapLayer | None = None,
    topology: Topology | None = None,
    month: str = WRITTEN_FOR,
) -> dict[str, Any]:
    """The parts of the map's payload: JSON texts, joined by :func:`join_parts` (see :func:`map_payload`).

    Parameters
    ----------
    lsoas
        Atlas ``lsoa21`` rows (``geometry_web`` and the standard columns).
    layers
        Choropleth layers whose ``values``/``classes`` are aligned with ``lsoas``.
    initial
        Key of the layer shown first (default the first).
    edition
        IMD edition of the Core20 outline and the tooltip's Core20 line (default IoD 2025).
    practices
        Optional practices with ``lat``, ``lon``, ``practice_code``, ``practice_name``, ``pcn_code``, ``pcn_name``,
        ``list_size`` (of the registration month ``month``, e.g. ``atlas.month.label``): clustered markers
        coloured by PCN.
    footprints
        Optional indicative PCN footprints: one row per LSOA with ``pcn_code``, ``pcn_name`` and the LSOA's
        ``geometry_web`` (any LSOA vintage); each PCN's outline is drawn.
    patches
        Optional outreach patches: one row per LSOA with its patch's ``label`` (and optionally ``connector``,
        ``households``) and the LSOA's ``geometry_web``; each patch's outline is drawn.
    bounds
        ``[[south, west], [north, east]]`` to zoom to (default the LSOAs' extent).
    show
        Overlays switched on at first, among ``core20``, ``practices``, ``footprints``, ``patches``.
    practice_values
        A layer aligned with ``practices`` (e.g. a user's uptake by practice): practices are coloured by its
        classes instead of by PCN, their tooltips show its value, and its legend is added to the map's legend.
    topology
        The LSOAs' topology if it was already built (:func:`targeting.render.topology.build_topology`).
    month
        The registration month the practices and their PCNs are of, in words (``atlas.month.label``).
    """
    if not layers:
        raise ValueError("a map needs at least one layer")
    n = len(lsoas)
    for lay in layers:
        if len(lay.values) != n or len(lay.classes) != n:
            raise ValueError(f"layer '{lay.key}' has {len(lay.values)} values for {n} LSOAs")
    if bounds is None:
        x0, y0, x1, y1 = lsoas["geometry_web"].total_bounds
        bounds = [[round(float(y0), 5), round(float(x0), 5)], [round(float(y1), 5), round(float(x1), 5)]]
    keys = [lay.key for lay in layers]
    from targeting.render.topology import build_topology

    topo = topology if topology is not None else build_topology(lsoas["geometry_web"].values)
    overlays: dict[str, str] = {}
    core = lsoas[edition.core20].to_numpy(dtype=bool)
    if core.any():
        lines = _lines(topo, list(core), {True: {}})
        overlays["core20"] = script_json({"label": f"Core20 outline (IMD {edition.year} deciles 1–2)",
                                          "lines": lines})
    pts = practices_overlay(practices, practice_values, month=month) if practices is not None else None
    if pts is not None:
        overlays["practices"] = pts
    if footprints is not None and len(footprints):
        fp = footprints_overlay(footprints)
        if fp is not None:
            overlays["footprints"] = fp
    ov = patches_overlay(patches) if patches is not None else None
    if ov is not None:
        overlays["patches"] = ov
    return {"topo": script_json(topo.to_json()), "props": _props(lsoas, edition),
            "layers": [_layer_json(lay) for lay in layers], "keys": keys,
            "initial": initial if initial in keys else keys[0], "imd": edition.year, "bounds": bounds,
            "show": list(show),
            "nodata": NO_DATA, "overlays": overlays}


def patches_overlay(patches: pd.DataFrame) -> str | None:
    """Outreach patches: one outline per patch, coloured by connector.

    ``patches`` has one row per LSOA: its patch's ``label`` (optionally ``connector``, ``connectors`` as
    ``"1;2;3"``, ``households``) and the LSOA's ``geometry_web``.
    """
    if not len(patches):
        return None
    extra = [c for c in ("connector", "households") if c in patches.columns]
    first = patches.drop_duplicates("label")
    labels = {str(r["label"]): {"label": html.escape(str(r["label"])),
                                **{c: _num(float(r[c]), 1) for c in extra if pd.notna(r[c])},
                                **({"connectors": [int(x) for x in str(r["connectors"]).split(";") if x.isdigit()]}
                                   if "connectors" in first.columns else {})}
              for _, r in first.iterrows()}
    return outline_overlay("Outreach patches", patches["geometry_web"].values, patches["label"].astype(str).tolist(),
                           labels, pal=list(OKABE_ITO))


def footprints_overlay(footprints: pd.DataFrame) -> str | None:
    """Indicative PCN footprints: one outline per PCN from its LSOAs (``pcn_code``, ``pcn_name``, ``geometry_web``)."""
    labels = {str(c): {"label": html.escape(str(nm)), "pcn": html.escape(str(c))}
              for c, nm in footprints.drop_duplicates("pcn_code")[["pcn_code", "pcn_name"]].itertuples(index=False)}
    return outline_overlay("Indicative PCN footprints (where patients live)", footprints["geometry_web"].values,
                           footprints["pcn_code"].astype(str).tolist(), labels)


def map_payload(lsoas: gpd.GeoDataFrame, layers: Sequence[MapLayer], **options: Any) -> str:
    """Everything the map draws, as one JSON string safe to embed in a page (cache it per area and settings).

    :func:`payload_parts` joined by :func:`join_parts`; ``lsoas``, ``layers`` and the keyword ``options`` are
    those of :func:`payload_parts`.
    """
    return join_parts(payload_parts(lsoas, layers, **options))


def payload_bytes(payload: str) -> int:
    """Size in bytes (UTF-8) of a map payload: what the browser receives for the map's data."""
    return len(payload.encode("utf-8"))
