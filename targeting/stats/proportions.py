"""Wilson score confidence intervals for proportions (``phe_proportion``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from targeting.stats._common import Z95, _as_float, _check_nonneg, _confidence, _index_of, _out, _z


def wilson_ci(x: ArrayLike, n: ArrayLike, confidence: float = 0.95, *, strict: bool = True) -> tuple[Any, Any]:
    r"""Wilson score confidence interval for a proportion ``x / n``.

    Parameters
    ----------
    x : array_like
        Numerator: number of people with the attribute (need not be an integer).
    n : array_like
        Denominator: number of people in the population, ``n >= x``.
    confidence : float, default 0.95
        Confidence level as a fraction (0.95) or percentage (95). Fingertips uses 95% and 99.8%.
    strict : bool, default True
        Raise where ``x > n``. With ``strict=False`` such a rate gets NaN limits instead: QOF has practices
        whose register exceeds their list size (e.g. Y05750's learning disability register in 2020-21).

    Returns
    -------
    lower, upper : ndarray or Series
        Limits as proportions between 0 and 1 (multiply by 100 for percentages).
        NaN where ``n == 0`` or an input is missing.

    Raises
    ------
    ValueError
        If ``x < 0``, ``n < 0`` or (when ``strict``) ``x > n``.

    Notes
    -----
    With :math:`p = x/n` and :math:`z` the two-sided normal quantile for the confidence
    level, the limits are (Wilson 1927; Newcombe 1998, method 3)

    .. math::

        \frac{2x + z^2 \mp z\sqrt{z^2 + 4x(1 - x/n)}}{2(n + z^2)}

    This is the OHID / PHE Fingertips method for proportions (PHEindicatormethods
    ``wilson_lower`` / ``wilson_upper``, ``phe_proportion``). The limits stay inside
    [0, 1]: for ``x == 0`` the lower limit is exactly 0 and for ``x == n`` the upper limit is
    exactly 1 (floating-point noise is clipped).
    """
    c = _confidence(confidence)
    index = _index_of(x, n)
    xa, na = np.broadcast_arrays(_as_float(x), _as_float(n))
    _check_nonneg("x", xa)
    _check_nonneg("n", na)
    with np.errstate(invalid="ignore"):
        over = xa > na
    if strict and np.any(over):
        raise ValueError("x must not exceed n in a proportion")
    z = Z95 if c == 0.95 else _z(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        root = z * np.sqrt(z**2 + 4 * xa * (1 - xa / na))
        denom = 2 * (na + z**2)
        lower = (2 * xa + z**2 - root) / denom
        upper = (2 * xa + z**2 + root) / denom
    bad = ~(na > 0)  # n == 0 or NaN
    lower = np.where(bad, np.nan, np.clip(lower, 0.0, 1.0))
    upper = np.where(bad, np.nan, np.clip(upper, 0.0, 1.0))
    lower = np.where(xa == 0, 0.0, lower)
    upper = np.where(xa == na, 1.0, upper)
    lower = np.where(bad | np.isnan(xa) | over, np.nan, lower)
    upper = np.where(bad | np.isnan(xa) | over, np.nan, upper)
    return _out(lower, index, "lower"), _out(upper, index, "upper")
