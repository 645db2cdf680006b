"""An OHID Fingertips "Export data" CSV, read as published: every row, with canonical column names.

:func:`is_fingertips` tells an export by its header; :func:`read_export` checks the file and names the file,
field and row of anything it cannot read. Sorting the rows by the kind of area and choosing an indicator is
:mod:`targeting.fingertips`'s.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from geo._errors import Problem, Problems
from targeting._limits import MAX_BYTES
from targeting.intake.decode import decode, read_bounded
from targeting.intake.errors import FileProblemsError, raise_problems

__all__ = ["HEADER", "is_fingertips", "read_export"]

#: The header Fingertips "Export data" writes, in order.
HEADER: tuple[str, ...] = (
    "Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name", "Area Type", "Sex",
    "Age", "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit", "Upper CI 95.0 limit",
    "Lower CI 99.8 limit", "Upper CI 99.8 limit", "Count", "Denominator", "Value note", "Recent Trend",
    "Compared to England value or percentiles", "Compared to Region value or percentiles", "Time period Sortable",
    "New data", "Compared to goal",
)
#: Fields without which the file cannot be used.
_REQUIRED = ("Indicator ID", "Indicator Name", "Area Code", "Area Name", "Sex", "Age", "Time period", "Value")
_CANON = {"Indicator ID": "indicator_id", "Indicator Name": "indicator_name", "Parent Code": "parent_code",
          "Parent Name": "parent_name", "Area Code": "area_code", "Area Name": "area_name", "Area Type": "area_type",
          "Sex": "sex", "Age": "age", "Category Type": "category_type", "Category": "category",
          "Time period": "period", "Value": "value", "Lower CI 95.0 limit": "lower", "Upper CI 95.0 limit": "upper",
          "Count": "count", "Denominator": "denominator", "Value note": "value_note",
          "Time period Sortable": "period_sortable"}


def _norm(name: str) -> str:
    """A header for matching: lower case, single spaces, no '; measures: Value' suffix."""
    name = re.sub(r";\s*measures:\s*value$", "", str(name).strip(), flags=re.I)
    return re.sub(r"\s+", " ", name).strip().lower()


def _text(data: bytes | str | Path, filename: str, limit: int) -> str:
    if isinstance(data, Path):
        data = read_bounded(data, limit)  # at most one byte over the limit: never the whole of a huge file
    if isinstance(data, bytes) and len(data) > limit:
        raise FileProblemsError(filename, [Problem("(file)", f"the file is larger than the {limit / 1e6:.0f} MB limit "
                                                        "for a Fingertips export")])
    return decode(data, filename)


def _header(text: str) -> list[str]:
    """The header row's fields ([] if it cannot be read as CSV: then the file is not a Fingertips export)."""
    lines = text.lstrip("\ufeff").splitlines()  # \n, \r\n or a lone \r ("Mac CSV")
    try:
        return [c.strip() for c in next(csv.reader(lines[:1]), [])]
    except csv.Error:  # a NUL byte (UTF-16 read as a single-byte code page), a field over the csv limit
        return []


def is_fingertips(data: bytes | str, *, limit: int = MAX_BYTES) -> bool:
    """Whether a file's header is a Fingertips export's (its required fields are all there)."""
    try:
        text = _text(data[:20_000] if isinstance(data, bytes | str) else data, "file", limit)
    except FileProblemsError:
        return False
    have = {_norm(c) for c in _header(text)}
    return all(_norm(c) in have for c in _REQUIRED)


def _numbers(df: pd.DataFrame, columns: list[str], problems: Problems, *, nonneg: bool) -> None:
    """Text to numbers in place (thousands separators allowed, blanks kept missing), recording bad values."""
    for col in columns:
        raw = df[col]
        text = raw.astype(str).str.strip().str.replace(",", "", regex=False)
        blank = text.eq("") | text.eq("nan")
        num = pd.to_numeric(text.mask(blank), errors="coerce")
        bad = num.isna() & ~blank
        if bad.any():
            problems.add(col, f"{int(bad.sum())} value(s) are not numbers", _rows(bad), raw[bad].head(3).tolist())
        if nonneg and (neg := num < 0).any():
            problems.add(col, f"{int(neg.sum())} negative value(s)", _rows(neg), num[neg].head(3).tolist())
        df[col] = num


def _rows(mask: pd.Series) -> list[int]:
    """The first 20 rows where ``mask`` holds, as a spreadsheet numbers them (header = row 1)."""
    return [int(i) + 2 for i in np.flatnonzero(np.asarray(mask))[:20]]


def read_export(data: bytes | str | Path, *, filename: str | None = None,
                limit: int = MAX_BYTES) -> tuple[str, pd.DataFrame]:
    """Read a CSV written by Fingertips "Export data", unchanged.

    Parameters
    ----------
    data
        The file's bytes or text, or its path.
    filename
        Used in messages (default the path's name, or ``fingertips.csv``).
    limit
        The size limit in bytes.

    Returns
    -------
    tuple
        The file's name and its rows: ``row`` (line in the file, header = 1) and the canonical columns
        ``indicator_id``, ``indicator_name``, ``parent_code``, ``parent_name``, ``area_code`` (upper case),
        ``area_name``, ``area_type``, ``sex``, ``age``, ``category_type``, ``category``, ``period``, ``value``,
        ``lower``, ``upper``, ``count``, ``denominator`` (floats, blank = missing), ``value_note``,
        ``period_sortable``.

    Raises
    ------
    targeting.intake.FileProblemsError
        Naming the file, the field and the rows: a required field missing from the header, no data rows, a
        ``Value``, limit, ``Count`` or ``Denominator`` that is not a number, a negative count, or a blank area
        code or indicator.
    """
    name = filename or (data.name if isinstance(data, Path) else "fingertips.csv")
    text = _text(data, name, limit)
    problems = Problems(name)
    try:
        raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileProblemsError(name, [Problem("(file)", f"cannot be read as a Fingertips export CSV: {exc}")]) \
            from None
    have = {_norm(c): c for c in raw.columns}
    missing = [c for c in _REQUIRED if _norm(c) not in have]
    if missing:
        problems.add("(header)", "not a Fingertips export: missing field(s) " + ", ".join(f"'{m}'" for m in missing)
                     + f" (expected the published header: {', '.join(HEADER[:8])}, …)")
        raise_problems(problems)
    df = pd.DataFrame({pub: raw[have[_norm(pub)]].astype(str).str.strip() if _norm(pub) in have else ""
                       for pub in HEADER})
    if df.empty:
        problems.add("(file)", "the file has a header but no data rows")
        raise_problems(problems)
    for col in ("Area Code", "Indicator ID", "Time period"):
        blank = df[col].eq("")
        if blank.any():
            problems.add(col, f"{int(blank.sum())} blank value(s)", list(np.flatnonzero(blank)[:20] + 2))
    _numbers(df, ["Value", "Lower CI 95.0 limit", "Upper CI 95.0 limit"], problems, nonneg=False)
    _numbers(df, ["Count", "Denominator"], problems, nonneg=True)
    raise_problems(problems)
    out = df.rename(columns=_CANON)[list(_CANON.values())]
    for c in ("value", "lower", "upper", "count", "denominator"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    out["area_code"] = out["area_code"].str.upper()
    out.insert(0, "row", np.arange(len(out)) + 2)
    return name, out.reset_index(drop=True)
