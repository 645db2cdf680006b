"""Plan outreach: mode, connectors, capacity and order in; postcode rounds on maps, in tables and printable."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._shared import BY_SCOPE, area_picker, current_month, edition_radio, plus_controls, scope

st.title("Plan outreach")
st.write("Which Core20 and PLUS neighbourhoods to visit first, down to the **postcodes a connector walks**: a round "
         "a month (campaign) or a standing neighbourhood per worker (caseload). A plan is a **starting point for "
         "conversations** with communities and voluntary-sector partners, not a verdict on the people who live there.")

from targeting._limits import MAX_UPLOAD_MB  # noqa: E402
from targeting.health_checks import DEFAULT_HEALTH_CHECK  # noqa: E402
from targeting.outreach import MAX_CONNECTORS  # noqa: E402
from targeting.priority import COMPONENTS, DEFAULT_WEIGHTS  # noqa: E402
from targeting.programme import (  # noqa: E402
    Done,
    add_months,
    connector_names,
    month_words,
    read_done,
    start_month,
)
from targeting.scope import Scope  # noqa: E402

WORDS = {"deprivation": "Deprivation (IMD)", "plus": "PLUS groups", "undiagnosed": "Hypertension not on a register",
         "registration": "Registration gap", "size": "Households"}
MODES = {"campaign": "Campaign: visit each household once", "caseload": "Caseload: one standing neighbourhood each"}

with st.sidebar:
    mode = st.radio("Model of outreach", list(MODES), format_func=MODES.get, key="out_mode",
                    help="Campaign: connectors or a health-check team visit each target household once; each has a "
                         "round of postcodes a month. Caseload: the community health and wellbeing worker model "
                         "(Westminster): each worker keeps about 100 households and visits every one every month.")
    caseload = mode == "caseload"
    connectors = st.number_input("Workers" if caseload else "Connectors", 1, MAX_CONNECTORS, 3, key="out_connectors")
    capacity = st.number_input("Households per worker" if caseload else "Households per connector per month", 10,
                               1000, 100, step=10, key="out_capacity",
                               help="About 100 in the Westminster community health and wellbeing worker model.")
    months = 12 if caseload else st.number_input("Plan horizon (months)", 1, 36, 12, key="out_months")
    imd = edition_radio("IMD edition", key="out_imd")
    own = st.toggle("Order by my own priority weights", key="out_own_weights",
                    help="Off (default): deprivation first: Core20, then PLUS, each by national IMD rank.")
    weights = None
    if own:
        with st.expander("Priority weights", expanded=True):
            weights = {k: st.slider(WORDS.get(k, k), 0.0, 1.0, float(DEFAULT_WEIGHTS[k]), 0.05, key=f"out_w_{k}")
                       for k in COMPONENTS}
    use_cut = st.toggle("Also target LSOAs above a priority score", key="out_use_cut")
    score_cut = st.slider("Score cut (0–100)", 0, 100, 70, key="out_cut") if use_cut else None
    plus_spec = plus_controls(key="out_plus")
    with st.expander("NHS Health Check figures"):
        hc = DEFAULT_HEALTH_CHECK
        uptake = st.number_input("Uptake among those offered", 0.0, 1.0, hc.uptake, 0.01, key="out_uptake",
                                 help="Default 52.6%: Patel et al., BMJ Open 2020 (local authorities 25.1%–84.7%).")
        detection = st.number_input("New hypertension diagnoses per check", 0.0, 1.0, hc.detection, 0.001,
                                    format="%.3f", key="out_detection",
                                    help="Default 38 per 1,000 checks: Robson et al., BMJ Open 2016.")
        diagnosed = st.number_input("Share of 40–74s already diagnosed (not eligible)", 0.0, 1.0,
                                    hc.already_diagnosed, 0.01, key="out_diagnosed",
                                    help="Default 30%: the PHE total eligible population method up to 2015-16.")
    basemap = st.toggle("Street basemap on the printed maps", key="out_basemap",
                        help="OpenStreetMap tiles under each visit sheet's map; they load only when the sheet is "
                             "opened online. Off: the sheets need no internet.")
    with st.expander("Names, start month and what was done", expanded=False):
        st.caption("Names go on the sheets and in rounds.csv (connector_name); months on everything "
                   "(month_start). A rounds.csv with a done column (true/false, or the date) re-plans the rest.")
        names_text = st.text_area("Workers' names" if caseload else "Connectors' names",
                                  key="out_names", height=90, max_chars=int(connectors) * 62,
                                  placeholder="one per line, or separated by commas, in order",
                                  help="Optional. One name each, in order (connector 1 first); leave empty for "
                                       "Connector 1, Connector 2…")
        _months = [add_months(start_month(), k) for k in range(-12, 25)]
        start_choice = st.selectbox("First month", [None, *_months], key="out_start",
                                    format_func=lambda m: ("Next month, or the month after the last one done" if m is
                                                           None else month_words(m)))
        done_file = st.file_uploader("Rounds done (optional): a rounds.csv with a done column", type=["csv"],
                                     key="out_done", max_upload_size=MAX_UPLOAD_MB,
                                     help="Households already visited are not planned again; the rest is planned "
                                          f"from the month after the last one done. At most {MAX_UPLOAD_MB} MB; it "
                                          "stays here.")
    with_scenario = st.toggle("Scenarios: more or fewer connectors and capacity", key="out_scenario",
                              help="The share of the area's Core20 and PLUS residents reached after 3, 6 and 12 "
                                   "months with half, the same, twice and four times the connectors and half to "
                                   "twice the capacity. Also printed in the visit sheets.")

area = area_picker(key="outreach_search", kinds=("pcn", "icb"))
if area is None:
    st.info("Search for a PCN (its indicative footprint is planned) or an ICB.")
    st.stop()

if weights is not None and sum(weights.values()) <= 0:
    st.error("At least one priority weight must be above zero.")
    st.stop()


names = [n.strip() for n in (names_text or "").replace("\n", ",").split(",")]
names = [n for n in names if n] or None
if names is not None:
    try:
        connector_names(names, int(connectors))
    except ValueError as exc:
        st.error(f"{exc}. There are {int(connectors)} {'workers' if caseload else 'connectors'}: give one name "
                 "each, or change their number.")
        st.stop()
done_key = None
if done_file is not None:
    try:
        _done = read_done(done_file.getvalue())
    except ValueError as exc:
        st.error(str(exc))
        st.stop()
    done_key = (tuple(sorted(_done.visited.items())), _done.households, _done.rows, _done.rows_done,
                _done.last_month, tuple(_done.notes))


@st.cache_resource(show_spinner="Planning outreach…", max_entries=16)
def _plan(month: str, kind: str, code: str, mode: str, connectors: int, capacity: float, months: float,
          weights: tuple | None,
          cut: float | None, imd: int, spec: tuple, health: tuple, start: str | None = None,
          names: tuple | None = None, done: tuple | None = None):
    from dataclasses import replace

    from targeting.outreach import plan_outreach

    up, det, diag = health
    hc = replace(DEFAULT_HEALTH_CHECK, uptake=up, uptake_low=min(DEFAULT_HEALTH_CHECK.uptake_low, up),
                 uptake_high=max(DEFAULT_HEALTH_CHECK.uptake_high, up), detection=det, already_diagnosed=diag)
    return plan_outreach(scope(imd, kind, code, spec, geometry=True), connectors=connectors, capacity=capacity,
                         months=months, weights=None if weights is None else dict(weights),
                         score_cut=cut, mode=mode, health_check=hc, start=start,
                         names=None if names is None else list(names),
                         done=None if done is None else Done(dict(done[0]), *done[1:5], notes=list(done[5])))


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=BY_SCOPE)
def _map_payload(_plan_obj, key: tuple, plan_scope: Scope) -> str:
    from targeting.area_maps import plan_map_payload

    return plan_map_payload(plan_scope, _plan_obj)


@st.cache_data(show_spinner="Writing the files…", max_entries=16)
def _files(_plan_obj, key: tuple, basemap: bool, _scen: pd.DataFrame | None) -> dict[str, bytes]:
    from targeting.publish import plan_files

    # the same bytes as `targets --out`
    return plan_files(_plan_obj, _scen, basemap="OpenStreetMap" if basemap else None)


try:
    args = (current_month(), area.kind, area.code, mode, int(connectors), float(capacity), float(months),
            None if weights is None else tuple(sorted(weights.items())),
            None if score_cut is None else float(score_cut), int(imd), plus_spec,
            (float(uptake), float(detection), float(diagnosed)), start_choice,
            None if names is None else tuple(names), done_key)
    plan = _plan(*args)
except (LookupError, ValueError) as exc:
    st.error(str(exc.args[0] if exc.args else exc))
    st.stop()

t = plan.lsoas
st.subheader(plan.area.get("label") or plan.area["name"])
for note in plan.warnings:
    st.warning(note)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Target neighbourhoods", int(t["target"].sum()), help="Core20 or PLUS (or above the score cut)")
c2.metric(f"Neighbourhoods of about {capacity:g} households" if caseload else "Rounds of postcodes",
          len(plan.pieces))
c3.metric("Planned LSOAs", int((t["status"] == "planned").sum()),
          help=f"{int((t['status'] == 'part planned').sum())} in part; "
               f"{int((t['status'] == 'waiting').sum())} waiting for capacity")
if caseload:
    need = plan.workers_needed
    c4.metric("Workers for every Core20 household", need.get("core20", 0),
              help=f"{need.get('core20plus', 0)} workers for every Core20 and PLUS household")
else:
    c4.metric("Months to cover all", plan.months_to_cover or "–",
              help="Months for the connectors to visit every Core20 and PLUS household once at this capacity")
if plan.progress is not None:
    pr = plan.progress
    p1, p2 = st.columns(2)
    p1.metric("Households visited so far (about)", f"{pr['households_visited']:,}",
              help=f"From the done file: {pr['postcodes_done']:,} postcodes, {pr['rows_done']:,} stops marked "
                   f"done; of {pr['core20plus_households']:,} Core20 and PLUS households in the area. They are "
                   "not planned again.")
    p2.metric("Months to finish", pr.get("months_to_finish") or "–",
              help="From " + month_words(str(plan.settings["start"])) + (
                  f" to {month_words(pr['finish_month'])}" if pr.get("finish_month") else ""))
    if pr.get("postcodes_elsewhere"):
        st.caption(f"{pr['postcodes_elsewhere']:,} postcode(s) marked done are not among this area's targets.")
if len(plan.localities) > 1:
    with st.expander(f"{len(plan.localities)} localities: where each connector works"):
        st.caption("Each connector works in one locality: a PCN's indicative footprint, or neighbouring footprints "
                   "merged where one holds too little for a connector of its own. Connectors per locality are in "
                   "proportion to its Core20 households (ties: PLUS households), by largest remainder.")
        st.dataframe(plan.localities[["locality", "locality_name", "connectors", "core20_households",
                                      "plus_households", "months_to_cover", "lsoas"]], hide_index=True,
                     width="stretch")
if t["target"].any() and plan.rounds.empty:
    st.warning("No target neighbourhood has a residential postcode to put on a round.")

from streamlit_folium import st_folium  # noqa: E402

from targeting.render.page import build_map  # noqa: E402
from targeting.render.visit_sheets import round_map_svg  # noqa: E402

payload = _map_payload(plan, args, scope(int(imd), area.kind, area.code, plus_spec, geometry=True))
plan_start = str(plan.settings.get("start") or start_month())
# Below 768 px wide (a phone) the month view comes before the map: the two are siblings in one column, and the
# style below reorders them only on a narrow screen.
st.markdown("<style>@media (max-width: 767.98px) { .st-key-out_month_view, "
            "[data-testid='stLayoutWrapper']:has(> .st-key-out_month_view) { order: -1; } }</style>",
            unsafe_allow_html=True)
with st.container(key="out_plan_view"):
    with st.container(key="out_map_view"):
        st_folium(build_map(payload), key="outreach_map", height=520, width=None, returned_objects=[])
        st.caption("LSOAs coloured by the connector who reaches them first (switch to status, priority score, IMD "
                   "or ethnic groups in the map's panel); patches outlined in each connector's line style and "
                   "labelled C1, C2…. PCN footprints are indicative. The map as a table: the visit order, below.")
    month_view = st.container(key="out_month_view")

rounds = plan.rounds_table()
with month_view:
    if len(rounds):
        if caseload:
            st.markdown(f"**Standing neighbourhoods** from {month_words(plan_start)}: each worker's postcodes, in "
                        "walking order, visited every month")
            shown = rounds
            label = "Worker"
        else:
            last = int(rounds["month"].max())

            def _month_label(m: int) -> str:
                return f"{m} · {month_words(add_months(plan_start, int(m) - 1))}"

            month = st.select_slider("Month", list(range(1, last + 1)), 1, format_func=_month_label,
                                     key="out_month") if last > 1 else 1
            st.markdown(f"**{month_words(add_months(plan_start, month - 1))}** (month {month}): each connector's "
                        "round of postcodes, in walking order")
            shown = rounds[rounds["month"] == month]
            label = "Connector"
        who = sorted(shown["connector"].dropna().unique())
        cols = st.columns(min(3, max(1, len(who))))
        outlines = t[t["lsoa_code"].isin(shown["lsoa_code"])][["lsoa_code", "geometry"]]
        for i, c in enumerate(who[:12]):
            mine = shown[shown["connector"] == c].sort_values("stop")
            name = str(mine["connector_name"].iloc[0])
            with cols[i % len(cols)]:
                st.markdown(f"{name}" + ("" if name == f"{label} {int(c)}" else f" ({label.lower()} {int(c)})")
                            + f": {len(mine)} postcodes, about {int(mine['households_est'].sum())} households")
                st.image(round_map_svg(mine, outlines[outlines["lsoa_code"].isin(mine["lsoa_code"])], width=420,
                                       height=300, title=f"{label} {int(c)}"), width="stretch",
                         alt=f"Map of the round of {label.lower()} {int(c)}: {len(mine)} postcodes in walking "
                             "order (listed in the table below)")
        if len(who) > 12:
            st.caption(f"The first 12 of {len(who)} are drawn here; every round is in the visit sheets.")
        st.dataframe(shown[["connector_name", "month_start", "stop", "postcode", "households_est", "lsoa_code",
                            "lsoa_name", "core20", "plus"]], hide_index=True, width="stretch",
                     column_config={"connector_name": "Worker" if caseload else "Connector",
                                    "month_start": "Month", "households_est": st.column_config.NumberColumn(
                                        "Households (about)"),
                                    "lsoa_code": "LSOA", "lsoa_name": "Neighbourhood"})
        st.caption("Households per postcode are about: each LSOA's Census 2021 households shared equally among "
                   "its postcodes (OS Code-Point Open). Contains OS data © Crown copyright and database right "
                   "2025; Contains Royal Mail data © Royal Mail copyright and database right 2025.")

st.markdown("**Connectors**" if not caseload else "**Workers**")
_nice_cols = {c: c.replace("_", " ").replace("pct", "%").replace("40 74", "40–74") for c in plan.connectors.columns}
_conn = plan.connectors.rename(columns=_nice_cols).round(1)
st.dataframe(_conn[list(_conn.columns)[:5]], hide_index=True, width="stretch")  # fits the page; all in the expander
with st.expander("Every column of the connector table"):
    st.dataframe(_conn, hide_index=True, width="stretch")
st.markdown("**Neighbourhoods in visit order** (every LSOA of the area, with why it is or is not a target)")
table = plan.targets_table()
shown_t = table[["lsoa_code", "lsoa_name", "status", "connector", "first_month", "last_month", "priority_rank",
                 "imd_decile", "core20", "plus", "households", "households_planned", "eligible_40_74",
                 "health_check_new_hypertension", "why", "reason"]]
shown_t = shown_t.assign(**{c: shown_t[c].map(lambda v: "–" if pd.isna(v) else f"{int(v)}")  # never "None"
                             for c in ("connector", "first_month", "last_month")},
                          reason=shown_t["reason"].fillna("").replace("", "–"))
_brief = ["lsoa_name", "status", "connector", "first_month", "last_month", "imd_decile", "core20", "plus",
          "households", "reason"]
st.dataframe(shown_t[_brief], hide_index=True, width="stretch",
             column_config={"lsoa_name": "Name", "first_month": "From month", "last_month": "To month",
                            "imd_decile": "IMD decile",
                            "reason": st.column_config.TextColumn("Not (fully) planned because", width="medium")})
with st.expander("Every column, with why each neighbourhood was chosen (in words)"):
    st.dataframe(shown_t, hide_index=True, width="stretch",
                 column_config={"lsoa_code": "LSOA", "lsoa_name": "Name", "priority_rank": "Order",
                                "imd_decile": "IMD decile", "eligible_40_74": "Aged 40–74",
                                "health_check_new_hypertension": st.column_config.NumberColumn(
                                    "New hypertension from Health Checks (est.)", format="%.1f"),
                                "why": st.column_config.TextColumn("Why (in words)", width="large"),
                                "reason": "Not (fully) planned because"})

scen = None
if with_scenario:
    @st.cache_data(show_spinner="Running the scenarios…", max_entries=8)
    def _scenario(_plan_obj, key: tuple) -> pd.DataFrame:
        from targeting.outreach import scenario_around

        return scenario_around(_plan_obj)

    scen = _scenario(plan, args)
    st.markdown("**Scenarios**: share of the area's Core20 and PLUS residents reached")
    wide = scen.pivot_table(index=["connectors", "capacity"], columns="months", values="pct_covered").reset_index()
    wide.columns = ["Connectors", "Households per connector per month",
                    *[f"% reached in {int(m)} months" for m in wide.columns[2:]]]
    st.dataframe(wide, hide_index=True, width="stretch")
    st.caption("Also in the visit sheets below.")

files = _files(plan, (args, bool(with_scenario)), bool(basemap), scen)  # the bytes of `targets --out [--scenario]`
d1, d2, d3, d4, d5 = st.columns(5)
d1.download_button("targets.csv", files["targets.csv"], file_name="targets.csv", mime="text/csv",
                   key="outreach_csv")
d2.download_button("rounds.csv", files["rounds.csv"], file_name="rounds.csv", mime="text/csv",
                   key="outreach_rounds_csv")
d3.download_button("rounds.geojson", files["rounds.geojson"], file_name="rounds.geojson",
                   mime="application/geo+json", key="outreach_rounds_geojson")
d4.download_button("patches.geojson", files["patches.geojson"], file_name="patches.geojson",
                   mime="application/geo+json", key="outreach_geojson")
d5.download_button("Printable visit sheets (HTML)", files["visit_sheets.html"],
                   file_name="visit_sheets.html", mime="text/html", key="outreach_sheets",
                   help="Open in a browser and print: one A4 page per connector and month (or per caseload), maps "
                        "included" + ("; the street basemap needs the internet." if basemap else
                                      ", no internet needed."))
if "scenario.csv" in files:
    st.download_button("scenario.csv", files["scenario.csv"], file_name="scenario.csv", mime="text/csv",
                       key="outreach_scenario")
with st.expander("Sources and settings"):
    for line in plan.sources:
        st.caption(line)
    st.json(plan.settings, expanded=False)
