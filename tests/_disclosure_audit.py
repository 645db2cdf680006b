"""An exact feasibility audit of published tables: what can a reader work out about each withheld cell?

Every count a session publishes is turned into integer constraints on the true counts, as a reader who knows the
rule would: a count shown as ``s`` under round-to-``k`` means the true count ``c`` had ``s - k/2 <= c < s + k/2``
and was not in the withheld range (so 100 under round-to-5 means 98..102, and 0 means 0); a withheld cell (``*``)
may be small (primary) or of any size (secondary), so it says only ``c >= 0``; sums across levels (a PCN is the
sum of its practices, All = Core20 + Rest, ...) are equalities on the true counts; a numerator never exceeds its
denominator. A rate or limit that is not simply recomputed from the published counts is a claim about the true
counts and is added too: a value ``v`` to ``d`` decimals says ``(v - h) N <= m X <= (v + h) N`` with
``h = 0.5 * 10**-d``, linear in the counts. ``scipy.optimize.milp`` then minimises and maximises every withheld
cell, and looks for a third value between the two: a cell with fewer than three feasible values is disclosed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

BIG = 10_000_000


def shown_interval(s: float, rule) -> tuple[int, int]:
    """The true counts that publish as ``s`` under ``rule`` (the hull, when the withheld range splits it)."""
    k = rule.round_to
    lo, hi = math.ceil(s - k / 2), math.ceil(s + k / 2) - 1
    lo = max(lo, 0)
    below = (lo, min(hi, math.ceil(rule.low) - 1))
    above = (max(lo, math.floor(rule.high) + 1), hi)
    parts = [p for p in (below, above) if p[0] <= p[1]]
    if not parts:
        raise AssertionError(f"{s} cannot be published under {rule}")
    return parts[0][0], parts[-1][1]


@dataclass
class Audit:
    """Integer unknowns ``x_i`` (numerators) and ``n_i`` (denominators) of ``rows`` units, and what is published."""

    rows: int
    rule: object
    proportion: bool = True
    a: list[np.ndarray] = field(default_factory=list)
    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    hidden: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def _expr(self, idx, col: str) -> np.ndarray:
        e = np.zeros(2 * self.rows)
        off = 0 if col == "numerator" else self.rows
        e[off + np.asarray(idx, dtype=int)] = 1.0
        return e

    def cell(self, label: str, idx, col: str, shown) -> None:
        """A published count: the sum of ``col`` over the units ``idx``, shown as ``shown``."""
        e = self._expr(idx, col)
        if shown is None:
            return
        if shown == self.rule.symbol:
            self.hidden.setdefault((label, col), e)
            return
        lo, hi = shown_interval(float(shown), self.rule)
        self.a.append(e)
        self.lb.append(lo)
        self.ub.append(hi)

    def claim(self, idx, value: float, decimals: int, multiplier: float = 100.0) -> None:
        """A value published to ``decimals`` places, computed from the TRUE counts of the units ``idx``."""
        h = 0.5 * 10 ** -decimals
        x, n = self._expr(idx, "numerator"), self._expr(idx, "denominator")
        self.a += [multiplier * x - (value + h) * n, multiplier * x - (value - h) * n]
        self.lb += [-np.inf, 0.0]
        self.ub += [0.0, np.inf]

    def _solve(self, c: np.ndarray, extra: tuple | None = None):
        a, lb, ub = list(self.a), list(self.lb), list(self.ub)
        if self.proportion:  # x_i <= n_i
            eye = np.hstack([np.eye(self.rows), -np.eye(self.rows)])
            a += list(eye)
            lb += [-np.inf] * self.rows
            ub += [0.0] * self.rows
        if extra is not None:
            a.append(extra[0])
            lb.append(extra[1])
            ub.append(extra[2])
        res = milp(c, integrality=np.ones(2 * self.rows), bounds=Bounds(0, BIG),
                   constraints=LinearConstraint(np.array(a), lb, ub), options={"time_limit": 20})
        return res

    def feasible(self, truth_x, truth_n) -> bool:
        """The true counts satisfy every constraint (the audit models the publication correctly)."""
        v = np.concatenate([np.asarray(truth_x, float), np.asarray(truth_n, float)])
        a = np.array(self.a)
        got = a @ v
        return bool(np.all(got >= np.array(self.lb) - 1e-9) and np.all(got <= np.array(self.ub) + 1e-9))

    def ranges(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """Each withheld cell's (min, max, feasible values, counted up to 3)."""
        out = {}
        for key, e in self.hidden.items():
            lo = self._solve(e)
            hi = self._solve(-e)
            assert lo.status == 0 and hi.status == 0, (key, lo.message, hi.message)
            mn, mx = round(lo.fun), round(-hi.fun)
            if mx - mn >= 2:
                mid = self._solve(np.zeros_like(e), (e, mn + 1, mx - 1))
                n = 3 if mid.status == 0 else 2
            else:
                n = mx - mn + 1
            out[key] = (mn, mx, n)
        return out

    def leaks(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """The withheld cells with fewer than three feasible values."""
        return {k: v for k, v in self.ranges().items() if v[2] < 3}
