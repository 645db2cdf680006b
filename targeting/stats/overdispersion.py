"""Spiegelhalter's over-dispersion factor, from winsorised z-scores, for proportions and for ratios."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def overdispersion(x: ArrayLike, n: ArrayLike, p0: float, *, winsor: float = 0.10) -> tuple[float, int]:
    r"""Spiegelhalter's over-dispersion factor of proportions around a baseline, from winsorised z-scores.

    Parameters
    ----------
    x, n : array_like
        Numerators and denominators of the units (e.g. an ICB's PCNs); units with ``n <= 0`` are left out.
    p0 : float
        Baseline proportion (0–1), e.g. the ICB value.
    winsor : float, default 0.10
        Share of z-scores shrunk at each end.

    Returns
    -------
    (float, int)
        :math:`\hat\phi` and the number of units it rests on.

    Notes
    -----
    Spiegelhalter (2005, Qual Saf Health Care 14:347; Stat Med 24:1185). Each unit's z-score is
    :math:`z_i = (y_i - p_0) / \sqrt{p_0(1-p_0)/n_i}` with :math:`y_i = x_i/n_i`. The :math:`k = \lfloor 0.1 I
    \rfloor` lowest z-scores are set to the :math:`(k+1)`-th lowest and the :math:`k` highest to the
    :math:`(k+1)`-th highest (as ``scipy.stats.mstats.winsorize(limits=(0.1, 0.1))``), and
    :math:`\hat\phi = \frac{1}{I}\sum_i z_i^2`. Under no over-dispersion :math:`I\hat\phi` is about
    :math:`\chi^2_{I-1}`; the limits are widened (:func:`funnel_limits` ``phi``) only where :math:`\hat\phi > 1`.
    """
    xa, na = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    ok = (na > 0) & np.isfinite(xa) & np.isfinite(na)
    if not 0 < p0 < 1 or ok.sum() < 2:
        return float("nan"), int(ok.sum())
    return _winsorised_phi((xa[ok] / na[ok] - p0) / np.sqrt(p0 * (1 - p0) / na[ok]), winsor)


def _winsorised_phi(z: np.ndarray, winsor: float) -> tuple[float, int]:
    """Mean square of the z-scores after the ``floor(winsor·I)`` at each end are pulled in (Spiegelhalter 2005)."""
    z = np.sort(z)
    k = int(np.floor(winsor * len(z)))
    if k:
        z = np.clip(z, z[k], z[len(z) - 1 - k])
    return float(np.mean(z**2)), len(z)


def ratio_overdispersion(observed: ArrayLike, expected: ArrayLike, theta: float, *,
                         winsor: float = 0.10) -> tuple[float, int]:
    r"""Spiegelhalter's over-dispersion factor of ratios observed ÷ expected around a target ratio.

    Parameters
    ----------
    observed, expected : array_like
        Observed counts :math:`O_i` and expected counts :math:`E_i` of the units (units with :math:`E_i \le 0`
        are left out).
    theta : float
        Target ratio :math:`\theta_0` (e.g. the ICB's :math:`\sum O / \sum E`), above 0.
    winsor : float, default 0.10
        Share of z-scores shrunk at each end.

    Returns
    -------
    (float, int)
        :math:`\hat\phi` and the number of units it rests on.

    Notes
    -----
    Spiegelhalter (2005, Stat Med 24:1185), indirectly standardised ratios: under Poisson counts
    :math:`y_i = O_i/E_i` has variance :math:`\theta_0/E_i`, so :math:`z_i = (y_i - \theta_0)/\sqrt{\theta_0/E_i}`;
    the :math:`k = \lfloor 0.1 I \rfloor` z-scores at each end are winsorised as in
    :func:`overdispersion` and :math:`\hat\phi = \frac1I\sum_i z_i^2`.
    """
    o, e = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    ok = (e > 0) & np.isfinite(o) & np.isfinite(e)
    if not (np.isfinite(theta) and theta > 0) or ok.sum() < 2:
        return float("nan"), int(ok.sum())
    return _winsorised_phi((o[ok] / e[ok] - theta) / np.sqrt(theta / e[ok]), winsor)
