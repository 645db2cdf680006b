"""Plan outreach: connectors, capacity and weights in; a plan on the map, in a table and as printable sheets out."""

from __future__ import annotations

import streamlit as st

from app_pages._shared import area_picker, get_atlas, plus_controls, plus_rules

st.title("Plan outreach")
st.write("Which Core20 and PLUS neighbourhoods to visit first, grouped into walkable patches and shared between "
         "connectors. A plan is a **starting point for conversations** with communities and voluntary-sector "
         "partners, not a verdict on the people who live there.")

from targeting.priority import COMPONENTS, DEFAULT_WEIGHTS  # noqa: E402

WORDS = {"deprivation": "Deprivation (IMD)", "plus": "PLUS groups", "undiagnosed": "Undiagnosed hypertension",
         "registration": "Registration gap", "size": "Households"}

with st.sidebar:
    connectors = st.number_input("Connectors", 1, 50, 3, key="out_connectors")
    capacity = st.number_input("Households per connector per month", 10, 1000, 100, step=10, key="out_capacity",
                               help="About 100 in the Westminster community health and wellbeing worker model.")
    months = st.number_input("Plan horizon (months)", 1, 36, 12, key="out_months")
    imd = st.radio("IMD edition", [2025, 2019], horizontal=True, key="out_imd")
    with st.expander("Priority weights"):
        weights = {k: st.slider(WORDS.get(k, k), 0.0, 1.0, float(DEFAULT_WEIGHTS[k]), 0.05, key=f"out_w_{k}")
                   for k in COMPONENTS}
    use_cut = st.toggle("Also target LSOAs above a priority score", key="out_use_cut")
    score_cut = st.slider("Score cut (0–100)", 0, 100, 70, key="out_cut") if use_cut else None
    plus_spec = plus_controls(key="out_plus")

area = area_picker(key="outreach_search", kinds=("pcn", "icb"))
if area is None:
    st.info("Search for a PCN (its indicative footprint is planned) or an ICB.")
    st.stop()

if sum(weights.values()) <= 0:
    st.error("At least one priority weight must be above zero.")
    st.stop()


@st.cache_resource(show_spinner="Planning outreach…", max_entries=16)
def _plan(kind: str, code: str, connectors: int, capacity: float, months: float, weights: tuple, cut: float | None,
          imd: int, spec: tuple):
    from targeting.outreach import plan_outreach

    rules, combine = plus_rules(spec)
    return plan_outreach(get_atlas(), pcn=code if kind == "pcn" else None, icb=code if kind == "icb" else None,
                         connectors=connectors, capacity=capacity, months=months, weights=dict(weights),
                         plus_rules=rules, plus_combine=combine, score_cut=cut, imd=imd)


@st.cache_data(show_spinner=False, max_entries=16)
def _map_payload(_plan_obj, key: tuple) -> str:
    from targeting.render.area import plan_map_payload

    return plan_map_payload(get_atlas(), _plan_obj)


try:
    args = (area.kind, area.code, int(connectors), float(capacity), float(months), tuple(sorted(weights.items())),
            None if score_cut is None else float(score_cut), int(imd), plus_spec)
    plan = _plan(*args)
except (LookupError, ValueError) as exc:
    st.error(str(exc.args[0] if exc.args else exc))
    st.stop()

t = plan.lsoas
st.subheader(plan.area.get("label") or plan.area["name"])
c1, c2, c3, c4 = st.columns(4)
c1.metric("Target neighbourhoods", int(t["target"].sum()), help="Core20 or PLUS (or above the score cut)")
c2.metric("Patches", len(plan.patches))
c3.metric("Planned LSOAs", int((t["status"] == "planned").sum()),
          help=f"{int((t['status'] == 'waiting').sum())} waiting for capacity")
c4.metric("Months to cover all", plan.months_to_cover or "–",
          help="Months for the connectors to visit every Core20 and PLUS household at this capacity")
planned = t[t["status"] == "planned"]
if t["target"].any() and planned.empty:
    st.warning("No target neighbourhood fits one connector's capacity over the horizon. Raise the households per "
               "month or the months.")

from streamlit_folium import st_folium  # noqa: E402

from targeting.render.page import build_map  # noqa: E402

payload = _map_payload(plan, args)
st_folium(build_map(payload), key="outreach_map", height=560, use_container_width=True, returned_objects=[])
st.caption("LSOAs coloured by the connector planned to visit them (switch to status, priority score, IMD or "
           "ethnic groups in the map's panel); patches outlined. PCN footprints are indicative.")

st.markdown("**Connectors**")
_nice_cols = {c: c.replace("_", " ").replace("pct", "%").replace("40 74", "40–74") for c in plan.connectors.columns}
st.dataframe(plan.connectors.rename(columns=_nice_cols).round(1), hide_index=True, width="stretch")
st.markdown("**Neighbourhoods in visit order** (every LSOA of the area, with why it is or is not a target)")
table = plan.targets_table()
shown = table[["lsoa_code", "lsoa_name", "status", "connector", "patch_id", "visit_order", "priority_score",
               "imd_decile", "core20", "plus", "households", "eligible_40_74", "why", "reason"]]
st.dataframe(shown.astype({"connector": "Int64", "visit_order": "Int64"}), hide_index=True, width="stretch",
             column_config={"lsoa_code": "LSOA", "lsoa_name": "Name", "patch_id": "Patch",
                            "visit_order": "Visit", "priority_score": st.column_config.NumberColumn("Priority",
                                                                                              format="%.1f"),
                            "imd_decile": "IMD decile", "eligible_40_74": "Aged 40–74",
                            "why": st.column_config.TextColumn("Why (in words)", width="large"),
                            "reason": "Not planned because"})

from targeting.output import plan_files  # noqa: E402

files = plan_files(plan)  # the same bytes as `targets --out`
d1, d2, d3 = st.columns(3)
d1.download_button("targets.csv", files["targets.csv"], file_name="targets.csv", mime="text/csv",
                   key="outreach_csv")
d2.download_button("patches.geojson", files["patches.geojson"], file_name="patches.geojson",
                   mime="application/geo+json", key="outreach_geojson")
d3.download_button("Printable visit sheets (HTML)", files["visit_sheets.html"],
                   file_name="visit_sheets.html", mime="text/html", key="outreach_sheets",
                   help="Open in a browser and print: one A4 section per connector, maps included, no internet needed.")
with st.expander("Sources and settings"):
    for line in plan.sources:
        st.caption(line)
    st.json({k: v for k, v in plan.settings.items() if k != "plus_rules_object"}, expanded=False)
