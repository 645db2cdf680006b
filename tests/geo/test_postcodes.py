"""Postcodes in the atlas: OS Code-Point Open placed in LSOA 2021, households shared, ONSPD when present."""

import io
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo._errors import ValidationError
from geo.postcodes import place_postcodes, share_households
from geo.readers import read_onspd

# The published ONSPD CSV header (user guide field names), in the file's order; only some columns are filled here.
ONSPD_HEADER = ("pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,osgrdind,"
                "oshlthau,nhser,ctry,rgn,streg,pcon,eer,teclec,ttwa,pct,itl,statsward,oa01,casward,npark,lsoa01,"
                "msoa01,ur01ind,oac01,oa11,lsoa11,msoa11,wz11,sicbl,bua24,ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,"
                "calncv,icb,oa21,lsoa21,msoa21,ruc21,globalid")


def _codepoint_england(data_dir) -> pd.DataFrame:
    """Every English row of the bundled Code-Point Open zip, read here independently of geo.readers."""
    frames = []
    with zipfile.ZipFile(data_dir / "postcodes" / "codepo_gb_2025-04.zip") as zf:
        for name in zf.namelist():
            if name.lower().startswith("data/csv/") and name.lower().endswith(".csv"):
                df = pd.read_csv(io.BytesIO(zf.read(name)), header=None, usecols=[0, 1, 4, 8], dtype=str,
                                 names=["pc", "q", "c1", "c2", "country", "r", "h", "county", "district", "w"])
                frames.append(df[df["country"].str.startswith("E")])
    out = pd.concat(frames, ignore_index=True)
    out["postcode"] = out["pc"].str.replace(" ", "").str[:-3] + " " + out["pc"].str.replace(" ", "").str[-3:]
    return out


@pytest.fixture(scope="module")
def england(data_dir):  # the whole national Code-Point Open file
    return _codepoint_england(data_dir)


@pytest.mark.slow
def test_at_least_99_5_percent_of_englands_postcodes_are_placed(atlas, england):
    pc = atlas.postcodes
    assert len(england) == 1_489_907  # MANIFEST.md: England 1,489,907 of 1,743,449
    assert pc["postcode"].is_unique and set(pc["postcode"]) <= set(england["postcode"])
    assert len(pc) / len(england) >= 0.995
    st = atlas.meta["postcodes"]
    assert st["english"] == len(england) and st["placed"] == len(pc) and st["placed_pct"] >= 99.5
    # Without ONSPD every postcode is placed by its grid reference; the 786 with none (quality 90) cannot be.
    assert set(pc["method"]) <= {"point in polygon", "nearest LSOA"}
    assert st["no_coordinates"] == int((england["q"] == "90").sum()) == 786
    assert st["near_boundary"] == int(pc["near_boundary"].sum()) > 0
    assert (pc.loc[pc["near_boundary"], "boundary_m"] < 25).all()
    assert "large users" in st["limits"]  # what Code-Point Open cannot show is said


@pytest.mark.slow
def test_placed_postcodes_agree_with_the_local_authority_code_point_gives(atlas, england):
    # Independent check: Code-Point Open names each postcode's local authority (April 2025); the LSOA it is placed
    # in belongs to a local authority (ONS LSOA 2021 → LAD 2024). Boundaries moved little between those dates.
    pc = atlas.postcodes.merge(england[["postcode", "district"]], on="postcode")
    lad = atlas.lsoa21.set_index("lsoa_code")["lad_code"]
    same = pc["lsoa_code"].map(lad) == pc["district"]
    assert same.mean() > 0.98
    # Postcodes close to an LSOA boundary are where generalised boundaries misplace them most often.
    assert same[~pc["near_boundary"]].mean() > same[pc["near_boundary"]].mean()


@pytest.mark.slow
def test_households_are_shared_among_an_lsoas_postcodes_and_add_up(atlas):
    pc = atlas.postcodes
    hh = atlas.lsoa21.set_index("lsoa_code")["households"]
    per = pc.groupby("lsoa_code")["households_est"].agg(["sum", "min", "max", "size"])
    assert (per["sum"] == hh.loc[per.index]).all()  # Census 2021 TS011 households, conserved exactly
    assert ((per["max"] - per["min"]) <= 1).all()  # equal shares, whole numbers
    # Birmingham 063E (E01009343): 493 households (TS011) among its 14 postcodes: about 35 each.
    b = pc[pc["lsoa_code"] == "E01009343"]
    assert hh["E01009343"] == 493 and len(b) == 14 and set(b["households_est"]) == {35, 36}
    assert per.index.nunique() >= len(hh) - atlas.meta["postcodes"]["lsoas_without_postcode"]


@pytest.mark.slow
def test_centroids_come_from_the_same_placed_postcodes(atlas):
    pc = atlas.postcodes.dropna(subset=["easting"])
    mean = pc.groupby("lsoa_code")[["easting", "northing"]].mean()
    t = atlas.lsoa21.set_index("lsoa_code").loc[mean.index]
    assert np.allclose(t["pw_e"], mean["easting"]) and np.allclose(t["pw_n"], mean["northing"])


def test_share_households_uses_the_largest_remainder():
    codes = pd.Series(["A", "A", "A", "B", "B", "C"])
    got = share_households(codes, pd.Series({"A": 10, "B": 0, "C": 7}))
    assert got.tolist() == [4, 3, 3, 0, 0, 7]


def _onspd_file(tmp_path, rows: list[dict], *, zipped: bool = True):
    cols = ONSPD_HEADER.split(",")
    body = "\n".join(",".join(f'"{r.get(c, "")}"' for c in cols) for r in rows)
    text = ONSPD_HEADER + "\n" + body + "\n"
    if not zipped:
        path = tmp_path / "ONSPD_MAY_2025_UK.csv"
        path.write_text(text)
        return path
    path = tmp_path / "ONSPD_MAY_2025.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Data/ONSPD_MAY_2025_UK.csv", text)
        zf.writestr("Data/multi_csv/ONSPD_MAY_2025_UK_B.csv", ONSPD_HEADER + "\n")
        zf.writestr("User Guide/readme.txt", "synthetic")
    return path


def test_onspd_places_postcodes_by_its_lsoa_and_leaves_out_non_residential(tmp_path):
    # Synthetic: ONSPD is not bundled (MANIFEST.md), so its official format is exercised on a small made-up file.
    rows = [
        {"pcds": "ZZ1 1AA", "usertype": "0", "oseast1m": "1000", "osnrth1m": "1000", "ctry": "E92000001",
         "lsoa21": "E01000002"},  # inside A by position, but ONSPD says B: ONSPD wins
        {"pcds": "ZZ1 1AB", "usertype": "1", "oseast1m": "1500", "osnrth1m": "1000", "ctry": "E92000001",
         "lsoa21": "E01000001"},  # large user
        {"pcds": "ZZ1 1AD", "doterm": "202301", "usertype": "0", "oseast1m": "1200", "osnrth1m": "1000",
         "ctry": "E92000001", "lsoa21": "E01000001"},  # terminated
        {"pcds": "ZZ1 1AE", "usertype": "0", "oseast1m": "3000", "osnrth1m": "1000", "ctry": "E92000001",
         "lsoa21": "E01000002"},
        {"pcds": "ZZ1 1AF", "usertype": "0", "oseast1m": "", "osnrth1m": "", "ctry": "E92000001",
         "lsoa21": "E01000001"},  # no grid reference, but ONSPD knows its LSOA
    ]
    onspd = read_onspd(_onspd_file(tmp_path, rows))
    assert onspd["postcode"].tolist() == ["ZZ1 1AA", "ZZ1 1AB", "ZZ1 1AD", "ZZ1 1AE", "ZZ1 1AF"]
    assert onspd["large_user"].tolist() == [False, True, False, False, False]
    assert onspd["terminated"].tolist() == [False, False, True, False, False]
    assert read_onspd(_onspd_file(tmp_path, rows, zipped=False)).equals(onspd)
    codepoint = pd.DataFrame({"postcode": ["ZZ1 1AA", "ZZ1 1AB", "ZZ1 1AD", "ZZ1 1AE", "ZZ1 1AF", "ZZ1 1AG"],
                              "quality": [10, 10, 10, 10, 90, 10], "easting": [1000, 1500, 1200, 3000, 0, 1900],
                              "northing": [1000] * 6, "country_code": ["E92000001"] * 6})
    lsoas = gpd.GeoDataFrame({"lsoa_code": ["E01000001", "E01000002"]},
                             geometry=[shapely.box(0, 0, 2000, 2000), shapely.box(2000, 0, 4000, 2000)], crs=27700)
    placed = place_postcodes(codepoint, lsoas, households=pd.Series({"E01000001": 9, "E01000002": 10}), onspd=onspd)
    t = placed.table.set_index("postcode")
    assert set(t.index) == {"ZZ1 1AA", "ZZ1 1AE", "ZZ1 1AF", "ZZ1 1AG"}
    assert t.loc["ZZ1 1AA", "lsoa_code"] == "E01000002" and t.loc["ZZ1 1AA", "method"] == "ONSPD"
    assert t.loc["ZZ1 1AF", "lsoa_code"] == "E01000001" and np.isnan(t.loc["ZZ1 1AF", "easting"])
    assert t.loc["ZZ1 1AG", "method"] == "point in polygon"  # not in ONSPD: placed by position
    assert t.groupby("lsoa_code")["households_est"].sum().to_dict() == {"E01000001": 9, "E01000002": 10}
    assert placed.stats["left_out"] == {"terminated (ONSPD)": 1, "large-user postcode (ONSPD user type 1)": 1}
    assert "ONS Postcode Directory" in placed.stats["limits"]


def test_point_in_polygon_counts_postcodes_near_a_boundary_and_outside_every_lsoa():
    codepoint = pd.DataFrame({"postcode": ["ZZ1 1AA", "ZZ1 1AB", "ZZ1 1AD", "ZZ1 1AE"], "quality": [10, 10, 10, 10],
                              "easting": [1000, 1990, 4300, 9000], "northing": [1000] * 4,
                              "country_code": ["E92000001"] * 4})
    lsoas = gpd.GeoDataFrame({"lsoa_code": ["E01000001", "E01000002"]},
                             geometry=[shapely.box(0, 0, 2000, 2000), shapely.box(2000, 0, 4000, 2000)], crs=27700)
    placed = place_postcodes(codepoint, lsoas, households=pd.Series({"E01000001": 4, "E01000002": 3}))
    t = placed.table.set_index("postcode")
    assert t.loc["ZZ1 1AB", "near_boundary"] and not t.loc["ZZ1 1AA", "near_boundary"]
    assert t.loc["ZZ1 1AD", "method"] == "nearest LSOA" and t.loc["ZZ1 1AD", "lsoa_code"] == "E01000002"
    assert "ZZ1 1AE" not in t.index  # 5 km out at sea: placed nowhere
    assert placed.stats["outside_every_lsoa"] == 1 and placed.stats["placed"] == 3


@pytest.mark.parametrize("change,column", [
    (lambda r: r.update(usertype="7"), "usertype"),
    (lambda r: r.update(lsoa21="E1234"), "lsoa21"),
    (lambda r: r.update(pcds=""), "pcds"),
])
def test_a_bad_onspd_row_is_named(tmp_path, change, column):
    row = {"pcds": "ZZ1 1AA", "usertype": "0", "oseast1m": "1", "osnrth1m": "1", "ctry": "E92000001",
           "lsoa21": "E01000001"}
    change(row)
    with pytest.raises(ValidationError) as exc:
        read_onspd(_onspd_file(tmp_path, [row]))
    assert column in str(exc.value) and "ONSPD_MAY_2025" in str(exc.value)


def test_an_onspd_without_lsoa_2021_is_refused(tmp_path):
    path = tmp_path / "ONSPD_old.csv"
    path.write_text("pcds,usertype,oseast1m,osnrth1m,ctry\nZZ1 1AA,0,1,1,E92000001\n")
    with pytest.raises(ValidationError, match="lsoa21_code"):
        read_onspd(path)
