"""Output helpers shared by the sub-commands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from geo.files import atomic_write

if TYPE_CHECKING:  # pandas is imported where a table is written: a command that prints stored text skips it
    import pandas as pd

__all__ = ["atomic_write", "tidy_numbers", "write_table"]


def write_table(df: pd.DataFrame, fmt: str = "csv", out=None) -> None:
    """Write a table to stdout as CSV (:func:`targeting.output.table_csv`) or GeoJSON."""
    from targeting.output import table_csv

    out = out or sys.stdout
    if fmt == "geojson":
        out.write(df.to_json(drop_id=True, na="null"))
        out.write("\n")
        return
    out.write(table_csv(df))


def tidy_numbers(df: pd.DataFrame, *args, **kwargs) -> pd.DataFrame:
    """:func:`targeting.output.tidy_numbers` (imported when used)."""
    from targeting.output import tidy_numbers as tidy

    return tidy(df, *args, **kwargs)
