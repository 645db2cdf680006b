"""The one bounded decode of a file a user gives: at most the size limit is read, then the bytes become text.

Every reader of a user's file (:mod:`targeting.intake`) reads through here, with the one limit of
:mod:`targeting._limits`. Text is UTF-8 (a byte-order mark dropped), else Windows-1252, as Excel writes a CSV.
A CSV of codes and counts (``strict``) is refused, with the reason, when it is a zip or Excel file, binary, or
text in neither encoding, and UTF-16 (Excel's "Unicode text") is read by its byte-order mark or its NUL bytes.
An export read as published, or an LSOA list, is read whatever it holds: what is left is read as Latin-1 and the
reader says what it cannot use.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from targeting.intake.errors import UploadError

__all__ = ["decode", "read_bounded"]

_ENCODINGS = ("utf-8-sig", "cp1252")
_BOMS_16 = (b"\xff\xfe", b"\xfe\xff")


def read_bounded(source: str | Path | IO[str] | IO[bytes], limit: int) -> bytes | str:
    """At most ``limit + 1`` bytes of a file (or characters of an open text buffer): enough to tell it is too big.

    Parameters
    ----------
    source
        A path, or an open file or buffer.
    limit
        The size limit; a result longer than it means the file is too big.

    Returns
    -------
    bytes or str
        What was read: a huge file or ``/dev/zero`` stops one past the limit instead of filling the memory.

    Raises
    ------
    OSError
        When the file cannot be opened or read.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as fh:
            return fh.read(limit + 1)
    return source.read(limit + 1)


def decode(data: bytes | str, filename: str, *, strict: bool = False) -> str:
    """The text of a user's file (text given as text is returned as it is).

    Parameters
    ----------
    data
        The file's bytes (already within the size limit) or text.
    filename
        Named in messages.
    strict
        A CSV of codes and counts: refuse what is not text, read UTF-16, and never guess at the last.

    Returns
    -------
    str

    Raises
    ------
    UploadError
        Only when ``strict``: a zip or Excel file, a binary file, UTF-16 that does not decode, or text that is
        neither UTF-8 nor Windows-1252.
    """
    if isinstance(data, str):
        return data
    if strict:
        if data[:4] == b"PK\x03\x04":
            raise UploadError(f"{filename}: this looks like an Excel or zip file. Save it as CSV (comma-separated) "
                              "first.")
        if data[:2] in _BOMS_16 or (len(data) > 1 and data[:200].count(0) > len(data[:200]) // 4):
            return _utf16(data, filename)
        if b"\x00" in data[:4096]:
            raise UploadError(f"{filename}: this is not a text file. Save it as CSV (comma-separated) first.")
    for enc in _ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    if strict:
        raise UploadError(f"{filename}: cannot read the text (not UTF-8 or Windows-1252).")
    return data.decode("latin-1")


def _utf16(data: bytes, filename: str) -> str:
    """Excel's "Unicode text" and some exports: UTF-16 with (or without) a byte-order mark."""
    try:
        return data.decode("utf-16" if data[:2] in _BOMS_16 else
                           ("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"))
    except UnicodeDecodeError:
        raise UploadError(f"{filename}: cannot read the text (it looks like UTF-16 but does not decode). "
                          "Save it as CSV UTF-8.") from None
