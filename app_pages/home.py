"""Start: England's ICBs by Core20 share, and one way in for each kind of user (a PCN, outreach, an ICS)."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from app_pages._shared import (
    area_picker,
    current_month,
    get_answers,
    get_tables,
    months_held,
    nice,
    scope,
    source_caption,
)


@st.cache_data(show_spinner="Drawing the map of England's ICBs…", max_entries=4)
def _national(month: str) -> dict:
    """The national map and its table: stored at build for the newest month, else computed (a few seconds)."""
    stored = get_answers().national()
    if stored is not None:
        return stored
    from targeting.national import national_answer

    return national_answer(scope(2025, geometry=True))


st.title("Core20PLUS targeting")
month = current_month()
tables = get_tables()
st.write(f"Where the most deprived 20% of England's neighbourhoods are, and who serves them: the NHS of "
         f"{tables.month.title}. Choose where to start.")

nat = _national(month)
col_map, col_go = st.columns([1.1, 1], gap="large")

with col_go:
    st.markdown("### My PCN")
    st.caption("A PCN's neighbourhoods on the map, its Core20 and PLUS patients, gaps and Core20PLUS5, in Explore.")
    # the one search box of Explore (same key: what is typed carries over); a choice opens Explore on it
    area = area_picker(key="explore_search")
    if area is not None:
        st.switch_page("app_pages/explore.py", query_params={area.kind: area.code})
    st.caption("Type part of a name or a code above: a PCN (e.g. *Bradford City* or U37316), or an ICB, local "
               "authority or GP practice.")

    st.markdown("### Plan outreach")
    st.caption("Core20PLUS connectors and health checks: which neighbourhoods first, in monthly rounds of "
               "postcodes, with printable visit sheets.")
    st.page_link("app_pages/outreach.py", label="Plan outreach for a PCN or an ICB", icon="➡️")

    st.markdown("### Compare my ICS")
    st.caption("An ICB's PCNs side by side, ordered by deprivation, with intervals against the ICB and England.")
    icbs = pd.DataFrame(nat["table"]).sort_values("icb_name")
    icb_labels = {r.icb_code: f"{nice(str(r.icb_name))} ({r.icb_code_nhs})" for r in icbs.itertuples()}
    icb = st.selectbox("Choose your ICB (or click it on the map)", list(icb_labels), index=None,
                       format_func=icb_labels.get, placeholder="e.g. West Yorkshire, QWO", key="home_icb")
    if icb:
        st.switch_page("app_pages/compare.py", query_params={"icb": icb})

with col_map:
    st.markdown(f"### Core20 share by ICB, IMD {nat['imd']}")
    svg = nat["svg"]
    held, default = months_held()
    if month != default:  # an ICB's link keeps the month chosen
        svg = svg.replace('href="compare?icb=', f'href="compare?{html.escape("registrations=" + month)}&amp;icb=')
    legend = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;font-size:13px">'
        f'<span style="display:inline-block;width:18px;height:12px;background:{c};border:1px solid #555"></span>'
        f"{html.escape(label)} ({n} ICB{'' if n == 1 else 's'})</div>" for c, label, n in nat["legend"])
    st.markdown(f'<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end" class="c20-home-map">'
                '<style>svg.c20-national{max-width:100%;height:auto}</style>'  # fits a phone's width
                f'<div style="max-width:100%;min-width:0">{svg}</div>'
                '<div role="group" aria-label="Legend: % of residents in Core20 neighbourhoods">'
                f'<div style="font-weight:600;font-size:13px">% of residents living in Core20 neighbourhoods</div>'
                f'<div style="font-size:12px;color:#505050;margin-bottom:4px">Core20: IMD {nat["imd"]} national '
                f"deciles 1–2 · England {nat['england_pct']:.1f}%</div>{legend}</div></div>",
                unsafe_allow_html=True)
    st.caption(f"{len(nat['table'])} ICBs of {tables.month.title}. Hover an ICB for its share; click it to compare "
               "its PCNs.")
    source_caption(nat["source"])
    with st.expander("The map as a table"):
        t = pd.DataFrame(nat["table"])
        st.dataframe(t.assign(icb_name=t["icb_name"].map(nice))[
            ["icb_code", "icb_code_nhs", "icb_name", "lsoas", "core20_lsoas", "residents", "core20_residents",
             "core20_pct"]], hide_index=True, width="stretch", column_config={
                "icb_code": st.column_config.TextColumn("ICB (ONS)"),
                "icb_code_nhs": st.column_config.TextColumn("ICB (NHS)"),
                "icb_name": st.column_config.TextColumn("ICB", width="medium"),
                "lsoas": st.column_config.NumberColumn("LSOAs", format="%d"),
                "core20_lsoas": st.column_config.NumberColumn("Core20 LSOAs", format="%d"),
                "residents": st.column_config.NumberColumn("Residents (Census 2021)", format="%d"),
                "core20_residents": st.column_config.NumberColumn("in Core20 LSOAs", format="%d"),
                "core20_pct": st.column_config.NumberColumn("% in Core20", format="%.1f")})
