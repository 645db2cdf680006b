"""A PCN's spine chart (targeting.spine) on the real files.

Expected figures come from the published files read here with pandas: QOF 2024-25 prevalence
(``QOF_2024-25_PREVALENCE_2425.csv.gz``) summed over a PCN's practices in NHS England's July 2026 practice map
(``gp-reg-pat-prac-map_2026-07.zip``), with Spiegelhalter's factor recomputed by scipy's own ``winsorize``, and
from ``targeting.compare`` (the funnel of item 1 of issue 23), which the spine must agree with.
"""

import zipfile

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from scipy.stats.mstats import winsorize

from targeting.scope import make_scope
from targeting.spine import SPINE_MEASURES, spine_for_output, spine_table

PCN = "U37316"  # Bradford City 4 PCN, NHS West Yorkshire ICB (QWO)


def _map_2026(folder):
    with zipfile.ZipFile(folder / "gp" / "gp-reg-pat-prac-map_2026-07.zip") as z:
        name = next(n for n in z.namelist() if n.endswith(".csv"))
        with z.open(name) as f:
            return pd.read_csv(f, dtype=str)


def _hyp_2425(folder):
    q = pd.read_csv(folder / "gp" / "qof" / "QOF_2024-25_PREVALENCE_2425.csv.gz", dtype={"PRACTICE_CODE": str},
                    encoding="latin-1")
    return q[q["GROUP_CODE"] == "HYP"]


def _phi_scipy(x, n, p0):
    z = (np.asarray(x, float) / np.asarray(n, float) - p0) / np.sqrt(p0 * (1 - p0) / np.asarray(n, float))
    return float(np.mean(np.asarray(winsorize(z, limits=(0.1, 0.1))) ** 2))


def test_hypertension_row_sums_the_pcns_july_2026_practices(small_cli, small_data, data_dir):
    from geo.atlas import load

    atlas = load(progress=False, registrations="2026-07")
    t = spine_table(make_scope(atlas, kind="pcn", code=PCN))
    members = set(_map_2026(data_dir).query("PCN_CODE == @PCN")["PRACTICE_CODE"])
    raw = _hyp_2425(data_dir)
    mine = raw[raw["PRACTICE_CODE"].isin(members)]
    hyp = t.set_index("measure").loc["qof_HYP"]
    assert (hyp["count"], hyp["denominator"]) == (mine["REGISTER"].sum(), mine["PRACTICE_LIST_SIZE"].sum())
    assert (hyp["count"], hyp["denominator"]) == (5_695, 49_388)
    assert hyp["value"] == pytest.approx(100 * 5_695 / 49_388)
    assert hyp["period"] == "QOF 2024-25" and "crude" in hyp["label"] and "not age-adjusted" in hyp["source"]
    assert "July 2026" in hyp["source"]
    assert t.attrs["pcn_name"] == "BRADFORD CITY 4 PCN" and t.attrs["icb_code"] == "QWO"


def test_an_unknown_pcn_is_refused(small_atlas):
    with pytest.raises(LookupError, match="U00000"):
        spine_table(make_scope(small_atlas, kind="pcn", code="U00000"))


@pytest.fixture(scope="module")
def national_2026(data_dir):
    from geo.atlas import load

    return load(progress=False, geometry=False, registrations="2026-07")


@pytest.fixture(scope="module")
def bradford_city_4(national_2026):
    return spine_table(make_scope(national_2026, kind="pcn", code=PCN))


@pytest.mark.slow
def test_every_measure_is_there_in_order(bradford_city_4):
    t = bradford_city_4
    assert t["measure"].tolist() == [m.key for m in SPINE_MEASURES]
    for key in ("core20_pct", "plus_pct", "pct_minority", "qof_HYP", "hyp_ratio"):
        assert key in set(t["measure"])
    assert t["icb_pcns"].eq(52).all()  # West Yorkshire's 52 PCNs of July 2026
    assert (t["icb_min"] <= t["icb_q25"]).all() and (t["icb_q75"] <= t["icb_max"]).all()
    assert t.loc[t["measure"] == "hyp_ratio", "polarity"].item() == "higher"
    flags = set(t["vs_england"])
    assert flags <= {"higher", "similar", "lower", "better", "worse"}
    assert set(t.loc[t["polarity"] == "none", "vs_england"]) <= {"higher", "similar", "lower"}


@pytest.mark.slow
def test_significance_is_the_overdispersed_funnel_of_compare(national_2026, bradford_city_4, data_dir):
    from targeting.compare import compare_pcns

    hyp = bradford_city_4.set_index("measure").loc["qof_HYP"]
    table, summary = compare_pcns(make_scope(national_2026, kind="icb", code="QWO"), metric="qof_HYP")
    assert hyp["phi_icb"] == pytest.approx(summary["overdispersion"]) and round(hyp["phi_icb"], 2) == 236.65
    mine = table.set_index("pcn_code").loc[PCN]
    assert hyp["funnel_icb"] == {"within": "within 95%"}.get(mine["funnel"], mine["funnel"])
    assert (hyp["icb_min"], hyp["icb_max"]) == pytest.approx((table["value"].min(), table["value"].max()))
    assert hyp["icb_value"] == pytest.approx(summary["icb_value"])
    # against England: φ from every PCN of July 2026, recomputed from the raw files with scipy's winsorize
    pcn_of = _map_2026(data_dir).set_index("PRACTICE_CODE")["PCN_CODE"]
    raw = _hyp_2425(data_dir)
    by = (raw.assign(pcn=raw["PRACTICE_CODE"].map(pcn_of)).dropna(subset=["pcn"]).query("pcn != 'U'")
          .groupby("pcn")[["REGISTER", "PRACTICE_LIST_SIZE"]].sum())
    p0 = raw["REGISTER"].sum() / raw["PRACTICE_LIST_SIZE"].sum()
    assert hyp["england_value"] == pytest.approx(100 * p0) and round(100 * p0, 2) == 15.23
    phi = _phi_scipy(by["REGISTER"], by["PRACTICE_LIST_SIZE"], p0)
    assert hyp["phi_england"] == pytest.approx(phi, rel=1e-9) and phi > 100
    half = norm.ppf(0.975) * np.sqrt(phi * p0 * (1 - p0) / hyp["denominator"])
    inside = abs(hyp["value"] / 100 - p0) <= half
    assert hyp["vs_england"] == ("similar" if inside else ("higher" if hyp["value"] / 100 > p0 else "lower"))
    # Bradford City 4's crude hypertension, 11.5%, is low, yet within the widened limits: mostly a young list
    assert hyp["vs_england"] == "similar" and hyp["value"] == pytest.approx(11.53, abs=0.01)


@pytest.mark.slow
def test_profile_rows_agree_with_the_pcn_profiles(national_2026, bradford_city_4):
    from targeting.profiles import pcn_profiles

    p = pcn_profiles(make_scope(national_2026, imd=2025), pcn_codes=[PCN]).iloc[0]
    t = bradford_city_4.set_index("measure")
    assert t.at["core20_pct", "count"] == p["core20_patients"] == 43_352
    assert t.at["core20_pct", "denominator"] == p["patients_known_lsoa"]
    assert t.at["core20_pct", "value"] == pytest.approx(p["core20_pct"])
    assert t.at["core20_pct", "england_value"] == pytest.approx(p["core20_pct_england"])
    assert t.at["plus_pct", "value"] == pytest.approx(p["plus_pct"])
    assert t.at["pct_minority", "value"] == pytest.approx(p["pct_minority"])
    assert t.at["core20_pct", "vs_england"] == "higher"  # 89.8% against England's 21.1%, outside 99.8%


@pytest.mark.slow
def test_what_is_shown_passes_the_small_number_rule(bradford_city_4):
    shown = spine_for_output(bradford_city_4).set_index("measure")
    assert shown.at["core20_pct", "count"] == 43_350  # 43,352 rounded to 5
    assert shown.at["qof_HYP", "count"] == 5_695
    assert shown.at["qof_EP", "count"] == 255  # 257 rounded to 5
    assert shown.at["qof_HYP", "value"] == 11.5 and shown.at["hyp_ratio", "value"] == 0.528
