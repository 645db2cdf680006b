"""What the rules and the tables share: counts as floats, checked, and cells as plain Python values for export."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _float(values: Any) -> np.ndarray:
    """Counts as a float array (pandas NA and None become NaN)."""
    if isinstance(values, pd.Series):
        return pd.to_numeric(values, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _cell(v: float) -> Any:
    """A plain Python value for export: int for whole numbers, float otherwise, None for NaN."""
    if np.isnan(v):
        return None
    return int(v) if float(v).is_integer() else float(v)


def _check_counts(name: str, v: np.ndarray) -> None:
    if np.any(v[~np.isnan(v)] < 0):
        raise ValueError(f"{name}: counts must not be negative")
