"""Funnel-plot control limits around a baseline, for proportions and for ratios observed ÷ expected."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from targeting.stats._common import _confidence, _z


def funnel_limits(p0: float, n: ArrayLike, confidence: float = 0.95, *,
                  phi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Funnel-plot control limits for a proportion around a baseline.

    Parameters
    ----------
    p0 : float
        Baseline proportion (0–1), e.g. the ICB value.
    n : array_like
        Denominators at which to compute the limits.
    confidence : float, default 0.95
        0.95 (about 2 standard deviations) or 0.998 (about 3), as in Fingertips.
    phi : float, default 1
        Over-dispersion factor (:func:`overdispersion`): where it exceeds 1 the limits are widened by
        :math:`\sqrt\phi` (Spiegelhalter's multiplicative model); 1 or less gives the binomial limits.

    Returns
    -------
    lower, upper : numpy.ndarray
        Limits as proportions, clipped to [0, 1].

    Notes
    -----
    The limits are the observed proportions whose Wilson score interval just reaches :math:`p_0`; inverting the
    score test gives :math:`p_0 \pm z\sqrt{p_0(1-p_0)/n}` with :math:`z` the two-sided normal quantile
    (1.96 for 95%, 3.09 for 99.8%). This matches the PHEindicatormethods funnel test data for proportions.
    """
    z = _z(_confidence(confidence))
    na = np.asarray(n, dtype=float)
    inflate = float(phi) if np.isfinite(phi) and phi > 1 else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * np.sqrt(inflate * p0 * (1 - p0) / na)
    lo = np.clip(p0 - half, 0.0, 1.0)
    hi = np.clip(p0 + half, 0.0, 1.0)
    bad = ~(na > 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def ratio_funnel_limits(theta: float, expected: ArrayLike, confidence: float = 0.95, *,
                        phi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Funnel-plot limits for a ratio observed ÷ expected around a target ratio, at each expected count.

    Parameters
    ----------
    theta : float
        Target ratio :math:`\theta_0` (the ICB value).
    expected : array_like
        Expected counts at which to compute the limits.
    confidence : float, default 0.95
        0.95 or 0.998, as for proportions.
    phi : float, default 1
        Over-dispersion factor (:func:`ratio_overdispersion`); above 1 it widens the limits by :math:`\sqrt\phi`.

    Returns
    -------
    lower, upper : numpy.ndarray
        :math:`\theta_0 \pm z\sqrt{\phi\,\theta_0/E}`, the lower limit not below 0; NaN where :math:`E \le 0`.
    """
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    e = np.asarray(expected, dtype=float)
    inflate = float(phi) if np.isfinite(phi) and phi > 1 else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * np.sqrt(inflate * theta / e)
    bad = ~(e > 0)
    return np.where(bad, np.nan, np.maximum(theta - half, 0.0)), np.where(bad, np.nan, theta + half)
