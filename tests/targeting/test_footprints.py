import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from targeting.footprints import FOOTPRINT_LABEL, footprint_polygons, pcn_footprints
from targeting.scope import make_scope


@pytest.fixture(scope="module")
def fp25(atlas):
    return pcn_footprints(atlas.edition(2025))


@pytest.mark.slow
def test_every_lsoa_goes_to_one_pcn_with_its_share(atlas, fp25):
    assert fp25["lsoa_code"].is_unique
    assert set(fp25["lsoa_code"]) <= set(atlas.lsoa21["lsoa_code"])
    assert len(fp25) > 33_700  # nearly every LSOA 2021 has registered residents
    assert ((fp25["share"] > 0) & (fp25["share"] <= 1)).all()
    assert (fp25["patients"] <= fp25["lsoa_patients"] + 1e-9).all()
    assert not (fp25["pcn_code"] == "U").any()
    assert fp25["pcn_code"].isin(atlas.pcns["pcn_code"]).all()


@pytest.mark.slow
def test_assignment_matches_a_plain_groupby_on_lsoa_2011(atlas):
    fp = pcn_footprints(atlas.edition(2019)).set_index("lsoa_code")
    reg = atlas.registrations11.merge(atlas.practices[["practice_code", "pcn_code"]], on="practice_code")
    reg = reg[reg["lsoa_code"].isin(atlas.lsoa11["lsoa_code"])]
    total = reg.groupby("lsoa_code")["patients"].sum()
    by = reg[reg["pcn_code"].notna() & (reg["pcn_code"] != "U")].groupby(["lsoa_code", "pcn_code"])["patients"].sum()
    best = by.groupby(level=0).max()
    share = best / total.reindex(best.index)
    assert np.allclose(fp.loc[best.index, "share"], share)
    assert np.allclose(fp.loc[best.index, "patients"], best)
    # Jaywick (E01021988): its PCN is the Clacton one holding most of its residents
    jay = fp.loc["E01021988"]
    assert jay["patients"] == by.loc["E01021988"].max()
    assert "CLACTON" in jay["pcn_name"].upper()


@pytest.mark.slow
def test_polygons_are_labelled_indicative_and_cover_their_lsoas(atlas, fp25):
    _check_polygons(atlas, fp25, "QOP")  # Greater Manchester


def test_polygons_of_the_small_atlas(small_atlas):
    _check_polygons(small_atlas, pcn_footprints(small_atlas.edition(2025)), "QWO")  # its part of West Yorkshire


def _check_polygons(atlas, fp25, icb):
    g = footprint_polygons(make_scope(atlas, imd=2025, kind="icb", code=icb))
    assert isinstance(g, gpd.GeoDataFrame) and g.crs.to_epsg() == 4326
    assert g["label"].str.contains("indicative").all() and g["label"].str.startswith(FOOTPRINT_LABEL).all()
    gm = fp25[fp25["icb_code_nhs"] == icb]
    assert set(g["pcn_code"]) == set(gm["pcn_code"])
    assert g["lsoas"].sum() == len(gm)
    assert g.geometry.is_valid.all() and not g.geometry.is_empty.any()
    # the dissolved area equals the area of the member LSOAs (no gaps, no overlaps), in EPSG:27700
    l21 = atlas.lsoa21.set_index("lsoa_code")
    parts = gpd.GeoSeries(l21.loc[gm["lsoa_code"], "geometry_web"].to_numpy(), crs=4326).to_crs(27700)
    assert g.to_crs(27700).area.sum() == pytest.approx(parts.area.sum(), rel=1e-6)
    pats = gm.groupby("pcn_code")["patients"].sum()
    assert np.allclose(g.set_index("pcn_code")["patients"].reindex(pats.index), pats)


def test_footprints_are_cached_but_returned_as_copies(each_atlas):
    atlas = each_atlas
    fp25 = pcn_footprints(atlas.edition(2025))
    again = pcn_footprints(atlas.edition(2025))
    again.loc[:, "share"] = 0.0
    assert pcn_footprints(atlas.edition(2025))["share"].gt(0).all()
    pd.testing.assert_frame_equal(pcn_footprints(atlas.edition(2025)), fp25)
