"""Issue 23, item 2: Compare leads with recorded ÷ expected (age-adjusted for hypertension) and labels crude
prevalence "crude".

Recorded and expected counts are recomputed from the raw QOF 2022-23 prevalence file, PHE's 2016 practice estimates
and the July 2022 practice → PCN map; the over-dispersion factor of the ratios by scipy's ``winsorize``; the funnel
limits against exact Poisson quantiles.
"""

import io

import numpy as np
import pandas as pd
import pytest

from targeting.cli import main
from targeting.compare import (
    ADJUSTED,
    DEFAULT_METRIC,
    UnknownMetricError,
    adjusted_metric,
    compare_pcns,
    ratio_funnel_limits,
    ratio_overdispersion,
)
from targeting.scope import make_scope

BRADFORD_CITY_4 = "U37316"


def _phi_scipy(o, e, theta):
    from scipy.stats import mstats

    z = (np.asarray(o) / np.asarray(e) - theta) / np.sqrt(theta / np.asarray(e))
    return float(np.mean(np.asarray(mstats.winsorize(z, limits=(0.1, 0.1))) ** 2))


def test_ratio_overdispersion_matches_scipy_and_leaves_poisson_data_alone():
    rng = np.random.default_rng(23)
    e = rng.uniform(5_000, 25_000, size=52)
    o = rng.poisson(e * np.clip(rng.normal(0.55, 0.05, size=52), 0.05, None))  # true ratios spread around 0.55
    theta = o.sum() / e.sum()
    phi, units = ratio_overdispersion(o, e, theta)
    assert units == 52 and phi == pytest.approx(_phi_scipy(o, e, theta), rel=1e-12) and phi > 10
    phi_p, _ = ratio_overdispersion(rng.poisson(0.55 * e), e, 0.55)
    assert 0.4 < phi_p < 1.6
    assert np.isnan(ratio_overdispersion([5], [10], 0.5)[0]) and np.isnan(ratio_overdispersion(o, e, 0)[0])


def test_ratio_funnel_limits_match_exact_poisson_and_widen_by_root_phi():
    from scipy.stats import poisson

    theta, e = 0.55, np.array([2_000.0, 10_000.0, 40_000.0])
    for conf in (0.95, 0.998):
        lo, hi = ratio_funnel_limits(theta, e, conf)
        a = (1 - conf) / 2
        assert np.allclose(lo, poisson.ppf(a, theta * e) / e, atol=2e-3)
        assert np.allclose(hi, poisson.ppf(1 - a, theta * e) / e, atol=2e-3)
    lo, hi = ratio_funnel_limits(theta, e, 0.95)
    wlo, whi = ratio_funnel_limits(theta, e, 0.95, phi=49.0)
    assert np.allclose(whi - wlo, 7 * (hi - lo))
    assert np.isnan(ratio_funnel_limits(theta, [0.0], 0.95)[0]).all()


def test_adjusted_metrics_name_their_register():
    assert ADJUSTED["hyp_ratio"] == "HYP" and adjusted_metric("qof_HYP") == "hyp_ratio" == DEFAULT_METRIC
    assert adjusted_metric("DM") == "dm_ratio" and adjusted_metric("CAN") is None


@pytest.fixture(scope="module")
def raw(data_dir):
    q = pd.read_csv(data_dir / "gp/qof/QOF_2022-23_PREVALENCE_2223.csv.gz", dtype={"PRACTICE_CODE": str})
    hyp = q[q["GROUP_CODE"] == "HYP"].drop_duplicates("PRACTICE_CODE").set_index("PRACTICE_CODE")["REGISTER"]
    n16 = q[q["PATIENT_LIST_TYPE"] == "16OV"].groupby("PRACTICE_CODE")["PRACTICE_LIST_SIZE"].max()
    folder = data_dir / "gp/hypertension_estimates_2016"
    d = pd.read_csv(folder / "phe_hypertension_estimates_2016_diagnosed_practice.csv.gz").set_index("practice_code")
    u = pd.read_csv(folder / "phe_hypertension_estimates_2016_undiagnosed_practice.csv.gz").set_index("practice_code")
    t = pd.DataFrame({"O": hyp, "N16": n16, "pct": d["estimate"] + u["estimate"]}).dropna()
    t["E"] = t["pct"] / 100 * t["N16"]
    m = pd.read_csv(data_dir / "gp/gp-reg-pat-prac-map_2022-07.csv", dtype=str).set_index("PRACTICE_CODE")
    return t.join(m[["PCN_CODE", "STP_CODE"]])


@pytest.fixture(scope="module")
def west_yorkshire(atlas):
    return compare_pcns(make_scope(atlas, kind="icb", code="QWO"), metric="hyp_ratio")


@pytest.mark.slow
def test_recorded_over_expected_of_west_yorkshires_pcns_from_the_raw_files(west_yorkshire, raw):
    table, summary = west_yorkshire
    by_pcn = raw.groupby("PCN_CODE")[["O", "E"]].sum().reindex(table["pcn_code"])
    assert (table["numerator"].to_numpy() == by_pcn["O"].to_numpy()).all()
    assert np.allclose(table["denominator"], by_pcn["E"], rtol=1e-9)
    assert np.allclose(table["value"], by_pcn["O"] / by_pcn["E"], rtol=1e-9)
    assert (table["lower"] < table["value"]).all() and (table["value"] < table["upper"]).all()
    wy = raw[raw["STP_CODE"] == "QWO"]
    assert summary["icb_value"] == pytest.approx(wy["O"].sum() / wy["E"].sum(), rel=1e-3)
    assert summary["england_value"] == pytest.approx(raw["O"].sum() / raw["E"].sum(), rel=1e-9)
    assert summary["unit"] == "ratio" and "recorded ÷ expected" in summary["label"]
    assert "age-adjusted" in summary["label"] and "QOF publishes none" in summary["adjustment"]
    assert table["weighted_imd_score"].is_monotonic_decreasing  # most deprived first, never by the ratio
    # over-dispersion of the ratios around the ICB's, recomputed with scipy; the funnel flags few PCNs
    phi = _phi_scipy(table["numerator"], table["denominator"], summary["icb_value"])
    assert summary["overdispersion"] == pytest.approx(phi, rel=1e-9) and phi > 10
    assert table["overdispersion"].iloc[0] == round(phi, 2) and "Poisson limits widened" in summary["funnel_method"]
    assert (table["funnel"] == "outside 99.8%").sum() <= 5
    lo, hi = ratio_funnel_limits(summary["icb_value"], table["denominator"], 0.998, phi=phi)
    assert np.allclose(table["funnel_lower_998"], lo) and np.allclose(table["funnel_upper_998"], hi)
    # the gradient of recorded ÷ expected across the ICB's practice deciles, with limits
    s = summary["sii"]
    assert s["quantiles"] == "deciles" and s["sii_lower"] <= s["sii"] <= s["sii_upper"]
    assert all(q["value"] == pytest.approx(q["numerator"] / q["denominator"]) for q in s["by_quantile"])


@pytest.mark.slow
def test_bradford_city_4_is_lower_crude_but_similar_adjusted(west_yorkshire, atlas):
    adjusted = west_yorkshire[0].set_index("pcn_code").loc[BRADFORD_CITY_4]
    wy = make_scope(atlas, kind="icb", code="QWO")
    crude_t, crude_s = compare_pcns(wy, metric="qof_HYP", qof_year="2022-23")
    crude = crude_t.set_index("pcn_code").loc[BRADFORD_CITY_4]
    assert round(crude["value"], 1) == 10.6 and crude["vs_england"] == "lower"  # 10.6% against 14.4%
    assert round(adjusted["value"], 3) == 0.499 and adjusted["vs_england"] == "similar"  # England 0.541
    assert "crude" in crude_s["label"] and crude_s["adjusted_metric"] == "hyp_ratio"


def test_compare_leads_with_the_adjusted_measure(capsys, small_cli):
    assert main(["compare", "--icb", "QWO"]) == 0  # no --metric: hypertension, recorded ÷ expected
    out, err = capsys.readouterr()
    t = pd.read_csv(io.StringIO(out))
    assert (t["metric"] == DEFAULT_METRIC).all() and list(t.columns[6:8]) == ["metric", "measure"]
    assert t["measure"].str.startswith("Hypertension: recorded ÷ expected").all()
    assert t["measure"].str.contains("age-adjusted").all()
    assert "Measure: Hypertension: recorded ÷ expected" in err and "QOF publishes none" in err
    assert "Poisson limits" in err and "(ratio units)" in err


def test_crude_prevalence_is_labelled_crude_and_names_its_adjusted_measure(capsys, small_cli):
    assert main(["compare", "--icb", "QWO", "--metric", "qof_HYP"]) == 0
    out, err = capsys.readouterr()
    t = pd.read_csv(io.StringIO(out))
    assert t["measure"].str.startswith("QOF HYP crude recorded prevalence").all()
    assert t["measure"].str.contains("not age-adjusted").all()
    assert "The adjusted measure is recorded ÷ expected (hyp_ratio)" in err
    assert main(["compare", "--icb", "QWO", "--metric", "qof_CAN"]) == 0
    _, err = capsys.readouterr()
    assert "No adjusted measure for QOF CAN" in err and "QOF publishes none" in err
    assert "holds no cancer staging data" in err
    with pytest.raises(UnknownMetricError, match="hyp_ratio"):
        compare_pcns(make_scope(small_cli, kind="icb", code="QWO"), metric="xyz_ratio")
