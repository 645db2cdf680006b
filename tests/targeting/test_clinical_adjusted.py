"""Issue 23, item 2: the Core20PLUS5 summary leads with adjusted measures, labels crude prevalence "crude", puts PHE's
own undiagnosed-hypertension component beside the count not on a register, and says plainly that it holds no cancer
staging data.

The figures are recomputed here, with pandas, from the raw files in the shared data folder: the QOF 2022-23 and
2024-25 prevalence files (registers, list sizes by list type), PHE's 2016 practice-level hypertension estimates
(diagnosed and undiagnosed, with 95% limits) and the July 2022 practice → PCN map. Bradford City 4 PCN is the case
the issue names: a young population, so its crude hypertension prevalence is low, while its recorded ÷ expected is
not distinguishable from England's.
"""

import io

import numpy as np
import pandas as pd
import pytest

from targeting import clinical
from targeting.cli import main
from targeting.scope import make_scope

PCN = "U37316"  # Bradford City 4 PCN, NHS West Yorkshire ICB
Z = 1.959963984540054


@pytest.fixture(scope="module")
def raw(data_dir):
    """Per practice, from the raw files: QOF 2022-23 HYP register and 16+ list, PHE estimates, July 2022 PCN."""
    q = pd.read_csv(data_dir / "gp/qof/QOF_2022-23_PREVALENCE_2223.csv.gz", dtype={"PRACTICE_CODE": str})
    hyp = q[q["GROUP_CODE"] == "HYP"].drop_duplicates("PRACTICE_CODE").set_index("PRACTICE_CODE")["REGISTER"]
    n16 = q[q["PATIENT_LIST_TYPE"] == "16OV"].groupby("PRACTICE_CODE")["PRACTICE_LIST_SIZE"].max()
    folder = data_dir / "gp/hypertension_estimates_2016"
    d = pd.read_csv(folder / "phe_hypertension_estimates_2016_diagnosed_practice.csv.gz").set_index("practice_code")
    u = pd.read_csv(folder / "phe_hypertension_estimates_2016_undiagnosed_practice.csv.gz").set_index("practice_code")
    t = pd.DataFrame({"O": hyp, "N16": n16}).join(
        pd.DataFrame({"d": d["estimate"], "d_lo": d["min95"], "d_hi": d["max95"], "u": u["estimate"],
                      "u_lo": u["min95"], "u_hi": u["max95"]}), how="inner").dropna()
    t["E"] = (t["d"] + t["u"]) / 100 * t["N16"]
    sd_d, sd_u = (t["d_hi"] - t["d_lo"]) / (2 * Z), (t["u_hi"] - t["u_lo"]) / (2 * Z)  # from PHE's 95% limits
    t["sE"] = t["N16"] * np.sqrt(sd_d**2 + sd_u**2) / 100
    t["U"], t["U_lo"], t["U_hi"] = (t[c] / 100 * t["N16"] for c in ("u", "u_lo", "u_hi"))
    m = pd.read_csv(data_dir / "gp/gp-reg-pat-prac-map_2022-07.csv", dtype=str).set_index("PRACTICE_CODE")
    return t.join(m[["PCN_CODE", "STP_CODE"]])


def _byar(o: float) -> tuple[float, float]:
    lo = o * (1 - 1 / (9 * o) - Z / (3 * np.sqrt(o))) ** 3
    hi = (o + 1) * (1 - 1 / (9 * (o + 1)) + Z / (3 * np.sqrt(o + 1))) ** 3
    return lo, hi


def _ratio(rows: pd.DataFrame) -> tuple[float, float, float]:
    """Recorded ÷ expected with its 95% limits: Byar on the summed count, PHE's model errors added over practices."""
    o, e, s_e = rows["O"].sum(), rows["E"].sum(), rows["sE"].sum()
    lo, hi = _byar(o)
    s_o = (hi - lo) / (2 * Z)
    r = o / e
    half = Z * np.sqrt((s_o / o) ** 2 + (s_e / e) ** 2)
    return r, r * np.exp(-half), r * np.exp(half)


def _area(table: pd.DataFrame, key: str) -> pd.DataFrame:
    return table[table["area_key"] == key].reset_index(drop=True)


@pytest.fixture(scope="module")
def bradford(atlas):
    return clinical.summary(make_scope(atlas, kind="pcn", code=PCN))  # QOF 2024-25 registers, the default


@pytest.mark.slow
def test_each_area_leads_with_recorded_over_expected_and_crude_is_labelled_crude(bradford):
    for key, group in (("hypertension", "HYP"), ("smi", "MH"), ("respiratory", "COPD"), ("asthma", "AST"),
                       ("diabetes", "DM"), ("epilepsy", "EP"), ("learning_disability", "LD")):
        rows = _area(bradford, key)
        first, second = rows.iloc[0], rows.iloc[1]
        assert first["kind"] == "adjusted" and "recorded ÷ expected" in first["measure"], (key, first["measure"])
        assert first["unit"] == "ratio" and "adjusted" in first["measure"] and "adjusted" in first["short"]
        assert second["kind"] == "crude" and second["short"] == f"QOF {group} crude recorded prevalence"
    crude = bradford[bradford["short"].str.contains("recorded prevalence", regex=False)]
    assert len(crude) == 8 and crude["measure"].str.contains(": crude recorded prevalence").all()
    assert crude["measure"].str.contains("not age-adjusted").all() and crude["note"].str.contains("Crude:").all()
    hyp = _area(bradford, "hypertension").iloc[0]
    assert "age-adjusted" in hyp["measure"] and "PHE 2016" in hyp["measure"]
    # the other registers are adjusted by a regression, and say that no age-band standardisation exists
    smi = _area(bradford, "smi").iloc[0]
    assert "age, deprivation and ethnic mix" in smi["measure"] and clinical.NO_AGE_RATES in smi["note"]
    assert "QOF publishes none" in clinical.NO_AGE_RATES and "5-year age bands" in clinical.NO_AGE_RATES


@pytest.mark.slow
def test_bradford_city_4_is_low_crude_but_not_low_recorded_over_expected(bradford, raw, data_dir):
    mine = raw[raw["PCN_CODE"] == PCN]
    r, lo, hi = _ratio(mine)
    england = raw["O"].sum() / raw["E"].sum()
    assert round(england, 4) == 0.5405 and round(r, 3) == 0.499
    hyp = _area(bradford, "hypertension")
    adj = hyp.iloc[0]
    assert adj["value"] == pytest.approx(r, rel=1e-9) and adj["numerator"] == mine["O"].sum()
    assert adj["lower"] == pytest.approx(lo, rel=1e-6) and adj["upper"] == pytest.approx(hi, rel=1e-6)
    assert adj["england_value"] == pytest.approx(england, rel=1e-9)
    assert lo < england < hi and adj["vs_england"] == "similar"  # as many recorded as expected, within chance
    # crude, QOF 2024-25: far below England's 15.23%
    q = pd.read_csv(data_dir / "gp/qof/QOF_2024-25_PREVALENCE_2425.csv.gz", dtype={"PRACTICE_CODE": str})
    q = q[q["GROUP_CODE"] == "HYP"]
    m = pd.read_csv(data_dir / "gp/gp-reg-pat-prac-map_2022-07.csv", dtype=str)
    members = m.loc[m["PCN_CODE"] == PCN, "PRACTICE_CODE"]
    x = q.loc[q["PRACTICE_CODE"].isin(members), "REGISTER"].sum()
    n = q.loc[q["PRACTICE_CODE"].isin(members), "PRACTICE_LIST_SIZE"].sum()
    crude = hyp.iloc[1]
    assert crude["value"] == pytest.approx(100 * x / n, rel=1e-12) and round(crude["value"], 1) == 11.1
    p = x / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)  # Wilson's score interval
    half = Z * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    assert crude["upper"] == pytest.approx(100 * (centre + half), rel=1e-9)
    assert 100 * (centre + half) < 15.23 and crude["vs_england"] == "lower"


@pytest.mark.slow
def test_phe_undiagnosed_component_sits_beside_the_count_not_on_a_register(atlas, bradford, raw):
    # England, QOF 2022-23: 7.59 million not on a register against PHE's expected, 6.06 million undiagnosed
    assert round((raw["E"] - raw["O"]).sum() / 1e6, 2) == 7.59 and round(raw["U"].sum() / 1e6, 2) == 6.06
    phe = clinical.hypertension_undiagnosed(atlas)
    assert phe["hyp_undiagnosed_phe"].sum() == pytest.approx(raw["U"].sum(), rel=1e-9)
    assert len(phe) == len(raw)
    row = phe.set_index("practice_code").loc["B83052"]  # a Bradford City practice
    assert row["hyp_undiagnosed_phe"] == pytest.approx(raw.loc["B83052", "U"], rel=1e-12)
    assert row["adults_16plus"] == raw.loc["B83052", "N16"]
    hyp = _area(bradford, "hypertension")
    off = hyp[hyp["measure"].str.startswith("Hypertension: people not on a register")].iloc[0]
    und = hyp[hyp["measure"].str.startswith("Hypertension: people with undiagnosed hypertension, PHE")].iloc[0]
    assert off.name + 1 == und.name  # side by side
    mine = raw[raw["PCN_CODE"] == PCN]
    assert off["value"] == pytest.approx(mine["E"].sum() - mine["O"].sum(), rel=1e-9)
    assert und["value"] == pytest.approx(mine["U"].sum(), rel=1e-9)
    assert und["lower"] == pytest.approx(mine["U_lo"].sum(), rel=1e-9)
    assert und["upper"] == pytest.approx(mine["U_hi"].sum(), rel=1e-9)
    assert und["value"] < off["value"] and "Not all undiagnosed" in off["note"]
    assert und["vs_england"] == off["vs_england"] == "not compared"


@pytest.mark.slow
def test_early_cancer_diagnosis_says_the_tool_holds_no_staging_data(bradford):
    rows = _area(bradford, "cancer")
    first = rows.iloc[0]
    assert first["kind"] == "no staging data" and first["status"] == "bring your own data"
    assert first["where"] == clinical.STAGING_URL and first["note"].startswith(clinical.NO_STAGING)
    assert "holds no cancer staging data" in clinical.NO_STAGING
    assert "National Disease Registration Service" in first["source"]
    assert "Rapid Cancer Registration Data" in first["source"] and "stages 1 and 2" in first["source"]
    register = rows[rows["kind"] == "crude"].iloc[0]
    assert "not stage at diagnosis" in register["measure"] and clinical.NO_STAGING in register["note"]


def test_the_command_says_adjusted_first_and_where_adjustment_cannot_exist(capsys, small_cli):
    assert main(["clinical", "--pcn", PCN]) == 0
    out, err = capsys.readouterr()
    t = pd.read_csv(io.StringIO(out))
    hyp = t[t["area"] == "Hypertension"].reset_index(drop=True)
    assert hyp.loc[0, "measure"].startswith("Hypertension: recorded ÷ expected (age-adjusted")
    assert "crude recorded prevalence" in hyp.loc[1, "measure"]
    cancer = t[t["area"] == "Early cancer diagnosis"].reset_index(drop=True)
    assert "no staging data in the tool" in cancer.loc[0, "measure"]
    assert "QOF publishes none" in err and "holds no cancer staging data" in err and clinical.STAGING_URL in err


def test_phe_undiagnosed_shared_out_to_lsoas_keeps_its_total(small_atlas):
    from targeting.gaps import lsoa_detection_gap
    from targeting.gaps._common import _known_practices

    ed = small_atlas.edition_on(2021)
    phe = clinical.hypertension_undiagnosed(small_atlas).dropna(subset=["hyp_undiagnosed_phe"])
    placed = phe[phe["practice_code"].isin(set(_known_practices(ed)))]
    for weighted in (False, True):
        lsoa = clinical.lsoa_hypertension_undiagnosed(ed, age_weighted=weighted)
        assert lsoa["hyp_undiagnosed_phe"].sum() == pytest.approx(placed["hyp_undiagnosed_phe"].sum(), rel=1e-9)
        assert (lsoa["hyp_undiagnosed_phe_lower"] <= lsoa["hyp_undiagnosed_phe"] + 1e-9).all()
        assert (lsoa["hyp_undiagnosed_phe"] <= lsoa["hyp_undiagnosed_phe_upper"] + 1e-9).all()
    # the same weights as the count not on a register: where one is zero, so is the other
    gap = lsoa_detection_gap(ed, register="HYP", age_weighted=True).set_index("lsoa_code")
    phe_l = clinical.lsoa_hypertension_undiagnosed(ed, age_weighted=True).set_index("lsoa_code")
    assert ((gap["expected_undiagnosed"] > 0) <= (phe_l["hyp_undiagnosed_phe"] > 0)).all()
