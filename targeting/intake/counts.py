"""A user's CSV of codes and counts (the Your data page): its rows, its columns, and each count read.

:func:`read_rows` reads the file within the size and row limits and keeps each row's lines in the file;
:func:`find_columns` finds the code, numerator and denominator columns by their common names; :func:`detect_level`
tells LSOA codes from practice codes; :func:`parse_count` reads one count or says why it is not one. What the
codes mean (which LSOAs and practices exist) is :mod:`targeting.uploads`'s.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np

from geo._errors import plain
from geo.codes import LSOA, PRACTICE_OR_PCN
from targeting._limits import MAX_BYTES
from targeting.intake.decode import decode
from targeting.intake.errors import UploadError

__all__ = ["MAX_COUNT", "MAX_FIELD", "MAX_ROWS", "CsvRows", "csv_columns", "detect_level", "find_columns",
           "parse_count", "read_rows"]

#: Most data rows: an LSOA file for all England has ~34,000 rows.
MAX_ROWS = 100_000
#: Longest field (characters): a code, a count or a column name is a few dozen; a note column may be longer.
MAX_FIELD = 1000
#: The largest count taken: more people than England has many times over is not a count (and 1e308 would make
#: every total infinite).
MAX_COUNT = 1_000_000_000

_CODE_NAMES = {
    "lsoa": ("lsoa_code", "lsoa21cd", "lsoa11cd", "lsoa21", "lsoa11", "lsoa", "lsoa code", "lsoacd"),
    "practice": ("practice_code", "practice", "practice code", "org_code", "ods_code", "gp_code", "prac_code"),
}
_GENERIC_CODE = ("code", "area_code", "geography_code")
_NUM_NAMES = ("numerator", "num", "count", "events", "uptake", "received", "completed", "checks", "health_checks",
              "attended", "vaccinated", "n")
_DEN_NAMES = ("denominator", "den", "eligible", "population", "invited", "offered", "total", "d")
#: A count as published: ASCII digits, optionally with commas between thousands (``1,234``), optionally a
#: decimal point (a fraction is then its own reason). Not ``1e3``, ``1_000``, ``١٢`` (Arabic-Indic) or ``inf``.
_COUNT_RE = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)


@dataclass(frozen=True)
class CsvRows:
    """A CSV's header and data rows, as read.

    Attributes
    ----------
    header
        The column names (stripped, no byte-order mark).
    rows
        The data rows' fields as written.
    lines
        Each data row's first and last line in the file (header = 1): a row over several lines holds a quote
        that runs over line ends.
    """

    header: list[str]
    rows: list[list[str]]
    lines: list[tuple[int, int]]

    def cells(self, column: str) -> list[str]:
        """Each row's field in ``column`` as written ("" where the row is short)."""
        j = self.header.index(column)
        return [r[j] if len(r) > j else "" for r in self.rows]

    def broken_quote(self, i: int) -> str | None:
        """Why data row ``i`` swallowed the rows after it (a quote that runs over line ends), or None."""
        line, end = self.lines[i]
        if end == line:
            return None
        r = self.rows[i]
        j = next((k for k, c in enumerate(r) if "\n" in c or "\r" in c), len(r) - 1)
        name = self.header[j] if j < len(self.header) else ""
        col = f"column {j + 1}" + (f" ({plain(name, 60)})" if name else "")
        return (f"{col} opens a quote that is closed only on line {end}, so lines {line + 1}–{end} were read into "
                "this one field instead of as rows: close or remove the quote and upload the file again")


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower().lstrip("\ufeff"))


def _find(columns: list[str], wanted: tuple[str, ...], *, exclude: tuple[str | None, ...] = ()) -> str | None:
    normed = {_norm(c): c for c in columns if c not in exclude}
    for w in wanted:
        if _norm(w) in normed:
            return normed[_norm(w)]
    # then a column whose name holds one of the words ('checks_done' → checks), longest words first
    for w in sorted((w for w in wanted if len(w) > 2), key=len, reverse=True):
        for c in columns:
            if c not in exclude and _norm(w) in re.split(r"[^a-z0-9]+", str(c).lower()):
                return c
    return None


def _text(data: bytes | str, filename: str, max_bytes: int) -> str:
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > max_bytes:
        raise UploadError(f"{filename}: {size / 1e6:.1f} MB is larger than the {max_bytes / 1e6:.0f} MB limit. "
                          "Upload one row per LSOA or practice, with only the code, numerator and denominator.")
    if size == 0:
        raise UploadError(f"{filename}: the file is empty.")
    return decode(data, filename, strict=True)


def _delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _parse(text: str, delim: str, filename: str, max_rows: int, lines: list[tuple[int, int]]) -> list[list[str]]:
    """Rows of the CSV, each row's lines into ``lines``; a field longer than :data:`MAX_FIELD` is one clear error."""
    rows = []
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delim)  # \r\n, \n or a lone \r (Mac CSV)
    last = 0
    try:
        for row in reader:
            lines.append((last + 1, reader.line_num))
            last = reader.line_num
            for j, cell in enumerate(row):
                if len(cell) > MAX_FIELD:
                    raise UploadError(f"{filename}: row {reader.line_num}, column {j + 1} holds {len(cell):,} "
                                      f"characters; fields longer than {MAX_FIELD} are not accepted (a code or a "
                                      "count is never that long). Check the file is a CSV of codes and counts.")
            rows.append(row)
            if len(rows) > max_rows + 2:  # enough to say the file is too long
                break
    except csv.Error as exc:  # e.g. a field over the csv module's own limit, or a NUL byte
        if "field larger" in str(exc):
            raise UploadError(f"{filename}: row {reader.line_num} holds a field of more than {MAX_FIELD} characters "
                              "(a code or a count is never that long). Check the file is a CSV of codes and "
                              "counts.") from None
        raise UploadError(f"{filename}: row {reader.line_num} cannot be read as CSV ({exc}). Check the file is a "
                          "CSV of codes and counts.") from None
    return rows


def read_rows(data: bytes | str, *, filename: str = "upload.csv", max_bytes: int = MAX_BYTES,
              max_rows: int = MAX_ROWS) -> CsvRows:
    """Read a CSV of codes and counts: its header and every data row (blank lines are not rows).

    Parameters
    ----------
    data
        The file's bytes (or text).
    filename
        Named in messages.
    max_bytes, max_rows
        Size limits.

    Returns
    -------
    CsvRows

    Raises
    ------
    UploadError
        Too large, empty, not a text CSV, a field over :data:`MAX_FIELD` characters, no header, more than
        ``max_rows`` data rows, or none.
    """
    text = _text(data, filename, max_bytes)
    spans: list[tuple[int, int]] = []
    rows = _parse(text, _delimiter(text), filename, max_rows, spans)
    if not rows or not any(c.strip() for c in rows[0]):
        raise UploadError(f"{filename}: no header row. The first row must name the columns, e.g. "
                          "lsoa_code,numerator,denominator.")
    body = rows[1:]
    if not any(any(c.strip() for c in r) for r in body):  # blank lines are not rows
        body = []
    if len(body) > max_rows:
        raise UploadError(f"{filename}: more than the {max_rows:,} data rows allowed. Upload one row per LSOA or "
                          "practice.")
    if not body:
        raise UploadError(f"{filename}: the file has a header but no data rows.")
    return CsvRows([c.strip().lstrip("\ufeff") for c in rows[0]], body, spans[1:len(body) + 1])


def csv_columns(data: bytes | str, *, filename: str = "upload.csv", max_bytes: int = MAX_BYTES) -> list[str]:
    """The column names in a CSV's header row (for choosing columns by hand)."""
    text = _text(data, filename, max_bytes)
    first = text.splitlines()[0] if text.strip() else ""
    try:
        header = next(csv.reader([first], delimiter=_delimiter(text)), [])
    except csv.Error as exc:  # a header field over the csv module's limit, a NUL byte
        raise UploadError(f"{filename}: the header row cannot be read as CSV ({exc}). Check the file is a CSV of "
                          "codes and counts.") from None
    return [c.strip().lstrip("\ufeff") for c in header if c.strip()]


def find_columns(header: list[str], filename: str, *, level: str | None = None, code: str | None = None,
                 numerator: str | None = None, denominator: str | None = None) -> dict[str, str]:
    """The code, numerator and denominator columns: those given, else found by their common names.

    Parameters
    ----------
    header
        The file's column names.
    filename
        Named in messages.
    level
        ``"lsoa"``, ``"practice"`` or None (either): which names a code column may have.
    code, numerator, denominator
        Column names given by hand.

    Returns
    -------
    dict
        ``code``, ``numerator``, ``denominator`` → the file's column.

    Raises
    ------
    UploadError
        ``level`` is neither, or a column is not found (the message lists the columns found).
    """
    if level not in (None, "lsoa", "practice"):
        raise UploadError(f"level must be 'lsoa' or 'practice', not '{level}'")
    code_col = code or (_find(header, _CODE_NAMES[level]) if level else
                        _find(header, _CODE_NAMES["lsoa"]) or _find(header, _CODE_NAMES["practice"])) \
        or _find(header, _GENERIC_CODE)
    num_col = numerator or _find(header, _NUM_NAMES, exclude=(code_col,))
    den_col = denominator or _find(header, _DEN_NAMES, exclude=(code_col, num_col))
    missing = [what for what, col in (("a code column (e.g. lsoa_code or practice_code)", code_col),
                                      ("a numerator column (e.g. numerator)", num_col),
                                      ("a denominator column (e.g. denominator)", den_col)) if col is None]
    for given in (code, numerator, denominator):
        if given is not None and given not in header:
            missing.append(f"the column '{given}'")
    if missing:
        raise UploadError(f"{filename}: cannot find {', '.join(missing)}. Columns in the file: "
                          f"{', '.join(plain(h, 60) for h in header) or 'none'}.")
    return {"code": code_col, "numerator": num_col, "denominator": den_col}


def detect_level(codes: list[str], code_column: str) -> str:
    """``"practice"`` when more codes look like practice (or PCN) codes than LSOA codes, or the column says so."""
    lsoa_like = sum(bool(LSOA.fullmatch(c)) for c in codes)
    prac_like = sum(bool(PRACTICE_OR_PCN.fullmatch(c)) for c in codes)
    named = _norm(code_column) in map(_norm, _CODE_NAMES["practice"])
    return "practice" if prac_like > lsoa_like or named else "lsoa"


def parse_count(text: str) -> tuple[float | None, str | None]:
    """A count of people from a field, or why it is not one.

    Returns
    -------
    tuple
        ``(value, None)``, or ``(None, reason)``: empty, not a number, not plain digits, negative, fractional,
        or above :data:`MAX_COUNT`. A reason never repeats the value (it is shown and downloaded unsuppressed).
    """
    t = str(text).strip()
    if t == "":
        return None, "is empty"
    negative = t.startswith("-")
    if not _COUNT_RE.fullmatch(t[1:] if negative else t):
        try:
            finite = np.isfinite(float(t.replace(",", "")))
        except ValueError:
            finite = False
        if not finite:
            return None, "is not a number"
        return None, ("is not a plain count: write it with the digits 0–9 only (commas between thousands are "
                      "fine), not in scientific notation, with underscores or other digits")
    v = float(t.replace(",", ""))
    if negative and v != 0:
        return None, "is negative"
    if not float(v).is_integer():
        return None, "is not a whole number of people"
    if v > MAX_COUNT:
        return None, f"is more than {MAX_COUNT:,}: not a count of people"
    return abs(v), None
