"""Output helpers shared by the sub-commands."""

from __future__ import annotations

import sys

import pandas as pd

from geo.files import atomic_write
from targeting.output import table_csv, tidy_numbers

__all__ = ["atomic_write", "tidy_numbers", "write_table"]


def write_table(df: pd.DataFrame, fmt: str = "csv", out=None) -> None:
    """Write a table to stdout as CSV (:func:`targeting.output.table_csv`) or GeoJSON."""
    out = out or sys.stdout
    if fmt == "geojson":
        out.write(df.to_json(drop_id=True, na="null"))
        out.write("\n")
        return
    out.write(table_csv(df))
