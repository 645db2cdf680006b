"""Printable visit sheets: a cover, then one A4 page per connector and month (or per worker's caseload).

Each page lists the postcodes in walking order with about how many households, draws an offline map and says why
each neighbourhood was chosen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from targeting.programme import add_months, month_words
from targeting.render.palette import SHEET_CONNECTORS
from targeting.render.sheets import render_lsoa_map, render_round_map, render_visit_sheets
from targeting.rounds import SHORT_WORDS

if TYPE_CHECKING:
    from targeting.outreach import OutreachPlan

__all__ = ["BASEMAPS", "round_map_svg", "svg_map", "visit_sheets_html"]

#: Street basemaps a user may choose for the printed maps (drawn only when chosen, and only when online):
#: name → (tile URL template, attribution).
BASEMAPS: dict[str, tuple[str, str]] = {
    "OpenStreetMap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
}

_PALETTE = SHEET_CONNECTORS  # colour-blind-safe (Okabe-Ito), one per connector

def _num(x, digits: int = 0) -> str:
    if x is None or pd.isna(x):
        return "–"
    return f"{float(x):,.{digits}f}" if digits else f"{round(float(x)):,}"


def _path(geom, minx: float, maxy: float, scale: float) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            px = (xy[:, 0] - minx) * scale
            py = (maxy - xy[:, 1]) * scale
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
            parts.append(f"M{pts}Z")
    return "".join(parts)


def svg_map(focus: pd.DataFrame, context: pd.DataFrame | None = None, *, width: float = 640, height: float = 420,
            colour_by: str = "patch_id", label: str = "visit_order", title: str = "") -> str:
    """Draw LSOAs (EPSG:27700 geometry) as a small static SVG map, with no tiles and no internet.

    Parameters
    ----------
    focus
        GeoDataFrame of the LSOAs to draw in colour (EPSG:27700), with ``colour_by`` and ``label`` columns.
    context
        Other LSOAs drawn in grey where they fall inside the map's extent.
    width, height
        Pixel size of the SVG canvas.
    colour_by, label
        Column giving the colour group and the text drawn at each LSOA's label point.
    title
        Accessible title of the map (escaped).

    Returns
    -------
    str
        An ``<svg>`` element. Geometry is simplified to the drawing scale (about one pixel).
    """
    if len(focus) == 0:
        return ""
    minx, miny, maxx, maxy = focus.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.06 + 50
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    scale = min(width / (maxx - minx), height / (maxy - miny))
    w, h = (maxx - minx) * scale, (maxy - miny) * scale
    tol = 1.0 / scale
    context_paths = []
    if context is not None and len(context):
        box = shapely.box(minx, miny, maxx, maxy)
        near = context[context.geometry.intersects(box)]
        context_paths = [_path(g, minx, maxy, scale) for g in shapely.simplify(near.geometry.to_numpy(), tol)]
    groups = {g: _PALETTE[i % len(_PALETTE)] for i, g in enumerate(pd.unique(focus[colour_by].astype(str)))}
    paths = [{"d": _path(geom, minx, maxy, scale), "fill": groups[grp]}
             for geom, grp in zip(shapely.simplify(focus.geometry.to_numpy(), tol), focus[colour_by].astype(str),
                                  strict=True)]
    labels = []
    for p, text in zip(shapely.point_on_surface(focus.geometry.to_numpy()), focus[label], strict=True):
        if not pd.isna(text):
            labels.append({"x": f"{(p.x - minx) * scale:.1f}", "y": f"{(maxy - p.y) * scale:.1f}", "text": str(text)})
    bar = _scale_bar(maxx - minx)
    return render_lsoa_map({
        "w": f"{w:.0f}", "h": f"{h:.0f}", "vw": f"{w:.1f}", "vh": f"{h:.1f}", "title": title,
        "context_paths": context_paths, "paths": paths, "labels": labels,
        "bar": {"x1": "10", "x2": f"{10 + bar * scale:.1f}", "y": f"{h - 12:.1f}", "ty": f"{h - 16:.1f}",
                "label": _bar_label(bar)}})


def _bar_label(bar: float) -> str:
    return f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m"


def _scale_bar(span: float) -> float:
    target = span / 5
    for v in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        if v >= target:
            return float(v)
    return 100000.0


_REMINDER = ("This plan is a starting point for conversations with communities and voluntary-sector partners. "
             "It is not a verdict on the people who live in these neighbourhoods: the figures describe places "
             "and the structural causes of inequality, and low recorded numbers are not low need.")


def _merc(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = 6378137.0
    lat = np.clip(lat, -85.0, 85.0)
    return r * np.radians(lon), r * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def _tiles(basemap: str, minx: float, miny: float, maxx: float, maxy: float, scale: float) -> list[dict]:
    """Tiles of a web basemap covering a Web Mercator extent (drawn only when a basemap is chosen)."""
    url, _ = BASEMAPS[basemap]
    world = 2 * np.pi * 6378137.0
    z = int(np.clip(np.floor(np.log2(scale * world / 256)), 0, 19))
    n = 2 ** z
    size = world / n

    def tx(x: float) -> int:
        return int(np.floor((x + world / 2) / size))

    def ty(y: float) -> int:
        return int(np.floor((world / 2 - y) / size))

    out = []
    for i in range(max(0, tx(minx)), min(n - 1, tx(maxx)) + 1):
        for j in range(max(0, ty(maxy)), min(n - 1, ty(miny)) + 1):
            x0 = -world / 2 + i * size
            y0 = world / 2 - j * size
            out.append({"href": url.format(z=z, x=i, y=j), "x": f"{(x0 - minx) * scale:.1f}",
                        "y": f"{(maxy - y0) * scale:.1f}", "size": f"{size * scale + 0.5:.1f}"})
    return out


def round_map_svg(stops: pd.DataFrame, outlines: pd.DataFrame, *, width: float = 680, height: float = 360,
                  title: str = "", basemap: str | None = None) -> str:
    """Draw one round: LSOA outlines and numbered postcode points, with a scale bar and a north arrow.

    Parameters
    ----------
    stops
        The round's stops in walking order: ``stop``, ``lat``, ``lon``.
    outlines
        GeoDataFrame of the LSOAs to outline (any CRS), with ``lsoa_code``.
    width, height
        Largest size of the drawing in pixels.
    title
        Accessible title (escaped).
    basemap
        A key of :data:`BASEMAPS` to draw street tiles under the map (needs the internet when the sheet is
        opened); ``None`` (default) draws everything offline.

    Returns
    -------
    str
        An ``<svg>`` element in Web Mercator (north is up), so tiles, when chosen, line up exactly; the markup is
        rendered by :func:`targeting.render.sheets.render_round_map`.
    """
    if len(stops) == 0:
        return ""
    if basemap is not None and basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {', '.join(BASEMAPS)}, not {basemap!r}")
    px, py = _merc(stops["lon"].to_numpy(dtype=float), stops["lat"].to_numpy(dtype=float))
    geoms = outlines.to_crs(3857).geometry if len(outlines) else None
    minx, maxx, miny, maxy = px.min(), px.max(), py.min(), py.max()
    lat0 = float(np.radians(stops["lat"].mean()))
    k = np.cos(lat0)  # ground metres per Web Mercator metre here
    span = max(maxx - minx, maxy - miny, 300 / k)
    pad = span * 0.12
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w = max(maxx - minx, span * 0.6) / 2 + pad
    half_h = max(maxy - miny, span * 0.45) / 2 + pad
    minx, maxx, miny, maxy = cx - half_w, cx + half_w, cy - half_h, cy + half_h
    scale = min(width / (maxx - minx), height / (maxy - miny))
    w, h = (maxx - minx) * scale, (maxy - miny) * scale
    shapes = []
    if geoms is not None:
        box = shapely.box(minx, miny, maxx, maxy)
        for code, g in zip(outlines["lsoa_code"], shapely.simplify(geoms.to_numpy(), 1.0 / scale), strict=True):
            g = g.intersection(box)
            if g.is_empty:
                continue
            lp = g.representative_point()
            shapes.append({"d": _path(g, minx, maxy, scale), "x": f"{(lp.x - minx) * scale:.1f}",
                           "y": f"{(maxy - lp.y) * scale:.1f}", "code": str(code)})
    sx, sy = (px - minx) * scale, (maxy - py) * scale
    route = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(sx, sy, strict=True)) if len(sx) > 1 else ""
    placed: list[tuple[float, float]] = []
    markers = []
    for a, b, n in zip(sx, sy, stops["stop"], strict=True):
        # Postcodes a few metres apart would hide each other's numbers: move the marker aside on a leader line.
        x, y, tries = a, b, 0
        while any((x - u) ** 2 + (y - v) ** 2 < 17 ** 2 for u, v in placed) and tries < 12:
            tries += 1
            r = 17 * (1 + tries // 6)
            x, y = a + r * np.cos(tries * np.pi / 3), b + r * np.sin(tries * np.pi / 3)
        placed.append((x, y))
        markers.append({"leader": bool(tries), "ax": f"{a:.1f}", "ay": f"{b:.1f}", "x": f"{x:.1f}",
                        "y": f"{y:.1f}", "n": int(n)})
    bar = _scale_bar((maxx - minx) * k)
    bar_px = bar / k * scale
    ax = w - 22
    return render_round_map({
        "w": f"{w:.0f}", "h": f"{h:.0f}", "vw": f"{w:.1f}", "vh": f"{h:.1f}", "title": title,
        "tiles": _tiles(basemap, minx, miny, maxx, maxy, scale) if basemap is not None else [],
        "outlines": shapes, "route": route, "markers": markers,
        "bar": {"ry": f"{h - 26:.1f}", "rw": f"{bar_px + 16:.1f}", "y": f"{h - 10:.1f}", "x2": f"{14 + bar_px:.1f}",
                "ty": f"{h - 14:.1f}", "label": _bar_label(bar)},
        "north": {"rx": f"{ax - 12:.1f}", "x": f"{ax:.1f}", "xl": f"{ax - 7:.1f}", "xr": f"{ax + 7:.1f}"}})


def _distance(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{round(metres / 10) * 10:.0f} m"


def _count(n: float, one: str, many: str | None = None) -> str:
    n = int(n)
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _group(core20: bool, plus: bool) -> str:
    return " · ".join(x for x, on in (("Core20", core20), ("PLUS", plus)) if on)


def _cover(plan: OutreachPlan) -> tuple[dict, dict]:
    """What the cover says: its figures (``cover``) and the health-check assumptions (``hc``), formatted."""
    s = plan.settings
    t = plan.lsoas
    need = plan.workers_needed
    hc = s.get("health_check", {})
    cover = {
        "caseload": s.get("mode") == "caseload",
        "capacity": f"{s['capacity_per_month']:g}",
        "months": f"{s['months']:g}",
        "workers_words": _count(s["connectors"], "worker"),
        "connectors_words": _count(s["connectors"], "connector"),
        "held": min(s["connectors"], len(plan.pieces)),
        "need_core20": f"{need.get('core20', 0):,}",
        "need_core20plus": f"{need.get('core20plus', 0):,}",
        "households": _num(t.loc[t["core20"] | t["plus"], "households"].sum()),
        "months_to_cover": plan.months_to_cover,
        "lsoas": len(t), "core20": int(t["core20"].sum()), "plus": int(t["plus"].sum()),
        "targets": int(t["target"].sum()), "planned": int((t["status"] == "planned").sum()),
        "part": int((t["status"] == "part planned").sum()), "waiting": int((t["status"] == "waiting").sum()),
        "visited": int((t["status"] == "visited").sum()),
        "imd": s["imd"], "plus_rules": str(s["plus_rules"]), "order_words": str(s.get("order_words", "")),
        "weights": None if s.get("order") == "deprivation" else
        ", ".join(f"{k} {v:g}" for k, v in s["weights"].items()),
        "score_cut": None if s["score_cut"] is None else f"{s['score_cut']:g}",
    }
    start = str(s.get("start") or "")
    caseload = s.get("mode") == "caseload"
    cover["start_words"] = month_words(start) if start else ""
    cover["end_words"] = month_words(add_months(start, int(s["months"]) - 1)) if start and not caseload else ""
    cover["team"] = _team(plan)
    cover["localities"] = len(plan.localities) > 1
    cover["locality_rows"] = [
        {"locality": str(x["locality"]), "name": str(x["locality_name"]),
         "pcns": len(str(x["pcn_codes"]).split(";")), "core20": f"{int(x['core20_households']):,}",
         "plus": f"{int(x['plus_households']):,}", "connectors": int(x["connectors"]),
         "months": "–" if pd.isna(x.get("months_to_cover")) else f"{int(x['months_to_cover']):,}"}
        for _, x in plan.localities.iterrows()] if cover["localities"] else []
    cover["progress"] = _progress(plan)
    health = {"not_diagnosed": f"{1 - hc.get('already_diagnosed', 0):.2f}", "uptake": f"{hc.get('uptake', 0):.1%}",
              "uptake_low": f"{hc.get('uptake_low', 0):.1%}", "uptake_high": f"{hc.get('uptake_high', 0):.1%}",
              "per_1000": f"{hc.get('detection', 0) * 1000:g}"}
    return cover, health


def _progress(plan: OutreachPlan) -> dict | None:
    """How far the campaign has come, from the done file (``None`` when the plan was not re-made from one)."""
    pr = plan.progress
    if not pr:
        return None
    total = pr.get("core20plus_households") or 0
    visited = int(pr["households_visited"])
    finish = pr.get("finish_month")
    return {"visited": f"{visited:,}", "total": f"{int(total):,}",
            "pct": f"{100 * visited / total:.1f}%" if total else "–",
            "postcodes": f"{int(pr['postcodes_done']):,}", "rows": f"{int(pr['rows_done']):,}",
            "last": month_words(pr["last_month"]) if pr.get("last_month") else "",
            "months": pr.get("months_to_finish"), "finish": month_words(finish) if finish else "",
            "elsewhere": int(pr.get("postcodes_elsewhere") or 0), "notes": [str(n) for n in pr.get("notes", [])]}


def _team(plan: OutreachPlan) -> list[dict]:
    """One line per connector (or worker) for the cover: name, locality, rounds, households and months."""
    conn = plan.connectors
    r = plan.rounds_table()
    out = []
    for _, c in conn.iterrows():
        mine = r[r["connector"] == c["connector"]]
        months = sorted(m for m in mine["month_start"].dropna().unique()) if len(mine) else []
        out.append({"connector": int(c["connector"]), "name": str(c.get("connector_name", c["connector"])),
                    "locality": str(c.get("locality_name", "") or ""), "rounds": int(c["rounds"]),
                    "households": f"{int(c['households']):,}",
                    "months": (month_words(months[0]) + (f" – {month_words(months[-1])}" if len(months) > 1 else ""))
                    if months else "–"})
    return out


def _round_page(plan: OutreachPlan, piece: pd.DataFrame, outlines: pd.DataFrame, basemap: str | None) -> dict:
    t = plan.lsoas.set_index("lsoa_code")
    caseload = plan.settings.get("mode") == "caseload"
    first = piece.iloc[0]
    c = int(first["connector"])
    name = str(first.get("connector_name") or "")
    who = (f"{'Worker' if caseload else 'Connector'} {c}" if name in ("", f"Worker {c}", f"Connector {c}")
           else f"{name} ({'worker' if caseload else 'connector'} {c})")
    when = month_words(str(first.get("month_start") or ""))
    head = (f"{who} · standing neighbourhood (visit every household every month) from {when}" if caseload else
            f"{who} · month {int(first['month'])} · {when}")
    codes = list(pd.unique(piece["lsoa_code"]))
    rows = [{"stop": int(r["stop"]), "postcode": str(r["postcode"]), "households": int(r["households_est"]),
             "part": r["households_est"] != r["postcode_households"],
             "postcode_households": int(r["postcode_households"]),
             "lsoa_name": str(t.loc[r["lsoa_code"], "lsoa_name"]), "lsoa_code": str(r["lsoa_code"]),
             "group": _group(r["core20"], r["plus"])} for _, r in piece.iterrows()]
    why = [{"lsoa_name": str(t.loc[code, "lsoa_name"]), "lsoa_code": str(code), "why": str(t.loc[code, "why"])}
           for code in codes]
    title = f"{head}: {len(piece)} postcodes in walking order"
    attribution = ("Map: numbered points are postcodes (OS Code-Point Open) in walking order; dashed outlines are "
                   "LSOAs (ONS LSOA December 2021 BSC). Contains OS data © Crown copyright and database right 2025; "
                   "Contains Royal Mail data © Royal Mail copyright and database right 2025.")
    if basemap is not None:
        attribution += f" Street basemap: {BASEMAPS[basemap][1]} (needs the internet)."
    xy = piece[["easting", "northing"]].to_numpy(dtype=float)
    walk = float(np.hypot(*np.diff(xy, axis=0).T).sum()) if len(xy) > 1 else 0.0
    span = float(np.hypot(*(xy.max(axis=0) - xy.min(axis=0)))) if len(xy) > 1 else 0.0
    short = str(first.get("short_reason") or "")
    return {"head": head, "postcodes": len(piece), "households": f"{int(piece['households_est'].sum()):,}",
            "walk": _distance(walk), "wide": span > 3000, "locality": str(first.get("locality_name") or ""),
            "short": SHORT_WORDS.get(short, "") if short else "",
            "lsoas_words": _count(len(codes), "neighbourhood"), "joins": int(piece["chain_count"].iloc[0]) > 1,
            "map_svg": round_map_svg(piece, outlines[outlines["lsoa_code"].isin(codes)], title=title,
                                     basemap=basemap),
            "attribution": attribution, "rows": rows, "why": why}


def _not_planned(plan: OutreachPlan) -> list[dict]:
    t = plan.lsoas
    rest = t[t["status"].isin(["waiting", "part planned"]) & (t["core20"] | t["plus"] | t["target"])]
    return [{"lsoa_name": str(r["lsoa_name"]), "lsoa_code": str(r["lsoa_code"]),
             "group": _group(r["core20"], r["plus"]),
             "imd_rank": f"{int(r['imd_rank']):,}", "households": _num(r["households"]),
             "households_planned": _num(r["households_planned"]), "reason": str(r["reason"])}
            for _, r in rest.sort_values(["priority_rank"]).iterrows()]


def visit_sheets_html(plan: OutreachPlan, *, scenario: pd.DataFrame | None = None, connector: int | None = None,
                      basemap: str | None = None) -> str:
    """Render a plan as printable HTML: a cover, one A4 page per round (or caseload), and what is not planned.

    Parameters
    ----------
    plan
        From :func:`targeting.outreach.plan_outreach`.
    scenario
        Optional :func:`targeting.outreach.scenario` table, printed at the end.
    connector
        Only this connector's (or worker's) pages.
    basemap
        A key of :data:`BASEMAPS` to draw street tiles under each map; the sheet then needs the internet to
        show them. ``None`` (default): no external resource at all.

    Returns
    -------
    str
        A standalone HTML document; maps are inline SVG. Rendered by
        :func:`targeting.render.sheets.render_visit_sheets`, which escapes every name.
    """
    if basemap is not None and basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {', '.join(BASEMAPS)}, not {basemap!r}")
    pages = []
    r = plan.rounds
    if len(r):
        planned = r[r["planned"]].copy()
        if connector is not None:
            planned = planned[planned["connector"] == int(connector)]
        pieces = plan.pieces.set_index("piece")
        planned["chain_count"] = planned["piece"].map(pieces["chains"])
        planned["short_reason"] = planned["piece"].map(pieces["short"]) if "short" in pieces else ""
        outlines = plan.lsoas[plan.lsoas["lsoa_code"].isin(planned["lsoa_code"])][["lsoa_code", "geometry"]]
        planned = planned.sort_values(["connector", "month", "piece", "stop"], na_position="last")
        for _, piece in planned.groupby(["connector", "piece"], sort=False):
            pages.append(_round_page(plan, piece.sort_values("stop"), outlines, basemap))
    cover, health = _cover(plan)
    kind = ("indicative PCN footprint (LSOAs where the PCN holds most registered residents)"
            if plan.area["kind"] == "pcn" else "integrated care board")
    rows = [] if scenario is None else [
        {"connectors": int(x["connectors"]), "capacity": f"{x['capacity']:g}", "months": f"{x['months']:g}",
         "pct_covered": f"{x['pct_covered']:.1f}%"} for _, x in scenario.iterrows()]
    return render_visit_sheets({
        "title": f"Outreach visit sheets: {plan.area['name']} ({plan.area['code']})",
        "area": {"name": str(plan.area["name"]), "code": str(plan.area["code"]), "kind": kind,
                 "icb_name": str(plan.area.get("icb_name", ""))},
        "reminder": _REMINDER, "warnings": [str(w) for w in plan.warnings], "cover": cover, "hc": health,
        "sources": [str(x) for x in plan.sources], "pages": pages, "not_planned": _not_planned(plan),
        "scenario": rows})
