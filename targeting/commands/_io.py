"""Output helpers shared by the sub-commands."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

__all__ = ["atomic_write", "tidy_numbers", "write_table"]


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write a file by writing a temporary file beside it and renaming it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a written report should read like any other file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_table(df: pd.DataFrame, fmt: str = "csv", out=None) -> None:
    """Write a table to stdout as CSV (booleans as true/false) or GeoJSON."""
    out = out or sys.stdout
    if fmt == "geojson":
        out.write(df.to_json(drop_id=True, na="null"))
        out.write("\n")
        return
    frame = tidy_numbers(df)
    for c in frame.columns:
        if frame[c].dtype == bool:
            frame[c] = frame[c].map({True: "true", False: "false"})
    frame.to_csv(out, index=False, lineterminator="\n")


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
