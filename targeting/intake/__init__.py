"""Reading the files a user gives the tool: one bounded decode, one family of errors, one reader per kind of file.

* :mod:`~targeting.intake.decode` — at most the size limit (:mod:`targeting._limits`) read, then the text;
* :mod:`~targeting.intake.errors` — :class:`IntakeError` and its kinds, naming the file, field and row;
* :mod:`~targeting.intake.counts` — a CSV of codes and counts (the Your data page);
* :mod:`~targeting.intake.lsoa_list` — a list of LSOA codes (a PLUS group);
* :mod:`~targeting.intake.fingertips` — an OHID Fingertips export, as published.

Each reader returns what the file holds (rows, a column of codes, a DataFrame); the domain modules
(:mod:`targeting.uploads`, :mod:`targeting.plus`, :mod:`targeting.fingertips`) check it against the atlas.
User files never go through :mod:`geo.readers`, which reads the official files.
"""

from targeting.intake.counts import (
    MAX_COUNT,
    MAX_FIELD,
    MAX_ROWS,
    CsvRows,
    csv_columns,
    detect_level,
    find_columns,
    parse_count,
    read_rows,
)
from targeting.intake.decode import decode, read_bounded
from targeting.intake.errors import FileProblemsError, IntakeError, UploadError, raise_problems
from targeting.intake.fingertips import HEADER, is_fingertips, read_export
from targeting.intake.lsoa_list import CodeColumn, read_code_column

__all__ = [
    "HEADER",
    "MAX_COUNT",
    "MAX_FIELD",
    "MAX_ROWS",
    "CodeColumn",
    "CsvRows",
    "FileProblemsError",
    "IntakeError",
    "UploadError",
    "csv_columns",
    "decode",
    "detect_level",
    "find_columns",
    "is_fingertips",
    "parse_count",
    "raise_problems",
    "read_bounded",
    "read_code_column",
    "read_export",
    "read_rows",
]
