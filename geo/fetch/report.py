"""What a fetch reports: one :class:`FetchResult` per file, their summary, and progress while downloading."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(key, done, total)``: bytes so far (features for ArcGIS layers); ``total`` None if unknown."""

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


def format_results(results: list[FetchResult]) -> str:
    """Return a human-readable summary: one line per source and a closing count.

    Parameters
    ----------
    results
        As returned by :func:`geo.fetch.fetch` or :func:`geo.fetch.ingest`.

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
    """Return ``(report, finish)`` for the ``progress`` argument of :func:`geo.fetch.fetch`."""
    if progress is True:
        bar = _Bar()
        return bar.update, bar.end
    if callable(progress):
        callback = progress
        return (lambda key, done, total, _unit: callback(key, done, total)), (lambda _key: None)
    return (lambda *_: None), (lambda _key: None)
