"""How a user's own data leaves: the Your data tables as files, named by the rule they were suppressed under.

The tables come suppressed (:func:`targeting.yourdata.your_data_tables`); they are written as they are, formula
cells escaped (:func:`geo.files.csv_text`), into a folder written as a unit (:func:`geo.files.write_folder`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from geo.files import csv_text, write_folder

if TYPE_CHECKING:
    import pandas as pd

    from targeting.suppression import SuppressionRule
    from targeting.yourdata import YourDataTables

__all__ = ["write_your_data", "your_data_files"]


def your_data_files(tables: YourDataTables) -> dict[str, bytes]:
    """File name → CSV bytes (formula cells escaped) for every table, in :data:`targeting.yourdata.FILES` order.

    Under a weak rule the names are the ``…_unsuppressed.csv`` ones (:func:`targeting.yourdata.file_name`).
    """
    from targeting.yourdata import FILES, file_name

    by_name = {"your_data_suppressed.csv": tables.rows, "core20_gap.csv": tables.gap,
               "invalid_rows.csv": tables.invalid}
    return {file_name(name, tables.rule): csv_text(by_name[name]).encode("utf-8") for name in FILES}


def write_your_data(tables: YourDataTables | None, out: str | Path, *,
                    fingertips: pd.DataFrame | None = None, rule: SuppressionRule | None = None) -> list[Path]:
    """Write every table into the folder ``out`` as a unit (:func:`geo.files.write_folder`); return the paths.

    ``fingertips`` (:func:`targeting.yourdata.fingertips_pcn_table`) is written as
    :data:`targeting.yourdata.FINGERTIPS_FILE`; ``tables`` may then be None (an indicator with no counts has no
    Core20 comparison). ``rule`` (default: the tables' rule) names the files: ``…_unsuppressed.csv`` under a weak
    rule. Files of an earlier run that this run does not write are removed; other files are left.
    """
    from targeting.suppression import DEFAULT_RULE
    from targeting.yourdata import FILES, FINGERTIPS_FILE, UNSUPPRESSED, file_name

    rule = rule or (tables.rule if tables is not None else DEFAULT_RULE)
    files = your_data_files(tables) if tables is not None else {}
    if fingertips is not None:
        files[file_name(FINGERTIPS_FILE, rule)] = csv_text(fingertips).encode("utf-8")
    return write_folder(out, files, known=(*FILES, FINGERTIPS_FILE, *UNSUPPRESSED.values()))
