"""The Core20PLUS5 clinical-area summary on the real data (QOF 2024-25 by default, QOF 2022-23 when asked for).

Expected prevalences are computed here independently, with pandas, from the raw NHS Digital / NHS England files in
the shared data folder: ``QOF_2022-23_PREVALENCE_2223.csv.gz`` and ``QOF_2024-25_PREVALENCE_2425.csv.gz``
(registers and list sizes) and ``gp-reg-pat-prac-map`` of July 2022 (which practices make up a PCN). The
Fingertips export used below is built by the tests in the published layout with real practice codes and values of
our own (see ``tests/_fingertips_fixture.py``).
"""

import io

import numpy as np
import pandas as pd
import pytest
from _fingertips_fixture import PUBLISHED_HEADER, _line, export_csv

from targeting import clinical, fingertips
from targeting.cli import main
from targeting.scope import make_scope

PCN = "U37316"  # Bradford City 4 PCN, NHS West Yorkshire ICB


@pytest.fixture(scope="module")
def raw_qof(data_dir):
    q = pd.read_csv(data_dir / "gp/qof/QOF_2022-23_PREVALENCE_2223.csv.gz", dtype={"PRACTICE_CODE": str})
    m = pd.read_csv(data_dir / "gp/gp-reg-pat-prac-map_2022-07.csv", dtype=str)
    return q, m


@pytest.fixture(scope="module")
def bradford(atlas):
    export = fingertips.read_fingertips(export_csv(atlas), filename="bowel_screening.csv")
    return clinical.summary(make_scope(atlas, kind="pcn", code=PCN), fingertips=[fingertips.select(export)],
                            qof_year="2022-23")


def _measure(table, area, starts):
    rows = table[(table["area"] == area) & table["measure"].str.startswith(starts)]
    assert len(rows) == 1, (area, starts, table["measure"].tolist())
    return rows.iloc[0]


@pytest.mark.slow
@pytest.mark.parametrize(("group", "area", "starts"), [
    ("HYP", "Hypertension", "Hypertension register"),
    ("MH", "Severe mental illness", "Severe mental illness register"),
    ("COPD", "Chronic respiratory disease", "COPD register"),
])
def test_pcn_prevalence_is_its_practices_registers_over_lists_to_the_patient(bradford, raw_qof, group, area, starts):
    q, m = raw_qof
    members = m.loc[m["PCN_CODE"] == PCN, "PRACTICE_CODE"]
    rows = q[(q["GROUP_CODE"] == group) & q["PRACTICE_CODE"].isin(members)]
    register, listed = int(rows["REGISTER"].sum()), int(rows["PRACTICE_LIST_SIZE"].sum())
    row = _measure(bradford, area, starts)
    assert row["numerator"] == register and row["denominator"] == listed
    assert row["value"] == pytest.approx(100 * register / listed, abs=1e-12)
    assert row["lower"] < row["value"] < row["upper"]
    assert row["period"] == "2022-23" and "QOF 2022-23" in row["source"] and "not true" in row["source"]
    assert "not true prevalence" in row["note"]
    icb = q[(q["GROUP_CODE"] == group) & q["PRACTICE_CODE"].isin(m.loc[m["STP_CODE"] == "QWO", "PRACTICE_CODE"])]
    assert row["icb_value"] == pytest.approx(100 * icb["REGISTER"].sum() / icb["PRACTICE_LIST_SIZE"].sum(), rel=0.02)
    england = q[q["GROUP_CODE"] == group]
    assert row["england_value"] == pytest.approx(100 * england["REGISTER"].sum() / england["PRACTICE_LIST_SIZE"].sum())
    # a proportion in an ICB of ~300 practices: the Core20 gradient is there
    assert np.isfinite(row["sii"]) and row["sii_lower"] <= row["sii"] <= row["sii_upper"]


@pytest.mark.slow
def test_england_hypertension_is_14_42_percent(bradford):
    row = _measure(bradford, "Hypertension", "Hypertension register")
    assert round(row["england_value"], 2) == 14.42
    assert row["value"] < row["england_value"] and row["vs_england"] == "lower"  # 10.6%: a young population


@pytest.mark.slow
def test_the_default_is_qof_2024_25_england_hypertension_15_23_percent(atlas, data_dir):
    q = pd.read_csv(data_dir / "gp/qof/QOF_2024-25_PREVALENCE_2425.csv.gz", dtype={"PRACTICE_CODE": str})
    hyp = q[q["GROUP_CODE"] == "HYP"]
    expected = 100 * hyp["REGISTER"].sum() / hyp["PRACTICE_LIST_SIZE"].sum()
    assert round(expected, 2) == 15.23  # MANIFEST: England HYP 15.23%
    t = clinical.summary(make_scope(atlas, kind="pcn", code=PCN))
    assert t.attrs["qof_year"] == "2024-25" and t.attrs["gap_qof_year"] == "2022-23"
    row = _measure(t, "Hypertension", "Hypertension register")
    assert row["period"] == "2024-25" and row["england_value"] == pytest.approx(expected, abs=1e-12)
    assert "NHS England QOF 2024-25" in row["source"] and f"map {t.attrs['practice_map']}" in row["source"]
    members = atlas.practices.loc[atlas.practices["pcn_code"] == PCN, "practice_code"]
    mine = hyp[hyp["PRACTICE_CODE"].isin(members)]
    assert row["numerator"] == mine["REGISTER"].sum() and row["denominator"] == mine["PRACTICE_LIST_SIZE"].sum()
    gap = _measure(t, "Hypertension", "Hypertension: recorded ÷ expected")
    assert gap["period"] == "2022-23"  # the detection gaps are modelled on QOF 2022-23, and say so


@pytest.mark.slow
def test_every_area_is_there_and_rows_are_available_or_say_where_to_get_the_data(bradford):
    assert list(dict.fromkeys(bradford["area_key"])) == list(clinical.AREAS)
    assert set(bradford["status"]) == {"available", "bring your own data"}
    byod = bradford[bradford["status"] == "bring your own data"]
    assert byod["where"].str.startswith("https://").all() and byod["source"].str.len().gt(10).all()
    assert byod["value"].isna().all()
    sources = " ".join(byod["source"])
    for publication in ("NHS England SMI physical health checks", "Fingertips flu vaccination", "maternity data"):
        assert publication.lower() in sources.lower()
    # the cancer screening row was answered by the uploaded bowel screening export; without it, it is asked for
    assert any(b.publication.startswith("Fingertips cancer screening coverage by practice")
               for b in clinical.BRING_YOUR_OWN if b.area == "cancer")
    maternity = bradford[bradford["area_key"] == "maternity"]
    assert (maternity["status"] == "bring your own data").all()
    assert bradford.attrs["name"] == "Bradford City 4 PCN" and bradford.attrs["icb_code"] == "QWO"


@pytest.mark.slow
def test_detection_ratios_match_gaps_and_diabetes_achievement_is_there(bradford, atlas):
    from targeting.gaps import pcn_gaps

    g = pcn_gaps(atlas.edition(2025), [PCN]).iloc[0]
    hyp = _measure(bradford, "Hypertension", "Hypertension: recorded ÷ expected")
    assert hyp["value"] == pytest.approx(g["hyp_ratio"]) and np.isnan(hyp["sii"]) and hyp["unit"] == "ratio"
    off = _measure(bradford, "Hypertension", "Hypertension: people not on a register")
    assert off["value"] == pytest.approx(g["hyp_undiagnosed"]) and off["vs_icb"] == "not compared"
    assert "Not all undiagnosed" in off["note"]
    for code in ("DM019", "DM020"):
        row = _measure(bradford, "Diabetes", code)
        assert 0 < row["value"] < 100 and row["period"] == "2021-22" and 0 < row["england_value"] < 100


@pytest.mark.slow
def test_fingertips_indicator_is_slotted_and_aggregated_with_a_gradient(bradford, atlas):
    row = _measure(bradford, "Early cancer diagnosis", "Cancer screening coverage: bowel cancer")
    assert row["status"] == "available" and bool(row["user_data"])
    export = fingertips.read_fingertips(export_csv(atlas))
    ind = fingertips.select(export)
    p = ind.practices.set_index("code")
    members = atlas.practices.loc[atlas.practices["pcn_code"] == PCN, "practice_code"]
    assert row["numerator"] == p.loc[members, "count"].sum()
    assert row["value"] == pytest.approx(100 * p.loc[members, "count"].sum() / p.loc[members, "denominator"].sum())
    assert row["england_value"] == 70.3 and np.isfinite(row["icb_value"]) and np.isfinite(row["sii"])
    # the screening row it answers is gone; the stage-at-diagnosis row is still asked for
    cancer = bradford[bradford["area_key"] == "cancer"]
    assert not cancer["measure"].str.contains("screening coverage \\(breast").any()
    assert cancer["measure"].str.contains("stage 1 or 2").any()


@pytest.mark.slow
def test_small_numbers_from_user_data_are_withheld_on_output(atlas):
    members = atlas.practices.loc[atlas.practices["pcn_code"] == PCN, "practice_code"]
    lines = [PUBLISHED_HEADER] + [_line(c, "x", "GPs", 50.0, 0 if i else 5, 10) for i, c in enumerate(members)]
    text = "\n".join(",".join(map(str, r)) for r in lines)
    ind = fingertips.select(fingertips.read_fingertips(text, filename="tiny.csv"))
    t = clinical.summary(make_scope(atlas, kind="pcn", code=PCN), fingertips=[ind])
    out = clinical.for_output(t)
    assert list(out.columns) == list(clinical.COLUMNS)
    row = out[t["user_data"].to_numpy()].iloc[0]
    assert row["value"] == "*" and row["lower"] == "*" and row["vs_england"] == "*"
    assert t.loc[t["user_data"], "numerator"].iloc[0] == 5  # 5 people: 1–7 are withheld
    own = out[~t["user_data"].to_numpy()]
    assert not own["value"].astype(str).eq("*").any()


@pytest.mark.slow
def test_icb_and_practice_summaries(atlas):
    icb = clinical.summary(make_scope(atlas, kind="icb", code="NHS West Yorkshire"))
    hyp = _measure(icb, "Hypertension", "Hypertension register")
    assert np.isnan(hyp["icb_value"]) and hyp["vs_icb"] == "not compared" and icb.attrs["level"] == "icb"
    prac = clinical.summary(make_scope(atlas, kind="practice", code="B83052"))
    mh = _measure(prac, "Severe mental illness", "Severe mental illness register")
    assert prac.attrs["level"] == "practice" and mh["denominator"] > 20_000
    with pytest.raises(LookupError):
        clinical.summary(make_scope(atlas, kind="pcn", code="U00000"))


@pytest.mark.slow
def test_cli_prints_the_columns_and_reads_fingertips_files(atlas, tmp_path, capsys):
    good = tmp_path / "bowel.csv"
    good.write_text(export_csv(atlas), encoding="utf-8")
    code = main(["clinical", "--pcn", PCN, "--fingertips", str(good), "--qof-year", "2022-23"])
    out, err = capsys.readouterr()
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == list(clinical.COLUMNS)
    assert df["measure"].str.contains("bowel cancer").any() and "not true prevalence" in err
    hyp = df[df["measure"].str.startswith("Hypertension register")].iloc[0]
    assert hyp["england_value"] == pytest.approx(14.423, abs=5e-4) and hyp["period"] == "2022-23"
    assert "Registers: QOF 2022-23" in err
    code = main(["clinical", "--pcn", PCN])
    out, err = capsys.readouterr()
    hyp = pd.read_csv(io.StringIO(out)).set_index("measure").filter(like="Hypertension register", axis=0).iloc[0]
    assert code == 0 and hyp["england_value"] == pytest.approx(15.230, abs=5e-4) and hyp["period"] == "2024-25"

    bad = tmp_path / "broken.csv"
    bad.write_text(export_csv(atlas).replace("70.3,", "seventy,", 1), encoding="utf-8")
    code = main(["clinical", "--pcn", PCN, "--fingertips", str(bad)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "broken.csv" in err and "'Value'" in err and "rows 2" in err


def test_clinical_summary_on_the_small_atlas(small_atlas, small_data):
    # Bradford City 4 PCN in the small atlas: its register prevalences are its practices' registers over their
    # lists, computed here from the QOF 2022-23 and practice map extracts with plain pandas
    q = pd.read_csv(small_data / "gp/qof/QOF_2022-23_PREVALENCE_2223.csv.gz", dtype={"PRACTICE_CODE": str})
    m = pd.read_csv(small_data / "gp/gp-reg-pat-prac-map_2022-07.csv", dtype=str)
    t = clinical.summary(make_scope(small_atlas, kind="pcn", code=PCN), qof_year="2022-23")
    assert list(dict.fromkeys(t["area_key"])) == list(clinical.AREAS)
    members = m.loc[m["PCN_CODE"] == PCN, "PRACTICE_CODE"]
    for group, area, starts in (("HYP", "Hypertension", "Hypertension register"),
                                ("MH", "Severe mental illness", "Severe mental illness register")):
        rows = q[(q["GROUP_CODE"] == group) & q["PRACTICE_CODE"].isin(members)]
        row = _measure(t, area, starts)
        assert row["numerator"] == int(rows["REGISTER"].sum())
        assert row["denominator"] == int(rows["PRACTICE_LIST_SIZE"].sum())
        assert row["lower"] < row["value"] < row["upper"]
        # word for word what it said before QOF 2024-25 came: `clinical --qof-year 2022-23` reproduces it
        assert row["source"] == ("NHS Digital QOF 2022-23 prevalence (registers and list sizes); practice → PCN map "
                                 "July 2022 (NHS Digital); recorded, not true, prevalence")
    assert list(clinical.for_output(t).columns) == list(clinical.COLUMNS)


def test_the_small_atlas_summary_defaults_to_qof_2024_25(small_atlas, small_data):
    # the newest QOF year in the data; the PCN's practices from the atlas's practice map, as for every year
    q = pd.read_csv(small_data / "gp/qof/QOF_2024-25_PREVALENCE_2425.csv.gz", dtype={"PRACTICE_CODE": str})
    m = pd.read_csv(small_data / "gp/gp-reg-pat-prac-map_2022-07.csv", dtype=str)
    t = clinical.summary(make_scope(small_atlas, kind="pcn", code=PCN))
    assert t.attrs["qof_year"] == "2024-25" and t.attrs["practice_map"] == "July 2022"
    members = m.loc[m["PCN_CODE"] == PCN, "PRACTICE_CODE"]
    rows = q[(q["GROUP_CODE"] == "COPD") & q["PRACTICE_CODE"].isin(members)]
    row = _measure(t, "Chronic respiratory disease", "COPD register")
    assert row["numerator"] == int(rows["REGISTER"].sum())
    assert row["denominator"] == int(rows["PRACTICE_LIST_SIZE"].sum()) and row["period"] == "2024-25"
    assert row["source"].startswith("NHS England QOF 2024-25 prevalence")
    assert "practice → PCN map July 2022" in row["source"]
    missing = len(set(members) - set(rows["PRACTICE_CODE"]))
    assert missing == 1 and "1 member practice(s) have no QOF 2024-25 data" in row["note"]
    same = clinical.summary(make_scope(small_atlas, kind="pcn", code=PCN), qof_year="2024/25")
    assert same["value"].equals(t["value"])
    for asked in ("2023-24", "2019-20"):
        with pytest.raises(LookupError, match=r"not in the data.*available: 2020-21, 2021-22, 2022-23, 2024-25"):
            clinical.summary(make_scope(small_atlas, kind="pcn", code=PCN), qof_year=asked)
