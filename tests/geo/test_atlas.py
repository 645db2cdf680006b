"""Facts about real places, traceable to the published files (see ../shared/data/MANIFEST.md)."""

import json

import pandas as pd
import pytest

from geo.atlas import build, input_hashes
from geo.editions import EDITION_YEARS
from geo.paths import cache_dir


@pytest.mark.slow
def test_lsoa_counts(atlas):
    assert len(atlas.lsoa21) == 33_755
    assert len(atlas.lsoa11) == 32_844
    assert atlas.lsoa21["lsoa_code"].is_unique and atlas.lsoa11["lsoa_code"].is_unique
    assert atlas.lsoa21["lsoa_code"].str.startswith("E01").all()


@pytest.mark.slow
@pytest.mark.parametrize("table,prefix", [("lsoa21", "imd25"), ("lsoa21", "imd19"), ("lsoa11", "imd19")])
def test_jaywick_most_deprived_and_core20(atlas, table, prefix):
    t = getattr(atlas, table).set_index("lsoa_code")
    jay = t.loc["E01021988"]
    assert jay[f"{prefix}_rank"] == 1
    assert bool(jay[f"{prefix}_core20"])
    assert jay["lsoa_name"] == "Tendring 018A"


@pytest.mark.slow
def test_jaywick_scores_match_mhclg(atlas):
    assert atlas.lsoa11.set_index("lsoa_code").loc["E01021988", "imd19_score"] == pytest.approx(92.735)
    assert atlas.lsoa21.set_index("lsoa_code").loc["E01021988", "imd25_score"] == pytest.approx(94.223)


@pytest.mark.slow
def test_core20_holds_a_fifth_of_the_mid2015_population(atlas):
    t = atlas.lsoa11
    share = t.loc[t["imd19_core20"], "pop_mid2015"].sum() / t["pop_mid2015"].sum()
    assert t["pop_mid2015"].sum() == 54_728_204
    assert round(100 * share, 2) == 19.93
    assert int(t["imd19_core20"].sum()) == 6_568


@pytest.mark.slow
def test_census_residents_conserved_in_both_vintages(atlas):
    assert int(atlas.lsoa21["residents"].sum()) == 56_490_108
    assert int(atlas.lsoa11["residents"].sum()) == 56_490_108
    # each ethnic group is conserved too (apportioned as whole numbers, never duplicated)
    for g in ("eth_bangladeshi", "eth_gypsy_irish_traveller", "eth_roma"):
        assert int(atlas.lsoa11[g].sum()) == int(atlas.lsoa21[g].sum())
    assert int(atlas.lsoa21["eth_bangladeshi"].sum()) == 629_616
    assert int(atlas.lsoa21["eth_roma"].sum()) == 99_102


@pytest.mark.slow
def test_registrations_conserved_across_the_bridge(atlas):
    assert int(atlas.registrations11["patients"].sum()) == 61_768_942
    assert int(atlas.registrations21["patients"].sum()) == 61_768_942
    per11 = atlas.registrations11.groupby("practice_code")["patients"].sum()
    per21 = atlas.registrations21.groupby("practice_code")["patients"].sum()
    pd.testing.assert_series_equal(per11.sort_index(), per21.sort_index())
    assert atlas.practices["practice_code"].nunique() == 6_484


@pytest.mark.slow
def test_households_and_ages(atlas):
    t = atlas.lsoa21.set_index("lsoa_code")
    assert int(t["households"].sum()) == 23_435_995
    assert t.loc["E01021988", "households"] == 1_183
    assert atlas.lsoa11.set_index("lsoa_code").loc["E01021988", "aged_40_74"] == 1_150
    # Census-based 40-74 estimate lands near the MSOA single-year total for England (23,717,355)
    assert abs(int(t["aged_40_74"].sum()) - 23_717_355) < 50_000


@pytest.mark.slow
def test_tower_hamlets_bangladeshi_share(atlas):
    t = atlas.lsoa21[atlas.lsoa21["lad_name"] == "Tower Hamlets"]
    assert len(t) == 169
    assert round(100 * t["eth_bangladeshi"].sum() / t["residents"].sum(), 1) == 34.6


@pytest.mark.slow
def test_split_children_inherit_imd2019(atlas, data_dir):
    lk = pd.read_csv(data_dir / "lookups/lsoa11_lsoa21_lad22_ew.csv.gz")
    splits = lk[(lk["change_code"] == "S") & lk["lsoa21_code"].str.startswith("E")]
    l11 = atlas.lsoa11.set_index("lsoa_code")["imd19_score"]
    l21 = atlas.lsoa21.set_index("lsoa_code")["imd19_score"]
    assert (l21.loc[splits["lsoa21_code"]].to_numpy() == l11.loc[splits["lsoa11_code"]].to_numpy()).all()


@pytest.mark.slow
def test_web_geometry_is_smaller_and_gap_free(atlas):
    t = atlas.lsoa21
    assert t.geometry_web.is_valid.mean() > 0.999
    bng_full = t.geometry.to_crs(27700).area.sum()
    bng_web = t.geometry_web.to_crs(27700).area.sum()
    assert abs(bng_web / bng_full - 1) < 0.002
    assert t.geometry_web.count_coordinates().sum() < t.geometry.count_coordinates().sum()


@pytest.mark.slow
def test_practices_located_and_placed(atlas):
    p = atlas.practices
    assert p["easting"].notna().mean() > 0.99
    assert p["icb_code"].notna().mean() > 0.999
    densham = p.set_index("practice_code").loc["A81001"]
    assert densham["postcode"] == "TS18 1HU"
    assert densham["easting"] == 444136 and densham["northing"] == 518701
    assert densham["icb_code_nhs"] == "QHM"
    # a practice whose postcode is not in Code-Point has missing coordinates, never infinite ones
    assert p["lon"].replace([float("inf"), float("-inf")], float("nan")).isna().sum() == p["lon"].isna().sum()
    assert p.loc[p["easting"].isna(), "lon"].isna().all()


@pytest.mark.slow
def test_practices_missing_from_the_map_file_take_the_epraccur_postcode(atlas):
    # Y07274 (St Nicolas Medical Centre, Nuneaton) is in neither the July 2022 map file nor ePCN; epraccur
    # (January 2023) gives CV11 6HH, in Coventry and Warwickshire (QWU, the commissioner epraccur names too).
    p = atlas.practices.set_index("practice_code")
    nicolas = p.loc["Y07274"]
    assert nicolas["postcode"] == "CV11 6HH"
    assert nicolas["icb_code_nhs"] == "QWU" and nicolas["icb_source"] == "location"
    assert 52.5 < nicolas["lat"] < 52.6 and -1.5 < nicolas["lon"] < -1.4
    # the six practices the July 2022 map file lacks all have coordinates now (epraccur postcodes)
    six = ["Y07025", "Y07057", "Y07059", "Y07060", "Y07274", "Y07275"]
    assert p.loc[six, "easting"].notna().all()
    assert p.loc["Y07275", "postcode"] == "WF17 5QT" and p.loc["Y07275", "icb_code_nhs"] == "QWO"
    # a retired map-file postcode is replaced by epraccur's current one when Code-Point knows it
    assert p.loc["E83017", "postcode"] == "EN5 2ED" and pd.notna(p.loc["E83017", "easting"])


@pytest.mark.slow
def test_practice_icbs_agree_with_strategy_unit(atlas, data_dir):
    su = pd.read_excel(data_dir / "gp/gp-reg-pat-prac-map_2022-07_with_strategy_unit_icb_columns.xlsx", dtype=str)
    su = su.set_index("PRACTICE_CODE")["ICB22"]
    ours = atlas.practices.set_index("practice_code")["icb_code_nhs"]
    common = ours.index.intersection(su.index)
    agree = (ours.loc[common] == su.loc[common]).mean()
    assert len(common) > 6_400
    assert agree > 0.995


@pytest.mark.slow
@pytest.mark.parametrize("code, icb", [("F84041", "QMF"), ("Y06592", "QMF"), ("Y03528", "QRV"), ("Y06487", "QRV")])
def test_a_practice_with_a_retired_ccg_code_is_in_its_map_files_icb(atlas, data_dir, code, icb):
    """Issue 23: these practices' CCG codes (07T, 08V, 08E, 08C) are in no July 2022 Sub-ICB lookup; the map file's
    STP code is their ICB's (North East London QMF, North West London QRV), and so is the Strategy Unit's ICB22. Their
    postcodes had put them in North Central, South East London and Birmingham and Solihull."""
    raw = pd.read_csv(data_dir / "gp/gp-reg-pat-prac-map_2022-07.csv", dtype=str).set_index("PRACTICE_CODE")
    assert raw.loc[code, "STP_CODE"] == icb
    p = atlas.practices.set_index("practice_code").loc[code]
    assert (p["icb_code_nhs"], p["icb_source"]) == (icb, "ICB (map file)")


@pytest.mark.slow
def test_every_practice_placed_by_the_map_files_icb_agrees_with_it(atlas, data_dir):
    raw = pd.read_csv(data_dir / "gp/gp-reg-pat-prac-map_2022-07.csv", dtype=str).set_index("PRACTICE_CODE")
    p = atlas.practices[atlas.practices["icb_source"] == "ICB (map file)"].set_index("practice_code")
    assert len(p) >= 4
    assert (p["icb_code_nhs"] == raw.loc[p.index, "STP_CODE"]).all()


@pytest.mark.slow
def test_the_july_2026_month_places_them_by_its_own_map(data_dir):
    """On July 2026 every practice's ICB is the map's own (geo/structure.py): the Special Allocation Scheme of North
    East London is there still, in North East London (QMF); F84041 and Y03528 have closed, and are in no ICB."""
    from geo.atlas import load

    a = load(registrations="2026-07", progress=False)
    raw = pd.read_csv(data_dir / "gp/gp-reg-pat-prac-map_2026-07.zip", dtype=str).set_index("PRACTICE_CODE")
    ours = a.practices.set_index("practice_code")
    assert raw.loc["Y06592", "ICB_CODE"] == "QMF" and ours.loc["Y06592", "icb_code_nhs"] == "QMF"
    assert not {"F84041", "Y03528"} & (set(raw.index) | set(ours.index))


@pytest.mark.slow
def test_build_is_skipped_when_inputs_unchanged(atlas):
    meta = json.loads((cache_dir() / "atlas" / "build.json").read_text())
    assert meta["inputs"] == input_hashes()
    before = (cache_dir() / "atlas" / "lsoa21.parquet").stat().st_mtime_ns
    build(progress=False)
    assert (cache_dir() / "atlas" / "lsoa21.parquet").stat().st_mtime_ns == before


@pytest.mark.slow
def test_geometry_free_load_reads_tables_on_first_use(atlas):
    import geo.atlas as atlas_mod

    light = atlas_mod._load_uncached(cache_dir() / "atlas", geometry=False)
    assert "lsoa11" not in light.__dict__  # nothing read yet
    t = light.lsoa21
    assert "geometry" not in t.columns and len(t) == 33_755
    assert "lsoa21" in light.__dict__ and "registrations11" not in light.__dict__
    assert light.edition(2019).lsoas["imd19_core20"].sum() == atlas.lsoa11["imd19_core20"].sum()


# ---- the same build on extracts of the published files (tests/small_atlas.py): Bradford and Solihull ----------
def test_small_atlas_is_built_from_the_extracts_only(small_atlas, small_data):
    meta = small_atlas.meta
    assert meta["national"] is False
    assert all(v["path"].startswith(str(small_data)) for v in meta["inputs"].values())
    lk = pd.read_csv(small_data / "lookups/lsoa11_lsoa21_lad22_ew.csv.gz")
    assert set(small_atlas.lsoa21["lsoa_code"]) == set(lk["lsoa21_code"])
    assert set(small_atlas.lsoa11["lsoa_code"]) == set(lk["lsoa11_code"])
    assert set(small_atlas.lsoa21["lad_name"]) == {"Bradford", "Solihull"}
    assert set(small_atlas.icbs["icb_code_nhs"]) == {"QWO", "QHL"}


def test_small_atlas_keeps_national_ranks_and_conserves_counts(small_atlas, small_data):
    t = small_atlas.lsoa21
    imd = pd.read_csv(small_data / "imd/imd2025_lsoa21_ranks_scores_deciles.csv.gz").set_index("LSOA code (2021)")
    rank = imd["Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"]
    assert (t.set_index("lsoa_code")["imd25_rank"] == rank.reindex(t["lsoa_code"]).to_numpy()).all()
    assert t["imd25_rank"].max() > len(t)  # national ranks, not re-ranked within the extract
    assert (t["imd25_core20"] == (t["imd25_decile"] <= 2)).all()
    # residents and registrations are conserved across the 2011 <-> 2021 bridge, as in the national build
    assert int(small_atlas.lsoa11["residents"].sum()) == int(t["residents"].sum())
    per11 = small_atlas.registrations11.groupby("practice_code")["patients"].sum()
    per21 = small_atlas.registrations21.groupby("practice_code")["patients"].sum()
    pd.testing.assert_series_equal(per11.sort_index(), per21.sort_index())
    reg = pd.read_csv(small_data / "gp/gp_reg_pat_prac_lsoa_all_2022-07.csv.gz")
    assert int(per11.sum()) == int(reg["NUMBER_OF_PATIENTS"].sum())
    assert small_atlas.practices["easting"].notna().mean() > 0.95


def test_the_atlas_gives_every_edition_bound_to_it_without_naming_a_year(small_atlas):
    editions = small_atlas.editions
    assert tuple(e.year for e in editions) == EDITION_YEARS
    assert all(e.atlas is small_atlas for e in editions)
    assert all(e.lsoas is small_atlas.edition(e.year).lsoas for e in editions)
    assert editions[0].lsoas is small_atlas.lsoa11 and editions[-1].lsoas is small_atlas.lsoa21
    with pytest.raises(AttributeError):
        small_atlas.editions = ()
