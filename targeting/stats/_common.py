"""What every method shares: input conversion and validation, the normal quantile, lazily imported scipy.stats."""

from __future__ import annotations

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

FloatArray = NDArray[np.float64]

#: z used to turn a 95% confidence interval back into a standard error (Fingertips convention).
Z_95_SE = 1.96

#: Two-sided 95% standard normal quantile, exact (for limits computed here).
Z95 = 1.959963984540054


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
