"""Slope and relative index of inequality with simulated confidence limits (``phe_sii``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from targeting.stats._common import Z_95_SE, FloatArray, _as_float, _check_nonneg, _confidence
from targeting.stats.proportions import wilson_ci


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
    _check_options(value, se, lower, upper, count, value_type, transform, multiplier)
    d = df.sort_values(quantile, ascending=most_deprived_first, kind="stable")
    k = len(d)
    if k < 2:
        raise ValueError("at least 2 quantiles are needed (PHE recommends 5 to 100)")
    pop, y = _values(d, value, population, count)
    s, lo, hi = _errors_or_limits(d, pop, se, lower, upper, count)
    if value_type == 2:
        _check_proportions(y, lo, hi)
    yt, s, inv = _fit_scale(y, s, lo, hi, value_type, transform)

    missing = np.isnan(yt) | np.isnan(pop) | np.isnan(s) | ~np.isfinite(yt)
    if missing.any() or np.any(pop == 0):
        return _nan_result(
            c, k, rii, "missing value, population or standard error, or zero population"
        )

    hat = _hat_matrix(pop)
    sii_v, rii_v, icept = _indices(hat @ yt, inv)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    s_lo, s_hi, r_lo, r_hi = _simulated_limits(yt, s, hat, inv, n_sims, rng, c)

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


def _check_options(value: str | None, se: str | None, lower: str | None, upper: str | None, count: str | None,
                   value_type: int, transform: bool, multiplier: float) -> None:
    """Raise ValueError for a combination of :func:`sii` options that cannot give a result."""
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


def _values(d: pd.DataFrame, value: str | None, population: str,
            count: str | None) -> tuple[FloatArray, FloatArray]:
    """The quantiles' populations and values (``count / population`` when no value column is given)."""
    pop = _as_float(d[population])
    _check_nonneg("populations", pop)
    if count is not None:
        _check_nonneg("counts", _as_float(d[count]))
    if value is not None:
        return pop, _as_float(d[value])
    with np.errstate(invalid="ignore", divide="ignore"):
        return pop, _as_float(d[count]) / pop


def _errors_or_limits(
    d: pd.DataFrame, pop: FloatArray, se: str | None, lower: str | None, upper: str | None, count: str | None
) -> tuple[FloatArray | None, FloatArray | None, FloatArray | None]:
    """Standard errors from the ``se`` column, else 95% limits: given, or Wilson limits of ``count / pop``."""
    if se is not None:
        s = _as_float(d[se])
        _check_nonneg("standard errors", s)
        return s, None, None
    if lower is not None and upper is not None:
        return None, _as_float(d[lower]), _as_float(d[upper])
    lo, hi = wilson_ci(_as_float(d[count]), pop, 0.95)
    return None, np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def _check_proportions(y: FloatArray, lo: FloatArray | None, hi: FloatArray | None) -> None:
    """Raise ValueError where a proportion or one of its limits lies outside [0, 1]."""
    for name, arr in (("value", y), ("lower", lo), ("upper", hi)):
        if arr is not None and np.any((arr[~np.isnan(arr)] < 0) | (arr[~np.isnan(arr)] > 1)):
            raise ValueError(f"proportion {name}s must be between 0 and 1")


def _fit_scale(
    y: FloatArray, s: FloatArray | None, lo: FloatArray | None, hi: FloatArray | None, value_type: int,
    transform: bool,
) -> tuple[FloatArray, FloatArray, Callable[[FloatArray], FloatArray] | None]:
    """Values and standard errors on the scale of the fit (log / logit with ``transform``), and the inverse."""
    if transform:
        fwd, inv = (np.log, np.exp) if value_type == 1 else (_logit, _expit)
        with np.errstate(invalid="ignore", divide="ignore"):
            if np.any(y[~np.isnan(y)] <= 0) or (value_type == 2 and np.any(y[~np.isnan(y)] >= 1)):
                raise ValueError("transform needs values strictly inside the valid range")
            yt = fwd(y)
            if s is None:
                s = (fwd(hi) - fwd(lo)) / (2 * Z_95_SE)
        return yt, s, inv
    if s is None:
        s = (hi - lo) / (2 * Z_95_SE)
    return y, s, None


def _hat_matrix(pop: FloatArray) -> FloatArray:
    """The 2 x k matrix taking values to (intercept, slope) of the population-weighted fit on relative rank."""
    k = len(pop)
    a = pop / pop.sum()
    rank = np.cumsum(a) - a / 2
    # Weighted least squares: beta = (X'AX)^-1 X'A y, linear in y -> one 2 x k hat matrix.
    x_mat = np.column_stack([np.ones(k), rank])
    xtw = x_mat.T * a
    return np.linalg.solve(xtw @ x_mat, xtw)


def _indices(
    b: FloatArray, inv: Callable[[FloatArray], FloatArray] | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """SII, RII and the fitted value at rank 0 from fitted (intercept, slope) pairs on the last axis."""
    b0, b1 = b[..., 0], b[..., 1]
    if inv is None:
        top, bottom = b0 + b1, b0
    else:
        top, bottom = inv(b0 + b1), inv(b0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return top - bottom, top / bottom, bottom


def _simulated_limits(yt: FloatArray, s: FloatArray, hat: FloatArray,
                      inv: Callable[[FloatArray], FloatArray] | None, n_sims: int, rng: np.random.Generator,
                      confidence: float) -> tuple[float, float, float, float]:
    """SII and RII limits: quantiles of the indices refitted to ``n_sims`` draws of the values (chunked)."""
    k = len(yt)
    alpha = 1 - confidence
    sims_sii = np.empty(n_sims)
    sims_rii = np.empty(n_sims)
    chunk = max(1, 2_000_000 // k)
    for start in range(0, n_sims, chunk):
        m = min(chunk, n_sims - start)
        draws = yt + s * rng.standard_normal((m, k))
        sv, rv, _ = _indices(draws @ hat.T, inv)
        sims_sii[start : start + m] = sv
        sims_rii[start : start + m] = rv
    q = [alpha / 2, 1 - alpha / 2]
    s_lo, s_hi = np.quantile(sims_sii, q)
    r_lo, r_hi = np.quantile(sims_rii, q)
    return s_lo, s_hi, r_lo, r_hi


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
