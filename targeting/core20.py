"""Core20: the most deprived 20% of England by the national IMD, and a separately labelled local ranking.

Core20 is always national: LSOAs in deciles 1–2 of the chosen IMD edition (IoD 2019 on LSOA 2011, IoD 2025 on
LSOA 2021; IoD 2019 is also carried on LSOA 2021 across the vintage bridge). It is never re-ranked within an ICB.
A ranking within the area (population-weighted quintiles) is offered as :func:`local_quintile`; it is labelled
*local* and must never be called Core20.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from geo.editions import Edition

__all__ = ["core20", "imd_columns", "local_quintile", "population_quantiles", "population_quintiles"]


def imd_columns(edition: Edition) -> dict[str, str]:
    """Column names of an IMD edition in the atlas LSOA tables: ``score``, ``decile``, ``rank``, ``core20``."""
    ed = edition
    return {"score": ed.score, "decile": ed.decile, "rank": ed.rank, "core20": ed.core20}


def _require(lsoas: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in lsoas.columns]
    if missing:
        raise ValueError(f"{what} needs the LSOA column(s) {', '.join(missing)}; "
                         f"pass an atlas LSOA table (lsoa11 or lsoa21)")


def core20(lsoas: pd.DataFrame, *, edition: Edition) -> pd.Series:
    r"""Flag the LSOAs in the national Core20 of an IMD edition.

    Parameters
    ----------
    lsoas : pandas.DataFrame
        LSOA rows from the atlas (any subset: an ICB, a PCN footprint, all of England).
    edition : geo.editions.Edition
        The IMD edition (2019 or 2025).

    Returns
    -------
    pandas.Series of bool
        Aligned to ``lsoas.index``, named ``core20``: True where the LSOA is in national decile 1 or 2.

    Notes
    -----
    The national decile is taken as published (decile :math:`d = \lceil 10\,r/N \rceil` for rank :math:`r` of
    :math:`N` LSOAs, rank 1 the most deprived), so Core20 = ranks :math:`r \le N/5`. Subsetting the rows never
    changes the flag: it is not re-ranked within the area. IoD 2019 deciles 1–2 hold 19.93% of England's
    mid-2015 population.
    """
    _require(lsoas, [edition.decile], "Core20")
    return edition.core20_of(lsoas)


def population_quantiles(values: ArrayLike, weights: ArrayLike, n: int = 5, *, descending: bool = True) -> np.ndarray:
    r"""Assign units to ``n`` groups cut on cumulative population, not on equal counts of units.

    Parameters
    ----------
    values : array_like
        The ranking variable (e.g. a weighted IMD score). Missing values get group 0.
    weights : array_like
        Population of each unit (e.g. registered patients); must be >= 0.
    n : int, default 5
        Number of groups (5 = quintiles, 10 = deciles).
    descending : bool, default True
        If True the highest value is group 1 (for IMD scores: group 1 = most deprived).

    Returns
    -------
    numpy.ndarray of int
        Group 1..n per unit (0 where the value or weight is missing).

    Notes
    -----
    Units are sorted by value; units with equal values are kept together. Each block of tied units covers the
    cumulative population share :math:`(c_{k-1}, c_k]` with :math:`c_k = \sum_{j \le k} w_j / \sum w`, and
    goes to group :math:`\min(n, \lfloor n\,(c_{k-1} + c_k)/2 \rfloor + 1)`: its population midpoint decides, so
    each group holds as close to :math:`1/n` of the population as whole units allow (cut points at 0.2 steps
    for quintiles).
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.shape != w.shape:
        raise ValueError("values and weights must have the same length")
    if np.any(w[~np.isnan(w)] < 0):
        raise ValueError("weights must be >= 0")
    out = np.zeros(len(v), dtype=int)
    ok = ~np.isnan(v) & ~np.isnan(w)
    if not ok.any():
        return out
    key = -v[ok] if descending else v[ok]
    uniq, inverse = np.unique(key, return_inverse=True)
    block = np.bincount(inverse, weights=w[ok], minlength=len(uniq))
    total = block.sum()
    if total <= 0:
        # no population at all: fall back to equal counts of distinct values
        mid = (np.arange(len(uniq)) + 0.5) / len(uniq)
    else:
        cum = np.cumsum(block) / total
        mid = cum - block / total / 2
    groups = np.minimum(n, np.floor(mid * n).astype(int) + 1)
    out[ok] = groups[inverse]
    return out


def population_quintiles(values: ArrayLike, weights: ArrayLike, *, descending: bool = True) -> np.ndarray:
    """Quintiles cut on cumulative population at 0.2 steps (see :func:`population_quantiles`).

    Returns
    -------
    numpy.ndarray of int
        1 (highest values when ``descending``, e.g. most deprived) to 5; 0 where missing.
    """
    return population_quantiles(values, weights, 5, descending=descending)


def local_quintile(lsoas: pd.DataFrame, *, edition: Edition, weight: str = "residents") -> pd.Series:
    """Population-weighted quintiles of deprivation *within the given LSOAs* — a local ranking, not Core20.

    Parameters
    ----------
    lsoas : pandas.DataFrame
        The LSOAs of one area (e.g. an ICB from :func:`targeting.areas.lsoas_in`).
    edition : geo.editions.Edition
        The IMD edition whose score ranks the LSOAs.
    weight : str, default "residents"
        Population column (Census 2021 usual residents).

    Returns
    -------
    pandas.Series of int
        Aligned to ``lsoas.index``, named ``local_quintile``: 1 = the most deprived fifth of the area's
        residents, 5 = the least deprived fifth.

    Notes
    -----
    LSOAs are ordered by IMD score (highest = most deprived) and cut on cumulative residents at 0.2 steps
    (:func:`population_quintiles`). The result depends on which LSOAs are passed; it is labelled *local* so it is
    never confused with the national Core20 (:func:`core20`).
    """
    cols = imd_columns(edition)
    _require(lsoas, [cols["score"], weight], "The local quintile")
    q = population_quintiles(lsoas[cols["score"]].to_numpy(dtype=float), lsoas[weight].to_numpy(dtype=float))
    return pd.Series(q, index=lsoas.index, name="local_quintile")
