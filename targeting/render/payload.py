"""The map payload: everything a map draws, as one JSON string safe to embed in a page.

One map carries the LSOA geometry once (coverage-simplified ``geometry_web``, coordinates rounded to 5 decimal
places, about 1 m) and, for every layer, one colour class and one value per LSOA. Switching a layer restyles the
polygons in the browser, so it needs no round trip to Python; panning and zooming never do either.

Everything shown in a tooltip or legend that came from data (names, codes, a user's labels) is HTML-escaped here,
before it reaches the page, and the JSON escapes ``<``, ``>`` and ``&`` so it cannot leave a ``<script>`` block.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geo.editions import Edition
from targeting.maps import _PATTERN_CSS, NO_DATA, OKABE_ITO, MapLayer, _fmt

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["ATTRIBUTION", "map_payload", "payload_bytes"]

#: Shown on every map: the boundaries' licence (ONS LSOA December 2021 BSC).
ATTRIBUTION = ("LSOA boundaries © ONS (Dec 2021), OGL v3 · Contains OS data © Crown copyright and database right "
               "2021")


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


def payload_bytes(payload: str) -> int:
    """Size in bytes (UTF-8) of a map payload: what the browser receives for the map's data."""
    return len(payload.encode("utf-8"))
