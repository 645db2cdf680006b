"""Download the newest editions found (:func:`fetch_latest`), or say what is newer upstream (:func:`check_latest`)."""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from geo.fetch.http import DEFAULT_DEADLINE, _FetchError, _get_body
from geo.fetch.jobs import _fetch_job
from geo.fetch.manifest import _Job, _locked, _read_manifest, _Rows, _write_manifest
from geo.fetch.report import FetchResult, ProgressCallback, _reporter
from geo.fetch.resolvers import _MANIFEST_NAME, Release, Resolved, resolve_latest
from geo.inputs import EXPECTED_ROWS, newer_edition_tolerance
from geo.paths import raw_dir
from geo.sources import SOURCES

#: The catalogue key whose reader, columns and row count a newer edition of each kind must pass.
_CHECK = {"map": "gp_reg_map", "quin_age": "gp_reg_quin_age", "lsoa": "gp_reg_lsoa", "qof": "qof_2223",
          "epraccur": "epraccur", "epcn": "epcn"}

#: The catalogued editions of each kind a ``--latest`` resolver finds: (kind, edition) → catalogue key. A file found
#: that is one of them is held to its exact catalogued count; any other is compared with the nearest (by month).
_CATALOGUED = {("map", "2022-07"): "gp_reg_map", ("lsoa", "2022-07"): "gp_reg_lsoa", ("qof", "2020-21"): "qof_2021",
               ("qof", "2022-23"): "qof_2223", ("qof", "2024-25"): "qof_2425", ("epraccur", "2023-01"): "epraccur",
               ("epcn", "2023-01"): "epcn"}


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

    Every file goes through the checks of :func:`geo.fetch.fetch` (deadline, a complete body, the expansion caps, the
    build's reader and the columns it needs) and the row counts of :mod:`geo.fetch`'s notes: the catalogued edition's
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
        Resolvers to run (keys of :data:`geo.fetch.resolvers.RESOLVERS`); all if None.
    dest, timeout, retries, progress, force, deadline, allow_shrink
        As for :func:`geo.fetch.fetch`.
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
        Resolvers to ask (keys of :data:`geo.fetch.resolvers.RESOLVERS`); all if None.
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


def _month_index(kind: str, edition: str) -> int | None:
    """Months since year 0 of an edition (``YYYY-MM``; a QOF year ``YYYY-YY`` counts from its April)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", edition)
    if not m:
        return None
    year, part = int(m.group(1)), int(m.group(2))
    return year * 12 + 3 if kind == "qof" else year * 12 + part - 1


def _edition_rows(ed: Release, manifest: dict[str, Any]) -> _Rows:
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


def _gp_news(found: dict[str, Release], built: dict[str, Any], local: dict[str, Any],
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


def _ods_news(res: Resolved, found: dict[str, Release], built: dict[str, Any], timeout: float,
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
