"""Compact map geometry: quantised, delta-encoded coordinates with shared boundaries, as in TopoJSON.

Neighbouring LSOAs share their boundary (the web geometry is simplified as a coverage, so shared edges have the
same vertices). Here every boundary is cut into *arcs* at the points where the set of neighbours changes, each
arc is stored once, and every polygon ring is a list of arc references (``i``, or ``~i`` for arc ``i``
reversed). Coordinates are quantised to a fixed grid over England (:data:`QUANTUM` degrees, about 2 m) and
each point is written as its difference from the one before, so most numbers have two or three digits.

Because a shared boundary is one arc that both neighbours reference, the decoded polygons meet exactly: there
are no gaps or slivers between them, whatever the quantisation. The page decodes this with a few lines of
JavaScript (``c20Topo`` in ``static/map.js``); :func:`decode` is the same in Python, for tests.

Overlays drawn as outlines (the Core20 outline, PCN footprints, outreach patches) are unions of LSOAs, so
their outlines are the arcs between LSOAs of different groups (:func:`outlines`): no polygon union is needed
and no geometry is sent twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from targeting.render._pack import pack, unpack

__all__ = ["QUANTUM", "Topology", "build_topology", "decode", "outlines"]

#: Grid step of the quantised coordinates, in degrees (2e-5° is 2.2 m north–south, 1.3 m east–west in England;
#: the web geometry is simplified at 25 m).
QUANTUM = 2e-5
#: Origin of the grid (south-west of England), so the same point has the same integers in every map.
ORIGIN = (-7.0, 49.8)


@dataclass
class Topology:
    """Polygons as references to shared arcs.

    Attributes
    ----------
    arcs
        Each arc's points as an ``(n, 2)`` array of grid integers.
    polys
        Per feature: its polygons, each a list of rings, each a list of arc references (``~i`` = arc ``i``
        reversed).
    sides
        Per arc: the features that use it (one on the outer edge, two inside).
    """

    arcs: list[np.ndarray]
    polys: list[list[list[list[int]]]]
    sides: list[list[int]]

    def to_json(self, arcs: Sequence[int] | None = None) -> dict[str, Any]:
        """The compact form the page decodes (every list packed with :func:`targeting.render._pack.pack`).

        ``q`` is the grid (origin and step), ``n`` each arc's number of points and ``d`` the differences of all
        points in one run (an arc's first point from the last point of the arc before). The polygons are
        ``pf`` (polygons per feature), ``pr`` (rings per polygon), ``pa`` (arcs per ring) and ``pi`` (arc
        references: the difference from the previous arc index, zigzagged, times two, plus one if reversed).
        With ``arcs`` (a subset of arc indices), only those arcs are written, in that order, and no polygons.
        """
        chosen = range(len(self.arcs)) if arcs is None else arcs
        pts = [self.arcs[i] for i in chosen]
        flat = np.concatenate(pts) if pts else np.zeros((0, 2), dtype=np.int64)
        d = np.diff(flat, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
        out: dict[str, Any] = {"q": [ORIGIN[0], ORIGIN[1], QUANTUM], "n": pack([len(a) for a in pts]),
                               "d": pack(d, signed=True)}
        if arcs is None:
            pf = [len(f) for f in self.polys]
            pr = [len(p) for f in self.polys for p in f]
            rings = [r for f in self.polys for p in f for r in p]
            refs = np.fromiter((x for r in rings for x in r), dtype=np.int64)
            idx = np.where(refs < 0, ~refs, refs)
            delta = np.diff(idx, prepend=0)
            zz = (delta << 1) ^ (delta >> 63)
            out.update(pf=pack(pf), pr=pack(pr), pa=pack([len(r) for r in rings]),
                       pi=pack((zz << 1) | (refs < 0)))
        return out


def _ring_ids(geoms: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ring as grid point ids: (unique grid points, point id per vertex, ring offsets, ring owners).

    ``owners`` holds each ring's feature, polygon and whether it is an exterior ring. Repeated points the grid
    makes are dropped; rings left with fewer than three points are dropped.
    """
    arr = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    feat_of = np.flatnonzero(ok)
    _, coords, (ring_off, poly_off, multi_off) = _ragged(arr[ok])
    q = np.round((coords[:, :2] - ORIGIN) / QUANTUM).astype(np.int64)
    ring_of = np.repeat(np.arange(len(ring_off) - 1), np.diff(ring_off))
    last = np.zeros(len(q), dtype=bool)
    last[ring_off[1:] - 1] = True  # the closing point repeats the first
    same = np.zeros(len(q), dtype=bool)
    same[1:] = np.all(q[1:] == q[:-1], axis=1) & (ring_of[1:] == ring_of[:-1])
    keep = ~last & ~same
    counts = np.bincount(ring_of[keep], minlength=len(ring_off) - 1)
    # a ring whose first point equals its (new) last point after dropping repeats: drop the last too
    q, ring_of = q[keep], ring_of[keep]
    ends = np.cumsum(counts) - 1
    starts = ends - counts + 1
    valid_r = counts >= 2
    dup_end = np.zeros(len(q), dtype=bool)
    dup_end[ends[valid_r]] = np.all(q[ends[valid_r]] == q[starts[valid_r]], axis=1)
    q, ring_of = q[~dup_end], ring_of[~dup_end]
    counts = np.bincount(ring_of, minlength=len(ring_off) - 1)
    good = counts >= 3
    q, ring_of = q[good[ring_of]], ring_of[good[ring_of]]
    key = (q[:, 0] << 32) + q[:, 1]
    ukey, pid = np.unique(key, return_inverse=True)
    uniq = np.column_stack([ukey >> 32, ukey & 0xFFFFFFFF])
    rings = np.flatnonzero(good)
    offsets = np.concatenate([[0], np.cumsum(counts[good])])
    # ring → polygon → feature
    poly_of_ring = np.repeat(np.arange(len(poly_off) - 1), np.diff(poly_off))
    multi_of_poly = np.repeat(np.arange(len(multi_off) - 1), np.diff(multi_off))
    first_ring = np.zeros(len(ring_off) - 1, dtype=bool)
    first_ring[poly_off[:-1][np.diff(poly_off) > 0]] = True
    poly = poly_of_ring[rings]
    owners = np.column_stack([feat_of[multi_of_poly[poly]], poly, first_ring[rings]])
    return uniq, pid.ravel(), offsets, owners


def _ragged(geoms: np.ndarray) -> tuple[Any, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Coordinates and offsets of polygons and multipolygons, all read as multipolygons."""
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if len(offsets) == 2:  # polygons only: each is a multipolygon of one
        offsets = (*offsets, np.arange(len(offsets[1])))
    return kind, coords, offsets


def build_topology(geoms: Sequence[Any] | np.ndarray) -> Topology:
    """Quantise polygons (EPSG:4326) and cut their rings into shared arcs.

    Parameters
    ----------
    geoms
        Polygons or multipolygons, one per feature (a coverage: neighbours share their boundary vertices).

    Returns
    -------
    Topology
        Arcs, polygons as arc references, and the features on each side of every arc.
    """
    n_features = len(geoms)
    polys: list[list[list[list[int]]]] = [[] for _ in range(n_features)]
    if n_features == 0:
        return Topology([], polys, [])
    uniq, pid, off, owners = _ring_ids(geoms)
    if len(pid) == 0:
        return Topology([], polys, [])
    # junctions: points whose neighbours differ between the rings that pass through them
    idx = np.arange(len(pid))
    ring_of = np.repeat(np.arange(len(off) - 1), np.diff(off))
    start, end = off[:-1][ring_of], off[1:][ring_of] - 1
    prev = pid[np.where(idx == start, end, idx - 1)]
    nxt = pid[np.where(idx == end, start, idx + 1)]
    lo, hi = np.minimum(prev, nxt), np.maximum(prev, nxt)
    order = np.lexsort((hi, lo, pid))
    t = np.stack([pid[order], lo[order], hi[order]], axis=1)
    distinct = np.ones(len(t), dtype=bool)
    distinct[1:] = np.any(t[1:] != t[:-1], axis=1)
    junction = np.bincount(t[distinct, 0], minlength=len(uniq)) > 1

    # arcs are keyed by their ends, second points and length, and compared in full only on a hit
    index: dict[tuple[int, int, int, int, int], int] = {}
    arc_ids: list[tuple[int, ...]] = []
    sides: list[list[int]] = []

    def ref(ids: tuple[int, ...], feature: int) -> int:
        k = (ids[0], ids[1], ids[-2], ids[-1], len(ids))
        hit = index.get(k)
        if hit is not None and arc_ids[hit] == ids:
            if sides[hit][-1] != feature:
                sides[hit].append(feature)
            return hit
        back = index.get((ids[-1], ids[-2], ids[1], ids[0], len(ids)))
        if back is not None and arc_ids[back] == ids[::-1]:
            if sides[back][-1] != feature:
                sides[back].append(feature)
            return ~back
        index.setdefault(k, len(arc_ids))
        arc_ids.append(ids)
        sides.append([feature])
        return len(arc_ids) - 1

    jpos = np.flatnonzero(junction[pid])
    jcut = np.searchsorted(jpos, off).tolist()
    jpos_list = jpos.tolist()
    pid_list = pid.tolist()
    own = owners.tolist()
    offs = off.tolist()
    current: tuple[int, int] | None = None
    for r in range(len(offs) - 1):
        f, poly, exterior = own[r]
        a, b = offs[r], offs[r + 1]
        ring = pid_list[a:b]
        cuts = jpos_list[jcut[r]:jcut[r + 1]]
        if not cuts:  # no junction (an island, or a hole filled by one neighbour): one closed arc from its
            m = ring.index(min(ring))  # smallest point, so a neighbour's reversed ring matches it
            rr = ring[m:] + ring[:m]
            refs = [ref((*rr, rr[0]), f)]
        else:
            c0 = cuts[0] - a
            rr = ring[c0:] + ring[:c0]
            rr.append(rr[0])
            cut = [c - a - c0 for c in cuts] + [len(ring)]
            refs = [ref(tuple(rr[x:y + 1]), f) for x, y in itertools.pairwise(cut)]
        if exterior or current != (f, poly):
            polys[f].append([])
            current = (f, poly)
        polys[f][-1].append(refs)
    flat = np.fromiter(itertools.chain.from_iterable(arc_ids), dtype=np.int64)
    arcs = np.split(uniq[flat], np.cumsum([len(x) for x in arc_ids])[:-1]) if arc_ids else []
    return Topology(arcs, polys, sides)


def outlines(topo: Topology, group: Sequence[Any], *, skip: Any = None) -> dict[Any, list[int]]:
    """Arcs outlining each group of features: those with the group on one side only.

    Parameters
    ----------
    topo
        From :func:`build_topology`.
    group
        The group of each feature (e.g. Core20 or not, the PCN whose footprint it is in).
    skip
        A group value that gets no outline (e.g. ``False`` for "not Core20", ``None`` for no footprint).

    Returns
    -------
    dict
        Group → indices of the arcs on its boundary (shared by two groups, an arc is in both).
    """
    out: dict[Any, list[int]] = {}
    for i, s in enumerate(topo.sides):
        gs = [group[f] for f in s]
        for g in set(gs):
            if g == skip or (g is None and skip is None):
                continue
            if gs.count(g) == 1:  # the group is on one side of this arc only
                out.setdefault(g, []).append(i)
    return out


def decode(data: dict[str, Any]) -> tuple[list[np.ndarray], list[Any]]:
    """Decode :meth:`Topology.to_json` as the page does: each arc's coordinates, and each feature's polygon.

    Returns
    -------
    arcs, polygons
        Arcs as ``(n, 2)`` arrays of longitude, latitude; one shapely geometry per feature (``None`` if empty).
    """
    x0, y0, step = data["q"]
    d = np.cumsum(np.asarray(unpack(data["d"], signed=True), dtype=np.int64).reshape(-1, 2), axis=0)
    xy = np.column_stack([x0 + d[:, 0] * step, y0 + d[:, 1] * step])
    bounds = np.cumsum([0, *unpack(data["n"])])
    arcs = [xy[a:b] for a, b in itertools.pairwise(bounds)]
    if "pf" not in data:
        return arcs, []
    codes, refs, prev = unpack(data["pi"]), [], 0
    for c in codes:
        zz = c >> 1
        prev += (zz >> 1) ^ -(zz & 1)
        refs.append(~prev if c & 1 else prev)
    it_refs, it_pa, it_pr = iter(refs), iter(unpack(data["pa"])), iter(unpack(data["pr"]))

    def ring() -> np.ndarray:
        pts: list[np.ndarray] = []
        for _ in range(next(it_pa)):
            r = next(it_refs)
            a = arcs[~r][::-1] if r < 0 else arcs[r]
            pts.append(a if not pts else a[1:])
        return np.concatenate(pts)

    geoms = []
    for n_polys in unpack(data["pf"]):
        polys = []
        for _ in range(n_polys):
            rings = [ring() for _ in range(next(it_pr))]
            polys.append(shapely.Polygon(rings[0], rings[1:]))
        geoms.append(shapely.MultiPolygon(polys) if polys else None)
    return arcs, geoms
