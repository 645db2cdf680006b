"""A PCN's summary on its Explore page: spine chart, QOF trends, registered population pyramid, and a printable A4.

The figures are drawn as inline SVG inside plain HTML (no script), so the page and the printable summary show the
same drawing, and the summary prints and opens from disk with no internet. Domain logic lives in
:mod:`targeting.spine` and :mod:`targeting.pyramid`; the trends are :func:`targeting.clinical.qof_trend`.
Every figure carries its source and vintage; counts and the shares on them pass the small-number rule
(:mod:`targeting.suppression`); colour never carries meaning alone (each marker has its own shape and a word).
"""

from __future__ import annotations

import base64
import html
import re
from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from app_pages._shared import current_month, get_tables, nice, scope

#: Markers of the spine chart: flag → (fill, stroke, shape, word). Okabe–Ito colours; the shape and the word carry
#: the meaning too.
MARKERS: dict[str, tuple[str, str, str, str]] = {
    "higher": ("#1F3B73", "#000000", "up", "higher than England"),
    "lower": ("#9CCAE8", "#000000", "down", "lower than England"),
    "similar": ("#F0E442", "#000000", "circle", "similar to England"),
    "better": ("#009E73", "#000000", "diamond", "better than England"),
    "worse": ("#D55E00", "#000000", "square", "worse than England"),
    "not compared": ("#FFFFFF", "#595959", "circle", "not compared"),
}
#: Lines of the trend charts (as the Core20PLUS5 page draws them): colour, dash and point shape.
TREND_LINES = (("value", "#0072B2", "", "circle", "PCN"), ("icb_value", "#D55E00", "6 3", "square", "ICB"),
               ("england_value", "#000000", "2 2", "diamond", "England"))
FEMALE, MALE, RESIDENTS = "#CC79A7", "#0072B2", "#E69F00"
_E = html.escape


def _num(v: object, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if isinstance(v, str):
        return _E(v)
    return f"{float(v):,.{digits}f}"


def _shape(kind: str, x: float, y: float, r: float, fill: str, stroke: str) -> str:
    """One marker as SVG."""
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" stroke="{stroke}" stroke-width="1"/>'
    if kind == "square":
        return (f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{fill}" '
                f'stroke="{stroke}" stroke-width="1"/>')
    pts = {"up": [(0, -1.2), (1.1, 0.8), (-1.1, 0.8)], "down": [(0, 1.2), (1.1, -0.8), (-1.1, -0.8)],
           "diamond": [(0, -1.3), (1.2, 0), (0, 1.3), (-1.2, 0)]}[kind]
    p = " ".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in pts)
    return f'<polygon points="{p}" fill="{fill}" stroke="{stroke}" stroke-width="1"/>'


def _marker_svg(flag: str, size: int = 14) -> str:
    fill, stroke, kind, _ = MARKERS.get(flag, MARKERS["not compared"])
    return (f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" aria-hidden="true">'
            f'{_shape(kind, size / 2, size / 2, size / 2 - 2, fill, stroke)}</svg>')


_SVG_NS = "http://www.w3.org/2000/svg"
_FONT = "Source Sans Pro, Arial, Helvetica, sans-serif"
_SVG = re.compile(r"<svg\b([^>]*)>.*?</svg>", re.S)


def as_images(fragment: str) -> str:
    """The fragment with each inline SVG turned into an ``<img>`` of it (a data URI), its label as ``alt``.

    Streamlit's ``st.html`` removes inline SVG; an image of the same drawing is kept, and reads out its label.
    """
    def img(m: re.Match) -> str:
        attrs = m.group(1)
        alt = re.search(r'aria-label="([^"]*)"', attrs)
        size = " ".join(re.findall(r'\b(?:width|height)="[^"]*"', attrs)[:2])
        svg = m.group(0).replace("<svg", f'<svg xmlns="{_SVG_NS}" font-family="{_FONT}"', 1)
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        return (f'<img {size} alt="{alt.group(1) if alt else ""}" src="data:image/svg+xml;base64,{data}" '
                'style="vertical-align: middle; max-width: 100%; height: auto;">')

    return _SVG.sub(img, fragment)


# ---------------------------------------------------------------------------------------------------------------
# Spine chart
# ---------------------------------------------------------------------------------------------------------------
def _spine_cell(r: pd.Series, shown: pd.Series, width: int = 240, height: int = 22) -> str:
    """The spine of one measure: England at the centre, the ICB's PCN range and quartiles, the PCN's marker."""
    e = float(r["england_value"])
    vals = [r[c] for c in ("icb_min", "icb_max", "value", "icb_value")]
    spread = max([abs(float(v) - e) for v in vals if pd.notna(v)] + [1e-9]) * 1.08
    pad = 8

    def x(v: float) -> float:
        return pad + (width - 2 * pad) * (0.5 + (float(v) - e) / (2 * spread))

    parts = [f'<svg class="spine" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{_E(_spine_words(r, shown))}">']
    if pd.notna(r["icb_min"]):
        parts.append(f'<rect x="{x(r["icb_min"]):.1f}" y="5" width="{max(x(r["icb_max"]) - x(r["icb_min"]), 1):.1f}" '
                     f'height="{height - 10}" fill="#D9D9D9"/>')
        parts.append(f'<rect x="{x(r["icb_q25"]):.1f}" y="5" width="{max(x(r["icb_q75"]) - x(r["icb_q25"]), 1):.1f}" '
                     f'height="{height - 10}" fill="#8C8C8C"/>')
    if pd.notna(r["icb_value"]):
        parts.append(f'<line x1="{x(r["icb_value"]):.1f}" x2="{x(r["icb_value"]):.1f}" y1="2" y2="{height - 2}" '
                     'stroke="#000" stroke-width="1.5" stroke-dasharray="3 2"/>')
    parts.append(f'<line x1="{x(e):.1f}" x2="{x(e):.1f}" y1="0" y2="{height}" stroke="#C00000" stroke-width="2"/>')
    if pd.notna(r["value"]) and shown["value"] != "*":
        fill, stroke, kind, _ = MARKERS.get(str(shown["vs_england"]), MARKERS["not compared"])
        parts.append(_shape(kind, x(r["value"]), height / 2, 6, fill, stroke))
    parts.append("</svg>")
    return "".join(parts)


def _spine_words(r: pd.Series, shown: pd.Series) -> str:
    unit = "" if r["unit"] == "ratio" else "%"
    d = 3 if r["unit"] == "ratio" else 1
    v = "withheld" if shown["value"] == "*" else f"{_num(r['value'], d)}{unit}"
    return (f"{r['label']}: PCN {v} ({shown['vs_england']} compared with England {_num(r['england_value'], d)}{unit});"
            f" ICB {_num(r['icb_value'], d)}{unit}; the ICB's PCNs range from {_num(r['icb_min'], d)} to "
            f"{_num(r['icb_max'], d)}")


def spine_legend() -> str:
    """The spine chart's key: every marker with its shape and word, and the bars and lines."""
    items = "".join(f'<span class="key">{_marker_svg(flag)} {_E(word)}</span>'
                    for flag, (*_, word) in MARKERS.items())
    bars = ('<span class="key"><svg width="34" height="14" aria-hidden="true"><rect x="0" y="2" width="34" '
            'height="10" fill="#D9D9D9"/><rect x="10" y="2" width="14" height="10" fill="#8C8C8C"/></svg> the ICB\'s '
            'PCNs: lowest to highest (light), 25th to 75th percentile (dark)</span>'
            '<span class="key"><svg width="14" height="14" aria-hidden="true"><line x1="7" x2="7" y1="0" y2="14" '
            'stroke="#C00000" stroke-width="2"/></svg> England (centre)</span>'
            '<span class="key"><svg width="14" height="14" aria-hidden="true"><line x1="7" x2="7" y1="0" y2="14" '
            'stroke="#000" stroke-width="1.5" stroke-dasharray="3 2"/></svg> ICB</span>')
    return f'<div class="legend">{items}{bars}</div>'


def spine_html(table: pd.DataFrame, shown: pd.DataFrame) -> str:
    """The spine chart as an HTML table: one row per measure with its figures, a spine and the comparison.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`targeting.spine.spine_table` (exact figures, for drawing).
    shown : pandas.DataFrame
        :func:`targeting.spine.spine_for_output` of it (what is printed as text; withheld cells are ``*``).
    """
    head = ("<tr><th scope='col'>Measure</th><th scope='col'>Period</th><th scope='col'>Count</th>"
            "<th scope='col'>PCN</th><th scope='col'>ICB</th><th scope='col'>England</th>"
            "<th scope='col'>ICB lowest</th><th scope='col'>Spine (England at the centre)</th>"
            "<th scope='col'>ICB highest</th><th scope='col'>Compared with England</th>"
            "<th scope='col'>Compared with ICB</th></tr>")
    rows = []
    for (_, r), (_, s) in zip(table.iterrows(), shown.iterrows(), strict=True):
        d = 3 if r["unit"] == "ratio" else 1
        rows.append(
            f"<tr><th scope='row'>{_E(str(r['label']))}</th><td>{_E(str(r['period']))}</td>"
            f"<td class='n'>{_num(s['count'], 0) if not isinstance(s['count'], str) else _E(s['count'])}</td>"
            f"<td class='n'><b>{_num(s['value'], d)}</b></td><td class='n'>{_num(r['icb_value'], d)}</td>"
            f"<td class='n'>{_num(r['england_value'], d)}</td><td class='n'>{_num(r['icb_min'], d)}</td>"
            f"<td>{_spine_cell(r, s)}</td><td class='n'>{_num(r['icb_max'], d)}</td>"
            f"<td>{_marker_svg(str(s['vs_england']))} {_E(str(s['vs_england']))}</td>"
            f"<td>{_E(str(s['vs_icb']))}</td></tr>")
    # it scrolls sideways on a phone: a keyboard must be able to reach and scroll it (WCAG 2.1.1)
    return (f"<div class='wide' tabindex='0' role='region' aria-label='Spine chart table, scrolls sideways'>"
            f"<table class='spine-table'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>")


def spine_caption(table: pd.DataFrame) -> str:
    """The spine chart's method and sources, in words (one line per source)."""
    phi = table.dropna(subset=["phi_england"])
    hyp = phi[phi["measure"] == "qof_HYP"]
    example = (f" (hypertension: φ = {float(hyp['phi_england'].iloc[0]):.1f} across England's PCNs, "
               f"{float(hyp['phi_icb'].iloc[0]):.1f} across the ICB's)" if len(hyp) else "")
    sources = "; ".join(dict.fromkeys(str(s).rstrip(". ") for s in table["source"]))
    return ("Higher, lower (or better, worse) means outside the 95% funnel limits around England at the PCN's size, "
            "widened for over-dispersion (Spiegelhalter 2005: φ from 10%-winsorised z-scores, limits × √φ where φ > "
            f"1){example}; similar means inside. The ICB column uses the ICB's PCNs the same way. Hypertension "
            "recorded ÷ expected is a ratio: its 95% limits are compared with England. The scale of each row is its "
            "own: England at the centre, the furthest of the ICB's PCNs near the edge; lower values to the left. "
            "QOF rows are crude recorded prevalence (mostly age; not true prevalence). Counts rounded to 5, 1–7 "
            f"withheld (*), NHS Digital's rule. Sources: {sources}.")


# ---------------------------------------------------------------------------------------------------------------
# Trends
# ---------------------------------------------------------------------------------------------------------------
def trend_svg(t: pd.DataFrame, title: str, width: int = 300, height: int = 180) -> str:
    """One register over the QOF years: PCN, ICB and England lines; a year the data does not hold is a gap."""
    left, right, top, bottom = 40, 10, 24, 34
    years = t["qof_year"].tolist()
    vals = pd.concat([t[c] for c, *_ in TREND_LINES] + [t["lower"], t["upper"]]).dropna()
    words = "; ".join(f"{y}: PCN {_num(v, 2)}%, ICB {_num(i, 2)}%, England {_num(e, 2)}%"
                      for y, v, i, e in zip(t["qof_year"], t["value"], t["icb_value"], t["england_value"],
                                            strict=True))
    out = [f'<svg class="trend" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{_E(title)}: {_E(words)}">',
           f'<text x="{left}" y="14" font-size="12" font-weight="bold">{_E(title)}</text>']
    if vals.empty:
        out.append(f'<text x="{left}" y="{height / 2}" font-size="11">no data</text></svg>')
        return "".join(out)
    lo, hi = float(vals.min()), float(vals.max())
    span = max(hi - lo, 0.1)
    lo, hi = max(lo - 0.1 * span, 0), hi + 0.1 * span
    pw, ph = width - left - right, height - top - bottom

    def px(i: int) -> float:
        return left + pw * (i + 0.5) / len(years)

    def py(v: float) -> float:
        return top + ph * (1 - (float(v) - lo) / (hi - lo))

    for k in range(3):
        v = lo + (hi - lo) * k / 2
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#E0E0E0"/>'
                   f'<text x="{left - 4}" y="{py(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.1f}</text>')
    for i, y in enumerate(years):
        out.append(f'<text x="{px(i):.1f}" y="{height - bottom + 14}" font-size="9" text-anchor="middle">'
                   f'{_E(str(y))}</text>')
        if t["status"].iloc[i] != "available":
            out.append(f'<line x1="{px(i):.1f}" x2="{px(i):.1f}" y1="{top}" y2="{top + ph}" stroke="#595959" '
                       f'stroke-dasharray="2 4"/><text x="{px(i):.1f}" y="{height - 6}" font-size="9" '
                       'text-anchor="middle" fill="#595959">not in the data</text>')
    for i, (a, b) in enumerate(zip(t["lower"], t["upper"], strict=True)):
        if pd.notna(a) and pd.notna(b):
            out.append(f'<line x1="{px(i):.1f}" x2="{px(i):.1f}" y1="{py(a):.1f}" y2="{py(b):.1f}" '
                       'stroke="#0072B2" stroke-width="1.5"/>')
    for col, colour, dash, shape, _ in TREND_LINES:
        pts = [(i, v) for i, v in enumerate(t[col]) if pd.notna(v)]
        seg: list[tuple[int, float]] = []
        for i, v in [*pts, (-9, np.nan)]:
            if seg and (i != seg[-1][0] + 1 or np.isnan(v)):
                if len(seg) > 1:
                    d = " ".join(f"{px(j):.1f},{py(w):.1f}" for j, w in seg)
                    out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"'
                               + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
                seg = []
            if not np.isnan(v):
                seg.append((i, v))
        out.extend(_shape(shape, px(i), py(v), 3.5, colour, colour) for i, v in pts)
    out.append("</svg>")
    return "".join(out)


def trend_legend() -> str:
    """The trend charts' key: each line's colour, dash and point shape, and its name."""
    items = []
    for _, colour, dash, shape, name in TREND_LINES:
        line = (f'<line x1="0" x2="30" y1="7" y2="7" stroke="{colour}" stroke-width="2"'
                + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        items.append(f'<span class="key"><svg width="30" height="14" aria-hidden="true">{line}'
                     f'{_shape(shape, 15, 7, 3.5, colour, colour)}</svg> {name}</span>')
    return f'<div class="legend">{"".join(items)}<span class="key">vertical bars: the PCN\'s 95% interval</span></div>'


# ---------------------------------------------------------------------------------------------------------------
# Population pyramid
# ---------------------------------------------------------------------------------------------------------------
def pyramid_svg(table: pd.DataFrame, shown: pd.DataFrame, width: int = 450, row: int = 15) -> str:
    """Registered patients by sex and band (% of the PCN's list) with England's profile as outlines."""
    top, bottom, mid = 26, 30, 46
    bands = table["band"].tolist()
    n = len(bands)
    height = top + bottom + row * n
    half = (width - mid) / 2 - 8
    big = float(np.nanmax(table[["female_pct", "male_pct", "england_female_pct", "england_male_pct"]].to_numpy()))
    scale = half / (np.ceil(big) or 1)
    cx_f, cx_m = (width - mid) / 2, (width + mid) / 2
    words = "; ".join(f"{b}: females {sf}%, males {sm}%" for b, sf, sm in zip(
        bands, shown["female_pct"], shown["male_pct"], strict=True))
    out = [f'<svg class="pyramid" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="Registered patients by age and sex, % of the PCN\'s list: {_E(words)}">',
           f'<text x="{cx_f - 4}" y="14" font-size="12" font-weight="bold" text-anchor="end">Females</text>',
           f'<text x="{cx_m + 4}" y="14" font-size="12" font-weight="bold">Males</text>']
    for k in range(n):
        i = n - 1 - k  # oldest at the top
        y = top + k * row
        out.append(f'<text x="{width / 2:.1f}" y="{y + row - 4}" font-size="10" text-anchor="middle">'
                   f'{_E(bands[i])}</text>')
        for col, ecol, cx, sign, colour in (("female_pct", "england_female_pct", cx_f, -1, FEMALE),
                                           ("male_pct", "england_male_pct", cx_m, 1, MALE)):
            if shown[col].iloc[i] != "*" and pd.notna(table[col].iloc[i]):
                w = float(table[col].iloc[i]) * scale
                out.append(f'<rect x="{cx - w if sign < 0 else cx:.1f}" y="{y + 1}" width="{w:.1f}" '
                           f'height="{row - 2}" fill="{colour}"/>')
            else:
                out.append(f'<text x="{cx + sign * 6:.1f}" y="{y + row - 4}" font-size="10">*</text>')
            ew = float(table[ecol].iloc[i]) * scale
            out.append(f'<rect x="{cx - ew if sign < 0 else cx:.1f}" y="{y + 1}" width="{ew:.1f}" '
                       f'height="{row - 2}" fill="none" stroke="#000" stroke-width="1.2"/>')
    axis_y = top + n * row + 12
    step = max(1, int(np.ceil(big / 4)))
    for v in range(0, int(np.ceil(big)) + 1, step):
        for cx, sign in ((cx_f, -1), (cx_m, 1)):
            out.append(f'<text x="{cx + sign * v * scale:.1f}" y="{axis_y}" font-size="9" text-anchor="middle">'
                       f'{v}%</text>')
    out.append("</svg>")
    return "".join(out)


def ages_svg(table: pd.DataFrame, shown: pd.DataFrame, width: int = 290, row: int = 15) -> str:
    """Registered patients (bars) beside the footprint's Census 2021 residents (diamonds), persons, % by band."""
    left, top, bottom = 46, 26, 30
    n = len(table)
    height = top + bottom + row * n
    big = float(np.nanmax(table[["registered_pct", "residents_pct"]].to_numpy()))
    scale = (width - left - 20) / (np.ceil(big) or 1)
    words = "; ".join(f"{b}: registered {r}%, residents {s}%" for b, r, s in zip(
        table["band"], shown["registered_pct"], shown["residents_pct"], strict=True))
    out = [f'<svg class="ages" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="Age profile, persons, % of each total: {_E(words)}">',
           f'<text x="{left}" y="14" font-size="12" font-weight="bold">Persons, % of each total</text>']
    for k in range(n):
        i = n - 1 - k
        y = top + k * row
        out.append(f'<text x="{left - 4}" y="{y + row - 4}" font-size="10" text-anchor="end">'
                   f'{_E(str(table["band"].iloc[i]))}</text>')
        if shown["registered_pct"].iloc[i] != "*":
            out.append(f'<rect x="{left}" y="{y + 2}" width="{float(table["registered_pct"].iloc[i]) * scale:.1f}" '
                       f'height="{row - 4}" fill="{MALE}" fill-opacity="0.75"/>')
        if shown["residents_pct"].iloc[i] != "*" and pd.notna(table["residents_pct"].iloc[i]):
            out.append(_shape("diamond", left + float(table["residents_pct"].iloc[i]) * scale, y + row / 2, 4.5,
                              RESIDENTS, "#000"))
    axis_y = top + n * row + 12
    step = max(1, int(np.ceil(big / 4)))
    for v in range(0, int(np.ceil(big)) + 1, step):
        out.append(f'<text x="{left + v * scale:.1f}" y="{axis_y}" font-size="9" text-anchor="middle">{v}%</text>')
    out.append("</svg>")
    return "".join(out)


def pyramid_legend() -> str:
    """The pyramid's key."""
    return ('<div class="legend">'
            f'<span class="key"><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" '
            f'fill="{FEMALE}"/></svg> females registered (left)</span>'
            f'<span class="key"><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" '
            f'fill="{MALE}"/></svg> males registered (right); persons registered (right-hand chart)</span>'
            '<span class="key"><svg width="14" height="14" aria-hidden="true"><rect x="1" y="1" width="12" '
            'height="12" fill="none" stroke="#000" stroke-width="1.2"/></svg> England\'s registered patients '
            '(outline)</span>'
            f'<span class="key">{_marker_shape_svg("diamond", RESIDENTS)} residents of the indicative '
            'footprint, Census 2021</span></div>')


def _marker_shape_svg(kind: str, colour: str) -> str:
    return f'<svg width="14" height="14" aria-hidden="true">{_shape(kind, 7, 7, 5, colour, "#000")}</svg>'


# ---------------------------------------------------------------------------------------------------------------
# Data, cached per registration month
# ---------------------------------------------------------------------------------------------------------------
@st.cache_data(show_spinner="Drawing the PCN's spine chart…", max_entries=32)
def _spine(month: str, pcn: str, imd: int, plus_spec: tuple) -> pd.DataFrame:
    from targeting.spine import spine_table

    return spine_table(scope(imd, "pcn", pcn, plus_spec))


@st.cache_data(show_spinner="Reading the PCN's ages…", max_entries=32)
def _pyramid(month: str, pcn: str) -> pd.DataFrame | str:
    from targeting.pyramid import NoQuinAgeError, pyramid_table

    try:
        return pyramid_table(scope(2025, "pcn", pcn))
    except NoQuinAgeError as exc:
        return str(exc)


@st.cache_data(show_spinner="Reading every QOF year…", max_entries=32)
def _trends(month: str, pcn: str) -> dict[str, pd.DataFrame]:
    from targeting.clinical import QOF_REGISTERS, qof_trend

    pcn_scope = scope(2025, "pcn", pcn)
    return {g: qof_trend(pcn_scope, g) for g in QOF_REGISTERS}


def _register_title(group: str) -> str:
    from targeting.clinical import QOF_REGISTERS

    what = QOF_REGISTERS[group].split(",")[0].split(" (")[0].replace(" register", "")
    return f"{what}, crude %" if what.upper() == group else f"{what} ({group}), crude %"


def trends_html(trends: dict[str, pd.DataFrame]) -> str:
    """Every register's trend chart, side by side."""
    order = ["HYP", "DM", "COPD", "AST", "MH", "CAN", "EP", "LD"]
    cells = [trend_svg(trends[g], _register_title(g)) for g in order if g in trends]
    return f'<div class="trends">{"".join(cells)}</div>'


def trends_caption(trends: dict[str, pd.DataFrame]) -> str:
    """Sources and method of the trends."""
    from targeting.clinical import CAVEAT

    t = next(iter(trends.values()))
    srcs = "; ".join(dict.fromkeys(s.split("; ")[0] for tt in trends.values()
                                   for s in tt.loc[tt["status"] == "available", "source"]))
    gap = ", ".join(f"QOF {y}" for y in t.loc[t["status"] == "not bundled", "qof_year"])
    return (f"Recorded prevalence, crude (register ÷ list of the register's age base), QOF {t['qof_year'].iloc[0]} to "
            f"{t['qof_year'].iloc[-1]}: the PCN's member practices of the practice → PCN map of "
            f"{t.attrs.get('practice_map', '')} in every year, its ICB and England (every practice in each year's "
            "file)." + (f" {gap}: not in the data, a gap, never interpolated." if gap else "") + f" {CAVEAT} "
            f"Sources: {srcs}.")


def pyramid_caption(table: pd.DataFrame) -> str:
    """Sources and method of the pyramid."""
    a = table.attrs
    return (f"Registered patients: {a.get('source', '')} (extract {a.get('extract_date', '')}); "
            f"{int(table['registered'].sum()):,} patients, the PCN's list size. "
            f"England: {a.get('england_source', '')}. "
            f"Residents: {a.get('residents_source', '')}; {int(a.get('residents', 0)):,} residents. Registered "
            "patients include people living outside the footprint, and residents include people registered "
            "elsewhere. Shares from counts of 1–7 are withheld (*).")


# ---------------------------------------------------------------------------------------------------------------
# The printable summary
# ---------------------------------------------------------------------------------------------------------------
#: Styles of the summary, scoped to it (the page shows it inside the app).
CSS = """
.pcn-summary { color: #1a1a1a; font-size: 13px; }
.pcn-summary h1 { font-size: 19px; margin: 0 0 2px; } .pcn-summary h2 { font-size: 14px; margin: 12px 0 4px; }
.pcn-summary .sub { color: #404040; margin: 0 0 6px; }
.pcn-summary .headline { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 6px 0; }
.pcn-summary .headline div { border-left: 3px solid #0072B2; padding: 0 6px; }
.pcn-summary .headline b { display: block; font-size: 15px; }
.pcn-summary table.spine-table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
.pcn-summary table.spine-table th, .pcn-summary table.spine-table td { border-bottom: 1px solid #d0d0d0;
  padding: 2px 4px; text-align: left; vertical-align: middle; }
.pcn-summary table.spine-table thead th { background: #f0f0f0; }
.pcn-summary table.spine-table td.n { text-align: right; white-space: nowrap; }
.pcn-summary table.spine-table tbody th { font-weight: normal; max-width: 280px; }
.pcn-summary .legend { display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 4px 0; font-size: 0.92em; }
.pcn-summary .legend .key { display: inline-flex; align-items: center; gap: 4px; }
.pcn-summary .wide { overflow-x: auto; }
.pcn-summary .trends { display: flex; flex-wrap: wrap; gap: 4px 10px; }
.pcn-summary .pyramids { display: flex; flex-wrap: wrap; gap: 10px 24px; align-items: flex-start; }
.pcn-summary .source { color: #404040; font-size: 0.85em; margin: 3px 0 8px; }
"""
#: Styles of the printable page only: A4, no print button on paper, each figure kept on one page.
PRINT_CSS = """
body { font-family: Arial, Helvetica, sans-serif; margin: 0; } .pcn-summary { font-size: 10.5px; }
.pcn-summary svg.spine { width: 130px; height: auto; } .pcn-summary table.spine-table td { white-space: nowrap; }
.pcn-summary table.spine-table tbody th { min-width: 150px; }
.noprint { margin: 8px 0; } .noprint button { font-size: 14px; padding: 6px 12px; }
@page { size: A4; margin: 10mm; }
@media print { .noprint { display: none; } body { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section { break-inside: avoid; } section.trends-page { break-before: page; } }
"""


def summary_body(name: str, code: str, icb: str, headline: list[tuple[str, str]], spine: pd.DataFrame,
                 spine_shown: pd.DataFrame, trends: dict[str, pd.DataFrame] | None,
                 pyramid: pd.DataFrame | str, month: str) -> str:
    """The summary's HTML (no ``<html>`` wrapper): headline figures, spine chart, trends and pyramid, each with
    its sources. Every name is escaped."""
    from targeting.pyramid import pyramid_for_output

    heads = "".join(f"<div>{_E(k)}<b>{_E(v)}</b></div>" for k, v in headline)
    parts = [f"<div class='pcn-summary'><h1>{_E(name)} ({_E(code)})</h1>",
             f"<p class='sub'>{_E(icb)} · NHS as of {_E(month)} · PCN footprints are indicative · made "
             f"{date.today():%d %B %Y}</p><div class='headline'>{heads}</div>",
             "<section><h2>Spine chart: the PCN against its ICB's PCNs and England</h2>", spine_legend(),
             spine_html(spine, spine_shown), f"<p class='source'>{_E(spine_caption(spine))}</p></section>"]
    if trends:
        parts += ["<section class='trends-page'><h2>QOF registers over the years</h2>", trend_legend(),
                  trends_html(trends), f"<p class='source'>{_E(trends_caption(trends))}</p></section>"]
    parts.append("<section><h2>Registered population by age and sex, beside the footprint's residents</h2>")
    if isinstance(pyramid, str):
        parts.append(f"<p>{_E(pyramid)}</p>")
    else:
        shown = pyramid_for_output(pyramid)
        parts += [pyramid_legend(), "<div class='pyramids'>", pyramid_svg(pyramid, shown), ages_svg(pyramid, shown),
                  "</div>", f"<p class='source'>{_E(pyramid_caption(pyramid))}</p>"]
    parts.append("</section><p class='source'>Open Government Licence v3.0: NHS England, ONS, MHCLG. Contains "
                 "National Statistics data © Crown copyright and database right 2025.</p></div>")
    return "".join(parts)


def summary_document(body: str, title: str) -> str:
    """A standalone A4 HTML page of the summary, with a button that opens the browser's print dialog."""
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_E(title)}</title><style>{CSS}{PRINT_CSS}</style></head><body>"
            "<div class='noprint'><button type='button' onclick='window.print()'>Print or save as PDF (A4)</button>"
            "</div>" + body + "</body></html>")


def _headline(spine: pd.DataFrame, shown: pd.DataFrame, list_size: int, practices: int, aged: int | None,
              month: str) -> list[tuple[str, str]]:
    by = dict(zip(spine["measure"], shown["value"], strict=True))
    out = [(f"Registered patients ({month})", f"{list_size:,}"), ("Member practices", f"{practices}")]
    if aged:
        out.append(("Registered aged 40–74", f"{aged:,}"))
    for key, word in (("core20_pct", "Living in Core20 neighbourhoods"), ("plus_pct", "Living in PLUS neighbourhoods"),
                      ("pct_minority", "Ethnic minority communities (est.)"),
                      ("qof_HYP", "Hypertension recorded (crude)")):
        if key in by:
            out.append((word, "*" if by[key] == "*" else f"{float(by[key]):.1f}%"))
    return out


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Columns mixing numbers and ``*`` as text, so the grid shows them as published (no Arrow fallback)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else
                      (f"{v:,}" if isinstance(v, int) else str(v)) for v in out[c]]
    return out


def render_pcn_summary(code: str, name: str, imd: int, plus_spec: tuple) -> None:
    """The PCN summary section of the Explore page: spine chart, trends, pyramid and the printable A4 summary."""
    from targeting.spine import spine_for_output

    month = current_month()
    a = get_tables()
    st.subheader("PCN summary: spine chart, trends and population", anchor="pcn-summary")
    try:
        spine = _spine(month, code, int(imd), plus_spec)
    except LookupError as exc:
        st.error(str(exc.args[0] if exc.args else exc))
        return
    shown = spine_for_output(spine)
    row = a.pcns[a.pcns["pcn_code"] == code].iloc[0]
    headline = _headline(spine, shown, int(row["list_size"]), int(row["practices"]),
                         int(row.get("registered_40_74", 0) or 0), a.month.title)
    st.html(f"<style>{CSS}</style>")
    st.markdown("**Spine chart**: each measure of the PCN against the range of its ICB's PCNs and England")
    st.html(as_images(f"<div class='pcn-summary'>{spine_legend()}{spine_html(spine, shown)}</div>"))
    st.caption(spine_caption(spine))
    with st.expander("The spine chart as a table (CSV)"):
        from targeting.publish import table_csv

        cols = ["measure", "label", "period", "count", "denominator", "value", "lower", "upper", "icb_value",
                "england_value", "icb_min", "icb_q25", "icb_median", "icb_q75", "icb_max", "icb_pcns", "vs_england",
                "vs_icb", "funnel_england", "funnel_icb", "phi_england", "phi_icb", "method", "source"]
        st.dataframe(_as_text(shown[cols[:20]]), hide_index=True, width="stretch")
        st.download_button("Download the spine chart (CSV)", table_csv(shown[cols]).encode("utf-8"),
                           file_name=f"spine_{code}_imd{imd}.csv", mime="text/csv", key="pcn_spine_download")

    st.markdown("**Trends**: each QOF register over the QOF years, beside the ICB and England")
    trends = _trends(month, code)
    st.html(as_images(f"<div class='pcn-summary'>{trend_legend()}{trends_html(trends)}</div>"))
    st.caption(trends_caption(trends))

    st.markdown("**Registered population pyramid**, beside the residents of the PCN's indicative footprint")
    pyramid = _pyramid(month, code)
    if isinstance(pyramid, str):
        st.info(f"{pyramid}. Choose a month with one in the sidebar's “NHS as of” (July 2026 here).")
    else:
        from targeting.pyramid import pyramid_for_output

        pshown = pyramid_for_output(pyramid)
        st.html(as_images(f"<div class='pcn-summary'>{pyramid_legend()}<div class='pyramids'>"
                          f"{pyramid_svg(pyramid, pshown)}{ages_svg(pyramid, pshown)}</div></div>"))
        st.caption(pyramid_caption(pyramid))
        with st.expander("The pyramid as a table"):
            st.dataframe(_as_text(pshown), hide_index=True, width="stretch")

    body = summary_body(nice(name), code, nice(str(row["icb_name"])), headline, spine, shown, trends, pyramid,
                        a.month.title)
    doc = summary_document(body, f"PCN summary: {nice(name)} ({code})")
    st.download_button("Print the PCN summary (A4 HTML: open it, then Print or save as PDF)", doc.encode("utf-8"),
                       file_name=f"pcn_summary_{code}.html", mime="text/html", key="pcn_summary_print",
                       icon=":material/print:",
                       help="A one-file summary that opens in any browser with no internet: the headline figures, "
                            "the spine chart, the trends and the pyramid, each with its sources. Its Print button "
                            "opens the browser's print dialog (A4), where you can also save it as a PDF.")
