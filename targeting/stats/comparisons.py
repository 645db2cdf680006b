"""Fingertips-style "higher / lower / similar" flags against a comparator."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from targeting.stats._common import _as_float, _index_of
from targeting.stats.proportions import wilson_ci


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
