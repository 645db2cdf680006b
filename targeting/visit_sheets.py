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

_CSS = """
@page { size: A4; margin: 14mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; color: #111; margin: 0; }
.sheet { page-break-after: always; break-after: page; padding: 0 0 6mm 0; }
.sheet:last-child { page-break-after: auto; break-after: auto; }
h1 { font-size: 16pt; margin: 0 0 4pt 0; } h2 { font-size: 13pt; margin: 0 0 4pt 0; }
p { margin: 3pt 0; } .small { font-size: 8pt; color: #333; }
.note { border-left: 3pt solid #005EB8; padding: 3pt 6pt; background: #f0f4f5; margin: 6pt 0; }
table { border-collapse: collapse; width: 100%; margin-top: 4pt; }
th, td { border: 0.5pt solid #999; padding: 2pt 3pt; text-align: left; vertical-align: top; font-size: 8.5pt; }
th { background: #e8edee; } td.n { text-align: right; white-space: nowrap; }
tr { page-break-inside: avoid; break-inside: avoid; }
svg { display: block; margin: 4pt 0; border: 0.5pt solid #bbb; }
@media screen { body { max-width: 190mm; margin: 10mm auto; } .sheet { border-bottom: 1px dashed #999;
  margin-bottom: 10mm; } }
"""


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


def _sources_html(plan: OutreachPlan) -> str:
    items = "".join(f"<li>{escape(s)}</li>" for s in plan.sources)
    return f'<ul class="small">{items}</ul>'


_REMINDER = ("This plan is a starting point for conversations with communities and voluntary-sector partners. "
             "It is not a verdict on the people who live in these neighbourhoods: the figures describe places "
             "and the structural causes of inequality, and low recorded numbers are not low need.")


def _cover(plan: OutreachPlan) -> str:
    s = plan.settings
    t = plan.lsoas
    c20 = int(t["core20"].sum())
    plus = int(t["plus"].sum())
    targets = int(t["target"].sum())
    planned = int((t["status"] == "planned").sum())
    waiting = int((t["status"] == "waiting").sum())
    weights = ", ".join(f"{escape(k)} {v:g}" for k, v in s["weights"].items())
    kind = "indicative PCN footprint (LSOAs where the PCN holds most registered residents)" \
        if plan.area["kind"] == "pcn" else "integrated care board"
    mtc = plan.months_to_cover
    cover_txt = (f"Visiting every Core20 and PLUS household ({_num(t.loc[t['core20'] | t['plus'], 'households'].sum())}"
                 f" households) with {_count(s['connectors'], 'connector')} at {s['capacity_per_month']:g} "
                 "households a "
                 f"month would take about <b>{mtc} months</b>." if mtc else "There are no Core20 or PLUS "
                 "households in this area.")
    return f"""<section class="sheet">
<h1>Outreach plan: {escape(str(plan.area['name']))}</h1>
<p>{escape(str(plan.area['code']))} · {escape(kind)} · {escape(str(plan.area.get('icb_name', '')))}</p>
<div class="note">{escape(_REMINDER)}</div>
<p><b>{len(t)}</b> neighbourhoods (LSOA 2021) in the area; <b>{c20}</b> Core20 (national IMD {s['imd']} deciles 1–2),
<b>{plus}</b> PLUS ({escape(str(s['plus_rules']))}); <b>{targets}</b> targets in <b>{len(plan.patches)}</b> patches.
<b>{planned}</b> are planned for the next {s['months']:g} months; <b>{waiting}</b> wait for more capacity
(listed at the end with the reason).</p>
<p>{cover_txt}</p>
<p>Connectors: {s['connectors']} · capacity {s['capacity_per_month']:g} households per connector per month ·
horizon {s['months']:g} months, so at most {s['capacity_per_connector']:,.0f} households per connector and per patch.
Priority weights: {weights}{' · score cut ' + escape(f"{s['score_cut']:g}") if s['score_cut'] is not None else ''}.</p>
<p class="small">Priority score (0–100) = weighted sum of: deprivation (national IMD rank), PLUS membership,
estimated people with undiagnosed high blood pressure, registration gap (fewer registered patients than residents)
and size (households). Health-check figures: residents aged 40–74 (NHS Health Check ages; people with existing
cardiovascular disease are not eligible, so this is an upper bound); expected hypertension case-finding yield =
estimated undiagnosed hypertension; SMI and learning-disability registers shared out to where patients live.
The hypertension figures are modelled (PHE 2016 expected prevalence minus QOF 2022-23 registers, per practice,
shared out by residents aged 40–74): they also count people diagnosed but not on a GP register, and are a guide
to where case-finding may find most, not a count of people.</p>
<h2>Sources and vintages</h2>{_sources_html(plan)}
</section>"""


def _count(n: float, one: str, many: str | None = None) -> str:
    n = int(n)
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _connector_section(plan: OutreachPlan, row: pd.Series) -> str:
    c = int(row["connector"])
    t = plan.lsoas
    mine = t[t["connector"] == c].sort_values("visit_order")
    map_svg = svg_map(mine, context=t, colour_by="patch_id", label="visit_order",
                      title=f"Connector {c}: patches and visit order")
    rows = []
    for _, r in mine.iterrows():
        rows.append(
            f"<tr><td class='n'>{int(r['visit_order'])}</td><td>{escape(str(r['lsoa_name']))}<br>"
            f"<span class='small'>{escape(str(r['lsoa_code']))} · patch {escape(str(r['patch_id']))}</span></td>"
            f"<td class='n'>{_num(r['households'])}</td><td class='n'>{_num(r['population'])}</td>"
            f"<td class='n'>{_num(r['eligible_40_74'])}</td><td class='n'>{_num(r['expected_hypertension_yield'])}</td>"
            f"<td class='n'>{_num(r['smi_register'])}</td><td class='n'>{_num(r['ld_register'])}</td>"
            f"<td class='small'>{escape(str(r['why']))}</td></tr>")
    return f"""<section class="sheet">
<h2>Connector {c} · {escape(str(plan.area['name']))}</h2>
<p>{_count(row['patches'], 'patch', 'patches')}, {_count(row['lsoas'], 'neighbourhood')},
{_num(row['households'])} households (about {row['months_of_work']:g} months at
{plan.settings['capacity_per_month']:g} a month; {row['load_pct']:g}% of the
{plan.settings['capacity_per_connector']:,.0f}-household capacity). Health checks: {_num(row['eligible_40_74'])}
residents aged 40–74; about {_num(row['expected_hypertension_yield'])} people with undiagnosed high blood pressure
(modelled);
SMI register about {_num(row['smi_register'])}; learning disability register about {_num(row['ld_register'])}.</p>
{map_svg}
<p class="small">Map: numbers are the visit order; colours are patches; grey shows other neighbourhoods. Boundaries:
ONS LSOA December 2021 (BSC). Contains OS data © Crown copyright and database right 2021.</p>
<table><thead><tr><th>#</th><th>Neighbourhood</th><th>Households</th><th>Residents</th><th>Aged 40–74</th>
<th>Undiagnosed high blood pressure (est.)</th><th>SMI</th><th>LD</th><th>Why this neighbourhood</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<p class="small">{escape(_REMINDER)}</p>
</section>"""


def _not_planned_section(plan: OutreachPlan) -> str:
    t = plan.lsoas
    rest = t[(t["status"] != "planned") & (t["core20"] | t["plus"] | t["target"])]
    rest = rest.sort_values(["priority_rank"])
    if rest.empty:
        return ""
    rows = "".join(
        f"<tr><td>{escape(str(r['lsoa_name']))}<br><span class='small'>{escape(str(r['lsoa_code']))}</span></td>"
        f"<td>{'Core20' if r['core20'] else ''}{' · ' if r['core20'] and r['plus'] else ''}"
        f"{'PLUS' if r['plus'] else ''}</td><td class='n'>{r['priority_score']:.1f}</td>"
        f"<td class='n'>{_num(r['households'])}</td><td>{escape(str(r['patch_id'] or ''))}</td>"
        f"<td class='small'>{escape(str(r['reason']))}</td></tr>"
        for _, r in rest.iterrows())
    return f"""<section class="sheet">
<h2>Core20 and PLUS neighbourhoods not in this plan yet</h2>
<p>Every Core20 and PLUS neighbourhood of the area that has no connector in this plan, with the reason.
More connectors, more capacity or a longer horizon bring them in (see the scenario table).</p>
<table><thead><tr><th>Neighbourhood</th><th>Group</th><th>Score</th><th>Households</th><th>Patch</th>
<th>Reason</th></tr></thead><tbody>{rows}</tbody></table>
<p class="small">{escape(_REMINDER)}</p>
</section>"""


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
        geometry). Every name is HTML-escaped.
    """
    parts = [_cover(plan)]
    for _, row in plan.connectors.iterrows():
        if int(row["lsoas"]) > 0:
            parts.append(_connector_section(plan, row))
    parts.append(_not_planned_section(plan))
    if scenario is not None and len(scenario):
        body = "".join(f"<tr><td class='n'>{int(r['connectors'])}</td><td class='n'>{r['capacity']:g}</td>"
                       f"<td class='n'>{r['months']:g}</td><td class='n'>{r['pct_covered']:.1f}%</td></tr>"
                       for _, r in scenario.iterrows())
        parts.append(f"""<section class="sheet"><h2>Scenarios: share of Core20 and PLUS residents reached</h2>
<table><thead><tr><th>Connectors</th><th>Households per connector per month</th><th>Months</th>
<th>Core20 and PLUS residents reached</th></tr></thead><tbody>{body}</tbody></table>
<p class="small">{escape(_REMINDER)}</p></section>""")
    title = escape(f"Outreach visit sheets: {plan.area['name']} ({plan.area['code']})")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n")
