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


#: Metres: a round that joins two neighbourhoods keeps all its stops within this distance of one another.
MAX_SPAN = 3000.0

#: Why a round is short, in words for the sheets (keys of :attr:`Rounds.pieces` ``short``).
SHORT_WORDS = {
    "far": "the next target postcodes are more than 3 km from its stops, and a round that joins two "
           "neighbourhoods keeps all its stops within 3 km of one another",
    "end": "it holds the last target households of its locality",
    "whole": "the next postcode holds too many households to fit it whole, and a postcode is not split "
             "between rounds",
}


class _Cutter:
    """Cuts a stream of postcodes into pieces of about ``capacity`` households (see the module notes).

    A postcode stays in one piece unless it alone holds more than ``capacity × (1 + tolerance)`` households:
    one that does not fit a piece already within tolerance closes it; one that does not fit a piece still short
    waits (``pending``) and starts the next piece, while the postcodes after it in the same neighbourhood fill
    this one (a second that does not fit, or a move to another neighbourhood, closes it short). A postcode more
    than ``max_span`` metres from a stop of the piece closes it (short if need be), unless every stop so far is in
    the postcode's own LSOA (a wide rural LSOA is walked within itself).
    """

    def __init__(self, capacity: float, tolerance: float, max_span: float = MAX_SPAN):
        self.capacity, self.lo, self.hi = capacity, capacity * (1 - tolerance), capacity * (1 + tolerance)
        self.max_span = max_span
        self.p = 0
        self.s = 0
        self.last_chain = -1
        self.rows: list[int] = []
        self.pieces: list[int] = []
        self.parts: list[int] = []
        self.chains: list[int] = []
        self.short: dict[int, str] = {}
        self.pending: list[tuple[int, int, int, tuple[float, float], object]] = []
        self._xy: list[tuple[float, float]] = []
        self._lsoas: set = set()
        self._box = [math.inf, math.inf, -math.inf, -math.inf]
        self._wide = False  # the stops so far span more than max_span (one wide LSOA walked within itself)

    def _close(self, why: str | None = None) -> None:
        if why is not None and 0 < self.s < self.lo:
            self.short[self.p] = why
        self.p, self.s = self.p + 1, 0
        self._xy, self._lsoas = [], set()
        self._box = [math.inf, math.inf, -math.inf, -math.inf]
        self._wide = False
        waiting, self.pending = self.pending, []
        for row, hh, chain, xy, lsoa in waiting:
            self._place(row, hh, chain, xy, lsoa)

    def far(self, xy: tuple[float, float], lsoa: object) -> bool:
        """Whether a postcode at ``xy`` lies more than ``max_span`` from a stop of the piece under way."""
        if not self._xy or self._lsoas == {lsoa}:
            return False
        if self._wide:
            return True  # a round already wider than the span never joins a second neighbourhood
        x0, y0, x1, y1 = self._box
        if math.hypot(max(x1, xy[0]) - min(x0, xy[0]), max(y1, xy[1]) - min(y0, xy[1])) <= self.max_span:
            return False  # the box holding them all is small enough
        pts = np.asarray(self._xy)
        return bool(np.hypot(pts[:, 0] - xy[0], pts[:, 1] - xy[1]).max() > self.max_span)

    def fits(self, households: int, xy: tuple[float, float], lsoa: object) -> bool:
        """Whether a whole postcode can join the piece under way (within tolerance and within the span)."""
        return self.s + households <= self.hi and not (self.s > 0 and self.far(xy, lsoa))

    def _record(self, row: int, take: int, chain: int, xy: tuple[float, float], lsoa: object) -> None:
        self.rows.append(row)
        self.pieces.append(self.p)
        self.parts.append(take)
        self.chains.append(chain)
        self.s += take
        b = self._box
        self._box = [min(b[0], xy[0]), min(b[1], xy[1]), max(b[2], xy[0]), max(b[3], xy[1])]
        if not self._wide and math.hypot(self._box[2] - self._box[0], self._box[3] - self._box[1]) > self.max_span:
            pts = np.asarray(self._xy) if self._xy else np.zeros((0, 2))
            self._wide = bool(len(pts)) and bool(np.hypot(pts[:, 0] - xy[0], pts[:, 1] - xy[1]).max()
                                                 > self.max_span)
        self._xy.append(xy)
        self._lsoas.add(lsoa)

    def _place(self, row: int, households: int, chain: int, xy: tuple[float, float], lsoa: object) -> None:
        left = int(households)
        while self.s > 0:  # each close places the postcodes waiting for it first, so look again
            if self.far(xy, lsoa):
                self._close("far")
            elif self.s + left > self.hi and left <= self.hi:
                if self.s < self.lo and not self.pending:  # it would be split: it starts the next piece instead
                    self.pending.append((row, left, chain, xy, lsoa))
                    return
                self._close("whole")  # short only when a second postcode does not fit whole either
            else:
                break
        while left > 0:  # only a postcode holding more than a piece is split
            if self.s + left <= self.hi:
                take = left
            elif self.s >= self.lo:
                self._close()
                continue
            else:
                take = math.ceil(self.capacity - self.s)
            self._record(row, take, chain, xy, lsoa)
            left -= take
            if self.s >= self.capacity:
                self._close()

    def emit(self, row: int, households: int, chain: int, xy: tuple[float, float] = (0.0, 0.0),
             lsoa: object = None) -> None:
        """Add a postcode (see the class notes)."""
        if self.s > 0 and chain != self.last_chain and self.s >= self.lo:
            self._close()  # end of a chain: close a round that is already full enough
        if self.pending and (self.pending[0][2] != chain or self.pending[0][4] != lsoa):
            self._close("whole")  # the postcode waiting goes before the walk moves on to another neighbourhood
        self.last_chain = chain
        self._place(row, households, chain, xy, lsoa)

    def finish(self) -> None:
        """End of the stream: place any postcode still waiting; the last piece, if short, says why."""
        while self.pending or self.s > 0:
            self._close("end")


def _finish(pc: pd.DataFrame, cut: _Cutter, lsoa_seq: dict[str, int], *, walk_pieces: int | None,
            order_walks: bool = True) -> Rounds:
    """Stops and pieces from a cutter's records, each piece put in walking order."""
    rows = np.asarray(cut.rows, dtype=int)
    piece = np.asarray(cut.pieces, dtype=int)
    part = np.asarray(cut.parts, dtype=np.int64)
    chain = np.asarray(cut.chains, dtype=int)
    short: dict[int, str] = {}
    if len(piece):
        # a piece closed exactly at the end leaves no gap in the numbering
        piece, uniques = pd.factorize(piece)
        short = {i: cut.short[int(u)] for i, u in enumerate(uniques) if int(u) in cut.short}
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
        "short": [short.get(i, "") for i in range(n)],
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
    hh_all = pc["households_est"].to_numpy(dtype=np.int64)
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
            for r in path:
                cut.emit(int(r), int(hh_all[r]), chain, (xy_all[r, 0], xy_all[r, 1]), codes[k])
                state["where"], state["started"] = xy_all[r], True
            remaining[k] = np.array([], dtype=int)
            return int(hh_all[path].sum())
        # Finishing a short round: only whole postcodes that fit it and lie within its span; stop once it closes.
        piece, took = cut.p, []
        for r in path:
            p_xy = (xy_all[r, 0], xy_all[r, 1])
            if not cut.fits(int(hh_all[r]), p_xy, codes[k]):
                continue
            cut.emit(int(r), int(hh_all[r]), chain, p_xy, codes[k])
            took.append(r)
            state["where"], state["started"] = xy_all[r], True
            if cut.p != piece:
                break
        remaining[k] = path[~np.isin(path, took)]
        return int(hh_all[took].sum()) if took else 0

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
                    took = walk(nb, chain, first=False, partial=True)
                    if took:
                        top_ups[codes[nb]] = top_ups.get(codes[nb], 0) + took
                break
            chain += 1
    cut.finish()
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
    xy = sequence[["easting", "northing"]].to_numpy(dtype=float)
    codes = sequence["lsoa_code"].to_numpy(dtype=object)
    for i in range(len(sequence)):
        cut.emit(i, int(hh[i]), int(chain[i]), (xy[i, 0], xy[i, 1]), codes[i])
    cut.finish()
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
    months_needed
        Campaign months until every Core20 household (``core20``), and every Core20 and PLUS household
        (``core20plus``), is visited: the most any locality needs with its connectors.
    locality_months
        Locality → campaign months until its every Core20 and PLUS household is visited (0: none).
    """

    mode: str
    sequence: pd.DataFrame
    stops: pd.DataFrame
    pieces: pd.DataFrame
    rounds_needed: dict[str, int]
    lsoa_chain: dict[str, int]
    top_ups: dict[str, int] = field(default_factory=dict)
    months_needed: dict[str, int] = field(default_factory=dict)
    locality_months: dict[str, int] = field(default_factory=dict)


def assign_pieces(n_pieces: int, *, connectors: int, months: int, mode: str,
                  centres: np.ndarray | None = None) -> pd.DataFrame:
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
        'campaign': the first ``connectors × months`` pieces are planned, in calendar order: month 1 takes the
        first ``connectors`` pieces, month 2 the next, and so on, so a piece is never walked before one that comes
        before it in priority order (Core20 first in calendar time). 'caseload': worker *c* takes piece *c*.
    centres
        Each piece's centre (EPSG:27700 metres), shape (n_pieces, 2). In campaign mode, each month's pieces then
        go to the connectors whose round of the month before is nearest (one each, least total distance), so a
        connector's months follow on from each other on the ground; without it, connector *c* takes the *c*-th
        piece of every month.

    Returns
    -------
    pandas.DataFrame
        ``piece``, ``connector`` (Int64), ``month`` (Int64; missing for caseload), ``planned``.
    """
    from scipy.optimize import linear_sum_assignment

    piece = np.arange(n_pieces)
    conn = np.full(n_pieces, -1)
    month = np.full(n_pieces, -1)
    if mode == "caseload":
        k = min(n_pieces, connectors)
        conn[:k] = np.arange(1, k + 1)
    else:
        planned = min(n_pieces, connectors * months)
        last = np.zeros((connectors, 2))
        for m, a in enumerate(range(0, planned, connectors)):
            idx = np.arange(a, min(a + connectors, planned))
            who = np.arange(len(idx))
            if m and centres is not None:
                here = np.asarray(centres, dtype=float)[idx]
                cost = np.hypot(here[:, None, 0] - last[None, :, 0], here[:, None, 1] - last[None, :, 1])
                rows, cols = linear_sum_assignment(cost)
                who = cols[np.argsort(rows)]
            conn[idx] = who + 1
            month[idx] = m + 1
            if centres is not None:
                last[who] = np.asarray(centres, dtype=float)[idx]
    return pd.DataFrame({"piece": piece,
                         "connector": pd.array([c if c > 0 else pd.NA for c in conn], dtype="Int64"),
                         "month": pd.array([m if m > 0 else pd.NA for m in month], dtype="Int64"),
                         "planned": conn > 0})


def _centres(stops: pd.DataFrame, n: int) -> np.ndarray:
    """Household-weighted centre of each piece (EPSG:27700)."""
    if not n:
        return np.zeros((0, 2))
    w = stops["households_est"].to_numpy(dtype=float)
    p = stops["piece"].to_numpy()
    tot = np.bincount(p, weights=w, minlength=n)
    tot = np.where(tot > 0, tot, 1.0)
    return np.c_[np.bincount(p, weights=w * stops["easting"].to_numpy(dtype=float), minlength=n) / tot,
                 np.bincount(p, weights=w * stops["northing"].to_numpy(dtype=float), minlength=n) / tot]


def plan_rounds(targets: pd.DataFrame, postcodes: pd.DataFrame, adjacency: pd.DataFrame, *, mode: str,
                connectors: int, capacity: float, months: float,
                localities: pd.DataFrame | None = None) -> RoundPlan:
    """Sequence the target postcodes, cut them into pieces and give the pieces out, locality by locality.

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
    localities
        One row per locality, in the order connectors are numbered: ``locality``, ``connectors`` (how many work
        there) and ``lsoa_codes`` (a list). Each locality's targets are walked and given out on their own, so a
        connector never leaves its locality. Default: the whole area is one locality with every connector.

    Returns
    -------
    RoundPlan
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    whole_months = max(1, math.floor(months + 1e-9))
    tol = 0.1 if mode == "campaign" else 0.2
    if localities is None:
        localities = pd.DataFrame({"locality": [""], "connectors": [connectors],
                                   "lsoa_codes": [list(targets["lsoa_code"])]})
    flags = targets.set_index("lsoa_code")[["core20", "plus"]].astype(bool)
    parts_stops, parts_pieces, parts_seq = [], [], []
    lsoa_chain: dict[str, int] = {}
    top_ups: dict[str, int] = {}
    need = {"core20": 0, "core20plus": 0}
    months_needed = {"core20": 0, "core20plus": 0}
    locality_months: dict[str, int] = {}
    first_conn = piece0 = chain0 = seq0 = 0
    for loc, k, codes in zip(localities["locality"], localities["connectors"], localities["lsoa_codes"],
                             strict=True):
        k = int(k)
        mine = targets[targets["lsoa_code"].isin(set(codes))]
        pcs = postcodes[postcodes["lsoa_code"].isin(set(codes))]
        walk = (k * whole_months if mode == "campaign" else k) if k else 0
        r = build_rounds(mine, pcs, adjacency, chain_cap=capacity * whole_months, capacity=capacity,
                         tolerance=tol, walk_pieces=walk)
        n = len(r.pieces)
        if k:
            a = assign_pieces(n, connectors=k, months=whole_months, mode=mode, centres=_centres(r.stops, n))
            a["connector"] = a["connector"] + first_conn
        else:
            a = pd.DataFrame({"piece": np.arange(n), "connector": pd.array([pd.NA] * n, dtype="Int64"),
                              "month": pd.array([pd.NA] * n, dtype="Int64"), "planned": np.zeros(n, dtype=bool)})
        pieces = r.pieces.merge(a, on="piece", how="left")
        stops = r.stops.merge(a, on="piece", how="left")
        stops["core20"] = stops["lsoa_code"].map(flags["core20"]).fillna(False).astype(bool)
        stops["plus"] = stops["lsoa_code"].map(flags["plus"]).fillna(False).astype(bool)
        for key, mask in (("core20", stops["core20"]), ("core20plus", stops["core20"] | stops["plus"])):
            hit = stops.loc[mask, "piece"]
            if mode == "caseload":
                need[key] += int(hit.nunique())
            elif len(hit):
                need[key] += int(hit.max()) + 1
                here = math.ceil((int(hit.max()) + 1) / max(k, 1))
                months_needed[key] = max(months_needed[key], here)
                if key == "core20plus":
                    locality_months[str(loc)] = here
        for frame in (stops, pieces):
            frame["piece"] += piece0
            frame["locality"] = loc
        stops["chain"] += chain0
        stops["lsoa_seq"] = np.where(stops["lsoa_seq"] >= 0, stops["lsoa_seq"] + seq0, -1)
        seq = r.stops.assign(piece=r.stops["piece"] + piece0, chain=r.stops["chain"] + chain0)
        parts_stops.append(stops)
        parts_pieces.append(pieces)
        parts_seq.append(seq.sort_values(["piece", "stop"]))
        lsoa_chain.update({c: ch + chain0 for c, ch in (r.lsoa_chain or {}).items()})
        for c, v in r.top_ups.items():
            top_ups[c] = top_ups.get(c, 0) + v
        piece0 += n
        chain0 += int(r.stops["chain"].max()) + 1 if len(r.stops) else 0
        first_conn += k
        seq0 += int(r.stops["lsoa_seq"].max()) + 1 if len(r.stops) else 0
    stops = pd.concat(parts_stops, ignore_index=True)
    pieces = pd.concat(parts_pieces, ignore_index=True)
    sequence = pd.concat(parts_seq, ignore_index=True)
    return RoundPlan(mode=mode, sequence=sequence, stops=stops, pieces=pieces, rounds_needed=need,
                     lsoa_chain=lsoa_chain, top_ups=top_ups, months_needed=months_needed,
                     locality_months=locality_months)
