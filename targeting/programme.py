"""Running an outreach programme over time: calendar months, connectors' names and what was already done.

A plan counts months from 1. :func:`start_month` fixes the calendar month of month 1 (``--start YYYY-MM``, by
default next month), :func:`connector_names` names the connectors (``--names "A,B,C"``), and
:func:`read_done` reads a ``rounds.csv`` of an earlier plan with a ``done`` column (``true``/``false`` or a date)
so the rest can be planned again from the month after the last one done (``--done rounds_done.csv``).
"""

from __future__ import annotations

import calendar
import datetime as _dt
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from targeting._limits import MAX_BYTES, MAX_UPLOAD_MB

__all__ = ["MAX_DONE_BYTES", "MAX_NAME_LENGTH", "Done", "add_months", "connector_names", "month_words",
           "read_done", "start_month"]

#: Longest connector name kept (characters), so a name cannot swamp a sheet's heading.
MAX_NAME_LENGTH = 60
#: Largest ``--done`` file read (bytes): the one size limit of every file a user gives (targeting._limits).
MAX_DONE_BYTES = MAX_BYTES

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def _month(text: str) -> tuple[int, int] | None:
    m = _MONTH.match(str(text))
    if not m:
        return None
    y, mo = int(m.group(1)), int(m.group(2))
    return (y, mo) if 2000 <= y <= 2100 and 1 <= mo <= 12 else None


def add_months(start: str, k: int) -> str:
    """The month ``k`` months after ``start`` (both ``YYYY-MM``)."""
    y, m = _month(start) or (0, 0)
    n = y * 12 + (m - 1) + int(k)
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def month_words(month: str) -> str:
    """``2027-01`` → ``January 2027``."""
    y, m = _month(month) or (0, 0)
    return f"{calendar.month_name[m]} {y}" if y else str(month)


def start_month(start: str | None = None, *, today: _dt.date | None = None) -> str:
    """The calendar month of a plan's month 1, as ``YYYY-MM``.

    Parameters
    ----------
    start
        ``YYYY-MM`` (2000–2100); ``None``: the month after ``today``.
    today
        The date to count from (default: today's date).

    Raises
    ------
    ValueError
        When ``start`` is not a month written ``YYYY-MM``.
    """
    if start is None or str(start).strip() == "":
        d = today or _dt.date.today()
        return add_months(f"{d.year:04d}-{d.month:02d}", 1)
    ym = _month(str(start))
    if ym is None:
        shown = "".join(ch for ch in str(start)[:40] if ch.isprintable())
        raise ValueError(f"the start month must be written YYYY-MM (e.g. 2027-01), from 2000 to 2100, not {shown!r}")
    return f"{ym[0]:04d}-{ym[1]:02d}"


def _clean_name(name: str) -> str:
    text = unicodedata.normalize("NFC", str(name))
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_NAME_LENGTH].strip()


def connector_names(names: Sequence[str] | str | None, connectors: int, *, worker: bool = False) -> list[str]:
    """Each connector's name: the ones given, in order, or "Connector 1", "Connector 2"….

    Parameters
    ----------
    names
        ``None``; a comma-separated string ("Asha,Ben,Chloe"); or a list of names. Control characters become
        spaces, runs of spaces one space, and each name keeps at most :data:`MAX_NAME_LENGTH` characters.
    connectors
        How many connectors (or workers) the plan has.
    worker
        Name the unnamed "Worker 1"… (caseload).

    Raises
    ------
    ValueError
        When the number of names is not ``connectors``, a name is empty, or two names are the same.
    """
    if names is None:
        return [f"{'Worker' if worker else 'Connector'} {c}" for c in range(1, int(connectors) + 1)]
    raw = str(names).split(",") if isinstance(names, str) else list(names)
    clean = [_clean_name(n) for n in raw]
    problems = []
    if len(clean) != int(connectors):
        problems.append(f"{len(clean)} name(s) given for {int(connectors)} connector(s): give one name each")
    if any(not n for n in clean):
        problems.append("a name is empty (two commas together, or one at the end)")
    seen: set[str] = set()
    twice = sorted({n for n in clean if n and (n.casefold() in seen or seen.add(n.casefold()))})
    if twice:
        problems.append("names must differ: " + ", ".join(repr(n) for n in twice[:5]) + " appear(s) twice")
    if problems:
        raise ValueError("connector names: " + "; ".join(problems))
    return clean


@dataclass
class Done:
    """What an earlier plan's ``rounds.csv`` says was done.

    Attributes
    ----------
    visited
        Postcode → households visited (the ``households_est`` of its rows marked done, summed).
    households
        Households visited in all.
    rows, rows_done
        Rows read, and rows marked done.
    last_month
        The latest calendar month with a stop done (``YYYY-MM``), from a date in ``done`` or the row's
        ``month_start``; ``None`` when neither says.
    notes
        Plain-language notes for the cover (e.g. rows with no month).
    """

    visited: dict[str, int]
    households: int
    rows: int
    rows_done: int
    last_month: str | None
    notes: list[str] = field(default_factory=list)


_TRUE = {"true", "yes", "y", "1", "done", "x", "✓"}
_FALSE = {"false", "no", "n", "0", ""}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y")


def _done_value(text: str) -> tuple[bool, str | None] | None:
    """(done, month) of one ``done`` cell; ``None`` when it is neither true/false nor a date."""
    t = str(text).strip()
    low = t.lower()
    if low in _TRUE:
        return True, None
    if low in _FALSE or low == "nan":
        return False, None
    if _month(t):
        return True, start_month(t)
    for fmt in _DATE_FORMATS:
        try:
            d = _dt.datetime.strptime(t, fmt).date()
        except ValueError:
            continue
        if 2000 <= d.year <= 2100:
            return True, f"{d.year:04d}-{d.month:02d}"
    return None


def read_done(source: str | Path | bytes) -> Done:
    """Read a ``rounds.csv`` with a ``done`` column: which postcodes were visited, and when.

    Parameters
    ----------
    source
        A path or the file's bytes (at most :data:`MAX_DONE_BYTES`). It needs the columns ``postcode``,
        ``households_est`` and ``done``; ``month_start`` (``YYYY-MM``) tells when a row marked ``true`` was done.
        ``done`` is ``true``/``false`` (also yes/no, 1/0, blank for not done) or the date it was done
        (``2027-01-15``, ``15/01/2027`` or ``2027-01``).

    Returns
    -------
    Done

    Raises
    ------
    ValueError
        Naming every problem at once: a missing column, or the rows (up to 5 shown) whose ``done`` or
        ``households_est`` cannot be read.
    """
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        name = "the done file"
    else:
        path = Path(source)
        name = path.name
        if path.stat().st_size > MAX_DONE_BYTES:
            raise ValueError(f"{name} is larger than {MAX_UPLOAD_MB} MB: give the rounds.csv of one plan with its "
                             "done column")
        data = path.read_bytes()
    if len(data) > MAX_DONE_BYTES:
        raise ValueError(f"{name} is larger than {MAX_UPLOAD_MB} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{name} is not a CSV file: {str(exc)[:200]}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("postcode", "households_est", "done") if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} needs the columns postcode, households_est and done (a rounds.csv of a plan "
                         f"with a done column added: true/false or the date); missing: {', '.join(missing)}")
    problems: list[str] = []
    visited: dict[str, int] = {}
    last: str | None = None
    undated = done_rows = 0
    months = frame["month_start"] if "month_start" in frame.columns else pd.Series([""] * len(frame))
    for i, (pc, hh, dn, ms) in enumerate(zip(frame["postcode"], frame["households_est"], frame["done"], months,
                                             strict=True), start=2):
        v = _done_value(dn)
        if v is None:
            problems.append(f"row {i}: done {str(dn)[:30]!r} is neither true/false nor a date")
            continue
        if not v[0]:
            continue
        try:
            n = int(float(str(hh).strip()))
        except ValueError:
            problems.append(f"row {i}: households_est {str(hh)[:20]!r} is not a number")
            continue
        if n < 0:
            problems.append(f"row {i}: households_est {n} is negative")
            continue
        key = " ".join(str(pc).upper().split()).lstrip("'")
        visited[key] = visited.get(key, 0) + n
        done_rows += 1
        month = v[1] or (start_month(ms) if _month(ms) else None)
        if month is None:
            undated += 1
        elif last is None or month > last:
            last = month
    if problems:
        more = f" (and {len(problems) - 5} more rows)" if len(problems) > 5 else ""
        raise ValueError(f"{name}: " + "; ".join(problems[:5]) + more)
    notes = []
    if undated:
        notes.append(f"{undated:,} row(s) marked done have no date and no month_start")
    return Done(visited=visited, households=sum(visited.values()), rows=len(frame), rows_done=done_rows,
                last_month=last, notes=notes)
