"""Confidence intervals and inequality measures following OHID / PHE Fingertips conventions.

Every method here is implemented from its published statistical definition, as used by the
Fingertips public-health profiles and documented for the R package PHEindicatormethods
(UKHSA / OHID).  No code from that package has been used; its published test data (inputs
with expected outputs) is used to check this module in ``tests/targeting/test_stats.py``.

Functions
---------
wilson_ci
    Wilson score interval for a proportion (``phe_proportion``, ``wilson_lower/upper``).
byar_ci
    Byar's approximation for a Poisson count, exact below 10 (``byars_lower/upper``).
rate_ci
    Crude rate with Byar / exact limits (``phe_rate``).
dobson_ci
    Directly standardised rate with Dobson limits (``phe_dsr``).
sii, sii_by
    Slope and relative index of inequality with simulated limits (``phe_sii``).
significance, compare_proportion
    Fingertips-style "higher / lower / similar" flags against a comparator.

Conventions
-----------
``confidence`` may be given as a fraction (0.95) or a percentage (95).  Inputs may be
scalars, numpy arrays or pandas Series; a Series in gives a Series (same index) out.
Missing inputs (NaN) give NaN outputs; impossible inputs (negative counts, numerators above
denominators) raise ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


class _LazyScipyStats:
    """scipy.stats imported on first use: it costs about a second, which a cold command line should not pay."""

    def __getattr__(self, name: str) -> Any:
        from scipy import stats

        return getattr(stats, name)


_st = _LazyScipyStats()

__all__ = [
    "ESP2013",
    "Z95",
    "Z_95_SE",
    "SIIResult",
    "byar_ci",
    "compare_proportion",
    "dobson_ci",
    "funnel_limits",
    "overdispersion",
    "rate_ci",
    "ratio_funnel_limits",
    "ratio_overdispersion",
    "significance",
    "sii",
    "sii_by",
    "wilson_ci",
]

FloatArray = NDArray[np.float64]

#: 2013 European Standard Population, 19 five-year bands 0-4, 5-9, ..., 85-89, 90+ (sum 100,000).
#: The default standard population for directly standardised rates in Fingertips.
ESP2013: tuple[int, ...] = (
    5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
    7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000,
)  # fmt: skip

#: z used to turn a 95% confidence interval back into a standard error (Fingertips convention).
Z_95_SE = 1.96

#: Two-sided 95% standard normal quantile, exact (for limits computed here).
Z95 = 1.959963984540054


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _confidence(confidence: float) -> float:
    """Return confidence as a fraction, accepting 0.95 or 95; validate the range."""
    c = float(confidence)
    if c > 1:
        c = c / 100.0
    if not 0.5 <= c < 1:
        raise ValueError(f"confidence must be in [0.5, 1) or [50, 100); got {confidence!r}")
    return c


def _z(confidence: float) -> float:
    """Two-sided standard normal quantile for a confidence level (fraction).

    The standard library's ``NormalDist.inv_cdf`` (Wichura's AS241, accurate to about 1e-16) agrees with
    ``scipy.stats.norm.ppf`` and spares a cold command line the second it takes to import scipy.stats.
    """
    from statistics import NormalDist

    return float(NormalDist().inv_cdf(1 - (1 - confidence) / 2))


def _as_float(a: ArrayLike) -> FloatArray:
    """Convert to a float array (pandas NA and None become NaN)."""
    if isinstance(a, pd.Series):
        return pd.to_numeric(a, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(a, dtype=float)


def _index_of(*inputs: Any) -> pd.Index | None:
    """Index of the first pandas Series among the inputs, if any."""
    for a in inputs:
        if isinstance(a, pd.Series):
            return a.index
    return None


def _out(arr: FloatArray, index: pd.Index | None, name: str | None = None) -> Any:
    """Return a Series if an input was a Series, a float for 0-d input, else the array."""
    if index is not None:
        return pd.Series(np.broadcast_to(arr, (len(index),)), index=index, name=name)
    if arr.ndim == 0:
        return float(arr)
    return arr


def _check_nonneg(name: str, a: FloatArray) -> None:
    """Raise ValueError if any non-missing value is negative."""
    if np.any(a[~np.isnan(a)] < 0):
        raise ValueError(f"{name} must be >= 0")


# --------------------------------------------------------------------------------------------
# Wilson score interval for proportions
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# Byar / exact Poisson limits for counts
# --------------------------------------------------------------------------------------------

def ratio_overdispersion(observed, expected, theta: float, *, winsor: float = 0.10) -> tuple[float, int]:
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


def ratio_funnel_limits(theta: float, expected, confidence: float = 0.95, *,
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


# --------------------------------------------------------------------------------------------
# Directly standardised rates (Dobson)
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# Slope index of inequality
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SIIResult:
    """Slope and relative index of inequality with simulated confidence limits.

    Attributes
    ----------
    sii, sii_lower, sii_upper : float
        Slope index of inequality (difference between the fitted values at the least and
        the most deprived end of the scale, times ``multiplier``) and its limits.
    rii, rii_lower, rii_upper : float or None
        Relative index of inequality and limits, when requested.
    intercept : float
        Fitted value at relative rank 0 (the most deprived end), on the input value scale.
    confidence : float
        Confidence level used, as a fraction.
    n_quantiles : int
        Number of quantiles used.
    note : str
        Why the result is NaN, if it is.
    """

    sii: float
    sii_lower: float
    sii_upper: float
    rii: float | None
    rii_lower: float | None
    rii_upper: float | None
    intercept: float
    confidence: float
    n_quantiles: int
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the result as a plain dictionary."""
        return asdict(self)


def _logit(p: FloatArray) -> FloatArray:
    return np.log(p / (1 - p))


def _expit(v: FloatArray) -> FloatArray:
    return 1 / (1 + np.exp(-v))


def _nan_result(confidence: float, k: int, rii: bool, note: str) -> SIIResult:
    r = np.nan if rii else None
    return SIIResult(np.nan, np.nan, np.nan, r, r, r, np.nan, confidence, k, note)


def sii(
    df: pd.DataFrame,
    *,
    value: str | None = None,
    population: str,
    quantile: str,
    lower: str | None = None,
    upper: str | None = None,
    se: str | None = None,
    count: str | None = None,
    value_type: int = 0,
    transform: bool = False,
    multiplier: float = 1,
    n_sims: int = 100_000,
    confidence: float = 0.95,
    rii: bool = False,
    seed: int | np.random.Generator | None = None,
    most_deprived_first: bool = True,
) -> SIIResult:
    r"""Slope index of inequality (SII) and relative index (RII), porting ``phe_sii``.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per quantile (e.g. 10 IMD deciles) for a single area / grouping. Use
        :func:`sii_by` for several groupings at once.
    value : str, optional
        Column of indicator values. For proportions (``value_type=2``) it may be omitted if
        ``count`` is given; the value is then ``count / population``.
    population : str
        Column of quantile populations (denominators), all > 0.
    quantile : str
        Column of quantile labels; sorted ascending, label order must run from most to least
        deprived (IMD decile 1 first), unless ``most_deprived_first=False``.
    lower, upper : str, optional
        Columns of 95% confidence limits, used to derive standard errors when ``se`` is not
        given.
    se : str, optional
        Column of standard errors. With ``transform=True`` it must be on the transformed (log
        or logit) scale.
    count : str, optional
        Numerator column for proportions; with no ``se`` or limits the Wilson 95% limits of
        ``count / population`` (:func:`wilson_ci`) supply the standard errors.
    value_type : {0, 1, 2}, default 0
        0 = other (e.g. life expectancy), 1 = rate, 2 = proportion (values between 0 and 1).
    transform : bool, default False
        Fit rates on the log scale and proportions on the logit scale, then back-transform.
        Only allowed for ``value_type`` 1 or 2.
    multiplier : float, default 1
        Scale the SII and its limits (e.g. 100 for percentages). A negative multiplier reverses
        the polarity: the SII changes sign and the RII and its limits are inverted.
    n_sims : int, default 100000
        Number of simulations for the confidence limits.
    confidence : float, default 0.95
        Confidence level for the SII (and RII) limits, fraction or percentage.
    rii : bool, default False
        Also return the RII and its limits.
    seed : int or numpy.random.Generator, optional
        Seed for reproducible simulated limits.
    most_deprived_first : bool, default True
        If False, the highest quantile label is the most deprived.

    Returns
    -------
    SIIResult
        SII, limits, optional RII and limits, and the intercept. NaN (with ``note``) when a
        value, population or standard error is missing or a population is zero.

    Raises
    ------
    ValueError
        Fewer than 2 quantiles (PHE recommends 5 to 100), negative populations, counts or
        standard errors, proportions or their limits outside [0, 1], non-positive
        rates with ``transform=True``, or no way to obtain standard errors.

    Notes
    -----
    Quantiles are ordered from most to least deprived. With population :math:`p_i`, share
    :math:`a_i = p_i/\sum p`, the relative rank of quantile :math:`i` is the midpoint of its
    band in the cumulative population distribution,

    .. math:: x_i = \sum_{j<i} a_j + a_i/2 .

    The fit is the weighted least-squares line :math:`y_i = \beta_0 + \beta_1 x_i` with
    weights :math:`a_i` (equivalently, ordinary least squares of :math:`\sqrt{a_i}\,y_i` on
    :math:`\sqrt{a_i}` and :math:`\sqrt{a_i}\,x_i` with no intercept: the square-root
    transformation that allows for heteroskedasticity between quantiles of unequal size).
    This matches the published PHEindicatormethods expected values to machine precision.
    :math:`y_i` is the value, or :math:`\ln` value (rates) / :math:`\operatorname{logit}`
    value (proportions) when ``transform=True``; :math:`f^{-1}` is the inverse transform
    (identity when not transformed).

    .. math::

        \mathrm{SII} = f^{-1}(\beta_0 + \beta_1) - f^{-1}(\beta_0), \qquad
        \mathrm{RII} = f^{-1}(\beta_0 + \beta_1) / f^{-1}(\beta_0),

    so the SII is the modelled gap between the least and the most deprived ends of the
    population (rank 1 minus rank 0) and the RII their ratio. Standard errors come from the
    ``se`` column or, from 95% limits, :math:`s_i = (U_i - L_i)/(2 \times 1.96)` (on the
    transformed scale, :math:`(f(U_i) - f(L_i))/(2 \times 1.96)`, when ``transform=True``).
    The standard errors do not weight the regression; they drive the simulation: ``n_sims``
    times, each :math:`y_i` is drawn from :math:`N(y_i, s_i^2)`, the line refitted and the
    SII / RII recomputed; the limits are the :math:`\alpha/2` and :math:`1-\alpha/2`
    sample quantiles. The SII is then multiplied by ``multiplier``; with a negative
    multiplier the RII becomes :math:`1/\mathrm{RII}` (limits inverted and swapped).
    """
    c = _confidence(confidence)
    if value_type not in (0, 1, 2):
        raise ValueError("value_type must be 0 (other), 1 (rate) or 2 (proportion)")
    if transform and value_type == 0:
        raise ValueError("transform=True needs value_type 1 (rate) or 2 (proportion)")
    if value is None and not (value_type == 2 and count is not None):
        raise ValueError("value is required (or count + population for a proportion)")
    has_cls = lower is not None and upper is not None
    if se is None and not has_cls and not (value_type == 2 and count is not None):
        raise ValueError("give se, or both lower and upper 95% limits")
    if multiplier == 0:
        raise ValueError("multiplier must not be 0")

    d = df.sort_values(quantile, ascending=most_deprived_first, kind="stable")
    k = len(d)
    if k < 2:
        raise ValueError("at least 2 quantiles are needed (PHE recommends 5 to 100)")
    pop = _as_float(d[population])
    if np.any(pop[~np.isnan(pop)] < 0):
        raise ValueError("populations must be >= 0")
    if count is not None:
        cnt = _as_float(d[count])
        if np.any(cnt[~np.isnan(cnt)] < 0):
            raise ValueError("counts must be >= 0")
    if value is not None:
        y = _as_float(d[value])
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            y = _as_float(d[count]) / pop

    if se is not None:
        s = _as_float(d[se])
        if np.any(s[~np.isnan(s)] < 0):
            raise ValueError("standard errors must be >= 0")
        lo = hi = None
    else:
        if has_cls:
            lo, hi = _as_float(d[lower]), _as_float(d[upper])
        else:
            lo, hi = wilson_ci(_as_float(d[count]), pop, 0.95)
            lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        s = None

    if value_type == 2:
        for name, arr in (("value", y), ("lower", lo), ("upper", hi)):
            if arr is not None and np.any((arr[~np.isnan(arr)] < 0) | (arr[~np.isnan(arr)] > 1)):
                raise ValueError(f"proportion {name}s must be between 0 and 1")

    if transform:
        fwd, inv = (np.log, np.exp) if value_type == 1 else (_logit, _expit)
        with np.errstate(invalid="ignore", divide="ignore"):
            if np.any(y[~np.isnan(y)] <= 0) or (value_type == 2 and np.any(y[~np.isnan(y)] >= 1)):
                raise ValueError("transform needs values strictly inside the valid range")
            yt = fwd(y)
            if s is None:
                s = (fwd(hi) - fwd(lo)) / (2 * Z_95_SE)
    else:
        yt = y
        inv = None
        if s is None:
            s = (hi - lo) / (2 * Z_95_SE)

    missing = np.isnan(yt) | np.isnan(pop) | np.isnan(s) | ~np.isfinite(yt)
    if missing.any() or np.any(pop == 0):
        return _nan_result(
            c, k, rii, "missing value, population or standard error, or zero population"
        )

    a = pop / pop.sum()
    rank = np.cumsum(a) - a / 2
    # Weighted least squares: beta = (X'AX)^-1 X'A y, linear in y -> one 2 x k hat matrix.
    x_mat = np.column_stack([np.ones(k), rank])
    xtw = x_mat.T * a
    hat = np.linalg.solve(xtw @ x_mat, xtw)  # (2, k)

    def _stats(b: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        b0, b1 = b[..., 0], b[..., 1]
        if inv is None:
            top, bottom = b0 + b1, b0
        else:
            top, bottom = inv(b0 + b1), inv(b0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return top - bottom, top / bottom, bottom

    beta = hat @ yt
    sii_v, rii_v, icept = _stats(beta)

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    alpha = 1 - c
    sims_sii = np.empty(n_sims)
    sims_rii = np.empty(n_sims)
    chunk = max(1, 2_000_000 // k)
    for start in range(0, n_sims, chunk):
        m = min(chunk, n_sims - start)
        draws = yt + s * rng.standard_normal((m, k))
        sv, rv, _ = _stats(draws @ hat.T)
        sims_sii[start : start + m] = sv
        sims_rii[start : start + m] = rv
    q = [alpha / 2, 1 - alpha / 2]
    s_lo, s_hi = np.quantile(sims_sii, q)
    r_lo, r_hi = np.quantile(sims_rii, q)

    sii_out = float(sii_v) * multiplier
    s_lims = sorted((float(s_lo) * multiplier, float(s_hi) * multiplier))
    if multiplier < 0:
        rii_out, r_lims = 1 / float(rii_v), sorted((1 / float(r_lo), 1 / float(r_hi)))
    else:
        rii_out, r_lims = float(rii_v), [float(r_lo), float(r_hi)]
    return SIIResult(
        sii=sii_out,
        sii_lower=s_lims[0],
        sii_upper=s_lims[1],
        rii=rii_out if rii else None,
        rii_lower=r_lims[0] if rii else None,
        rii_upper=r_lims[1] if rii else None,
        intercept=float(icept),
        confidence=c,
        n_quantiles=k,
    )


def sii_by(df: pd.DataFrame, by: str | Sequence[str], **kwargs: Any) -> pd.DataFrame:
    """Apply :func:`sii` to each group of ``df`` and return one row per group.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows for several areas / groupings, one row per quantile within each.
    by : str or sequence of str
        Grouping column(s).
    **kwargs
        Passed to :func:`sii` (``value``, ``population``, ``quantile``, ...). An integer
        ``seed`` is used for every group, so each group's limits are reproducible on their own.

    Returns
    -------
    pandas.DataFrame
        Indexed by the grouping columns, with the :class:`SIIResult` fields as columns.

    Notes
    -----
    See :func:`sii` for the method.
    """
    keys = [by] if isinstance(by, str) else list(by)
    rows = []
    for key, grp in df.groupby(keys, sort=False, dropna=False):
        res = sii(grp, **kwargs).as_dict()
        key_t = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key_t, strict=True)), **res})
    return pd.DataFrame(rows).set_index(keys)


# --------------------------------------------------------------------------------------------
# Significance flags
# --------------------------------------------------------------------------------------------
def significance(lower: ArrayLike, upper: ArrayLike, comparator_value: ArrayLike) -> Any:
    """Fingertips-style comparison of a confidence interval with a comparator.

    Parameters
    ----------
    lower, upper : array_like
        Confidence limits of the value being compared.
    comparator_value : array_like
        Comparator (e.g. the England value or a target), on the same scale as the limits.

    Returns
    -------
    ndarray of str or Series
        ``'higher'`` where the whole interval lies above the comparator, ``'lower'`` where it
        lies below, ``'similar'`` where the interval contains it (touching counts as
        containing), ``'not compared'`` where any input is missing. A str for scalar input.

    Notes
    -----
    Let :math:`(L, U)` be the interval and :math:`c` the comparator: higher if
    :math:`L > c`, lower if :math:`U < c`, otherwise similar. The flags are neutral on
    purpose; whether higher is "better" depends on the indicator's polarity. Fingertips
    shows the 95% level by default and 99.8% as a stricter alternative.
    """
    index = _index_of(lower, upper, comparator_value)
    lo, hi, cv = np.broadcast_arrays(
        _as_float(lower), _as_float(upper), _as_float(comparator_value)
    )
    with np.errstate(invalid="ignore"):
        flag = np.where(lo > cv, "higher", np.where(hi < cv, "lower", "similar")).astype(object)
    flag[np.isnan(lo) | np.isnan(hi) | np.isnan(cv)] = "not compared"
    if index is not None:
        return pd.Series(np.broadcast_to(flag, (len(index),)), index=index, name="significance")
    if flag.ndim == 0:
        return str(flag[()])
    return flag


def compare_proportion(
    x: ArrayLike, n: ArrayLike, comparator_p: ArrayLike, confidence: float = 0.95
) -> Any:
    """Flag ``x / n`` as higher, lower or similar to a comparator proportion.

    Parameters
    ----------
    x, n : array_like
        Numerator and denominator (see :func:`wilson_ci`).
    comparator_p : array_like
        Comparator as a proportion between 0 and 1 (not a percentage).
    confidence : float, default 0.95
        Confidence level of the Wilson interval.

    Returns
    -------
    ndarray of str or Series
        Flags as in :func:`significance`; ``'not compared'`` where ``n == 0`` or missing.

    Notes
    -----
    The Wilson score interval of :math:`x/n` (:func:`wilson_ci`) is compared with
    :math:`p_0`: higher if the lower limit exceeds :math:`p_0`, lower if the upper limit is
    below it, otherwise similar.
    """
    index = _index_of(x, n, comparator_p)
    lo, hi = wilson_ci(_as_float(x), _as_float(n), confidence)
    out = significance(np.asarray(lo), np.asarray(hi), _as_float(comparator_p))
    if index is not None:
        return pd.Series(np.broadcast_to(out, (len(index),)), index=index, name="significance")
    return out
