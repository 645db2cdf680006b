"""Printable visit sheets: a cover, then one A4 page per connector and month (or per worker's caseload).

Each page lists the postcodes in walking order with about how many households, draws an offline map and says why
each neighbourhood was chosen.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from targeting.outreach import OutreachPlan

__all__ = ["BASEMAPS", "round_map_svg", "svg_map", "visit_sheets_html"]

#: Street basemaps a user may choose for the printed maps (drawn only when chosen, and only when online):
#: name → (tile URL template, attribution).
BASEMAPS: dict[str, tuple[str, str]] = {
    "OpenStreetMap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
}

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
.round h2 { margin-bottom: 2pt; } .round table td, .round table th { font-size: 8pt; padding: 1.5pt 3pt; }
.warn { border-left: 3pt solid #D55E00; padding: 3pt 6pt; background: #fdf1ea; margin: 6pt 0; }
.tick { width: 10mm; }
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


def _merc(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = 6378137.0
    lat = np.clip(lat, -85.0, 85.0)
    return r * np.radians(lon), r * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def _tiles(basemap: str, minx: float, miny: float, maxx: float, maxy: float, scale: float, h: float) -> str:
    """``<image>`` tiles of a web basemap covering a Web Mercator extent (drawn only when a basemap is chosen)."""
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
            href = escape(url.format(z=z, x=i, y=j), quote=True)
            out.append(f'<image href="{href}" x="{(x0 - minx) * scale:.1f}" y="{(maxy - y0) * scale:.1f}" '
                       f'width="{size * scale + 0.5:.1f}" height="{size * scale + 0.5:.1f}" opacity="0.85"/>')
    return "".join(out)


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
        An ``<svg>`` element in Web Mercator (north is up), so tiles, when chosen, line up exactly.
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
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
           f'viewBox="0 0 {w:.1f} {h:.1f}" role="img"><title>{escape(title)}</title>',
           f'<rect width="{w:.1f}" height="{h:.1f}" fill="#fbfbf8"/>']
    if basemap is not None:
        out.append(_tiles(basemap, minx, miny, maxx, maxy, scale, h))
    if geoms is not None:
        box = shapely.box(minx, miny, maxx, maxy)
        for code, g in zip(outlines["lsoa_code"], shapely.simplify(geoms.to_numpy(), 1.0 / scale), strict=True):
            g = g.intersection(box)
            if g.is_empty:
                continue
            out.append(f'<path d="{_path(g, minx, maxy, scale)}" fill="#56B4E9" fill-opacity="0.10" '
                       'stroke="#0072B2" stroke-width="1.4" stroke-dasharray="5 3" fill-rule="evenodd"/>')
            lp = g.representative_point()
            out.append(f'<text x="{(lp.x - minx) * scale:.1f}" y="{(maxy - lp.y) * scale:.1f}" font-size="9" '
                       f'fill="#0072B2" text-anchor="middle" stroke="#fff" stroke-width="2.5" paint-order="stroke">'
                       f'{escape(str(code))}</text>')
    sx, sy = (px - minx) * scale, (maxy - py) * scale
    if len(sx) > 1:
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(sx, sy, strict=True))
        out.append(f'<polyline points="{pts}" fill="none" stroke="#555" stroke-width="1" stroke-dasharray="2 2"/>')
    placed: list[tuple[float, float]] = []
    for a, b, n in zip(sx, sy, stops["stop"], strict=True):
        # Postcodes a few metres apart would hide each other's numbers: move the marker aside on a leader line.
        x, y, tries = a, b, 0
        while any((x - u) ** 2 + (y - v) ** 2 < 17 ** 2 for u, v in placed) and tries < 12:
            tries += 1
            r = 17 * (1 + tries // 6)
            x, y = a + r * np.cos(tries * np.pi / 3), b + r * np.sin(tries * np.pi / 3)
        if tries:
            out.append(f'<line x1="{a:.1f}" y1="{b:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#D55E00" '
                       f'stroke-width="1"/><circle cx="{a:.1f}" cy="{b:.1f}" r="2" fill="#D55E00"/>')
        placed.append((x, y))
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="#D55E00" stroke="#fff" stroke-width="1.5"/>'
                   f'<text x="{x:.1f}" y="{y:.1f}" font-size="9" font-weight="bold" fill="#fff" '
                   f'text-anchor="middle" dominant-baseline="central">{int(n)}</text>')
    ground = (maxx - minx) * k
    bar = _scale_bar(ground)
    bar_px = bar / k * scale
    label = f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m"
    out.append(f'<rect x="6" y="{h - 26:.1f}" width="{bar_px + 16:.1f}" height="22" fill="#fff" opacity="0.8"/>'
               f'<line x1="14" y1="{h - 10:.1f}" x2="{14 + bar_px:.1f}" y2="{h - 10:.1f}" stroke="#000" '
               f'stroke-width="2.5"/><text x="14" y="{h - 14:.1f}" font-size="9">{label}</text>')
    ax = w - 22
    out.append(f'<g aria-label="north arrow"><rect x="{ax - 12:.1f}" y="4" width="24" height="40" fill="#fff" '
               f'opacity="0.8"/><path d="M{ax:.1f},10 L{ax + 7:.1f},30 L{ax:.1f},25 L{ax - 7:.1f},30 Z" '
               f'fill="#000"/><text x="{ax:.1f}" y="41" font-size="10" font-weight="bold" '
               f'text-anchor="middle">N</text></g>')
    out.append("</svg>")
    return "".join(out)


def _count(n: float, one: str, many: str | None = None) -> str:
    n = int(n)
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _sources_html(plan: OutreachPlan) -> str:
    items = "".join(f"<li>{escape(s)}</li>" for s in plan.sources)
    return f'<ul class="small">{items}</ul>'


_REMINDER = ("This plan is a starting point for conversations with communities and voluntary-sector partners. "
             "It is not a verdict on the people who live in these neighbourhoods: the figures describe places "
             "and the structural causes of inequality, and low recorded numbers are not low need.")


def _warnings_html(plan: OutreachPlan) -> str:
    return "".join(f'<div class="warn">{escape(w)}</div>' for w in plan.warnings)


def _cover(plan: OutreachPlan) -> str:
    s = plan.settings
    t = plan.lsoas
    caseload = s.get("mode") == "caseload"
    c20 = int(t["core20"].sum())
    plus = int(t["plus"].sum())
    targets = int(t["target"].sum())
    planned = int((t["status"] == "planned").sum())
    part = int((t["status"] == "part planned").sum())
    waiting = int((t["status"] == "waiting").sum())
    kind = "indicative PCN footprint (LSOAs where the PCN holds most registered residents)" \
        if plan.area["kind"] == "pcn" else "integrated care board"
    c20p_hh = _num(t.loc[t["core20"] | t["plus"], "households"].sum())
    need = plan.workers_needed
    if caseload:
        model = (f"<b>Caseload</b> (community health and wellbeing worker model): each worker keeps one "
                 f"neighbourhood of about {s['capacity_per_month']:g} households and visits every household every "
                 f"month. {_count(s['connectors'], 'worker')} hold the {min(s['connectors'], len(plan.pieces))} "
                 f"highest-priority neighbourhoods.")
        cover_txt = (f"Workers needed to cover every Core20 household: <b>{need.get('core20', 0):,}</b>; every "
                     f"Core20 and PLUS household ({c20p_hh} households): <b>{need.get('core20plus', 0):,}</b>.")
    else:
        model = (f"<b>Campaign</b>: each target household is visited once. Each connector has one round a month of "
                 f"about {s['capacity_per_month']:g} households (postcodes in walking order) for "
                 f"{s['months']:g} months.")
        mtc = plan.months_to_cover
        cover_txt = (f"Visiting every Core20 and PLUS household ({c20p_hh} households) with "
                     f"{_count(s['connectors'], 'connector')} at {s['capacity_per_month']:g} households a month "
                     f"would take about <b>{mtc} months</b> ({need.get('core20plus', 0):,} rounds)." if mtc else
                     "There are no Core20 or PLUS households in this area.")
    weights = ", ".join(f"{escape(k)} {v:g}" for k, v in s["weights"].items())
    order = escape(str(s.get("order_words", "")))
    hc = s.get("health_check", {})
    return f"""<section class="sheet">
<h1>Outreach plan: {escape(str(plan.area['name']))}</h1>
<p>{escape(str(plan.area['code']))} · {escape(kind)} · {escape(str(plan.area.get('icb_name', '')))}</p>
<div class="note">{escape(_REMINDER)}</div>
{_warnings_html(plan)}
<p>{model}</p>
<p><b>{len(t)}</b> neighbourhoods (LSOA 2021) in the area; <b>{c20}</b> Core20 (national IMD {s['imd']} deciles 1–2),
<b>{plus}</b> PLUS ({escape(str(s['plus_rules']))}); <b>{targets}</b> targets. <b>{planned}</b> are planned in full,
<b>{part}</b> in part, and <b>{waiting}</b> wait for more capacity (listed at the end with the reason).</p>
<p>{cover_txt}</p>
<p>Order: {order}.{'' if s.get('order') == 'deprivation' else ' Priority weights: ' + weights + '.'}
{' Score cut ' + escape(f"{s['score_cut']:g}") + '.' if s['score_cut'] is not None else ''}</p>
<p class="small">Postcodes: OS Code-Point Open placed in their LSOA 2021; households per postcode are <b>about</b>:
each LSOA's Census 2021 households shared equally among its postcodes (Code-Point Open has no address counts), so a
street of flats and one of houses get the same share. Rounds keep to one LSOA or neighbouring ones; a round that
tops up from a second area says so. Health checks: residents aged 40–74 are an upper bound of those eligible for
an NHS Health Check (people with existing cardiovascular disease or diagnosed hypertension are not eligible).
Expected new hypertension diagnoses from NHS Health Checks = aged 40–74 × {1 - hc.get('already_diagnosed', 0):.2f}
not already diagnosed × uptake {hc.get('uptake', 0):.1%} ({hc.get('uptake_low', 0):.1%}–{hc.get('uptake_high', 0):.1%})
× {hc.get('detection', 0) * 1000:g} new diagnoses per 1,000 checks. Undiagnosed hypertension (adults 16+) is
modelled (PHE 2016 expected prevalence minus QOF 2022-23 registers): it is not the number a health check finds.</p>
<h2>Sources and vintages</h2>{_sources_html(plan)}
</section>"""


def _round_page(plan: OutreachPlan, piece: pd.DataFrame, outlines: pd.DataFrame, basemap: str | None) -> str:
    t = plan.lsoas.set_index("lsoa_code")
    caseload = plan.settings.get("mode") == "caseload"
    first = piece.iloc[0]
    c = int(first["connector"])
    head = (f"Worker {c} · standing neighbourhood (visit every household every month)" if caseload else
            f"Connector {c} · month {int(first['month'])}")
    codes = list(pd.unique(piece["lsoa_code"]))
    hh = int(piece["households_est"].sum())
    rows = []
    for _, r in piece.iterrows():
        part = ("" if r["households_est"] == r["postcode_households"] else
                f" <span class='small'>(part: about {int(r['households_est'])} of {int(r['postcode_households'])})"
                "</span>")
        lsoa = t.loc[r["lsoa_code"]]
        group = " · ".join(x for x, on in (("Core20", r["core20"]), ("PLUS", r["plus"])) if on)
        rows.append(f"<tr><td class='n'>{int(r['stop'])}</td><td><b>{escape(str(r['postcode']))}</b></td>"
                    f"<td class='n'>about {int(r['households_est'])}{part}</td>"
                    f"<td>{escape(str(lsoa['lsoa_name']))}<br><span class='small'>{escape(str(r['lsoa_code']))}"
                    f"</span></td><td>{escape(group)}</td><td class='tick'></td><td></td></tr>")
    why = "".join(f"<li><b>{escape(str(t.loc[code, 'lsoa_name']))}</b> ({escape(code)}): "
                  f"{escape(str(t.loc[code, 'why']))}</li>" for code in codes)
    joins = "" if int(piece["chain_count"].iloc[0]) <= 1 else (
        "<p class='small'><b>This round joins two areas</b> so that no month is left short while targets wait; "
        "the stops are still in walking order.</p>")
    title = f"{head}: {len(piece)} postcodes in walking order"
    svg = round_map_svg(piece, outlines[outlines["lsoa_code"].isin(codes)], title=title, basemap=basemap)
    attribution = ("Map: numbered points are postcodes (OS Code-Point Open) in walking order; dashed outlines are "
                   "LSOAs (ONS LSOA December 2021 BSC). Contains OS data © Crown copyright and database right 2025; "
                   "Contains Royal Mail data © Royal Mail copyright and database right 2025.")
    if basemap is not None:
        attribution += f" Street basemap: {BASEMAPS[basemap][1]} (needs the internet)."
    return f"""<section class="sheet round">
<h2>{escape(head)} · {escape(str(plan.area['name']))}</h2>
<p><b>{len(piece)}</b> postcodes, about <b>{hh:,}</b> households, in {_count(len(codes), 'neighbourhood')}
(LSOA 2021). Households per postcode are about: the LSOA's Census 2021 households shared among its postcodes.</p>
{joins}{svg}
<p class="small">{escape(attribution)}</p>
<table><thead><tr><th>#</th><th>Postcode</th><th>Households</th><th>Neighbourhood (LSOA)</th><th>Group</th>
<th>Done</th><th>Notes</th></tr></thead><tbody>{''.join(rows)}</tbody></table>
<p class="small"><b>Why these neighbourhoods:</b></p><ul class="small">{why}</ul>
<p class="small">{escape(_REMINDER)}</p>
</section>"""


def _not_planned_section(plan: OutreachPlan) -> str:
    t = plan.lsoas
    rest = t[t["status"].isin(["waiting", "part planned"]) & (t["core20"] | t["plus"] | t["target"])]
    rest = rest.sort_values(["priority_rank"])
    if rest.empty:
        return ""
    rows = "".join(
        f"<tr><td>{escape(str(r['lsoa_name']))}<br><span class='small'>{escape(str(r['lsoa_code']))}</span></td>"
        f"<td>{'Core20' if r['core20'] else ''}{' · ' if r['core20'] and r['plus'] else ''}"
        f"{'PLUS' if r['plus'] else ''}</td><td class='n'>{int(r['imd_rank']):,}</td>"
        f"<td class='n'>{_num(r['households'])}</td><td class='n'>{_num(r['households_planned'])}</td>"
        f"<td class='small'>{escape(str(r['reason']))}</td></tr>"
        for _, r in rest.iterrows())
    return f"""<section class="sheet">
<h2>Core20 and PLUS neighbourhoods not in this plan yet</h2>
<p>Every target neighbourhood of the area not fully covered by this plan, with the reason, in priority order.
More connectors, more capacity or a longer horizon bring them in: the scenario table (the app's Scenarios
option, or <code>targets --scenario</code>) shows how many.</p>
<table><thead><tr><th>Neighbourhood</th><th>Group</th><th>IMD rank</th><th>Households</th><th>Planned</th>
<th>Reason</th></tr></thead><tbody>{rows}</tbody></table>
<p class="small">{escape(_REMINDER)}</p>
</section>"""


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
        A standalone HTML document; maps are inline SVG. Every name is HTML-escaped.
    """
    if basemap is not None and basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {', '.join(BASEMAPS)}, not {basemap!r}")
    parts = [_cover(plan)]
    r = plan.rounds
    if len(r):
        planned = r[r["planned"]].copy()
        if connector is not None:
            planned = planned[planned["connector"] == int(connector)]
        chains = plan.pieces.set_index("piece")["chains"]
        planned["chain_count"] = planned["piece"].map(chains)
        outlines = plan.lsoas[plan.lsoas["lsoa_code"].isin(planned["lsoa_code"])][["lsoa_code", "geometry"]]
        planned = planned.sort_values(["connector", "month", "piece", "stop"], na_position="last")
        for _, piece in planned.groupby(["connector", "piece"], sort=False):
            parts.append(_round_page(plan, piece.sort_values("stop"), outlines, basemap))
    parts.append(_not_planned_section(plan))
    if scenario is not None and len(scenario):
        body = "".join(f"<tr><td class='n'>{int(x['connectors'])}</td><td class='n'>{x['capacity']:g}</td>"
                       f"<td class='n'>{x['months']:g}</td><td class='n'>{x['pct_covered']:.1f}%</td></tr>"
                       for _, x in scenario.iterrows())
        parts.append(f"""<section class="sheet"><h2>Scenarios: share of Core20 and PLUS residents reached</h2>
<table><thead><tr><th>Connectors</th><th>Households per connector per month</th><th>Months</th>
<th>Core20 and PLUS residents reached</th></tr></thead><tbody>{body}</tbody></table>
<p class="small">{escape(_REMINDER)}</p></section>""")
    title = escape(f"Outreach visit sheets: {plan.area['name']} ({plan.area['code']})")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n")
