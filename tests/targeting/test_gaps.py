"""Gaps (detection, registration, Core20 reach, access) on the real national data.

Hand computations read the raw published CSVs in ../shared/data, not the atlas, wherever they can.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from targeting import gaps
from targeting.gaps import GapInputError, detection, registration
from targeting.scope import make_scope


@pytest.fixture(scope="module")
def pg(atlas):
    return gaps.practice_gaps(atlas.edition(2025), registers=list(gaps.REGISTERS))


@pytest.fixture(scope="module")
def each_pg(each_atlas):
    return gaps.practice_gaps(each_atlas.edition(2025), registers=list(gaps.REGISTERS))


@pytest.fixture(scope="module")
def qof_raw(data_dir):
    q = pd.read_csv(data_dir / "gp/qof/QOF_2022-23_PREVALENCE_2223.csv.gz")
    return q


@pytest.fixture(scope="module")
def reg_raw(data_dir):
    return pd.read_csv(data_dir / "gp/gp_reg_pat_prac_lsoa_all_2022-07.csv.gz")


# ------------------------------------------------------------------------------------------------
# detection gap
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_national_recorded_hypertension_prevalence_2022_23(atlas, pg, qof_raw):
    # QOF 2022-23 England: 8,996,512 on the HYP register over 62,378,057 registered = 14.42%
    raw_hyp = qof_raw[qof_raw["GROUP_CODE"] == "HYP"]
    assert pg["hyp_recorded"].sum() == raw_hyp["REGISTER"].sum() == 8_996_512
    prevalence = pg["hyp_recorded"].sum() / raw_hyp["PRACTICE_LIST_SIZE"].sum()
    assert round(100 * prevalence, 2) == 14.42


@pytest.mark.slow
def test_expected_hypertension_exceeds_recorded_nationally(pg):
    # PHE: recorded prevalence is well below modelled (diagnosed + undiagnosed) prevalence
    ok = pg["hyp_expected"].notna()
    ratio = pg.loc[ok, "hyp_recorded"].sum() / pg.loc[ok, "hyp_expected"].sum()
    assert 0.4 < ratio < 0.7
    assert (pg.loc[ok, "hyp_undiagnosed"] > 0).mean() > 0.99
    assert ok.sum() > 6200  # PHE 2016 codes cover 6,298 of the 6,378 QOF 2022-23 practices
    # expected share of adults close to the surveys: ONS 32% (HSE 2015-2019), HSE 2021 30%
    share = pg.loc[ok, "hyp_expected"].sum() / pg.loc[ok, "hyp_denominator"].sum()
    assert 0.28 < share < 0.36


@pytest.mark.slow
def test_hypertension_expected_by_hand_for_a_tower_hamlets_practice(pg, data_dir, qof_raw):
    # Goodman's Field Health Centre (F84039), Tower Hamlets
    code = "F84039"
    folder = data_dir / "gp/hypertension_estimates_2016"
    d = pd.read_csv(folder / "phe_hypertension_estimates_2016_diagnosed_practice.csv.gz")
    u = pd.read_csv(folder / "phe_hypertension_estimates_2016_undiagnosed_practice.csv.gz")
    d, u = d.set_index("practice_code").loc[code], u.set_index("practice_code").loc[code]
    q = qof_raw[qof_raw["PRACTICE_CODE"] == code]
    adults = q.loc[q["PATIENT_LIST_TYPE"] == "16OV", "PRACTICE_LIST_SIZE"].iloc[0]
    recorded = q.loc[q["GROUP_CODE"] == "HYP", "REGISTER"].iloc[0]
    expected = (d["estimate"] + u["estimate"]) / 100 * adults
    row = pg.set_index("practice_code").loc[code]
    assert row["hyp_denominator"] == adults
    assert row["hyp_recorded"] == recorded
    assert row["hyp_expected"] == pytest.approx(expected, rel=1e-9)
    assert row["hyp_undiagnosed"] == pytest.approx(expected - recorded, rel=1e-9)
    # limits: model SE from both 95% intervals, Byar on the recorded count, in quadrature
    z = 1.959963984540054
    se_model = adults / 100 * np.hypot((d["max95"] - d["min95"]) / (2 * z), (u["max95"] - u["min95"]) / (2 * z))
    from targeting.stats import byar_ci

    lo, hi = byar_ci(recorded)
    half = z * np.hypot(se_model, (hi - lo) / (2 * z))
    assert row["hyp_undiagnosed_lower"] == pytest.approx(expected - recorded - half, rel=1e-9)
    assert row["hyp_undiagnosed_upper"] == pytest.approx(expected - recorded + half, rel=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("reg", ["MH", "DM", "AST", "COPD", "LD", "CHD", "AF", "CKD", "DEM"])
def test_indirect_standardisation_reproduces_the_national_total(pg, reg):
    r = reg.lower()
    ok = pg[f"{r}_expected"].notna()
    # Poisson regression with an intercept: expected sums to recorded over the practices it was fitted on
    # (practices under 1,000 patients are predicted, not fitted, so allow 0.2%)
    assert pg.loc[ok, f"{r}_expected"].sum() == pytest.approx(pg.loc[ok, f"{r}_recorded"].sum(), rel=2e-3)
    assert ok.sum() > 6300


@pytest.mark.slow
def test_indirect_standardisation_explains_diabetes_better_than_the_national_rate(pg):
    ok = pg["dm_expected"].notna()
    o, e, n = pg.loc[ok, "dm_recorded"], pg.loc[ok, "dm_expected"], pg.loc[ok, "dm_denominator"]
    crude = n * o.sum() / n.sum()

    def deviance(mu):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(o > 0, o * np.log(o / mu), 0.0)
        return 2 * float(np.sum(t - (o - mu)))

    assert deviance(e) < 0.5 * deviance(crude)


@pytest.mark.slow
def test_copd_in_tower_hamlets_is_low_crude_but_near_expected(atlas, pg):
    # Tower Hamlets' lists are young: crude COPD prevalence is half England's (0.92% vs 1.85%), but once age,
    # deprivation and ethnic mix are standardised recorded and expected agree within 15%
    th = atlas.practices.loc[atlas.practices["pcn_name"].str.contains("TOWER HAMLETS", na=False), "practice_code"]
    t = pg[pg["practice_code"].isin(th) & pg["copd_expected"].notna()]
    assert len(t) >= 25
    crude_t = t["copd_recorded"].sum() / t["copd_denominator"].sum()
    crude_e = pg["copd_recorded"].sum() / pg["copd_denominator"].sum()
    assert crude_t < 0.6 * crude_e
    assert 0.85 < t["copd_recorded"].sum() / t["copd_expected"].sum() < 1.15


@pytest.mark.slow
def test_isr_limits_are_byar_limits_on_the_recorded_count(pg):
    from targeting.stats import byar_ci

    row = pg.set_index("practice_code").loc["F84039"]
    lo, hi = byar_ci(row["dm_recorded"])
    assert row["dm_ratio_lower"] == pytest.approx(lo / row["dm_expected"])
    assert row["dm_undiagnosed_lower"] == pytest.approx(row["dm_expected"] - hi)
    assert row["dm_undiagnosed_lower"] < row["dm_undiagnosed"] < row["dm_undiagnosed_upper"]


@pytest.mark.slow
def test_pcn_sums_its_practices(atlas, pg):
    # Tower Hamlets networks 6 and 3
    p = gaps.pcn_gaps(atlas.edition(2025), ["U08803", "U37286"], registers=["HYP", "DM"])
    assert list(p["pcn_code"]) == ["U08803", "U37286"]
    members = atlas.practices[atlas.practices["pcn_code"] == "U37286"]["practice_code"]
    m = pg[pg["practice_code"].isin(members)]
    row = p.set_index("pcn_code").loc["U37286"]
    assert row["hyp_recorded"] == m["hyp_recorded"].sum()
    assert row["dm_expected"] == pytest.approx(m["dm_expected"].sum())
    assert row["practices"] == len(members)
    # the PCN's hypertension interval (model errors added, not in quadrature) is at least as wide as
    # the square root of the sum of squared practice half-widths
    half = (row["hyp_undiagnosed_upper"] - row["hyp_undiagnosed_lower"]) / 2
    ph = (m["hyp_undiagnosed_upper"] - m["hyp_undiagnosed_lower"]) / 2
    assert half >= np.sqrt((ph**2).sum())


@pytest.mark.slow
def test_all_pcns_exclude_unallocated_and_cover_every_pcn(atlas):
    p = gaps.pcn_gaps(atlas.edition(2025))
    assert "U" not in set(p["pcn_code"])
    assert p["pcn_code"].is_unique and len(p) > 1200
    pcn = atlas.practices["pcn_code"]
    assert p["practices"].sum() == pcn.notna().sum() - (pcn == "U").sum()


@pytest.mark.slow
def test_imd_2019_edition_changes_the_standardisation_not_hypertension(atlas, pg):
    p19 = gaps.practice_gaps(atlas.edition(2019), ["F84039", "A81001"])
    p25 = pg.set_index("practice_code").loc[["F84039", "A81001"]].reset_index()
    assert np.allclose(p19["hyp_expected"], p25["hyp_expected"])
    assert not np.allclose(p19["dm_expected"], p25["dm_expected"])
    assert np.allclose(p19["dm_expected"], p25["dm_expected"], rtol=0.1)


# ------------------------------------------------------------------------------------------------
# LSOA apportionment (used by the outreach planner)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reg", ["HYP", "DM"])
def test_lsoa_detection_gap_conserves_the_practice_total(each_atlas, each_pg, reg):
    atlas, pg = each_atlas, each_pg
    lg = gaps.lsoa_detection_gap(atlas.edition(2025), register=reg)
    assert len(lg) == len(atlas.lsoa21) and lg["lsoa_code"].is_unique
    has_reg = pg["practice_code"].isin(set(atlas.registrations21["practice_code"].unique()))
    r = reg.lower()
    assert lg["expected_undiagnosed"].sum() == pytest.approx(
        pg.loc[has_reg, f"{r}_undiagnosed"].clip(lower=0).sum(), rel=1e-9)
    assert lg["expected_undiagnosed_upper"].sum() == pytest.approx(
        pg.loc[has_reg, f"{r}_undiagnosed_upper"].clip(lower=0).sum(), rel=1e-9)
    assert (lg["expected_undiagnosed_lower"] <= lg["expected_undiagnosed"] + 1e-9).all()
    assert (lg["expected_undiagnosed"] <= lg["expected_undiagnosed_upper"] + 1e-9).all()


def test_lsoa_detection_gap_2019_is_on_lsoa_2011(each_atlas):
    lg = gaps.lsoa_detection_gap(each_atlas.edition(2019), register="HYP")
    assert set(lg["lsoa_code"]) == set(each_atlas.lsoa11["lsoa_code"])
    assert lg["expected_undiagnosed"].sum() == pytest.approx(
        gaps.lsoa_detection_gap(each_atlas.edition(2025), register="HYP")["expected_undiagnosed"].sum(), rel=1e-9)


@pytest.mark.slow
def test_lsoa_register_counts_smi_by_hand_for_jaywick(atlas, qof_raw, reg_raw):
    lc = gaps.lsoa_register_counts(atlas.edition(2025), "MH")
    assert lc["register_patients"].sum() == pytest.approx(
        qof_raw.loc[qof_raw["GROUP_CODE"] == "MH", "REGISTER"].sum())  # every QOF practice has registrations
    # Jaywick (E01021988, unchanged 2011 -> 2021): sum over practices of MH register × share of its
    # known-English-LSOA patients living there, from the raw files
    r = reg_raw[reg_raw["LSOA_CODE"].str.startswith("E01")]
    known = r.groupby("PRACTICE_CODE")["NUMBER_OF_PATIENTS"].sum()
    here = r[r["LSOA_CODE"] == "E01021988"].set_index("PRACTICE_CODE")["NUMBER_OF_PATIENTS"]
    mh = qof_raw[qof_raw["GROUP_CODE"] == "MH"].set_index("PRACTICE_CODE")["REGISTER"]
    by_hand = (mh.reindex(here.index).fillna(0) * here / known.reindex(here.index)).sum()
    got = lc.set_index("lsoa_code").loc["E01021988", "register_patients"]
    assert got == pytest.approx(by_hand, rel=1e-9)
    assert 10 < got < 200


# ------------------------------------------------------------------------------------------------
# registration gap
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_registration_gap_national_ratio_and_weighted_mean(atlas):
    r = gaps.registration_gap(atlas)
    assert len(r) == 33_755
    # 61,727,641 patients with a known English LSOA / 56,490,108 Census 2021 usual residents
    assert r["national_ratio"].iloc[0] == pytest.approx(61_727_641 / 56_490_108)
    assert np.average(r["relative_ratio"], weights=r["residents"]) == pytest.approx(1.0, abs=1e-12)
    assert ((r["lower"] <= r["relative_ratio"]) & (r["relative_ratio"] <= r["upper"])).all()
    assert (r["flag"] == (r["upper"] < 1)).all()
    assert 0.005 < r["flag"].mean() < 0.10  # overdispersion keeps the flags for real outliers
    poisson = gaps.registration_gap(atlas, overdispersion=False)
    assert poisson["flag"].mean() > r["flag"].mean()


@pytest.mark.slow
def test_registration_gap_birmingham_lsoa_by_hand(atlas, data_dir, reg_raw):
    # Birmingham 096F (E01009290, Bournbrook & Selly Park: a student area beside the University of Birmingham,
    # unchanged 2011 -> 2021): residents from Census 2021 TS021, registered
    # from NHS Digital July 2022, national ratio from the same raw files
    eth = pd.read_csv(data_dir / "census/census2021_ts021_ethnic_group_broad_lsoa21_ew.csv.gz")
    res = eth.set_index("geography code")["Ethnic group: Total: All usual residents"]
    eng_res = res[res.index.str.startswith("E")].sum()
    eng_reg = reg_raw.loc[reg_raw["LSOA_CODE"].str.startswith("E01"), "NUMBER_OF_PATIENTS"].sum()
    here = reg_raw.loc[reg_raw["LSOA_CODE"] == "E01009290", "NUMBER_OF_PATIENTS"].sum()
    rr = (here / res["E01009290"]) / (eng_reg / eng_res)
    row = gaps.registration_gap(atlas).set_index("lsoa_code").loc["E01009290"]
    assert row["residents"] == res["E01009290"] == 2428
    assert row["registered_patients"] == here == 1710
    assert row["relative_ratio"] == pytest.approx(rr, rel=1e-12)
    assert row["flag"]


@pytest.mark.slow
def test_registration_gap_flags_welsh_border_lsoas(atlas):
    # Forest of Dean 010C borders Wales: residents registered with Welsh practices are not in the English
    # practice data, so almost nobody appears registered there (a limit the Methods page states)
    row = gaps.registration_gap(atlas).set_index("lsoa_code").loc["E01022273"]
    assert row["registered_patients"] < 20 and row["flag"]


@pytest.mark.slow
def test_registration_gap_2011_vintage(atlas):
    r = gaps.registration_gap(atlas, vintage=2011)
    assert len(r) == 32_844
    assert r["national_ratio"].iloc[0] == pytest.approx(61_727_641 / 56_490_108)


# ------------------------------------------------------------------------------------------------
# Core20 reach
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which, icb", [
    *[pytest.param("atlas", icb, marks=pytest.mark.slow) for icb in ("E54000029", "QHL", "West Yorkshire")],
    ("small_atlas", "QHL"), ("small_atlas", "West Yorkshire"),  # Solihull and Bradford in the small atlas
])
def test_reach_index_weighted_by_patients_averages_one(request, which, icb):
    atlas = request.getfixturevalue(which)
    c = gaps.core20_reach(make_scope(atlas, kind="icb", code=icb))
    assert np.average(c["reach_index"], weights=c["patients_known_lsoa"]) == pytest.approx(1.0, abs=1e-12)
    assert c["share_of_patients"].sum() == pytest.approx(1.0)
    assert c["share_of_core20"].sum() == pytest.approx(1.0)
    assert ((c["reach_lower"] <= c["reach_index"]) & (c["reach_index"] <= c["reach_upper"])).all()


@pytest.mark.slow
def test_reach_in_north_east_london_by_hand(atlas):
    c = gaps.core20_reach(make_scope(atlas, kind="icb", code="E54000029")).set_index("pcn_code")
    # Tower Hamlets Network 3 serves the ICB's Core20 residents more than its size; Wanstead and Woodford less
    assert c.loc["U37286", "reach_index"] > 1.5 and c.loc["U37286", "flag"] == "higher"
    assert c.loc["U78575", "reach_index"] < 0.2 and c.loc["U78575", "flag"] == "lower"
    # core20_patients by an independent path: registrations × IoD 2025 deciles of NEL's LSOAs
    t = atlas.lsoa21
    core = set(t.loc[(t["icb_code_nhs"] == "QMF") & (t["imd25_decile"] <= 2), "lsoa_code"])
    members = atlas.practices.loc[atlas.practices["pcn_code"] == "U37286", "practice_code"]
    r = atlas.registrations21
    assert c.loc["U37286", "core20_patients"] == r.loc[r["practice_code"].isin(members)
                                                       & r["lsoa_code"].isin(core), "patients"].sum()


# ------------------------------------------------------------------------------------------------
# access
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_access_jaywick_by_hand(atlas):
    # Jaywick (E01021988, Tendring 018A): most deprived LSOA in England in IoD 2019 and IoD 2025
    a = gaps.access(make_scope(atlas, kind="icb", code="E54000023"))  # Suffolk and North East Essex
    row = a.set_index("lsoa_code").loc["E01021988"]
    lsoa = atlas.lsoa21.set_index("lsoa_code").loc["E01021988"]
    p = atlas.practices.dropna(subset=["easting", "northing"])
    d = np.hypot(p["easting"] - lsoa["pw_e"], p["northing"] - lsoa["pw_n"])
    assert row["nearest_practice_m"] == pytest.approx(d.min())
    assert row["nearest_practice_code"] == p["practice_code"].iloc[int(np.argmin(d.to_numpy()))]
    assert 100 < row["nearest_practice_m"] < 5_000
    # majority PCN from registrations by hand
    r = atlas.registrations21[atlas.registrations21["lsoa_code"] == "E01021988"].merge(
        atlas.practices[["practice_code", "pcn_code"]], on="practice_code")
    by_pcn = r.groupby("pcn_code")["patients"].sum()
    assert row["pcn_code"] == by_pcn.idxmax()
    assert row["pcn_share"] == pytest.approx(by_pcn.max() / by_pcn.sum())
    mine = p["pcn_code"] == row["pcn_code"]
    assert row["nearest_pcn_practice_m"] == pytest.approx(d[mine].min())


@pytest.mark.slow
def test_access_covers_every_core20_lsoa_and_pcn_distance_is_never_shorter(atlas):
    a = gaps.access(make_scope(atlas, kind="icb", code="QHL"))  # Birmingham and Solihull
    t = atlas.lsoa21
    core = t[(t["icb_code_nhs"] == "QHL") & t["imd25_core20"]]
    assert set(a["lsoa_code"]) == set(core["lsoa_code"])
    assert (a["nearest_pcn_practice_m"] >= a["nearest_practice_m"] - 1e-6).all()
    assert a["nearest_practice_m"].median() < 1_500  # a dense city
    assert (a["centroid"] == "population-weighted").all()


@pytest.mark.slow
def test_access_2019_uses_lsoa_2011(atlas, data_dir):
    a = gaps.access(make_scope(atlas, imd=2019, kind="icb", code="QHL"))
    assert set(a["lsoa_code"]) <= set(atlas.lsoa11["lsoa_code"])
    assert a["centroid"].isin(["population-weighted", "population-weighted (LSOA 2021 parts)",
                               "point inside polygon"]).all()
    assert a["nearest_practice_m"].notna().all()
    # Birmingham LSOA 2011 E01008914 was split in 2021 (ONS change code S): its centroid is the
    # resident-weighted mean of its two children's centroids
    lk = pd.read_csv(data_dir / "lookups/lsoa11_lsoa21_lad22_ew.csv.gz")
    kids = lk.loc[lk["lsoa11_code"] == "E01008914", "lsoa21_code"]
    assert (lk.loc[lk["lsoa11_code"] == "E01008914", "change_code"] == "S").all() and len(kids) == 2
    k = atlas.lsoa21.set_index("lsoa_code").loc[list(kids)]
    row = a.set_index("lsoa_code").loc["E01008914"]
    assert row["centroid"] == "population-weighted (LSOA 2021 parts)"
    assert row["centroid_e"] == pytest.approx(np.average(k["pw_e"], weights=k["residents"]))
    assert row["centroid_n"] == pytest.approx(np.average(k["pw_n"], weights=k["residents"]))


# ------------------------------------------------------------------------------------------------
# edge cases and bad input
# ------------------------------------------------------------------------------------------------
def test_poisson_regression_recovers_known_coefficients():
    rng = np.random.default_rng(1)
    n = 4000
    x = np.column_stack([np.ones(n), rng.uniform(0, 1, n), rng.uniform(0, 0.5, n)])
    beta = np.array([-3.0, 0.8, -1.5])
    denom = rng.integers(2000, 20000, n).astype(float)
    y = rng.poisson(denom * np.exp(x @ beta)).astype(float)
    got = detection._poisson_glm(x, y, np.log(denom))
    assert np.allclose(got, beta, atol=0.05)
    assert np.exp(np.log(denom) + x @ got).sum() == pytest.approx(y.sum(), rel=1e-9)


def test_dersimonian_laird_is_zero_without_extra_spread():
    rng = np.random.default_rng(2)
    e = np.full(5000, 1500.0)
    o = rng.poisson(e).astype(float)
    assert registration._dersimonian_laird(np.log(o / e), 1 / o) < 1e-4


def test_bad_input_raises_clear_errors(each_atlas):
    with pytest.raises(GapInputError, match="ZZZ999"):
        gaps.practice_gaps(each_atlas.edition(2025), ["B83002", "ZZZ999"], strict=True)
    with pytest.raises(GapInputError, match="XYZ"):
        gaps.practice_gaps(each_atlas.edition(2025), registers=["XYZ"])
    with pytest.raises(ValueError, match="2019 or 2025"):  # the edge makes the edition, once
        make_scope(each_atlas, imd=2015)
    with pytest.raises(GapInputError, match="U99999"):
        gaps.pcn_gaps(each_atlas.edition(2025), ["U99999"], strict=True)
    with pytest.raises(GapInputError, match="pcn_code"):
        gaps.pcn_gaps(each_atlas.edition(2025), membership=pd.DataFrame({"practice_code": ["B83002"]}))
    with pytest.raises(GapInputError, match="vintage"):
        gaps.registration_gap(each_atlas, vintage=2001)
    with pytest.raises(GapInputError, match="NOPE"):
        gaps.lsoa_register_counts(each_atlas.edition(2025), "NOPE")
    with pytest.raises(LookupError):
        gaps.core20_reach(make_scope(each_atlas, kind="icb", code="Atlantis"))


@pytest.mark.parametrize("which, codes", [pytest.param("atlas", ("F84039", "A81001"), marks=pytest.mark.slow),
                                          ("small_atlas", ("B83002", "B83005"))])
def test_practice_codes_are_normalised_and_order_kept(request, which, codes):
    atlas = request.getfixturevalue(which)
    p = gaps.practice_gaps(atlas.edition(2025), [f" {codes[0].lower()}", codes[1]])
    assert list(p["practice_code"]) == list(codes)
    assert p["dm_expected"].notna().all()


@pytest.mark.slow
def test_detection_model_terms_are_shown_and_plausible(atlas):
    m = gaps.detection_model(atlas.edition(2025), "COPD").set_index("term")
    assert m.loc["intercept", "practices_fitted"] > 6300
    # COPD is recorded more in practices serving deprived and older populations
    assert m.loc["imd_decile1", "coefficient"] > m.loc["imd_decile5", "coefficient"] > 0
    assert m.loc["age_50plus", "rate_ratio_10pp"] > 1.1
    assert (m["dispersion"] > 1).all()  # practices differ more than Poisson chance
    with pytest.raises(GapInputError, match="PHE"):
        gaps.detection_model(atlas.edition(2025), "HYP")


@pytest.mark.parametrize("which, pcn", [pytest.param("atlas", "U37286", marks=pytest.mark.slow),
                                        ("small_atlas", "U37316")])
def test_unallocated_pcn_asked_for_explicitly_gives_an_empty_row(request, which, pcn):
    atlas = request.getfixturevalue(which)
    p = gaps.pcn_gaps(atlas.edition(2025), ["U", pcn], registers=["DM"])
    u = p.set_index("pcn_code").loc["U"]
    assert u["practices"] == 0 and np.isnan(u["dm_expected"])
    assert p.set_index("pcn_code").loc[pcn, "dm_expected"] > 0


@pytest.mark.slow
def test_registration_gap_flags_army_garrison_lsoas(atlas, data_dir):
    # Tidworth (Wiltshire): soldiers register with Defence Medical Services, not NHS practices
    w = pd.read_csv(data_dir / "lookups/lsoa21_ward24_lad24_ew.csv.gz")
    tidworth = set(w.loc[w["ward24_name"].str.startswith("Tidworth"), "lsoa21_code"])
    r = gaps.registration_gap(atlas)
    t = r[r["lsoa_code"].isin(tidworth)]
    assert len(t) >= 6
    assert t["flag"].sum() >= 5
    assert t["registered_patients"].sum() < 0.8 * t["residents"].sum() * t["national_ratio"].iloc[0]


def test_unknown_codes_give_empty_rows_not_errors(each_atlas):
    # a user's newer registrations or PCN map may hold codes the each_atlas does not know
    p = gaps.practice_gaps(each_atlas.edition(2025), ["B83002", "ZZZ999"])  # a Bradford practice and an unknown code
    assert list(p["practice_code"]) == ["B83002", "ZZZ999"]
    assert p["hyp_expected"].isna().tolist() == [False, True]
    c = gaps.pcn_gaps(each_atlas.edition(2025), ["U99999"])
    assert c["practices"].tolist() == [0] and c["dm_expected"].isna().all()


@pytest.mark.parametrize("which, codes", [pytest.param("atlas", ("F84039", "F84087"), marks=pytest.mark.slow),
                                          ("small_atlas", ("B83002", "B83005"))])  # Tower Hamlets; Bradford
def test_pcn_gaps_with_a_users_own_membership(request, which, codes):
    atlas = request.getfixturevalue(which)
    pg = gaps.practice_gaps(atlas.edition(2025), registers=["DM"])
    # two practices grouped as a new "PCN"
    mine = pd.DataFrame({"practice_code": [codes[0], f"{codes[1].lower()} "], "pcn_code": ["NEW1", "NEW1"]})
    c = gaps.pcn_gaps(atlas.edition(2025), membership=mine, registers=["DM"]).set_index("pcn_code").loc["NEW1"]
    both = pg[pg["practice_code"].isin(codes)]
    assert c["practices"] == 2
    assert c["dm_recorded"] == both["dm_recorded"].sum()
    assert c["dm_expected"] == pytest.approx(both["dm_expected"].sum())


@settings(max_examples=60, deadline=None)
@given(o=st.lists(st.integers(0, 50_000), min_size=1, max_size=20),
       e_scale=st.floats(0.05, 20), se_frac=st.floats(0, 0.3), isr=st.booleans())
def test_limits_always_bracket_the_estimate(o, e_scale, se_frac, isr):
    obs = np.array(o, dtype=float)
    exp_ = np.maximum(obs, 1.0) * e_scale
    t = pd.DataFrame({"recorded": obs, "expected": exp_, "_se_model": 0.0 if isr else se_frac * exp_})
    out = detection._limits(t, np.full(len(obs), isr))
    assert (out["undiagnosed_lower"] <= out["undiagnosed"] + 1e-9).all()
    assert (out["undiagnosed"] <= out["undiagnosed_upper"] + 1e-9).all()
    assert (out["ratio_lower"] <= out["ratio"] + 1e-12).all() and (out["ratio"] <= out["ratio_upper"] + 1e-12).all()
    assert (out["ratio_lower"] >= 0).all()
    zero = obs == 0
    assert (out.loc[zero, "ratio"] == 0).all() and (out.loc[zero, "ratio_upper"] > 0).all()


def test_poisson_regression_survives_collinear_covariates():
    rng = np.random.default_rng(3)
    n = 500
    a = rng.uniform(0, 1, n)
    x = np.column_stack([np.ones(n), a, 1 - a])  # collinear with the intercept
    denom = np.full(n, 5000.0)
    y = rng.poisson(denom * np.exp(-3 + 0.5 * a)).astype(float)
    got = detection._poisson_glm(x, y, np.log(denom))
    fitted = np.exp(np.log(denom) + x @ got)
    assert np.all(np.isfinite(got))
    assert fitted.sum() == pytest.approx(y.sum(), rel=1e-6)


@pytest.mark.slow
def test_missing_phe_estimates_leave_hypertension_empty_not_crashing(atlas):
    from dataclasses import replace

    bare = replace(atlas, hypertension=pd.DataFrame(columns=["practice_code"]), meta={})  # meta={}: no disk copy
    p = gaps.practice_gaps(bare.edition(2025), ["F84039"], registers=["HYP", "DM"])
    assert np.isnan(p.loc[0, "hyp_expected"]) and p.loc[0, "hyp_recorded"] == 1993
    assert p.loc[0, "dm_expected"] > 0


def test_gap_models_are_kept_beside_the_atlas_for_a_new_process(each_atlas, each_pg, tmp_path):
    from dataclasses import replace

    from targeting.gaps import detection

    first = replace(each_atlas, meta={**each_atlas.meta, "folder": str(tmp_path)})
    long, models = detection._cached_models(first.edition(2025))  # computes and keeps a copy
    assert len(list((tmp_path / "derived").glob("targeting.gaps.detection._both-*.parquet"))) == 1
    second = replace(each_atlas, meta={**each_atlas.meta, "folder": str(tmp_path)})  # a new atlas, as in a new process
    long2, models2 = detection._cached_models(second.edition(2025))  # reads the copy
    pd.testing.assert_frame_equal(long.reset_index(drop=True), long2.reset_index(drop=True))
    pd.testing.assert_frame_equal(models["DM"], models2["DM"])
    code = each_pg.dropna(subset=["dm_expected"])["practice_code"].iloc[0]
    dm = long[(long["register"] == "DM") & (long["practice_code"] == code)]
    assert dm["expected"].iloc[0] == pytest.approx(each_pg.set_index("practice_code").loc[code, "dm_expected"])


@pytest.mark.slow
def test_age_weighted_apportionment_conserves_and_leans_older(atlas):
    plain = gaps.lsoa_detection_gap(atlas.edition(2025), register="HYP")
    aged = gaps.lsoa_detection_gap(atlas.edition(2025), register="HYP", age_weighted=True)
    assert aged["expected_undiagnosed"].sum() == pytest.approx(plain["expected_undiagnosed"].sum(), rel=1e-9)
    t = atlas.lsoa21.set_index("lsoa_code")
    share = (t["aged_40_74"] / t["age_total_2021"]).reindex(plain["lsoa_code"]).to_numpy()
    moved = aged["expected_undiagnosed"].to_numpy() - plain["expected_undiagnosed"].to_numpy()
    # the student area of Birmingham 096F (few residents aged 40-74) loses; older LSOAs gain
    assert moved[plain["lsoa_code"].to_numpy() == "E01009290"][0] < 0
    assert np.corrcoef(share, moved)[0, 1] > 0.3
    assert len(gaps.lsoa_detection_gap(atlas.edition(2019), register="HYP", age_weighted=True)) == 32_844
