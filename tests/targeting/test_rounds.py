"""Postcode rounds on the real data: campaign months, caseload neighbourhoods, deprivation-first priority."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from targeting.outreach import ROUND_COLUMNS, _footprints, plan_outreach
from targeting.patches import lsoa_adjacency
from targeting.rounds import walking_order

pytestmark = pytest.mark.slow  # national atlas: Birmingham, West Yorkshire and Bradford plans

BIRMINGHAM_EAST_CENTRAL = "U79433"
BRADFORD_PCN = "U37316"  # BRADFORD CITY 4 PCN


@pytest.fixture(scope="module")
def campaign(atlas):
    return plan_outreach(atlas, pcn=BIRMINGHAM_EAST_CENTRAL, connectors=3, capacity=100, months=12)


@pytest.fixture(scope="module")
def caseload(atlas):
    return plan_outreach(atlas, pcn=BRADFORD_PCN, connectors=10, capacity=100, mode="caseload")


@pytest.fixture(scope="module")
def west_yorkshire_plans(atlas):
    pcns = atlas.pcns.loc[atlas.pcns["icb_code_nhs"] == "QWO", "pcn_code"].tolist()
    fp = _footprints(atlas)
    rows = atlas.lsoa21[atlas.lsoa21["lsoa_code"].isin(fp.loc[fp["pcn_code"].isin(pcns), "lsoa_code"])]
    adjacency = lsoa_adjacency(rows)
    plans = []
    for code in pcns:
        if (fp["pcn_code"] == code).any():
            plans.append(plan_outreach(atlas, pcn=code, adjacency=adjacency))
    return plans


def test_every_month_with_targets_waiting_holds_90_to_110_households(campaign):
    t = campaign.lsoas
    assert t["target"].sum() == 21 and (t["status"] != "planned").any()  # 21 targets; more than a year of work
    r = campaign.rounds_table()
    months = r.groupby(["connector", "month"])["households_est"].sum()
    # No connector idles while targets wait: 3 connectors × 12 months, each a round of about 100.
    assert len(months) == 36 and set(months.index.get_level_values(0)) == {1, 2, 3}
    assert months.between(90, 110).all()
    assert months.sum() == t["households_planned"].sum()


def test_every_planned_postcode_lies_in_a_target_lsoa_of_the_footprint(atlas, campaign):
    r = campaign.rounds_table()
    placed = atlas.postcodes.set_index("postcode").loc[r["postcode"]]
    assert (placed["lsoa_code"].to_numpy() == r["lsoa_code"].to_numpy()).all()
    fp = _footprints(atlas)
    footprint = set(fp.loc[fp["pcn_code"] == BIRMINGHAM_EAST_CENTRAL, "lsoa_code"])
    targets = set(campaign.lsoas.loc[campaign.lsoas["target"], "lsoa_code"])
    assert set(r["lsoa_code"]) <= targets <= footprint
    assert list(r.columns) == ROUND_COLUMNS
    assert r["postcode"].str.match(r"^B\d{1,2} \d[A-Z]{2}$").all()  # Birmingham postcodes
    assert r["lat"].between(52.4, 52.55).all() and r["lon"].between(-1.95, -1.75).all()


def test_rounds_split_lsoas_and_households_add_up(atlas, campaign):
    t = campaign.lsoas.set_index("lsoa_code")
    # E01034935 (Birmingham 058G, 832 households) is shared over several months.
    assert t.loc["E01034935", "households"] == 832
    assert t.loc["E01034935", "last_month"] > t.loc["E01034935", "first_month"]
    stops = campaign.rounds
    per = stops.groupby("lsoa_code")["households_est"].sum()
    pc = atlas.postcodes[atlas.postcodes["lsoa_code"].isin(per.index)].groupby("lsoa_code")["households_est"].sum()
    assert (per == pc.loc[per.index]).all()  # every household of a target LSOA is on exactly one round


def test_rounds_stay_compact(campaign, caseload):
    for plan in (campaign, caseload):
        adj = plan.adjacency
        for _, p in plan.pieces[plan.pieces["planned"]].iterrows():
            codes = p["lsoas"].split(";")
            if len(codes) == 1 or p["chains"] > 1:
                continue
            pos = {c: i for i, c in enumerate(codes)}
            e = adj[adj["lsoa_code"].isin(pos) & adj["neighbour_code"].isin(pos)]
            g = coo_matrix((np.ones(len(e)), (e["lsoa_code"].map(pos), e["neighbour_code"].map(pos))),
                           shape=(len(codes), len(codes)))
            assert connected_components(g, directed=False)[0] == 1, p["lsoas"]
        # Rounds that top up from a second area are rare and said so.
        assert (plan.pieces.loc[plan.pieces["planned"], "chains"] > 1).mean() <= 0.1


def test_each_round_is_a_short_walk(campaign):
    r = campaign.rounds_table()
    for _, g in r.groupby(["connector", "month"]):
        xy = g.sort_values("stop")[["easting", "northing"]].to_numpy(dtype=float)
        walked = np.hypot(*np.diff(xy, axis=0).T).sum()
        rng = np.random.default_rng(0)
        shuffled = np.median([np.hypot(*np.diff(xy[rng.permutation(len(xy))], axis=0).T).sum() for _ in range(20)])
        assert walked <= shuffled + 1e-6
        assert walked < 3000  # metres between the first and last stop of a month's round in a city


def test_walking_order_straightens_a_shuffled_street():
    xy = np.array([[0, 0], [300, 0], [100, 0], [400, 0], [200, 0]], dtype=float)
    assert walking_order(xy).tolist() == [0, 2, 4, 1, 3]


def test_no_core20_lsoa_waits_while_a_non_core20_one_is_planned_in_west_yorkshire(west_yorkshire_plans):
    assert len(west_yorkshire_plans) > 50
    for plan in west_yorkshire_plans:
        t = plan.lsoas
        core_waits = t["core20"] & t["status"].isin(["waiting", "part planned"])
        other_planned = ~t["core20"] & (t["households_planned"] > 0)
        assert not (core_waits.any() and other_planned.any()), plan.area["code"]
        assert (t["health_check_new_hypertension"] <= t["eligible_40_74"]).all()
        assert (t["health_check_new_hypertension_high"] <= t["eligible_40_74"]).all()


def test_deprivation_first_order(campaign):
    t = campaign.lsoas.sort_values("priority_rank")
    targets = t[t["target"]]
    assert targets["core20"].is_monotonic_decreasing  # Core20 first
    core = targets[targets["core20"]]
    assert core["imd_rank"].is_monotonic_increasing  # then by national IMD rank
    assert campaign.settings["order"] == "deprivation" and campaign.warnings == []
    assert "Core20, so visited first" in core["why"].iloc[0]


def test_lsoas_are_walked_in_priority_order_within_each_tier(west_yorkshire_plans, campaign):
    """An LSOA is planned in its own turn only once every higher-priority LSOA of its tier is wholly planned.

    The one exception is a short round finished in a neighbour, and the sheet says so for that LSOA.
    """
    checked = top_ups = 0
    for plan in [*west_yorkshire_plans, campaign]:
        t = plan.lsoas[plan.lsoas["target"]].sort_values("priority_rank")
        top_up = t["reason"].str.contains("to finish a round in a neighbouring higher-priority LSOA")
        own_turn = (t["status"] == "planned") | ((t["status"] == "part planned") & ~top_up)
        top_ups += int(top_up.sum())
        for _, tier in t.groupby("tier"):
            if not own_turn[tier.index].any():
                continue
            last = tier.index.get_loc(own_turn[tier.index][::-1].idxmax())  # the last LSOA planned in its turn
            ahead = tier.iloc[:last]
            unplannable = ahead["reason"].str.startswith("no residential postcode")
            assert (ahead["status"].eq("planned") | unplannable).all(), (plan.area["code"], ahead["lsoa_code"])
            checked += 1
    assert checked > 50 and top_ups > 0


def test_weights_that_pass_over_deprived_core20_lsoas_are_said_in_words(atlas):
    plan = plan_outreach(atlas, pcn=BIRMINGHAM_EAST_CENTRAL, weights="deprivation=0,plus=0,undiagnosed=0,"
                                                                     "registration=0,size=1")
    assert plan.settings["order"] == "score"
    assert plan.warnings and "Core20 neighbourhood ranked" in plan.warnings[0]
    assert "more deprived" in plan.warnings[0] and "deprivation-first" in plan.warnings[0]
    from targeting.visit_sheets import visit_sheets_html

    assert "Core20 neighbourhood ranked" in visit_sheets_html(plan)


def test_caseload_neighbourhoods_hold_capacity_within_20_percent(caseload):
    p = caseload.pieces
    assert caseload.settings["mode"] == "caseload" and caseload.months_to_cover is None
    given = p[p["planned"]]
    assert len(given) == 10 and sorted(given["connector"]) == list(range(1, 11))
    assert given["month"].isna().all()
    # Every neighbourhood but the very last remainder holds 80–120 households.
    assert p["households"].iloc[:-1].between(80, 120).all()
    assert given["households"].between(80, 120).all()
    need = caseload.workers_needed
    core_pieces = int((p["core20_households"] > 0).sum())
    assert need["core20"] == core_pieces > 10
    assert need["core20"] <= need["core20plus"] <= len(p)
    r = caseload.rounds_table()
    assert r["month"].isna().all() and set(r["connector"]) == set(range(1, 11))


def test_caseload_cli_reports_workers_needed(tmp_path, capsys):
    from targeting.cli import main

    out = tmp_path / "caseload"
    assert main(["targets", "--pcn", BRADFORD_PCN, "--mode", "caseload", "--connectors", "4", "--out", str(out),
                 "--uptake", "0.4", "--detection", "0.03"]) == 0
    err = capsys.readouterr().err
    assert "Workers needed for every Core20 household:" in err
    r = pd.read_csv(out / "rounds.csv", keep_default_na=False)
    assert (r["month"] == "").all() and set(r["connector"]) == {1, 2, 3, 4}
    html = (out / "visit_sheets.html").read_text()
    assert html.count("<h2>Worker ") == 4
    assert "standing neighbourhood (visit every household every month)" in html
    t = pd.read_csv(out / "targets.csv")
    assert (t["health_check_new_hypertension"] <= t["eligible_40_74"]).all()
    assert np.allclose(t["health_check_new_hypertension"], (t["eligible_40_74"] * 0.7 * 0.4 * 0.03).round(1))
    geo = json.loads((out / "rounds.geojson").read_text())
    assert geo["settings"]["mode"] == "caseload" and len(geo["features"]) == len(r)


def test_bad_mode_and_health_check_values_are_refused(tmp_path, capsys):
    from targeting.cli import main

    assert main(["targets", "--pcn", BRADFORD_PCN, "--uptake", "1.5", "--out", str(tmp_path / "x")]) == 2
    assert "uptake must be a share between 0 and 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="mode"):
        plan_outreach(None, pcn=BRADFORD_PCN, mode="door-to-door")


def test_the_cli_writes_exactly_the_files_the_app_offers(atlas, tmp_path):
    # The app's download buttons and the CLI both take their bytes from targeting.output.plan_files.
    from targeting.cli import main
    from targeting.output import plan_files

    out = tmp_path / "same"
    assert main(["targets", "--pcn", BIRMINGHAM_EAST_CENTRAL, "--out", str(out)]) == 0
    files = plan_files(plan_outreach(atlas, pcn=BIRMINGHAM_EAST_CENTRAL))
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    for name, text in files.items():
        assert (out / name).read_bytes() == text, name


def test_a_chain_goes_on_into_the_next_lsoa_when_it_touches_any_member():
    """Synthetic (the real data cannot isolate it): A, B, C, D in priority order; A–B, A–C and B–D touch.

    After A and B the next LSOA in order is C, which touches A but not B: the chain goes on into C, then D.
    """
    from targeting.rounds import build_rounds

    xy = {"A": (0, 0), "B": (100, 0), "C": (0, 100), "D": (200, 0)}
    lsoas = pd.DataFrame({"lsoa_code": list(xy), "tier": 1, "x": [v[0] for v in xy.values()],
                          "y": [v[1] for v in xy.values()]})
    pc = pd.DataFrame([{"postcode": f"{c} {i}", "lsoa_code": c, "easting": x + i, "northing": y + i,
                        "households_est": 10} for c, (x, y) in xy.items() for i in range(5)])
    pairs = [("A", "B"), ("A", "C"), ("B", "D")]
    adj = pd.DataFrame([{"lsoa_code": a, "neighbour_code": b} for p in pairs for a, b in (p, p[::-1])])
    r = build_rounds(lsoas, pc, adj, chain_cap=1200, capacity=120)
    order = r.stops.drop_duplicates("lsoa_code").sort_values("lsoa_seq")["lsoa_code"].tolist()
    assert order == ["A", "B", "C", "D"] and r.top_ups == {} and set(r.lsoa_chain.values()) == {0}
