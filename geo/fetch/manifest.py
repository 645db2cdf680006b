"""The raw-data folder's bookkeeping: the catalogue entries asked for, ``manifest.json``, its lock, temporary files."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo.files import atomic_write, file_lock
from geo.inputs import ROW_TOLERANCE
from geo.sources import SOURCES, Source

_MANIFEST = "manifest.json"
_LOCK = ".fetch.lock"


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


def _entry(relpath: str, digest: str, size: int, url: str, rows: int | None = None) -> dict[str, Any]:
    """Return one manifest record (``rows``: data rows the build's reader found, where it reads the file)."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    entry = {"path": relpath, "sha256": digest, "size": size, "url": url, "fetched_at": now}
    if rows is not None:
        entry["rows"] = rows
    return entry


def _sha256(path: Path) -> tuple[str, int]:
    """Return the hex sha256 and size of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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
