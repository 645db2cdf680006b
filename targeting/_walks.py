"""How :mod:`targeting.rounds` walks postcodes and cuts them into pieces (private to it).

:class:`Cutter` cuts a stream of postcodes into pieces of about a capacity in households; :class:`Walker` walks
target LSOAs in priority order as chains of neighbours and feeds their postcodes to a cutter (steps 1–3 of the
notes of :mod:`targeting.rounds`). Distances are EPSG:27700 metres.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

#: Metres: a round that joins two neighbourhoods keeps all its stops within this distance of one another.
MAX_SPAN = 3000.0


def nn_path(xy: np.ndarray, start: int) -> np.ndarray:
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



class Cutter:
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


class Walker:
    """Walks target LSOAs as chains of neighbours in priority order and feeds their postcodes to a cutter.

    See :func:`targeting.rounds.build_rounds`. ``lsoas`` are in priority order (row 0 first) with ``lsoa_code``,
    ``tier``, ``x``, ``y``; ``pc`` are their postcodes with households and a grid reference. After
    :meth:`walk_chains`, ``lsoa_seq`` holds the order in which LSOAs were first walked, ``member`` the chain that
    took each LSOA as a member and ``top_ups`` the households of an LSOA walked only to finish another's round.
    """

    def __init__(self, lsoas: pd.DataFrame, pc: pd.DataFrame, adjacency: pd.DataFrame, cut: Cutter):
        self.cut = cut
        self.n = n = len(lsoas)
        self.codes = codes = lsoas["lsoa_code"].to_numpy(dtype=object)
        self.centre = lsoas[["x", "y"]].to_numpy(dtype=float)
        self.lsoa_seq: dict[str, int] = {}
        self.member: dict[str, int] = {}
        self.top_ups: dict[str, int] = {}
        pos = pd.Series(np.arange(n), index=codes)
        self.neighbours = self._same_tier_neighbours(lsoas["tier"].to_numpy(), pos, adjacency)
        self.xy = pc[["easting", "northing"]].to_numpy(dtype=float)
        self.hh = pc["households_est"].to_numpy(dtype=np.int64)
        self.remaining: list[np.ndarray] = [np.array([], dtype=int)] * n
        pc_codes = pc["lsoa_code"].to_numpy(dtype=object)
        order = np.argsort(pc_codes, kind="stable")
        bounds = np.flatnonzero(np.r_[True, pc_codes[order][1:] != pc_codes[order][:-1], True])
        for a, b in itertools.pairwise(bounds):
            code = pc_codes[order[a]]
            if code in pos.index:
                self.remaining[int(pos[code])] = order[a:b]
        self.where = np.zeros(2)
        self.started = False

    def _same_tier_neighbours(self, tier: np.ndarray, pos: pd.Series, adjacency: pd.DataFrame) -> list[list[int]]:
        """Each LSOA's neighbours (row numbers) in its own priority tier."""
        adj = adjacency[adjacency["lsoa_code"].isin(pos.index) & adjacency["neighbour_code"].isin(pos.index)]
        neighbours: list[list[int]] = [[] for _ in range(self.n)]
        ax = pos.reindex(adj["lsoa_code"].to_numpy()).to_numpy(dtype=int)
        ay = pos.reindex(adj["neighbour_code"].to_numpy()).to_numpy(dtype=int)
        for x, y in zip(ax, ay, strict=True):
            if tier[x] == tier[y]:
                neighbours[x].append(int(y))
        return neighbours

    def free(self, k: int) -> bool:
        """Whether LSOA ``k`` still has postcodes to walk."""
        return len(self.remaining[k]) > 0

    def _path(self, k: int, *, first: bool) -> np.ndarray:
        """LSOA ``k``'s postcodes left, by nearest neighbour from the one nearest where the walk is.

        A chain's first LSOA starts at the postcode farthest from its free neighbours.
        """
        rows = self.remaining[k]
        xy = self.xy[rows]
        if first or not self.started:
            nb = [m for m in self.neighbours[k] if self.free(m)]
            ref = self.centre[nb].mean(axis=0) if nb else self.centre[k]
            start = int(np.argmax(np.hypot(xy[:, 0] - ref[0], xy[:, 1] - ref[1])))
        else:
            start = int(np.argmin(np.hypot(xy[:, 0] - self.where[0], xy[:, 1] - self.where[1])))
        return rows[nn_path(xy, start)]

    def walk(self, k: int, chain: int, *, first: bool) -> int:
        """Walk all of LSOA ``k``'s postcodes left as a member of ``chain``; the households walked."""
        path = self._path(k, first=first)
        self.lsoa_seq.setdefault(self.codes[k], len(self.lsoa_seq))
        self.member[self.codes[k]] = chain
        for r in path:
            self.cut.emit(int(r), int(self.hh[r]), chain, (self.xy[r, 0], self.xy[r, 1]), self.codes[k])
            self.where, self.started = self.xy[r], True
        self.remaining[k] = np.array([], dtype=int)
        return int(self.hh[path].sum())

    def top_up(self, k: int, chain: int) -> int:
        """Finish the short round under way in LSOA ``k``; the households walked.

        Only whole postcodes that fit the round and lie within its span; it stops once the round closes.
        """
        path = self._path(k, first=False)
        self.lsoa_seq.setdefault(self.codes[k], len(self.lsoa_seq))
        cut, piece, took = self.cut, self.cut.p, []
        for r in path:
            p_xy = (self.xy[r, 0], self.xy[r, 1])
            if not cut.fits(int(self.hh[r]), p_xy, self.codes[k]):
                continue
            cut.emit(int(r), int(self.hh[r]), chain, p_xy, self.codes[k])
            took.append(r)
            self.where, self.started = self.xy[r], True
            if cut.p != piece:
                break
        self.remaining[k] = path[~np.isin(path, took)]
        return int(self.hh[took].sum()) if took else 0

    def _next_neighbour(self, members: list[int]) -> int | None:
        cand = [m for m in self.neighbours[members[-1]] if self.free(m)]
        if not cand:
            cand = sorted({m for q in members for m in self.neighbours[q] if self.free(m)})
        return min(cand) if cand else None  # lowest row = highest priority

    def _next_free(self, after: int) -> int | None:
        return next((k for k in range(after, self.n) if self.free(k)), None)

    def walk_chains(self, chain_cap: float) -> None:
        """Walk every LSOA's postcodes as chains of neighbours, each up to ``chain_cap`` households."""
        chain = 0
        for seed in range(self.n):  # rows are in priority order, so the first LSOA with postcodes left is the seed
            while self.free(seed):
                members = [seed]
                near = set(self.neighbours[seed])  # the neighbours of every member (same tier)
                total = self.walk(seed, chain, first=True)
                while True:
                    # A chain grows only into the next LSOA in priority order, when it touches the chain; a round
                    # it leaves short is finished there if it touches, else in the best neighbour, whose other
                    # postcodes wait for their turn.
                    nxt = self._next_free(seed)
                    touching = nxt is not None and nxt in near
                    if touching and total < chain_cap:
                        members.append(nxt)
                        near.update(self.neighbours[nxt])
                        total += self.walk(nxt, chain, first=False)
                        continue
                    nb = nxt if touching else self._next_neighbour(members)
                    if nb is not None and 0 < self.cut.s < self.cut.lo:
                        took = self.top_up(nb, chain)
                        if took:
                            self.top_ups[self.codes[nb]] = self.top_ups.get(self.codes[nb], 0) + took
                    break
                chain += 1
