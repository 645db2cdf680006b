import numpy as np
import pandas as pd
import pytest

from targeting.plus import EthnicGroupRule, LsoaListRule
from targeting.profiles import (
    _wilson,
    pcn_profiles,
    population_quintiles,
    practice_profiles,
    qof_prevalence,
)
from targeting.scope import make_scope
from targeting.stats import wilson_ci

REQUIRED = ["registered_patients", "patients_known_lsoa", "core20_patients", "core20_pct", "core20_pct_lower",
            "core20_pct_upper", "plus_patients", "plus_pct", "plus_pct_lower", "plus_pct_upper",
            "weighted_imd_score", "pct_asian", "pct_black", "pct_mixed", "pct_white", "pct_other", "pct_minority",
            "core20_vs_icb", "core20_vs_england", "imd_quintile"]


@pytest.fixture(scope="module")
def independent_pcn_core20_2019(data_dir):
    """Registration-weighted Core20 share per PCN from the raw published CSVs, with plain pandas."""
    reg = pd.read_csv(data_dir / "gp" / "gp_reg_pat_prac_lsoa_all_2022-07.csv.gz",
                      usecols=["PRACTICE_CODE", "LSOA_CODE", "NUMBER_OF_PATIENTS"])
    pmap = pd.read_csv(data_dir / "gp" / "gp-reg-pat-prac-map_2022-07.csv", usecols=["PRACTICE_CODE", "PCN_CODE"])
    imd = pd.read_csv(data_dir / "imd" / "imd2019_lsoa11_file7_assembled.csv.gz",
                      usecols=["LSOA code (2011)",
                               "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"])
    imd.columns = ["LSOA_CODE", "decile"]
    # practices registered in July 2022 but missing from that month's map take their current PCN from ePCN
    # (Jan 2023), as the atlas does
    epcn = pd.read_excel(data_dir / "gp" / "ePCN_2023-01.xlsx", sheet_name="PCN Core Partner Details", dtype=str)
    epcn.columns = [" ".join(str(c).split()) for c in epcn.columns]
    epcn = epcn[epcn["Practice to PCN Relationship End Date"].isna()]
    missing = sorted(set(reg["PRACTICE_CODE"]) - set(pmap["PRACTICE_CODE"]))
    extra = epcn[epcn["Partner Organisation Code"].isin(missing)][["Partner Organisation Code", "PCN Code"]]
    extra.columns = ["PRACTICE_CODE", "PCN_CODE"]
    pmap = pd.concat([pmap, extra], ignore_index=True)
    m = reg.merge(imd, on="LSOA_CODE", how="inner").merge(pmap, on="PRACTICE_CODE", how="left")
    m["core20"] = np.where(m["decile"] <= 2, m["NUMBER_OF_PATIENTS"], 0)
    g = m.groupby("PCN_CODE")[["core20", "NUMBER_OF_PATIENTS"]].sum()
    return 100 * g["core20"] / g["NUMBER_OF_PATIENTS"]


@pytest.mark.slow
def test_pcn_core20_2019_matches_an_independent_calculation(atlas, independent_pcn_core20_2019):
    ours = pcn_profiles(make_scope(atlas, imd=2019)).set_index("pcn_code")["core20_pct"]
    theirs = independent_pcn_core20_2019.drop("U", errors="ignore")
    common = ours.index.intersection(theirs.index)
    assert len(common) >= 1250
    diff = (ours[common] - theirs[common]).abs()
    assert diff.max() <= 0.1, diff.sort_values().tail()


@pytest.mark.slow
def test_practice_weighted_imd_2019_agrees_with_blackwellrd(atlas, data_dir):
    ref = pd.read_csv(data_dir / "gp" / "third_party" / "blackwellrd_practice_imd.csv").set_index("practice_code")
    ours = practice_profiles(make_scope(atlas, imd=2019)).set_index("practice_code")["weighted_imd_score"].dropna()
    common = ours.index.intersection(ref.index)
    assert len(common) > 6000
    r = np.corrcoef(ours[common], ref.loc[common, "imd_score"])[0, 1]
    assert r >= 0.999
    # the same registrations a few months apart: half the practices within 0.05 points
    assert (ours[common] - ref.loc[common, "imd_score"]).abs().median() < 0.05


@pytest.mark.slow
def test_pcn_weighted_imd_2019_agrees_with_blackwellrd(atlas, data_dir):
    # PCN membership is that of Jan 2023 in the reference, July 2022 here, so agreement is a little looser
    ref = pd.read_csv(data_dir / "gp" / "third_party" / "blackwellrd_pcn_imd.csv").set_index("pcn_code")
    ours = pcn_profiles(make_scope(atlas, imd=2019)).set_index("pcn_code")["weighted_imd_score"]
    common = ours.index.intersection(ref.index)
    assert len(common) > 1150
    assert np.corrcoef(ours[common], ref.loc[common, "imd_score"])[0, 1] >= 0.99


@pytest.mark.slow
def test_qof_national_hypertension_prevalence(atlas):
    assert round(qof_prevalence(atlas, "HYP", "2020-21", level="england")["prevalence_pct"].iloc[0], 2) == 13.93
    eng = qof_prevalence(atlas, "HYP", "2022-23", level="england").iloc[0]
    assert round(eng["prevalence_pct"], 2) == 14.42
    assert eng["prevalence_pct_lower"] < eng["prevalence_pct"] < eng["prevalence_pct_upper"]
    assert eng["code"] == "E92000001" and eng["list_type"] == "TOTAL"
    latest = qof_prevalence(atlas, "qof_hyp", level="england").iloc[0]  # the latest year by default: QOF 2024-25
    assert latest["qof_year"] == "2024-25" and round(latest["prevalence_pct"], 2) == 15.23


@pytest.mark.slow
def test_qof_levels_add_up(atlas):
    prac = qof_prevalence(atlas, "DM", "2022-23", level="practice")
    pcn = qof_prevalence(atlas, "DM", "2022-23", level="pcn")
    icb = qof_prevalence(atlas, "DM", "2022-23", level="icb")
    assert prac["list_type"].iloc[0] == "17OV"
    assert len(prac) == 6378
    assert pcn["register"].sum() <= icb["register"].sum() <= prac["register"].sum()
    assert icb["code"].str.match(r"^Q[A-Z0-9]{2}$").all()
    with pytest.raises(LookupError, match="available"):
        qof_prevalence(atlas, "XYZ")
    with pytest.raises(LookupError, match="2019-20"):
        qof_prevalence(atlas, "HYP", "2019-20")
    with pytest.raises(ValueError, match="level"):
        qof_prevalence(atlas, "HYP", level="region")


@pytest.mark.slow
def test_registration_totals_are_conserved_across_vintages(atlas):
    assert atlas.edition(2019).registrations is atlas.registrations11
    assert atlas.edition(2025).registrations is atlas.registrations21
    for imd in (2019, 2025):
        p = practice_profiles(make_scope(atlas, imd=imd))
        assert p["registered_patients"].sum() == 61_768_942  # July 2022 (MANIFEST)
        assert (p["patients_known_lsoa"] <= p["registered_patients"]).all()
    known19 = practice_profiles(make_scope(atlas, imd=2019))["patients_known_lsoa"].sum()
    assert known19 / 61_768_942 > 0.999  # 99.93% live in an English LSOA 2011 (NO2011 and W01 excluded)


@pytest.mark.slow
def test_profile_columns_and_internal_consistency(atlas):
    pcn = pcn_profiles(make_scope(atlas, imd=2025))
    assert set(REQUIRED) <= set(pcn.columns)
    assert len(pcn) == 1251 and not (pcn["pcn_code"] == "U").any()
    assert (pcn["imd"] == 2025).all()
    mix = pcn[["pct_asian", "pct_black", "pct_mixed", "pct_white", "pct_other"]].sum(axis=1)
    assert np.allclose(mix, 100, atol=1e-6)
    assert np.allclose(pcn["pct_minority"], 100 - pcn["pct_white"], atol=1e-6)
    assert (pcn["core20_pct_lower"] <= pcn["core20_pct"]).all() and (pcn["core20_pct"] <= pcn["core20_pct_upper"]).all()
    higher = pcn["core20_vs_england"] == "higher"
    assert (pcn.loc[higher, "core20_pct_lower"] > pcn.loc[higher, "core20_pct_england"]).all()
    lower = pcn["core20_vs_icb"] == "lower"
    assert (pcn.loc[lower, "core20_pct_upper"] < pcn.loc[lower, "core20_pct_icb"]).all()
    # England comparator = all practices, registration-weighted (IoD 2025 Core20 ~ 21%)
    eng = pcn["core20_pct_england"].iloc[0]
    prac = practice_profiles(make_scope(atlas, imd=2025))
    assert eng == pytest.approx(100 * prac["core20_patients"].sum() / prac["patients_known_lsoa"].sum())
    assert 19 < eng < 23


@pytest.mark.slow
def test_pcn_sums_are_its_practices_sums(atlas):
    pcn = pcn_profiles(make_scope(atlas, imd=2019), pcn_codes=["U67660"]).iloc[0]  # Oldham South PCN
    prac = practice_profiles(make_scope(atlas, imd=2019, kind="pcn", code="U67660"))
    assert pcn["practices"] == len(prac) == 9
    for c in ("registered_patients", "patients_known_lsoa", "core20_patients", "plus_patients"):
        assert pcn[c] == pytest.approx(prac[c].sum())
    w = prac["patients_known_lsoa"]
    assert pcn["weighted_imd_score"] == pytest.approx((prac["weighted_imd_score"] * w).sum() / w.sum())
    assert pcn["icb_code_nhs"] == "QOP" and pcn["core20_vs_icb"] == "higher"


@pytest.mark.slow
def test_icb_filter_and_unknown_codes(atlas):
    gm = pcn_profiles(make_scope(atlas, kind="icb", code="QOP"))
    assert len(gm) == 67 and (gm["icb_code_nhs"] == "QOP").all()
    assert gm["pcn_code"].is_monotonic_increasing
    assert len(practice_profiles(make_scope(atlas, kind="icb", code="Greater Manchester"))) == 424
    # Surrey Heartlands and Sussex are listed under their 2022 and 2024 ONS codes: either way it is one ICB
    surrey = pcn_profiles(make_scope(atlas, kind="icb", code="QXU"))
    assert len(surrey) == 24 and (surrey["icb_code_nhs"] == "QXU").all()
    sussex = [pcn_profiles(make_scope(atlas, kind="icb", code=c)) for c in ("Sussex", "E54000064")]
    assert len(sussex[0]) == len(sussex[1]) == 38
    with pytest.raises(LookupError, match="XXX"):
        pcn_profiles(make_scope(atlas), pcn_codes=["XXX"])
    with pytest.raises(LookupError, match="Unknown practice"):
        practice_profiles(make_scope(atlas), practice_codes=["ZZZZZZ"])
    with pytest.raises(LookupError, match="U99999"):  # the edge resolves the PCN, once
        practice_profiles(make_scope(atlas, kind="pcn", code="U99999"))


@pytest.mark.slow
def test_practice_quintiles_hold_a_fifth_of_patients(atlas):
    p = practice_profiles(make_scope(atlas, imd=2019))
    share = p.groupby("imd_quintile")["patients_known_lsoa"].sum() / p["patients_known_lsoa"].sum()
    assert list(share.index) == [1, 2, 3, 4, 5]
    assert np.allclose(share, 0.2, atol=0.01)
    # not equal counts of practices: the most deprived fifth of patients is spread over more (smaller) practices
    counts = p["imd_quintile"].value_counts()
    assert counts[1] > counts[5]
    assert population_quintiles(p["weighted_imd_score"], p["patients_known_lsoa"]).tolist() == \
        p["imd_quintile"].tolist()


@pytest.mark.slow
def test_plus_rules_change_plus_only(atlas):
    base = pcn_profiles(make_scope(atlas, kind="icb", code="QOP"))
    rule = EthnicGroupRule("pakistani", threshold_pct=20)
    alt = pcn_profiles(make_scope(atlas, kind="icb", code="QOP", plus_rules=[rule]))
    assert alt["core20_pct"].equals(base["core20_pct"])
    assert not alt["plus_pct"].equals(base["plus_pct"])
    assert (alt["plus_pct"] <= base["plus_pct"] + 1e-9).mean() > 0.9
    # a user's list: Jaywick's LSOA only -> PLUS patients are those registered as living there
    jay = LsoaListRule(("E01021988",))
    p = practice_profiles(make_scope(atlas, imd=2019, plus_rules=jay))
    reg = atlas.registrations11
    assert p["plus_patients"].sum() == reg.loc[reg["lsoa_code"] == "E01021988", "patients"].sum()


def test_inline_wilson_matches_stats_module():
    x = np.array([0, 1, 5, 50, 99, 100, 3.5])
    n = np.array([100, 100, 100, 100, 100, 100, 10])
    lo, hi = _wilson(x, n)
    lo2, hi2 = wilson_ci(x, n)
    assert np.allclose(lo, lo2) and np.allclose(hi, hi2)
    lo, hi = _wilson(np.array([0.0]), np.array([0.0]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])


@pytest.mark.parametrize("which, icb", [pytest.param("atlas", "QOP", marks=pytest.mark.slow), ("small_atlas", "QWO")])
def test_census_rules_on_imd_2019_count_the_same_patients_through_lsoa_2021(request, which, icb):
    from targeting.plus import CensusMeasureRule, MissingColumnError, plus_mask

    atlas = request.getfixturevalue(which)

    rule = [CensusMeasureRule("overcrowded_hh", threshold_pct=15)]
    with pytest.raises(MissingColumnError):
        plus_mask(atlas.lsoa11, rule)
    p19 = pcn_profiles(make_scope(atlas, imd=2019, kind="icb", code=icb, plus_rules=rule))
    p25 = pcn_profiles(make_scope(atlas, imd=2025, kind="icb", code=icb, plus_rules=rule))
    assert np.allclose(p19["plus_patients"], p25["plus_patients"])
    assert np.allclose(p19["patients_known_lsoa"], p25["patients_known_lsoa"])
    assert not np.allclose(p19["core20_pct"], p25["core20_pct"])  # deprivation still follows the edition


def test_profiles_add_up_on_the_small_atlas(small_atlas):
    # the national tests' invariants, on Bradford and Solihull: a PCN is the sum of its practices, shares add
    # up, intervals hold their estimate, and registrations are conserved across the LSOA vintages
    atlas = small_atlas
    pcn = pcn_profiles(make_scope(atlas, imd=2019), pcn_codes=["U37316"]).iloc[0]  # Bradford City 4 PCN
    prac = practice_profiles(make_scope(atlas, imd=2019, kind="pcn", code="U37316"))
    assert pcn["practices"] == len(prac) > 1
    for c in ("registered_patients", "patients_known_lsoa", "core20_patients", "plus_patients"):
        assert pcn[c] == pytest.approx(prac[c].sum())
    w = prac["patients_known_lsoa"]
    assert pcn["weighted_imd_score"] == pytest.approx((prac["weighted_imd_score"] * w).sum() / w.sum())
    every = pcn_profiles(make_scope(atlas, imd=2025))
    assert set(REQUIRED) <= set(every.columns) and set(every["icb_code_nhs"].dropna()) == {"QWO", "QHL"}
    mix = every[["pct_asian", "pct_black", "pct_mixed", "pct_white", "pct_other"]].sum(axis=1)
    assert np.allclose(mix, 100, atol=1e-6)
    assert (every["core20_pct_lower"] <= every["core20_pct"]).all()
    assert (every["core20_pct"] <= every["core20_pct_upper"]).all()
    totals = [practice_profiles(make_scope(atlas, imd=imd))["registered_patients"].sum() for imd in (2019, 2025)]
    assert totals[0] == totals[1] == atlas.registrations11["patients"].sum()
    with pytest.raises(LookupError, match="U99999"):  # the edge resolves the PCN, once
        practice_profiles(make_scope(atlas, kind="pcn", code="U99999"))
