"""Postcode rounds a connector can walk: monthly campaign rounds and standing caseload neighbourhoods.

The unit people walk and write on a list is the postcode (about 15 households). Target LSOAs are put into a
walking sequence of postcodes, in priority order but keeping neighbouring LSOAs together, and the sequence is
cut into pieces of about the capacity in households:

* **campaign**: each piece is one connector's round for one month (each target household is visited once);
* **caseload**: each piece is a standing neighbourhood that one worker visits every month.

Steps (all distances in EPSG:27700 metres):

1. *Chains*. Target LSOAs are taken in priority order (:func:`targeting.priority.priority_order`). A chain starts
   at the highest-priority LSOA not yet in one and grows into the next LSOA in priority order while that LSOA is
   a neighbour (shared boundary) of its last LSOA, else of any of its LSOAs, until it holds ``chain_cap``
   households. So LSOAs are walked in priority order, and neighbours that follow each other in that order are
   walked as one patch. If the round under way is left short when a chain ends, the chain finishes it in its
   highest-priority neighbour, which is split: only those households go ahead of their turn, and the LSOA's
   other postcodes wait for it. Chains never mix priority tiers (Core20, then other PLUS, then other targets),
   so in the default order every Core20 household comes before any other.
2. *Postcodes*. In each LSOA the postcodes are ordered by nearest neighbour from the one nearest where the walk
   is (the first LSOA of a chain starts at the postcode farthest from its free neighbours).
3. *Cut*. The sequence is cut into pieces of ``capacity`` households within ``tolerance``: a piece closes once
   it reaches the capacity, or before a postcode that would take it above ``capacity × (1 + tolerance)``; a
   postcode is split between two pieces only when closing would leave a piece below ``capacity ×
   (1 − tolerance)`` (e.g. a postcode holding more households than a round). A piece closes early at the end
   of a chain when it is already within tolerance, so rounds only join two chains to avoid idling.
4. *Walking order*. Each piece's postcodes are put in walking order by nearest neighbour then 2-opt.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["MODES", "RoundPlan", "Rounds", "assign_pieces", "build_rounds", "cut_rounds", "plan_rounds",
           "walking_order"]

MODES = ("campaign", "caseload")


@dataclass
class Rounds:
    """Pieces of a postcode sequence: campaign rounds or caseload neighbourhoods.

    Attributes
    ----------
    stops
        One row per postcode (or part of one) in a piece: ``piece`` (0-based, in priority order), ``stop``
        (1-based walking order), ``postcode``, ``lsoa_code``, ``households_est`` (about; this piece's part),
        ``postcode_households`` (the whole postcode's estimate), ``easting``, ``northing``, ``chain``.
    pieces
        One row per piece: ``piece``, ``households``, ``postcodes``, ``lsoas`` (codes joined with ';'),
        ``chains`` (how many chains it joins; more than 1 means it tops up from a second area).
    lsoa_chain
        The chain each LSOA belongs to: the one that took it as a member (a chain only finishing a round in
        a neighbouring LSOA does not take it), so every chain's LSOAs are contiguous.
    top_ups
        Households of an LSOA walked before its turn, only to finish a round of a higher-priority neighbour.
    """

    stops: pd.DataFrame
    pieces: pd.DataFrame
    lsoa_chain: dict[str, int] | None = None
    top_ups: dict[str, int] = field(default_factory=dict)


def _nn_path(xy: np.ndarray, start: int) -> np.ndarray:
    """Nearest-neighbour path through points from ``start``."""
    n = len(xy)
    order = np.empty(n, dtype=int)
    left = np.ones(n, dtype=bool)
    cur = start
    for i in range(n):
        order[i] = cur
        left[cur] = False
        if i == n - 1:
            break
        d = np.where(left, np.hypot(xy[:, 0] - xy[cur, 0], xy[:, 1] - xy[cur, 1]), np.inf)
        cur = int(np.argmin(d))
    return order


def walking_order(xy: np.ndarray, *, start: int = 0, passes: int = 20) -> np.ndarray:
    """Order points into a short open walk: nearest neighbour from ``start``, then 2-opt (either end may move).

    Parameters
    ----------
    xy
        Points in metres (EPSG:27700), shape (n, 2).
    start
        Index where the nearest-neighbour walk starts (2-opt may then reverse the head of the walk).
    passes
        Most 2-opt passes.

    Returns
    -------
    numpy.ndarray
        Indices of ``xy`` in walking order.

    Notes
    -----
    2-opt reverses a stretch ``i..j`` of the path whenever that shortens it: for an open path the change is
    :math:`d(p_{i-1}, p_j) + d(p_i, p_{j+1}) - d(p_{i-1}, p_i) - d(p_j, p_{j+1})`, where a term with
    :math:`p_{-1}` or :math:`p_n` is 0 (reversing a head or a tail of the walk).
    """
    n = len(xy)
    if n <= 2:
        return np.r_[start, [i for i in range(n) if i != start]].astype(int)
    path = _nn_path(xy, start)
    for _ in range(passes):
        p = xy[path]
        improved = False
        for i in range(0, n - 1):  # i = 0 reverses a head of the walk, so the first stop can change too
            j = np.arange(i + 1, n)
            before = np.hypot(*(p[i - 1] - p[i])) if i else 0.0
            after_j = np.where(j < n - 1, np.hypot(*(p[j] - p[np.minimum(j + 1, n - 1)]).T), 0.0)
            new_a = np.hypot(*(p[i - 1] - p[j]).T) if i else np.zeros(len(j))
            new_b = np.where(j < n - 1, np.hypot(*(p[i] - p[np.minimum(j + 1, n - 1)]).T), 0.0)
            gain = before + after_j - new_a - new_b
            best = int(np.argmax(gain))
            if gain[best] > 1e-6:
                jj = j[best]
                path[i:jj + 1] = path[i:jj + 1][::-1]
                p = xy[path]
                improved = True
        if not improved:
            break
    return path


class _Cutter:
    """Cuts a stream of postcodes into pieces of about ``capacity`` households (see the module notes)."""

    def __init__(self, capacity: float, tolerance: float):
        self.capacity, self.lo, self.hi = capacity, capacity * (1 - tolerance), capacity * (1 + tolerance)
        self.p = 0
        self.s = 0
        self.last_chain = -1
        self.rows: list[int] = []
        self.pieces: list[int] = []
        self.parts: list[int] = []
        self.chains: list[int] = []

    def _close(self) -> None:
        self.p, self.s = self.p + 1, 0

    def emit(self, row: int, households: int, chain: int, *, stop_on_close: bool = False) -> int:
        """Add a postcode; return the households left over when ``stop_on_close`` stopped after a closing."""
        if self.s > 0 and chain != self.last_chain and self.s >= self.lo:
            self._close()  # end of a chain: close a round that is already full enough
        self.last_chain = chain
        left = int(households)
        while left > 0:
            if self.s + left <= self.hi:
                take = left
            elif self.s >= self.lo:
                self._close()
                if stop_on_close:
                    return left
                continue
            else:
                take = math.ceil(self.capacity - self.s)
            self.rows.append(row)
            self.pieces.append(self.p)
            self.parts.append(take)
            self.chains.append(chain)
            self.s += take
            left -= take
            if self.s >= self.capacity:
                self._close()
                if stop_on_close:
                    return left
        return 0


def _finish(pc: pd.DataFrame, cut: _Cutter, lsoa_seq: dict[str, int], *, walk_pieces: int | None,
            order_walks: bool = True) -> Rounds:
    """Stops and pieces from a cutter's records, each piece put in walking order."""
    rows = np.asarray(cut.rows, dtype=int)
    piece = np.asarray(cut.pieces, dtype=int)
    part = np.asarray(cut.parts, dtype=np.int64)
    chain = np.asarray(cut.chains, dtype=int)
    if len(piece):
        piece = pd.factorize(piece)[0]  # a piece closed exactly at the end leaves no gap in the numbering
    perm = np.arange(len(rows))
    stop = np.zeros(len(rows), dtype=int)
    starts = np.flatnonzero(np.r_[True, piece[1:] != piece[:-1]]) if len(piece) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(piece)] if len(piece) else np.array([], dtype=int)
    limit = walk_pieces if walk_pieces is not None else math.inf
    xy = pc[["easting", "northing"]].to_numpy(dtype=float)[rows] if len(rows) else np.zeros((0, 2))
    for a, b in zip(starts, ends, strict=True):
        if order_walks and piece[a] < limit and b - a > 2:
            perm[a:b] = a + walking_order(xy[a:b])
        stop[a:b] = np.arange(1, b - a + 1)
    rows, piece, part, chain = rows[perm], piece[perm], part[perm], chain[perm]
    stops = pc.iloc[rows].reset_index(drop=True)
    stops = stops.rename(columns={"households_est": "postcode_households"})
    stops["households_est"] = part
    stops["piece"] = piece
    stops["stop"] = stop
    stops["chain"] = chain
    stops["lsoa_seq"] = stops["lsoa_code"].map(lsoa_seq).fillna(-1).astype(int)
    n = int(piece.max()) + 1 if len(piece) else 0
    codes = stops["lsoa_code"].to_numpy(dtype=object)
    lsoa_sets = pd.Series(codes).groupby(piece, sort=True).unique() if n else pd.Series(dtype=object)
    pieces = pd.DataFrame({
        "piece": np.arange(n), "households": np.bincount(piece, weights=part, minlength=n).astype(np.int64),
        "postcodes": np.bincount(piece, minlength=n),
        "lsoas": [";".join(v) for v in lsoa_sets.to_numpy()] if n else [],
        "chains": pd.Series(chain).groupby(piece).nunique().to_numpy() if n else np.array([], dtype=int),
    })
    return Rounds(stops=stops, pieces=pieces)


def build_rounds(lsoas: pd.DataFrame, postcodes: pd.DataFrame, adjacency: pd.DataFrame, *, chain_cap: float,
                 capacity: float, tolerance: float = 0.1, walk_pieces: int | None = None) -> Rounds:
    """Walk the target LSOAs' postcodes in priority order, keeping neighbours together, and cut them into pieces.

    Parameters
    ----------
    lsoas
        Target LSOAs in priority order: ``lsoa_code``, ``tier`` (1 Core20, 2 other PLUS, 3 other targets; a
        single tier when ordering by weighted score), ``x``, ``y``.
    postcodes
        The atlas ``postcodes`` rows of those LSOAs (``postcode``, ``lsoa_code``, ``easting``, ``northing``,
        ``households_est``). Postcodes with no households shared to them or no grid reference are left out.
    adjacency
        Shared-boundary pairs (:func:`targeting.patches.lsoa_adjacency`).
    chain_cap
        Households at which a chain of neighbouring LSOAs stops taking new LSOAs.
    capacity, tolerance
        Households per piece and the allowed relative difference (see the module notes).
    walk_pieces
        Only the first this many pieces are put in walking order (the ones given out); default all.

    Returns
    -------
    Rounds

    Notes
    -----
    A chain starts at the highest-priority LSOA with postcodes left and takes the next LSOA in priority order
    while it is a neighbour (same tier) of its last LSOA, else of any of its LSOAs. Within an LSOA the
    postcodes follow a nearest-neighbour path from the one nearest where the walk is. When the chain ends
    (``chain_cap`` reached, or the next LSOA in order is not a neighbour) with a round still short, it finishes
    that round in its highest-priority neighbour (which is then split between chains; see
    :attr:`Rounds.top_ups`), so a round joins two separate areas only where a chain has no neighbour left.
    """
    keep = (postcodes["households_est"].to_numpy() > 0) & postcodes["easting"].notna().to_numpy()
    pc = postcodes[keep].reset_index(drop=True)
    cut = _Cutter(capacity, tolerance)
    lsoa_seq: dict[str, int] = {}
    member: dict[str, int] = {}
    top_ups: dict[str, int] = {}
    if lsoas.empty or pc.empty:
        return _finish(pc, cut, lsoa_seq, walk_pieces=walk_pieces)
    lsoas = lsoas.reset_index(drop=True)
    n = len(lsoas)
    codes = lsoas["lsoa_code"].to_numpy(dtype=object)
    tier = lsoas["tier"].to_numpy()
    centre = lsoas[["x", "y"]].to_numpy(dtype=float)
    pos = pd.Series(np.arange(n), index=codes)
    adj = adjacency[adjacency["lsoa_code"].isin(pos.index) & adjacency["neighbour_code"].isin(pos.index)]
    neighbours: list[list[int]] = [[] for _ in range(n)]
    ax = pos.reindex(adj["lsoa_code"].to_numpy()).to_numpy(dtype=int)
    ay = pos.reindex(adj["neighbour_code"].to_numpy()).to_numpy(dtype=int)
    for x, y in zip(ax, ay, strict=True):
        if tier[x] == tier[y]:
            neighbours[x].append(int(y))
    xy_all = pc[["easting", "northing"]].to_numpy(dtype=float)
    left_hh = pc["households_est"].to_numpy(dtype=np.int64).copy()
    remaining: list[np.ndarray] = [np.array([], dtype=int)] * n
    pc_codes = pc["lsoa_code"].to_numpy(dtype=object)
    order = np.argsort(pc_codes, kind="stable")
    bounds = np.flatnonzero(np.r_[True, pc_codes[order][1:] != pc_codes[order][:-1], True])
    for a, b in itertools.pairwise(bounds):
        code = pc_codes[order[a]]
        if code in pos.index:
            remaining[int(pos[code])] = order[a:b]
    state = {"where": np.zeros(2), "started": False}

    def free(k: int) -> bool:
        return len(remaining[k]) > 0

    def walk(k: int, chain: int, *, first: bool, partial: bool = False) -> int:
        rows = remaining[k]
        xy = xy_all[rows]
        if first or not state["started"]:
            nb = [m for m in neighbours[k] if free(m)]
            ref = centre[nb].mean(axis=0) if nb else centre[k]
            start = int(np.argmax(np.hypot(xy[:, 0] - ref[0], xy[:, 1] - ref[1])))
        else:
            w = state["where"]
            start = int(np.argmin(np.hypot(xy[:, 0] - w[0], xy[:, 1] - w[1])))
        path = rows[_nn_path(xy, start)]
        lsoa_seq.setdefault(codes[k], len(lsoa_seq))
        if not partial:
            member[codes[k]] = chain
        done = 0
        for j, r in enumerate(path):
            hh = int(left_hh[r])
            leftover = cut.emit(int(r), hh, chain, stop_on_close=partial)
            state["where"], state["started"] = xy_all[r], True
            done += hh - leftover
            if partial and (leftover or cut.s == 0):
                left_hh[r] = leftover
                remaining[k] = path[j + (0 if leftover else 1):]
                return done
        remaining[k] = np.array([], dtype=int)
        return done

    def next_neighbour(members: list[int]) -> int | None:
        cand = [m for m in neighbours[members[-1]] if free(m)]
        if not cand:
            cand = sorted({m for q in members for m in neighbours[q] if free(m)})
        return min(cand) if cand else None  # lowest row = highest priority

    def next_free(after: int) -> int | None:
        return next((k for k in range(after, n) if free(k)), None)

    chain = 0
    for seed in range(n):  # rows are in priority order, so the first LSOA with postcodes left is the best seed
        while free(seed):
            members = [seed]
            near = set(neighbours[seed])  # the neighbours of every member (same tier)
            total = walk(seed, chain, first=True)
            while True:
                # A chain grows only into the next LSOA in priority order, when it touches the chain; a round it
                # leaves short is finished there if it touches, else in the best neighbour, whose other
                # postcodes wait for their turn.
                nxt = next_free(seed)
                touching = nxt is not None and nxt in near
                if touching and total < chain_cap:
                    members.append(nxt)
                    near.update(neighbours[nxt])
                    total += walk(nxt, chain, first=False)
                    continue
                nb = nxt if touching else next_neighbour(members)
                if nb is not None and 0 < cut.s < cut.lo:
                    top_ups[codes[nb]] = top_ups.get(codes[nb], 0) + walk(nb, chain, first=False, partial=True)
                break
            chain += 1
    out = _finish(pc, cut, lsoa_seq, walk_pieces=walk_pieces)
    first = out.stops.drop_duplicates("lsoa_code").set_index("lsoa_code")["chain"].to_dict()
    out.lsoa_chain = {**first, **member}  # an LSOA only ever finished off keeps the chain that did it
    out.top_ups = top_ups
    return out


def cut_rounds(sequence: pd.DataFrame, *, capacity: float, tolerance: float = 0.1,
               order_walks: bool = False) -> Rounds:
    """Cut an ordered postcode sequence into pieces of about ``capacity`` households (e.g. for a scenario).

    Parameters
    ----------
    sequence
        ``postcode``, ``lsoa_code``, ``households_est``, ``chain``, ``easting``, ``northing`` in walking order.
    capacity, tolerance
        As for :func:`build_rounds`.
    order_walks
        Put each piece in walking order too.

    Returns
    -------
    Rounds
    """
    cut = _Cutter(capacity, tolerance)
    hh = sequence["households_est"].to_numpy(dtype=np.int64)
    chain = sequence["chain"].to_numpy()
    for i in range(len(sequence)):
        cut.emit(i, int(hh[i]), int(chain[i]))
    seq = {c: i for i, c in enumerate(pd.unique(sequence["lsoa_code"]))}
    return _finish(sequence.reset_index(drop=True), cut, seq, walk_pieces=None, order_walks=order_walks)


@dataclass
class RoundPlan:
    """Pieces given to connectors (campaign) or workers (caseload).

    Attributes
    ----------
    mode
        'campaign' or 'caseload'.
    sequence
        The walking sequence of every target postcode (:func:`build_rounds`, before walking order), in order.
    stops
        :attr:`Rounds.stops` plus ``connector`` and ``month`` (campaign; missing for caseload), for every piece;
        pieces nobody takes in the plan have no connector.
    pieces
        :attr:`Rounds.pieces` plus ``connector``, ``month`` and ``planned``.
    rounds_needed
        Pieces needed to reach every Core20 household (``core20``) and every Core20 and PLUS household
        (``core20plus``): in caseload mode, the workers needed.
    lsoa_chain
        :attr:`Rounds.lsoa_chain`.
    top_ups
        :attr:`Rounds.top_ups`.
    """

    mode: str
    sequence: pd.DataFrame
    stops: pd.DataFrame
    pieces: pd.DataFrame
    rounds_needed: dict[str, int]
    lsoa_chain: dict[str, int]
    top_ups: dict[str, int] = field(default_factory=dict)


def assign_pieces(n_pieces: int, *, connectors: int, months: int, mode: str) -> pd.DataFrame:
    """Give pieces (in priority order) to connectors.

    Parameters
    ----------
    n_pieces
        How many pieces there are.
    connectors
        Connectors (campaign) or workers (caseload).
    months
        Campaign horizon in whole months (ignored for caseload).
    mode
        'campaign': the first ``connectors × months`` pieces are planned; connector *c* takes a run of
        consecutive pieces (so its months follow on from each other on the ground), one a month, the runs
        differing in length by at most one. 'caseload': worker *c* takes piece *c*.

    Returns
    -------
    pandas.DataFrame
        ``piece``, ``connector`` (Int64), ``month`` (Int64; missing for caseload), ``planned``.
    """
    piece = np.arange(n_pieces)
    conn = np.full(n_pieces, -1)
    month = np.full(n_pieces, -1)
    if mode == "caseload":
        k = min(n_pieces, connectors)
        conn[:k] = np.arange(1, k + 1)
    else:
        planned = min(n_pieces, connectors * months)
        base, extra = divmod(planned, connectors)
        start = 0
        for c in range(connectors):
            size = base + (1 if c < extra else 0)
            conn[start:start + size] = c + 1
            month[start:start + size] = np.arange(1, size + 1)
            start += size
    return pd.DataFrame({"piece": piece,
                         "connector": pd.array([c if c > 0 else pd.NA for c in conn], dtype="Int64"),
                         "month": pd.array([m if m > 0 else pd.NA for m in month], dtype="Int64"),
                         "planned": conn > 0})


def plan_rounds(targets: pd.DataFrame, postcodes: pd.DataFrame, adjacency: pd.DataFrame, *, mode: str,
                connectors: int, capacity: float, months: float) -> RoundPlan:
    """Sequence the target postcodes, cut them into pieces and give the pieces out.

    Parameters
    ----------
    targets
        Target LSOAs in priority order with ``lsoa_code``, ``tier``, ``households``, ``x``, ``y``, ``core20``,
        ``plus``.
    postcodes
        Atlas ``postcodes`` rows of the target LSOAs.
    adjacency
        Shared-boundary pairs.
    mode
        'campaign' (rounds of about ``capacity`` households within 10%) or 'caseload' (neighbourhoods of about
        ``capacity`` households within 20%).
    connectors, capacity, months
        Connectors or workers, households per round or caseload, campaign horizon (whole months count).

    Returns
    -------
    RoundPlan
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    whole_months = max(1, math.floor(months + 1e-9))
    tol = 0.1 if mode == "campaign" else 0.2
    walk = connectors * whole_months if mode == "campaign" else connectors
    r = build_rounds(targets, postcodes, adjacency, chain_cap=capacity * whole_months, capacity=capacity,
                     tolerance=tol, walk_pieces=walk)
    a = assign_pieces(len(r.pieces), connectors=connectors, months=whole_months, mode=mode)
    pieces = r.pieces.merge(a, on="piece", how="left")
    stops = r.stops.merge(a, on="piece", how="left")
    flags = targets.set_index("lsoa_code")[["core20", "plus"]].astype(bool)
    stops["core20"] = stops["lsoa_code"].map(flags["core20"]).fillna(False).astype(bool)
    stops["plus"] = stops["lsoa_code"].map(flags["plus"]).fillna(False).astype(bool)
    need = {}
    for key, mask in (("core20", stops["core20"]), ("core20plus", stops["core20"] | stops["plus"])):
        hit = stops.loc[mask, "piece"]
        if mode == "caseload":
            need[key] = int(hit.nunique())
        else:
            need[key] = int(hit.max()) + 1 if len(hit) else 0
    return RoundPlan(mode=mode, sequence=r.stops.sort_values(["piece", "stop"]), stops=stops, pieces=pieces,
                     rounds_needed=need, lsoa_chain=r.lsoa_chain or {}, top_ups=r.top_ups)
