"""Output helpers shared by the sub-commands."""

from __future__ import annotations

import sys

import pandas as pd

from geo.files import atomic_write, csv_text

__all__ = ["atomic_write", "tidy_numbers", "write_table"]


def write_table(df: pd.DataFrame, fmt: str = "csv", out=None) -> None:
    """Write a table to stdout as CSV (booleans as true/false, formula cells escaped) or GeoJSON."""
    out = out or sys.stdout
    if fmt == "geojson":
        out.write(df.to_json(drop_id=True, na="null"))
        out.write("\n")
        return
    frame = tidy_numbers(df)
    for c in frame.columns:
        if frame[c].dtype == bool:
            frame[c] = frame[c].map({True: "true", False: "false"})
    out.write(csv_text(frame))


def tidy_numbers(df: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Whole-number float columns become integers (counts), other floats are rounded for reading."""
    frame = df.copy()
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_float_dtype(col) and not isinstance(col.dtype, pd.SparseDtype):
            finite = col.dropna()
            if len(finite) and (finite % 1 == 0).all() and finite.abs().max() < 2**53:
                frame[c] = col.astype("Int64")
            else:
                frame[c] = col.round(decimals)
    return frame
