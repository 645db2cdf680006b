"""The fetched files' formats: what a served file is, its conversion to the catalogue's form, and its checks."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from geo.fetch.http import _CHUNK, _FetchError
from geo.fetch.manifest import _TempFiles
from geo.readers._common import expand_limit

_SQLITE_HEADER = b"SQLite format 3\x00"


def _sniff(path: Path) -> str:
    """Return what the file looks like: zip, gzip, sqlite, html, empty or other."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if not head:
        return "empty"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(_SQLITE_HEADER):
        return "sqlite"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype html", b"<html")):
        return "html"
    return "other"


def _convert(raw: Path, temps: _TempFiles, relpath: str) -> Path:
    """Turn the served file into the catalogue's form; return the path holding it (maybe ``raw``)."""
    kind = _sniff(raw)
    if kind == "empty":
        raise _FetchError("the response is empty", retry=True)
    if kind == "html":
        raise _FetchError("the server sent an HTML page, not the data file (a landing page or a moved URL)")
    name = PurePosixPath(relpath).name.lower()
    gz = name.endswith(".gz")
    want = PurePosixPath(name.removesuffix(".gz")).suffix  # .csv, .xlsx, .gpkg, .zip
    if kind == "zip":
        _check_zip(raw)
        if want == ".csv" and _is_xlsx(raw):
            out = temps.new()
            _xlsx_to_csv(raw, out, compress=gz)
            return out
        if want not in (".zip", "") and not (want == ".xlsx" and _is_xlsx(raw)):
            out = temps.new()
            _extract_member(raw, out, relpath, want, compress=gz)
            return out
        return raw
    if gz and kind != "gzip":
        out = temps.new()
        with open(raw, "rb") as src, _gzip_writer(out) as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
        return out
    if not gz and kind == "gzip" and want == ".csv":
        out = temps.new()
        with open(out, "wb") as dst:
            _gunzip(raw, dst)
        return out
    return raw


def _xlsx_to_csv(raw: Path, out: Path, *, compress: bool) -> None:
    """Write the data sheet of a published workbook as CSV (ONS mid-year estimates come as xlsx).

    The sheet is the one named for persons if there is one, else the largest; the header row is the first
    row that names an LSOA code (ONS puts titles and notes above it).
    """
    import openpyxl

    src = open(raw, "rb")  # noqa: SIM115 - closed in the finally below; openpyxl judges a path by its suffix
    try:
        wb = openpyxl.load_workbook(src, read_only=True, data_only=True)
    except Exception as exc:
        src.close()  # openpyxl raises many kinds for a damaged workbook
        raise _FetchError(f"the workbook cannot be read ({exc})") from None
    try:
        names = wb.sheetnames
        sheet = next((n for n in names if "persons" in n.lower()), None) or max(names, key=lambda n: wb[n].max_row or 0)
        rows = wb[sheet].iter_rows(values_only=True)
        header = None
        for row in rows:
            if any(isinstance(c, str) and "lsoa code" in c.lower() for c in row):
                header = row
                break
        if header is None:
            raise _FetchError(f"sheet '{sheet}' has no header row naming an LSOA code")
        width = max(i for i, c in enumerate(header) if c is not None) + 1
        with (_gzip_writer(out) if compress else open(out, "wb")) as fh:
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            w = csv.writer(text)
            w.writerow([str(c).strip() if c is not None else "" for c in header[:width]])
            for row in rows:
                if row and row[0] is not None:
                    w.writerow(["" if c is None else c for c in row[:width]])
            text.flush()
            text.detach()
    finally:
        wb.close()
        src.close()


def _is_xlsx(path: Path) -> bool:
    """Return True if the zip at ``path`` is itself an Office Open XML workbook."""
    with zipfile.ZipFile(path) as zf:
        return "[Content_Types].xml" in zf.namelist()


def _tokens(name: str) -> set[str]:
    """Return the words and numbers of a file name, without its extensions."""
    stem = re.sub(r"(\.(csv|gz|zip|xlsx|gpkg))+$", "", name.lower())
    return set(re.findall(r"[a-z]+|\d+", stem))


def _pick_member(members: list[zipfile.ZipInfo], relpath: str) -> zipfile.ZipInfo:
    """Choose the zip member that best matches the catalogue file name.

    The member sharing most words with ``relpath``'s file name wins (so a Nomis zip's
    ``census2021-ts021-lsoa.csv`` for ``census2021_ts021_…_lsoa21_ew.csv.gz``, an NHS zip's
    ``…-lsoa-all.csv`` for ``…_lsoa_all_….csv.gz``); ties go to the largest member.
    """
    wanted = _tokens(PurePosixPath(relpath).name)
    return max(members, key=lambda i: (len(wanted & _tokens(PurePosixPath(i.filename).name)),
                                       i.file_size))


def _extract_member(raw: Path, out: Path, relpath: str, want: str, *, compress: bool) -> None:
    """Copy the best ``want``-type member of the zip ``raw`` to ``out``, gzipped if ``compress``."""
    with zipfile.ZipFile(raw) as zf:
        members = [
            i for i in zf.infolist()
            if not i.is_dir() and i.filename.lower().endswith(want)
            and "__macosx" not in i.filename.lower() and not PurePosixPath(i.filename).name.startswith(".")
        ]
        if not members:
            names = ", ".join(zf.namelist()[:8]) or "none"
            raise _FetchError(f"the zip holds no {want} file (members: {names})")
        info = _pick_member(members, relpath)
        try:
            with zf.open(info) as src, (_gzip_writer(out) if compress else open(out, "wb")) as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise _FetchError(f"corrupt zip: member {info.filename}: {exc}", retry=True) from None


@contextlib.contextmanager
def _gzip_writer(out: Path) -> Iterator[IO[bytes]]:
    """Open ``out`` for a reproducible gzip stream (no name, ``mtime=0``)."""
    with open(out, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
        yield gz


def _verify(path: Path, relpath: str) -> None:
    """Check the file at ``path`` is a sound instance of what ``relpath``'s extension promises."""
    name = relpath.lower()
    if name.endswith((".zip", ".xlsx")):
        _check_zip(path)
    elif name.endswith(".gz"):
        _gunzip(path)
    elif name.endswith(".gpkg"):
        with open(path, "rb") as fh:
            if fh.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
                raise _FetchError("not a GeoPackage (no SQLite header)", retry=True)
    elif name.endswith(".csv") and _sniff(path) in ("empty", "html"):
        raise _FetchError("not a CSV file")


def _gunzip(path: Path, sink: IO[bytes] | None = None) -> bytes:
    """Decompress the gzip ``path`` (into ``sink`` if given) within the expansion cap; return its last byte.

    A corrupt stream, or one that expands past :func:`geo.readers._common.expand_limit` (a decompression bomb),
    is a :class:`_FetchError`; a failure to write ``sink`` (a full disk) is raised as it is.
    """
    limit = expand_limit(path.stat().st_size)
    out, last = 0, b""
    with gzip.open(path, "rb") as src:
        while True:
            try:
                chunk = src.read(_CHUNK)
            except (OSError, EOFError, zlib.error) as exc:
                raise _FetchError(f"corrupt gzip: {exc}", retry=True) from None
            if not chunk:
                return last
            out += len(chunk)
            if out > limit:  # stop before a bomb fills the disk or the memory
                raise _FetchError(f"the gzip expands to more than {limit:,} bytes from {path.stat().st_size:,}: a "
                                  "decompression bomb or not the data file")
            if sink is not None:
                sink.write(chunk)
            last = chunk[-1:]


def _check_line_end(path: Path, relpath: str) -> None:
    """Refuse a CSV downloaded without a Content-Length whose last line has no line end.

    A download cut inside its last field keeps the field count the readers check. (With a Content-Length a cut
    body is told by its length, so a publisher's file that happens to lack a final line end is not refused.)
    """
    name = relpath.lower()
    if name.endswith(".csv.gz"):
        last = _gunzip(path)
    elif name.endswith(".csv"):
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            last = fh.read(1)
    else:
        return
    if last not in (b"\n", b"\r"):
        raise _FetchError("the CSV ends without a line end: cut short", retry=True)


def _check_zip(path: Path) -> None:
    """Raise a :class:`_FetchError` unless every member of the zip decompresses with a good CRC (and sane size)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            expanded = sum(i.file_size for i in infos)
            if expanded > expand_limit(path.stat().st_size):
                raise _FetchError(f"the zip expands to {expanded:,} bytes from {path.stat().st_size:,}: a "
                                  "decompression bomb or not the data file")
            bad = zf.testzip()
    except NotImplementedError as exc:
        raise _FetchError(f"the zip uses an unsupported compression method ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise _FetchError(f"corrupt zip: {exc}", retry=True) from None
    if bad is not None:
        raise _FetchError(f"corrupt zip: member {bad} fails its CRC check", retry=True)
