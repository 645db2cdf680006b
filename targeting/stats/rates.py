"""Byar's and exact Poisson limits for counts, and crude rates with those limits (``phe_rate``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from targeting.stats._common import _as_float, _check_nonneg, _confidence, _index_of, _out, _st, _z


def byar_ci(x: ArrayLike, confidence: float = 0.95, *, exact_below: float = 10) -> tuple[Any, Any]:
    r"""Confidence limits for a Poisson count: Byar's method, exact for small counts.

    Parameters
    ----------
    x : array_like
        Observed count(s), ``x >= 0``.
    confidence : float, default 0.95
        Confidence level as a fraction or a percentage.
    exact_below : float, default 10
        Counts below this use the exact Poisson (chi-square) limits, the Fingertips / ``phe_rate``
        convention. Pass ``0`` to apply Byar's formula to every count, as the raw
        ``byars_lower`` / ``byars_upper`` functions do.

    Returns
    -------
    lower, upper : ndarray or Series
        Limits for the count (divide by the denominator for a rate). NaN for missing input.
        With ``exact_below=0``, a Byar lower limit that would be negative (only for very small
        counts at high confidence, e.g. ``x = 1`` at 99.8%) is NaN because the approximation
        is invalid there; use the exact method instead.

    Raises
    ------
    ValueError
        If any count is negative.

    Notes
    -----
    Byar's approximation (Breslow & Day 1987), with :math:`z` the two-sided normal quantile:

    .. math::

        O_L = x\left(1 - \frac{1}{9x} - \frac{z}{3\sqrt{x}}\right)^3, \qquad
        O_U = (x+1)\left(1 - \frac{1}{9(x+1)} + \frac{z}{3\sqrt{x+1}}\right)^3

    Exact limits, with :math:`\alpha = 1 - \text{confidence}` and :math:`\chi^2_{q,\nu}`
    the :math:`q` quantile of a chi-square with :math:`\nu` degrees of freedom:

    .. math::

        O_L = \tfrac12\chi^2_{\alpha/2,\,2x}, \qquad
        O_U = \tfrac12\chi^2_{1-\alpha/2,\,2x+2}

    For ``x == 0`` the exact lower limit is 0 and the upper limit is :math:`-\ln(\alpha/2)`.
    """
    c = _confidence(confidence)
    index = _index_of(x)
    xa = _as_float(x)
    _check_nonneg("x", xa)
    z = _z(c)
    alpha = 1 - c
    with np.errstate(invalid="ignore", divide="ignore"):
        b_lower = xa * (1 - 1 / (9 * xa) - z / (3 * np.sqrt(xa))) ** 3
        b_upper = (xa + 1) * (1 - 1 / (9 * (xa + 1)) + z / (3 * np.sqrt(xa + 1))) ** 3
    b_lower = np.where(b_lower < 0, np.nan, b_lower)
    b_lower = np.where(xa == 0, 0.0, b_lower)
    exact = xa < exact_below
    e_lower = np.full_like(xa, np.nan)
    e_upper = np.full_like(xa, np.nan)
    if exact.any():  # chi-square quantiles only where the exact method applies (scipy is slow to import)
        xe = xa[exact]
        safe = np.where(xe <= 0, 1.0, xe)
        e_lower[exact] = np.where(xe == 0, 0.0, _st.chi2.ppf(alpha / 2, 2 * safe) / 2)
        e_upper[exact] = _st.chi2.ppf(1 - alpha / 2, 2 * xe + 2) / 2
    lower = np.where(exact, e_lower, b_lower)
    upper = np.where(exact, e_upper, b_upper)
    lower = np.where(np.isnan(xa), np.nan, lower)
    upper = np.where(np.isnan(xa), np.nan, upper)
    return _out(lower, index, "lower"), _out(upper, index, "upper")


def rate_ci(
    x: ArrayLike,
    n: ArrayLike,
    confidence: float = 0.95,
    *,
    multiplier: float = 100_000,
    exact_below: float = 10,
) -> tuple[Any, Any, Any]:
    r"""Crude rate ``x / n * multiplier`` with Fingertips limits (``phe_rate`` convention).

    Parameters
    ----------
    x : array_like
        Event counts, ``x >= 0``.
    n : array_like
        Denominators (person-years or population), ``n > 0``.
    confidence : float, default 0.95
        Confidence level as a fraction or a percentage.
    multiplier : float, default 100000
        Rate per this many people.
    exact_below : float, default 10
        Counts below this use exact Poisson limits, otherwise Byar's method.

    Returns
    -------
    rate, lower, upper : ndarray or Series
        NaN where ``n == 0`` or an input is missing.

    Notes
    -----
    The count limits :math:`O_L, O_U` from :func:`byar_ci` are scaled to the rate:
    :math:`(O_L/n \cdot m,\; O_U/n \cdot m)`. The numerator may exceed the denominator
    (a rate is not a proportion).
    """
    index = _index_of(x, n)
    xa, na = np.broadcast_arrays(_as_float(x), _as_float(n))
    _check_nonneg("n", na)
    lo, hi = byar_ci(xa, confidence, exact_below=exact_below)
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(na > 0, multiplier / na, np.nan)
    return (
        _out(xa * scale, index, "value"),
        _out(lo * scale, index, "lower"),
        _out(hi * scale, index, "upper"),
    )
