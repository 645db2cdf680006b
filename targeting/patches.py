"""Contiguous patches of target LSOAs: shared-boundary adjacency in EPSG:27700 and region-growing to a size cap."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["build_patches", "lsoa_adjacency"]


def lsoa_adjacency(lsoas: gpd.GeoDataFrame, *, tolerance: float = 1.0, min_shared: float = 10.0) -> pd.DataFrame:
    r"""Pairs of LSOAs that share a boundary, measured in EPSG:27700.

    Parameters
    ----------
    lsoas
        ``lsoa_code`` and full polygons (any CRS; projected to EPSG:27700 here).
    tolerance
        Metres: polygons closer than this count as touching (absorbs slivers in generalised boundaries).
    min_shared
        Metres of common boundary needed, so LSOAs meeting at a single corner are not neighbours.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``neighbour_code``, ``shared_m`` (length of common boundary, metres), both directions.

    Notes
    -----
    Candidate pairs come from one STRtree query (``dwithin`` ``tolerance``). The shared length of a pair
    :math:`(a, b)` is the length of :math:`\partial a \cap \partial b`, or, where boundaries do not coincide
    exactly (generalised boundaries with slivers), of :math:`\partial a \cap \mathrm{buffer}(b, t)`.
    """
    cols = ["lsoa_code", "neighbour_code", "shared_m"]
    if len(lsoas) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object if c != "shared_m" else float) for c in cols})
    g = lsoas.geometry
    if g.crs is None:
        raise ValueError("LSOA geometries have no CRS; expected EPSG:4326 or EPSG:27700")
    geoms = np.asarray(g.to_crs(27700).values if g.crs.to_epsg() != 27700 else g.values)
    geoms = shapely.make_valid(geoms)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=tolerance)
    keep = i < j
    i, j = i[keep], j[keep]
    bounds = shapely.boundary(geoms)
    shared = shapely.length(shapely.intersection(bounds[i], bounds[j]))
    # Boundaries of a clean coverage coincide exactly; only near misses need the (slower) buffered measure.
    near = shared < min_shared
    if near.any():
        shared[near] = shapely.length(shapely.intersection(bounds[i[near]],
                                                           shapely.buffer(geoms[j[near]], tolerance)))
    ok = shared >= min_shared
    i, j, shared = i[ok], j[ok], shared[ok]
    codes = lsoas["lsoa_code"].to_numpy()
    out = pd.DataFrame({"lsoa_code": np.concatenate([codes[i], codes[j]]),
                        "neighbour_code": np.concatenate([codes[j], codes[i]]),
                        "shared_m": np.round(np.concatenate([shared, shared]), 1)})
    return out.sort_values(cols[:2]).reset_index(drop=True)


def build_patches(targets: pd.DataFrame, adjacency: pd.DataFrame, *, max_households: float) -> pd.Series:
    """Group target LSOAs into contiguous patches of at most ``max_households`` households.

    Parameters
    ----------
    targets
        The target LSOAs: ``lsoa_code``, ``households``, ``priority_score``.
    adjacency
        From :func:`lsoa_adjacency` (pairs outside ``targets`` are ignored).
    max_households
        Size cap of a patch (capacity per connector per month × months).

    Returns
    -------
    pandas.Series
        ``patch_id`` (``P001``, ``P002``… in descending household-weighted priority) aligned to ``targets.index``.

    Notes
    -----
    Patches are the connected components of the shared-boundary graph restricted to targets. A component
    above the cap is split by region-growing: seed at its highest-priority unallocated LSOA, repeatedly add the
    highest-priority unallocated neighbour of the patch that keeps it within the cap, and start a new patch
    when none fits. Every patch is therefore contiguous. An LSOA with no target neighbour, or one larger than
    the cap on its own, is a patch by itself: nothing is dropped.
    """
    n = len(targets)
    if n == 0:
        return pd.Series([], index=targets.index, dtype=object, name="patch_id")
    codes = targets["lsoa_code"].to_numpy()
    pos = pd.Series(np.arange(n), index=codes)
    adj = adjacency[adjacency["lsoa_code"].isin(pos.index) & adjacency["neighbour_code"].isin(pos.index)]
    a = pos[adj["lsoa_code"].to_numpy()].to_numpy()
    b = pos[adj["neighbour_code"].to_numpy()].to_numpy()
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    _, comp = connected_components(graph, directed=False)
    hh = targets["households"].to_numpy(dtype=float)
    prio = targets["priority_score"].to_numpy(dtype=float)
    neighbours = [graph.indices[graph.indptr[k]:graph.indptr[k + 1]] for k in range(n)]
    # Highest priority first; the code breaks ties so the result never depends on row order.
    rank = np.lexsort((codes, -prio))
    order_pos = np.empty(n, dtype=int)
    order_pos[rank] = np.arange(n)

    label = np.full(n, -1)
    next_label = 0
    for c in np.unique(comp):
        members = np.flatnonzero(comp == c)
        if hh[members].sum() <= max_households:
            label[members] = next_label
            next_label += 1
            continue
        free = set(members.tolist())
        while free:
            seed = min(free, key=lambda k: order_pos[k])
            patch, total = [seed], hh[seed]
            free.discard(seed)
            frontier = {m for m in neighbours[seed] if m in free}
            while frontier:
                fits = [m for m in frontier if total + hh[m] <= max_households]
                if not fits:
                    break
                pick = min(fits, key=lambda k: order_pos[k])
                patch.append(pick)
                total += hh[pick]
                free.discard(pick)
                frontier.discard(pick)
                frontier.update(m for m in neighbours[pick] if m in free)
            label[patch] = next_label
            next_label += 1

    frame = pd.DataFrame({"label": label, "hh": hh, "w": hh * prio, "code": codes})
    agg = frame.groupby("label").agg(hh=("hh", "sum"), w=("w", "sum"), code=("code", "min"))
    agg["prio"] = np.where(agg["hh"] > 0, agg["w"] / agg["hh"].where(agg["hh"] > 0, 1), 0.0)
    agg = agg.sort_values(["prio", "code"], ascending=[False, True])
    width = max(3, len(str(len(agg))))
    names = {lab: f"P{k + 1:0{width}d}" for k, lab in enumerate(agg.index)}
    return pd.Series([names[x] for x in label], index=targets.index, dtype=object, name="patch_id")
