"""Postcodes in the atlas: every English postcode unit placed in its LSOA 2021, with about how many households.

OS Code-Point Open gives each postcode unit a grid reference (EPSG:27700) but no LSOA and no household count.
:func:`place_postcodes` puts each English postcode in its LSOA 2021:

* by the ONS Postcode Directory's LSOA 2021 field (``lsoa21``) where that optional file is present;
* otherwise by point in polygon of its grid reference in the LSOA 2021 boundaries, and, for the few points that
  fall just outside every polygon of the generalised (clipped) boundaries, in the nearest LSOA within
  :data:`NEAREST_MAX_M`.

The method is recorded per postcode, with the distance to the LSOA boundary and a flag for postcodes within
:data:`NEAR_BOUNDARY_M` of it, which generalised boundaries could put in the wrong LSOA.

Households per postcode are estimated by sharing each LSOA's Census 2021 households (TS011) equally among its
residential postcodes as whole numbers (largest remainder), so each LSOA's total is conserved exactly. Code-Point
Open carries no count of addresses per postcode, so the figure is "about": a postcode of flats and one of three
farms get the same share of their LSOA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["NEAREST_MAX_M", "NEAR_BOUNDARY_M", "PostcodePlacement", "place_postcodes", "share_households"]

#: Postcodes within this many metres of their LSOA's boundary are counted as ones generalised boundaries could
#: misplace (the bundled boundaries are the ONS super generalised clipped set, BSC).
NEAR_BOUNDARY_M = 25.0
#: A grid reference outside every (clipped, generalised) polygon is given the nearest LSOA within this distance.
NEAREST_MAX_M = 1000.0

#: Code-Point Open positional quality 90: no grid reference (the postcode cannot be placed by position).
_NO_COORDINATES = 90
#: How a postcode was placed (index 0 is never stored).
_METHODS = ("", "point in polygon", "nearest LSOA", "ONSPD")


@dataclass
class PostcodePlacement:
    """The ``postcodes`` table of the atlas and a summary for the build's report.

    Attributes
    ----------
    table
        One row per residential English postcode placed in an LSOA 2021: ``postcode``, ``lsoa_code``,
        ``easting``, ``northing`` (EPSG:27700 metres), ``quality`` (Code-Point positional quality),
        ``method`` ('ONSPD', 'point in polygon' or 'nearest LSOA'), ``boundary_m`` (distance to the LSOA boundary,
        metres; missing when placed by ONSPD), ``near_boundary`` and ``households_est`` (about; whole numbers).
    stats
        Counts for the build report: ``english``, ``placed``, ``placed_pct``, ``by_method``, ``near_boundary``,
        ``no_coordinates``, ``left_out`` (with reasons), ``lsoas_without_postcode``, ``limits``.
    """

    table: pd.DataFrame
    stats: dict = field(default_factory=dict)


def share_households(lsoa_codes: pd.Series, households: pd.Series) -> np.ndarray:
    r"""Share each LSOA's households equally among its postcodes as whole numbers (largest remainder).

    Parameters
    ----------
    lsoa_codes
        The LSOA of each postcode.
    households
        Households of each LSOA, indexed by LSOA code.

    Returns
    -------
    numpy.ndarray
        Households per postcode, aligned to ``lsoa_codes``; each LSOA's postcodes add up to its households.

    Notes
    -----
    An LSOA of :math:`H` households and :math:`n` postcodes gives each :math:`\\lfloor H/n \\rfloor`; the
    :math:`H - n\\lfloor H/n \\rfloor` left over go one each to its first postcodes in row order (all
    remainders are equal, so the order only breaks the tie).
    """
    idx, uniq = pd.factorize(lsoa_codes.to_numpy(dtype=object), sort=False)
    return _share(idx, pd.Series(households).reindex(uniq).fillna(0).to_numpy(dtype=np.int64))


def _share(group: np.ndarray, households: np.ndarray) -> np.ndarray:
    """:func:`share_households` on group numbers 0…k−1 (``households[k]`` for group k), in row order."""
    n = np.bincount(group, minlength=len(households))
    h = households[group]
    base = h // n[group]
    extra = h - base * n[group]
    order = np.empty(len(group), dtype=np.int64)  # rank of each row within its group, in row order
    sort = np.argsort(group, kind="stable")
    starts = np.r_[0, np.cumsum(n)[:-1]]
    order[sort] = np.arange(len(group)) - np.repeat(starts, n)
    return base + (order < extra).astype(np.int64)


def place_postcodes(codepoint: pd.DataFrame, lsoas: gpd.GeoDataFrame, *, households: pd.Series,
                    onspd: pd.DataFrame | None = None) -> PostcodePlacement:
    """Place every English Code-Point Open postcode in its LSOA 2021 and estimate its households.

    Parameters
    ----------
    codepoint
        From :func:`geo.readers.read_codepoint` (``postcode``, ``quality``, ``easting``, ``northing``,
        ``country_code``).
    lsoas
        LSOA 2021 in England: ``lsoa_code`` and polygons (any CRS; projected to EPSG:27700).
    households
        Census 2021 households per LSOA 2021, indexed by code.
    onspd
        Optional :func:`geo.readers.read_onspd` table (``postcode``, ``lsoa21_code``, ``terminated``,
        ``large_user``). Where given, a postcode's LSOA is its ONSPD LSOA 2021, and terminated and large-user
        postcodes are left out as non-residential.

    Returns
    -------
    PostcodePlacement

    Notes
    -----
    Point in polygon uses one spatial index over the points queried with each polygon (``contains``), which
    prepares every polygon once; points outside all polygons (the boundaries are clipped to the coastline and
    generalised) take the nearest LSOA within :data:`NEAREST_MAX_M`. The distance of each point to its LSOA's
    boundary is measured for every point so the count near a boundary is reported whichever method placed it.
    """
    import shapely

    eng = codepoint[codepoint["country_code"].astype(str).str.startswith("E")].reset_index(drop=True)
    english = len(eng)
    left_out: dict[str, int] = {}
    if onspd is not None:
        o = onspd.drop_duplicates("postcode").set_index("postcode")
        drop = eng["postcode"].map(o["terminated"]).fillna(False).astype(bool)
        left_out["terminated (ONSPD)"] = int(drop.sum())
        big = eng["postcode"].map(o["large_user"]).fillna(False).astype(bool) & ~drop
        left_out["large-user postcode (ONSPD user type 1)"] = int(big.sum())
        eng = eng[~(drop | big)].reset_index(drop=True)

    codes = lsoas["lsoa_code"].to_numpy(dtype=object)
    g = lsoas.geometry
    polys = np.asarray(g.to_crs(27700).values if g.crs is not None and g.crs.to_epsg() != 27700 else g.values)
    has_xy = (eng["quality"] < _NO_COORDINATES).to_numpy()
    e = eng["easting"].to_numpy(dtype=float)
    n = eng["northing"].to_numpy(dtype=float)
    idx = np.flatnonzero(has_xy)
    pts = shapely.points(e[idx], n[idx])
    where = np.full(len(eng), -1)
    method = np.zeros(len(eng), dtype=np.int8)  # index into _METHODS

    ig, ip = shapely.STRtree(pts).query(polys, predicate="contains")
    # A point on a shared edge can be in two polygons; keep one so every postcode is in one LSOA.
    where[idx[ip]] = ig
    method[idx[ip]] = 1
    out = np.flatnonzero(where[idx] < 0)
    if len(out):
        (jn, jg), _ = shapely.STRtree(polys).query_nearest(pts[out], return_distance=True,
                                                             max_distance=NEAREST_MAX_M)
        where[idx[out[jn]]] = jg
        method[idx[out[jn]]] = 2

    if onspd is not None:
        official = eng["postcode"].map(o["lsoa21_code"]).fillna("").astype(str).to_numpy()
        pos = pd.Series(np.arange(len(codes)), index=codes)
        known = pd.Series(official).map(pos)
        ok = known.notna().to_numpy()
        where[ok] = known[ok].to_numpy(dtype=int)
        method[ok] = 3

    placed = where >= 0
    boundary = np.full(len(eng), np.nan)
    on_map = placed[idx]
    boundary[idx[on_map]] = shapely.distance(pts[on_map], shapely.boundary(polys)[where[idx[on_map]]])
    # One row per placed postcode, grouped by LSOA (in the order of the boundaries) and in Code-Point order within.
    keep = np.flatnonzero(placed)
    keep = keep[np.argsort(where[keep], kind="stable")]
    w = where[keep]
    located = has_xy[keep]
    hh_by_lsoa = pd.Series(households).reindex(codes).fillna(0).to_numpy(dtype=np.int64)
    table = pd.DataFrame({
        "postcode": eng["postcode"].take(keep).reset_index(drop=True),
        "lsoa_code": codes[w],
        "easting": np.where(located, e[keep], np.nan), "northing": np.where(located, n[keep], np.nan),
        "quality": eng["quality"].to_numpy(dtype=np.int16)[keep],
        "method": pd.Categorical.from_codes(method[keep], categories=list(_METHODS)),
        "boundary_m": np.round(boundary[keep], 1),
    })
    table["near_boundary"] = table["boundary_m"].to_numpy() < NEAR_BOUNDARY_M
    table["households_est"] = _share(w, hh_by_lsoa) if len(w) else np.zeros(0, dtype=np.int64)
    no_pc = sorted(codes[np.bincount(w, minlength=len(codes)) == 0])
    by_method = table["method"].value_counts().to_dict()
    limits = ("Code-Point Open lists live postcodes only, so terminated ones are already absent; it cannot show "
              "which postcodes are large users (one organisation's mail) or hold no homes, so no postcode is left "
              "out as non-residential without the ONS Postcode Directory.")
    if onspd is not None:
        limits = ("Terminated and large-user postcodes are left out by the ONS Postcode Directory; a small-user "
                  "postcode that holds only businesses still cannot be told apart.")
    stats = {
        "english": english, "placed": len(table),
        "placed_pct": round(100 * len(table) / english, 3) if english else 0.0,
        "placed_of_residential_pct": round(100 * len(table) / max(1, len(eng)), 3),
        "by_method": {k: int(v) for k, v in by_method.items() if v},
        "near_boundary": int(table["near_boundary"].sum()), "near_boundary_m": NEAR_BOUNDARY_M,
        "no_coordinates": int((~has_xy & ~placed).sum()), "outside_every_lsoa": int((has_xy & ~placed).sum()),
        "left_out": left_out, "lsoas_without_postcode": len(no_pc), "lsoas_without_postcode_examples": no_pc[:5],
        "source": "ONSPD LSOA 2021 field" if onspd is not None else "point in polygon (Code-Point Open grid "
                  "references in ONS LSOA 2021 BSC boundaries)",
        "limits": limits,
    }
    return PostcodePlacement(table=table, stats=stats)
