"""Directly standardised rates with Dobson confidence limits (``phe_dsr``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from targeting.stats._common import _as_float, _check_nonneg, _confidence
from targeting.stats.rates import byar_ci

#: 2013 European Standard Population, 19 five-year bands 0-4, 5-9, ..., 85-89, 90+ (sum 100,000).
#: The default standard population for directly standardised rates in Fingertips.
ESP2013: tuple[int, ...] = (
    5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
    7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000,
)  # fmt: skip


def dobson_ci(
    counts: ArrayLike,
    populations: ArrayLike,
    standard_populations: ArrayLike = ESP2013,
    *,
    groups: ArrayLike | None = None,
    confidence: float = 0.95,
    multiplier: float = 100_000,
    min_total_count: float = 10,
) -> pd.DataFrame:
    r"""Directly standardised rate (DSR) with Dobson confidence limits (``phe_dsr`` convention).

    Parameters
    ----------
    counts : array_like
        Observed events per stratum (e.g. age band), one row per group x stratum. Missing
        counts are taken as zero events in that stratum.
    populations : array_like
        Population (person-years) per stratum, same length as ``counts``; must be > 0.
    standard_populations : array_like, default :data:`ESP2013`
        Standard population per stratum: either the same length as ``counts`` (aligned row by
        row) or one value per stratum, repeated for every group in row order (each group must
        then have exactly that many rows, in the same stratum order).
    groups : array_like, optional
        Group label per row (e.g. area code). Without it all rows form one group.
    confidence : float, default 0.95
        Confidence level as a fraction or a percentage.
    multiplier : float, default 100000
        Rate per this many people.
    min_total_count : float, default 10
        Groups with fewer total events get NaN rate and limits (Fingertips does not publish a
        DSR for fewer than 10 events).

    Returns
    -------
    pandas.DataFrame
        Indexed by group (in first-appearance order) with columns ``total_count``,
        ``total_pop``, ``value`` (the DSR), ``lowercl``, ``uppercl``.

    Raises
    ------
    ValueError
        If lengths disagree, or a count, population or standard population is negative, or a
        population is zero or missing.

    Notes
    -----
    With observed :math:`O_i`, population :math:`n_i` and standard population :math:`w_i` in
    stratum :math:`i`, and :math:`O = \sum_i O_i`:

    .. math::

        \mathrm{DSR} = \frac{\sum_i w_i O_i / n_i}{\sum_i w_i}, \qquad
        \operatorname{Var}(\mathrm{DSR}) = \frac{\sum_i w_i^2 O_i / n_i^2}{(\sum_i w_i)^2}

    Dobson et al. (1991) treat the DSR as a weighted sum of Poisson variables and scale the
    limits for the total count :math:`O_L, O_U` (Byar's method, :func:`byar_ci`):

    .. math::

        \mathrm{DSR}_{L,U} = \mathrm{DSR}
            + \sqrt{\operatorname{Var}(\mathrm{DSR}) / O}\,(O_{L,U} - O)

    All three are multiplied by ``multiplier``. The adjustment for non-independent events
    (``phe_dsr`` with event frequencies) is not implemented.
    """
    c = _confidence(confidence)
    o = _as_float(counts).ravel()
    n = _as_float(populations).ravel()
    w_in = _as_float(standard_populations).ravel()
    if len(n) != len(o):
        raise ValueError("counts and populations must have the same length")
    g = np.zeros(len(o), dtype=int) if groups is None else np.asarray(groups).ravel()
    if len(g) != len(o):
        raise ValueError("groups must have the same length as counts")
    _check_nonneg("counts", o)
    if np.any(~(n > 0)):
        raise ValueError("populations must all be > 0 (no zero or missing strata)")
    _check_nonneg("standard_populations", w_in)
    o = np.nan_to_num(o, nan=0.0)

    labels = pd.unique(pd.Series(g))
    if len(w_in) == len(o):
        w = w_in
    else:
        w = np.empty(len(o))
        for lab in labels:
            mask = g == lab
            n_strata = int(mask.sum())
            if n_strata != len(w_in):
                msg = f"group {lab!r} has {n_strata} strata but {len(w_in)} standard populations"
                raise ValueError(msg)
            w[mask] = w_in
    if np.any(np.isnan(w)):
        raise ValueError("standard_populations must not be missing")

    frame = pd.DataFrame({"g": g, "o": o, "n": n, "wr": w * o / n, "wv": w**2 * o / n**2, "w": w})
    sums = frame.groupby("g", sort=False)[["o", "n", "wr", "wv", "w"]].sum().reindex(labels)
    total = sums["o"].to_numpy()
    dsr = sums["wr"].to_numpy() / sums["w"].to_numpy()
    var = sums["wv"].to_numpy() / sums["w"].to_numpy() ** 2
    o_lo, o_hi = byar_ci(total, c)
    o_lo, o_hi = np.atleast_1d(o_lo), np.atleast_1d(o_hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.sqrt(var / total)
        lower = dsr + k * (o_lo - total)
        upper = dsr + k * (o_hi - total)
    small = total < min_total_count
    out = pd.DataFrame(
        {
            "total_count": total,
            "total_pop": sums["n"].to_numpy(),
            "value": np.where(small, np.nan, dsr * multiplier),
            "lowercl": np.where(small, np.nan, lower * multiplier),
            "uppercl": np.where(small, np.nan, upper * multiplier),
        },
        index=pd.Index(labels, name="group"),
    )
    return out
