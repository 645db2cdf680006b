"""Readers on the real published files, and a corpus of malformed inputs each with the behaviour it must get."""

import gzip
import io
import json
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon

from geo import readers
from geo._errors import ValidationError

# ---------------------------------------------------------------- real files, as published


@pytest.mark.slow
def test_iod2019_file7(data_dir):
    df = readers.read_iod(data_dir / "imd/imd2019_lsoa11_file7_assembled.csv.gz", edition=2019)
    assert len(df) == 32_844
    jay = df.set_index("lsoa_code").loc["E01021988"]
    assert (jay["imd_rank"], jay["imd_decile"], jay["imd_score"]) == (1, 1, 92.735)
    assert df["pop_total"].sum() == 54_728_204


@pytest.mark.slow
def test_iod2019_files_1_and_6_with_bom_and_thousands(data_dir):
    f1 = readers.read_iod(data_dir / "imd/sources/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz", edition=2019)
    assert f1.set_index("lsoa_code").loc["E01000001", "imd_rank"] == 29_199  # published as "29,199"
    f6 = readers.read_iod(data_dir / "imd/sources/File_6_-_IoD2019_Population_Denominators.csv.gz", edition=2019)
    assert f6["pop_total"].sum() == 54_728_204
    f2 = readers.read_iod(data_dir / "imd/sources/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz", edition=2019)
    assert {"income_rank", "crime_decile"} <= set(f2.columns)


@pytest.mark.slow
def test_iod2025(data_dir):
    df = readers.read_iod(data_dir / "imd/imd2025_lsoa21_ranks_scores_deciles.csv.gz", edition=2025)
    assert len(df) == 33_755 and df["imd_rank"].is_unique
    assert df.set_index("lsoa_code").loc["E01021988", "imd_score"] == pytest.approx(94.223)
    assert df["imd_score"].dtype == "float64"  # as pandas reads the published text


@pytest.mark.slow
def test_boundaries_gpkg_and_geojson(data_dir):
    b21 = readers.read_boundaries(data_dir / "boundaries/lsoa21_bsc_ew_wgs84.gpkg", vintage=2021)
    assert len(b21) == 33_755 and b21.crs.to_epsg() == 4326 and b21.is_valid.all()
    b11 = readers.read_boundaries(data_dir / "boundaries/lsoa11_bsc_ew_wgs84.gpkg", vintage=2011)
    assert len(b11) == 32_844 and b11.is_valid.all()  # the one invalid polygon is repaired
    tendring = readers.read_boundaries(data_dir / "boundaries/lsoa11_bgc_by_lad/E07000076.geojson", vintage=2011)
    assert len(tendring) == 89 and "E01021988" in set(tendring["lsoa_code"])


@pytest.mark.slow
def test_lookups(data_dir):
    lk = readers.read_lsoa11_lsoa21(data_dir / "lookups/lsoa11_lsoa21_lad22_ew.csv.gz")
    assert lk["change_code"].value_counts().to_dict() == {"U": 33_647, "S": 1_900, "M": 239, "X": 9}
    icb = readers.read_lsoa_icb(data_dir / "lookups/lsoa21_sicbl24_icb24_en.csv.gz", vintage=2021)
    assert len(icb) == 33_755 and icb["icb_code"].nunique() == 42
    ruc = readers.read_ruc(data_dir / "lookups/ruc21_lsoa21_ew.csv.gz", vintage=2021)
    eng = ruc[ruc["lsoa_code"].str.startswith("E")]
    assert eng["urban_rural"].value_counts().to_dict() == {"Urban": 28_201, "Rural": 5_554}


@pytest.mark.slow
def test_census_tables(data_dir):
    eth = readers.read_ts021(data_dir / "census/census2021_ts021_ethnic_group_detailed_lsoa21_ew.csv.gz")
    eng = eth[eth["lsoa_code"].str.startswith("E")]
    assert eng["residents"].sum() == 56_490_108
    assert eng["eth_pakistani"].sum() == 1_570_259 and eng["eth_gypsy_irish_traveller"].sum() == 64_214
    hh = readers.read_census_table(data_dir / "census/census2021_ts011_household_deprivation_lsoa21_ew.csv.gz")
    assert hh.loc[hh["area_code"].str.startswith("E"), "total_all_households"].sum() == 23_435_995
    ms = readers.read_ts007_msoa(data_dir / "census/census2021_ts007_age_single_year_msoa21_ew.csv.gz")
    eng = ms[ms["msoa_code"].str.startswith("E")]
    assert eng[[f"age_{a}" for a in range(40, 75)]].to_numpy().sum() == 23_717_355
    mye = readers.read_mye_single_year(data_dir / "population/ons_mye2020_sape23dt2_lsoa11_syoa_persons_ew.csv.gz")
    eng = mye[mye["lsoa_code"].str.startswith("E")]
    assert eng["all_ages"].sum() == 56_550_138


@pytest.mark.slow
def test_nhs_files(data_dir):
    reg = readers.read_gp_registrations(data_dir / "gp/gp_reg_pat_prac_lsoa_all_2022-07.csv.gz")
    assert len(reg) == 865_965 and reg["patients"].sum() == 61_768_942
    assert (reg["lsoa_code"] == "NO2011").sum() == 4_448
    # the patients under the pseudo-code are reported, and are exactly those of its rows
    assert readers.unknown_lsoa_patients(reg) == {"NO2011": 27_415}
    assert not reg.attrs  # attrs would travel into the atlas's Parquet metadata and change its bytes
    pm = readers.read_practice_map(data_dir / "gp/gp-reg-pat-prac-map_2022-07.csv")
    assert len(pm) == 6_845
    pcns, members = readers.read_epcn(data_dir / "gp/ePCN_2023-01.xlsx")
    assert len(pcns) == 1_329 and members["practice_code"].is_unique
    ep = readers.read_epraccur(data_dir / "gp/epraccur_2023-01.csv")
    assert len(ep) == 15_536
    q = readers.read_qof_prevalence(data_dir / "gp/qof/QOF_2020-21_PREVALENCE_2021_v2.csv")
    hyp = q[q["group_code"] == "HYP"]
    assert round(100 * hyp["register"].sum() / hyp["list_size"].sum(), 2) == 13.93
    cp = readers.read_codepoint(data_dir / "postcodes/codepo_gb_2025-04.zip", postcodes=["ts181hu"])
    assert cp.iloc[0][["postcode", "easting", "northing"]].tolist() == ["TS18 1HU", 444136, 518701]


def test_qof_2021_22_diabetes_achievement(data_dir):
    path = data_dir / "gp/qof/qof_2021-22_practice_prevalence_derived.csv"
    dm = readers.read_qof_dm_achievement(path)
    assert len(dm) == 6_470 and dm["practice_code"].is_unique
    raw = pd.read_csv(path).set_index("OrganisationCode")
    a84006 = dm.set_index("practice_code").loc["A84006"]
    assert a84006["dm019"] == raw.loc["A84006", "DM019-BP"] and a84006["dm020"] == raw.loc["A84006", "DM020-HbA1c"]
    for col in ("dm019", "dm020"):
        assert dm[col].dropna().between(0, 1).all() and dm[col].isna().sum() == 4  # 4 practices without a rate
    with pytest.raises(ValidationError, match=r"column 'dm019': achievement must lie in 0..1.*rows 3"):
        readers.read_qof_dm_achievement(_tmp_csv("OrganisationCode,DM019-BP,DM020-HbA1c\nA84006,0.5,0.6\n"
                                                 "A84005,150,0.5\n"))


def _tmp_csv(text: str):
    import tempfile
    from pathlib import Path

    f = Path(tempfile.mkdtemp()) / "dm.csv"
    f.write_text(text, encoding="utf-8")
    return f


# ---------------------------------------------------------------- the malformed corpus

IOD_HEADER = ("LSOA code (2011),LSOA name (2011),Index of Multiple Deprivation (IMD) Score,"
              "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),"
              "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)")
GOOD_IOD = IOD_HEADER + "\nE01000001,City of London 001A,6.2,2,9\nE01000002,City of London 001B,5.1,1,10\n"
REG_HEADER = "PRACTICE_CODE,PRACTICE_NAME,LSOA_CODE,NUMBER_OF_PATIENTS"


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


# (id, reader, kwargs, file name, content, expected substring of the error or None when it must be accepted)
CORPUS = [
    ("iod-utf8-bom", "read_iod", {"edition": 2019}, "f.csv", b"\xef\xbb\xbf" + GOOD_IOD.encode(), None),
    ("iod-cp1252", "read_iod", {"edition": 2019}, "f.csv",
     GOOD_IOD.replace("City of London 001A", "Caf\u00e9 001A").encode("cp1252"), None),
    ("iod-semicolon", "read_iod", {"edition": 2019}, "f.csv", GOOD_IOD.replace(",", ";"), None),
    ("iod-thousands", "read_iod", {"edition": 2019}, "f.csv",
     IOD_HEADER + '\nE01000001,A,6.2,"1,001",9\nE01000002,B,5.1,1,10\n', "ranks must lie in 1..2"),
    # an extract of the national file keeps national ranks: they must lie within England's LSOAs
    ("iod-extract-national-ranks", "read_iod", {"edition": 2019, "national": False}, "f.csv",
     IOD_HEADER + '\nE01000001,A,6.2,"29,199",9\nE01000002,B,5.1,1,10\n', None),
    ("iod-extract-rank-beyond-england", "read_iod", {"edition": 2025, "national": False}, "f.csv",
     IOD_HEADER.replace("(2011)", "(2021)") + "\nE01000001,A,6.2,33756,9\n", "ranks must lie in 1..33755"),
    ("iod-gzip", "read_iod", {"edition": 2019}, "f.csv.gz", gzip.compress(GOOD_IOD.encode()), None),
    ("iod-zip", "read_iod", {"edition": 2019}, "f.zip", _zip({"File_7.csv": GOOD_IOD.encode()}), None),
    ("iod-missing-code", "read_iod", {"edition": 2019}, "f.csv",
     GOOD_IOD.replace("LSOA code (2011)", "Area"), "column 'lsoa_code': required column is missing"),
    ("iod-renamed-code", "read_iod", {"edition": 2019}, "f.csv",
     GOOD_IOD.replace("LSOA code (2011)", "LSOA_CD"), "required column is missing"),
    ("iod-duplicated-column", "read_iod", {"edition": 2019}, "f.csv",
     GOOD_IOD.replace("LSOA name (2011)", "LSOA code (2011)"), "appears more than once"),
    ("iod-duplicate-code", "read_iod", {"edition": 2019}, "f.csv",
     GOOD_IOD.replace("E01000002", "E01000001"), "duplicated English LSOA code"),
    ("iod-blank-code", "read_iod", {"edition": 2019}, "f.csv", GOOD_IOD.replace("E01000002", ""), "blank"),
    ("iod-welsh-code", "read_iod", {"edition": 2019}, "f.csv", GOOD_IOD.replace("E01000002", "W01000002"),
     "not a valid English LSOA code"),
    ("iod-junk-code", "read_iod", {"edition": 2019}, "f.csv", GOOD_IOD.replace("E01000002", "<script>"),
     "not a valid English LSOA code"),
    ("iod-non-numeric", "read_iod", {"edition": 2019}, "f.csv", GOOD_IOD.replace("5.1", "n/a"), "not numbers"),
    ("iod-bad-decile", "read_iod", {"edition": 2019}, "f.csv", GOOD_IOD.replace(",1,10", ",1,11"),
     "deciles must lie in 1..10"),
    ("iod-negative-rank", "read_iod", {"edition": 2019}, "f.csv", GOOD_IOD.replace(",2,9", ",-2,9"), "negative"),
    ("iod-empty", "read_iod", {"edition": 2019}, "f.csv", b"", "empty"),
    ("iod-header-only", "read_iod", {"edition": 2019}, "f.csv", IOD_HEADER + "\n", "no data rows"),
    ("iod-xlsx-as-csv", "read_iod", {"edition": 2019}, "f.csv",
     _zip({"xl/workbook.xml": b"<x/>", "[Content_Types].xml": b"<x/>"}), "Excel workbook"),
    ("iod-fake-zip", "read_iod", {"edition": 2019}, "f.zip", b"this is not a zip", "not a zip"),
    ("iod-corrupt-gzip", "read_iod", {"edition": 2019}, "f.csv.gz", b"\x1f\x8b\x08\x00garbage", "gzip"),
    ("iod-no-imd-columns", "read_iod", {"edition": 2019}, "f.csv", "LSOA code (2011),x\nE01000001,1\n",
     "no IMD score"),
    ("reg-negative", "read_gp_registrations", {}, "r.csv", REG_HEADER + "\nA81001,X,E01011959,-7\n", "negative"),
    ("reg-non-numeric", "read_gp_registrations", {}, "r.csv", REG_HEADER + "\nA81001,X,E01011959,seven\n",
     "not numbers"),
    ("reg-fraction", "read_gp_registrations", {}, "r.csv", REG_HEADER + "\nA81001,X,E01011959,7.5\n",
     "whole numbers"),
    ("reg-bad-lsoa", "read_gp_registrations", {}, "r.csv", REG_HEADER + "\nA81001,X,E0101195,7\n",
     "neither an LSOA code"),
    ("reg-duplicate-pair", "read_gp_registrations", {}, "r.csv",
     REG_HEADER + "\nA81001,X,E01011959,7\nA81001,X,E01011959,8\n", "more than once"),
    ("reg-bad-practice", "read_gp_registrations", {}, "r.csv", REG_HEADER + "\n<b>,X,E01011959,7\n",
     "not a valid practice code"),
    ("reg-missing-patients", "read_gp_registrations", {}, "r.csv", "PRACTICE_CODE,LSOA_CODE\nA81001,E01011959\n",
     "'patients': required column is missing"),
    ("reg-sex-rows-kept-all", "read_gp_registrations", {}, "r.csv",
     REG_HEADER + ",SEX\nA81001,X,E01011959,7,ALL\nA81001,X,E01011959,3,MALE\n", None),
    ("reg-unknown-lsoa-kept", "read_gp_registrations", {}, "r.csv", REG_HEADER + "\nA81001,X,NO2011,7\n", None),
    ("ts021-broad-not-summing", "read_ts021", {}, "t.csv",
     'geography code,Ethnic group: Total: All usual residents,"Ethnic group: Asian, Asian British or Asian Welsh",'
     '"Ethnic group: Black, Black British, Black Welsh, Caribbean or African",'
     "Ethnic group: Mixed or Multiple ethnic groups,Ethnic group: White,Ethnic group: Other ethnic group\n"
     "E01000001,100,1,2,3,4,5\n", "do not add up"),
    ("census-missing-code", "read_census_table", {}, "t.csv", "area,total\nx,1\n", "geography code"),
    ("census-negative", "read_census_table", {}, "t.csv",
     "geography code,Household deprivation: Total: All households\nE01000001,-3\n", "negative"),
    ("qof-missing-register", "read_qof_prevalence", {}, "q.csv", "PRACTICE_CODE,GROUP_CODE\nA81001,HYP\n",
     "required column is missing"),
    ("lookup-bad-change-code", "read_lsoa11_lsoa21", {}, "l.csv",
     "lsoa11_code,lsoa21_code,change_code\nE01000001,E01000001,Q\n", "change codes must be U, S, M or X"),
    ("epraccur-too-few-columns", "read_epraccur", {}, "e.csv", '"A81001","X"\n', "at least 26 columns"),
    ("epraccur-unknown-status", "read_epraccur", {}, "e.csv",
     ",".join(['"A81001"', '"X"'] + ['""'] * 10 + ['"OPEN"'] + ['""'] * 12 + ['"RO76"', '""']) + "\n",
     "column 'status': 1 value(s) in column 13 are not an ODS status"),
    ("reg-new-header-closed-empty", "read_gp_registrations", {}, "r.csv",
     "PRACTICE_CODE,LSOA21CD,Number of Patients\nA81001,E01035000,7\nA81001,CLOSED,3\nA81001,EMPTY,1\n", None),
    ("reg-unknown-pseudo-code", "read_gp_registrations", {}, "r.csv", REG_HEADER + "\nA81001,X,NOWHERE,7\n",
     "neither an LSOA code nor an unknown marker"),
    ("epcn-zip-without-partners", "read_epcn", {}, "e.zip", _zip({"epcn.csv": b'"U00070","WEST MERTON PCN"\n'}),
     "must hold epcn.csv and epcncorepartnerdetails.csv"),
    ("epcn-not-a-workbook", "read_epcn", {}, "e.xlsx", b"not a workbook at all", "cannot be read as the ePCN"),
    ("mye-not-summing", "read_mye_single_year", {}, "m.csv",
     "LSOA Code,All Ages," + ",".join(map(str, range(90))) + ",90+\nE01000001,999," + ",".join(["1"] * 91) + "\n",
     "do not add up"),
]


@pytest.mark.parametrize("case", CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_corpus(tmp_path, case):
    _, reader, kwargs, name, content, expected = case
    path = _write(tmp_path, name, content)
    fn = getattr(readers, reader)
    if expected is None:
        df = fn(path, **kwargs)
        assert len(df) >= 1
        return
    with pytest.raises(ValidationError) as err:
        fn(path, **kwargs)
    msg = str(err.value)
    assert expected in msg
    assert name in msg  # the message names the file


def test_error_lists_every_problem_with_rows(tmp_path):
    text = GOOD_IOD + "E01000002,dup,1,3,1\n,blank,1,4,1\nE0100000X,bad,x,5,1\n"
    path = _write(tmp_path, "many.csv", text)
    with pytest.raises(ValidationError) as err:
        readers.read_iod(path, edition=2019)
    msg = str(err.value)
    assert "duplicated" in msg and "blank" in msg and "not a valid" in msg and "not numbers" in msg
    assert "rows 4" in msg  # the duplicate is data row 3 → spreadsheet row 4


def test_sex_split_keeps_only_all_rows(tmp_path):
    path = _write(tmp_path, "r.csv", REG_HEADER + ",SEX\nA81001,X,E01011959,7,ALL\nA81001,X,E01011959,3,MALE\n")
    df = readers.read_gp_registrations(path)
    assert df["patients"].tolist() == [7]


def _gdf_file(tmp_path, name, gdf, driver="GPKG"):
    path = tmp_path / name
    gdf.to_file(path, driver=driver)
    return path


def test_boundaries_missing_crs_in_bng_are_reprojected(tmp_path):
    sq = Polygon([(530000, 180000), (530500, 180000), (530500, 180500), (530000, 180500)])
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"LSOA21CD": "E01000001", "LSOA21NM": "A"},
         "geometry": json.loads(gpd.GeoSeries([sq]).to_json())["features"][0]["geometry"]}]}
    path = _write(tmp_path, "b.geojson", json.dumps(gj))
    out = readers.read_boundaries(path, vintage=2021)
    assert out.crs.to_epsg() == 4326
    assert -0.2 < out.geometry.iloc[0].centroid.x < -0.05  # central London


def test_boundaries_empty_geometry_is_an_error(tmp_path):
    gdf = gpd.GeoDataFrame({"lsoa21_code": ["E01000001", "E01000002"], "lsoa21_name": ["a", "b"]},
                           geometry=[Polygon([(0, 51), (0.01, 51), (0.01, 51.01)]), Polygon()], crs=4326)
    path = _gdf_file(tmp_path, "b.gpkg", gdf)
    with pytest.raises(ValidationError, match="missing or empty geometries"):
        readers.read_boundaries(path, vintage=2021)


def test_boundaries_invalid_polygon_is_repaired(tmp_path):
    bowtie = Polygon([(0, 51), (0.01, 51.01), (0.01, 51), (0, 51.01)])
    gdf = gpd.GeoDataFrame({"lsoa21_code": ["E01000001"], "lsoa21_name": ["a"]}, geometry=[bowtie], crs=4326)
    out = readers.read_boundaries(_gdf_file(tmp_path, "b.gpkg", gdf), vintage=2021)
    assert out.is_valid.all() and out.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_boundaries_not_a_geofile(tmp_path):
    path = _write(tmp_path, "b.gpkg", "not a geopackage")
    with pytest.raises(ValidationError, match="cannot be read as a boundary file"):
        readers.read_boundaries(path, vintage=2021)


def test_paged_arcgis_geojson_pages(tmp_path, data_dir):
    lsoas = gpd.read_file(data_dir / "boundaries/lsoa11_bgc_by_lad/E07000076.geojson")
    pages = [json.loads(lsoas.iloc[i:i + 10].to_json()) for i in range(0, len(lsoas), 10)]
    path = _write(tmp_path, "pages.geojson", json.dumps(pages))
    out = readers.read_boundaries(path, vintage=2011)
    assert len(out) == 89 and out.crs.to_epsg() == 4326


def test_missing_file_message_names_how_to_get_it(monkeypatch, tmp_path):
    from geo.paths import MissingDataError, find

    monkeypatch.setenv("CORE20_DATA", str(tmp_path))
    monkeypatch.setenv("CORE20_RAW", str(tmp_path / "raw"))
    monkeypatch.setattr("geo.paths.PROJECT_ROOT", tmp_path / "nowhere" / "project")
    with pytest.raises(MissingDataError) as err:
        find("imd2025")
    msg = str(err.value)
    assert "imd2025_lsoa21_ranks_scores_deciles.csv.gz" in msg and "python -m targeting fetch" in msg
    assert "gov.uk" in msg


def test_data_discovery_order(monkeypatch, tmp_path, data_dir):
    from geo.paths import find

    assert find("imd2025").is_relative_to(data_dir) or "raw" in str(find("imd2025"))
    own = tmp_path / "imd"
    own.mkdir()
    (own / "imd2025_lsoa21_ranks_scores_deciles.csv.gz").write_bytes(b"x")
    monkeypatch.setenv("CORE20_DATA", str(tmp_path))
    assert find("imd2025") == own / "imd2025_lsoa21_ranks_scores_deciles.csv.gz"


def test_frame_round_trip_is_text_safe(tmp_path):
    # names with HTML survive reading unchanged (escaping happens where they are rendered)
    path = _write(tmp_path, "r.csv", REG_HEADER + '\nA81001,"<img src=x onerror=alert(1)>",E01011959,7\n')
    df = readers.read_gp_registrations(path)
    assert df["practice_name"].iloc[0] == "<img src=x onerror=alert(1)>"
    assert isinstance(df, pd.DataFrame)


def test_file_override_for_a_newer_month(monkeypatch, tmp_path):
    from geo.paths import MissingDataError, find

    newer = tmp_path / "gp-reg-pat-prac-lsoa-all-2024-01.csv"
    newer.write_text(REG_HEADER + "\nA81001,X,E01011959,7\n")
    monkeypatch.setenv("CORE20_FILE_GP_REG_LSOA", str(newer))
    assert find("gp_reg_lsoa") == newer
    monkeypatch.setenv("CORE20_FILE_GP_REG_LSOA", str(tmp_path / "missing.csv"))
    with pytest.raises(MissingDataError, match="CORE20_FILE_GP_REG_LSOA"):
        find("gp_reg_lsoa")


@pytest.mark.slow
def test_icb_boundaries_and_oa_lookup(data_dir):
    icb = readers.read_icb_boundaries(data_dir / "boundaries/icb22_simplified_en_wgs84.gpkg")
    assert len(icb) == 42 and icb["icb_code"].is_unique and icb.crs.to_epsg() == 4326
    assert "NHS Birmingham and Solihull" in icb.set_index("icb_code").loc["E54000055", "icb_name"]
    oa = readers.read_oa11_lookup(data_dir / "lookups/oa11_oac11_lsoa11_msoa11_lad17_rgn11_ew.csv.gz")
    ew = oa[~oa["lsoa_code"].str.startswith("S")]
    assert len(oa) == 227_759 and ew["lsoa_code"].nunique() == 34_753
    ruc = readers.read_ruc(data_dir / "lookups/ruc11_lsoa11_ew.csv.gz", vintage=2011)
    assert ruc.set_index("lsoa_code").loc["E01000001", "ruc_code"] == "A1"


def test_data_catalogue_readme_is_current():
    from geo.paths import PROJECT_ROOT
    from geo.sources import catalogue_markdown

    committed = (PROJECT_ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert committed == catalogue_markdown(), "run: python -m targeting sources --markdown > data/README.md"


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]"])
@pytest.mark.parametrize("values", [["1.5", "2"], ["12", "3"], ["1", "x"], ["1", "2", None], ["1.5", None]])
def test_fast_number_cast_gives_what_to_numeric_gives(dtype, values):
    from geo.readers._common import _clean_numbers

    raw = pd.Series(values, dtype=dtype)
    pd.testing.assert_series_equal(_clean_numbers(raw), pd.to_numeric(raw, errors="coerce"))


# ---------------------------------------------------------------- newer NHS formats (issue 19)


def test_registrations_lsoa2021_pseudo_codes_are_rows_and_reported(tmp_path):
    # the layout of the PDS-era files: LSOA 2021 codes, a SEX split, CLOSED (invalid postcode) and EMPTY rows
    text = ("PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,LSOA_2021_CODE,SEX,NUMBER_OF_PATIENTS\n"
            "GP_LSOA,01JUL2026,A81001,THE DENSHAM SURGERY,E01033465,ALL,120\n"
            "GP_LSOA,01JUL2026,A81001,THE DENSHAM SURGERY,E01033465,MALE,60\n"
            "GP_LSOA,01JUL2026,A81001,THE DENSHAM SURGERY,CLOSED,ALL,9\n"
            "GP_LSOA,01JUL2026,A81002,QUEENS PARK MEDICAL CENTRE,closed,ALL,4\n"
            "GP_LSOA,01JUL2026,A81002,QUEENS PARK MEDICAL CENTRE,EMPTY,ALL,2\n"
            "GP_LSOA,01JUL2026,A81002,QUEENS PARK MEDICAL CENTRE,NO2021,ALL,1\n"
            "GP_LSOA,01JUL2026,A81002,QUEENS PARK MEDICAL CENTRE,S01006506,ALL,3\n")
    reg = readers.read_gp_registrations(_write(tmp_path, "gp-reg-pat-prac-lsoa-all.csv", text))
    assert reg["lsoa_code"].tolist() == ["E01033465", "CLOSED", "CLOSED", "EMPTY", "NO2021", "S01006506"]
    assert reg["patients"].sum() == 139  # the MALE row is dropped, every unknown-LSOA row kept, and Scotland's
    assert readers.unknown_lsoa_patients(reg) == {"CLOSED": 13, "EMPTY": 2, "NO2021": 1}
    assert readers.unknown_lsoa_patients(reg[reg["practice_code"] == "A81001"]) == {"CLOSED": 9}
    from geo.readers.nhs import UNKNOWN_LSOA

    assert {"CLOSED", "EMPTY", "NO2011", "NO2021"} <= set(UNKNOWN_LSOA)


def test_registrations_number_of_patients_header_in_a_zip(tmp_path):
    csv = "PRACTICE_CODE,PRACTICE_NAME,LSOA_CODE,Number of Patients\nA81001,X,E01011959,7\nA81001,X,E01012012,2\n"
    path = _write(tmp_path, "gp-reg-pat-prac-lsoa-male-female-July-2026.zip",
                  _zip({"gp-reg-pat-prac-lsoa-male.csv": csv.replace(",7", ",3").encode(),
                        "gp-reg-pat-prac-lsoa-all.csv": csv.encode()}))
    reg = readers.read_gp_registrations(path)
    assert reg["patients"].tolist() == [7, 2] and readers.unknown_lsoa_patients(reg) == {}


def test_epraccur_old_and_new_layouts_give_the_same_columns(data_dir):
    old = readers.read_epraccur(data_dir / "gp/epraccur_2023-01.csv")
    new = readers.read_epraccur(data_dir / "gp/epraccur_2026-02.csv.gz")
    assert list(old.columns) == list(new.columns) == [
        "practice_code", "practice_name", "postcode", "open_date", "close_date", "status", "sub_code",
        "prescribing_setting", "is_gp_practice"]
    # old layout: values as published (status letters, prescribing setting 4 = GP practice)
    assert old["status"].value_counts().to_dict() == {"A": 11_894, "C": 3_359, "D": 281, "P": 2}
    assert old["is_gp_practice"].sum() == (old["prescribing_setting"] == "4").sum() == 8_640
    # new layout (ODS Data Search and Export): ACTIVE/INACTIVE/DORMANT become A/C/D; RO76 is a GP practice
    assert len(new) == 15_389
    assert new["status"].value_counts().to_dict() == {"A": 12_515, "C": 2_680, "D": 194}
    assert (new["prescribing_setting"] == "RO76").sum() == 8_183
    assert new["is_gp_practice"].sum() == 8_189  # and 6 more whose roles are 'RO76|RO268'
    a81003 = new.set_index("practice_code").loc["A81003"]  # Victoria Medical Practice, Hartlepool: closed 2017
    assert (a81003["status"], a81003["close_date"], bool(a81003["is_gp_practice"])) == ("C", "20171031", True)
    both = old.merge(new, on="practice_code", suffixes=("_old", "_new"))
    # the same vocabulary: most practices keep their status over three years, and none is left unmapped
    assert 0.9 < (both["status_old"] == both["status_new"]).mean() < 1


def test_epcn_2023_and_2024_workbooks_read_alike(data_dir):
    p23, m23 = readers.read_epcn(data_dir / "gp/ePCN_2023-01.xlsx")
    p24, m24 = readers.read_epcn(data_dir / "gp/ePCN_2024-10.xlsx")
    assert list(p23.columns) == list(p24.columns) and list(m23.columns) == list(m24.columns) == [
        "practice_code", "sub_code", "pcn_code", "pcn_name"]
    assert (len(p23), len(m23), len(p24), len(m24)) == (1_329, 6_391, 1_366, 6_224)
    assert m24["practice_code"].is_unique
    # The Manor House Surgery left Eston PCN in June 2024: a member in 2023, not a current one in 2024
    assert "A81043" in set(m23["practice_code"]) and "A81043" not in set(m24["practice_code"])


def _epcn_reports(workbook, *, header: bool) -> bytes:
    """The two sheets of a real workbook as the ODS reports serve them (headerless CSVs), zipped."""
    sheets = pd.read_excel(workbook, sheet_name=None, dtype=str)
    out = {}
    for sheet, name in (("PCNDetails", "epcn.csv"), ("PCN Core Partner Details", "epcncorepartnerdetails.csv")):
        out[name] = sheets[sheet].to_csv(index=False, header=header, quoting=1).encode()
    return _zip(out)


@pytest.mark.parametrize("header", [False, True], ids=["headerless", "with-header"])
def test_epcn_zip_of_ods_reports_reads_as_the_workbook(data_dir, tmp_path, header):
    workbook = data_dir / "gp/ePCN_2024-10.xlsx"
    path = _write(tmp_path, "ePCN_2024-10.zip", _epcn_reports(workbook, header=header))
    for got, want in zip(readers.read_epcn(path), readers.read_epcn(workbook), strict=True):
        pd.testing.assert_frame_equal(got, want)
    for got, want in zip(readers.read_epcn_history(path), readers.read_epcn_history(workbook), strict=True):
        pd.testing.assert_frame_equal(got, want)


def test_epcn_history_answers_a_closed_pcn(data_dir):
    pcns, mem = readers.read_epcn_history(data_dir / "gp/ePCN_2024-10.xlsx")
    assert (len(pcns), int(pcns["closed"].sum()), len(mem), int((~mem["current"]).sum())) == (1_366, 81, 7_705, 1_481)
    assert mem["current"].sum() == len(readers.read_epcn(data_dir / "gp/ePCN_2024-10.xlsx")[1])
    u00567 = pcns.set_index("pcn_code").loc["U00567"]  # Phoenix @ Panacea NEL PCN, North East Lincolnshire
    assert u00567["closed"] and u00567["close_date"] == pd.Timestamp("2020-03-31")
    gone = mem[(mem["pcn_code"] == "U00567") & mem["end_date"].notna()]
    assert sorted(gone["practice_code"]) == ["B81023", "B81030", "B81087", "B81697"]
    now = mem[mem["practice_code"].isin(gone["practice_code"]) & mem["current"]].set_index("practice_code")
    assert now["pcn_code"].to_dict() == {"B81030": "U95892", "B81087": "U93843", "B81697": "U93843"}
    assert now.loc["B81030", "start_date"] == pd.Timestamp("2023-04-01")


def test_epcn_history_names_a_bad_date(data_dir, tmp_path):
    zipped = _epcn_reports(data_dir / "gp/ePCN_2024-10.xlsx", header=False)
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    partners = members["epcncorepartnerdetails.csv"]
    members["epcncorepartnerdetails.csv"] = partners.replace(b'"20240630"', b'"30/06/24"', 1)
    path = _write(tmp_path, "ePCN_bad.zip", _zip(members))
    with pytest.raises(ValidationError, match=r"ePCN_bad.zip.*\n.*practice to pcn relationship end date.*not dates"):
        readers.read_epcn_history(path)
