import numpy as np
import pandas as pd
import pytest

from targeting.compare import METRICS, UnknownMetricError, compare_pcns
from targeting.profiles import pcn_profiles, qof_prevalence
from targeting.scope import make_scope
from targeting.stats import funnel_limits


def test_funnel_limits_reproduce_phe_test_data(data_dir):
    folder = data_dir / "reference" / "phe_methods"
    inputs = pd.read_csv(folder / "testdata_funnel_prop_inputs.csv", encoding="utf-8-sig")
    out = pd.read_csv(folder / "testdata_funnel_prop_outputs.csv", encoding="utf-8-sig")
    p0 = inputs["numerator"].sum() / inputs["denominator"].sum()
    assert 100 * p0 == pytest.approx(out["Baseline"].iloc[0], abs=1e-5)
    lo95, hi95 = funnel_limits(p0, out["Population"], 0.95)
    lo998, hi998 = funnel_limits(p0, out["Population"], 0.998)
    assert np.allclose(100 * lo95, out["Lower2s0025limit"], atol=1e-4)
    assert np.allclose(100 * hi95, out["Upper2s0025limit"], atol=1e-4)
    assert np.allclose(100 * lo998, out["Lower3s0001limit"], atol=1e-4)
    assert np.allclose(100 * hi998, out["Upper3s0001limit"], atol=1e-4)
    lo, hi = funnel_limits(0.5, [0, np.nan])
    assert np.isnan(lo).all() and np.isnan(hi).all()


@pytest.fixture(scope="module")
def gm_core20(atlas):
    return compare_pcns(make_scope(atlas, imd=2019, kind="icb", code="QOP"), metric="core20_pct")


@pytest.mark.slow
def test_rows_are_ordered_by_deprivation_not_performance(gm_core20):
    table, summary = gm_core20
    assert len(table) == 67
    assert table["weighted_imd_score"].is_monotonic_decreasing
    assert "not a ranking" in summary["order"]
    assert not table["value"].is_monotonic_decreasing and not table["value"].is_monotonic_increasing


@pytest.mark.slow
def test_core20_comparison_agrees_with_profiles(atlas, gm_core20):
    table, summary = gm_core20
    prof = pcn_profiles(make_scope(atlas, imd=2019, kind="icb", code="QOP")).set_index("pcn_code")
    t = table.set_index("pcn_code")
    assert np.allclose(t["value"], prof.loc[t.index, "core20_pct"])
    assert np.allclose(t["lower"], prof.loc[t.index, "core20_pct_lower"])
    assert (t["vs_icb"] == prof.loc[t.index, "core20_vs_icb"]).all()
    assert summary["icb_value"] == pytest.approx(prof["core20_pct_icb"].iloc[0])
    assert summary["icb_name"] == "NHS Greater Manchester Integrated Care Board"
    # funnel limits sit around the ICB value and narrow as the PCN grows
    assert (t["funnel_lower_998"] <= t["funnel_lower_95"]).all()
    assert (t["funnel_lower_95"] < summary["icb_value"]).all() and (t["funnel_upper_95"] > summary["icb_value"]).all()
    width = t["funnel_upper_95"] - t["funnel_lower_95"]
    assert np.corrcoef(width, t["denominator"])[0, 1] < 0
    out998 = (t["value"] < t["funnel_lower_998"]) | (t["value"] > t["funnel_upper_998"])
    assert ((t["funnel"] == "outside 99.8%") == out998).all()


@pytest.mark.slow
def test_sii_of_core20_across_practice_deciles(gm_core20):
    _, summary = gm_core20
    s = summary["sii"]
    assert s["n_quantiles"] == 10 and s["quantiles"] == "deciles"
    # Core20 share falls steeply from the most to the least deprived practices
    assert s["sii"] < -50 and s["sii_lower"] <= s["sii"] <= s["sii_upper"]
    vals = [q["value"] for q in s["by_quantile"]]
    assert vals[0] > 80 and vals[-1] < 10
    dens = np.array([q["denominator"] for q in s["by_quantile"]])
    assert np.allclose(dens / dens.sum(), 0.1, atol=0.03)  # deciles of registered population, not of practices


@pytest.mark.slow
def test_qof_hypertension_comparison(atlas):
    qop = make_scope(atlas, kind="icb", code="QOP")
    table, summary = compare_pcns(qop, metric="qof_HYP", qof_year="2022-23")
    icb = qof_prevalence(atlas, "HYP", "2022-23", level="icb").set_index("code").loc["QOP"]
    assert summary["icb_value"] == pytest.approx(icb["prevalence_pct"])
    assert round(summary["england_value"], 2) == 14.42
    assert "2022-23" in summary["label"] and "QOF" in summary["source"]
    pcn = qof_prevalence(atlas, "HYP", "2022-23", level="pcn").set_index("code")
    t = table.set_index("pcn_code")
    assert np.allclose(t["value"], pcn.loc[t.index, "prevalence_pct"])
    assert summary["sii"]["sii"] is not None
    _, s20 = compare_pcns(qop, metric="qof_HYP", qof_year="2020-21")
    assert round(s20["england_value"], 2) == 13.93
    _, latest = compare_pcns(qop, metric="qof_HYP")  # default: the latest QOF year, 2024-25
    assert "2024-25" in latest["label"] and round(latest["england_value"], 2) == 15.23


@pytest.mark.slow
def test_other_metrics(atlas):
    qop = make_scope(atlas, kind="icb", code="QOP")
    imd_t, imd_s = compare_pcns(qop, metric="weighted_imd_score")
    assert imd_s["sii"] is None and "circular" in imd_s["sii_note"]
    assert imd_t["lower"].isna().all() and (imd_t["vs_icb"] == "not compared").all()
    eth, eth_s = compare_pcns(qop, metric="pct_minority")
    assert eth["value"].between(0, 100).all() and eth_s["unit"] == "%"
    assert set(METRICS) == {"core20_pct", "plus_pct", "pct_minority", "weighted_imd_score", "core20_change_pp"}
    with pytest.raises(UnknownMetricError, match="qof_"):
        compare_pcns(qop, metric="league_position")
    with pytest.raises(LookupError):
        compare_pcns(qop, metric="qof_NOPE")


@pytest.mark.slow
def test_core20_change_measure_matches_the_change_tables(atlas):
    from targeting.change import icb_change, pcn_change

    qhl = make_scope(atlas, kind="icb", code="QHL")
    table, summary = compare_pcns(qhl, metric="core20_change_pp")
    ch = pcn_change(qhl).set_index("pcn_code").reindex(table["pcn_code"])
    assert np.allclose(table["value"], ch["difference_pp"])
    assert (table["patients_entered"].to_numpy() == ch["patients_entered"].to_numpy()).all()
    icb = icb_change(qhl).iloc[0]
    assert summary["icb_value"] == pytest.approx(icb["difference_pp"], abs=1e-9)
    # 811,927 of 1,583,283 minus 831,101 of same (July 2022; before Babylon GP at Hand Birmingham, Y06487, went to
    # North West London, the ICB of its map file row, it was 814,215 and 833,595 of 1,589,147: -1.2195)
    assert summary["icb_value"] == pytest.approx(-1.2110, abs=1e-4)
    assert summary["sii"] is None and "not computed" in summary["sii_note"]
    assert table["lower"].isna().all() and (table["funnel"] == "not compared").all()
    assert table["weighted_imd_score"].is_monotonic_decreasing  # most deprived first, never by the change


# ---- over-dispersion (Spiegelhalter 2005) -----------------------------------------------------------------------
def _phi_scipy(x, n, p0):
    """An independent implementation: scipy's winsorize, then the mean squared z-score."""
    from scipy.stats import mstats

    z = (np.asarray(x) / np.asarray(n) - p0) / np.sqrt(p0 * (1 - p0) / np.asarray(n))
    zw = np.asarray(mstats.winsorize(z, limits=(0.1, 0.1)))
    return float(np.mean(zw**2))


def test_overdispersion_matches_scipy_and_leaves_binomial_data_alone():
    from targeting.stats import overdispersion

    rng = np.random.default_rng(7)
    n = rng.integers(20_000, 100_000, size=52)
    # units that differ by more than chance: true rates spread around 14% (sd 1.5 points)
    x = rng.binomial(n, np.clip(rng.normal(0.14, 0.015, size=52), 0.01, 0.99))
    p0 = x.sum() / n.sum()
    phi, units = overdispersion(x, n, p0)
    assert units == 52 and phi == pytest.approx(_phi_scipy(x, n, p0), rel=1e-12) and phi > 20
    # binomial data: the factor is near 1 and the limits do not move when it is 1 or less
    xb = rng.binomial(n, 0.14)
    phib, _ = overdispersion(xb, n, 0.14)
    assert 0.4 < phib < 1.6
    assert np.allclose(funnel_limits(0.14, n, 0.998, phi=min(phib, 1.0))[0], funnel_limits(0.14, n, 0.998)[0])
    lo, hi = funnel_limits(0.14, [40_000], 0.95, phi=100.0)  # widened by sqrt(100) = 10
    blo, bhi = funnel_limits(0.14, [40_000], 0.95)
    assert (hi - lo)[0] == pytest.approx(10 * (bhi - blo)[0])
    assert np.isnan(overdispersion([1], [10], 0.1)[0])  # one unit: nothing to estimate


@pytest.mark.slow
def test_west_yorkshire_hypertension_funnel_flags_few_and_states_the_factor(capsys, data_dir):
    """QOF 2024-25 HYP for West Yorkshire's PCNs of July 2026, recounted from the raw QOF file and practice map."""
    import io
    import zipfile

    from targeting.cli import main

    assert main(["compare", "--icb", "QWO", "--metric", "qof_HYP", "--registrations", "2026-07"]) == 0
    out, err = capsys.readouterr()
    t = pd.read_csv(io.StringIO(out))
    with zipfile.ZipFile(data_dir / "gp" / "gp-reg-pat-prac-map_2026-07.zip") as z:
        m = pd.read_csv(z.open(z.namelist()[0]), dtype=str)
    q = pd.read_csv(data_dir / "gp" / "qof" / "QOF_2024-25_PREVALENCE_2425.csv.gz", dtype={"PRACTICE_CODE": str})
    q = q[q["GROUP_CODE"] == "HYP"].merge(m[["PRACTICE_CODE", "PCN_CODE", "ICB_CODE"]], on="PRACTICE_CODE")
    wy = q[q["ICB_CODE"] == "QWO"]
    pcn = wy[wy["PCN_CODE"] != "U"].groupby("PCN_CODE")[["REGISTER", "PRACTICE_LIST_SIZE"]].sum()
    p0 = wy["REGISTER"].sum() / wy["PRACTICE_LIST_SIZE"].sum()
    pcn = pcn.reindex(t["pcn_code"])
    assert (pcn["REGISTER"].to_numpy() == t["numerator"]).all()
    phi = _phi_scipy(pcn["REGISTER"], pcn["PRACTICE_LIST_SIZE"], p0)
    assert t["overdispersion"].iloc[0] == pytest.approx(round(phi, 2), abs=0.006) and phi > 100
    assert f"φ = {phi:.2f}" in err
    outside = (t["funnel"] == "outside 99.8%").sum()
    assert outside <= 5, outside  # 2 of 52 (binomial limits flag 45, as the issue found)
    assert main(["compare", "--icb", "QWO", "--metric", "qof_HYP", "--registrations", "2026-07",
                 "--funnel", "binomial"]) == 0
    b = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert (b["funnel"] == "outside 99.8%").sum() > 40
