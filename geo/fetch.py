"""Download the catalogued official datasets into the raw-data folder, safely.

``python -m targeting fetch`` calls :func:`fetch`; ``python -m targeting fetch --from DIR`` calls
:func:`ingest`. Both fill ``dest`` (default :func:`geo.paths.raw_dir`) with the same layout as
:data:`geo.sources.SOURCES` ``relpath``, so the readers find a fresh download and the bundled copy alike.

Guarantees
----------
* Nothing partial or corrupt ever sits at a catalogued path: each file is written to a hidden temporary
  file in the same folder (``.<random>.part.<name>``), checked, then moved into place with
  :func:`geo.files.move_into_place`. On any failure the temporary file is removed and an earlier good file is left as it
  was. Temporary files left by a killed run are removed by the next run.
* Checks: the byte count equals ``Content-Length``; a ``.zip``/``.xlsx`` opens and passes
  :meth:`zipfile.ZipFile.testzip`; a ``.gz`` decompresses to the end; a ``.gpkg`` starts with the SQLite
  header; an HTML page served instead of data is refused.
* ``dest/manifest.json`` maps each source key to ``{"path", "sha256", "size", "url", "fetched_at"}``
  (UTC, ISO 8601); it is merged with earlier entries and replaced atomically. A file whose sha256 already
  matches its entry is not downloaded again unless ``force``.
* An exclusive lock (:func:`geo.files.file_lock`) on ``dest/.fetch.lock`` is held for the whole run, so two fetches at
  once wait for each other instead of mixing their files.

Format conversion
-----------------
Some publishers serve a different form than the catalogue stores:

* the catalogue wants ``.csv.gz`` (or ``.csv``) and a ``.zip`` is served (Nomis bulk census zips, NHS
  Digital zips): the member is chosen by :func:`_pick_member` — the ``.csv`` whose name shares most words
  with the catalogue file name (so ``census2021-ts021-lsoa.csv`` for an ``…_lsoa21_ew.csv.gz``), the
  largest on a tie — and gzipped (or copied) into place;
* ``.csv.gz`` wanted and a plain CSV served: it is gzipped;
* ``.xlsx`` wanted and a zip holding a workbook served: the workbook is extracted.

Gzip output is written with ``mtime=0`` so the same content always has the same sha256.

Newest editions
---------------
``python -m targeting fetch --latest`` calls :func:`fetch_latest`: resolvers read each publisher's own page (NHS
England's "Patients Registered at a GP Practice" and QOF series pages, :data:`LANDING_PAGES`) or ODS's report API to
find the newest edition (:func:`resolve_latest`), and each file found goes through the same download, conversion and
checks as a catalogued one, with its kind's reader and row count. ``python -m targeting sources --check`` calls
:func:`check_latest`.

Row counts (issue 24)
---------------------
* A catalogued edition (``fetch``, ``fetch --from``, or a ``--latest`` edition that is the catalogued one) has
  exactly its catalogued rows (:data:`geo.inputs.EXPECTED_ROWS`), so a practice map cut at a line end, with no
  Content-Length or a matching short one, is refused.
* A file that replaces an earlier one of the same kind and edition keeps its row count within 0.1%
  (:data:`geo.inputs.REPLACEMENT_TOLERANCE`), and never has fewer rows unless ``allow_shrink``
  (``fetch --allow-shrink``).
* A newer edition is compared with the nearest edition of its kind whose count is known (an earlier ``--latest``
  edition recorded in the manifest, or the catalogued one), within :func:`geo.inputs.newer_edition_tolerance` of
  the months between them (1% a month, at least 2%, at most 25%): a new month has other practices. A first
  download of a new month cut by a row or two at a line end cannot be told by its count; fetching it again
  (the replacement rule) can.

ArcGIS layers (``kind == "arcgis"``) are queried page by page (``resultOffset``/``resultRecordCount``,
following ``exceededTransferLimit``) and written as a GeoPackage (EPSG:4326) or, for lookups, as the
gzipped CSV of the attribute table. ONS column names (``LSOA21CD``…) are kept as published. If a
``CORE20_URL_<KEY>`` override of such a source names a data file (``….gpkg``, ``….zip``, ``….csv.gz``…)
instead of a layer, that file is downloaded like any other.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import IO, Any

from geo.files import atomic_write, file_lock, move_into_place
from geo.inputs import EXPECTED_ROWS, REPLACEMENT_TOLERANCE, ROW_TOLERANCE, newer_edition_tolerance
from geo.paths import raw_dir
from geo.readers._common import expand_limit
from geo.sources import SOURCES, Source, source_url

__all__ = ["LANDING_PAGES", "RESOLVERS", "Edition", "FetchResult", "ProgressCallback", "Resolved", "check_latest",
           "fetch", "fetch_latest", "format_results", "ingest", "landing_url", "resolve_latest"]

ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(key, done, total)``: bytes so far (features for ArcGIS layers); ``total`` None if unknown."""

_MANIFEST = "manifest.json"
_LOCK = ".fetch.lock"
_CHUNK = 1 << 16
_USER_AGENT = "core20plus-targeting/0.1 (python urllib)"
_ARCGIS_PAGE_SIZE = 2000  # ArcGIS servers cap pages at their maxRecordCount anyway
_ARCGIS_MAX_PAGES = 10_000
_BACKOFF = 1.0  # seconds before the first retry; doubles each time
_SQLITE_HEADER = b"SQLite format 3\x00"
#: Seconds allowed for one file, all attempts included (the largest, Code-Point Open, is about 20 MB).
DEFAULT_DEADLINE = 1800.0
#: Largest download accepted (bytes): the largest catalogued file is under 200 MB.
MAX_DOWNLOAD = 2_000_000_000

# An internal progress reporter also receives the unit ("B" or "features").
_Report = Callable[[str, int, int | None, str], None]


@dataclass(frozen=True)
class FetchResult:
    """Outcome of fetching or ingesting one catalogued source.

    Attributes
    ----------
    key
        The source key in :data:`geo.sources.SOURCES`.
    path
        Where the file is (or would have been) written.
    ok
        True if the file at ``path`` is present and checked.
    sha256
        Hex digest of the file at ``path`` (None on failure).
    bytes
        Size of the file at ``path`` (None on failure).
    message
        What happened; on failure it names the key, the URL and the problem.
    """

    key: str
    path: Path
    ok: bool
    sha256: str | None
    bytes: int | None
    message: str


class _FetchError(Exception):
    """Something wrong with one download; ``retry`` says whether trying again could help."""

    def __init__(self, message: str, *, retry: bool = False):
        super().__init__(message)
        self.retry = retry


# --------------------------------------------------------------------------------------------- public


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


def format_results(results: list[FetchResult]) -> str:
    """Return a human-readable summary: one line per source and a closing count.

    Parameters
    ----------
    results
        As returned by :func:`fetch` or :func:`ingest`.

    Returns
    -------
    str
        Lines ``ok   <key> <size> <sha256 prefix> <message>`` or ``FAIL <message>``.
    """
    lines = []
    width = max([18, *(len(r.key) for r in results if r.ok)])
    for r in results:
        if r.ok:
            digest = (r.sha256 or "")[:12]
            lines.append(f"ok    {r.key:<{width}} {_human(r.bytes or 0):>9}  {digest}  {r.message}")
        else:
            lines.append(f"FAIL  {r.message}")
    failed = sum(not r.ok for r in results)
    lines.append(f"{len(results) - failed} ok, {failed} failed")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- newest editions


#: The publishers' own pages (and ODS's report API) the ``--latest`` resolvers read. ``CORE20_URL_<NAME>`` (name
#: upper-cased, e.g. ``CORE20_URL_GP_REG_PAGE``) overrides one, as ``CORE20_URL_<KEY>`` does a catalogued file.
LANDING_PAGES: dict[str, str] = {
    "gp_reg_page": "https://digital.nhs.uk/data-and-information/publications/statistical/"
                   "patients-registered-at-a-gp-practice",
    "qof_page": "https://digital.nhs.uk/data-and-information/publications/statistical/"
                "quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data",
    "ods_api": "https://www.odsdatasearchandexport.nhs.uk/api/getReport",
}
#: The resolvers, in the order they run, and the landing page each reads.
RESOLVERS: dict[str, str] = {"gp_registrations": "gp_reg_page", "qof": "qof_page", "ods": "ods_api"}
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_MONTH_SLUG = re.compile(r"/(" + "|".join(_MONTH_NAMES) + r")-(\d{4})/?$")
_YEAR_SLUG = re.compile(r"/(\d{4})-(\d{2})/?$")
_MONTH_PAGES = 6  # month pages read for the newest practice map and quin-age (a placeholder page is skipped)
_LSOA_PAGES = 9  # month pages read back for the newest LSOA-level file (published each quarter)
_YEAR_PAGES = 3  # QOF year pages read for the newest raw-data zip
_PAGE_LIMIT = 10_000_000  # bytes of a landing page read at most
#: Which file of a month page is which kind (``geo.months.KINDS``), by its name.
_GP_FILES = {
    "map": re.compile(r"^gp-reg-pat-prac-map[\w.-]*\.(zip|csv)$"),
    "quin_age": re.compile(r"^gp-reg-pat-prac-quin-age[\w.-]*\.(zip|csv)$"),
    "lsoa": re.compile(r"^gp-reg-pat-prac-lsoa(?![\w.-]*-(?:fe)?male\.csv$)[\w.-]*\.(zip|csv)$"),
}
#: The catalogue key whose reader, columns and row count a newer edition of each kind must pass.
_CHECK = {"map": "gp_reg_map", "quin_age": "gp_reg_quin_age", "lsoa": "gp_reg_lsoa", "qof": "qof_2223",
          "epraccur": "epraccur", "epcn": "epcn"}
#: The manifest's name of each kind of newer edition (``<name>@<edition>``).
_MANIFEST_NAME = {"map": "gp_reg_map", "quin_age": "gp_reg_quin_age", "lsoa": "gp_reg_lsoa", "qof": "qof_prevalence",
                  "epraccur": "epraccur", "epcn": "epcn"}
_QOF_ZIP = re.compile(r"^qof[ _-]?(?:20)?(\d{2})-?(\d{2})(?!\d)[^/]*\.zip$")


@dataclass(frozen=True)
class Edition:
    """One file of the newest edition a resolver found on its publisher's page.

    Attributes
    ----------
    resolver
        ``gp_registrations``, ``qof`` or ``ods``.
    kind
        ``map``, ``quin_age``, ``lsoa`` (a registration month's files, :data:`geo.months.KINDS`), ``qof``,
        ``epraccur`` or ``epcn``.
    edition
        ``YYYY-MM`` (a registration month; for the ODS reports, made on request, the month of the request) or
        ``YYYY-YY`` (a QOF year).
    title
        The edition in words, e.g. ``July 2026`` or ``QOF 2024-25``.
    url
        The file to download (for ``epcn`` the first of its two reports).
    relpath
        Where it is saved in the raw-data folder (the names :func:`geo.months.discover` finds).
    page
        The page (or API) it was found on.
    parts
        ``(member, url)`` of reports saved together in one zip (the ODS ``epcn`` and ``epcncorepartnerdetails``).
    """

    resolver: str
    kind: str
    edition: str
    title: str
    url: str
    relpath: str
    page: str
    parts: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """The manifest key: the kind and the edition, e.g. ``gp_reg_map@2026-07`` or ``qof_prevalence@2024-25``."""
        return f"{_MANIFEST_NAME[self.kind]}@{self.edition}"


@dataclass(frozen=True)
class Resolved:
    """What one resolver found: the newest edition's files, or the one-line reason it could not tell.

    Attributes
    ----------
    resolver
        Its name (a key of :data:`RESOLVERS`).
    page
        The landing page or API it read.
    editions
        The files of the newest edition (empty on failure).
    problem
        None, or what went wrong, naming the page.
    notes
        Things worth saying that are not failures (a month page skipped, no LSOA-level file lately…).
    """

    resolver: str
    page: str
    editions: tuple[Edition, ...] = ()
    problem: str | None = None
    notes: tuple[str, ...] = ()


def landing_url(name: str) -> str:
    """Return the URL of a landing page of :data:`LANDING_PAGES`, honouring ``CORE20_URL_<NAME>``."""
    return os.environ.get(f"CORE20_URL_{name.upper()}", LANDING_PAGES[name])


def resolve_latest(names: list[str] | None = None, *, timeout: float = 60, retries: int = 2,
                   deadline: float = 300.0, today: datetime | None = None) -> list[Resolved]:
    """Read each publisher's own page (or API) and name the files of its newest edition.

    Parameters
    ----------
    names
        Resolvers to run (keys of :data:`RESOLVERS`); all if None.
    timeout
        Seconds to wait for a server to connect or send more data.
    retries
        Extra attempts at a page after a failure that might be transient.
    deadline
        Seconds allowed for each resolver's pages in all.
    today
        The date an ODS report is made on (now, UTC, if None).

    Returns
    -------
    list[Resolved]
        One per resolver. An unreachable publisher or a page of another shape gives ``problem`` (one line naming
        the page); it never raises.

    Raises
    ------
    ValueError
        If a name is not a resolver.
    """
    names = _resolver_names(names)
    out = []
    for name in names:
        page = landing_url(RESOLVERS[name])
        ends = time.monotonic() + deadline
        try:
            if name == "gp_registrations":
                out.append(_resolve_gp(page, timeout, retries, ends, today or datetime.now(UTC)))
            elif name == "qof":
                out.append(_resolve_qof(page, timeout, retries, ends))
            else:
                out.append(_resolve_ods(page, today or datetime.now(UTC)))
        except _FetchError as exc:
            out.append(Resolved(name, page, problem=str(exc)))
    return out


def fetch_latest(
    names: list[str] | None = None,
    *,
    dest: Path | None = None,
    timeout: float = 60,
    retries: int = 2,
    progress: ProgressCallback | bool | None = True,
    force: bool = False,
    deadline: float = DEFAULT_DEADLINE,
    today: datetime | None = None,
    allow_shrink: bool = False,
) -> list[FetchResult]:
    """Find the newest edition of each publisher's files (:func:`resolve_latest`) and download them into ``dest``.

    Every file goes through the checks of :func:`fetch` (deadline, a complete body, the expansion caps, the
    build's reader and the columns it needs) and the row counts of the module's notes: the catalogued edition's
    exactly where it is that edition; else the file it replaces within 0.1% (never fewer rows without
    ``allow_shrink``); else the nearest edition of its kind within :func:`geo.inputs.newer_edition_tolerance`.
    A registration month's files are saved under the names :func:`geo.months.discover` finds
    (``gp/gp-reg-pat-prac-map_YYYY-MM.zip``…), QOF's prevalence as ``gp/qof/QOF_YYYY-YY_PREVALENCE_YYYY.csv.gz``,
    the ODS reports as ``gp/epraccur_YYYY-MM.csv.gz`` and ``gp/ePCN_YYYY-MM.zip`` (its two reports as served). The
    manifest entry of each (key ``<kind>@<edition>``, e.g. ``gp_reg_map@2026-07``, ``qof_prevalence@2024-25``)
    records the edition, its title,
    the resolver and the page it was found on.

    Parameters
    ----------
    names
        Resolvers to run (keys of :data:`RESOLVERS`); all if None.
    dest, timeout, retries, progress, force, deadline, allow_shrink
        As for :func:`fetch`.
    today
        The date an ODS report is made on (now, UTC, if None).

    Returns
    -------
    list[FetchResult]
        One per file, and one failed result per resolver that could not tell (naming its page).
    """
    resolved = resolve_latest(names, timeout=timeout, retries=retries, deadline=min(deadline, 600.0), today=today)
    dest = Path(dest) if dest is not None else raw_dir()
    dest.mkdir(parents=True, exist_ok=True)
    report, finish = _reporter(progress)
    results: list[FetchResult] = []
    with _locked(dest):
        manifest = _read_manifest(dest)
        for res in resolved:
            if res.problem is not None:
                results.append(FetchResult(res.resolver, dest, False, None, None,
                                           f"{res.resolver}: {res.problem}"))
                continue
            for ed in res.editions:
                record = (("edition", ed.edition), ("edition_title", ed.title), ("resolver", ed.resolver),
                          ("kind", ed.kind), ("page", ed.page)) + ((("parts", dict(ed.parts)),) if ed.parts else ())
                check = _CATALOGUED.get((ed.kind, ed.edition), _CHECK[ed.kind])  # that edition: its exact count
                job = _Job(ed.key, ed.relpath, ed.url, check, rows=_edition_rows(ed, manifest),
                           parts=ed.parts, record=record)
                result = _fetch_job(job, dest, manifest, timeout, retries, force, report, deadline, allow_shrink)
                finish(job.key)
                if result.ok:
                    result = FetchResult(result.key, result.path, True, result.sha256, result.bytes,
                                         f"{ed.title}: {result.message}")
                    _write_manifest(dest, manifest)
                results.append(result)
    return results


def check_latest(names: list[str] | None = None, *, timeout: float = 20.0, retries: int = 1,
                 deadline: float = 120.0, today: datetime | None = None) -> list[str]:
    """Say, per resolver, what its publisher has that is newer than what the atlas was built from.

    The atlas's inputs are those of ``build.json`` in the atlas cache (its registration months under
    ``registrations``, its other files under ``inputs``); the months already in the data folders are those of
    :func:`geo.months.discover`. Nothing is downloaded but the publishers' pages (and the first bytes of an ODS
    report, to see that the API answers).

    Parameters
    ----------
    names
        Resolvers to ask (keys of :data:`RESOLVERS`); all if None.
    timeout, retries, deadline
        As for :func:`resolve_latest`.
    today
        The date an ODS report would be made on (now, UTC, if None).

    Returns
    -------
    list[str]
        One line per resolver, ``<resolver>: <what is newer, or up to date>``; a publisher that cannot be
        reached gives ``<resolver>: could not reach the publisher …`` naming the page.
    """
    from geo.months import discover, month_title

    built = _atlas_build()
    local = discover()
    lines = []
    for res in resolve_latest(names, timeout=timeout, retries=retries, deadline=deadline, today=today):
        if res.problem is not None:
            lines.append(f"{res.resolver}: {res.problem}")
            continue
        found = {e.kind: e for e in res.editions}
        if res.resolver == "gp_registrations":
            lines.append("gp_registrations: " + _gp_news(found, built, local, month_title))
        elif res.resolver == "qof":
            have = sorted(m.group(1) for v in built.get("inputs", {}).values()
                          if (m := re.search(r"QOF_(\d{4}-\d{2})_", str(v.get("path", "")))))
            new = found["qof"]
            if not built:
                lines.append(f"qof: {new.title} is the newest upstream (no atlas built yet)")
            elif not have or new.edition > have[-1]:
                lines.append(f"qof: newer upstream: {new.title} (atlas built from "
                             f"{', '.join('QOF ' + h for h in have) or 'no QOF year'}); run python -m targeting "
                             "fetch --latest qof")
            else:
                lines.append(f"qof: up to date: {new.title} is the newest upstream and the atlas has it")
        else:
            lines.append("ods: " + _ods_news(res, found, built, timeout, deadline))
    return lines


def _atlas_build() -> dict[str, Any]:
    """The atlas's ``build.json`` (empty if there is none or it cannot be read)."""
    from geo.paths import cache_dir

    try:
        data = json.loads((cache_dir() / "atlas" / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _atlas_months(built: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The registration months the atlas describes and the months its LSOA shares come from, oldest first."""
    regs = built.get("registrations") if isinstance(built.get("registrations"), dict) else {}
    months = {str(regs["base"])} if regs.get("base") else set()
    lsoa = set(months)
    for month, meta in (regs.get("months") or {}).items():
        months.add(str(month))
        if isinstance(meta, dict) and meta.get("lsoa_month"):
            lsoa.add(str(meta["lsoa_month"]))
    for key, kinds in (("gp_reg_map", (months,)), ("gp_reg_lsoa", (months, lsoa))):  # an atlas of one month
        m = re.search(r"(\d{4}-\d{2})", Path(str((built.get("inputs") or {}).get(key, {}).get("path", ""))).name)
        if m:
            for into in kinds:
                into.add(m.group(1))
    return sorted(months), sorted(lsoa)


def _gp_news(found: dict[str, Edition], built: dict[str, Any], local: dict[str, Any],
             title: Callable[[str], str]) -> str:
    """One line on the registration months: upstream, in the atlas, in the data folders."""
    months, lsoa = _atlas_months(built)
    here = sorted(m for m, f in local.items() if f.usable)
    here_lsoa = sorted(m for m, f in local.items() if f.lsoa is not None)
    new, new_lsoa = found["map"], found.get("lsoa")
    parts = []
    if months and new.edition <= months[-1]:
        parts.append(f"up to date: {new.title} is the newest month upstream and the atlas has it")
    else:
        atlas = f"atlas built from {', '.join(title(m) for m in months)}" if months else "no atlas built yet"
        then = ("found in the data folders, not yet built: run python -m targeting build" if new.edition in here
                else "run python -m targeting fetch --latest gp_registrations")
        parts.append(f"newer upstream: {new.title} practice map and list sizes ({atlas}; {then})")
    if new_lsoa is None:
        parts.append("no LSOA-level file on the newest month pages")
    elif lsoa and new_lsoa.edition <= lsoa[-1]:
        parts.append(f"LSOA-level file: {new_lsoa.title} upstream, the atlas has {title(lsoa[-1])}")
    else:
        where = " (found in the data folders)" if new_lsoa.edition in here_lsoa else ""
        parts.append(f"newer LSOA-level file: {new_lsoa.title}{where}, the atlas's shares are "
                     f"{title(lsoa[-1]) if lsoa else 'none'}")
    parts.append(f"months in the data folders: {', '.join(here) or 'none'}")
    return "; ".join(parts)


def _ods_news(res: Resolved, found: dict[str, Edition], built: dict[str, Any], timeout: float,
              deadline: float) -> str:
    """One line on the ODS reports: does the API answer, and how old are the atlas's epraccur and ePCN."""
    from geo.months import month_title

    probe = found["epraccur"].url
    try:
        head = _get_body(probe, timeout, time.monotonic() + deadline, limit=16_384)
    except _FetchError as exc:
        return f"could not reach the publisher: {exc} — {probe}"
    first = head.decode("utf-8-sig", errors="replace").splitlines()[:1]
    fields = next(csv.reader(first), []) if first else []
    if len(fields) < 26:
        return f"the API answers, but not with epraccur's 27 columns ({len(fields)} in its first line) — {probe}"
    inputs = built.get("inputs") or {}
    had = []
    for key, name in (("epraccur", "epraccur"), ("epcn", "ePCN")):
        m = re.search(r"_(\d{4}-\d{2})", Path(str(inputs.get(key, {}).get("path", ""))).name)
        had.append(f"{name} {month_title(m.group(1))}" if m else f"{name} (none)")
    return (f"reports are made on request: today's epraccur and ePCN ({found['epraccur'].title}) are newer than "
            f"the atlas's ({', '.join(had)}); run python -m targeting fetch --latest ods")


def _resolver_names(names: list[str] | None) -> list[str]:
    if not names:
        return list(RESOLVERS)
    unknown = [n for n in names if n not in RESOLVERS]
    if unknown:
        raise ValueError(f"unknown resolver(s) {', '.join(unknown)}; known: {', '.join(RESOLVERS)}")
    return list(dict.fromkeys(names))


class _Links(HTMLParser):
    """Collects the ``href`` of every ``<a>`` of a page, in order, but those of its upcoming publications.

    A digital.nhs.uk series page lists its next publications, not yet out, as links too, in an element marked
    ``data-uipath="ps.series.publications-list.upcoming"`` (the site's series template); they are passed over.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self._skip: tuple[str, int] | None = None  # (tag, depth) of the upcoming list being passed over

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip is not None:
            if tag == self._skip[0]:
                self._skip = (tag, self._skip[1] + 1)
            return
        if any(k == "data-uipath" and v and "upcoming" in v for k, v in attrs):
            self._skip = (tag, 1)
        elif tag == "a":
            self.hrefs += [v.strip() for k, v in attrs if k == "href" and v and v.strip()]

    def handle_endtag(self, tag: str) -> None:
        if self._skip is not None and tag == self._skip[0]:
            self._skip = None if self._skip[1] == 1 else (tag, self._skip[1] - 1)


def _page_links(url: str, timeout: float, retries: int, ends: float) -> list[str]:
    """The absolute URLs a page links to, read with retries; an unreachable page is a :class:`_FetchError`."""
    attempt = 0
    while True:
        try:
            body = _get_body(url, timeout, ends, limit=_PAGE_LIMIT)
            break
        except _FetchError as exc:
            if exc.retry and attempt < retries and time.monotonic() < ends:
                time.sleep(_BACKOFF * 2**attempt)
                attempt += 1
                continue
            if str(exc).startswith("HTTP "):  # the server answered: the page is missing or failing
                raise _FetchError(f"the publisher answered {exc} for {url}") from None
            raise _FetchError(f"could not reach the publisher: {exc} — {url}") from None
    parser = _Links()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except Exception as exc:  # html.parser is lenient; anything it still raises is a page of another kind
        raise _FetchError(f"{url} is not an HTML page ({type(exc).__name__}: {exc})") from None
    return [urllib.parse.urljoin(url, h) for h in parser.hrefs]


def _below(links: list[str], page: str, slug: re.Pattern[str]) -> dict[tuple[int, int], str]:
    """Links to pages just below ``page`` whose last part matches ``slug``, by the two numbers it gives."""
    base = urllib.parse.urlsplit(page).path.rstrip("/")
    found: dict[tuple[int, int], str] = {}
    for link in links:
        path = urllib.parse.urlsplit(link).path
        if not path.startswith(base + "/"):
            continue
        m = slug.search(path[len(base):])
        if m is None or m.start() != 0:
            continue
        a, b = m.groups()
        key = (int(b), _MONTH_NAMES.index(a) + 1) if a in _MONTH_NAMES else (int(a), int(b))
        found.setdefault(key, urllib.parse.urldefrag(link).url)
    return found


def _file_name(url: str) -> str:
    return PurePosixPath(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name.lower()


def _gp_files(links: list[str]) -> dict[str, str]:
    """The map, quin-age and LSOA-level file links of a month page (LSOA 2021 preferred, then the zip)."""
    out: dict[str, str] = {}
    for kind, pattern in _GP_FILES.items():
        hits = [u for u in dict.fromkeys(links) if pattern.match(_file_name(u))]
        if kind == "lsoa":
            hits.sort(key=lambda u: ("2021" not in _file_name(u), "2011" in _file_name(u),
                                     not _file_name(u).endswith(".zip")))
        if hits:
            out[kind] = hits[0]
    return out


def _resolve_gp(page: str, timeout: float, retries: int, ends: float, today: datetime) -> Resolved:
    """The newest month's practice map and quin-age, and the newest LSOA-level file, from the series page."""
    from geo.months import month_relpath, month_title

    months = _below(_page_links(page, timeout, retries, ends), page, _MONTH_SLUG)
    months = {k: v for k, v in months.items() if k <= (today.year, today.month)}  # no month to come
    if not months:
        raise _FetchError(f"no link to a month's publication (…/patients-registered-at-a-gp-practice/<month>-<year>)"
                          f" on {page}")
    chosen: dict[str, tuple[str, str, str]] = {}  # kind -> (month, url, month page)
    notes: list[str] = []
    for i, (y, m) in enumerate(sorted(months, reverse=True)[:_LSOA_PAGES]):
        if ("map" in chosen and "lsoa" in chosen) or (i >= _MONTH_PAGES and "map" not in chosen):
            break
        month, url = f"{y}-{m:02d}", months[(y, m)]
        try:
            files = _gp_files(_page_links(url, timeout, retries, ends))
        except _FetchError as exc:
            notes.append(f"{month_title(month)} skipped: {exc}")
            continue
        if "map" not in chosen:
            if "map" in files and "quin_age" in files:
                for kind in ("map", "quin_age"):
                    chosen[kind] = (month, files[kind], url)
            else:
                notes.append(f"{month_title(month)} skipped: its page has no practice map and quin-age links yet")
                continue
        if "lsoa" not in chosen and "lsoa" in files:
            chosen["lsoa"] = (month, files["lsoa"], url)
    if "map" not in chosen:
        raise _FetchError(f"none of the newest {_MONTH_PAGES} month pages linked from {page} has a practice map "
                          "(gp-reg-pat-prac-map) and a quin-age file (gp-reg-pat-prac-quin-age); "
                          + "; ".join(notes))
    if "lsoa" not in chosen:
        notes.append(f"no LSOA-level file (gp-reg-pat-prac-lsoa…) on the newest {_LSOA_PAGES} month pages")
    editions = []
    for kind, (month, url, where) in chosen.items():
        served = _file_name(url)
        ext = ".csv.gz" if kind == "lsoa" else ".csv" if served.endswith(".csv") else ".zip"
        editions.append(Edition("gp_registrations", kind, month, month_title(month), url,
                                month_relpath(kind, month, ext), where))
    return Resolved("gp_registrations", page, tuple(editions), notes=tuple(notes))


def _resolve_qof(page: str, timeout: float, retries: int, ends: float) -> Resolved:
    """The newest year's raw-data zip (``QOF2425.zip``…) from QOF's series page."""
    years = _below(_page_links(page, timeout, retries, ends), page, _YEAR_SLUG)
    years = {k: v for k, v in years.items() if (k[0] + 1) % 100 == k[1]}  # 2024-25, not a date
    if not years:
        raise _FetchError(f"no link to a year's publication (…/<yyyy>-<yy>) on {page}")
    notes: list[str] = []
    for y, _ in sorted(years, reverse=True)[:_YEAR_PAGES]:
        url = years[(y, (y + 1) % 100)]
        label = f"{y}-{(y + 1) % 100:02d}"
        try:
            links = _page_links(url, timeout, retries, ends)
        except _FetchError as exc:
            notes.append(f"QOF {label} skipped: {exc}")
            continue
        for link in dict.fromkeys(links):
            m = _QOF_ZIP.match(_file_name(link))
            if m and int(m.group(1)) == y % 100 and int(m.group(2)) == (y + 1) % 100:
                relpath = f"gp/qof/QOF_{label}_PREVALENCE_{m.group(1)}{m.group(2)}.csv.gz"
                return Resolved("qof", page, (Edition("qof", "qof", label, f"QOF {label}", link, relpath, url),),
                                notes=tuple(notes))
        notes.append(f"QOF {label} skipped: its page has no raw-data zip (QOF{y % 100:02d}{(y + 1) % 100:02d}.zip)")
    raise _FetchError(f"none of the newest {_YEAR_PAGES} year pages linked from {page} has a raw-data zip (QOFyyzz"
                      ".zip); " + "; ".join(notes))


def _resolve_ods(api: str, today: datetime) -> Resolved:
    """ODS Data Search and Export makes its reports on request: today's epraccur and ePCN."""
    from geo.months import month_title

    month = today.strftime("%Y-%m")

    def report(name: str) -> str:
        return f"{api}{'&' if '?' in api else '?'}report={name}"

    parts = (("epcn.csv", report("epcn")), ("epcncorepartnerdetails.csv", report("epcncorepartnerdetails")))
    return Resolved("ods", api, (
        Edition("ods", "epraccur", month, month_title(month), report("epraccur"), f"gp/epraccur_{month}.csv.gz", api),
        Edition("ods", "epcn", month, month_title(month), parts[0][1], f"gp/ePCN_{month}.zip", api, parts),
    ))


# ------------------------------------------------------------------------------------ one source


def _select(keys: list[str] | None) -> list[Source]:
    """Return the catalogue entries for ``keys`` (all if None), refusing unknown keys."""
    if keys is None:
        return list(SOURCES.values())
    unknown = [k for k in keys if k not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source key(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    return [SOURCES[k] for k in keys]


@dataclass(frozen=True)
class _Job:
    """One file to download: where from, where to, and whose checks it must pass.

    ``key`` names it in the manifest and in messages; ``check`` is the catalogue key whose reader, columns and row
    count apply (the same for a catalogued file; the catalogued kind for a newer edition, with the wider
    ``tolerance``). ``parts`` (member name, URL) are downloaded each with every check and zipped together into
    ``relpath`` (the two ODS ePCN reports). ``record`` is added to the manifest entry (the edition…).
    """

    key: str
    relpath: str
    url: str
    check: str
    arcgis: bool = False
    rows: _Rows = field(default_factory=lambda: _Rows())
    parts: tuple[tuple[str, str], ...] = ()
    record: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class _Rows:
    """The row count a file must have.

    ``expected`` (None: the catalogued edition's) within ``tolerance``; with ``no_fewer``, never fewer. ``versus``
    says what ``expected`` counts, for the message.
    """

    expected: int | None = None
    tolerance: float = ROW_TOLERANCE
    versus: str | None = None
    no_fewer: bool = False
    counted: bool = True  # False: no count is known to compare with (a kind the catalogue has no count of)

    @property
    def exact_catalogued(self) -> bool:
        return self.counted and self.expected is None and self.tolerance == 0


#: The catalogued editions of each kind a ``--latest`` resolver finds: (kind, edition) → catalogue key. A file found
#: that is one of them is held to its exact catalogued count; any other is compared with the nearest (by month).
_CATALOGUED = {("map", "2022-07"): "gp_reg_map", ("lsoa", "2022-07"): "gp_reg_lsoa", ("qof", "2020-21"): "qof_2021",
               ("qof", "2022-23"): "qof_2223", ("qof", "2024-25"): "qof_2425", ("epraccur", "2023-01"): "epraccur",
               ("epcn", "2023-01"): "epcn"}


def _month_index(kind: str, edition: str) -> int | None:
    """Months since year 0 of an edition (``YYYY-MM``; a QOF year ``YYYY-YY`` counts from its April)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", edition)
    if not m:
        return None
    year, part = int(m.group(1)), int(m.group(2))
    return year * 12 + 3 if kind == "qof" else year * 12 + part - 1


def _edition_rows(ed: Edition, manifest: dict[str, Any]) -> _Rows:
    """The row rule of a newer edition.

    The catalogued count exactly if it is that edition; else the nearest edition of its kind with a known count
    (recorded in the manifest by an earlier ``--latest``, or catalogued), within
    :func:`geo.inputs.newer_edition_tolerance` of the months between them. No known count: no row check.
    """
    if (ed.kind, ed.edition) in _CATALOGUED:
        return _Rows()  # checked against the catalogued key (see fetch_latest's check key below)
    here = _month_index(ed.kind, ed.edition)
    if here is None:
        return _Rows(counted=False)
    known: list[tuple[int, int, str]] = []  # (months apart, rows, what)
    prefix = f"{_MANIFEST_NAME[ed.kind]}@"
    for name, entry in manifest.items():
        if name.startswith(prefix) and name != ed.key and isinstance(entry, dict) \
                and isinstance(entry.get("rows"), int):
            there = _month_index(ed.kind, name[len(prefix):])
            if there is not None:
                known.append((here - there, entry["rows"], f"the {entry.get('edition_title') or name[len(prefix):]} "
                                                           "edition"))
    for (kind, edition), key in _CATALOGUED.items():
        there = _month_index(kind, edition)
        if kind == ed.kind and key in EXPECTED_ROWS and there is not None:
            known.append((here - there, EXPECTED_ROWS[key], f"the catalogued edition ({SOURCES[key].edition})"))
    if not known:
        return _Rows(counted=False)
    apart, rows, what = min(known, key=lambda k: (abs(k[0]), k[0] < 0))  # nearest; an earlier one on a tie
    return _Rows(expected=rows, tolerance=newer_edition_tolerance(apart), versus=what)


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
                time.sleep(_BACKOFF * 2**attempt)
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


def _entry(relpath: str, digest: str, size: int, url: str, rows: int | None = None) -> dict[str, Any]:
    """Return one manifest record (``rows``: data rows the build's reader found, where it reads the file)."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    entry = {"path": relpath, "sha256": digest, "size": size, "url": url, "fetched_at": now}
    if rows is not None:
        entry["rows"] = rows
    return entry


# ------------------------------------------------------------------------------------------ HTTP


def _download(url: str, out: Path, timeout: float, on_chunk: Callable[[int, int | None], None],
              ends: float | None = None) -> int | None:
    """Stream ``url`` into the file ``out``; return the length the server announced (None: none)."""
    with open(out, "wb") as fh:
        return _stream(url, fh, timeout, on_chunk, ends)


def _stream(
    url: str, sink: IO[bytes], timeout: float, on_chunk: Callable[[int, int | None], None] | None = None,
    ends: float | None = None, limit: int | None = None,
) -> int | None:
    """Copy the body of ``url`` into ``sink``, mapping every failure to a :class:`_FetchError`.

    Returns the length the server announced (Content-Length), or None if it announced none. With ``limit`` it
    stops once that many bytes have come (a look at the start of a report, or a page's links).

    ``ends`` is the :func:`time.monotonic` time the whole file must be done by; ``read1`` returns whatever has
    arrived, so a server dripping a byte at a time is caught by it, not only by the per-read ``timeout``.
    Without a Content-Length the body is complete when the server closes the connection (or, chunked, sends
    the last chunk); a body cut short there is caught by the checks of :func:`_commit`.
    """
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    done = 0
    total: int | None = None
    watch = _Watchdog(ends)
    try:
        if ends is not None and time.monotonic() >= ends:
            raise _FetchError("the deadline for this file ran out before the download started")
        with watch, watch.opener.open(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > MAX_DOWNLOAD:
                raise _FetchError(f"the server announces {total:,} bytes, more than the {MAX_DOWNLOAD:,} allowed")
            read = getattr(resp, "read1", resp.read)
            while chunk := read(_CHUNK):
                sink.write(chunk)
                done += len(chunk)
                if on_chunk is not None:
                    on_chunk(done, total)
                if done > MAX_DOWNLOAD:
                    raise _FetchError(f"more than {MAX_DOWNLOAD:,} bytes: not the catalogued file")
                if ends is not None and time.monotonic() > ends:
                    raise _FetchError(f"not finished by the deadline ({done:,} bytes so far): the server is too "
                                      "slow or stalling")
                if limit is not None and done >= limit:
                    return total  # the start is all that is wanted
    except _FetchError:
        raise
    except Exception as exc:
        if watch.fired:  # the watchdog closed the connection: say why, whatever the socket raised
            raise _FetchError(f"not finished by the deadline ({done:,} bytes so far): the server is too slow or "
                              "stalling") from None
        _raise_fetch_error(exc, done, total, timeout)
    if watch.fired:  # closed mid-headers, http.client may see an empty, finished response
        raise _FetchError(f"not finished by the deadline ({done:,} bytes so far): the server is too slow or stalling")
    if total is not None and done != total:
        raise _FetchError(f"truncated at {done:,} of {total:,} bytes", retry=True)
    return total


class _Watchdog:
    """Closes the connections of one download when its deadline passes.

    A server dripping its headers a byte at a time never trips a per-read timeout, and urllib gives no other
    handle on the socket while it reads them.
    """

    def __init__(self, ends: float | None):
        import threading

        self.ends, self.fired, self._conns, self._timer = ends, False, [], None
        self._lock = threading.Lock()
        watch = self

        def factory(cls: type) -> Callable[..., http.client.HTTPConnection]:
            def make(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
                conn = cls(*args, **kwargs)
                with watch._lock:
                    watch._conns.append(conn)
                opened = conn.connect

                def connect() -> None:  # a deadline that passed while connecting closes the new socket at once
                    opened()
                    with watch._lock:
                        if watch.fired:
                            watch._shut(conn)

                conn.connect = connect
                return conn
            return make

        class Http(urllib.request.HTTPHandler):
            def http_open(self, req):  # urllib's signature
                return self.do_open(factory(http.client.HTTPConnection), req)

        class Https(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(factory(http.client.HTTPSConnection), req, context=self._context)

        self.opener = urllib.request.build_opener(Http, Https)

    @staticmethod
    def _shut(conn: http.client.HTTPConnection) -> None:
        import socket

        with contextlib.suppress(OSError, AttributeError):  # no socket yet: connect() shuts it when it opens
            conn.sock.shutdown(socket.SHUT_RDWR)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for conn in self._conns:
                self._shut(conn)

    def __enter__(self) -> _Watchdog:
        import threading

        if self.ends is not None:
            self._timer = threading.Timer(max(0.0, self.ends - time.monotonic()), self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _raise_fetch_error(exc: BaseException, done: int, total: int | None, timeout: float) -> None:
    """Map what urllib and http.client raise to a :class:`_FetchError` (anything else is raised as it is)."""
    if isinstance(exc, urllib.error.HTTPError):
        exc.close()
        transient = exc.code >= 500 or exc.code in (408, 429)
        raise _FetchError(f"HTTP {exc.code} {exc.reason}", retry=transient) from None
    if isinstance(exc, http.client.IncompleteRead):
        got = done + len(exc.partial)
        if total is not None and got < total:
            raise _FetchError(f"truncated at {got:,} of {total:,} bytes", retry=True) from None
        if exc.expected:
            raise _FetchError(f"truncated at {got:,} bytes, {exc.expected:,} short of the end the server announced",
                              retry=True) from None
        # chunked, or a length already received in full: what is missing is the end of the response itself
        raise _FetchError(f"the connection closed after {got:,} bytes without the server's end-of-body marker "
                          "(a chunked response with no last chunk): the body may be incomplete", retry=True) from None
    if isinstance(exc, TimeoutError):
        raise _FetchError(f"timed out after {timeout:g} s", retry=True) from None
    if isinstance(exc, urllib.error.URLError):
        if isinstance(exc.reason, TimeoutError):
            raise _FetchError(f"timed out after {timeout:g} s", retry=True) from None
        raise _FetchError(f"could not connect: {exc.reason}", retry=True) from None
    if isinstance(exc, http.client.HTTPException | ConnectionError):
        raise _FetchError(f"connection failed: {type(exc).__name__}: {exc}", retry=True) from None
    raise exc


def _get_body(url: str, timeout: float, ends: float | None = None, limit: int | None = None) -> bytes:
    """Return the body of ``url`` (its first ``limit`` bytes or so, with a limit), failures as :class:`_FetchError`."""
    buf = io.BytesIO()
    _stream(url, buf, timeout, None, ends, limit)
    return buf.getvalue()


def _get_json(url: str, timeout: float, ends: float | None = None) -> Any:
    """Return the JSON body of ``url``; an ArcGIS ``{"error": …}`` reply is a :class:`_FetchError`."""
    body = _get_body(url, timeout, ends)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise _FetchError(f"the response is not JSON ({exc})", retry=True) from None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        raise _FetchError(f"ArcGIS error {err.get('code')}: {err.get('message')}", retry=True)
    return data


# ---------------------------------------------------------------------------------------- ArcGIS


def _fetch_arcgis(src: Source | _Job, url: str, temps: _TempFiles, timeout: float, report: _Report,
                  ends: float | None = None) -> Path:
    """Query a FeatureServer layer page by page and write it in the catalogue's form."""
    features = _arcgis_features(src.key, url.rstrip("/"), timeout, report, ends)
    out = temps.new()
    relpath = src.relpath.lower()
    if relpath.endswith(".gpkg"):
        _write_gpkg(features, out, PurePosixPath(src.relpath).stem)
    elif relpath.endswith(".csv.gz"):
        _write_csv_gz([f.get("properties") or {} for f in features], out)
    else:
        raise _FetchError(f"cannot write an ArcGIS layer as {PurePosixPath(src.relpath).name}")
    return out


def _arcgis_features(key: str, base: str, timeout: float, report: _Report,
                     ends: float | None = None) -> list[dict[str, Any]]:
    """Return every feature of the layer at ``base``, following ``exceededTransferLimit``."""
    try:
        total: int | None = int(_get_json(f"{base}/query?where=1%3D1&returnCountOnly=true&f=json",
                                          timeout, ends)["count"])
    except (_FetchError, KeyError, TypeError, ValueError):
        total = None  # the count only feeds the progress bar and a final check
    features: list[dict[str, Any]] = []
    for _ in range(_ARCGIS_MAX_PAGES):
        page = _get_json(
            f"{base}/query?where=1%3D1&outFields=*&f=geojson"
            f"&resultOffset={len(features)}&resultRecordCount={_ARCGIS_PAGE_SIZE}",
            timeout, ends,
        )
        if not isinstance(page, dict):
            raise _FetchError("the layer query did not return a GeoJSON object", retry=True)
        got = page.get("features") or []
        features.extend(got)
        report(key, len(features), total, "features")
        props = page.get("properties") if isinstance(page.get("properties"), dict) else {}
        more = bool(page.get("exceededTransferLimit") or props.get("exceededTransferLimit"))
        if not got or (not more and len(got) < _ARCGIS_PAGE_SIZE):
            break
    else:
        raise _FetchError(f"still more features after {_ARCGIS_MAX_PAGES:,} pages")
    if not features:
        raise _FetchError("the layer returned no features")
    if total is not None and len(features) != total:
        raise _FetchError(f"got {len(features):,} of {total:,} features", retry=True)
    return features


def _write_gpkg(features: list[dict[str, Any]], out: Path, layer: str) -> None:
    """Write GeoJSON features as a one-layer GeoPackage in EPSG:4326 and check it reads back."""
    import geopandas as gpd
    import pyogrio

    gdf = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    if gdf.geometry.isna().all():
        raise _FetchError("the layer's features have no geometry")
    gdf.to_file(out, driver="GPKG", layer=layer, engine="pyogrio")
    written = pyogrio.read_info(out, layer=layer)["features"]
    if written != len(features):
        raise _FetchError(f"the GeoPackage holds {written:,} of {len(features):,} features")


def _write_csv_gz(rows: list[dict[str, Any]], out: Path) -> None:
    """Write attribute rows as a gzipped CSV, columns in first-seen order, nulls empty."""
    fields: dict[str, None] = {}
    for row in rows:
        fields.update(dict.fromkeys(row))
    with _gzip_writer(out) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        writer = csv.DictWriter(text, fieldnames=list(fields), restval="")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)


# ----------------------------------------------------------------------------- convert and check


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


def _sha256(path: Path) -> tuple[str, int]:
    """Return the hex sha256 and size of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _served_name(url: str) -> str | None:
    """Return the file name a URL serves, if it has a data-file extension."""
    name = PurePosixPath(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    return name if name.lower().endswith((".zip", ".csv", ".gz", ".xlsx", ".gpkg")) else None


# --------------------------------------------------------------------------- files, lock, manifest


class _TempFiles:
    """Hidden temporary files next to ``target``, all removed on exit (a moved one is already gone)."""

    def __init__(self, target: Path):
        self.target = target
        self.paths: list[Path] = []

    def new(self) -> Path:
        """Return a fresh temporary path ending in the target's name (so its extension is kept)."""
        path = self.target.parent / f".{secrets.token_hex(6)}.part.{self.target.name}"
        self.paths.append(path)
        return path

    def __enter__(self) -> _TempFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for path in self.paths:
            for side in ("", "-journal", "-wal", "-shm"):  # SQLite side files of a GeoPackage
                Path(f"{path}{side}").unlink(missing_ok=True)


def _remove_stale_temps(target: Path) -> None:
    """Remove temporary files a killed run left beside ``target`` (safe: we hold the lock)."""
    for path in target.parent.glob(".*.part." + _glob_escape(target.name) + "*"):
        path.unlink(missing_ok=True)


def _glob_escape(name: str) -> str:
    """Escape glob metacharacters in a file name."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _locked(dest: Path) -> contextlib.AbstractContextManager[None]:
    """Hold an exclusive lock on ``dest/.fetch.lock``, waiting (and saying so) if it is taken."""
    path = dest / _LOCK
    return file_lock(path, waiting=f"Waiting for another fetch to finish (lock {path})…")


def _read_manifest(dest: Path) -> dict[str, Any]:
    """Return the manifest's entries (empty if it is missing or unreadable)."""
    try:
        data = json.loads((dest / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_manifest(dest: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically."""
    atomic_write(dest / _MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


# -------------------------------------------------------------------------------------- progress


def _human(n: float, unit: str = "B") -> str:
    """Return a short size, e.g. ``1.7 MB``; other units are shown as plain counts."""
    if unit != "B":
        return f"{int(n):,} {unit}"
    for prefix in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {prefix}" if prefix == "B" else f"{n:.1f} {prefix}"
        n /= 1000
    return f"{n:.1f} GB"


class _Bar:
    """A one-line text progress bar on stderr; redrawn in place on a terminal, else printed once."""

    def __init__(self, width: int = 28):
        self.width = width
        self.last: tuple[str, int, int | None, str] | None = None
        self.drawn = 0.0

    def update(self, key: str, done: int, total: int | None, unit: str) -> None:
        """Record progress; redraw at most ten times a second on a terminal."""
        self.last = (key, done, total, unit)
        now = time.monotonic()
        if sys.stderr.isatty() and (now - self.drawn >= 0.1 or (total is not None and done >= total)):
            self.drawn = now
            sys.stderr.write("\r" + self._line())
            sys.stderr.flush()

    def end(self, key: str) -> None:
        """Finish the line for ``key``."""
        if self.last is None or self.last[0] != key:
            return
        sys.stderr.write(("\r" if sys.stderr.isatty() else "") + self._line() + "\n")
        sys.stderr.flush()
        self.last = None

    def _line(self) -> str:
        assert self.last is not None
        key, done, total, unit = self.last
        if not total:
            return f"{key:<18} {_human(done, unit)}"
        frac = min(done / total, 1.0)
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        return f"{key:<18} [{bar}] {_human(done, unit)} / {_human(total, unit)} {frac:4.0%}"


def _reporter(progress: ProgressCallback | bool | None) -> tuple[_Report, Callable[[str], None]]:
    """Return ``(report, finish)`` for the ``progress`` argument of :func:`fetch`."""
    if progress is True:
        bar = _Bar()
        return bar.update, bar.end
    if callable(progress):
        callback = progress
        return (lambda key, done, total, _unit: callback(key, done, total)), (lambda _key: None)
    return (lambda *_: None), (lambda _key: None)
