"""CRS handling and geometry preparation: British National Grid for distance and area, WGS84 for the web."""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

__all__ = ["BNG", "WGS84", "bng_to_lonlat", "lonlat_to_bng", "simplify_for_web", "to_bng"]

BNG = 27700
WGS84 = 4326


@functools.cache
def _transformer(src: int, dst: int) -> Transformer:
    # built on first use: creating a pyproj transformer costs ~0.1 s that a command drawing nothing should not pay
    return Transformer.from_crs(src, dst, always_xy=True)


def to_bng(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Reproject to EPSG:27700 (metres), where distances, areas and adjacency are computed."""
    return gdf.to_crs(BNG)


def bng_to_lonlat(easting: np.ndarray | pd.Series, northing: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Convert British National Grid eastings and northings to WGS84 longitude and latitude."""
    e, n = np.asarray(easting, dtype=float), np.asarray(northing, dtype=float)
    lon, lat = _transformer(BNG, WGS84).transform(e, n)
    bad = ~(np.isfinite(e) & np.isfinite(n))  # pyproj turns a missing coordinate into inf; keep it missing
    return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)


def lonlat_to_bng(lon: np.ndarray | pd.Series, lat: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude and latitude to British National Grid eastings and northings."""
    e, n = _transformer(WGS84, BNG).transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(e), np.asarray(n)


def simplify_for_web(geoms: gpd.GeoSeries, *, tolerance_m: float = 25.0, precision: float = 1e-5,
                     bng: gpd.GeoSeries | None = None) -> gpd.GeoSeries:
    """Simplify a coverage of polygons for web maps without opening gaps or overlaps between neighbours.

    Parameters
    ----------
    geoms
        Polygons that tile an area (e.g. all LSOAs of England), in any CRS.
    tolerance_m
        Simplification tolerance in metres, applied in EPSG:27700.
    precision
        Grid size in degrees to which the WGS84 output is snapped (1e-5° ≈ 1 m), which keeps GeoJSON small.
    bng
        ``geoms`` already projected to EPSG:27700, if the caller has them (saves projecting them again).

    Returns
    -------
    geopandas.GeoSeries
        Simplified polygons in EPSG:4326.

    Notes
    -----
    Uses ``GeoSeries.simplify_coverage`` (GEOS ≥ 3.12 via shapely ≥ 2.1), which simplifies each shared edge
    once so neighbouring polygons still meet exactly.
    """
    bng = geoms.to_crs(BNG) if bng is None else bng
    try:
        simple = bng.simplify_coverage(tolerance_m)
    except (AttributeError, NotImplementedError, shapely.errors.GEOSException):  # older GEOS: per-polygon
        simple = bng.simplify(tolerance_m, preserve_topology=True)
    out = simple.to_crs(WGS84)
    out = gpd.GeoSeries(shapely.set_precision(out.values, precision, mode="keep_collapsed"), index=geoms.index,
                        crs=WGS84)
    empty = out.is_empty | out.isna()
    if empty.any():  # never lose an area: fall back to its unsimplified shape
        out[empty] = geoms.to_crs(WGS84)[empty]
    return out
