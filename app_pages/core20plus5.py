"""Core20PLUS5: where a PCN, ICB or practice stands on each clinical area, with Fingertips exports brought in."""

from __future__ import annotations

import streamlit as st

from app_pages._clinical import (
    clinical_table,
    md_text,
    pick_indicator,
    qof_year_choices,
    remember_export,
    remembered_exports,
    render_lines,
    render_table,
    render_trend,
)
from app_pages._shared import KIND_WORDS, area_picker

st.title("Core20PLUS5 clinical areas")
st.write("One line per clinical area — five for adults, five for children and young people, and learning "
         "disability as a PLUS group — from the QOF registers and detection gaps the tool holds, plus any "
         "**Fingertips export** you bring (cancer screening, flu vaccination, SMI health checks…), then each "
         "register's trend over every QOF year. Each area leads with its **adjusted** measure, recorded ÷ "
         "expected; the **crude** recorded prevalence, which mostly reflects the age of a population, follows it.")

with st.sidebar:
    imd = st.radio("IMD edition (deprivation groups of practices)", [2025, 2019], horizontal=True, key="c5_imd")
    years = qof_year_choices()
    qof_year = st.selectbox("QOF year of the registers", years, key="c5_qof",
                            help="The newest is the default. QOF 2023-24 is not in the data.") if years else None

area = area_picker(key="c5_search", kinds=("pcn", "icb", "practice"))

files = st.file_uploader("Fingertips exports (optional): the CSV that Fingertips' “Export data” writes, unchanged, "
                         "at GP practice level", type=["csv"], accept_multiple_files=True, key="c5_files")
for f in files or []:
    remember_export(f.name, f.getvalue())
chosen = []
for i, (name, data) in enumerate(remembered_exports().items()):
    with st.expander(f"Fingertips export: {name}", expanded=True):
        ind = pick_indicator(data, name, key=f"c5_ft{i}")
        if ind is not None:
            chosen.append(ind)
st.caption("Your files stay in this session on the machine running the app: not saved, not sent anywhere.")

if area is None:
    st.info("Search for a PCN (e.g. *Bradford City 4* or U37316), an ICB or a practice above.")
    st.stop()

try:
    table = clinical_table(area.kind, area.code, int(imd), chosen, qof_year=qof_year)
except (LookupError, ValueError) as exc:
    st.error(md_text(str(exc.args[0] if exc.args else exc)))
    st.stop()

st.subheader(f"{KIND_WORDS[area.kind]}: {area.name}")
a = table.attrs
st.caption(f"ICB: {md_text(a.get('icb_name', ''))}. Practices of {a.get('practice_map', '')} (practice → PCN map); "
           f"registers QOF {a.get('qof_year', '')}; detection gaps QOF {a.get('gap_qof_year', '')}.")
render_lines(table)
for label in table.attrs.get("unplaced", []):
    st.warning(f"“{md_text(label)}” fits none of the Core20PLUS5 areas: choose its area above to add it.")
with st.expander("Every measure", expanded=False):
    render_table(table, key="c5", filename=f"core20plus5_{area.kind}_{area.code}.csv")

st.subheader("Trend by QOF year")
st.write("One register's crude recorded prevalence (not age-adjusted) in every QOF year the tool holds, beside its "
         "ICB and England.")
try:
    render_trend(area.kind, area.code, key="c5_trend")
except (LookupError, ValueError) as exc:
    st.error(md_text(str(exc.args[0] if exc.args else exc)))
