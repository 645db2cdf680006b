"""Indicative PCN footprints: each LSOA goes to the PCN holding most of its registered residents.

PCNs have no official boundaries. A footprint built from where registered patients live is *indicative*: it
shows where a PCN's patients mostly live, not an area it is responsible for. Every LSOA keeps the share of its
registered residents that the chosen PCN holds, so weak assignments (a share well under half) stay visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from targeting.profiles import _positions
from targeting.store import derived

if TYPE_CHECKING:
    from geo.editions import Edition
    from targeting.scope import Scope

__all__ = ["FOOTPRINT_LABEL", "footprint_polygons", "pcn_footprints"]

#: The label every footprint carries.
FOOTPRINT_LABEL = "indicative PCN footprint: LSOAs where this PCN holds the most registered patients (July 2022)"

def pcn_footprints(edition: Edition) -> pd.DataFrame:
    r"""Assign each English LSOA to the PCN holding most of its registered residents.

    Parameters
    ----------
    edition : geo.editions.Edition
        An IMD edition bound to the atlas, for its geography: LSOA 2011 (registrations as published) for 2019,
        LSOA 2021 (apportioned) for 2025.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA with registered patients: ``lsoa_code``, ``pcn_code``, ``pcn_name``, ``icb_code``,
        ``icb_code_nhs`` (the PCN's ICB), ``share`` (0–1: the PCN's patients over all patients registered as living
        in the LSOA), ``patients`` (the PCN's patients there) and ``lsoa_patients`` (all registered patients living
        there, any practice).

    Notes
    -----
    With :math:`p_{kl}` patients of PCN :math:`k` living in LSOA :math:`l` and :math:`P_l = \sum_k p_{kl}` over all
    practices (including those not in a PCN), LSOA :math:`l` goes to :math:`\arg\max_k p_{kl}` with share
    :math:`p_{kl}/P_l`. Practices with no PCN (code ``U``) count in :math:`P_l` but never receive an LSOA. Ties go
    to the lower PCN code, so the result is deterministic.
    """
    return _footprints(edition).copy()


@derived
def _footprints(ed: Edition) -> pd.DataFrame:
    atlas = ed.atlas
    lsoas = ed.lsoas
    reg = ed.registrations
    codes = pd.Index(lsoas["lsoa_code"])
    l_pos = _positions(codes, reg["lsoa_code"])
    pcns = atlas.pcns[atlas.pcns["pcn_code"] != "U"].sort_values("pcn_code").reset_index(drop=True)
    pcn_of = atlas.practices.set_index("practice_code")["pcn_code"]
    prac_pcn = pd.Index(pcns["pcn_code"]).get_indexer(pcn_of.to_numpy())
    p_pos = _positions(pd.Index(pcn_of.index), reg["practice_code"])
    k_pos = np.where(p_pos >= 0, prac_pcn[p_pos], -1)
    w = reg["patients"].to_numpy(dtype=float)
    known = l_pos >= 0
    total = np.bincount(l_pos[known], weights=w[known], minlength=len(codes))
    ok = known & (k_pos >= 0)
    # integer keys on (LSOA, PCN); sorting by (LSOA, -patients, PCN) picks the largest, ties to the lower code
    key, inv = np.unique(l_pos[ok].astype(np.int64) * len(pcns) + k_pos[ok], return_inverse=True)
    pats = np.bincount(inv, weights=w[ok])
    lk, kk = key // len(pcns), key % len(pcns)
    order = np.lexsort((kk, -pats, lk))
    lk, kk, pats = lk[order], kk[order], pats[order]
    first = np.r_[True, lk[1:] != lk[:-1]]
    lk, kk, pats = lk[first], kk[first], pats[first]
    lsoa_total = total[lk]
    out = pd.DataFrame({
        "lsoa_code": codes[lk], "pcn_code": pcns["pcn_code"].to_numpy()[kk],
        "pcn_name": pcns["pcn_name"].to_numpy()[kk], "icb_code": pcns["icb_code"].to_numpy()[kk],
        "icb_code_nhs": pcns["icb_code_nhs"].to_numpy()[kk],
        "share": np.where(lsoa_total > 0, pats / np.where(lsoa_total > 0, lsoa_total, 1), np.nan),
        "patients": pats, "lsoa_patients": lsoa_total,
    })
    return out


def footprint_polygons(scope: Scope) -> gpd.GeoDataFrame:
    """Dissolve each PCN's footprint LSOAs into one (multi)polygon for the web map.

    Parameters
    ----------
    scope : targeting.scope.Scope
        The IMD edition (the footprints' geography, see :func:`pcn_footprints`) and the area: only the PCNs of
        the ICB it sits in (None: every PCN in England).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per PCN: ``pcn_code``, ``pcn_name``, ``icb_code``, ``icb_code_nhs``, ``lsoas`` (number of LSOAs),
        ``patients`` (the PCN's patients living in them), ``median_share`` (median of the LSOAs' shares, 0–1),
        ``label`` (states the footprint is indicative and its source), ``geometry`` (EPSG:4326, from the
        simplified web geometry, so neighbouring footprints share edges exactly).

    Notes
    -----
    The web geometry is a simplified coverage; its polygons are unioned per PCN with
    :func:`shapely.coverage_union_all` (falling back to :func:`shapely.union_all`), which leaves no slivers
    between neighbouring LSOAs.
    """
    atlas, ed = scope.atlas, scope.edition
    fp = pcn_footprints(ed)
    if scope.area is not None:
        fp = fp[fp["icb_code_nhs"] == scope.icb_nhs]
    lsoas = ed.lsoas
    geom_col = "geometry_web" if "geometry_web" in lsoas.columns else "geometry"
    geoms = pd.Series(lsoas[geom_col].to_numpy(), index=lsoas["lsoa_code"].to_numpy())
    fp = fp.assign(_g=geoms.reindex(fp["lsoa_code"]).to_numpy())
    rows = []
    for code, grp in fp.groupby("pcn_code", sort=True):
        parts = np.asarray(grp["_g"].to_numpy())
        parts = parts[~pd.isna(parts)]
        try:
            geom = shapely.coverage_union_all(parts)
        except shapely.errors.GEOSException:  # not a valid coverage: fall back to a full union
            geom = shapely.union_all(shapely.make_valid(parts))
        first = grp.iloc[0]
        rows.append({"pcn_code": code, "pcn_name": first["pcn_name"], "icb_code": first["icb_code"],
                     "icb_code_nhs": first["icb_code_nhs"], "lsoas": len(grp),
                     "patients": float(grp["patients"].sum()), "median_share": float(grp["share"].median()),
                     "label": atlas.month.relabel(f"{FOOTPRINT_LABEL}, {ed.lsoa_label}"), "geometry": geom})
    cols = ["pcn_code", "pcn_name", "icb_code", "icb_code_nhs", "lsoas", "patients", "median_share", "label",
            "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs="EPSG:4326")
