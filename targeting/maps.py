"""Folium maps of an area's LSOAs: choropleth layers switched in the browser, overlays, legends, offline assets.

One map carries the LSOA geometry once (coverage-simplified ``geometry_web``, coordinates rounded to 5 decimal
places, about 1 m) and, for every layer, one colour class and one value per LSOA. Switching a layer restyles the
polygons in the browser, so it needs no round trip to Python; panning and zooming never do either.

Leaflet and Leaflet.markercluster come from the PyPI packages ``xstatic-leaflet`` and
``xstatic-leaflet-markercluster``. :func:`install_static_assets` copies them into the app's ``static/`` folder,
which Streamlit serves at ``/app/static/``; :func:`standalone_html` inlines them instead, so a saved map opens
with no internet. No element of a map points at a CDN.

Everything shown in a tooltip or legend that came from data (names, codes, a user's labels) is HTML-escaped in
Python before it reaches the page, and the JSON embedded in the page escapes ``<``, ``>`` and ``&``.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from geo.editions import Edition

__all__ = [
    "ASSET_URL",
    "ETHNIC_GROUPS",
    "MapLayer",
    "area_layers",
    "area_lsoas",
    "build_map",
    "category_layer",
    "core20_change_layer",
    "flag_layer",
    "install_static_assets",
    "lsoa_detail",
    "map_payload",
    "payload_bytes",
    "plan_map_payload",
    "plan_patches",
    "standalone_html",
    "standard_layers",
    "upload_map_payload",
    "value_layer",
]

#: Where Streamlit serves the vendored assets (``server.enableStaticServing``; files in ``static/vendor``).
ASSET_URL = "/app/static/vendor"

#: Colour-blind-safe palettes. Viridis for the ten IMD deciles (dark = most deprived), ColorBrewer YlGnBu for
#: sequential classes, ColorBrewer PuOr for values either side of zero, Okabe-Ito for categories.
VIRIDIS_10 = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
              "#fde725")
YLGNBU_5 = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
PUOR_5 = ("#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99")
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
NO_DATA = "#d9d9d9"
#: Shown on every map: the boundaries' licence (ONS LSOA December 2021 BSC).
ATTRIBUTION = ("LSOA boundaries © ONS (Dec 2021), OGL v3 · Contains OS data © Crown copyright and database right "
               "2021")

def _imd_source(imd: int | Edition) -> tuple[str, str]:
    """Source and vintage of an edition's values on the LSOA 2021 map."""
    ed = Edition.of(imd)
    how = "" if ed.lsoa_vintage == 2021 else ", carried to LSOA 2021 (split LSOAs inherit their parent's value)"
    return ed.source, f"{ed.title} on {ed.lsoa_label}{how}"
_CENSUS = ("Census 2021 TS021 ethnic group, ONS", "Census 2021 (March 2021), usual residents")

#: Census 2021 TS021 groups mapped as shares of usual residents: column suffix → label (broad groups first).
ETHNIC_GROUPS: dict[str, str] = {
    "minority": "All ethnic minority groups (all but White)",
    "asian": "Asian, Asian British or Asian Welsh", "black": "Black, Black British, Caribbean or African",
    "mixed": "Mixed or multiple ethnic groups", "white": "White", "other": "Other ethnic group",
    "bangladeshi": "Bangladeshi", "chinese": "Chinese", "indian": "Indian", "pakistani": "Pakistani",
    "other_asian": "Other Asian", "african": "African", "caribbean": "Caribbean", "other_black": "Other Black",
    "white_and_asian": "White and Asian", "white_and_black_african": "White and Black African",
    "white_and_black_caribbean": "White and Black Caribbean", "other_mixed": "Other Mixed",
    "white_british": "White: English, Welsh, Scottish, Northern Irish or British", "irish": "White: Irish",
    "gypsy_irish_traveller": "White: Gypsy or Irish Traveller", "roma": "White: Roma",
    "other_white": "White: Other White", "arab": "Arab", "any_other": "Any other ethnic group",
}

_XSTATIC = {"leaflet": "xstatic.pkg.leaflet", "markercluster": "xstatic.pkg.leaflet_markercluster"}
_ASSETS = {
    "leaflet": ["leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png", "images/marker-icon.png",
                "images/marker-icon-2x.png", "images/marker-shadow.png"],
    "markercluster": ["leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"],
}


# --------------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapLayer:
    """One choropleth layer: a value and a colour class per LSOA, with the legend that explains them.

    Attributes
    ----------
    key, label, group
        Identifier, name shown in the layer menu, and the menu group it sits in.
    values
        One value per LSOA, in the order of the LSOA frame (NaN = no data).
    classes
        Colour class per LSOA (index into ``palette``; -1 = no data).
    palette, class_labels
        Colour and legend text of each class.
    units, source, vintage
        Shown in the legend and tooltip: what the value measures, who published it and when.
    decimals
        Decimal places of the value in tooltips.
    note
        A caveat shown under the legend (e.g. how ethnicity was recorded).
    extra
        Hints for the page: ``{"flag": True}`` means each value is a class index, shown by its class label.
    """

    key: str
    label: str
    group: str
    values: np.ndarray
    classes: np.ndarray
    palette: tuple[str, ...]
    class_labels: tuple[str, ...]
    units: str
    source: str
    vintage: str
    decimals: int = 1
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _fmt(v: float, decimals: int) -> str:
    return f"{v:,.{decimals}f}"


def value_layer(
    key: str,
    label: str,
    values: pd.Series | np.ndarray,
    *,
    units: str,
    source: str,
    vintage: str,
    group: str = "Other",
    k: int = 5,
    diverging: bool = False,
    decimals: int = 1,
    note: str = "",
) -> MapLayer:
    """Classify a numeric value per LSOA into colour-blind-safe classes with :mod:`mapclassify`.

    Parameters
    ----------
    key, label, group
        Layer identifier, menu label and menu group.
    values
        One value per LSOA in the order of the map's LSOA frame; NaN for no data.
    units, source, vintage
        Legend text.
    k
        Number of classes (at most 5).
    diverging
        Values either side of zero (e.g. a gap): classes are cut on quantiles of the absolute value on each side
        of zero and drawn with ColorBrewer PuOr, orange below zero and purple above.
    decimals, note
        Tooltip precision and a caveat shown under the legend.

    Notes
    -----
    Sequential layers use ``mapclassify.Quantiles`` (equal numbers of LSOAs per class, so a skewed share such as
    one ethnic group still shows its spread); tied breaks are merged so no class is empty. Class labels give the
    value range of each class.
    """
    import mapclassify

    v = np.asarray(values, dtype=float)
    classes = np.full(len(v), -1, dtype=int)
    ok = ~np.isnan(v)
    if diverging:
        palette: tuple[str, ...] = PUOR_5
        labels = ["below zero", "below zero", "0", "above zero", "above zero"]
        neg, pos = ok & (v < 0), ok & (v > 0)
        classes[ok & (v == 0)] = 2
        if neg.any():
            cut = float(np.median(-v[neg]))
            classes[neg] = np.where(-v[neg] > cut, 0, 1)
            labels[0], labels[1] = f"below −{_fmt(cut, decimals)}", f"−{_fmt(cut, decimals)} to 0"
        if pos.any():
            cut = float(np.median(v[pos]))
            classes[pos] = np.where(v[pos] > cut, 4, 3)
            labels[3], labels[4] = f"0 to {_fmt(cut, decimals)}", f"above {_fmt(cut, decimals)}"
        return MapLayer(key, label, group, v, classes, palette, tuple(labels), units, source, vintage, decimals, note)
    finite = v[ok]
    if finite.size == 0:
        return MapLayer(key, label, group, v, classes, YLGNBU_5, (), units, source, vintage, decimals, note)
    kk = int(min(k, 5, max(1, np.unique(finite).size)))
    if kk > 1:
        with warnings.catch_warnings():  # heavily tied values (e.g. 0% in most LSOAs) give fewer classes
            warnings.simplefilter("ignore", UserWarning)
            bins = np.unique(mapclassify.Quantiles(finite, k=kk).bins)
    else:
        bins = np.array([finite.max()])
    cls = np.searchsorted(bins, finite, side="left")
    classes[ok] = np.minimum(cls, len(bins) - 1)
    palette = YLGNBU_5 if len(bins) == 5 else tuple(YLGNBU_5[i] for i in np.linspace(0, 4, len(bins)).round()
                                                    .astype(int))
    lows = [float(finite.min()), *bins[:-1]]
    labels = []
    for i, (lo, hi) in enumerate(zip(lows, bins, strict=True)):
        a, b = _fmt(lo, decimals), _fmt(hi, decimals)
        labels.append(b if a == b else f"{a} – {b}" if i == 0 else f"over {a} – {b}")
    labels = tuple(labels)
    return MapLayer(key, label, group, v, classes, palette, labels, units, source, vintage, decimals, note)


def flag_layer(key: str, label: str, flags: pd.Series | np.ndarray, *, yes: str, no: str, source: str,
               vintage: str, group: str = "Other", colour: str = "#d55e00", note: str = "") -> MapLayer:
    """A yes/no layer (e.g. PLUS neighbourhoods): ``colour`` where true, pale grey where false, grey if missing."""
    f = pd.Series(flags).astype("boolean").to_numpy(dtype=float, na_value=np.nan)
    classes = np.where(np.isnan(f), -1, np.nan_to_num(f)).astype(int)
    return MapLayer(key, label, group, f, classes, ("#f2f2f2", colour), (no, yes), "", source,
                    vintage, 0, note, {"flag": True})


def category_layer(key: str, label: str, categories: pd.Series | np.ndarray, *, order: Sequence[str],
                   source: str, vintage: str, group: str = "Other", palette: Sequence[str] = OKABE_ITO,
                   note: str = "") -> MapLayer:
    """A layer of named categories (e.g. a plan's status or connector), coloured with Okabe-Ito by ``order``."""
    cats = pd.Series(categories).astype(object)
    index = {c: i for i, c in enumerate(order)}
    classes = np.array([index.get(c, -1) if pd.notna(c) else -1 for c in cats], dtype=int)
    pal = tuple(palette[i % len(palette)] for i in range(len(order)))
    return MapLayer(key, label, group, classes.astype(float), classes, pal, tuple(str(o) for o in order), "",
                    source, vintage, 0, note, {"flag": True})


def _decile_layer(lsoas: pd.DataFrame, imd: int) -> MapLayer:
    ed = Edition.of(imd)
    d = lsoas[ed.decile].to_numpy(dtype=float)
    classes = np.where(np.isnan(d), -1, np.nan_to_num(d, nan=1).astype(int) - 1)
    labels = ("1 most deprived 10%", "2", "3", "4", "5", "6", "7", "8", "9", "10 least deprived 10%")
    src, vintage = _imd_source(ed)
    return MapLayer(ed.layer_key, f"IMD {ed.year} national decile", "Deprivation and PLUS", d, classes, VIRIDIS_10,
                    labels, "national decile (1 = most deprived)", src, vintage, 0,
                    "Deciles are national: deciles 1–2 are Core20.")


#: Fill patterns drawn over a class's colour, so a class reads without colour vision (SVG in the map, CSS in
#: the legend): diagonal stripes and dots.
_PATTERN_CSS = {
    "stripes": "repeating-linear-gradient(45deg,{c} 0 3px,#fff 3px 4.5px)",
    "dots": "radial-gradient(circle,#fff 1.2px,transparent 1.6px) 0 0/5px 5px,{c}",
}


def core20_change_layer(lsoas: pd.DataFrame) -> MapLayer:
    """Core20 change from IoD 2019 to IoD 2025 in four classes, with patterns as well as colours.

    Entered (newly Core20) is striped vermilion, left (no longer Core20) dotted blue, stayed in dark blue-purple,
    stayed out pale grey; the tooltip and legend name each class in words.
    """
    from targeting.change import CHANGE_CLASSES, CHANGE_LABELS, change_of

    index = {c: i for i, c in enumerate(CHANGE_CLASSES)}
    cls = change_of(lsoas).map(index).to_numpy(dtype=int)
    return MapLayer("core20_change", "Core20 change 2019 → 2025", "Deprivation and PLUS", cls.astype(float), cls,
                    ("#D55E00", "#0072B2", "#3e4989", "#f2f2f2"),
                    tuple(CHANGE_LABELS[c] + (" (striped)" if i == 0 else " (dotted)" if i == 1 else "")
                          for i, c in enumerate(CHANGE_CLASSES)), "",
                    f"{Edition.of(2019).source} and {Edition.of(2025).source}",
                    "IoD 2019 on LSOA 2011 carried to LSOA 2021 (ONS change codes); IoD 2025 on LSOA 2021", 0,
                    "Ranks are relative: leaving Core20 means other areas overtook this one in 2025, not that it "
                    "became less deprived; the indicators also changed between editions.",
                    {"flag": True, "patterns": ("stripes", "dots", None, None)})


def standard_layers(lsoas: pd.DataFrame) -> list[MapLayer]:
    """The layers every map has: IMD 2025 and IMD 2019 deciles and the Census 2021 share of each ethnic group.

    Parameters
    ----------
    lsoas
        Rows of the atlas ``lsoa21`` table (the map geography).
    """
    layers = [_decile_layer(lsoas, 2025), _decile_layer(lsoas, 2019)]
    note = ("Census 2021 self-described ethnicity of usual residents. Low numbers are not low need; GP-recorded "
            "ethnicity is poorer and variable. Shown beside deprivation, not instead of it.")
    for suffix, name in ETHNIC_GROUPS.items():
        col = f"pct_{suffix}"
        if col in lsoas.columns:
            layers.append(value_layer(f"eth_{suffix}", f"{name} (% of residents)", lsoas[col],
                                      units="% of usual residents", source=_CENSUS[0], vintage=_CENSUS[1],
                                      group="Ethnic group (Census 2021)", note=note))
    return layers


def area_layers(atlas: Any, lsoas: pd.DataFrame, *, imd: int = 2025, plus_rules: Any = None,
                plus_combine: str = "any", gaps: bool = True, register: str = "HYP") -> list[MapLayer]:
    """Every layer of the Explore map for an area: deprivation, PLUS, ethnic groups and the two gaps.

    Parameters
    ----------
    atlas
        The loaded atlas.
    lsoas
        The area's ``lsoa21`` rows (from :func:`area_lsoas`).
    imd
        IMD edition of Core20 (the decile layers of both editions are always there).
    plus_rules, plus_combine
        PLUS rules (default :data:`targeting.plus.DEFAULT_PLUS_RULES`), see :func:`targeting.plus.evaluate_plus`.
    gaps
        Add the registration gap and the detection gap of ``register`` (national tables, slower the first time).
    register
        QOF register of the detection gap (default hypertension).
    """
    from targeting.plus import describe_rules, evaluate_plus

    layers = standard_layers(lsoas)
    plus = evaluate_plus(lsoas, plus_rules, combine=plus_combine)
    ed = Edition.of(imd)
    layers.insert(2, flag_layer(
        "core20", f"Core20 (IMD {ed.year} national deciles 1–2)", lsoas[ed.core20].to_numpy(), yes="Core20",
        no="not Core20", source=_imd_source(ed)[0], vintage=_imd_source(ed)[1], group="Deprivation and PLUS",
        colour="#3e4989", note="The most deprived 20% of England's LSOAs nationally, never re-ranked locally."))
    words = describe_rules(plus_rules, combine=plus_combine)
    layers.insert(3, flag_layer(
        "plus", "PLUS neighbourhoods", plus["plus"].to_numpy(), yes=f"PLUS: {words}", no="not PLUS",
        source=_CENSUS[0], vintage=_CENSUS[1], group="Deprivation and PLUS",
        note="PLUS groups are chosen locally; a PLUS flag marks where a community lives, not a verdict on it."))
    layers.insert(4, core20_change_layer(lsoas))
    if gaps:
        layers.extend(_gap_layers(atlas, lsoas, register))
    return layers


def _gap_layers(atlas: Any, lsoas: pd.DataFrame, register: str) -> list[MapLayer]:
    from targeting.gaps import lsoa_detection_gap, registration_gap

    out = []
    codes = lsoas["lsoa_code"]
    reg = registration_gap(atlas, vintage=2021).set_index("lsoa_code").reindex(codes)
    out.append(value_layer(
        "reg_gap", "Registration gap: registered patients vs residents", (reg["relative_ratio"].to_numpy() - 1) * 100,
        units="% above (+) or below (−) the registered patients the national ratio predicts from Census residents",
        source="NHS Digital patients registered at a GP practice (July 2022) and ONS Census 2021",
        vintage="July 2022 registrations, March 2021 residents", group="Gaps", diverging=True, decimals=0,
        note="Lists are inflated (people who moved or died stay registered for a while); below zero can mean "
             "people living here who are not registered."))
    det = lsoa_detection_gap(atlas, register=register, imd=2025).set_index("lsoa_code").reindex(codes)
    out.append(value_layer(
        f"det_gap_{register.lower()}", f"Detection gap: people likely undiagnosed ({register})",
        det["expected_undiagnosed"].to_numpy(), units="people (estimated, shared out by where patients live)",
        source="QOF 2022-23 registers (NHS Digital) against expected prevalence (PHE 2016 estimates for HYP)",
        vintage="QOF 2022-23; registrations July 2022", group="Gaps", decimals=0,
        note="A modelled estimate per practice, apportioned to LSOAs by where its patients live."))
    return out


def lsoa_detail(atlas: Any, code: str, *, imd: int = 2025, plus_rules: Any = None, top: int = 5) -> dict[str, Any]:
    """What the details panel shows for one LSOA 2021: its figures and the practices most of its patients use.

    Returns
    -------
    dict
        ``row`` (the atlas row as a Series, without geometry), ``plus_reasons`` (str), ``ethnic`` (DataFrame of
        the largest Census 2021 groups: ``group``, ``pct``), ``practices`` (DataFrame: ``practice_code``,
        ``practice_name``, ``pcn_name``, ``patients``, ``share_pct`` of the LSOA's registered patients).

    Raises
    ------
    LookupError
        If the code is not an LSOA 2021 in England.
    """
    from targeting.plus import evaluate_plus

    t = atlas.lsoa21
    hit = t[t["lsoa_code"] == str(code).strip().upper()]
    if hit.empty:
        raise LookupError(f"'{code}' is not an LSOA 2021 code in England (e.g. E01033620)")
    row = pd.Series(hit.drop(columns=["geometry", "geometry_web"]).iloc[0])
    plus = evaluate_plus(hit, plus_rules)
    detailed = [k for k in ETHNIC_GROUPS if k not in ("minority", "asian", "black", "mixed", "white", "other")]
    eth = pd.DataFrame({"group": [ETHNIC_GROUPS[k] for k in detailed],
                        "pct": [round(float(row[f"pct_{k}"]), 1) for k in detailed]})
    eth = eth.sort_values("pct", ascending=False)
    reg = atlas.registrations21
    reg = reg[reg["lsoa_code"] == row["lsoa_code"]].nlargest(top, "patients")
    prac = reg.merge(atlas.practices[["practice_code", "practice_name", "pcn_name"]], on="practice_code",
                     how="left")
    total = max(int(row["registered_patients"]), 1)
    prac = prac.assign(share_pct=(prac["patients"] / total * 100).round(1))
    return {"row": row, "plus_reasons": str(plus["plus_reasons"].iloc[0]), "ethnic": eth.head(top).reset_index(
        drop=True), "practices": prac[["practice_code", "practice_name", "pcn_name", "patients", "share_pct"]]}


# --------------------------------------------------------------------------------------------
# areas
# --------------------------------------------------------------------------------------------
def area_lsoas(atlas: Any, kind: str, code: str) -> tuple[gpd.GeoDataFrame, list[list[float]] | None, str]:
    """The LSOA 2021 rows to draw for an area, the bounds to zoom to and the area's name.

    Parameters
    ----------
    atlas
        The loaded atlas.
    kind
        ``"icb"``, ``"lad"``, ``"pcn"`` or ``"practice"``.
    code
        The area's code (ICB ONS or NHS code, LAD code, PCN code or practice code).

    Returns
    -------
    lsoas, bounds, name
        An ICB or local authority draws its own LSOAs. A PCN or practice draws the LSOAs of its ICB and zooms to
        where most of its registered patients live (the LSOAs holding the first 80% of its patients, July 2022).

    Raises
    ------
    LookupError
        If the code is unknown.
    """
    from targeting.areas import lsoas_in, resolve_area, resolve_icb

    t = atlas.lsoa21
    area = resolve_area(atlas, kind, code)
    if kind == "icb":
        return lsoas_in(atlas, resolve_icb(atlas, area.code), imd=2025), None, area.name
    if kind == "lad":
        return t[t["lad_code"] == area.code], None, area.name
    if kind == "pcn":
        practices = atlas.practices.loc[atlas.practices["pcn_code"] == area.code, "practice_code"]
    else:
        practices = pd.Series([area.code])
    nhs, name = area.icb_code_nhs, area.name
    lsoas = t[t["icb_code_nhs"] == nhs]
    reg = atlas.registrations21
    reg = reg[reg["practice_code"].isin(set(practices))].groupby("lsoa_code")["patients"].sum()
    reg = reg.sort_values(ascending=False)
    keep = reg.index[(reg.cumsum() / max(reg.sum(), 1)).shift(fill_value=0) < 0.8]
    focus = t[t["lsoa_code"].isin(keep)]
    bounds = None
    if not focus.empty:
        x0, y0, x1, y1 = focus["geometry_web"].total_bounds
        bounds = [[float(y0), float(x0)], [float(y1), float(x1)]]
    return lsoas, bounds, name


# --------------------------------------------------------------------------------------------
# payload
# --------------------------------------------------------------------------------------------
def _round_geoms(geoms: Any, decimals: int = 5) -> np.ndarray:
    arr = np.asarray(geoms)
    coords = shapely.get_coordinates(arr)
    return shapely.set_coordinates(shapely.transform(arr, lambda c: c), np.round(coords, decimals))


def _script_json(obj: Any) -> str:
    """JSON safe to embed in a <script> block: no ``</script>``, HTML comments or line separators can break out."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _nums(values: Any, decimals: int) -> list[float | int | None]:
    """Round a column of values for the payload in one pass (NaN → null; whole numbers when decimals is 0)."""
    arr = np.round(np.asarray(values, dtype=float), decimals)
    ok = np.isfinite(arr)
    out = arr.astype(object)
    if decimals == 0:
        out[ok] = arr[ok].astype(np.int64)
    out[~ok] = None
    return out.tolist()


def _class_string(classes: Any) -> str:
    """One character per LSOA: its colour class (0–9), or '-' for no data."""
    arr = np.asarray(classes)
    return "".join(np.where(arr < 0, "-", np.clip(arr, 0, 9).astype(int).astype(str)).tolist())


_GEOM_TOKEN = re.compile(r'"@@geom:(\d+)@@"')


def _num(v: float, decimals: int) -> float | None:
    if v is None or np.isnan(v):
        return None
    r = round(float(v), decimals)
    return int(r) if decimals == 0 else r


def _swatch(colour: str, pattern: str | None) -> str:
    return _PATTERN_CSS[pattern].format(c=colour) if pattern in _PATTERN_CSS else colour


def _legend_html(layer: MapLayer) -> str:
    e = html.escape
    pats = layer.extra.get("patterns") or ()
    rows = "".join(f'<div><i style="background:{_swatch(c, pats[i] if i < len(pats) else None)}"></i>{e(lab)}</div>'
                   for i, (c, lab) in enumerate(zip(layer.palette, layer.class_labels, strict=False)))
    if (layer.classes < 0).any():
        rows += f'<div><i style="background:{NO_DATA}"></i>no data</div>'
    units = f'<div class="c20-units">{e(layer.units)}</div>' if layer.units else ""
    note = f'<div class="c20-note">{e(layer.note)}</div>' if layer.note else ""
    return (f'<div class="c20-title">{e(layer.label)}</div>{units}{rows}{note}'
            f'<div class="c20-src">Source: {e(layer.source)} · {e(layer.vintage)}</div>')


def _features(lsoas: gpd.GeoDataFrame, imd: int) -> list[dict]:
    ed = Edition.of(imd)
    e = html.escape
    n = len(lsoas)

    def col(name: str) -> np.ndarray:
        # LSOA 2011 rows have no IMD 2025 nor some Census columns: those show as "n/a"
        return lsoas[name].to_numpy() if name in lsoas.columns else np.full(n, np.nan, dtype=object)

    cols = {c: col(c) for c in ("lsoa_code", "lsoa_name", "lad_name", "imd25_decile", "imd19_decile",
                                ed.core20, "residents", "pct_minority", "registered_patients")}

    def whole(v: Any) -> int | None:
        return None if v is None or pd.isna(v) else int(v)

    feats = []
    for i in range(n):
        # geometry JSON is spliced in after serialising (see map_payload): parsing 2,000 polygons only to
        # write them out again was most of the payload's cost
        feats.append({"type": "Feature", "geometry": f"@@geom:{i}@@",
                      "properties": {"i": i, "c": e(str(cols["lsoa_code"][i])), "n": e(str(cols["lsoa_name"][i])),
                                     "l": e(str(cols["lad_name"][i])), "d25": whole(cols["imd25_decile"][i]),
                                     "d19": whole(cols["imd19_decile"][i]), "k": bool(cols[ed.core20][i] is True
                                                                                   or cols[ed.core20][i] == 1),
                                     "r": whole(cols["residents"][i]),
                                     "m": _num(float(cols["pct_minority"][i]), 1),
                                     "g": whole(cols["registered_patients"][i])}})
    return feats


def _outline(lsoas: gpd.GeoDataFrame, mask: np.ndarray) -> dict | None:
    if not mask.any():
        return None
    u = shapely.coverage_union_all(lsoas["geometry_web"].values[mask])
    return json.loads(shapely.to_geojson(_round_geoms([u])[0]))


def _points(df: pd.DataFrame, label_cols: Sequence[str]) -> list[list[Any]]:
    e = html.escape
    out = []
    for row in df.itertuples(index=False):
        d = row._asdict()
        if not (np.isfinite(float(d["lat"])) and np.isfinite(float(d["lon"]))):  # not geocoded: not drawn
            continue
        out.append([round(float(d["lat"]), 5), round(float(d["lon"]), 5),
                    *[e(str(d[c])) if not isinstance(d[c], int | float | np.integer | np.floating) else
                      (None if pd.isna(d[c]) else (int(d[c]) if float(d[c]).is_integer() else round(float(d[c]), 1)))
                      for c in label_cols]])
    return out


def _geojson_of(gdf: gpd.GeoDataFrame, label_col: str, extra_cols: Sequence[str] = ()) -> dict:
    g = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    geoms = _round_geoms(g.geometry.values)
    feats = []
    for i, geom in enumerate(geoms):
        props = {"label": html.escape(str(g[label_col].iloc[i]))}
        for c in extra_cols:
            v = g[c].iloc[i]
            props[c] = html.escape(str(v)) if isinstance(v, str) else _num(float(v), 1) if pd.notna(v) else None
        feats.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)), "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def map_payload(
    lsoas: gpd.GeoDataFrame,
    layers: Sequence[MapLayer],
    *,
    initial: str | None = None,
    imd: int = 2025,
    practices: pd.DataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    patches: gpd.GeoDataFrame | None = None,
    bounds: list[list[float]] | None = None,
    show: Sequence[str] = ("core20",),
    practice_values: MapLayer | None = None,
) -> str:
    """Everything the map draws, as one JSON string safe to embed in a page (cache it per area and settings).

    Parameters
    ----------
    lsoas
        Atlas ``lsoa21`` rows (``geometry_web`` and the standard columns).
    layers
        Choropleth layers whose ``values``/``classes`` are aligned with ``lsoas``.
    initial
        Key of the layer shown first (default the first).
    imd
        IMD edition of the Core20 outline and the tooltip's Core20 line.
    practices
        Optional practices with ``lat``, ``lon``, ``practice_code``, ``practice_name``, ``pcn_code``, ``pcn_name``,
        ``list_size`` (July 2022): clustered markers coloured by PCN.
    footprints
        Optional indicative PCN footprints (polygons with ``pcn_name``).
    patches
        Optional outreach patches (polygons with ``label`` and optionally ``connector``).
    bounds
        ``[[south, west], [north, east]]`` to zoom to (default the LSOAs' extent).
    show
        Overlays switched on at first, among ``core20``, ``practices``, ``footprints``, ``patches``.
    practice_values
        A layer aligned with ``practices`` (e.g. a user's uptake by practice): practices are coloured by its
        classes instead of by PCN, their tooltips show its value, and its legend is added to the map's legend.
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
    payload: dict[str, Any] = {
        "fc": {"type": "FeatureCollection", "features": _features(lsoas, imd)},
        "layers": [{"key": lay.key, "label": html.escape(lay.label), "group": html.escape(lay.group),
                    "units": html.escape(lay.units),
                    "cls": _class_string(lay.classes),
                    "pal": list(lay.palette), "val": _nums(lay.values, lay.decimals),
                    "flag": [html.escape(x) for x in lay.class_labels] if lay.extra.get("flag") else None,
                    "pat": list(lay.extra["patterns"]) if lay.extra.get("patterns") else None,
                    "legend": _legend_html(lay)} for lay in layers],
        "initial": initial if initial in keys else keys[0],
        "imd": imd, "bounds": bounds, "nodata": NO_DATA, "overlays": {}, "show": list(show),
        "attribution": ATTRIBUTION,
    }
    core = lsoas[Edition.of(imd).core20].to_numpy(dtype=bool)
    outline = _outline(lsoas, core)
    if outline is not None:
        payload["overlays"]["core20"] = {"label": f"Core20 outline (IMD {imd} deciles 1–2)", "geom": outline}
    if practices is not None and len(practices):
        pcns = list(dict.fromkeys(practices["pcn_code"].astype(str)))
        if practice_values is None:
            pr = practices.assign(pcn_i=practices["pcn_code"].astype(str).map({c: i % len(OKABE_ITO)
                                                                            for i, c in enumerate(pcns)}), val="")
            pal, label, legend = list(OKABE_ITO), "GP practices, coloured by PCN (July 2022)", ""
        else:
            if len(practice_values.values) != len(practices):
                raise ValueError("practice_values must have one value per practice")
            pal = [*practice_values.palette, NO_DATA]
            cls = np.where(practice_values.classes < 0, len(pal) - 1, practice_values.classes)
            # plain text: _points escapes it once, and the page adds the line break
            txt = [f"{practice_values.label}: " + (
                "withheld or no data" if np.isnan(v) else f"{_fmt(v, practice_values.decimals)} "
                f"{practice_values.units}") for v in practice_values.values]
            pr = practices.assign(pcn_i=cls, val=txt)
            label, legend = f"GP practices: {practice_values.label}", _legend_html(practice_values)
        payload["overlays"]["practices"] = {
            "label": html.escape(label), "pal": pal, "legend": legend, "cluster": practice_values is None,
            "pts": _points(pr, ["pcn_i", "practice_code", "practice_name", "pcn_name", "list_size", "val"])}
    if footprints is not None and len(footprints):
        payload["overlays"]["footprints"] = {"label": "Indicative PCN footprints (where patients live)",
                                             "fc": _geojson_of(footprints, "pcn_name")}
    if patches is not None and len(patches):
        extra = [c for c in ("connector", "households", "lsoas") if c in patches.columns]
        payload["overlays"]["patches"] = {"label": "Outreach patches", "pal": list(OKABE_ITO),
                                          "fc": _geojson_of(patches, "label", extra)}
    geom_json = shapely.to_geojson(_round_geoms(lsoas["geometry_web"].values))
    return _GEOM_TOKEN.sub(lambda m: geom_json[int(m.group(1))], _script_json(payload))


def plan_patches(plan: Any) -> gpd.GeoDataFrame:
    """The planned patches of an outreach plan as a map overlay: ``label``, ``connector``, ``households``."""
    patches = plan.patches
    pg = gpd.GeoDataFrame({"label": [f"Patch {p}" for p in patches["patch_id"]],
                           "connector": patches["connector"].astype(float),
                           "households": patches["households"].astype(float)},
                          geometry=patches.geometry.values, crs=patches.crs)
    return pg[pg["connector"].notna()]


def plan_map_payload(atlas: Any, plan: Any, *, initial: str = "plan_connector") -> str:
    """The map of an outreach plan (:func:`targeting.outreach.plan_outreach`): patches, connectors, status, score.

    Layers: the connector each LSOA is planned for, its status (planned / waiting / not a target), its priority
    score (0–100), then the IMD deciles, Core20 and ethnic groups. Overlays: the patches (on at first), Core20
    outline and the area's practices.
    """
    t = plan.lsoas
    imd = int(plan.settings.get("imd", 2025)) if hasattr(plan, "settings") else 2025
    lsoas = atlas.lsoa21.set_index("lsoa_code").loc[list(t["lsoa_code"])].reset_index()
    src = "Outreach plan from IoD, Census 2021, NHS Digital registrations (July 2022) and QOF 2022-23"
    w = plan.settings.get("weights", "")
    w = ", ".join(f"{k} {v:g}" for k, v in w.items()) if isinstance(w, dict) else str(w)
    vintage = f"IMD {imd}; priority weights {w}"
    n = int(plan.settings.get("connectors", 0) or t["connector"].max() or 0)
    waiting = "Target, waiting for capacity"
    conn = pd.Series([f"Connector {int(c)}" if pd.notna(c) else (waiting if st == "waiting" else None)
                      for c, st in zip(t["connector"], t["status"], strict=True)])
    order = [f"Connector {i}" for i in range(1, n + 1)]
    layers = [
        category_layer("plan_connector", "Planned connector", conn.to_numpy(), order=[*order, waiting],
                       source=src, vintage=vintage, group="Outreach plan",
                       palette=(*(OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)), "#fdd0a2"),
                       note="Pale orange: a Core20 or PLUS target that waits for capacity. Grey: not a target. "
                            "With more than 9 connectors, colours repeat."),
        category_layer("plan_status", "Plan status", t["status"].to_numpy(),
                       order=["planned", "waiting", "not a target"], source=src, vintage=vintage,
                       group="Outreach plan", palette=("#009E73", "#E69F00", "#f2f2f2")),
        value_layer("plan_score", "Priority score", t["priority_score"].to_numpy(dtype=float),
                    units="0–100, from the weighted components (see the table)", source=src, vintage=vintage,
                    group="Outreach plan", decimals=0),
        *standard_layers(lsoas),
    ]
    pg = plan_patches(plan)
    codes = set(t["lsoa_code"])
    reg = atlas.registrations21
    pcodes = reg.loc[reg["lsoa_code"].isin(codes), "practice_code"].unique()
    practices = atlas.practices[atlas.practices["practice_code"].isin(pcodes)
                                & (atlas.practices["icb_code_nhs"] == lsoas["icb_code_nhs"].mode().iloc[0])]
    return map_payload(lsoas, layers, initial=initial, imd=imd, practices=practices, patches=pg,
                       show=("patches",))


def upload_map_payload(atlas: Any, upload: Any, *, icb_nhs: str, imd: int = 2025, rule: Any = None,
                       label: str = "Your data", published: pd.DataFrame | None = None) -> str:
    """The map of a user's upload (:func:`targeting.uploads.read_upload`) for one ICB, with suppression applied.

    LSOA uploads colour the ICB's LSOAs (of the upload's vintage) by the rate; practice uploads colour the ICB's
    practices by their rate over the IMD deciles. Rates built from small numbers (``rule``, default NHS Digital
    1–7) are withheld: they show as "no data" and are not classified. The upload's data never leaves the page.
    The rates are those of :func:`targeting.yourdata.your_data_tables` (``published``, computed if not given):
    from the published counts, with the same primary and secondary suppression as the downloads.
    """
    from targeting.suppression import DEFAULT_RULE
    from targeting.yourdata import your_data_tables

    rule = rule or DEFAULT_RULE
    if published is None:
        published = your_data_tables(upload, atlas, imd=imd, rule=rule).rows
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
        layers = [lay, *(standard_layers(lsoas) if upload.geography == "LSOA 2021" else
                         [_decile_layer(lsoas, 2019)])]
        return map_payload(lsoas, layers, imd=2019 if upload.geography == "LSOA 2011" else imd, show=("core20",))
    lsoas = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == icb_nhs]
    practices = atlas.practices[atlas.practices["icb_code_nhs"] == icb_nhs]
    vals = pd.Series(rate, index=d["code"].to_numpy()).reindex(practices["practice_code"]).to_numpy()
    play = value_layer("upload", f"{label} (%)", vals, units="%", source=src, vintage="as uploaded",
                       group="Your data", note=note)
    return map_payload(lsoas, standard_layers(lsoas), imd=imd, practices=practices, practice_values=play,
                       show=("core20", "practices"))


def payload_bytes(payload: str) -> int:
    """Size in bytes (UTF-8) of a map payload: what the browser receives for the map's data."""
    return len(payload.encode("utf-8"))


# --------------------------------------------------------------------------------------------
# the folium element
# --------------------------------------------------------------------------------------------
_CSS = """
.c20-panel{background:#fff;padding:6px 8px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);
 font:12px/1.35 system-ui,sans-serif;max-width:260px}
.c20-panel select{max-width:240px;font-size:12px;margin-bottom:4px}
.c20-panel label{display:block;white-space:normal;padding-left:18px;text-indent:-18px}
.c20-legend{background:#fff;padding:6px 8px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);
 font:11px/1.2 system-ui,sans-serif;max-width:230px;max-height:42vh;overflow:auto;opacity:.94}
.c20-legend i{display:inline-block;width:13px;height:10px;margin-right:5px;vertical-align:middle;
 border:1px solid #888}
.c20-title{font-weight:600}.c20-units{color:#333;margin-bottom:2px}
.c20-note,.c20-src{color:#555;font-size:11px;margin-top:3px}
.leaflet-tooltip{font:12px/1.35 system-ui,sans-serif}
.leaflet-control-attribution{font-size:10px !important;line-height:1.3}
"""

_TEMPLATE = Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
{% macro script(this, kwargs) %}
(function(){
  var map = {{ this._parent.get_name() }};
  // with no tile layer the map has no maxZoom, which Leaflet.markercluster requires
  if (map.options.maxZoom === undefined) { map.setMaxZoom(18); }
  var P = {{ this.payload }};
  var byKey = {}; P.layers.forEach(function(L){ byKey[L.key] = L; });
  var cur = byKey[P.initial];
  function style(f){
    var ch = cur.cls.charAt(f.properties.i);
    var fill = ch === '-' ? P.nodata : (cur.pat && cur.pat[+ch]) ? 'url(#c20-' + cur.key + '-' + ch + ')'
                                                                   : cur.pal[+ch];
    return {fillColor: fill, fillOpacity: 0.72, color: '#4d4d4d', weight: 0.4, opacity: 0.8};
  }
  function patterns(){
    // SVG fill patterns (stripes, dots) for layers whose classes must read without colour
    var svg = map.getPanes().overlayPane.querySelector('svg');
    if (!svg || svg.querySelector('defs.c20-defs')) { return; }
    var ns = 'http://www.w3.org/2000/svg', defs = document.createElementNS(ns, 'defs');
    defs.setAttribute('class', 'c20-defs');
    function el(tag, attrs, parent){ var e = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function(k){ e.setAttribute(k, attrs[k]); }); parent.appendChild(e); return e; }
    P.layers.forEach(function(Ly){ if (!Ly.pat) { return; }
      Ly.pat.forEach(function(kind, k){ if (!kind) { return; }
        var pt = el('pattern', {id: 'c20-' + Ly.key + '-' + k, patternUnits: 'userSpaceOnUse', width: 7, height: 7,
                                patternTransform: kind === 'stripes' ? 'rotate(45)' : ''}, defs);
        el('rect', {width: 7, height: 7, fill: Ly.pal[k]}, pt);
        if (kind === 'stripes') { el('rect', {x: 0, y: 0, width: 2.5, height: 7, fill: '#fff'}, pt); }
        else { el('circle', {cx: 3.5, cy: 3.5, r: 1.6, fill: '#fff'}, pt); }
      }); });
    svg.insertBefore(defs, svg.firstChild);
  }
  function fmt(v){ return (v === null || v === undefined) ? 'no data' : v.toLocaleString('en-GB'); }
  function tip(l){
    var p = l.feature.properties, v = cur.val[p.i];
    var val = cur.flag ? (v === null ? 'no data' : cur.flag[v]) : fmt(v) + ' ' + cur.units;
    return '<b>' + p.n + '</b> (' + p.c + ')<br>' + p.l +
      '<br>IMD 2025 decile ' + fmt(p.d25) + ' · IMD 2019 decile ' + fmt(p.d19) +
      (p.k ? '<br><b>Core20</b> (IMD ' + P.imd + ' deciles 1–2)' : '') +
      '<br>Residents (Census 2021): ' + fmt(p.r) + ' · ethnic minority ' + fmt(p.m) + '%' +
      '<br>Registered patients (July 2022): ' + fmt(p.g) +
      '<br><i>' + cur.label + ':</i> ' + val;
  }
  var geo = L.geoJson(P.fc, {style: style, onEachFeature: function(f, l){
    l.bindTooltip(function(){ return tip(l); }, {sticky: true});
    l.on('mouseover', function(){ l.setStyle({weight: 2.5, color: '#000'}); });
    l.on('mouseout', function(){ geo.resetStyle(l); });
  }}).addTo(map);
  patterns();
  var over = {};
  var O = P.overlays;
  if (O.core20) {
    over.core20 = L.geoJson(O.core20.geom, {interactive: false,
      style: {fill: false, color: '#000', weight: 2.5, opacity: 0.95}});
  }
  if (O.footprints) {
    over.footprints = L.geoJson(O.footprints.fc, {style: {fill: false, color: '#cc79a7', weight: 2, dashArray: '6 4'},
      onEachFeature: function(f, l){ l.bindTooltip('Indicative footprint: ' + f.properties.label); }});
  }
  if (O.patches) {
    over.patches = L.geoJson(O.patches.fc, {style: function(f){
        var pal = O.patches.pal;
        return {fill: false, color: pal[((f.properties.connector || 1) - 1) % pal.length], weight: 4, opacity: 1};},
      onEachFeature: function(f, l){ var p = f.properties; l.bindTooltip('<b>' + p.label + '</b>' +
        (p.connector !== undefined ? '<br>Connector ' + p.connector : '') +
        (p.households !== undefined ? '<br>' + fmt(p.households) + ' households' : '')); }});
  }
  if (O.practices) {
    // a user's values by practice are shown unclustered, so every practice's colour is visible
    var grp = (O.practices.cluster && L.markerClusterGroup) ? L.markerClusterGroup({maxClusterRadius: 40})
                                                            : L.featureGroup();
    O.practices.pts.forEach(function(r){
      var m = L.circleMarker([r[0], r[1]], {radius: 7, color: '#000', weight: 1, fillColor: O.practices.pal[r[2]],
                                            fillOpacity: 0.95});
      m.feature = {type: 'Feature', properties: {kind: 'practice', c: r[3], n: r[4]}};
      m.bindTooltip('<b>' + r[4] + '</b> (' + r[3] + ')<br>PCN: ' + r[5] + '<br>List size (July 2022): ' +
                    fmt(r[6]) + (r[7] ? '<br>' + r[7] : ''));
      grp.addLayer(m);
    });
    over.practices = grp;
  }
  var legend = L.control({position: 'bottomright'});
  var legendDiv;
  function legendHtml(){ var h = cur.legend;
    if (O.practices && O.practices.legend && over.practices && map.hasLayer(over.practices)) {
      h += '<hr style="margin:4px 0">' + O.practices.legend; }
    return h; }
  legend.onAdd = function(){ legendDiv = L.DomUtil.create('div', 'c20-legend');
    legendDiv.innerHTML = legendHtml(); L.DomEvent.disableClickPropagation(legendDiv); return legendDiv; };
  legend.addTo(map);
  var panel = L.control({position: 'topright'});
  panel.onAdd = function(){
    var div = L.DomUtil.create('div', 'c20-panel');
    var groups = {}, order = [];
    P.layers.forEach(function(L){ if (!groups[L.group]) { groups[L.group] = []; order.push(L.group); }
                                  groups[L.group].push(L); });
    var h = '<label for="c20-layer"><b>Colour LSOAs by</b></label><select id="c20-layer" class="c20-layer">';
    order.forEach(function(g){ h += '<optgroup label="' + g + '">';
      groups[g].forEach(function(L){ h += '<option value="' + L.key + '">' + L.label + '</option>'; });
      h += '</optgroup>'; });
    h += '</select>';
    Object.keys(over).forEach(function(k){
      h += '<label><input type="checkbox" class="c20-overlay" value="' + k + '"' +
           (P.show.indexOf(k) >= 0 ? ' checked' : '') + '> ' + O[k].label + '</label>'; });
    div.innerHTML = h;
    L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
    var sel = div.querySelector('select'); sel.value = cur.key;
    sel.addEventListener('change', function(){ cur = byKey[sel.value]; geo.setStyle(style);
      legendDiv.innerHTML = legendHtml(); map.getContainer().setAttribute('data-layer', cur.key); });
    div.querySelectorAll('input.c20-overlay').forEach(function(cb){
      cb.addEventListener('change', function(){ if (cb.checked) { over[cb.value].addTo(map); }
                                                else { map.removeLayer(over[cb.value]); }
                                                legendDiv.innerHTML = legendHtml(); }); });
    return div;
  };
  panel.addTo(map);
  Object.keys(over).forEach(function(k){ if (P.show.indexOf(k) >= 0) { over[k].addTo(map); } });
  if (over.core20) { over.core20.bringToFront(); }
  legendDiv.innerHTML = legendHtml();
  if (map.attributionControl) { map.attributionControl.addAttribution(P.attribution); }
  map.fitBounds(P.bounds);
  map.getContainer().setAttribute('data-layer', cur.key);
  map.getContainer().setAttribute('data-lsoas', P.fc.features.length);
})();
{% endmacro %}
""")


class _LsoaMap(JSCSSMixin, MacroElement):
    """The LSOA layers, overlays, layer menu and legend, drawn from one embedded payload."""

    _template = _TEMPLATE

    def __init__(self, payload: str, js: list[tuple[str, str]], css: list[tuple[str, str]]):
        super().__init__()
        self._name = "LsoaMap"
        self.payload = payload
        self.css = _CSS
        self.default_js = js
        self.default_css = css


def _asset_links(base: str, cluster: bool) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    js = [("leaflet", f"{base}/leaflet/leaflet.js")]
    css = [("leaflet_css", f"{base}/leaflet/leaflet.css")]
    if cluster:
        js.append(("markerclusterjs", f"{base}/markercluster/leaflet.markercluster.js"))
        css += [("markerclustercss", f"{base}/markercluster/MarkerCluster.css"),
                ("markerclusterdefaultcss", f"{base}/markercluster/MarkerCluster.Default.css")]
    return js, css


def build_map(
    payload: str, *, basemap: bool = False, asset_url: str = ASSET_URL, height: int | str = 620
) -> folium.Map:
    """A folium map drawing a :func:`map_payload`, with every script and stylesheet served by the app itself.

    Parameters
    ----------
    payload
        From :func:`map_payload`.
    basemap
        Add OpenStreetMap tiles underneath (needs internet; the map draws fully without them).
    asset_url
        URL prefix of the vendored Leaflet files (see :func:`install_static_assets`).
    height
        Map height in pixels (or a CSS length such as ``"100%"`` for a standalone page).
    """
    cluster = '"practices":' in payload
    m = folium.Map(location=[52.5, -1.5], zoom_start=7, tiles=None, control_scale=True, height=height,
                   prefer_canvas=False)
    js, css = _asset_links(asset_url, cluster)
    # folium's own defaults point at CDNs (jQuery, Bootstrap, awesome-markers); none are needed here.
    m.default_js = js[:1]
    m.default_css = css[:1]
    if basemap:
        folium.TileLayer("OpenStreetMap", attr="© OpenStreetMap contributors", name="Basemap").add_to(m)
    _LsoaMap(payload, js, css).add_to(m)
    return m


# --------------------------------------------------------------------------------------------
# offline assets
# --------------------------------------------------------------------------------------------
def _asset_source(pkg: str) -> Path:
    import importlib

    try:
        mod = importlib.import_module(_XSTATIC[pkg])
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise ImportError(f"the PyPI package '{_XSTATIC[pkg].replace('.pkg.', '-').replace('.', '-')}' is needed "
                          f"for offline maps: pip install -e .") from exc
    return Path(mod.BASE_DIR)


def install_static_assets(static_dir: str | Path) -> Path:
    """Copy Leaflet and Leaflet.markercluster from their installed PyPI packages into ``static_dir/vendor``.

    Files already there with the same size are left alone, so this is cheap to call at every app start.
    Returns the ``vendor`` folder.
    """
    vendor = Path(static_dir) / "vendor"
    for pkg, files in _ASSETS.items():
        src = _asset_source(pkg)
        for rel in files:
            s, d = src / rel, vendor / pkg / rel
            if d.exists() and d.stat().st_size == s.stat().st_size:
                continue
            d.parent.mkdir(parents=True, exist_ok=True)
            tmp = d.with_name(d.name + ".tmp")
            shutil.copyfile(s, tmp)
            tmp.replace(d)
    return vendor


def _inline_css(pkg: str, name: str) -> str:
    src = _asset_source(pkg)
    text = (src / name).read_text(encoding="utf-8")

    def data_uri(m: re.Match) -> str:
        p = src / m.group(1)
        if not p.exists():
            return m.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, text)


def standalone_html(m: folium.Map, *, title: str = "Core20PLUS map") -> str:
    """The whole map as one HTML file with Leaflet inlined: it opens from disk with no internet."""
    root = m.get_root()
    cluster = False
    for child in [m, *m._children.values()]:
        if isinstance(child, JSCSSMixin):
            cluster = cluster or any("markercluster" in n for n, _ in child.default_js)
            child.default_js, child.default_css = [], []
    parts = [("leaflet", "leaflet.js", "leaflet.css")]
    head = [f"<title>{html.escape(title)}</title>"]
    for pkg, js, css in parts + ([("markercluster", "leaflet.markercluster.js", "MarkerCluster.css")]
                                 if cluster else []):
        src = _asset_source(pkg)
        head.append(f"<style>{_inline_css(pkg, css)}</style>")
        if pkg == "markercluster":
            head.append(f"<style>{_inline_css(pkg, 'MarkerCluster.Default.css')}</style>")
        code = (src / js).read_text(encoding="utf-8").replace("</script", "<\\/script")
        head.append(f"<script>{code}</script>")
    root.header.add_child(Element("\n".join(head)), name="c20_inline_assets", index=0)
    return root.render()
