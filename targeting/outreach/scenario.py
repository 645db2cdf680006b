"""Scenarios: how much of an area's Core20 and PLUS population a plan's walk reaches as resources change."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from targeting.outreach.plan import OutreachPlan

__all__ = ["scenario", "scenario_around"]



def scenario(plan: OutreachPlan, *, connectors: Sequence[int] = (1, 2, 3, 4, 6),
             capacities: Sequence[float] = (50, 100, 150, 200), months: Sequence[float] = (3, 6, 12)) -> pd.DataFrame:
    r"""Share of the area's Core20 and PLUS residents reached after each horizon, as resources change (campaign).

    Parameters
    ----------
    plan
        A plan from :func:`plan_outreach` (its walking sequence of postcodes is reused).
    connectors, capacities, months
        Numbers of connectors, households per connector per month, and horizons to report.

    Returns
    -------
    pandas.DataFrame
        One row per (connectors, capacity, months): ``households_visited``, ``core20plus_residents``,
        ``residents_covered``, ``share_covered`` (0–1) and ``pct_covered``.

    Notes
    -----
    For each capacity the plan's postcode sequence is cut again into rounds of that size; with *n* connectors,
    the first :math:`n \\lfloor m \rfloor` rounds are done by month *m*. An LSOA part-visited counts the visited
    share of its households, applied to its residents. Share = covered Core20/PLUS residents ÷ all Core20/PLUS
    residents of the area.
    """
    from targeting.rounds import cut_rounds

    if not len(months):
        raise ValueError("give at least one horizon in months")
    t = plan.lsoas
    c20p = t[t["core20"] | t["plus"]].set_index("lsoa_code")
    total = float(c20p["population"].sum())
    per_hh = (c20p["population"] / c20p["households"].where(c20p["households"] > 0)).fillna(0.0)
    seq = _sequence_of(plan)
    rows = []
    for cap in capacities:
        stops = cut_rounds(seq, capacity=float(cap), order_walks=False).stops if len(seq) else seq
        for n in connectors:
            for m in months:
                done = stops[stops["piece"] < int(n) * max(1, math.floor(float(m) + 1e-9))] if len(stops) \
                    else stops
                hh = done.groupby("lsoa_code")["households_est"].sum() if len(done) else pd.Series(dtype=float)
                covered = float((hh.reindex(per_hh.index).fillna(0) * per_hh).sum())
                rows.append({"connectors": int(n), "capacity": float(cap), "months": float(m),
                             "households_visited": int(hh.sum()), "core20plus_residents": round(total),
                             "residents_covered": round(covered),
                             "share_covered": round(covered / total, 4) if total else 0.0,
                             "pct_covered": round(100 * covered / total, 1) if total else 0.0})
    return pd.DataFrame(rows).sort_values(["connectors", "capacity", "months"]).reset_index(drop=True)


def _sequence_of(plan: OutreachPlan) -> pd.DataFrame:
    """The plan's walking sequence of postcodes (whole postcodes, in the order they were cut)."""
    r = plan.rounds
    if r.empty:
        return pd.DataFrame(columns=["postcode", "lsoa_code", "households_est", "chain", "easting", "northing"])
    seq = r.sort_values(["piece", "stop"]).drop_duplicates("postcode")
    chain = seq["chain"]
    return pd.DataFrame({"postcode": seq["postcode"].to_numpy(), "lsoa_code": seq["lsoa_code"].to_numpy(),
                         "households_est": seq["postcode_households"].to_numpy(), "chain": chain.to_numpy(),
                         "easting": seq["easting"].to_numpy(dtype=float),
                         "northing": seq["northing"].to_numpy(dtype=float)})


def scenario_around(plan: OutreachPlan) -> pd.DataFrame:
    """:func:`scenario` around the plan's own resources (the table the CLI and the app print).

    Half, the same, twice and four times the plan's connectors, and half, the same and twice its capacity,
    after 3, 6 and 12 months.
    """
    n, cap = int(plan.settings["connectors"]), float(plan.settings["capacity_per_month"])
    return scenario(plan, connectors=sorted({max(1, n // 2), n, 2 * n, 4 * n}),
                    capacities=sorted({cap / 2, cap, 2 * cap}), months=(3, 6, 12))
