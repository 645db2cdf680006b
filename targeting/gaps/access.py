"""Access: straight-line distance (EPSG:27700) from Core20 LSOAs to the nearest practice and PCN practice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from targeting.gaps._common import UNALLOCATED_PCN, _known_registrations

if TYPE_CHECKING:
    from geo.editions import Edition
    from targeting.scope import Scope

def _centroids(ed: Edition, codes: pd.Series) -> pd.DataFrame:
    """Population-weighted centroid (27700) of each LSOA in ``codes`` (edition's vintage), and how it was got.

    LSOA 2021: the atlas's centroid (mean position of the LSOA's postcode units). LSOA 2011: an unchanged LSOA
    keeps its code, so its 2021 centroid applies; for a changed one, the resident-weighted mean of the 2021
    centroids that fall inside its polygon (a split's children); failing that, a point inside the polygon.
    """
    import geopandas as gpd
    import shapely

    atlas = ed.atlas
    l21 = atlas.lsoa21[["lsoa_code", "pw_e", "pw_n", "residents"]]
    if ed.lsoa_vintage == 2021:
        out = pd.DataFrame({"lsoa_code": codes.to_numpy()}).merge(l21, on="lsoa_code", how="left")
        return out.drop(columns="residents").assign(centroid="population-weighted")
    l11 = atlas.lsoa11[atlas.lsoa11["lsoa_code"].isin(codes)]
    out = pd.DataFrame({"lsoa_code": l11["lsoa_code"].to_numpy()}).merge(l21, on="lsoa_code", how="left")
    out["centroid"] = np.where(out["pw_e"].notna(), "population-weighted", "point inside polygon")
    changed = out["pw_e"].isna().to_numpy()
    if changed.any():
        polys = gpd.GeoSeries(l11["geometry"].to_numpy()[changed], crs=l11.crs).to_crs(27700)
        pts = shapely.points(l21["pw_e"].to_numpy(float), l21["pw_n"].to_numpy(float))
        poly_i, pt_i = shapely.STRtree(pts).query(polys.to_numpy(), predicate="contains")
        w = l21["residents"].to_numpy(float)[pt_i]
        m = len(polys)
        tot = np.bincount(poly_i, weights=w, minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            e = np.bincount(poly_i, weights=w * l21["pw_e"].to_numpy(float)[pt_i], minlength=m) / tot
            n = np.bincount(poly_i, weights=w * l21["pw_n"].to_numpy(float)[pt_i], minlength=m) / tot
        found = tot > 0
        label = l11[["label_e", "label_n"]].to_numpy(float)[changed]
        rows = np.flatnonzero(changed)
        out.loc[rows, "pw_e"] = np.where(found, e, label[:, 0])
        out.loc[rows, "pw_n"] = np.where(found, n, label[:, 1])
        out.loc[rows, "centroid"] = np.where(found, "population-weighted (LSOA 2021 parts)", "point inside polygon")
    return out.drop(columns="residents")


def access(scope: Scope) -> pd.DataFrame:
    r"""Distance from each Core20 LSOA of an ICB to the nearest practice and to its main PCN's nearest practice.

    Parameters
    ----------
    scope
        The ICB and the Core20 edition: 2025 (LSOA 2021) or 2019 (LSOA 2011).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code, lsoa_name, nearest_practice_code, nearest_practice_m, pcn_code, pcn_share,
        nearest_pcn_practice_code, nearest_pcn_practice_m, centroid, centroid_e, centroid_n``. ``pcn_code`` is
        the PCN whose practices hold most of the LSOA's registered patients (``pcn_share`` of them); distances
        are straight lines in metres (EPSG:27700) from the LSOA's population-weighted centroid
        (``centroid_e``, ``centroid_n``; ``centroid`` says how it was obtained, see Notes).

    Notes
    -----
    :math:`d = \sqrt{(e_l - e_p)^2 + (n_l - n_p)^2}`. Nearest practice: over every practice in England with a
    location (July 2022 main sites; branch surgeries are not in the data), so a practice across the ICB border
    counts. The majority PCN: :math:`\arg\max_k \sum_{p \in k} n_{pl}` over all PCNs ("Unallocated"
    excluded). Straight-line distance understates travel, most in rural areas and across rivers.
    For IMD 2019 (LSOA 2011) an unchanged LSOA uses its 2021 centroid; a changed one the resident-weighted mean
    of the 2021 centroids inside its polygon, else a point inside the polygon.
    """
    from scipy.spatial import cKDTree

    atlas, ed = scope.atlas, scope.edition
    lsoas = scope.icb_lsoas
    lsoas = lsoas[lsoas[ed.core20].astype(bool)][["lsoa_code", "lsoa_name"]]
    pts = lsoas.merge(_centroids(ed, lsoas["lsoa_code"]), on="lsoa_code", how="left")
    prac = atlas.practices[atlas.practices["easting"].notna() & atlas.practices["northing"].notna()]
    tree = cKDTree(prac[["easting", "northing"]].to_numpy(float))
    xy = pts[["pw_e", "pw_n"]].to_numpy(float)
    dist, idx = tree.query(xy) if len(xy) else (np.array([]), np.array([], dtype=int))
    pts["nearest_practice_code"] = prac["practice_code"].to_numpy()[idx] if len(xy) else []
    pts["nearest_practice_m"] = dist

    reg = _known_registrations(ed)
    reg = reg[reg["lsoa_code"].isin(pts["lsoa_code"])].merge(
        atlas.practices[["practice_code", "pcn_code"]], on="practice_code", how="inner")
    tot = reg.groupby("lsoa_code")["patients"].sum()  # every patient living there, any practice
    reg = reg[reg["pcn_code"].notna() & (reg["pcn_code"] != UNALLOCATED_PCN)]
    by = reg.groupby(["lsoa_code", "pcn_code"], as_index=False)["patients"].sum()
    by = by.sort_values(["lsoa_code", "patients", "pcn_code"], ascending=[True, False, True])
    top = by.drop_duplicates("lsoa_code").set_index("lsoa_code")
    pts["pcn_code"] = pts["lsoa_code"].map(top["pcn_code"])
    pts["pcn_share"] = pts["lsoa_code"].map(top["patients"] / tot.reindex(top.index))

    cand = pts[["lsoa_code", "pw_e", "pw_n", "pcn_code"]].merge(
        prac[["practice_code", "pcn_code", "easting", "northing"]], on="pcn_code", how="inner")
    cand["d"] = np.hypot(cand["pw_e"] - cand["easting"], cand["pw_n"] - cand["northing"])
    best = cand.sort_values(["lsoa_code", "d"]).drop_duplicates("lsoa_code").set_index("lsoa_code")
    pts["nearest_pcn_practice_code"] = pts["lsoa_code"].map(best["practice_code"])
    pts["nearest_pcn_practice_m"] = pts["lsoa_code"].map(best["d"])
    pts = pts.rename(columns={"pw_e": "centroid_e", "pw_n": "centroid_n"})
    return pts[["lsoa_code", "lsoa_name", "nearest_practice_code", "nearest_practice_m", "pcn_code", "pcn_share",
                "nearest_pcn_practice_code", "nearest_pcn_practice_m", "centroid", "centroid_e",
                "centroid_n"]].sort_values(
        "lsoa_code").reset_index(drop=True)
