"""`python -m targeting lsoas` lists exactly an ICB's LSOAs, checked against the ONS lookups read independently."""

import io
import json

import pandas as pd
import pytest

from targeting.cli import main
from targeting.lsoas import LSOA_COLUMNS


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
@pytest.mark.parametrize("icb", ["E54000055", "QHL", "Birmingham and Solihull"])
def test_lists_exactly_the_lsoas_of_birmingham_and_solihull(capsys, data_dir, icb):
    code, out, _ = _run(capsys, ["lsoas", "--icb", icb])
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == LSOA_COLUMNS
    lk = pd.read_csv(data_dir / "lookups/lsoa21_sicbl24_icb24_en.csv.gz")
    expected = set(lk.loc[lk["icb24_code"] == "E54000055", "lsoa21_code"])
    assert len(expected) == 793
    assert set(df["lsoa_code"]) == expected and df["lsoa_code"].is_unique
    assert set(df["core20"].astype(str)) <= {"True", "False", "true", "false"}
    assert set(df["lad_name"]) == {"Birmingham", "Solihull"}


@pytest.mark.slow
def test_imd2019_lists_lsoa_2011(capsys, data_dir):
    code, out, _ = _run(capsys, ["lsoas", "--icb", "QHL", "--imd", "2019"])
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    lk = pd.read_csv(data_dir / "lookups/lsoa11_sicbl22_icb22_lad22_en.csv.gz")
    expected = set(lk.loc[lk["icb22_code"] == "E54000055", "lsoa11_code"])
    assert len(expected) == 773 and set(df["lsoa_code"]) == expected
    imd = pd.read_csv(data_dir / "imd/imd2019_lsoa11_file7_assembled.csv.gz").set_index("LSOA code (2011)")
    row = df.set_index("lsoa_code").loc["E01009318"]
    rank = "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"
    assert row["imd_rank"] == imd.loc["E01009318", rank]


@pytest.mark.slow
def test_figures_for_a_known_lsoa(capsys, data_dir):
    code, out, _ = _run(capsys, ["lsoas", "--icb", "E54000023"])  # Suffolk and North East Essex: Jaywick
    assert code == 0
    df = pd.read_csv(io.StringIO(out)).set_index("lsoa_code")
    jay = df.loc["E01021988"]
    assert (jay["imd_rank"], jay["imd_decile"], str(jay["core20"]).lower()) == (1, 1, "true")
    eth = pd.read_csv(data_dir / "census/census2021_ts021_ethnic_group_detailed_lsoa21_ew.csv.gz").set_index(
        "geography code").loc["E01021988"]
    total = eth["Ethnic group: Total: All usual residents"]
    assert jay["population"] == total
    assert jay["ethnic_minority_pct"] == round(100 * (total - eth["Ethnic group: White"]) / total, 1)


@pytest.mark.slow
def test_geojson_output(capsys):
    code, out, _ = _run(capsys, ["lsoas", "--icb", "QHL", "--format", "geojson"])
    assert code == 0
    fc = json.loads(out)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 793
    assert set(LSOA_COLUMNS) <= set(fc["features"][0]["properties"])


def test_unknown_icb_is_one_clear_line(capsys, small_cli):
    code, out, err = _run(capsys, ["lsoas", "--icb", "Atlantis"])
    assert code == 2 and out == ""
    assert err.startswith("error: No ICB matches 'Atlantis'") and "Traceback" not in err


def test_lists_the_lsoas_of_the_small_atlas(capsys, small_cli, small_data):
    # Solihull is the part of Birmingham and Solihull ICB in the small atlas: checked against its lookup extract
    code, out, _ = _run(capsys, ["lsoas", "--icb", "QHL"])
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == LSOA_COLUMNS
    lk = pd.read_csv(small_data / "lookups/lsoa21_sicbl24_icb24_en.csv.gz")
    assert set(df["lsoa_code"]) == set(lk.loc[lk["icb24_code"] == "E54000055", "lsoa21_code"])
    assert set(df["lad_name"]) == {"Solihull"} and df["lsoa_code"].is_unique
    code, out, _ = _run(capsys, ["lsoas", "--icb", "QHL", "--format", "geojson"])
    assert code == 0 and len(json.loads(out)["features"]) == len(df)


def _straddling_merges(data_dir) -> set[str]:
    """Merged LSOA 2021s (ONS change code M) with LSOA 2011 parents in IMD 2019 deciles 1–2 and 3–10, read from the
    IoD 2019 file and the ONS LSOA 2011 → 2021 lookup independently of the atlas."""
    lk = pd.read_csv(data_dir / "lookups/lsoa11_lsoa21_lad22_ew.csv.gz", dtype=str,
                     usecols=["lsoa11_code", "lsoa21_code", "change_code"])
    iod = pd.read_csv(data_dir / "imd/imd2019_lsoa11_file7_assembled.csv.gz", usecols=[0, 6])
    iod.columns = ["lsoa11_code", "decile"]
    m = lk[lk["change_code"].eq("M") & lk["lsoa21_code"].str.startswith("E")].merge(iod, on="lsoa11_code")
    sides = (m["decile"] <= 2).groupby(m["lsoa21_code"]).nunique()
    return set(sides.index[sides == 2])


@pytest.mark.slow
def test_ambiguous_merges_are_the_merged_lsoas_whose_parents_straddle_core20_2019(atlas, data_dir):
    expected = _straddling_merges(data_dir)
    assert len(expected) == 14 and {"E01034128", "E01034119"} <= expected  # two in Manchester
    l21 = atlas.lsoa21
    assert l21["core20_2019_ambiguous_merge"].dtype == bool
    assert set(l21.loc[l21["core20_2019_ambiguous_merge"], "lsoa_code"]) == expected


@pytest.mark.slow
def test_lsoas_flags_the_ambiguous_merges_of_greater_manchester(capsys, data_dir):
    code, out, _ = _run(capsys, ["lsoas", "--icb", "E54000057"])
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    flagged = set(df.loc[df["core20_2019_ambiguous_merge"].astype(str).str.lower() == "true", "lsoa_code"])
    assert flagged == {"E01034128", "E01034119"} == _straddling_merges(data_dir) & set(df["lsoa_code"])
    code, out, _ = _run(capsys, ["lsoas", "--icb", "E54000057", "--imd", "2019"])  # LSOA 2011 rows: never merged
    df = pd.read_csv(io.StringIO(out))
    assert not df["core20_2019_ambiguous_merge"].astype(str).str.lower().eq("true").any()
