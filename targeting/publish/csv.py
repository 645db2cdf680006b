"""How every table becomes CSV: tidy numbers, booleans as ``true``/``false``, formula cells escaped."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from geo.files import csv_text

if TYPE_CHECKING:  # pandas is imported where a table is written: a command that prints stored text skips it
    import pandas as pd

__all__ = ["table_csv", "tidy_numbers", "write_table"]


def tidy_numbers(df: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Whole-number float columns become integers (counts), other floats are rounded for reading.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; it is not changed.
    decimals : int
        Places of the floats that are not whole numbers.

    Returns
    -------
    pandas.DataFrame
        A copy with the same columns and ``attrs``.
    """
    import numpy as np
    import pandas as pd

    if not len(df.columns):
        return df.copy()
    cols = {}
    for i in range(len(df.columns)):
        col = df.iloc[:, i]
        if pd.api.types.is_float_dtype(col) and not isinstance(col.dtype, pd.SparseDtype):
            v = col.to_numpy(dtype=float, na_value=np.nan)
            finite = v[~np.isnan(v)]
            if finite.size and (finite % 1 == 0).all() and np.abs(finite).max() < 2**53:
                col = col.astype("Int64")
            else:
                col = col.round(decimals)
        cols[i] = col
    frame = pd.concat(cols, axis=1)  # one frame, not a column set at a time
    frame.columns = df.columns
    frame.attrs = dict(df.attrs)
    return frame


def table_csv(df: pd.DataFrame, *, decimals: dict[str, int] | None = None) -> str:
    """CSV text of a table: tidy numbers, booleans as ``true``/``false``, formula cells escaped.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    decimals : dict of str to int, optional
        Rounds the named columns to their own number of places (e.g. 6 for coordinates) instead of the 3 of
        :func:`tidy_numbers`; they stay numbers.

    Returns
    -------
    str
        The CSV text (:func:`geo.files.csv_text`).
    """
    import pandas as pd

    frame = tidy_numbers(df)
    for c, places in (decimals or {}).items():
        frame[c] = pd.to_numeric(df[c], errors="coerce").astype(float).round(places).to_numpy()
    for c in frame.columns:
        if frame[c].dtype == bool:
            frame[c] = frame[c].map({True: "true", False: "false"})
    return csv_text(frame)


def write_table(df: pd.DataFrame, fmt: str = "csv", out: TextIO | None = None) -> None:
    """Write a table to ``out`` (default stdout) as CSV (:func:`table_csv`) or, with ``fmt="geojson"``, GeoJSON."""
    out = out or sys.stdout
    if fmt == "geojson":
        out.write(df.to_json(drop_id=True, na="null"))
        out.write("\n")
        return
    out.write(table_csv(df))
