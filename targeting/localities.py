"""Localities for an ICB's outreach: PCN footprints, merged with neighbours where one is too small for a connector.

Each connector works in one locality. A locality is a PCN's *indicative* footprint (the LSOAs where it holds most
registered residents), or several neighbouring footprints where one holds too little work for one connector of its
own. Connectors are shared among localities in proportion to their Core20 households (then their PLUS households),
by largest remainder.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["LOCALITY_COLUMNS", "allocate_connectors", "build_localities"]

#: Columns of the locality table (one row per locality).
LOCALITY_COLUMNS = ["locality", "locality_name", "pcn_codes", "connectors", "core20_households", "plus_households",
                    "target_households", "lsoas", "lsoa_codes"]


def allocate_connectors(weights: np.ndarray, connectors: int, *, tie: np.ndarray | None = None) -> np.ndarray:
    r"""Share whole connectors in proportion to ``weights`` by largest remainder (Hamilton's method).

    Parameters
    ----------
    weights
        Non-negative need of each locality (its Core20 households).
    connectors
        Connectors to share.
    tie
        Breaks equal remainders: the larger value first (e.g. PLUS households); then the earlier locality.

    Returns
    -------
    numpy.ndarray
        Whole numbers summing to ``connectors`` (all zero when every weight is zero).

    Notes
    -----
    Quota :math:`q_i = N w_i / \sum_j w_j`; each locality gets :math:`\lfloor q_i \rfloor`, and the
    :math:`N - \sum_i \lfloor q_i \rfloor` connectors left go one each to the largest remainders
    :math:`q_i - \lfloor q_i \rfloor`.
    """
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    if total <= 0 or connectors <= 0:
        return np.zeros(len(w), dtype=np.int64)
    q = connectors * w / total
    base = np.floor(q + 1e-9).astype(np.int64)
    left = int(connectors - base.sum())
    t = np.zeros(len(w)) if tie is None else np.asarray(tie, dtype=float)
    order = np.lexsort((np.arange(len(w)), -t, -np.round(q - base, 12)))
    base[order[:left]] += 1
    return base


def build_localities(lsoas: pd.DataFrame, adjacency: pd.DataFrame, *, connectors: int,
                     pcn_names: dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Group an area's LSOAs into localities and give each its connectors.

    Parameters
    ----------
    lsoas
        Every LSOA of the area: ``lsoa_code``, ``pcn_code`` (its indicative footprint; may be missing),
        ``target``, ``core20``, ``plus``, ``households``, ``priority_rank``, ``x``, ``y`` (EPSG:27700).
    adjacency
        Shared-boundary pairs over all the area's LSOAs (:func:`targeting.patches.lsoa_adjacency`).
    connectors
        Connectors to share.
    pcn_names
        PCN code → name, for the localities' names.

    Returns
    -------
    (pandas.DataFrame, pandas.Series)
        The localities (:data:`LOCALITY_COLUMNS`), in the order of their highest-priority target (so locality 1
        holds the area's first target), and each LSOA's locality id (``L01``…), indexed by LSOA code.

    Notes
    -----
    Need is a footprint's Core20 target households; where the area has none, its PLUS target households; where
    it has neither, all its target households. While a footprint with targets would get less than one
    connector (quota below 1), the smallest (least need, then code) is merged with the neighbour of least need
    among those it shares a boundary with (else the nearest by centre), so localities stay contiguous where the
    footprints are. LSOAs with no footprint join the footprint of their nearest LSOA; footprints without targets
    join a neighbour too, so every LSOA has a locality. Connectors are then shared by :func:`allocate_connectors`
    (ties: more PLUS households first).
    """
    t = lsoas.reset_index(drop=True)
    codes = t["lsoa_code"].to_numpy(dtype=object)
    xy = t[["x", "y"]].to_numpy(dtype=float)
    pcn = _footprints(t, xy)
    target = t["target"].to_numpy(dtype=bool)
    hh = t["households"].to_numpy(dtype=float)
    core = target & t["core20"].to_numpy(dtype=bool)
    plus = target & ~core & t["plus"].to_numpy(dtype=bool)
    groups = sorted(set(pcn))
    gid = {g: i for i, g in enumerate(groups)}
    g_of = np.array([gid[p] for p in pcn])
    n = len(groups)
    w_core = np.bincount(g_of, weights=hh * core, minlength=n)
    w_plus = np.bincount(g_of, weights=hh * plus, minlength=n)
    w_all = np.bincount(g_of, weights=hh * target, minlength=n)
    need = w_core if w_core.sum() > 0 else (w_plus if w_plus.sum() > 0 else w_all)
    gx = np.array([xy[g_of == i].mean(axis=0) for i in range(n)])
    touch = _touching(adjacency, codes, g_of, n)
    members, size, plus_of, label = _merge_small(groups, gx, touch, need, w_plus, w_all, connectors)
    keys = list(members)
    first = {}
    rank = t["priority_rank"].to_numpy(dtype=float)
    for k in keys:
        idx = np.flatnonzero(np.isin(g_of, members[k]) & target)
        first[k] = float(rank[idx].min()) if len(idx) else math.inf
    keys.sort(key=lambda k: (first[k], label[k]))
    alloc = allocate_connectors(np.array([size[k] for k in keys]), connectors,
                                tie=np.array([plus_of[k] for k in keys]))
    if alloc.sum() == 0 and keys:
        alloc[0] = connectors
    names = pcn_names or {}
    width = max(2, len(str(len(keys))))
    rows, of_lsoa = [], {}
    for i, k in enumerate(keys):
        lid = f"L{i + 1:0{width}d}"
        pcns = sorted(groups[m] for m in members[k])
        in_it = np.isin(g_of, members[k])
        first_pcn = min(pcns, key=lambda p: (-float(w_core[gid[p]] + w_plus[gid[p]]), p))
        shown = f"{names.get(first_pcn, first_pcn)} ({first_pcn})" if first_pcn != "area" else "the whole area"
        if len(pcns) > 1:
            shown += f" and {len(pcns) - 1} neighbouring PCN footprint{'s' if len(pcns) > 2 else ''}"
        rows.append({"locality": lid, "locality_name": shown, "pcn_codes": ";".join(pcns),
                     "connectors": int(alloc[i]),
                     "core20_households": round(float(np.sum(hh[in_it & core]))),
                     "plus_households": round(float(np.sum(hh[in_it & plus]))),
                     "target_households": round(float(np.sum(hh[in_it & target]))),
                     "lsoas": int(in_it.sum()), "lsoa_codes": list(codes[in_it])})
        of_lsoa.update(dict.fromkeys(codes[in_it], lid))
    table = pd.DataFrame(rows, columns=LOCALITY_COLUMNS)
    return table, pd.Series(of_lsoa, dtype=object, name="locality")


def _footprints(t: pd.DataFrame, xy: np.ndarray) -> np.ndarray:
    """Each LSOA's footprint: its PCN, else the PCN of its nearest LSOA with one (``"area"`` when none has one)."""
    pcn = t["pcn_code"].astype(object).where(t["pcn_code"].notna(), None).to_numpy(dtype=object)
    have = np.array([p is not None for p in pcn])
    if not have.any():
        pcn = np.array(["area"] * len(t), dtype=object)
    elif not have.all():  # an LSOA no PCN holds most of: the footprint of its nearest LSOA
        ref = np.flatnonzero(have)
        for i in np.flatnonzero(~have):
            pcn[i] = pcn[ref[np.argmin(np.hypot(*(xy[ref] - xy[i]).T))]]
    return pcn


def _touching(adjacency: pd.DataFrame, codes: np.ndarray, g_of: np.ndarray, n: int) -> list[set[int]]:
    """The footprints each of the ``n`` footprints shares a boundary with (``g_of``: each LSOA's footprint)."""
    pos = pd.Series(np.arange(len(codes)), index=codes)
    a = pos.reindex(adjacency["lsoa_code"].to_numpy()).to_numpy()
    b = pos.reindex(adjacency["neighbour_code"].to_numpy()).to_numpy()
    ok = ~(np.isnan(a) | np.isnan(b))
    pairs = {(int(g_of[int(i)]), int(g_of[int(j)])) for i, j in zip(a[ok], b[ok], strict=True)}
    touch: list[set[int]] = [set() for _ in range(n)]
    for i, j in pairs:
        if i != j:
            touch[i].add(j)
            touch[j].add(i)
    return touch


def _merge_small(groups: list[str], gx: np.ndarray, touch: list[set[int]], need: np.ndarray, w_plus: np.ndarray,
                 w_all: np.ndarray, connectors: int) -> tuple[dict[int, list[int]], dict[int, float],
                                                              dict[int, float], dict[int, str]]:
    """Merge footprints into localities (see :func:`build_localities`'s notes).

    Returns each locality's footprints (keyed by one of them), its need, its PLUS households and its label.
    """
    n = len(groups)
    parent = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    size = {i: float(need[i]) for i in range(n)}
    plus_of = {i: float(w_plus[i]) for i in range(n)}
    work = {i: float(w_all[i]) for i in range(n)}
    centre = {i: gx[i] for i in range(n)}
    label = {i: groups[i] for i in range(n)}

    def merge(small: int) -> None:
        near = {parent[j] for j in touch[small]} - {small}
        if not near:  # an island: the nearest locality by centre
            others = [k for k in members if k != small]
            near = {min(others, key=lambda k: (float(np.hypot(*(centre[k] - centre[small]))), label[k]))}
        into = min(near, key=lambda k: (size[k], label[k]))
        for m in members.pop(small):
            parent[m] = into
            members[into].append(m)
        for d in (size, plus_of, work):
            d[into] += d.pop(small)
        centre[into] = gx[members[into]].mean(axis=0)
        touch[into] = (touch[into] | touch[small]) - {into, small}
        for k in members:
            if small in touch[k]:
                touch[k] = (touch[k] - {small}) | ({into} if k != into else set())
        label.pop(small)

    total = sum(size.values())
    while len(members) > 1:
        # footprints with no target at all join a neighbour first; then any with less need than one connector
        idle = [k for k in members if work[k] <= 0]
        if idle:
            merge(min(idle, key=lambda k: label[k]))
            continue
        if total <= 0:
            break
        small = min(members, key=lambda k: (size[k], label[k]))
        if connectors * size[small] / total >= 1 - 1e-9:
            break
        merge(small)
    return members, size, plus_of, label
