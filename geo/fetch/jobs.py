"""One file's way in: download (or copy), convert, check as the build reads it, record, move into place."""

from __future__ import annotations

import shutil
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from geo.fetch.arcgis import _fetch_arcgis
from geo.fetch.formats import _check_line_end, _convert, _sniff, _verify
from geo.fetch.http import _CHUNK, DEFAULT_DEADLINE, _download, _FetchError, _pause
from geo.fetch.manifest import _entry, _Job, _remove_stale_temps, _Rows, _sha256, _TempFiles
from geo.fetch.report import FetchResult, _Report
from geo.files import move_into_place
from geo.inputs import EXPECTED_ROWS, REPLACEMENT_TOLERANCE


def _fetch_job(
    job: _Job,
    dest: Path,
    manifest: dict[str, Any],
    timeout: float,
    retries: int,
    force: bool,
    report: _Report,
    deadline: float = DEFAULT_DEADLINE,
    allow_shrink: bool = False,
) -> FetchResult:
    """Download, convert, check and move one file into place, with retries; never raises for a download problem."""
    ends = time.monotonic() + deadline
    target = dest / job.relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target)
    if not force:
        entry = manifest.get(job.key) or {}
        if target.is_file() and entry.get("sha256"):
            digest, size = _sha256(target)
            if digest == entry["sha256"]:
                return FetchResult(job.key, target, True, digest, size, "up to date (sha256 matches manifest)")
    if not (job.rows.exact_catalogued and job.check in EXPECTED_ROWS):
        old = _rows_of(target, job.check)  # a file it would replace: its count, within 0.1%, and never fewer
        if old is not None:
            job = replace(job, rows=_Rows(expected=old, tolerance=REPLACEMENT_TOLERANCE, no_fewer=not allow_shrink,
                                          versus=f"the file it would replace ({target.name})"))
    attempt = 0
    while True:
        try:
            with _TempFiles(target) as temps:
                if job.arcgis:
                    produced = _fetch_arcgis(job, job.url, temps, timeout, report, ends)
                    unannounced = False
                elif job.parts:
                    produced = _download_parts(job, temps, timeout, report, ends)
                    unannounced = False  # each part was checked on its own
                else:
                    raw = temps.new()
                    length = _download(job.url, raw, timeout, lambda d, t: report(job.key, d, t, "B"), ends)
                    unannounced = length is None  # no Content-Length: only the body's end tells
                    produced = _convert(raw, temps, job.relpath)
                digest, size, rows = _commit(produced, target, job.relpath, job.check, unannounced=unannounced,
                                             rows=job.rows)
            break
        except _FetchError as exc:
            if exc.retry and attempt < retries and time.monotonic() < ends:
                _pause(attempt)
                attempt += 1
                continue
            tries = f" (after {attempt + 1} attempts)" if attempt else ""
            return FetchResult(job.key, target, False, None, None, f"{job.key}: {exc}{tries} — {job.url}")
        except Exception as exc:  # a bug or a local problem (disk full…): report it, go on
            problem = _local_problem(exc, target)
            return FetchResult(job.key, target, False, None, None, f"{job.key}: {problem} — {job.url}")
    manifest[job.key] = {**_entry(job.relpath, digest, size, job.url, rows), **dict(job.record)}
    note = f" after {attempt} retr{'y' if attempt == 1 else 'ies'}" if attempt else ""
    return FetchResult(job.key, target, True, digest, size, f"downloaded{note} to {target}")


def _download_parts(job: _Job, temps: _TempFiles, timeout: float, report: _Report, ends: float) -> Path:
    """Download each of ``job.parts`` (CSV reports), check it as a CSV is checked, and zip them as served."""
    out = temps.new()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, url in job.parts:
            raw = temps.new()
            try:
                length = _download(url, raw, timeout, lambda d, t: report(job.key, d, t, "B"), ends)
                kind = _sniff(raw)
                if kind in ("empty", "html"):
                    raise _FetchError("the response is empty" if kind == "empty" else
                                      "the server sent an HTML page, not the report", retry=kind == "empty")
                if length is None:
                    _check_line_end(raw, name)
            except _FetchError as exc:
                raise _FetchError(f"{name} ({url}): {exc}", retry=exc.retry) from None
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # the same reports give the same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(raw, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
    return out


def _local_problem(exc: BaseException, target: Path) -> str:
    """One line for a local failure: a full disk names the device's file, not ``[Errno 28]``."""
    import errno

    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"no space left on the device holding {target.parent}; the earlier file is kept"
    return f"{type(exc).__name__}: {exc}"


def _rows_of(path: Path, key: str) -> int | None:
    """Data rows the build's reader finds in ``path`` (None: no file, no reader, or a file it cannot read)."""
    from geo.inputs import reader_for

    reader = reader_for(key)
    if reader is None or not path.is_file():
        return None
    try:
        df = reader(path)
    except Exception:  # a damaged earlier file sets no count to keep
        return None
    return None if df is None else len(df)


def _commit(produced: Path, target: Path, relpath: str, key: str, *, unannounced: bool = False,
            rows: _Rows | None = None) -> tuple[str, int, int | None]:
    """Check ``produced`` (format, then the build's own reader and row count), hash it, move it onto ``target``.

    ``unannounced``: it was downloaded without a Content-Length, so a body cut short is told only by its end: a
    CSV must then end its last line (one cut inside its last field keeps its field count). ``rows``: the count it
    must have (default: the catalogued edition's, exactly). Returns the sha256, the size and the data rows the
    reader found (None if the build does not read it).
    """
    _verify(produced, relpath)
    rows = _check_schema(produced, key, rows or _Rows())
    if unannounced:
        _check_line_end(produced, relpath)
    digest, size = _sha256(produced)
    move_into_place(produced, target)  # same folder: an atomic rename of a file that passed every check
    return digest, size, rows


def _check_schema(path: Path, key: str, rows: _Rows | None = None) -> int | None:
    """Read ``path`` as the build would (:func:`geo.inputs.read_input`); a refusal is a :class:`_FetchError`."""
    from geo._errors import ValidationError
    from geo.inputs import read_input

    rows = rows or _Rows()
    try:
        if rows.counted:
            df = read_input(key, path, tolerance=rows.tolerance, expected=rows.expected, versus=rows.versus,
                            no_fewer=rows.no_fewer)
        else:
            df = read_input(key, path, expected=0, tolerance=float("inf"))  # reader and columns only
    except ValidationError as exc:
        problems = "; ".join(p.render() for p in exc.problems) or str(exc)
        # a cut or garbled body may come right on a second try
        raise _FetchError(f"the file fails the build's checks: {problems}", retry=True) from None
    except (OSError, ValueError, KeyError, IndexError, TypeError, UnicodeError) as exc:
        raise _FetchError(f"the file cannot be read as the build reads it ({type(exc).__name__}: {exc})",
                          retry=True) from None
    return None if df is None else len(df)
