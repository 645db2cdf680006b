"""Fetch the catalogued sources (:func:`fetch`) or take them from a folder of downloads (:func:`ingest`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from geo.fetch.formats import _convert, _verify
from geo.fetch.http import DEFAULT_DEADLINE, _FetchError, _served_name
from geo.fetch.jobs import _check_schema, _commit, _fetch_job, _local_problem
from geo.fetch.manifest import (
    _entry,
    _Job,
    _locked,
    _read_manifest,
    _remove_stale_temps,
    _select,
    _sha256,
    _TempFiles,
    _write_manifest,
)
from geo.fetch.report import FetchResult, ProgressCallback, _Report, _reporter
from geo.paths import raw_dir
from geo.sources import Source, source_url


def fetch(
    keys: list[str] | None = None,
    *,
    dest: Path | None = None,
    timeout: float = 60,
    retries: int = 2,
    progress: ProgressCallback | bool | None = True,
    force: bool = False,
    deadline: float = DEFAULT_DEADLINE,
    allow_shrink: bool = False,
) -> list[FetchResult]:
    """Download catalogued sources into ``dest``, checking each file before it replaces anything.

    Parameters
    ----------
    keys
        Source keys to fetch; all of :data:`geo.sources.SOURCES` if None.
    dest
        Folder to fill (``dest / source.relpath``); :func:`geo.paths.raw_dir` if None.
    timeout
        Seconds to wait for the server to connect or send more data.
    retries
        Extra attempts after a failure that might be transient (timeout, connection error, HTTP 5xx,
        truncated or corrupt body). An HTTP 404 is not retried.
    progress
        True draws a text bar on stderr, False/None stays quiet, a callable is called as
        ``progress(key, done, total)``.
    force
        Download even when the file's sha256 already matches the manifest.
    deadline
        Seconds allowed for each file in all (every attempt, every page of a layer): a server that keeps a
        download alive by sending a byte now and then still fails when this runs out.
    allow_shrink
        Take a file with fewer rows than the one it replaces (where the catalogue has no exact count).

    Returns
    -------
    list[FetchResult]
        One per source, in order. A failure does not stop the others; check ``ok``.

    Raises
    ------
    ValueError
        If a key is not in the catalogue.
    """
    sources = _select(keys)
    dest = Path(dest) if dest is not None else raw_dir()
    dest.mkdir(parents=True, exist_ok=True)
    report, finish = _reporter(progress)
    results: list[FetchResult] = []
    with _locked(dest):
        manifest = _read_manifest(dest)
        for src in sources:
            result = _fetch_one(src, dest, manifest, timeout, retries, force, report, deadline, allow_shrink)
            finish(src.key)
            results.append(result)
            if result.ok:
                _write_manifest(dest, manifest)
    return results


def ingest(
    from_dir: Path, *, dest: Path | None = None, keys: list[str] | None = None
) -> list[FetchResult]:
    """Copy already-downloaded files from ``from_dir`` into ``dest``, checked and recorded.

    Each source is looked for as ``from_dir / relpath``, then as a file of the same name anywhere under
    ``from_dir``, then under the name the publisher serves it as (e.g. ``census2021-ts021.zip``), which
    is converted as :func:`fetch` would.

    Parameters
    ----------
    from_dir
        Folder holding the downloaded files.
    dest
        Folder to fill; :func:`geo.paths.raw_dir` if None.
    keys
        Source keys to look for; all of the catalogue if None.

    Returns
    -------
    list[FetchResult]
        One per source; those not found have ``ok=False`` and a message saying what was looked for.

    Raises
    ------
    FileNotFoundError
        If ``from_dir`` is not a folder.
    ValueError
        If a key is not in the catalogue.
    """
    from_dir = Path(from_dir)
    if not from_dir.is_dir():
        raise FileNotFoundError(f"{from_dir} is not a folder")
    sources = _select(keys)
    dest = Path(dest) if dest is not None else raw_dir()
    dest.mkdir(parents=True, exist_ok=True)
    by_name: dict[str, list[Path]] = {}
    for path in sorted(from_dir.rglob("*"), key=lambda p: (len(p.parts), str(p))):
        if path.is_file() and ".part." not in path.name:
            by_name.setdefault(path.name.lower(), []).append(path)
    results: list[FetchResult] = []
    with _locked(dest):
        manifest = _read_manifest(dest)
        for src in sources:
            result = _ingest_one(src, from_dir, by_name, dest, manifest)
            results.append(result)
            if result.ok:
                _write_manifest(dest, manifest)
    return results


def _fetch_one(
    src: Source,
    dest: Path,
    manifest: dict[str, Any],
    timeout: float,
    retries: int,
    force: bool,
    report: _Report,
    deadline: float = DEFAULT_DEADLINE,
    allow_shrink: bool = False,
) -> FetchResult:
    """Fetch one catalogued source with retries; never raises for a download problem."""
    url = source_url(src.key)
    target = dest / src.relpath
    if src.manual and f"CORE20_URL_{src.key.upper()}" not in os.environ:
        if target.is_file():
            return FetchResult(src.key, target, True, None, None, "already present (manual download)")
        return FetchResult(src.key, target, False, None, None,
                           f"{src.key}: no direct download; get '{src.title}' by hand from {src.page or url}, "
                           f"then run `python -m targeting fetch --from <folder>` (optional: the tool works "
                           f"without it)")
    job = _Job(src.key, src.relpath, url, src.key, arcgis=src.kind == "arcgis" and _served_name(url) is None)
    return _fetch_job(job, dest, manifest, timeout, retries, force, report, deadline, allow_shrink)


def _ingest_one(
    src: Source, from_dir: Path, by_name: dict[str, list[Path]], dest: Path, manifest: dict[str, Any]
) -> FetchResult:
    """Copy, convert and check one source found under ``from_dir``."""
    target = dest / src.relpath
    name = PurePosixPath(src.relpath).name
    served = [n for n in {_served_name(src.url), _served_name(source_url(src.key))} if n]
    found = from_dir / src.relpath
    if not found.is_file():
        for candidate in [name, *served]:
            hits = by_name.get(candidate.lower())
            if hits:
                found = hits[0]
                break
        else:
            looked = " or ".join(repr(n) for n in [src.relpath, *served])
            return FetchResult(src.key, target, False, None, None,
                               f"{src.key}: not found under {from_dir} (looked for {looked})")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target)
    try:
        if target.exists() and found.resolve() == target.resolve():
            _verify(target, src.relpath)
            rows = _check_schema(target, src.key)
            digest, size = _sha256(target)
        else:
            with _TempFiles(target) as temps:
                raw = temps.new()
                shutil.copyfile(found, raw)
                digest, size, rows = _commit(_convert(raw, temps, src.relpath), target, src.relpath, src.key)
    except _FetchError as exc:
        return FetchResult(src.key, target, False, None, None, f"{src.key}: {exc} — {found}")
    except Exception as exc:  # unreadable file, disk full…: report it, go on
        problem = _local_problem(exc, target)
        return FetchResult(src.key, target, False, None, None, f"{src.key}: {problem} — {found}")
    manifest[src.key] = {**_entry(src.relpath, digest, size, source_url(src.key), rows), "from": str(found)}
    return FetchResult(src.key, target, True, digest, size, f"copied from {found}")
