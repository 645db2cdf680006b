import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely

from targeting.areas import AreaNotFound, lsoas_in, resolve_icb
from targeting.outreach import ROUND_COLUMNS, TARGET_COLUMNS, plan_outreach, scenario
from targeting.scope import make_scope

BRADFORD_PCN = "U37316"  # BRADFORD CITY 4 PCN: practices in Bradford LAD, NHS West Yorkshire ICB
WEST_YORKSHIRE = "E54000054"


def _majority_pcns(atlas) -> pd.DataFrame:
    """Independent footprint: for each LSOA 2021, the PCN(s) holding the most of its registered residents."""
    reg = atlas.registrations21.merge(atlas.practices[["practice_code", "pcn_code"]], on="practice_code")
    reg = reg[reg["pcn_code"] != "U"]  # practices outside any PCN never receive an LSOA
    g = reg.groupby(["lsoa_code", "pcn_code"], as_index=False)["patients"].sum()
    top = g.groupby("lsoa_code")["patients"].transform("max")
    return g[g["patients"] == top]


@pytest.fixture(scope="module")
def pcn_plans(each_atlas):
    return {
        "default": plan_outreach(make_scope(each_atlas, kind="pcn", code=BRADFORD_PCN)),
        "big": plan_outreach(make_scope(each_atlas, kind="pcn", code=BRADFORD_PCN),
                             connectors=2, capacity=400, months=6),
    }


@pytest.fixture(scope="module")
def icb_plan(each_atlas):
    return plan_outreach(make_scope(each_atlas, kind="icb", code=WEST_YORKSHIRE),
                         connectors=12, capacity=300, months=12)


def _all_plans(pcn_plans, icb_plan):
    return [*pcn_plans.values(), icb_plan]


def test_the_bradford_pcn_is_in_bradford_and_west_yorkshire(each_atlas):
    practices = each_atlas.practices[each_atlas.practices["pcn_code"] == BRADFORD_PCN]
    assert len(practices) >= 2
    assert set(practices["icb_code_nhs"]) == {"QWO"}
    bradford = each_atlas.lsoa21[each_atlas.lsoa21["lad_name"] == "Bradford"]
    pts = practices.to_crs(4326).geometry
    assert pts.apply(lambda p: bradford.geometry.contains(p).any()).all()


def _check_contiguous(plan):
    for pid, members in plan.lsoas[plan.lsoas["patch_id"].notna()].groupby("patch_id"):
        merged = shapely.unary_union(members.geometry.buffer(1.0).to_numpy())
        assert merged.geom_type == "Polygon", f"patch {pid} is not contiguous"


def test_every_patch_is_contiguous(pcn_plans, icb_plan):
    for plan in _all_plans(pcn_plans, icb_plan):
        _check_contiguous(plan)
    # The larger capacity really does build multi-LSOA patches.
    assert (pcn_plans["big"].patches["lsoas"] > 1).any()
    assert (icb_plan.patches["lsoas"] > 1).any()


def test_every_target_lies_in_the_pcn_footprint(each_atlas, pcn_plans):
    majority = _majority_pcns(each_atlas)
    mine = set(majority.loc[majority["pcn_code"] == BRADFORD_PCN, "lsoa_code"])
    for plan in pcn_plans.values():
        assert set(plan.lsoas["lsoa_code"]) <= mine
        assert set(plan.lsoas.loc[plan.lsoas["target"], "lsoa_code"]) <= mine
        assert (plan.lsoas["pcn_code"] == BRADFORD_PCN).all()
        # The area is exactly the indicative footprint of targeting.footprints.
        from targeting.footprints import pcn_footprints

        fp = pcn_footprints(each_atlas.edition(2025))
        assert set(plan.lsoas["lsoa_code"]) == set(fp.loc[fp["pcn_code"] == BRADFORD_PCN, "lsoa_code"])
        assert len(plan.lsoas) >= 20


def test_every_target_lies_in_the_icb(each_atlas, icb_plan):
    icb = lsoas_in(each_atlas.edition(2025), resolve_icb(each_atlas, WEST_YORKSHIRE)["icb_code_nhs"])
    assert set(icb_plan.lsoas["lsoa_code"]) == set(icb["lsoa_code"])
    assert set(icb_plan.patches["lsoa_codes"].str.split(";").explode()) <= set(icb["lsoa_code"])


def test_no_connector_is_over_capacity(pcn_plans, icb_plan):
    # Rounds hold the capacity within 10%, so a connector's months add up to at most 1.1 × capacity × months.
    for plan in _all_plans(pcn_plans, icb_plan):
        s = plan.settings
        rounds = plan.pieces[plan.pieces["planned"]]
        assert (rounds["households"] <= 1.1 * s["capacity_per_month"]).all()
        assert (rounds.groupby("connector")["month"].nunique() == rounds.groupby("connector").size()).all()
        assert (rounds["month"] <= s["months"]).all()
        assert (plan.connectors["households"] <= 1.1 * plan.connectors["capacity_households"]).all()
        planned_hh = plan.rounds_table()["households_est"].sum()
        assert planned_hh == plan.connectors["households"].sum() == plan.lsoas["households_planned"].sum()


def test_every_core20_lsoa_is_planned_or_listed_with_a_reason(pcn_plans, icb_plan):
    for plan in _all_plans(pcn_plans, icb_plan):
        t = plan.lsoas
        core20 = t[t["core20"]]
        assert len(core20) > 0
        assert core20["target"].all()
        assert core20["status"].isin(["planned", "part planned", "waiting"]).all()
        waiting = core20[core20["status"] != "planned"]
        assert (waiting["reason"].str.len() > 20).all()
        planned = core20[core20["status"] != "waiting"]
        assert planned["connector"].notna().all() and planned["visit_order"].notna().all()
        # Every LSOA that is not planned says why.
        assert (t.loc[t["status"] != "planned", "reason"].str.len() > 0).all()


def test_totals_reconcile_with_the_atlas(each_atlas, pcn_plans, icb_plan):
    for plan in _all_plans(pcn_plans, icb_plan):
        rows = each_atlas.lsoa21[each_atlas.lsoa21["lsoa_code"].isin(plan.lsoas["lsoa_code"])]
        assert len(rows) == len(plan.lsoas) == plan.lsoas["lsoa_code"].nunique()
        assert plan.lsoas["households"].sum() == rows["households"].sum()
        assert plan.lsoas["population"].sum() == rows["residents"].sum()
        assert plan.lsoas["eligible_40_74"].sum() == rows["aged_40_74"].sum()
        targets = plan.lsoas[plan.lsoas["target"]]
        assert plan.patches["households"].sum() == targets["households"].sum()
        assert plan.patches["population"].sum() == targets["population"].sum()
        assert plan.patches["lsoas"].sum() == len(targets)
    wy = each_atlas.lsoa21[each_atlas.lsoa21["icb_code_nhs"] == "QWO"]
    assert icb_plan.lsoas["households"].sum() == wy["households"].sum()
    assert icb_plan.lsoas["population"].sum() == wy["residents"].sum()


def test_core20_and_plus_flags_come_from_the_atlas(each_atlas, icb_plan):
    a = each_atlas.lsoa21.set_index("lsoa_code")
    t = icb_plan.lsoas.set_index("lsoa_code")
    assert (t["core20"] == a.loc[t.index, "imd25_core20"]).all()
    assert (t["imd_decile"] == a.loc[t.index, "imd25_decile"]).all()
    assert int(t["core20"].sum()) == int(a.loc[t.index, "imd25_core20"].sum()) > 0


@pytest.mark.slow
def test_west_yorkshire_has_1434_lsoas_and_many_core20_neighbourhoods(atlas):
    icb = lsoas_in(atlas.edition(2025), resolve_icb(atlas, WEST_YORKSHIRE)["icb_code_nhs"])
    assert len(icb) == 1434
    # West Yorkshire has many Core20 neighbourhoods (IoD 2025 deciles 1–2).
    assert int(icb["imd25_core20"].sum()) > 300


def test_visit_orders_run_from_one_and_start_with_the_top_priority(pcn_plans, icb_plan):
    for plan in _all_plans(pcn_plans, icb_plan):
        for c, mine in plan.lsoas[plan.lsoas["connector"].notna()].groupby("connector"):
            assert sorted(mine["visit_order"]) == list(range(1, len(mine) + 1)), c
        top = plan.lsoas.sort_values("priority_rank").iloc[0]
        if top["target"]:
            # Connector 1's first month starts in the highest-priority neighbourhood.
            assert top["connector"] == 1 and top["visit_order"] == 1 and top["first_month"] == 1
            r = plan.rounds_table()
            assert top["lsoa_code"] in set(r.loc[(r["connector"] == 1) & (r["month"] == 1), "lsoa_code"])


def test_health_check_figures_are_carried_per_lsoa_and_patch(pcn_plans):
    plan = pcn_plans["big"]
    t = plan.lsoas
    assert (t["eligible_40_74"] <= t["population"]).all()
    for col in ("hypertension_not_on_register_16plus", "hypertension_undiagnosed_phe_16plus"):
        assert (t[col] > 0).all()
        assert (t[f"{col}_lower"] <= t[col]).all() and (t[col] <= t[f"{col}_upper"]).all()
    # PHE's undiagnosed component is part of the people not on a register, never more
    assert t["hypertension_undiagnosed_phe_16plus"].sum() < t["hypertension_not_on_register_16plus"].sum()
    assert (t["health_check_new_hypertension_low"] <= t["health_check_new_hypertension"]).all()
    assert (t["health_check_new_hypertension"] <= t["health_check_new_hypertension_high"]).all()
    assert (t["health_check_new_hypertension_high"] <= t["eligible_40_74"]).all()
    assert (t["smi_register"] > 0).all() and (t["ld_register"] > 0).all()
    for col in ("eligible_40_74", "hypertension_not_on_register_16plus", "hypertension_undiagnosed_phe_16plus",
                "health_check_new_hypertension", "smi_register", "ld_register"):
        per_patch = t[t["target"]].groupby("patch_id")[col].sum()
        got = plan.patches.set_index("patch_id")[col]
        assert np.allclose(got.loc[per_patch.index], per_patch, atol=0.2 * plan.patches["lsoas"].max())


def test_months_to_cover_is_at_least_the_arithmetic_bound(pcn_plans, icb_plan):
    for plan in _all_plans(pcn_plans, icb_plan):
        s = plan.settings
        cap = s["capacity_per_month"]
        locs = plan.localities
        assert locs["connectors"].sum() == s["connectors"]
        assert plan.months_to_cover == locs["months_to_cover"].max()
        for _, loc in locs.iterrows():
            # Each locality's connectors visit its Core20 and PLUS households. A round holds the capacity within
            # 10%, or is short with its reason (issue 22: stops over 3 km apart, a postcode kept whole), so its
            # months lie between these arithmetic bounds.
            hh = loc["core20_households"] + loc["plus_households"]
            k = loc["connectors"]
            short = int(((plan.pieces["locality"] == loc["locality"]) & (plan.pieces["short"] != "")).sum())
            low = math.ceil(hh / (k * 1.1 * cap))
            high = math.ceil(hh / (k * 0.9 * cap) + short / k) + 1
            assert low <= loc["months_to_cover"] <= high, loc["locality"]


def test_more_connectors_plan_more_neighbourhoods(each_atlas):
    few = plan_outreach(make_scope(each_atlas, kind="pcn", code=BRADFORD_PCN), connectors=1)
    many = plan_outreach(make_scope(each_atlas, kind="pcn", code=BRADFORD_PCN), connectors=6)
    assert (many.lsoas["status"] == "planned").sum() > (few.lsoas["status"] == "planned").sum()
    assert many.months_to_cover < few.months_to_cover


def test_imd_2019_uses_the_bridged_edition(each_atlas):
    plan = plan_outreach(make_scope(each_atlas, imd=2019, kind="pcn", code=BRADFORD_PCN))
    a = each_atlas.lsoa21.set_index("lsoa_code").loc[plan.lsoas["lsoa_code"]]
    assert (plan.lsoas["core20"].to_numpy() == a["imd19_core20"].to_numpy()).all()
    assert (plan.lsoas["imd_edition"] == 2019).all()
    assert "IMD 2019" in plan.lsoas["why"].iloc[0]


def test_score_cut_adds_targets(each_atlas, pcn_plans):
    base = pcn_plans["default"]
    cut = plan_outreach(make_scope(each_atlas, kind="pcn", code=BRADFORD_PCN), score_cut=0)
    assert cut.lsoas["target"].all()
    assert cut.lsoas["target"].sum() >= base.lsoas["target"].sum()


def test_scenario_shares_grow_with_time_and_reach_everyone(pcn_plans):
    plan = pcn_plans["default"]
    s = scenario(plan, connectors=(1, 3), capacities=(100, 400), months=(3, 6, 12))
    assert len(s) == 12
    assert s["share_covered"].between(0, 1).all()
    for _, g in s.groupby(["connectors", "capacity"]):
        assert g.sort_values("months")["share_covered"].is_monotonic_increasing
    assert (s["households_visited"] <= 1.1 * s["connectors"] * s["capacity"] * s["months"]).all()
    full = scenario(plan, connectors=(40,), capacities=(2000,), months=(12,))
    assert full["share_covered"].iloc[0] == pytest.approx(1.0)


@pytest.mark.parametrize("area, kwargs, exc, words", [
    (("pcn", "U00000"), {}, AreaNotFound, "No PCN matches 'U00000'"),
    (("icb", "Nowhere ICB"), {}, AreaNotFound, "No ICB matches"),
    ((None, None), {}, ValueError, "exactly one area"),  # all of England is not one plan
    (("practice", "B83002"), {}, ValueError, "exactly one area"),
    (("pcn", BRADFORD_PCN), {"connectors": 0}, ValueError, "connectors"),
    (("pcn", BRADFORD_PCN), {"capacity": -5}, ValueError, "capacity"),
    (("pcn", BRADFORD_PCN), {"weights": "wealth=1"}, ValueError, "unknown weight 'wealth'"),
])
def test_bad_requests_get_clear_errors(each_atlas, area, kwargs, exc, words):
    with pytest.raises(exc, match=words):  # an unknown area is refused where the scope is made, at the edge
        plan_outreach(make_scope(each_atlas, kind=area[0], code=area[1]), **kwargs)


def test_cli_writes_the_plan_files(tmp_path, capsys, small_cli):
    from targeting.cli import main

    out = tmp_path / "plan"
    code = main(["targets", "--pcn", BRADFORD_PCN, "--connectors", "2", "--capacity", "300",
                 "--weights", "deprivation=0.5,plus=0.3", "--scenario", "--out", str(out)])
    assert code == 0
    csv = pd.read_csv(out / "targets.csv")
    for col in ("lsoa_code", "lsoa_name", "priority_score", "score_deprivation", "points_plus", "core20", "plus",
                "households", "population", "eligible_40_74", "hypertension_not_on_register_16plus",
                "hypertension_undiagnosed_phe_16plus",
                "health_check_new_hypertension", "patch_id", "connector", "visit_order", "first_month", "last_month"):
        assert col in csv.columns
    assert list(csv.columns) == [*TARGET_COLUMNS, "area", "settings"]
    assert set(csv["core20"].astype(str).str.lower()) <= {"true", "false"}
    geo = json.loads((out / "patches.geojson").read_text())
    assert geo["type"] == "FeatureCollection"
    assert len(geo["features"]) == csv["patch_id"].nunique()
    assert any("Open Government Licence" in s for s in geo["sources"])
    x, y = geo["features"][0]["geometry"]["coordinates"][0][0][0][:2] if geo["features"][0]["geometry"][
        "type"] == "MultiPolygon" else geo["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert -2.0 < x < -1.6 and 53.7 < y < 53.9  # Bradford, in lon/lat
    html = (out / "visit_sheets.html").read_text()
    assert "size: A4" in html and "page-break-after" in html
    rounds = pd.read_csv(out / "rounds.csv")
    assert list(rounds.columns) == ROUND_COLUMNS
    # coordinates are numbers a GIS reads (not text escaped as a formula), to 6 decimals
    assert rounds["lon"].dtype == float and rounds["lon"].between(-2.0, -1.6).all()
    assert rounds["lat"].between(53.7, 53.9).all() and "'-" not in (out / "rounds.csv").read_text()
    assert set(rounds["connector"]) == {1, 2} and rounds["month"].between(1, 12).all()
    assert html.count("<h2>Connector ") == rounds.groupby(["connector", "month"]).ngroups
    pts = json.loads((out / "rounds.geojson").read_text())
    assert len(pts["features"]) == len(rounds)
    assert "not a verdict" in html and "Open Government Licence" in html
    assert "<svg" in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "wrote" in capsys.readouterr().err
    scen = pd.read_csv(out / "scenario.csv")
    assert set(scen["connectors"]) == {1, 2, 4, 8} and set(scen["capacity"]) == {150, 300, 600}
    assert set(scen["months"]) == {3, 6, 12} and scen["share_covered"].between(0, 1).all()


def test_cli_reports_bad_input_without_a_traceback(tmp_path, capsys, small_cli):
    from targeting.cli import main

    assert main(["targets", "--pcn", BRADFORD_PCN, "--weights", "plus=abc", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "weight plus='abc' is not a number" in err and "Traceback" not in err
    assert main(["targets", "--pcn", "NOPE1", "--out", str(tmp_path)]) == 2
    assert "No PCN matches" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_an_area_with_no_core20_or_plus_neighbourhood_gives_an_empty_plan(atlas):
    from targeting.render.visit_sheets import visit_sheets_html

    code = "U02049"  # SOUTH TANDRIDGE PCN, Surrey: no Core20 LSOA in its footprint
    plan = plan_outreach(make_scope(atlas, kind="pcn", code=code))
    rows = atlas.lsoa21.set_index("lsoa_code").loc[plan.lsoas["lsoa_code"]]
    assert not rows["imd25_core20"].any()
    assert (plan.lsoas["status"] == "not a target").all()
    assert plan.patches.empty and plan.months_to_cover is None
    assert (plan.connectors["households"] == 0).all()
    assert "There are no Core20 or PLUS households" in visit_sheets_html(plan)
    assert json.loads(plan.patches_geojson())["features"] == []
    assert (scenario(plan, connectors=(1,), capacities=(100,))["share_covered"] == 0).all()


def test_names_and_start_month_go_on_rounds_csv_the_cover_and_every_sheet(tmp_path, capsys, small_cli):
    """Issue 22: --names and --start; before, connectors were "Connector 1" and months "month 1", no dates."""
    from targeting.cli import main

    out = tmp_path / "named"
    assert main(["targets", "--pcn", BRADFORD_PCN, "--names", "Asha,=HYPERLINK(1),<b>Chloe</b>", "--start",
                 "2027-01", "--capacity", "300", "--months", "4", "--out", str(out)]) == 0
    rounds = pd.read_csv(out / "rounds.csv")
    assert list(rounds.columns) == ROUND_COLUMNS and ROUND_COLUMNS[-2:] == ["connector_name", "month_start"]
    assert set(rounds["connector"]) == {1, 2, 3}  # as many connectors as names
    names = {1: "Asha", 2: "'=HYPERLINK(1)", 3: "<b>Chloe</b>"}  # a formula is never run by a spreadsheet
    assert (rounds["connector_name"] == rounds["connector"].map(names)).all()
    assert (rounds["month_start"] == rounds["month"].map({1: "2027-01", 2: "2027-02", 3: "2027-03",
                                                          4: "2027-04"})).all()
    html = (out / "visit_sheets.html").read_text()
    assert "<b>Chloe</b>" not in html and "&lt;b&gt;Chloe&lt;/b&gt; (connector 3) · month 4 · April 2027" in html
    assert html.count("<h2>Asha (connector 1) · month ") == 4
    cover = html[:html.index('<section class="sheet round">')]
    assert "<b>January 2027</b> to <b>April 2027</b>" in cover
    assert "<td>Asha</td>" in cover and "January 2027 – April 2027" in cover


@pytest.mark.parametrize("argv, words", [
    (["--names", "Asha,Asha"], "names must differ"),
    (["--names", "Asha,Ben", "--connectors", "3"], "2 name(s) given for 3 connector(s)"),
    (["--start", "2027-13"], "start month must be written YYYY-MM"),
])
def test_bad_names_and_months_are_refused_in_one_line(tmp_path, capsys, small_cli, argv, words):
    from targeting.cli import main

    assert main(["targets", "--pcn", BRADFORD_PCN, *argv, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and not (tmp_path / "x").exists()


def test_a_plan_is_made_again_from_what_was_done(tmp_path, capsys, small_cli, small_atlas):
    """Issue 22: --done takes rounds.csv with a done column; visited households are not planned again."""
    from targeting.cli import main

    first = tmp_path / "first"
    assert main(["targets", "--pcn", BRADFORD_PCN, "--names", "Asha,Ben", "--start", "2027-01", "--out",
                 str(first)]) == 0
    r = pd.read_csv(first / "rounds.csv", dtype={"month_start": str})
    # months 1 and 2 done (true), and Asha's month 3 done with the date it was walked; the rest not done
    r["done"] = np.where(r["month"] <= 2, "true", np.where((r["month"] == 3) & (r["connector"] == 1),
                                                            "2027-03-20", "false"))
    r.to_csv(tmp_path / "rounds_done.csv", index=False)
    visited = r[r["done"] != "false"]
    again = tmp_path / "again"
    assert main(["targets", "--pcn", BRADFORD_PCN, "--names", "Asha,Ben", "--done",
                 str(tmp_path / "rounds_done.csv"), "--out", str(again)]) == 0
    err = capsys.readouterr().err
    assert f"done so far: about {visited['households_est'].sum():,} households" in err
    assert "the rest planned from 2027-04" in err  # the month after the last one done
    new = pd.read_csv(again / "rounds.csv", dtype={"month_start": str})
    assert new["month_start"].min() == "2027-04" and set(new["connector_name"]) == {"Asha", "Ben"}
    # no household is planned twice: at each postcode, visited + planned again <= its estimate
    est = small_atlas.postcodes.set_index("postcode")["households_est"]
    seen = visited.groupby("postcode")["households_est"].sum()
    again_hh = new.groupby("postcode")["households_est"].sum()
    both = pd.concat([seen, again_hh], axis=1).fillna(0).sum(axis=1)
    assert (both <= est.reindex(both.index)).all()
    assert not set(visited["postcode"]) & set(new["postcode"])  # whole postcodes were walked, so none comes back
    # Core20 first still: the new plan starts where the first stopped, in Core20 neighbourhoods
    assert new.loc[new["month"] == 1, "core20"].all()
    t = pd.read_csv(again / "targets.csv")
    assert t["households_visited"].sum() == visited["households_est"].sum()
    html = (again / "visit_sheets.html").read_text()
    assert "Progress so far" in html and "up to March 2027" in html
    assert f"about <b>{visited['households_est'].sum():,}</b> households visited" in html
    assert "April 2027" in html


def test_a_done_file_that_cannot_be_read_is_refused(tmp_path, capsys, small_cli):
    from targeting.cli import main

    bad = tmp_path / "done.csv"
    bad.write_text("postcode,households_est,done\nBD3 9AA,20,perhaps\n")
    assert main(["targets", "--pcn", BRADFORD_PCN, "--done", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert "row 2: done 'perhaps' is neither true/false nor a date" in capsys.readouterr().err
    assert main(["targets", "--pcn", BRADFORD_PCN, "--done", str(tmp_path / "none.csv"), "--out",
                 str(tmp_path / "x")]) == 2
    assert "no done file at" in capsys.readouterr().err


def test_when_everything_was_done_the_plan_says_so(small_atlas):
    from targeting.programme import read_done
    from targeting.render.visit_sheets import visit_sheets_html

    whole = plan_outreach(make_scope(small_atlas, kind="pcn", code=BRADFORD_PCN), connectors=10, months=120)
    assert (whole.lsoas.loc[whole.lsoas["target"], "status"] == "planned").all()
    done = read_done(whole.rounds_table().assign(done="true").to_csv(index=False).encode())
    again = plan_outreach(make_scope(small_atlas, kind="pcn", code=BRADFORD_PCN), done=done)
    t = again.lsoas[again.lsoas["target"]]
    assert (t["status"] == "visited").all() and (t["households_visited"] == t["households"]).all()
    assert again.rounds_table().empty and again.months_to_cover is None
    html = visit_sheets_html(again)
    assert "nothing is left to plan" in html and "There are no Core20 or PLUS households" not in html
