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

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from targeting._walks import Cutter, Walker, nn_path

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
    path = nn_path(xy, start)
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


#: Why a round is short, in words for the sheets (keys of :attr:`Rounds.pieces` ``short``).
SHORT_WORDS = {
    "far": "the next target postcodes are more than 3 km from its stops, and a round that joins two "
           "neighbourhoods keeps all its stops within 3 km of one another",
    "end": "it holds the last target households of its locality",
    "whole": "the next postcode holds too many households to fit it whole, and a postcode is not split "
             "between rounds",
}


def _finish(pc: pd.DataFrame, cut: Cutter, lsoa_seq: dict[str, int], *, walk_pieces: int | None,
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
    cut = Cutter(capacity, tolerance)
    if lsoas.empty or pc.empty:
        return _finish(pc, cut, {}, walk_pieces=walk_pieces)
    walker = Walker(lsoas.reset_index(drop=True), pc, adjacency, cut)
    walker.walk_chains(chain_cap)
    cut.finish()
    out = _finish(pc, cut, walker.lsoa_seq, walk_pieces=walk_pieces)
    first = out.stops.drop_duplicates("lsoa_code").set_index("lsoa_code")["chain"].to_dict()
    out.lsoa_chain = {**first, **walker.member}  # an LSOA only ever finished off keeps the chain that did it
    out.top_ups = walker.top_ups
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
    cut = Cutter(capacity, tolerance)
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
