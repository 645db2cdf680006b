"""Explore: the map of an area's neighbourhoods, with a panel for the area and the LSOA or practice clicked."""

from __future__ import annotations

import html

import streamlit as st

from app_pages._shared import (
    KIND_WORDS,
    aged_40_74,
    area_map_payload,
    area_picker,
    change_csv,
    edition_radio,
    footprint_lsoas,
    gap_figures,
    get_tables,
    nice,
    pcn_profiles,
    pct_ci,
    plus_controls,
    practice_panel,
    practice_profiles,
    scope,
    source_caption,
)
from geo.editions import EDITIONS
from geo.vintage import MERGE_RULE
from targeting.publish import table_csv

st.title("Explore Core20PLUS neighbourhoods")

with st.sidebar:
    imd = edition_radio("IMD edition for Core20", key="imd",
                        help="Core20 = national IMD deciles 1–2 of the chosen edition, never re-ranked locally. "
                             "IMD 2019 values are carried from LSOA 2011 to LSOA 2021.")
    basemap = st.toggle("Street basemap (needs internet)", value=False, key="basemap",
                        help="The map draws fully without it, e.g. on a locked-down NHS network.")
    plus_spec = plus_controls(key="explore_plus")
    patches = st.toggle("Outreach patches on a PCN's map", value=False, key="explore_patches",
                        help="Draw the patches of a default plan for 3 connectors (see Plan outreach to change it).")

area = area_picker(key="explore_search")
if area is None:
    st.info("Type part of a name or a code above: an ICB (e.g. *Birmingham and Solihull* or E54000055), a local "
            "authority, a PCN or a GP practice. The view goes into the page address, so you can share the link.")
    st.stop()

layer = st.query_params.get("layer")
if not layer or layer in {ed.layer_key for ed in EDITIONS.values()}:  # the fill follows the chosen edition
    layer = EDITIONS[int(imd)].layer_key
try:
    payload, name = area_map_payload(area.kind, area.code, int(imd), plus_spec, True, layer,
                                     3 if patches and area.kind == "pcn" else 0)
except (LookupError, ValueError) as exc:
    st.error(str(exc.args[0] if exc.args else exc))
    st.stop()

st.subheader(f"{KIND_WORDS[area.kind]}: {area.name}")

from streamlit_folium import st_folium  # noqa: E402

from targeting.maps import lsoa_detail  # noqa: E402
from targeting.render.page import build_map  # noqa: E402

col_map, col_panel = st.columns([3, 1.4], gap="medium")
with col_map:
    m = build_map(payload, basemap=basemap)
    out = st_folium(m, key="explore_map", height=620, width=None,  # None: the column's width
                    returned_objects=["last_active_drawing"])
    carried = (" IMD 2019 is published for LSOA 2011: it is carried to the LSOA 2021 boundaries drawn here "
               f"({MERGE_RULE}); the panel's IMD 2019 figures use LSOA 2011 registrations."
               if int(imd) == 2019 else "")
    st.caption(f"Opens on IMD {imd} national deciles; choose the layer and overlays in the map's top-right panel "
               "(the layer goes into the page address). Hover for figures, click an LSOA or a practice for "
               "details. LSOA boundaries: ONS LSOA (December 2021) BSC, contains OS data © Crown copyright and "
               f"database right 2021.{carried} Practices: NHS England, {get_tables().month.statement}. PCN footprints "
               "are indicative.")
    st.markdown("[The map as a table](#the-map-as-a-table): every LSOA drawn, with its figures, below.")

if not st.session_state.get("_c20_map_drawn"):
    # A cold link: Streamlit's page attaches the map's frame only after it has laid out everything sent with it,
    # so the figures and tables follow once the map says it is drawn (one rerun). AppTest has no browser to wait for.
    if (out or {}).get("c20_drawn") or not st.context.headers:
        st.session_state["_c20_map_drawn"] = True
    else:
        col_panel.caption("Drawing the map; its figures and tables follow…")
        if col_panel.button("Show the figures now", key="explore_skip_wait",
                            help="If the map cannot be drawn here, its figures and tables still can."):
            st.session_state["_c20_map_drawn"] = True
            st.rerun()
        st.stop()

clicked = (out or {}).get("last_active_drawing") or {}
props = clicked.get("properties") or {}

with col_panel:
    if props.get("kind") == "practice" or (area.kind == "practice" and not props.get("c")):
        code = html.unescape(str(props.get("c", ""))) if props.get("kind") == "practice" else area.code
        practice_panel(code, int(imd), plus_spec)
    elif props.get("c"):
        code = html.unescape(str(props["c"]))
        here = scope(int(imd), area.kind, area.code, plus_spec)  # PLUS ranked among the LSOAs the map draws
        d = lsoa_detail(here, code)
        r = d["row"]
        ed = here.edition
        st.markdown(f"#### {r['lsoa_name']} ({r['lsoa_code']})")
        st.write(f"{r['lad_name']} · {r['icb_name']}")
        c1, c2 = st.columns(2)
        new, old = here.edition_on(2021), here.edition_on(2011)  # the map is LSOA 2021: IoD 2019 is carried
        c1.metric(f"IMD {new.year} decile", int(r[new.decile]),
                  help=f"national rank {int(r[new.rank]):,} of {new.lsoa_count:,}")
        c2.metric(f"IMD {old.year} decile", int(r[old.decile]), help="carried from LSOA 2011")
        st.write("**Core20** (national IMD deciles 1–2)" if r[ed.core20] else "Not Core20", f"· IMD {imd}")
        ch = change_csv(str(r["icb_code_nhs"]), "lsoa")[0].set_index("lsoa_code")
        if r["lsoa_code"] in ch.index:
            c = ch.loc[r["lsoa_code"]]
            bridged = "" if c["lsoa_change_code"] == "U" else "; IoD 2019 carried across the bridge"
            st.write(f"Core20 change 2019 → 2025: **{c['change']}** (ONS LSOA 2011 → 2021 change code "
                     f"{c['lsoa_change_code']}{bridged})")
        st.write(f"PLUS: {d['plus_reasons'] or 'no PLUS rule met'}")
        st.write(f"Residents (Census 2021): {int(r['residents']):,} in {int(r['households']):,} households; "
                 f"ethnic minority communities {r['pct_minority']:.1f}%")
        st.markdown("**Largest groups** (Census 2021, % of residents)\n\n" + "\n".join(
            f"- {html.escape(str(g))}: **{p:.1f}%**" for g, p in zip(d["ethnic"]["group"], d["ethnic"]["pct"],
                                                                   strict=True)))
        st.write(f"Registered patients living here ({get_tables().month.label}): {int(r['registered_patients']):,}. "
                 "Practices most of them use:")
        st.markdown("\n".join(
            f"- **{html.escape(nice(str(x['practice_name'])))}** ({x['practice_code']}), "
            f"{html.escape(nice(str(x['pcn_name'])))}: {int(x['patients']):,} patients here, "
            f"{x['share_pct']:.1f}% of the residents' registrations" for _, x in d["practices"].iterrows()))
        source_caption("IoD 2025 and IoD 2019 (MHCLG)", "Census 2021 TS021 (ONS)",
                       "NHS Digital registrations July 2022 (apportioned to LSOA 2021)")
    elif area.kind == "pcn":
        prof = pcn_profiles(int(imd), plus_spec, pcn=area.code)
        if not prof.empty:
            r = prof.iloc[0]
            st.metric(f"Registered patients ({get_tables().month.title})", f"{int(r['registered_patients']):,}",
                      help=f"{int(r['practices'])} member practices")
            aged_40_74(r)
            st.write(f"Living in Core20 LSOAs: {pct_ci(r, 'core20_pct')} — ICB {r['core20_pct_icb']:.1f}%, "
                     f"England {r['core20_pct_england']:.1f}%")
            st.write(f"Living in PLUS LSOAs: {pct_ci(r, 'plus_pct')}")
            st.write(f"Ethnic minority communities (estimated): {pct_ci(r, 'pct_minority')}")
            ch = change_csv(area.icb_nhs, "pcn")[0].set_index("pcn_code")
            if area.code in ch.index:
                c = ch.loc[area.code]
                st.write(f"**Core20 change 2019 → 2025**: {c['core20_pct_2019']:.1f}% → {c['core20_pct_2025']:.1f}% "
                         f"of patients ({c['difference_pp']:+.1f} points); {int(c['patients_entered']):,} patients "
                         f"live in neighbourhoods newly Core20, {int(c['patients_left']):,} in neighbourhoods no "
                         "longer Core20.")
        source_caption(f"NHS Digital registrations July 2022; IMD {imd} (MHCLG); Census 2021 (ONS)")
        st.caption("Its gaps, member practices and summary (spine chart, trends, population pyramid, printable "
                   "A4) are below the map. Click an LSOA or a practice on the map for its details.")
        st.markdown("[The PCN summary: spine chart, trends and pyramid](#pcn-summary)")
        st.markdown("#### Core20PLUS5")
        from app_pages._clinical import clinical_table, render_lines

        render_lines(clinical_table("pcn", area.code, int(imd)), compact=True)
        st.page_link("app_pages/core20plus5.py", label="Every measure, and your Fingertips data", icon="➡️",
                     query_params={"pcn": area.code})
    else:
        from targeting.lsoas import area_summary

        here = scope(int(imd), area.kind, area.code)
        sm = area_summary(here)
        c1, c2 = st.columns(2)
        c1.metric("LSOAs", f"{sm['lsoas']:,}")
        c2.metric("Core20 LSOAs", f"{sm['core20_lsoas']:,}", help="national IMD deciles 1–2, never re-ranked locally")
        st.write(f"Residents (Census 2021): {sm['residents']:,}, of whom **{sm['core20_residents_pct']:.1f}%** "
                 f"live in Core20 neighbourhoods (England 20%).")
        st.write(f"Ethnic minority communities: {sm['minority_pct']:.1f}% of residents; "
                 f"{sm['core20_minority_pct']:.1f}% in its Core20 neighbourhoods (deprivation beside ethnicity: both "
                 "shape need).")
        from targeting.change import area_change_summary, describe_change

        st.write(f"**Core20 change 2019 → 2025**: {describe_change(area_change_summary(here))}. Ranks are "
                 "relative: leaving Core20 does not mean a neighbourhood became less deprived.")
        st.caption("Click an LSOA on the map for its details.")
        source_caption(f"IMD {imd} and IoD 2019 → 2025 (MHCLG); Census 2021 residents (ONS)")

if area.kind in ("pcn", "practice"):
    gap_figures(area.kind, area.code, int(imd))
if area.kind == "pcn":
    st.markdown(f"**Member practices of {area.name}**")
    pr = practice_profiles(int(imd), plus_spec, pcn=area.code)
    st.dataframe(pr[["practice_code", "practice_name", "registered_patients", "core20_pct", "core20_pct_lower",
                     "core20_pct_upper", "plus_pct", "pct_minority", "weighted_imd_score"]]
                 .assign(practice_name=pr["practice_name"].map(nice)).round(1),
                 hide_index=True, width="stretch", column_config={
                     "practice_code": st.column_config.TextColumn("Code"),
                     "practice_name": st.column_config.TextColumn("Practice", width="medium"),
                     "registered_patients": st.column_config.NumberColumn("Patients", format="%d"),
                     "core20_pct": st.column_config.NumberColumn("% Core20", format="%.1f"),
                     "core20_pct_lower": st.column_config.NumberColumn("lower 95%", format="%.1f"),
                     "core20_pct_upper": st.column_config.NumberColumn("upper 95%", format="%.1f"),
                     "plus_pct": st.column_config.NumberColumn("% PLUS", format="%.1f"),
                     "pct_minority": st.column_config.NumberColumn("% ethnic minority (est.)", format="%.1f"),
                     "weighted_imd_score": st.column_config.NumberColumn(f"IMD {imd} score (weighted)",
                                                                         format="%.1f")})
    source_caption(f"NHS Digital registrations July 2022; IMD {imd} (MHCLG); Census 2021 (ONS)")
    from app_pages._pcn_summary import render_pcn_summary

    render_pcn_summary(area.code, area.name, int(imd), plus_spec)

if area.kind in ("icb", "lad", "pcn", "practice"):
    from targeting.lsoas import lsoa_table

    st.subheader("The map as a table", anchor="the-map-as-a-table")

    icb_for_table = area.icb_nhs
    table = lsoa_table(scope(int(imd), "icb", icb_for_table))
    if area.kind == "lad":
        table = table[table["lad_name"] == name]
    elif area.kind == "pcn":
        table = table[table["lsoa_code"].isin(footprint_lsoas(area.code, int(imd)))]
    table = table.assign(source=get_tables().month.relabel(f"IMD {imd} (MHCLG); Census 2021 (ONS); NHS Digital "
                                                           "registrations July 2022"))
    what = ("this local authority" if area.kind == "lad" else "the PCN's indicative footprint"
            if area.kind == "pcn" else "this ICB" if area.kind == "icb" else "the practice's ICB")
    with st.expander(f"LSOAs of {what} ({len(table):,} rows)"):
        st.dataframe(table.drop(columns=["source"]), hide_index=True, width="stretch")
    st.download_button("Download the LSOA table (CSV)", table_csv(table).encode("utf-8"),
                       file_name=f"lsoas_{area.kind}_{area.code}_imd{imd}.csv", mime="text/csv",
                       key="explore_download")
    c1, c2 = st.columns(2)
    for col, level, what in ((c1, "lsoa", "LSOA"), (c2, "pcn", "PCN")):
        col.download_button(f"Download the Core20 change 2019 → 2025 by {what} (CSV)",
                            change_csv(area.icb_nhs, level)[1].encode("utf-8"),
                            file_name=f"core20_change_{level}_{area.icb_nhs}.csv", mime="text/csv",
                            key=f"explore_change_{level}", help="The same file as `python -m targeting change "
                            f"--icb {area.icb_nhs} --level {level}`, for the whole ICB.")

if area.kind == "icb":
    prof = pcn_profiles(int(imd), plus_spec, icb=area.icb_nhs)
    with st.expander(f"PCNs of this ICB ({len(prof)})"):
        show = prof[["pcn_code", "pcn_name", "practices", "registered_patients", "core20_pct", "core20_pct_lower",
                     "core20_pct_upper", "plus_pct", "pct_minority", "weighted_imd_score"]]
        st.dataframe(show.assign(pcn_name=show["pcn_name"].map(nice)).round(1), hide_index=True,
                     width="stretch")
        source_caption(f"NHS Digital registrations July 2022; IMD {imd} (MHCLG); Census 2021 (ONS). "
                       "In PCN-code order; see Compare places for a fair comparison with intervals.")

