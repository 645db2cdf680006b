"""Core20PLUS5 widgets shared by Explore, the Core20PLUS5 page and Your data: the summary lines and Fingertips picks.

Only widgets and caching live here; the summary is :func:`targeting.clinical.summary` and the Fingertips reading is
:mod:`targeting.fingertips`. Uploaded exports stay in the session (``st.session_state``), never on disk.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._shared import get_atlas, plain_md, scope
from targeting.publish import table_csv

_SESSION_KEY = "fingertips_exports"  # {filename: bytes}, shared by Your data and the Core20PLUS5 page


def md_text(text: str) -> str:
    """Text from a file (indicator names, file names) shown as itself in Markdown: no links, emphasis or maths."""
    return plain_md(text)  # the one escaper (app_pages._shared): also neutralises control characters


def remember_export(filename: str, data: bytes) -> None:
    """Keep a Fingertips export for this session, so the Core20PLUS5 summary can use it."""
    st.session_state.setdefault(_SESSION_KEY, {})[filename] = data


def remembered_exports() -> dict[str, bytes]:
    """The Fingertips exports given in this session."""
    return dict(st.session_state.get(_SESSION_KEY, {}))


@st.cache_data(show_spinner=False, max_entries=16, scope="session")  # a user's file dies with their session
def _read(data: bytes, filename: str):
    from targeting.fingertips import read_fingertips

    return read_fingertips(data, filename=filename)


def pick_indicator(data: bytes, filename: str, *, key: str):
    """Selectors for indicator, period, sex, age and category (from what the file holds) and the clinical area.

    Returns the selected :class:`targeting.fingertips.FingertipsIndicator`, or ``None`` after showing the file's
    problem (file, field and row).
    """
    from geo._errors import ValidationError
    from targeting.clinical import AREAS
    from targeting.fingertips import FingertipsExport, choices, clinical_area, select

    try:
        export = _read(data, filename)
    except ValidationError as exc:
        st.error(md_text(str(exc)))
        return None
    ch = choices(export)
    c1, c2, c3 = st.columns([3, 1, 1])
    ind = c1.selectbox("Indicator", ch["indicator"], key=f"{key}_ind")
    sub = FingertipsExport(filename, export.rows[export.rows["indicator_id"] == ind.split(": ", 1)[0]])
    ch = choices(sub)
    period = c2.selectbox("Period", ch["period"], key=f"{key}_period")
    sex = c3.selectbox("Sex", ch["sex"], key=f"{key}_sex")
    rows = sub.rows[(sub.rows["period"] == period) & (sub.rows["sex"] == sex)]
    ch2 = choices(FingertipsExport(filename, rows)) if len(rows) else ch
    c4, c5, c6 = st.columns([1, 2, 2])
    age = c4.selectbox("Age", ch2["age"], key=f"{key}_age")
    rows = rows[rows["age"] == age]
    cats = choices(FingertipsExport(filename, rows))["category"] if len(rows) else [""]
    category = c5.selectbox("Category", cats, key=f"{key}_cat", format_func=lambda c: c or "all (no category)")
    try:
        chosen = select(export, indicator=ind, period=period, sex=sex, age=age, category=category)
    except ValidationError as exc:
        st.error(md_text(str(exc)))
        return None
    guess = clinical_area(chosen.name)
    keys = [*AREAS, ""]
    area = c6.selectbox("Core20PLUS5 area", keys, index=keys.index(guess or ""), key=f"{key}_area",
                        format_func=lambda k: AREAS[k].name if k else "none of the areas")
    chosen.area = area or None
    if not chosen.has_counts:
        st.warning(f"{md_text(filename)}: {' '.join(chosen.notes)}")
    return chosen


def spec(ind) -> tuple:
    """What identifies a chosen indicator, hashable for the cache: file, indicator, period, sex, age, category, area."""
    return (ind.filename, ind.indicator_id, ind.period, ind.sex, ind.age, ind.category, ind.area or "")


def _summary(kind: str, code: str, imd: int, specs: tuple, blobs: tuple, qof_year: str | None,
             month: str) -> pd.DataFrame:
    """The summary, cached for every session when it holds open data only, and for this session alone when it
    holds a user's Fingertips files (kept in memory, never on disk, and gone when the session ends)."""
    made = _summary_own if blobs else _summary_open
    return made(kind, code, imd, specs, blobs, qof_year, month)


@st.cache_data(show_spinner="Summarising the Core20PLUS5 areas…", max_entries=32)
def _summary_open(kind: str, code: str, imd: int, specs: tuple, blobs: tuple, qof_year: str | None,
                  month: str) -> pd.DataFrame:
    return _make_summary(kind, code, imd, specs, blobs, qof_year, month)


@st.cache_data(show_spinner="Summarising the Core20PLUS5 areas…", max_entries=8, scope="session")
def _summary_own(kind: str, code: str, imd: int, specs: tuple, blobs: tuple, qof_year: str | None,
                 month: str) -> pd.DataFrame:
    return _make_summary(kind, code, imd, specs, blobs, qof_year, month)


def _make_summary(kind: str, code: str, imd: int, specs: tuple, blobs: tuple, qof_year: str | None,
                  month: str) -> pd.DataFrame:
    from targeting.clinical import summary
    from targeting.fingertips import select

    del month  # part of the cache key only: the atlas of another registration month has other PCN members
    inds = []
    for (filename, ind, period, sex, age, category, area), data in zip(specs, blobs, strict=True):
        chosen = select(_read(data, filename), indicator=ind, period=period, sex=sex, age=age, category=category)
        chosen.area = area or None
        inds.append(chosen)
    return summary(scope(imd, kind, code), fingertips=inds, qof_year=qof_year)


def qof_year_choices() -> list[str]:
    """The QOF years in the atlas, newest first (the first is the default)."""
    from targeting.clinical import qof_years

    return qof_years(get_atlas())[::-1]


def clinical_table(kind: str, code: str, imd: int, indicators: list | tuple = (),
                   qof_year: str | None = None) -> pd.DataFrame:
    """The summary of a practice, PCN or ICB (cached), with the chosen Fingertips indicators of this session.

    ``qof_year`` chooses the QOF year of the register rows (default the newest in the atlas, QOF 2024-25).
    """
    from targeting.clinical import practice_map_label

    files = remembered_exports()
    specs = tuple(spec(i) for i in indicators if i.filename in files)
    return _summary(kind, code, imd, specs, tuple(files[s[0]] for s in specs), qof_year,
                    practice_map_label(get_atlas()))


@st.cache_data(show_spinner="Reading every QOF year…", max_entries=64)
def _trend(kind: str, code: str, register: str, month: str) -> pd.DataFrame:
    from targeting.clinical import qof_trend

    del month  # cache key only, as for _summary
    return qof_trend(scope(2025, kind, code), register)


def trend_table(kind: str, code: str, register: str) -> pd.DataFrame:
    """:func:`targeting.clinical.qof_trend` of a practice, PCN or ICB (cached per registration month)."""
    from targeting.clinical import practice_map_label

    return _trend(kind, code, register, practice_map_label(get_atlas()))


#: Lines of the trend chart: colour, line style and point shape each tell them apart (Okabe–Ito colours, 3:1 or more
#: against white).
_SERIES = (("value", "#0072B2", [1, 0], "circle"), ("icb_value", "#D55E00", [6, 3], "square"),
           ("england_value", "#000000", [2, 2], "diamond"))


def _trend_long(t: pd.DataFrame) -> pd.DataFrame:
    """The trend as one row per year and line; ``segment`` counts the missing years before a row, so a line is
    drawn only between years next to each other in the data and breaks at a year the data does not hold."""
    gaps = (t["status"] != "available").cumsum().to_numpy()
    names = {"value": str(t.attrs.get("name", "this area")), "icb_value": "its ICB", "england_value": "England"}
    frames = []
    for col, *_ in _SERIES:
        if t[col].notna().any():
            frames.append(pd.DataFrame({"qof_year": t["qof_year"], "line": names[col], "value": t[col],
                                        "lower": t["lower"] if col == "value" else float("nan"),
                                        "upper": t["upper"] if col == "value" else float("nan"),
                                        "segment": gaps, "status": t["status"]}))
    return pd.concat(frames, ignore_index=True)


def _trend_display(t: pd.DataFrame) -> pd.DataFrame:
    """The trend as text for the screen: % to 2 decimals, counts whole, "–" where there is no value."""
    def text(v, fmt: str) -> str:
        return "–" if v is None or pd.isna(v) else format(v, fmt)

    shown = pd.DataFrame({"QOF year": t["qof_year"], "status": t["status"]})
    for col, title in (("value", "%"), ("lower", "lower 95%"), ("upper", "upper 95%"), ("icb_value", "ICB %"),
                       ("england_value", "England %")):
        if t[col].notna().any() or col == "value":
            shown[title] = [text(v, ".2f") for v in t[col]]
    for col, title in (("register", "on register"), ("list_size", "list size")):
        shown[title] = [text(v, ",.0f") for v in t[col]]
    shown["practices with data"] = [f"{int(k)} of {int(m)}" if pd.notna(m) else f"{int(k)}"
                                    for k, m in zip(t["practices"], t["member_practices"], strict=True)]
    shown["list"] = t["list_type"]
    shown["note"] = t["note"]
    return shown


def render_trend(kind: str, code: str, *, key: str) -> None:
    """One QOF register over every QOF year: chart (the missing year a gap), table and the CSV download."""
    import altair as alt

    from targeting.clinical import CAVEAT, QOF_REGISTERS

    choices = {g: what.split(",")[0].split(" (")[0] for g, what in QOF_REGISTERS.items()}
    register = st.selectbox("Register", list(choices), key=f"{key}_register", index=list(choices).index("HYP"),
                            format_func=lambda g: f"{choices[g]} ({g})")
    t = trend_table(kind, code, register)
    long = _trend_long(t)
    years = t["qof_year"].tolist()
    shown = long[long["value"].notna()]
    lines = list(dict.fromkeys(long["line"]))
    style = [s for s in _SERIES if t[s[0]].notna().any()]  # the lines drawn, in the order of _trend_long
    colour = alt.Color("line:N", title=None, sort=lines,
                       scale=alt.Scale(domain=lines, range=[c for _, c, _, _ in style]))
    dash = alt.StrokeDash("line:N", title=None, sort=lines,
                          scale=alt.Scale(domain=lines, range=[d for _, _, d, _ in style]))
    shape = alt.Shape("line:N", title=None, sort=lines, scale=alt.Scale(domain=lines, range=[s for *_, s in style]))
    x = alt.X("qof_year:O", title="QOF year", scale=alt.Scale(domain=years), axis=alt.Axis(labelAngle=0))
    y = alt.Y("value:Q", title=f"crude recorded prevalence, % ({register})", scale=alt.Scale(zero=False))
    tip = [alt.Tooltip("line:N", title="line"), alt.Tooltip("qof_year:O", title="QOF year"),
           alt.Tooltip("value:Q", format=".2f", title="%"), alt.Tooltip("lower:Q", format=".2f", title="lower 95%"),
           alt.Tooltip("upper:Q", format=".2f", title="upper 95%")]
    base = alt.Chart(shown)
    path = base.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, strokeDash=dash,
                                                detail=alt.Detail(["line:N", "segment:O"]))
    points = base.mark_point(filled=True, size=70).encode(x=x, y=y, color=colour, shape=shape, tooltip=tip)
    bars = base.transform_filter("isValid(datum.lower)").mark_rule(color="#0072B2", strokeWidth=1.5).encode(
        x=x, y="lower:Q", y2="upper:Q")
    missing = t.loc[t["status"] != "available", ["qof_year"]].assign(label="not in the data")
    chart = path + bars + points
    if len(missing):
        chart += alt.Chart(missing).mark_rule(color="#595959", strokeDash=[2, 4]).encode(x=x)
        chart += alt.Chart(missing).mark_text(color="#595959", baseline="top", dy=4, fontSize=12).encode(
            x=x, y=alt.value(0), text="label:N")
    name = str(t.attrs.get("name", ""))
    st.altair_chart(chart.properties(height=300, title=f"{name}: {choices[register]}, crude recorded prevalence "
                                                       "by QOF year"), width="stretch")
    gap_years = ", ".join(f"QOF {y}" for y in missing["qof_year"])
    members = ("" if kind == "practice" else f"Practices: those of the practice → PCN map of "
               f"{t.attrs.get('practice_map', '')}, the same for every year (no later QOF year has a geography "
               "mapping of its own). ")
    st.caption(f"Dots with Wilson 95% intervals; dashed line its ICB, dotted line England (all practices in each "
               f"year's file). {members}"
               + (f"{gap_years}: not in the data, shown as a gap and never interpolated. " if gap_years else "")
               + "Crude: not adjusted for age (the adjusted recorded ÷ expected exists for QOF 2022-23 only, the "
                 "year the detection gaps are modelled on). " + CAVEAT)
    out = t.copy()
    st.dataframe(_trend_display(out), hide_index=True, width="stretch", key=f"{key}_table")
    sources = "; ".join(dict.fromkeys(out.loc[out["status"] == "available", "source"].str.split("; ").str[0]))
    st.caption(f"Sources: {md_text(sources)}. OGL v3.")
    st.download_button(f"Download the {register} trend (CSV)", table_csv(out).encode("utf-8"),
                       file_name=f"qof_trend_{register}_{kind}_{code}.csv", mime="text/csv", key=f"{key}_download")


def _fmt(v, unit: str) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if isinstance(v, str):
        return md_text(v)
    if unit == "people":
        return f"{v:,.0f}"
    if unit == "ratio":
        return f"{v:.2f}"
    return f"{v:.1f}{'%' if unit == '%' else ''}"


def render_lines(table: pd.DataFrame, *, compact: bool = False) -> None:
    """One line per clinical area: its adjusted measure with CI, ICB, England and the gradient, then the crude one;
    or where to get the data (for early cancer diagnosis, first of all, that the tool holds no staging data)."""
    from targeting.clinical import AREAS, CAVEAT, NO_AGE_RATES, for_output

    shown = for_output(table)
    lines = []
    for key, area in AREAS.items():
        rows = table[table["area_key"] == key]
        avail = rows[rows["status"] == "available"]
        staging = rows[rows["kind"] == "no staging data"]
        user = avail[avail["user_data"].astype(bool) & avail["value"].notna()]  # a blank upload hides nothing
        if len(staging) and not len(user):
            lines.append(_no_staging_line(area.name, staging.iloc[0], compact=compact))
            continue
        if avail.empty:
            b = rows.iloc[0]
            if compact:
                lines.append(f"- **{area.name}**: *no data in the tool* — [where to get it]({b['where']})")
                continue
            lines.append(f"- **{area.name}** — *no data in the tool*: {md_text(b['measure'])}. Get it from "
                         f"[{md_text(b['source'])}]({b['where']}).")
            continue
        r = (user if len(user) else avail).iloc[0]
        text = f"- **{area.name}** — " + _figure(r, shown.loc[r.name], compact=compact)
        if r["kind"] == "adjusted":
            crude = avail[avail["kind"] == "crude"]
            if len(crude):
                c = crude.iloc[0]
                eng = f", England {_fmt(c['england_value'], '%')}" if pd.notna(c["england_value"]) else ""
                text += (f" · crude {_fmt(c['value'], '%')}{eng} ({md_text(str(c['period']))})" if compact else
                         f" · crude recorded prevalence (not age-adjusted) {_fmt(c['value'], '%')}{eng}, "
                         f"*{md_text(str(c['period']))}*")
        if len(staging):
            text += f" · *no staging data in the tool* ([where to get it]({staging.iloc[0]['where']}))"
        more = len(rows) - 1 - (r["kind"] == "adjusted" and (avail["kind"] == "crude").any())
        if more > 0 and not compact:
            text += f" · {more} more measure{'s' if more > 1 else ''} in the table below"
        lines.append(text)
    st.markdown("\n".join(lines))
    a = table.attrs
    qof = f"QOF {a.get('qof_year', '')} (registers)"
    if a.get("gap_qof_year") and a.get("gap_qof_year") != a.get("qof_year"):
        qof += f", QOF {a['gap_qof_year']} (detection gaps)"
    st.caption("Each area leads with its adjusted measure, recorded ÷ expected (1 = as many people on the register "
               "as expected for the population; for hypertension, age-adjusted by PHE's modelled prevalence); the "
               "crude recorded prevalence follows, not adjusted for age, so a young population shows a low figure. "
               + ("" if compact else NO_AGE_RATES + " ")
               + f"{CAVEAT} ICB and England values pool all their practices. Gradient: slope index of inequality "
               "across the ICB's practices grouped by the deprivation of where their patients live (percentage "
               "points; positive = higher in less deprived practices), for proportions in ICBs with at least 10 "
               "practices with data. Higher or lower is not better or worse in itself. Sources: NHS England / NHS "
               f"Digital {qof} and QOF 2021-22 (diabetes achievement); PHE 2016 hypertension estimates; practice → "
               f"PCN map {a.get('practice_map', '')}; your Fingertips exports (OHID), small numbers withheld. OGL v3.")


def _figure(r: pd.Series, s: pd.Series, *, compact: bool) -> str:
    """A measure's value with its CI, ICB, England, gradient and period (``s``: the figures as published)."""
    u = r["unit"]
    measure = r["short"] if compact else r["measure"]
    text = f"{md_text(measure)}: **{_fmt(s['value'], u)}**"
    if not isinstance(s["value"], str) and pd.notna(r["lower"]):
        text += f" (95% CI {_fmt(s['lower'], u)}–{_fmt(s['upper'], u)})"
    if pd.notna(r["icb_value"]):
        text += f" · ICB {_fmt(r['icb_value'], u)}"
    if pd.notna(r["england_value"]):
        text += f" · England {_fmt(r['england_value'], u)}"
    if pd.notna(r["sii"]):
        text += f" · gradient (SII) {r['sii']:+.1f} points"
        if not compact:
            text += f" ({r['sii_lower']:+.1f} to {r['sii_upper']:+.1f})"
    return text + f" · *{md_text(str(r['period']))}*"


def _no_staging_line(name: str, row: pd.Series, *, compact: bool) -> str:
    """Early cancer diagnosis: the tool holds no staging data, and where stage at diagnosis is published."""
    from targeting.clinical import NO_STAGING

    if compact:
        return f"- **{name}**: *no staging data in the tool* — [where to get it]({row['where']})"
    return (f"- **{name}** — *no staging data in the tool*: {md_text(NO_STAGING)} "
            f"[NDRS: where to get it]({row['where']}). The cancer register's crude prevalence (people ever "
            "diagnosed, not the stage) is in the table below.")


def render_table(table: pd.DataFrame, *, key: str, filename: str) -> None:
    """Every measure as a table, and the download (the same CSV as ``python -m targeting clinical``)."""
    from targeting.clinical import for_output

    out = for_output(table)
    st.dataframe(out.astype(str).replace({"nan": "", "None": "", "<NA>": ""}), hide_index=True, width="stretch",
                 key=f"{key}_table")
    st.download_button("Download the Core20PLUS5 summary (CSV)", table_csv(out).encode("utf-8"), file_name=filename,
                       mime="text/csv", key=f"{key}_download")


def fingertips_section(data: bytes, filename: str, *, rule, imd: int) -> None:
    """Your data, for a Fingertips export: choose, map the practices, aggregate to PCNs and the ICB, slot the area."""
    from app_pages._your_data import show_results
    from targeting.clinical import AREAS, practice_map_label
    from targeting.fingertips import file_icbs
    from targeting.yourdata import FINGERTIPS_FILE, file_name, fingertips_tables

    remember_export(filename, data)
    st.success(f"{md_text(filename)} is a **Fingertips export**, read as published. Choose what to show from "
               "what the file holds.")
    ind = pick_indicator(data, filename, key="yd_ft")
    if ind is None:
        st.stop()
    a = get_atlas()
    area = AREAS[ind.area].name if ind.area else None
    st.markdown(f"**{md_text(ind.label)}**, {md_text(ind.period)} ({md_text(ind.unit)}): "
                f"{len(ind.practices):,} GP practice rows, {len(ind.pcns):,} PCN rows"
                + (f", England {ind.england['value']:.1f}" if ind.england and pd.notna(ind.england['value']) else "")
                + ". " + (f"Core20PLUS5 area: **{area}** — it is added to the summary on the Core20PLUS5 page for "
                          "any PCN or ICB in this session."
                          if area else "It fits none of the Core20PLUS5 areas (choose one above to add it)."))
    st.page_link("app_pages/core20plus5.py", label="Open the Core20PLUS5 summary (keeps this session's files)",
                 icon="➡️")
    month = practice_map_label(a)
    known = ind.practices["code"].isin(a.practices["practice_code"])
    if (~known).any():
        st.warning(f"{int((~known).sum())} practice code(s) are not in the {month} GP registrations (closed, merged "
                   "or new) and cannot be mapped or summed: "
                   + md_text(", ".join(ind.practices.loc[~known, "code"].head(10))))
    icbs = file_icbs(ind, a)
    if icbs.empty:
        st.info(f"None of the practices is in an English ICB of {month}.")
        st.stop()
    names = a.icbs.drop_duplicates("icb_code_nhs").set_index("icb_code_nhs")["icb_name"]
    icb = st.selectbox("ICB", list(icbs.index), key="yd_ft_icb",
                       format_func=lambda c: f"{names.get(c, c)} ({icbs[c]} practices in the file)")
    st.subheader("PCNs and the ICB")
    # practices, PCNs, ICB, Core20: one model
    session = fingertips_tables(ind, scope(imd, "icb", icb), rule=rule)
    table = session.pcns
    st.dataframe(table.drop(columns="source").astype(str).replace({"nan": "", "None": ""}), hide_index=True,
                 width="stretch", key="yd_ft_pcns")
    summed = f"Count and Denominator of member practices summed ({month} practice → PCN map); "
    st.caption(f"{summed if ind.has_counts else 'a PCN row published in the file is used as it is; '}small "
               "numbers withheld together with the practice table (so no practice can be worked out from a PCN or "
               f"the ICB), values and limits from the published counts. Source: {ind.source}.")
    st.download_button("Download the PCN and ICB values (CSV)", table_csv(table).encode("utf-8"),
                       file_name=file_name(FINGERTIPS_FILE, rule), mime="text/csv", key="yd_ft_dl")
    if not ind.has_counts or not ind.proportion:
        st.info("The map and the Core20 comparison need a percentage with Count and Denominator for each practice; "
                "this indicator has " + ("no counts." if not ind.has_counts else f"values {ind.unit}."))
        return
    # the practices as an upload: the same suppressed tables, map and downloads as any upload (and `yourdata`)
    show_results(session.upload, session.tables, filename=filename, label=ind.name[:60], rule=rule, imd=imd)
