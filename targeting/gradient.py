"""The deprivation gradient across an ICB's practices: deprivation groups and the slope index of inequality.

Practices are grouped into deciles of the ICB's registered population by their registration-weighted IMD score
(quintiles if there are fewer than 30 practices; group 1 = most deprived), and :func:`targeting.stats.sii` fits the
population-weighted regression across the groups with simulated 95% limits. Shared by the PCN comparison
(:mod:`targeting.compare`) and the Core20PLUS5 summary (:mod:`targeting.clinical`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from targeting.core20 import population_quantiles
from targeting.stats import byar_ci, sii

__all__ = ["deprivation_groups", "proportion_sii", "ratio_sii"]


def deprivation_groups(prac: pd.DataFrame) -> tuple[np.ndarray, int]:
    """The deprivation group of each practice and how many groups there are.

    Parameters
    ----------
    prac : pandas.DataFrame
        Practice profiles (:func:`targeting.profiles.practice_profiles`) of one ICB: ``weighted_imd_score`` and
        ``patients_known_lsoa``.

    Returns
    -------
    groups : numpy.ndarray
        Group of each row, 1 = most deprived (0: no score).
    k : int
        10 (deciles) with 30 practices or more, else 5 (quintiles).
    """
    known = prac["patients_known_lsoa"].to_numpy(dtype=float)
    k = 10 if len(prac) >= 30 else 5
    q = population_quantiles(prac["weighted_imd_score"].to_numpy(dtype=float), known, k)
    return q, k


def proportion_sii(num: pd.Series, den: pd.Series, groups: np.ndarray, k: int, seed: int) -> dict:
    """SII/RII of a proportion across deprivation groups of practices (group 1 = most deprived).

    Parameters
    ----------
    num, den : pandas.Series
        Numerator and denominator of each practice, in the order of ``groups``.
    groups : numpy.ndarray
        Deprivation group of each practice (:func:`deprivation_groups`).
    k : int
        Number of groups.
    seed : int
        Seed of the simulated limits.

    Returns
    -------
    dict
        The fields of :class:`targeting.stats.SIIResult` (in percentage points), ``quantiles`` and
        ``by_quantile``; or ``{"sii": None, "note": ...}`` with fewer than two groups with data.
    """
    frame = pd.DataFrame({"q": groups, "num": num.to_numpy(dtype=float), "den": den.to_numpy(dtype=float)})
    frame = frame[(frame["q"] > 0) & (frame["den"] > 0)]
    by = frame.groupby("q")[["num", "den"]].sum().reset_index()
    if len(by) < 2:
        return {"sii": None, "note": "too few practices with data for an SII"}
    by["num"] = by["num"].clip(upper=by["den"])
    res = sii(by, count="num", population="den", quantile="q", value_type=2, multiplier=100, rii=True,
              n_sims=20_000, seed=seed)
    out = res.as_dict() if hasattr(res, "as_dict") else dict(res.__dict__)
    out["quantiles"] = "deciles" if k == 10 else "quintiles"
    out["by_quantile"] = [
        {"quantile": int(r.q), "numerator": float(r.num), "denominator": float(r.den), "value": 100 * r.num / r.den}
        for r in by.itertuples()
    ]
    return out


def ratio_sii(recorded: pd.Series, expected: pd.Series, patients: pd.Series, groups: np.ndarray, k: int,
              seed: int) -> dict:
    """SII/RII of recorded ÷ expected across deprivation groups of practices (group 1 = most deprived).

    Each group's ratio is its summed recorded over summed expected, with Byar's limits on the recorded count; the
    groups' sizes (their relative ranks) are their patients (the list the register's rate applies to).

    Parameters
    ----------
    recorded, expected, patients : pandas.Series
        Each practice's recorded and expected counts and its patients, in the order of ``groups``.
    groups : numpy.ndarray
        Deprivation group of each practice (:func:`deprivation_groups`).
    k : int
        Number of groups.
    seed : int
        Seed of the simulated limits.

    Returns
    -------
    dict
        As :func:`proportion_sii`, the ratio unscaled.
    """
    frame = pd.DataFrame({"q": groups, "o": recorded.to_numpy(dtype=float), "e": expected.to_numpy(dtype=float),
                          "n": patients.to_numpy(dtype=float)})
    frame = frame[(frame["q"] > 0) & (frame["e"] > 0) & (frame["n"] > 0) & frame["o"].notna()]
    by = frame.groupby("q")[["o", "e", "n"]].sum().reset_index()
    if len(by) < 2:
        return {"sii": None, "note": "too few practices with data for an SII"}
    lo, hi = byar_ci(by["o"].to_numpy())
    by["value"], by["lo"], by["hi"] = by["o"] / by["e"], np.asarray(lo) / by["e"], np.asarray(hi) / by["e"]
    res = sii(by, value="value", lower="lo", upper="hi", population="n", quantile="q", value_type=1, rii=True,
              n_sims=20_000, seed=seed)
    out = res.as_dict() if hasattr(res, "as_dict") else dict(res.__dict__)
    out["quantiles"] = "deciles" if k == 10 else "quintiles"
    out["by_quantile"] = [{"quantile": int(q.q), "numerator": float(q.o), "denominator": float(q.e),
                           "value": float(q.value)} for q in by.itertuples()]
    return out
