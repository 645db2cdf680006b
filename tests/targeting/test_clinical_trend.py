"""QOF trends per register (targeting.clinical.qof_trend and ``clinical --trend``) on the real QOF files.

Every expected figure is recomputed here with pandas from the raw prevalence files of each year in the data folder
(``QOF_2020-21_PREVALENCE_2021_v2.csv``, ``QOF_2021-22_PREVALENCE_2122.csv.gz``,
``QOF_2022-23_PREVALENCE_2223.csv.gz``, ``QOF_2024-25_PREVALENCE_2425.csv.gz``) and the July 2022 practice map
(``gp-reg-pat-prac-map_2022-07.csv``: a PCN's practices, the same for every year). QOF 2023-24 is not in the data
and must come out as a row with no value, never interpolated.
"""

import io

import numpy as np
import pandas as pd
import pytest

from targeting import clinical
from targeting.cli import main
from targeting.scope import make_scope
from targeting.stats import wilson_ci

PCN = "U37316"  # Bradford City 4 PCN, NHS West Yorkshire ICB
FILES = {"2020-21": "QOF_2020-21_PREVALENCE_2021_v2.csv", "2021-22": "QOF_2021-22_PREVALENCE_2122.csv.gz",
         "2022-23": "QOF_2022-23_PREVALENCE_2223.csv.gz", "2024-25": "QOF_2024-25_PREVALENCE_2425.csv.gz"}
YEARS = ["2020-21", "2021-22", "2022-23", "2023-24", "2024-25"]
GAP = "not bundled: QOF 2023-24 is not in the data"


def _raw(folder, year, group):
    q = pd.read_csv(folder / "gp/qof" / FILES[year], dtype={"PRACTICE_CODE": str}, encoding="latin-1")
    return q[q["GROUP_CODE"] == group]


def _members(folder, pcn, month="2022-07"):
    name = {"2022-07": "gp-reg-pat-prac-map_2022-07.csv", "2026-07": "gp-reg-pat-prac-map_2026-07.zip"}[month]
    m = pd.read_csv(folder / "gp" / name, dtype=str)
    return set(m.loc[m["PCN_CODE"] == pcn, "PRACTICE_CODE"])


def _check_trend(t, folder, group, members):
    assert list(t.columns) == list(clinical.TREND_COLUMNS)
    assert t["qof_year"].tolist() == YEARS
    gap = t.set_index("qof_year").loc["2023-24"]
    assert gap["status"] == "not bundled" and gap["note"] == GAP and "not bundled" in gap["source"]
    assert gap[["value", "lower", "upper", "register", "list_size", "england_value"]].isna().all()
    for row in t[t["qof_year"] != "2023-24"].itertuples(index=False):
        raw = _raw(folder, row.qof_year, group)
        mine = raw if members is None else raw[raw["PRACTICE_CODE"].isin(members)]
        x, n = int(mine["REGISTER"].sum()), int(mine["PRACTICE_LIST_SIZE"].sum())
        assert (row.register, row.list_size, row.practices) == (x, n, len(mine)), row.qof_year
        assert row.value == pytest.approx(100 * x / n, abs=1e-12)
        lo, hi = wilson_ci(x, n)
        assert (row.lower, row.upper) == pytest.approx((100 * lo, 100 * hi), abs=1e-12)
        eng = raw["REGISTER"].sum() / raw["PRACTICE_LIST_SIZE"].sum()
        assert row.england_value == pytest.approx(100 * eng, abs=1e-12)
        assert row.status == "available" and FILES[row.qof_year] in row.source and f"QOF {row.qof_year}" in row.source
        publisher = "NHS England" if row.qof_year == "2024-25" else "NHS Digital"
        assert row.source.startswith(f"{publisher} QOF {row.qof_year} prevalence")


def test_a_pcns_hypertension_trend_is_its_practices_registers_over_lists_in_each_year(small_atlas, small_data):
    members = _members(small_data, PCN)
    t = clinical.qof_trend(make_scope(small_atlas, kind="pcn", code=PCN), "HYP")
    _check_trend(t, small_data, "HYP", members)
    assert (t["code"] == PCN).all() and (t["name"] == "Bradford City 4 PCN").all()
    assert (t["member_practices"] == len(members)).all() and (t["level"] == "pcn").all()
    # the same practices every year, from the atlas's practice map, and every row says so
    present = t[t["status"] == "available"]
    assert present["source"].str.contains("practice → PCN map of July 2022, the same for every year").all()
    assert t.attrs == {"level": "pcn", "code": PCN, "name": "Bradford City 4 PCN", "group_code": "HYP",
                       "practice_map": "July 2022"}
    # a member practice without a row in a year is left out of that year and counted in the note
    for row in present.itertuples(index=False):
        left = len(members) - row.practices
        assert (f"{left} of {len(members)} member practice(s) have no QOF {row.qof_year} HYP row" in row.note
                if left else row.note == "")
    # the PCN's ICB pools its practices of the same map in each year
    icb = set(small_atlas.practices.loc[small_atlas.practices["icb_code_nhs"] == "QWO", "practice_code"])
    for row in present.itertuples(index=False):
        raw = _raw(small_data, row.qof_year, "HYP")
        raw = raw[raw["PRACTICE_CODE"].isin(icb)]
        assert row.icb_value == pytest.approx(100 * raw["REGISTER"].sum() / raw["PRACTICE_LIST_SIZE"].sum())


def test_england_icb_and_practice_trends(small_atlas, small_data):
    # "England" of the small atlas is every practice in the extracts of each year's file
    _check_trend(clinical.qof_trend(make_scope(small_atlas), "qof_mh"), small_data, "MH", None)
    icb = set(small_atlas.practices.loc[small_atlas.practices["icb_code_nhs"] == "QWO", "practice_code"])
    t = clinical.qof_trend(make_scope(small_atlas, kind="icb", code="NHS West Yorkshire"), "COPD")
    _check_trend(t, small_data, "COPD", icb)
    assert (t["code"] == "QWO").all() and t["icb_value"].isna().all()
    p = clinical.qof_trend(make_scope(small_atlas, kind="practice", code="B83052"), "DM")
    _check_trend(p, small_data, "DM", {"B83052"})
    assert (p.loc[p["status"] == "available", "list_type"] == "17OV").all()


def test_trend_refuses_what_it_cannot_answer(small_atlas):
    with pytest.raises(LookupError, match=r"No QOF register 'XYZ'.*HYP"):
        clinical.qof_trend(make_scope(small_atlas, kind="pcn", code=PCN), "XYZ")
    with pytest.raises(ValueError, match="level"):  # a local authority has no practices of its own
        clinical.qof_trend(make_scope(small_atlas, kind="lad", code="Bradford"), "HYP")
    with pytest.raises(LookupError):
        clinical.qof_trend(make_scope(small_atlas, kind="pcn", code="U00000"), "HYP")
    assert clinical.qof_years(small_atlas) == ["2020-21", "2021-22", "2022-23", "2024-25"]


def test_cli_prints_the_trend_as_csv(small_cli, small_data, capsys):
    code = main(["clinical", "--pcn", PCN, "--trend", "HYP"])
    out, err = capsys.readouterr()
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out), dtype={"qof_year": str})
    assert list(df.columns) == list(clinical.TREND_COLUMNS) and df["qof_year"].tolist() == YEARS
    gap = df.set_index("qof_year").loc["2023-24"]
    assert np.isnan(gap["value"]) and gap["note"] == GAP
    raw = _raw(small_data, "2024-25", "HYP")
    raw = raw[raw["PRACTICE_CODE"].isin(_members(small_data, PCN))]
    last = df.set_index("qof_year").loc["2024-25"]
    assert last["register"] == raw["REGISTER"].sum() and last["list_size"] == raw["PRACTICE_LIST_SIZE"].sum()
    assert last["value"] == pytest.approx(100 * raw["REGISTER"].sum() / raw["PRACTICE_LIST_SIZE"].sum(), abs=5e-4)
    assert "the practice → PCN map of July 2022, the same for every year" in err and "QOF 2023-24" in err

    code = main(["clinical", "--england", "--trend", "MH"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (pd.read_csv(io.StringIO(out))["code"] == "E92000001").all()
    for argv, says in ((["--england"], "--england goes with --trend"),
                       (["--pcn", PCN, "--trend", "HYP", "--qof-year", "2022-23"], "--trend shows every QOF year"),
                       (["--pcn", PCN, "--qof-year", "2023-24"], "'2023-24' is not in the data"),
                       (["--pcn", PCN, "--trend", "NOPE"], "No QOF register 'NOPE'")):
        code = main(["clinical", *argv])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and says in err, (argv, err)


def test_july_2026_membership_is_used_for_every_year(small_cli, small_data, capsys):
    # the atlas of July 2026: the PCN's practices of the July 2026 map (5 in Bradford City 4), in every QOF year
    from geo.atlas import load

    atlas = load(progress=False, registrations="2026-07")
    assert clinical.practice_map_label(atlas) == "July 2026"
    members = _members(small_data, PCN, "2026-07")
    assert members == set(atlas.practices.loc[atlas.practices["pcn_code"] == PCN, "practice_code"])
    assert members != _members(small_data, PCN)  # practices moved PCN between 2022 and 2026
    t = clinical.qof_trend(make_scope(atlas, kind="pcn", code=PCN), "HYP")
    _check_trend(t, small_data, "HYP", members)
    assert t.loc[t["status"] == "available", "source"].str.contains("map of July 2026, the same for every").all()
    s = clinical.summary(make_scope(atlas, kind="pcn", code=PCN))
    assert s.attrs["practice_map"] == "July 2026" and s.attrs["qof_year"] == "2024-25"
    hyp = s[s["measure"].str.startswith("Hypertension register")].iloc[0]
    assert "practice → PCN map July 2026" in hyp["source"]
    assert hyp["numerator"] == t.set_index("qof_year").loc["2024-25", "register"]

    code = main(["clinical", "--pcn", PCN, "--trend", "HYP", "--registrations", "2026-07"])
    out, err = capsys.readouterr()
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out), dtype={"qof_year": str}).set_index("qof_year")
    assert df.loc["2024-25", "register"] == t.set_index("qof_year").loc["2024-25", "register"]
    assert "practice → PCN map of July 2026, the same for every year" in err


@pytest.mark.slow
def test_england_hypertension_trend_ends_at_15_23_percent(atlas, data_dir):
    t = clinical.qof_trend(make_scope(atlas), "HYP")
    _check_trend(t, data_dir, "HYP", None)
    assert t.set_index("qof_year")["value"].round(2).to_dict() == pytest.approx(
        {"2020-21": 13.93, "2021-22": 13.97, "2022-23": 14.42, "2023-24": np.nan, "2024-25": 15.23}, nan_ok=True)


@pytest.mark.slow
def test_a_pcns_trend_on_the_national_atlas(atlas, data_dir):
    members = set(atlas.practices.loc[atlas.practices["pcn_code"] == PCN, "practice_code"])
    if clinical.practice_map_label(atlas) == "July 2022":  # another month's atlas has that month's members
        assert members == _members(data_dir, PCN)
    _check_trend(clinical.qof_trend(make_scope(atlas, kind="pcn", code=PCN), "HYP"), data_dir, "HYP", members)
