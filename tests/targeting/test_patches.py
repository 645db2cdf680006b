import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from targeting.patches import build_patches, lsoa_adjacency


@pytest.fixture(scope="module")
def bradford(each_atlas):
    return each_atlas.lsoa21[each_atlas.lsoa21["lad_name"] == "Bradford"]


@pytest.fixture(scope="module")
def bradford_adjacency(bradford):
    return lsoa_adjacency(bradford)


def test_adjacency_is_symmetric_and_planar_like(bradford, bradford_adjacency):
    adj = bradford_adjacency
    pairs = set(zip(adj["lsoa_code"], adj["neighbour_code"], strict=True))
    assert all((b, a) in pairs for a, b in pairs)
    assert (adj["lsoa_code"] != adj["neighbour_code"]).all()
    degree = adj.groupby("lsoa_code").size().reindex(bradford["lsoa_code"], fill_value=0)
    # A map of polygons has a mean degree below 6; every Bradford LSOA has a neighbour inside the district.
    assert 4.0 <= degree.mean() < 6.5
    assert (degree > 0).all()


def test_adjacent_pairs_really_share_a_boundary_in_27700(bradford, bradford_adjacency):
    g = bradford.set_index("lsoa_code").geometry.to_crs(27700)
    adj = bradford_adjacency
    a = g.loc[adj["lsoa_code"]].to_numpy()
    b = g.loc[adj["neighbour_code"]].to_numpy()
    common = shapely.length(shapely.intersection(shapely.boundary(a), shapely.buffer(b, 1.0)))
    assert (common >= 10).all()
    # ...and pairs that touch along a real stretch of boundary are all found.
    geoms = g.to_numpy()
    i, j = shapely.STRtree(geoms).query(geoms, predicate="touches")
    k = i < j
    long_touch = shapely.length(shapely.intersection(geoms[i[k]], geoms[j[k]])) > 50
    found = set(zip(adj["lsoa_code"], adj["neighbour_code"], strict=True))
    codes = g.index.to_numpy()
    assert all((codes[x], codes[y]) in found for x, y in zip(i[k][long_touch], j[k][long_touch], strict=True))


def test_corner_only_contact_is_not_adjacency():
    squares = gpd.GeoDataFrame({"lsoa_code": ["A", "B", "C"]},
                               geometry=[box(0, 0, 1000, 1000), box(1000, 1000, 2000, 2000), box(1000, 0, 2000, 1000)],
                               crs=27700)
    adj = lsoa_adjacency(squares)
    pairs = set(zip(adj["lsoa_code"], adj["neighbour_code"], strict=True))
    assert ("A", "B") not in pairs
    assert {("A", "C"), ("B", "C")} <= pairs


def _grid(n: int, households):
    geoms = [box(k * 1000, 0, (k + 1) * 1000, 1000) for k in range(n)]
    frame = gpd.GeoDataFrame({"lsoa_code": [f"L{k:02d}" for k in range(n)], "households": households,
                              "priority_score": np.linspace(90, 10, n)}, geometry=geoms, crs=27700)
    return frame, lsoa_adjacency(frame)


def test_large_component_is_split_into_contiguous_patches_under_the_cap():
    frame, adj = _grid(6, [400] * 6)
    ids = build_patches(frame, adj, max_households=1000)
    sizes = frame.groupby(ids)["households"].sum()
    assert (sizes <= 1000).all() and sizes.sum() == 2400
    for pid, members in frame.groupby(ids):
        assert shapely.unary_union(members.geometry.buffer(1).to_numpy()).geom_type == "Polygon", pid
    # Region-growing starts at the highest-priority LSOA, which is in the top patch.
    assert ids.iloc[0] == "P001"


def test_isolated_and_oversized_lsoas_stay_as_patches_of_their_own():
    frame, _ = _grid(3, [300, 5000, 300])
    far = gpd.GeoDataFrame({"lsoa_code": ["ISO"], "households": [200], "priority_score": [5.0]},
                           geometry=[box(50_000, 0, 51_000, 1000)], crs=27700)
    frame = pd.concat([frame, far], ignore_index=True)
    ids = build_patches(frame, lsoa_adjacency(frame), max_households=1000)
    assert ids.notna().all() and len(ids) == 4
    assert ids[frame["lsoa_code"] == "ISO"].nunique() == 1
    assert (ids == ids[frame["lsoa_code"] == "L01"].iloc[0]).sum() == 1  # 5,000 households: alone
    assert ids.nunique() == 4


def test_patches_never_depend_on_row_order():
    frame, adj = _grid(8, [350, 420, 380, 500, 610, 330, 700, 450])
    a = build_patches(frame, adj, max_households=1200)
    shuffled = frame.sample(frac=1, random_state=3)
    b = build_patches(shuffled, adj, max_households=1200)
    assert a.to_dict() == b.reindex(a.index).to_dict()


def test_empty_input_gives_empty_results():
    empty = gpd.GeoDataFrame({"lsoa_code": [], "households": [], "priority_score": []}, geometry=[], crs=27700)
    assert lsoa_adjacency(empty).empty
    assert build_patches(empty, lsoa_adjacency(empty), max_households=100).empty
