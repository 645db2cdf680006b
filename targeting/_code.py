"""A hash of the package's own source files, to key what is kept on disk beside the atlas."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

_ROOT = Path(__file__).resolve().parent


@functools.cache
def source_hash(*patterns: str, salt: str = "") -> str:
    """The first 16 hex digits of a sha256 over ``salt`` and the files under ``targeting/`` matching ``patterns``.

    Each file adds its name and its bytes, in sorted path order, so any edit to the code a kept value depends on
    gives a new key (and the value is made again).
    """
    h = hashlib.sha256(salt.encode())
    for p in sorted({f for pattern in patterns for f in _ROOT.glob(pattern)}):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]
