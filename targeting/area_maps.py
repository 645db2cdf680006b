"""Maps of an area, a plan and an upload: the layers (from :mod:`targeting.maps`) and overlays in one payload.

The use case "draw this area" for the app and the command line: the domain's layers, drawn by
:mod:`targeting.render.payload`.

:func:`area_map` is the one map of an area that both the app's Explore page and ``python -m targeting map`` draw.
An ICB's map with the default settings is the same for every question about it, so ``build`` stores its parts
(:func:`icb_parts`, see :mod:`targeting.precompute`); a PCN's or a practice's map is its ICB's map seen from
the PCN or practice (:func:`_view`). Other settings (PLUS rules, no gaps, a plan) are computed on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from targeting.areas import lsoas_in
from targeting.maps import (
    _decile_layer,
    area_layers,
    area_lsoas,
    category_layer,
    standard_layers,
    value_layer,
)
from targeting.render.palette import FLAG_OFF, OKABE_ITO, PLAN_STATUS, WAITING
from targeting.render.parts import join_parts, view_parts
from targeting.render.payload import map_payload, patches_overlay, payload_parts, practices_overlay

if TYPE_CHECKING:
    from targeting.scope import Scope

__all__ = ["AreaMap", "area_map", "icb_parts", "plan_map_payload", "plan_patches", "upload_map_payload"]


@dataclass(frozen=True)
class AreaMap:
    """An area's map: the payload to draw, the area's name and a title for a page."""

    payload: str
    name: str
    title: str


def _with_geometry(scope: Scope) -> Scope:
    """The scope on an atlas with its polygons: a geometry-free atlas (``load(geometry=False)``) is loaded in full."""
    if scope.atlas.meta.get("geometry", True):
        return scope
    from geo.atlas import load

    return scope.rebound(load(progress=False, registrations=scope.month.month))


def _is_default(plus_rules: Any, plus_combine: str, gaps: bool) -> bool:
    from targeting.plus import DEFAULT_PLUS_RULES

    return gaps and plus_combine == "any" and (plus_rules is None or tuple(plus_rules) == DEFAULT_PLUS_RULES)


def icb_parts(scope: Scope, *, gaps: bool = True, gap_tables: Any = None, topology: Any = None) -> dict[str, Any]:
    """The parts of an ICB's map (see :func:`targeting.render.payload.payload_parts`), shared by its PCNs' maps.

    Every layer of :func:`targeting.maps.area_layers` for the scope's edition and PLUS rules, the Core20 outline,
    the practices of the ICB the scope's area sits in, coloured by PCN, and the indicative footprints of its
    PCNs. ``gap_tables`` (:func:`targeting.maps.national_gaps`) and ``topology`` (of the ICB's LSOAs) save work
    when many maps are made.
    """
    scope = _with_geometry(scope)
    atlas, icb_nhs = scope.atlas, str(scope.icb_nhs)
    lsoas = lsoas_in(scope.edition_on(2021), icb_nhs)
    layers = area_layers(scope, lsoas, gaps=gaps, gap_tables=gap_tables)
    practices = atlas.practices[atlas.practices["icb_code_nhs"] == icb_nhs]
    return payload_parts(lsoas, layers, edition=scope.edition, practices=practices,
                         footprints=_footprints(scope, icb_nhs), bounds=None, show=("core20",), topology=topology,
                         month=atlas.month.label)


def _footprints(scope: Scope, icb_nhs: str) -> pd.DataFrame:
    """The LSOAs of the indicative footprints of an ICB's PCNs, with their polygons (the edition's LSOA vintage)."""
    from targeting.footprints import pcn_footprints

    fp = pcn_footprints(scope.edition)
    fp = fp[fp["icb_code_nhs"] == icb_nhs]
    t = scope.edition.lsoas
    return fp.merge(t.loc[t["lsoa_code"].isin(fp["lsoa_code"]), ["lsoa_code", "geometry_web"]], on="lsoa_code")


def area_map(scope: Scope, *, gaps: bool = True, initial: str | None = None, connectors: int = 0,
             store: Any = None) -> AreaMap:
    """The map of an ICB, local authority, PCN or practice, as the app's Explore page and ``map`` draw it.

    Parameters
    ----------
    scope
        The area (an ICB, a local authority, a PCN or a practice), the IMD edition of Core20 and the PLUS rules
        (default :data:`targeting.plus.DEFAULT_PLUS_RULES`, see :func:`targeting.plus.evaluate_plus`). A
        geometry-free atlas (``load(geometry=False)``) is enough when ``store`` holds the area's map; otherwise
        the full atlas is loaded.
    gaps
        Add the registration and detection gap layers.
    initial
        Key of the layer shown first (default the first, the IMD 2025 deciles).
    connectors
        For a PCN, also plan outreach for this many connectors and draw its patches (0 = no plan).
    store
        Precomputed answers (:class:`targeting.precompute.Answers`), used for the default settings.

    Returns
    -------
    AreaMap
        The payload holds every layer of :func:`targeting.maps.area_layers`, the Core20 outline, the area's
        practices (coloured by PCN) and the ICB's indicative PCN footprints (a PCN's own drawn bold). A PCN or a
        practice shows its practices and footprints at first and zooms to where most of its patients live.
        The same area and settings give the same payload, from the store or computed.

    """
    area, atlas = scope.area, scope.atlas
    if area is None:
        raise ValueError("a map is drawn for an area, not all of England")
    kind, code = area.kind, area.code
    if kind not in ("icb", "pcn", "practice"):
        return _computed(_with_geometry(scope), gaps=gaps, initial=initial)
    icb_nhs, name = str(area.icb_code_nhs), str(area.name)
    default = _is_default(scope.plus_rules, scope.plus_combine, gaps)
    parts = store.map_parts(icb_nhs, scope.imd) if store is not None and default else None
    if parts is None:
        parts = icb_parts(scope, gaps=gaps)
    if kind != "icb":
        try:
            bounds = store.pcn_bounds(code) if store is not None and kind == "pcn" else area_lsoas(
                _with_geometry(scope))[1]
        except KeyError:
            bounds = area_lsoas(_with_geometry(scope))[1]
        stored = parts.get("pcn_practices") or {}
        practices = None if kind != "pcn" else stored[code] if code in stored else practices_overlay(
            atlas.practices[atlas.practices["pcn_code"] == code], month=atlas.month.label)
        own = None
        if kind == "practice":
            hit = atlas.practices.loc[atlas.practices["practice_code"] == code, "pcn_code"].dropna()
            own = str(hit.iloc[0]) if len(hit) else None
        parts = view_parts(parts, kind, code, bounds, practices, pcn=own)
    if connectors and kind == "pcn":
        from targeting.outreach import plan_outreach

        full = _with_geometry(scope)
        plan = plan_outreach(full, connectors=connectors)
        patches = patches_overlay(plan_patches(plan, full.atlas.lsoa21))
        if patches is not None:
            parts = {**parts, "overlays": {**parts["overlays"], "patches": patches},
                     "show": [*parts["show"], "patches"]}
    return AreaMap(join_parts(parts, initial), name, f"Core20PLUS map: {name}")


def _computed(scope: Scope, *, gaps: bool, initial: str | None) -> AreaMap:
    """A local authority's map: its own LSOAs, the practices of PCNs serving it and its ICB's footprints."""
    atlas = scope.atlas
    lsoas, bounds, name = area_lsoas(scope)
    layers = area_layers(scope, lsoas, gaps=gaps)
    icb_nhs = str(lsoas["icb_code_nhs"].mode().iloc[0])
    practices = atlas.practices[atlas.practices["icb_code_nhs"] == icb_nhs]
    practices = practices[practices["pcn_code"].isin(_lad_pcns(atlas, scope.area.code))]
    payload = map_payload(lsoas, layers, edition=scope.edition, practices=practices,
                          footprints=_footprints(scope, icb_nhs), bounds=bounds, show=["core20"], initial=initial,
                          month=atlas.month.label)
    return AreaMap(payload, name, f"Core20PLUS map: {name}")


def _lad_pcns(atlas: Any, lad_code: str) -> set[str]:
    """PCNs with practices that register residents of a local authority."""
    codes = set(atlas.lsoa21.loc[atlas.lsoa21["lad_code"] == lad_code, "lsoa_code"])
    reg = atlas.registrations21[atlas.registrations21["lsoa_code"].isin(codes)]
    prac = atlas.practices.set_index("practice_code")["pcn_code"]
    return set(prac.reindex(reg["practice_code"].unique()).dropna())


def plan_patches(plan: Any, lsoas: pd.DataFrame) -> pd.DataFrame:
    """The planned patches of an outreach plan as a map overlay, one row per planned LSOA.

    Each row has its patch's ``label``, ``connector`` (the first to walk it), ``connectors`` (every connector with
    a round there, ``"1;2;3"``: Core20 patches are shared month by month) and ``households``, and the LSOA's
    ``geometry_web`` (from ``lsoas``, atlas rows).
    """
    patches = plan.patches
    shared = (patches["connectors"].fillna("").astype(str) if "connectors" in patches
              else patches["connector"].astype("Int64").astype(str))
    info = pd.DataFrame({"patch_id": patches["patch_id"].to_numpy(),
                         "label": [f"Patch {p}" for p in patches["patch_id"]],
                         "connector": patches["connector"].astype(float).to_numpy(),
                         "connectors": shared.to_numpy(),
                         "households": patches["households"].astype(float).to_numpy()})
    info = info[info["connector"].notna()]
    t = plan.lsoas[["lsoa_code", "patch_id"]].merge(info, on="patch_id")
    geoms = pd.Series(lsoas["geometry_web"].to_numpy(), index=lsoas["lsoa_code"].to_numpy())
    return t.assign(geometry_web=geoms.reindex(t["lsoa_code"]).to_numpy()).dropna(subset=["geometry_web"])


def plan_map_payload(scope: Scope, plan: Any, *, initial: str = "plan_connector") -> str:
    """The map of an outreach plan (:func:`targeting.outreach.plan_outreach`): patches, connectors, status, score.

    ``scope`` is the one the plan was made for (its atlas and IMD edition).

    Layers: the connector each LSOA is planned for, its status (planned / waiting / not a target), its priority
    score (0–100), then the IMD deciles, Core20 and ethnic groups. Overlays: the patches (on at first), Core20
    outline and the area's practices.
    """
    t, atlas, imd = plan.lsoas, scope.atlas, scope.imd
    lsoas = atlas.lsoa21.set_index("lsoa_code").loc[list(t["lsoa_code"])].reset_index()
    src = atlas.month.relabel("Outreach plan from IoD, Census 2021, NHS Digital registrations (July 2022) and "
                              "QOF 2022-23")
    w = plan.settings.get("weights", "")
    w = ", ".join(f"{k} {v:g}" for k, v in w.items()) if isinstance(w, dict) else str(w)
    order = plan.settings.get("order") if hasattr(plan, "settings") else None
    vintage = f"IMD {imd}; " + ("deprivation first (Core20, then PLUS, by national IMD rank)" if order ==
                                "deprivation" else f"priority weights {w}")
    n = int(plan.settings.get("connectors", 0) or t["connector"].max() or 0)
    waiting, other = "Target, waiting for capacity", "Not a target"
    conn = pd.Series([f"Connector {int(c)}" if pd.notna(c) else (waiting if st == "waiting" else other)
                      for c, st in zip(t["connector"], t["status"], strict=True)])
    order = [f"Connector {i}" for i in range(1, n + 1)]
    layers = [
        category_layer("plan_connector", "Planned connector", conn.to_numpy(), order=[*order, waiting, other],
                       source=src, vintage=vintage, group="Outreach plan",
                       palette=(*(OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)), WAITING, FLAG_OFF),
                       note="Pale orange: a Core20 or PLUS target that waits for capacity. Grey: not a target. "
                            "With more than 9 connectors, colours repeat."),
        category_layer("plan_status", "Plan status", t["status"].to_numpy(),
                       order=["planned", "part planned", "waiting", "visited", "not a target"], source=src,
                       vintage=vintage, group="Outreach plan",
                       palette=PLAN_STATUS,
                       note="Part planned: some of its postcodes are on a round in the horizon, the rest wait. "
                            "Visited: every household already visited (a re-plan from a done file)."),
        value_layer("plan_score", "Priority score", t["priority_score"].to_numpy(dtype=float),
                    units="0–100, from the weighted components (see the table)", source=src, vintage=vintage,
                    group="Outreach plan", decimals=0),
        *standard_layers(lsoas),
    ]
    pg = plan_patches(plan, lsoas)
    codes = set(t["lsoa_code"])
    reg = atlas.registrations21
    pcodes = reg.loc[reg["lsoa_code"].isin(codes), "practice_code"].unique()
    practices = atlas.practices[atlas.practices["practice_code"].isin(pcodes)
                                & (atlas.practices["icb_code_nhs"] == lsoas["icb_code_nhs"].mode().iloc[0])]
    return map_payload(lsoas, layers, initial=initial, edition=scope.edition, practices=practices, patches=pg,
                       show=("patches",), month=atlas.month.label)


def upload_map_payload(scope: Scope, upload: Any, *, rule: Any = None, label: str = "Your data",
                       published: pd.DataFrame | None = None) -> str:
    """The map of a user's upload (:func:`targeting.uploads.read_upload`) for one ICB, with suppression applied.

    ``scope`` gives the ICB (the one its area sits in) and the IMD edition.

    LSOA uploads colour the ICB's LSOAs (of the upload's vintage) by the rate; practice uploads colour the ICB's
    practices by their rate over the IMD deciles. Rates built from small numbers (``rule``, default NHS Digital
    1–7) are withheld: they show as "no data" and are not classified. The upload's data never leaves the page.
    The rates are those of :func:`targeting.yourdata.your_data_tables` (``published``, computed if not given):
    from the published counts, with the same primary and secondary suppression as the downloads.
    """
    from targeting.suppression import DEFAULT_RULE
    from targeting.yourdata import your_data_tables

    rule = rule or DEFAULT_RULE
    atlas, icb_nhs = scope.atlas, scope.icb_nhs
    if published is None:
        published = your_data_tables(upload, scope, rule=rule).rows
    d = published
    rate = pd.to_numeric(d["rate"].where(d["rate"].ne(rule.symbol)), errors="coerce").to_numpy(dtype=float)
    src = f"Your upload ({upload.filename}), {upload.geography}"  # plain text: the legend escapes it once
    note = (f"Small-number rule: {rule.describe()}." if rule.enabled
            else "No suppression (your own view).")
    if upload.level == "lsoa":
        table = atlas.lsoa11 if upload.geography == "LSOA 2011" else atlas.lsoa21
        lsoas = table[table["icb_code_nhs"] == icb_nhs]
        vals = pd.Series(rate, index=d["code"].to_numpy()).reindex(lsoas["lsoa_code"]).to_numpy()
        lay = value_layer("upload", f"{label} (%)", vals, units="% (numerator ÷ denominator)", source=src,
                          vintage="as uploaded", group="Your data", note=note)
        on_2011 = upload.geography == "LSOA 2011"
        layers = [lay, *([_decile_layer(lsoas, scope.edition_on(2011))] if on_2011 else standard_layers(lsoas))]
        return map_payload(lsoas, layers, edition=scope.edition_on(2011) if on_2011 else scope.edition,
                           show=("core20",))
    lsoas = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == icb_nhs]
    practices = atlas.practices[atlas.practices["icb_code_nhs"] == icb_nhs]
    vals = pd.Series(rate, index=d["code"].to_numpy()).reindex(practices["practice_code"]).to_numpy()
    play = value_layer("upload", f"{label} (%)", vals, units="%", source=src, vintage="as uploaded",
                       group="Your data", note=note)
    return map_payload(lsoas, standard_layers(lsoas), edition=scope.edition, practices=practices, practice_values=play,
                       show=("core20", "practices"), month=atlas.month.label)
