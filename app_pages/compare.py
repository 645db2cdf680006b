"""Compare places: an ICB's PCNs side by side with intervals, a funnel plot and the SII — not a league table."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app_pages._shared import (
    area_picker,
    current_month,
    edition_radio,
    nice,
    plus_controls,
    scope,
)
from targeting.publish import table_csv

st.title("Compare places")
st.write("The PCNs of an ICB side by side on one measure, each with its 95% confidence interval where the measure "
         "has one (a count, or the Core20 change between editions, has none), against the ICB "
         "and England. PCNs are listed **from most to least deprived**, never ranked by their result: this is not "
         "a league table. Differences mostly reflect the populations a PCN serves; use them to ask questions and "
         "to share resources proportionately to need, not to blame. Registers come **adjusted first** (recorded ÷ "
         "expected); crude recorded prevalence, which mostly reflects the age of a population, is there too, "
         "labelled crude.")

with st.sidebar:
    imd = edition_radio("IMD edition", key="cmp_imd")
    plus_spec = plus_controls(key="cmp_plus")

area = area_picker(key="compare_search")
if area is None:
    st.info("Search for an ICB (or a PCN or practice, to see it among its ICB's PCNs).")
    st.stop()

from targeting.compare import (  # noqa: E402
    DEFAULT_METRIC,
    METRICS,
    compare_pcns,
    funnel_limits,
    ratio_funnel_limits,
)

# Adjusted measures first (recorded ÷ expected), then the crude prevalences they adjust, then the population measures.
ADJUSTED = {"hyp_ratio": "Hypertension: recorded ÷ expected (age-adjusted)",
            "dm_ratio": "Diabetes: recorded ÷ expected (adjusted for age, deprivation, ethnic mix)",
            "mh_ratio": "Severe mental illness: recorded ÷ expected (adjusted for age, deprivation, ethnic mix)",
            "copd_ratio": "COPD: recorded ÷ expected (adjusted for age, deprivation, ethnic mix)",
            "ast_ratio": "Asthma: recorded ÷ expected (adjusted for age, deprivation, ethnic mix)",
            "ld_ratio": "Learning disability: recorded ÷ expected (adjusted for age, deprivation, ethnic mix)"}
QOF = {"qof_HYP": "QOF crude recorded prevalence: hypertension (%)",
       "qof_DM": "QOF crude recorded prevalence: diabetes (%)",
       "qof_MH": "QOF crude recorded prevalence: severe mental illness (%)",
       "qof_COPD": "QOF crude recorded prevalence: COPD (%)", "qof_AST": "QOF crude recorded prevalence: asthma (%)",
       "qof_LD": "QOF crude recorded prevalence: learning disability (%)"}
labels = ADJUSTED | QOF | {k: v[2] for k, v in METRICS.items()}
# The default (DEFAULT_METRIC, hypertension recorded ÷ expected) is adjusted for age and has a slope index of
# inequality (the Core20 share has none: it would be circular).
url_metric = str(st.query_params.get("measure", ""))
if "cmp_metric" not in st.session_state:
    st.session_state["cmp_metric"] = url_metric if url_metric in labels else DEFAULT_METRIC
metric = st.selectbox("Measure", list(labels), format_func=labels.get, key="cmp_metric")
if url_metric != metric:
    st.query_params["measure"] = metric  # a shared link reopens on this measure


adjust = st.toggle("Allow for over-dispersion in the funnel", value=True, key="cmp_overdispersion",
                   help="PCNs with tens of thousands of patients differ more than chance alone allows (case mix, "
                        "coding). Spiegelhalter's method (2005), as Fingertips and NHS England's SHMI use, widens "
                        "the binomial limits by the factor estimated from the PCNs themselves. Off: plain binomial "
                        "limits, which flag almost every large PCN.")


@st.cache_data(show_spinner="Comparing PCNs…", max_entries=32)
def _compare(month: str, icb: str, metric: str, imd: int, spec: tuple,
             funnel: str) -> tuple[pd.DataFrame, dict]:
    return compare_pcns(scope(imd, "icb", icb, spec), metric=metric, funnel=funnel)


try:
    table, summary = _compare(current_month(), area.icb_nhs, metric, int(imd), plus_spec,
                              "overdispersed" if adjust else "binomial")
except (LookupError, ValueError) as exc:
    st.error(str(exc.args[0] if exc.args else exc))
    st.stop()

st.subheader(f"PCNs of {summary['icb_name']}")
st.caption(f"**{summary['label']}**. " + summary.get("adjustment", ""))
highlight = area.code if area.kind == "pcn" else None
unit = summary.get("unit", "")
ratio = unit == "ratio"
fmt = ".2f" if ratio else ".1f"  # a ratio near 0.5 needs two decimals; percentages and scores one
# short enough for a phone's chart; the full label is above the charts
axis_title = ("recorded ÷ expected" if ratio else "crude recorded prevalence (%)" if metric.lower().startswith("qof_")
              else labels.get(metric, summary["label"]))
t = table.assign(pcn=table["pcn_name"].map(nice), chosen=table["pcn_code"].eq(highlight) if highlight else False,
                 order=np.arange(len(table)))
src = f"Source: {summary.get('source', '')}. Order: {summary.get('order', '')}."

# One row per PCN, its name written above its dot: the names take no width from the plot, so the chart stays
# readable on a phone (with names on the axis, a 390 px screen left the dots a single line).
ROW = 38
y = alt.Y("pcn:N", sort=alt.SortField("order"), title=None, axis=None, scale=alt.Scale(paddingOuter=0.3))
dot_base = alt.Chart(t).encode(y=y)
names = dot_base.mark_text(align="left", baseline="bottom", dy=-3, fontSize=12, color="#333333").encode(
    x=alt.value(0), text="pcn:N")
dots = dot_base.mark_point(filled=True, size=60, yOffset=7).encode(
    x=alt.X("value:Q", title=labels.get(metric, summary["label"]), scale=alt.Scale(zero=False),
            axis=alt.Axis(orient="top", labelFlush=True)),  # the scale where the list starts, however long it is
    color=alt.condition("datum.chosen", alt.value("#D55E00"), alt.value("#0072B2")),
    tooltip=[alt.Tooltip("pcn:N", title="PCN"), alt.Tooltip("value:Q", format=fmt),
             alt.Tooltip("lower:Q", format=fmt, title="lower 95%"),
             alt.Tooltip("upper:Q", format=fmt, title="upper 95%"),
             alt.Tooltip("core20_pct:Q", format=".1f", title="% patients in Core20"),
             alt.Tooltip("vs_icb:N", title="vs ICB"), alt.Tooltip("vs_england:N", title="vs England")])
bars = dot_base.mark_rule(color="#555555", yOffset=7).encode(x=alt.X("lower:Q", scale=alt.Scale(zero=False)),
                                                               x2="upper:Q")
refs = pd.DataFrame({"ref": [f"ICB {summary['icb_value']:{fmt}}", f"England {summary['england_value']:{fmt}}"],
                     "value": [summary["icb_value"], summary["england_value"]]})
rules_ = alt.Chart(refs).mark_rule(strokeDash=[5, 3]).encode(
    x=alt.X("value:Q", scale=alt.Scale(zero=False)),
    color=alt.Color("ref:N", scale=alt.Scale(range=["#009E73", "#CC79A7"]), title=None,
                                 legend=alt.Legend(orient="top")))
st.altair_chart((bars + dots + names + rules_).properties(height=ROW * len(t) + 20), width="stretch")
interval = "Recorded ÷ expected with 95% intervals" if ratio else "Dots with 95% intervals (Wilson)"
st.caption((interval if t["lower"].notna().any() else "Dots (no sampling interval for this measure)")
           + ", one row per PCN, most deprived at the top; dashed lines: ICB and England. " + src)

if t["lower"].notna().any():
    st.markdown("**Funnel plot**: is a PCN further from the ICB value than chance alone would give for its size?")
    n = np.linspace(max(t["denominator"].min() * 0.8, 1), t["denominator"].max() * 1.1, 120)
    phi = float(summary.get("funnel_phi", 1.0))
    if ratio:  # recorded ÷ expected: Poisson limits around the ICB ratio, at each expected count
        scale, lims = 1.0, [ratio_funnel_limits(float(summary["icb_value"]), n, c, phi=phi) for c in (0.95, 0.998)]
    else:
        scale, lims = 100.0, [funnel_limits(float(summary["icb_value"]) / 100, n, c, phi=phi) for c in (0.95, 0.998)]
    (lo95, hi95), (lo998, hi998) = lims
    limits = pd.concat([pd.DataFrame({"n": n, "lo": np.asarray(lo) * scale, "hi": np.asarray(hi) * scale,
                                      "limit": lab})
                        for lo, hi, lab in ((lo95, hi95, "95%"), (lo998, hi998, "99.8%"))])
    # limits as continuous lines: solid 95%, long dashes 99.8% (line style, not colour alone, tells them apart)
    dash = alt.StrokeDash("limit:N", title="funnel limits", scale=alt.Scale(domain=["95%", "99.8%"],
                                                                           range=[[1, 0], [8, 4]]))
    band = alt.Chart(limits).mark_line(color="#444", strokeWidth=1.5).encode(
        x=alt.X("n:Q", title="expected count (size)" if ratio else "patients (denominator)"), y="lo:Q",
        detail="limit:N", strokeDash=dash)
    band_hi = alt.Chart(limits).mark_line(color="#444", strokeWidth=1.5).encode(
        x="n:Q", y="hi:Q", detail="limit:N", strokeDash=dash)
    where = {"within": "within 95%", "outside 95%": "outside 95%", "outside 99.8%": "outside 99.8%"}
    pts = alt.Chart(t.assign(where=t["funnel"].map(where).fillna("not compared"))).mark_point(
        filled=True, size=70, stroke="#000", strokeWidth=0.6).encode(
        x="denominator:Q", y=alt.Y("value:Q", title=axis_title),
        color=alt.Color("where:N", title="PCN", scale=alt.Scale(
            domain=["within 95%", "outside 95%", "outside 99.8%", "not compared"],
            range=["#0072B2", "#E69F00", "#D55E00", "#999999"])),
        shape=alt.Shape("where:N", title="PCN", scale=alt.Scale(
            domain=["within 95%", "outside 95%", "outside 99.8%", "not compared"],
            range=["circle", "square", "triangle-up", "cross"])),
        size=alt.condition("datum.chosen", alt.value(200), alt.value(70)),
        tooltip=["pcn:N", alt.Tooltip("value:Q", format=fmt), alt.Tooltip("denominator:Q", format=",.0f"),
                 "funnel:N"])
    centre = alt.Chart(refs.iloc[[0]]).mark_rule(color="#009E73").encode(y="value:Q")
    st.altair_chart((band + band_hi + centre + pts).properties(height=360), width="stretch")
    st.caption("Funnel limits around the ICB value at each PCN's size"
               + (" (its expected count)" if ratio else "") + ": solid line 95%, dashed 99.8%; "
               f"{summary.get('funnel_method', 'binomial limits')}. Each PCN's colour and shape say where it falls "
               "(the chosen PCN is drawn larger). " + src)

sii = summary.get("sii")
if sii and sii.get("by_quantile"):
    st.markdown("**Slope index of inequality (SII)** across the ICB's deprivation gradient")
    q = pd.DataFrame(sii["by_quantile"])
    chart = alt.Chart(q).mark_bar(color="#56B4E9").encode(
        x=alt.X("quantile:O", title=f"{sii.get('quantiles', 'deciles')} of registered patients by practice "
                                    "deprivation (1 = most deprived)"),
        y=alt.Y("value:Q", title=axis_title), tooltip=["quantile:O", alt.Tooltip("value:Q", format=fmt)])
    st.altair_chart(chart.properties(height=280), width="stretch")
    if not sii.get("note") and pd.notna(sii.get("sii")):
        lo, hi = sii["sii_lower"], sii["sii_upper"]
        if ratio:
            st.write(f"SII = **{sii['sii']:.2f}** in recorded ÷ expected (95% CI {lo:.2f} to {hi:.2f}): the "
                     "modelled difference between the least and the most deprived ends of the ICB's population "
                     "(positive = more of the expected recorded in less deprived practices).")
        else:
            sii_unit = "percentage points" if unit == "%" else unit
            st.write(f"SII = **{sii['sii']:.1f}** {sii_unit} (95% CI {lo:.1f} to {hi:.1f}): the "
                     "modelled difference between the least and the most deprived ends of the ICB's population "
                     "(positive = higher in less deprived practices).")
    else:
        st.caption(f"SII not available: {sii.get('note', '')}")
    st.caption(src)

st.markdown("**Table** (click a column heading to sort)")
cols = ["pcn_code", "pcn", "practices", "weighted_imd_score", "imd_quintile", "core20_pct", "numerator", "denominator",
        "value", "lower", "upper", "icb_value", "england_value", "vs_icb", "vs_england", "funnel", "patients_entered",
        "patients_left", "lsoas_entered", "lsoas_left"]
shown = t[[c for c in cols if c in t.columns]]
dp = 2 if ratio else 1
ci = [f"{lo:.{dp}f}–{hi:.{dp}f}" if pd.notna(lo) else "–" for lo, hi in zip(t["lower"], t["upper"], strict=True)]
num_h, den_h = ("Recorded", "Expected") if ratio else ("Numerator", "Denominator")
value_h = "Recorded ÷ expected" if ratio else ("Crude %" if metric.lower().startswith("qof_") else "Value")
compact = pd.DataFrame({"Code": t["pcn_code"], "PCN": t["pcn"], f"IMD {imd} score": t["weighted_imd_score"].round(1),
                        "% Core20": t["core20_pct"].round(1), num_h: t["numerator"],
                        den_h: t["denominator"].round(0) if ratio else t["denominator"], value_h: t["value"].round(dp),
                        "95% CI": ci, "vs ICB": t["vs_icb"], "vs England": t["vs_england"], "Funnel": t["funnel"]})
px = {"Code": 62, "PCN": 174 if ratio else 190, f"IMD {imd} score": 72, "% Core20": 66, num_h: 76, den_h: 84,
      value_h: 72 if ratio else 56, "95% CI": 86, "vs ICB": 62, "vs England": 76, "Funnel": 96}  # a 1,400 px screen
st.dataframe(compact, hide_index=True, width="stretch",
             column_config={k: st.column_config.Column(width=w) for k, w in px.items()})
st.caption(f"{summary['label']}: ICB {summary['icb_value']:{fmt}}, England {summary['england_value']:{fmt}} "
           f"({unit}). The download has every column (limits, quintiles, comparators).")
download = shown.assign(metric=summary["label"], imd=imd, source=summary.get("source", ""),
                        order=summary.get("order", ""))
st.download_button("Download the comparison (CSV)", table_csv(download).encode("utf-8"),
                   file_name=f"compare_{summary['icb_code_nhs']}_{metric}_imd{imd}.csv", mime="text/csv",
                   key="compare_download")
st.caption("Not a league table: 'higher'/'lower' only say whether the 95% interval excludes the comparator; "
           "whether higher is better depends on the measure. " + src)
