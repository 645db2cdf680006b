"""Methods & sources: definitions, methods, vintages, licences with attributions, and the data's limits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from geo.vintage import MERGE_RULE

st.title("Methods & sources")

st.markdown("""
**Core20** is the most deprived 20% of England's population by the national Index of Multiple Deprivation: the
LSOAs in national IMD deciles 1–2 of the edition chosen (IoD 2025 on LSOA 2021, or IoD 2019 on LSOA 2011). It is
never re-ranked within an ICB; any local ranking is labelled as local.
**PLUS** groups are chosen by each ICS — for example ethnic minority communities, inclusion health groups,
coastal communities — and can be combined. Ethnicity is always shown beside deprivation: inequalities come from
structural causes, including racism, not from ethnicity itself.
""")

st.subheader("IoD 2019 → IoD 2025: Core20 change")
st.markdown(f"""
IoD 2025 replaces IoD 2019 as the national definition of Core20. The **Core20 change 2019 → 2025** map layer,
the change in the area panel and `python -m targeting change` show which neighbourhoods entered or left Core20.
MHCLG's guidance, in plain words:
- **Ranks are relative.** Core20 is the most deprived 20% of neighbourhoods compared with each other. Leaving
  Core20 means other neighbourhoods overtook this one in the 2025 ranking; it does **not** mean the area became
  less deprived in absolute terms, and its residents' needs may be the same.
- **The indicators changed.** Indicators, some definitions and data sources changed between the editions, so
  compare ranks and deciles, never scores, and read a change as partly a change of measuring stick.
- **The geography changed.** IoD 2019 is on LSOA 2011 and IoD 2025 on LSOA 2021. IoD 2019 values reach LSOA
  2021 through the ONS 2011 → 2021 lookup (change codes U, S, M, X): {MERGE_RULE}. Each row shows its change
  code.

Each edition's Core20 patients are those of the PCN profiles (IoD 2019 on the registrations by LSOA 2011;
IoD 2025 on the same registrations apportioned to LSOA 2021), with 95% Wilson limits. The registrations are those
of the registration month chosen in the sidebar (see *Registration month* below).
""")

st.subheader("Data limitations")
st.markdown("""
- **Ethnicity recording** in GP records is poor, variable and shows signs of systematic bias. The tool uses
  Census 2021 self-described ethnicity of residents (TS021, 19 groups), and estimates a practice's mix from where
  its patients live. "Not stated" is never a category of its own, and low recorded numbers are not low need.
- **List inflation**: practice lists include people who have moved away or died, so there are more registered
  patients than residents nationally; the registration gap is measured against the national ratio.
- **Registration month** (the sidebar's choice, `--registrations` on the command line; the newest month found by
  default): practices, PCNs, Sub-ICBs, ICBs and list sizes are that month's (NHS England's practice map and
  quin-age list sizes). Where patients live comes from the newest GP registrations by LSOA bundled, **July 2022**
  (LSOA 2011, apportioned to LSOA 2021 with totals conserved): each practice's shares over known LSOAs there,
  times its list size in the month, as whole numbers by largest remainder. A practice with no July 2022 LSOA rows
  is counted in every list size and reported as unplaced. LSOAs are placed in the April 2026 ICBs by the April
  2024 LSOA lookup with Sub-ICBs matched on their NHS code; the LSOAs of Frimley (D4U1Y), divided in April 2026,
  follow their local authority, whose Sub-ICB is the one holding most registered patients of the July 2026
  practices located there (derived until ONS publishes the LSOA-level 2026 lookup).
- **Indicative footprints**: PCNs have no official boundaries. A footprint built from where registered patients
  live is indicative: where a PCN's patients mostly live, not an area it is responsible for.
- **Modelled gaps**: detection gaps compare QOF 2022-23 registers with modelled expected prevalence (PHE 2016
  estimates for hypertension); they are estimates with intervals, not counts of people.
- **Small numbers**: counts of 1–7 are shown as `*` and other counts rounded to the nearest 5 in anything
  exported from your own data; rates from 1–7 people are withheld. Suppression protects each download on its
  own: two versions of an upload can be subtracted one from the other, so publish one version (not overlapping
  ones), use the same rule for every release, and publish at the coarsest level you need (Methods, section 7).
- **Outreach plans** are a starting point for conversations with communities and voluntary-sector partners, not a
  verdict on the people who live in a neighbourhood.
""")

methods = Path(__file__).resolve().parents[1] / "docs" / "methods.md"
st.subheader("Methods")
if methods.exists():
    with st.expander("Gap methods, statistics and suppression (docs/methods.md)", expanded=False):
        st.markdown(methods.read_text(encoding="utf-8"))
else:
    st.caption("docs/methods.md is not in this copy of the tool.")
st.markdown("""
Confidence intervals follow OHID / PHE Fingertips conventions: Wilson score intervals for proportions, Byar's
method for counts (exact below 10), Dobson for directly standardised rates. The slope index of inequality (SII)
orders groups from most to least deprived by relative rank (midpoint of cumulative population share), fits a
population-weighted regression and simulates its limits. A gap between two proportions (Your data) uses
Newcombe's hybrid score interval. Counts are apportioned and summed; rates and scores are averaged with
population weights.
""")

st.subheader("Sources, editions and licences")
from geo.sources import OGL, OS_ATTRIBUTION, SOURCES  # noqa: E402

rows = [{"dataset": s.title, "publisher": s.publisher, "edition": s.edition, "geography": s.geography,
         "licence": OGL, "attribution": " ".join(s.attribution), "where to get it": s.page or s.url}
        for s in SOURCES.values()]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.markdown(f"All data under the {OGL}. {OS_ATTRIBUTION}. Contains National Statistics data © Crown copyright "
            "and database right 2025. Contains Royal Mail data © Royal Mail copyright and database right 2025. "
            "Contains information from NHS England and NHS Digital, licensed under the Open Government Licence.")
st.caption("Maps: Leaflet (BSD-2-Clause), served by this app from the xstatic-leaflet packages; no map tiles are "
           "loaded unless you switch the street basemap on.")

st.subheader("Privacy")
st.markdown("Files you upload on **Your data** stay in your session on the machine running the app. The app "
            "sends no usage statistics (`browser.gatherUsageStats = false`) and makes no calls to other sites "
            "with your data.")
