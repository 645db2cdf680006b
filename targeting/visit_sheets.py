"""Printable visit sheets: one A4 section per connector with an offline map, the ordered visits and the reasons."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from targeting.outreach import OutreachPlan

__all__ = ["svg_map", "visit_sheets_html"]

# Colour-blind-safe qualitative palette (Okabe–Ito) for patches.
_PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"]

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
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
           f'viewBox="0 0 {w:.1f} {h:.1f}" role="img"><title>{escape(title)}</title>']
    if context is not None and len(context):
        box = shapely.box(minx, miny, maxx, maxy)
        near = context[context.geometry.intersects(box)]
        for g in shapely.simplify(near.geometry.to_numpy(), tol):
            out.append(f'<path d="{_path(g, minx, maxy, scale)}" fill="#f2f2f2" stroke="#c8c8c8" '
                       'stroke-width="0.6" fill-rule="evenodd"/>')
    groups = {g: _PALETTE[i % len(_PALETTE)] for i, g in enumerate(pd.unique(focus[colour_by].astype(str)))}
    for geom, grp in zip(shapely.simplify(focus.geometry.to_numpy(), tol), focus[colour_by].astype(str),
                         strict=True):
        out.append(f'<path d="{_path(geom, minx, maxy, scale)}" fill="{groups[grp]}" fill-opacity="0.55" '
                   'stroke="#222" stroke-width="0.9" fill-rule="evenodd"/>')
    pts = shapely.point_on_surface(focus.geometry.to_numpy())
    for p, text in zip(pts, focus[label], strict=True):
        if pd.isna(text):
            continue
        x, y = (p.x - minx) * scale, (maxy - p.y) * scale
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" font-weight="bold" text-anchor="middle" '
                   f'dominant-baseline="central" stroke="#fff" stroke-width="3" paint-order="stroke">'
                   f'{escape(str(text))}</text>')
    bar = _scale_bar(maxx - minx)
    bx = 10
    out.append(f'<line x1="{bx}" y1="{h - 12:.1f}" x2="{bx + bar * scale:.1f}" y2="{h - 12:.1f}" stroke="#000" '
               f'stroke-width="2"/><text x="{bx}" y="{h - 16:.1f}" font-size="9">'
               f'{bar / 1000:g} km</text>' if bar >= 1000 else
               f'<line x1="{bx}" y1="{h - 12:.1f}" x2="{bx + bar * scale:.1f}" y2="{h - 12:.1f}" stroke="#000" '
               f'stroke-width="2"/><text x="{bx}" y="{h - 16:.1f}" font-size="9">{bar:g} m</text>')
    out.append("</svg>")
    return "".join(out)


def _scale_bar(span: float) -> float:
    target = span / 5
    for v in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        if v >= target:
            return float(v)
    return 100000.0


_REMINDER = ("This plan is a starting point for conversations with communities and voluntary-sector partners. "
             "It is not a verdict on the people who live in these neighbourhoods: the figures describe places "
             "and the structural causes of inequality, and low recorded numbers are not low need.")


def _count(n: float, one: str, many: str | None = None) -> str:
    n = int(n)
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _cover(plan: OutreachPlan) -> dict:
    s = plan.settings
    t = plan.lsoas
    kind = "indicative PCN footprint (LSOAs where the PCN holds most registered residents)" \
        if plan.area["kind"] == "pcn" else "integrated care board"
    return {
        "kind": kind, "lsoas": len(t), "core20": int(t["core20"].sum()), "plus": int(t["plus"].sum()),
        "targets": int(t["target"].sum()), "patches": len(plan.patches),
        "planned": int((t["status"] == "planned").sum()), "waiting": int((t["status"] == "waiting").sum()),
        "months": f"{s['months']:g}", "months_to_cover": plan.months_to_cover,
        "households": _num(t.loc[t["core20"] | t["plus"], "households"].sum()),
        "connectors_words": _count(s["connectors"], "connector"), "capacity": f"{s['capacity_per_month']:g}",
        "per_connector": f"{s['capacity_per_connector']:,.0f}",
        "weights": ", ".join(f"{k} {v:g}" for k, v in s["weights"].items()),
        "score_cut": None if s["score_cut"] is None else f"{s['score_cut']:g}",
    }


def _connector_section(plan: OutreachPlan, row: pd.Series) -> dict:
    c = int(row["connector"])
    t = plan.lsoas
    mine = t[t["connector"] == c].sort_values("visit_order")
    map_svg = svg_map(mine, context=t, colour_by="patch_id", label="visit_order",
                      title=f"Connector {c}: patches and visit order")
    rows = [{"visit_order": int(r["visit_order"]), "lsoa_name": str(r["lsoa_name"]), "lsoa_code": str(r["lsoa_code"]),
             "patch_id": str(r["patch_id"]), "households": _num(r["households"]), "population": _num(r["population"]),
             "eligible_40_74": _num(r["eligible_40_74"]),
             "expected_hypertension_yield": _num(r["expected_hypertension_yield"]),
             "smi_register": _num(r["smi_register"]), "ld_register": _num(r["ld_register"]), "why": str(r["why"])}
            for _, r in mine.iterrows()]
    return {"connector": c, "patches_words": _count(row["patches"], "patch", "patches"),
            "lsoas_words": _count(row["lsoas"], "neighbourhood"), "households": _num(row["households"]),
            "months_of_work": f"{row['months_of_work']:g}", "load_pct": f"{row['load_pct']:g}",
            "eligible_40_74": _num(row["eligible_40_74"]),
            "expected_hypertension_yield": _num(row["expected_hypertension_yield"]),
            "smi_register": _num(row["smi_register"]), "ld_register": _num(row["ld_register"]),
            "map_svg": map_svg, "rows": rows}


def _not_planned_section(plan: OutreachPlan) -> list[dict]:
    t = plan.lsoas
    rest = t[(t["status"] != "planned") & (t["core20"] | t["plus"] | t["target"])]
    rest = rest.sort_values(["priority_rank"])
    return [{"lsoa_name": str(r["lsoa_name"]), "lsoa_code": str(r["lsoa_code"]),
             "group": " · ".join(g for g, on in (("Core20", r["core20"]), ("PLUS", r["plus"])) if on),
             "score": f"{r['priority_score']:.1f}", "households": _num(r["households"]),
             "patch_id": str(r["patch_id"] or ""), "reason": str(r["reason"])}
            for _, r in rest.iterrows()]


def visit_sheets_html(plan: OutreachPlan, *, scenario: pd.DataFrame | None = None) -> str:
    """Render a plan as printable HTML: a cover, one A4 section per connector, and the neighbourhoods not planned.

    Parameters
    ----------
    plan
        From :func:`targeting.outreach.plan_outreach`.
    scenario
        Optional :func:`targeting.outreach.scenario` table, printed on the cover.

    Returns
    -------
    str
        A standalone HTML document (no external resources; maps are inline SVG drawn from EPSG:27700
        geometry). Every name is HTML-escaped (the template in :mod:`targeting.render.sheets` autoescapes).
    """
    from targeting.render.sheets import render_visit_sheets

    connectors = [_connector_section(plan, row) for _, row in plan.connectors.iterrows() if int(row["lsoas"]) > 0]
    scen = [] if scenario is None else [
        {"connectors": int(r["connectors"]), "capacity": f"{r['capacity']:g}", "months": f"{r['months']:g}",
         "pct_covered": f"{r['pct_covered']:.1f}%"} for _, r in scenario.iterrows()]
    area = {"name": str(plan.area["name"]), "code": str(plan.area["code"]),
            "icb_name": str(plan.area.get("icb_name", ""))}
    return render_visit_sheets({
        "title": f"Outreach visit sheets: {plan.area['name']} ({plan.area['code']})", "area": area,
        "s": plan.settings, "cover": _cover(plan), "sources": [str(x) for x in plan.sources], "reminder": _REMINDER,
        "connectors": connectors, "not_planned": _not_planned_section(plan), "scenario": scen})
