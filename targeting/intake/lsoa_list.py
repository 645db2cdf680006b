"""A user's list of LSOA codes (a PLUS group): the column of codes, read within the size limit.

A header row is optional: a first row holding an LSOA code is data. The column is the one named like
``lsoa_code``/``LSOA21CD``, else one named ``lsoa…`` or ``code``, else the first. Which codes are English LSOAs
of either edition is :func:`targeting.plus.read_lsoa_list`'s to say.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from geo._errors import Problem
from geo.codes import LSOA
from targeting._limits import MAX_BYTES
from targeting.intake.decode import decode, read_bounded
from targeting.intake.errors import FileProblemsError

__all__ = ["CodeColumn", "read_code_column"]


@dataclass(frozen=True)
class CodeColumn:
    """The column of codes of a list.

    Attributes
    ----------
    name
        The file as messages name it.
    column
        The column's header, or ``column 1`` when the file has no header row.
    cells
        One per data row: its row number in the file, the field stripped ("" where the row is short), and whether
        the row holds any text at all.
    """

    name: str
    column: str
    cells: list[tuple[int, str, bool]]


def _refuse(name: str, message: str) -> FileProblemsError:
    return FileProblemsError(name, [Problem("(file)", message)])


def _rows(source: str | Path | IO[str] | IO[bytes], name: str, limit: int) -> list[list[str]]:
    try:  # a bounded read: /dev/zero or a huge file stops at the limit instead of filling the memory
        if isinstance(source, str | Path) and Path(source).is_dir():
            raise _refuse(name, f"{name} is a folder, not a CSV file")
        raw = read_bounded(source, limit)
    except OSError as exc:
        raise _refuse(name, f"cannot read {name}: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise _refuse(name, f"{name} is larger than {limit / 1e6:.0f} MB; a list of every LSOA in England is under "
                            "1 MB")
    text = raw.lstrip("\ufeff") if isinstance(raw, str) else decode(raw, name)
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise _refuse(name, f"{name} is not a readable CSV: {exc}") from None


def read_code_column(source: str | Path | IO[str] | IO[bytes], *, limit: int = MAX_BYTES) -> CodeColumn:
    """Read a CSV list of codes: its code column, row by row.

    Parameters
    ----------
    source
        A path, or an open file or buffer (text or bytes).
    limit
        The size limit in bytes.

    Returns
    -------
    CodeColumn

    Raises
    ------
    targeting.intake.FileProblemsError
        The file cannot be used at all: a folder, unreadable, too large, not a CSV, or no text.
    """
    name = getattr(source, "name", None) or str(source)
    rows = _rows(source, name, limit)
    if not any(any(c.strip() for c in r) for r in rows):
        raise _refuse(name, f"{name} has no LSOA codes")
    header = [c.strip().lower() for c in rows[0]]
    has_header = not any(LSOA.match(c.strip().upper()) for c in rows[0])
    col = 0
    if has_header:
        col = next((i for i, h in enumerate(header) if "lsoa" in h and ("cd" in h or "code" in h)),
                   next((i for i, h in enumerate(header) if "lsoa" in h or h == "code"), 0))
    body = rows[1:] if has_header else rows
    column = rows[0][col].strip() if has_header and col < len(rows[0]) else "column 1"
    first = 2 if has_header else 1
    cells = [(first + i, r[col].strip() if col < len(r) else "", any(c.strip() for c in r))
             for i, r in enumerate(body)]
    return CodeColumn(name, column, cells)
