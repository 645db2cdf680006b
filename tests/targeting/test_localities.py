"""Localities of an ICB's outreach plan (issue 22): connectors stay in one locality, rounds within 3 km."""

import numpy as np
import pandas as pd
import pytest

from targeting.localities import allocate_connectors
from targeting.outreach import plan_outreach
from targeting.scope import make_scope

WEST_YORKSHIRE = "E54000054"
BIRMINGHAM_SOLIHULL = "E54000055"


def test_largest_remainder_shares_whole_connectors():
    # quotas 2.0, 1.2, 0.8: floors 2, 1, 0 and the one left goes to the largest remainder, 0.8
    assert allocate_connectors(np.array([5, 3, 2]), 4).tolist() == [2, 1, 1]
    # equal remainders: the larger tie-breaker (PLUS households) first
    assert allocate_connectors(np.array([1, 1]), 1, tie=np.array([0, 9])).tolist() == [0, 1]
    assert allocate_connectors(np.array([0, 0]), 3).tolist() == [0, 0]


@pytest.fixture(scope="module", params=[(WEST_YORKSHIRE, 20, 300), (BIRMINGHAM_SOLIHULL, 12, 100)],
                ids=["west-yorkshire-20", "birmingham-solihull-12"])
def icb_plan(request, atlas):
    code, connectors, capacity = request.param
    return plan_outreach(make_scope(atlas, kind="icb", code=code), connectors=connectors, capacity=capacity)


def _span(g: pd.DataFrame) -> float:
    xy = g[["easting", "northing"]].to_numpy(dtype=float)
    return float(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)).max())


@pytest.mark.slow
def test_no_connector_months_stops_span_more_than_3_km(icb_plan):
    """Before, West Yorkshire's connector 4 walked Bradford and Wakefield, 33 km apart, in one month."""
    r = icb_plan.rounds_table()
    spans = r.groupby(["connector", "month"]).apply(_span, include_groups=False)
    assert len(spans) == icb_plan.settings["connectors"] * 12
    assert spans.max() <= 3000, spans.idxmax()


@pytest.mark.slow
def test_each_connector_stays_in_one_locality_of_neighbouring_footprints(icb_plan):
    r = icb_plan.rounds_table()
    t = icb_plan.lsoas.set_index("lsoa_code")
    where = r.assign(locality=r["lsoa_code"].map(t["locality"]), pcn=r["lsoa_code"].map(t["pcn_code"]))
    assert (where.groupby("connector")["locality"].nunique() == 1).all()
    # and that is the locality the connector table names
    conn = icb_plan.connectors.set_index("connector")["locality"]
    assert (where["locality"] == where["connector"].map(conn)).all()
    # every LSOA has a locality, each locality holds whole PCN footprints, and each has at least one connector
    assert t["locality"].notna().all()
    fp = t[t["pcn_code"].notna()].groupby("pcn_code")["locality"].nunique()
    assert (fp == 1).all()
    locs = icb_plan.localities
    assert (locs["connectors"] >= 1).all() and locs["connectors"].sum() == icb_plan.settings["connectors"]
    assert 1 < len(locs) <= icb_plan.settings["connectors"]


@pytest.mark.slow
def test_connectors_per_locality_follow_core20_households_by_largest_remainder(icb_plan):
    """The allocation is stated in targets.csv: recompute it from the file's own columns."""
    import io

    from targeting.publish import plan_files

    csv = pd.read_csv(io.BytesIO(plan_files(icb_plan)["targets.csv"]))
    locs = csv.drop_duplicates("locality").sort_values("locality")
    assert len(locs) == len(icb_plan.localities)
    # the Core20 households of each locality are those of its Core20 LSOAs in the same file
    core = csv[csv["core20"]].groupby("locality")["households"].sum()
    assert (locs.set_index("locality")["locality_core20_households"] == core.reindex(locs["locality"])).all()
    want = allocate_connectors(locs["locality_core20_households"].to_numpy(), icb_plan.settings["connectors"],
                               tie=locs["locality_plus_households"].to_numpy())
    assert want.tolist() == locs["locality_connectors"].tolist()


@pytest.mark.slow
def test_the_cover_names_each_connectors_locality(icb_plan):
    from targeting.render.visit_sheets import visit_sheets_html

    html = visit_sheets_html(icb_plan, connector=1)
    cover = html[:html.index('<section class="sheet round">')]
    assert "<th>Locality</th>" in cover and "<h2>Localities</h2>" in cover and "by largest remainder" in cover
    for _, loc in icb_plan.localities.iterrows():
        assert f"<td class='n'>{loc['core20_households']:,}</td>" in cover
    for name in icb_plan.localities["locality_name"]:
        assert name.replace("&", "&amp;") in cover
    first = html[html.index('<section class="sheet round">'):]
    assert "Locality: " + icb_plan.localities["locality_name"].iloc[0].replace("&", "&amp;") in first
    assert "Walk between the stops in order: about " in first


@pytest.mark.slow
def test_core20_comes_first_in_calendar_time_within_each_locality(icb_plan):
    r = icb_plan.rounds_table()
    loc = icb_plan.lsoas.set_index("lsoa_code")["locality"]
    r = r.assign(locality=r["lsoa_code"].map(loc))
    checked = 0
    for name, g in r.groupby("locality"):
        if not g["core20"].any():
            continue
        last = g.loc[g["core20"], "month"].max()
        assert not (~g["core20"] & (g["month"] < last)).any(), name
        checked += 1
    assert checked == len(icb_plan.localities)
