"""The one store of state derived from an atlas: national tables, fitted models, bases that many questions share.

A producing function is marked with :func:`derived`. Its first argument is a :class:`~targeting.scope.Scope`, an
:class:`~geo.editions.Edition` bound to an atlas, or an :class:`~geo.atlas.Atlas`; the rest are plain hashable
values. Its value is kept

- in memory, for the life of the atlas (a new atlas never sees an old one's values), and
- with ``persist=True``, as a parquet file beside the atlas cache, so a new process reads it instead of making it.

The key is the atlas build (the ``geo`` code hash and build time its ``meta`` records, so a file kept by an older
build is never read for a newer one in the same folder), the scope's :attr:`~targeting.scope.Scope.key` (or the
edition's year), the arguments, and a hash of the producing code: the function's own module,
the rules every derived value rests on (the Core20 rule in :mod:`geo.editions`, :mod:`targeting.core20`) and any
further files named with ``code=``. Changing any of them makes the value again.

The answers precomputed at build (:mod:`targeting.precompute`: every ICB's map, the default profiles) are the
store's published form, kept in their own folder so a cold command reads them without loading the atlas. They
are keyed the same way: the atlas build, the registration month, and :func:`code_hash` of the code that made
them. No key is set by hand.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from geo.files import atomic_path

__all__ = ["code_hash", "derived", "forget"]

T = TypeVar("T")

_PACKAGE = Path(__file__).resolve().parent
_ROOT = _PACKAGE.parent
#: The rules every derived value rests on: the editions and the Core20 rule, and how Core20 is flagged.
_RULE_FILES: tuple[Path, ...] = (_ROOT / "geo" / "editions.py", _PACKAGE / "core20.py")


def _files_hash(files: list[Path]) -> str:
    """The first 16 hex digits of a sha256 over each file's name and bytes, in sorted path order."""
    h = hashlib.sha256()
    for p in sorted(set(files)):
        h.update(p.name.encode())
        with contextlib.suppress(OSError):
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


@functools.cache
def code_hash(*patterns: str) -> str:
    """A hash of the files under ``targeting/`` matching the glob ``patterns`` (e.g. ``"**/*.py"``).

    Any edit to the code a kept value depends on gives a new key, and the value is made again.
    """
    return _files_hash([p for pattern in patterns for p in _PACKAGE.glob(pattern)])


def _code_files(fn: Callable[..., Any], code: tuple[str, ...]) -> list[Path]:
    own = inspect.getsourcefile(fn)
    files = [Path(own)] if own else []
    files += [p for pattern in code for p in _PACKAGE.glob(pattern)]
    return files + list(_RULE_FILES)


def _split(first: Any) -> tuple[Any, str]:
    """(atlas, key) of a producing function's first argument: a Scope, an Edition bound to an atlas, or an Atlas."""
    from geo.editions import Edition
    from targeting.scope import Scope

    if isinstance(first, Scope):
        return first.atlas, first.key
    if isinstance(first, Edition):
        if first.atlas is None:
            raise ValueError(f"IMD {first.year} is not bound to an atlas")
        return first.atlas, f"imd{first.year}"
    return first, ""


def _build(atlas: Any) -> str:
    """The atlas build a value comes from: the geo code and the build time its meta records."""
    meta = atlas.meta if isinstance(atlas.meta, dict) else {}
    return f"{meta.get('code')}|{meta.get('built_at')}|{meta.get('registration')}"


def _stem(name: str, build: str, scope_key: str, args: tuple[Any, ...], code_hash: str) -> str:
    words = "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", str(a))[:40] for a in args)
    digest = hashlib.sha256(repr((build, scope_key, args)).encode()).hexdigest()[:12]
    return f"{name}-{words}-{digest}-{code_hash}" if words else f"{name}-{digest}-{code_hash}"


def derived(fn: Callable[..., T] | None = None, *, persist: bool = False,
            code: tuple[str, ...] = ()) -> Any:
    """Mark a function that derives state from an atlas, so the store keeps its value.

    Parameters
    ----------
    fn
        ``fn(first, *args)``: ``first`` is a Scope, an Edition bound to an atlas, or an Atlas; ``args`` must be
        hashable. Treat what it returns as read-only.
    persist
        Also keep the value (a DataFrame) as a parquet file beside the atlas cache. A read or write failure falls
        back to making it.
    code
        Further source files (globs under ``targeting/``) the value depends on besides the function's module.
    """
    def wrap(f: Callable[..., T]) -> Callable[..., T]:
        name = f"{f.__module__}.{f.__qualname__}"

        @functools.wraps(f)
        def get(first: Any, *args: Any) -> T:
            atlas, scope_key = _split(first)
            values = atlas.__dict__.setdefault("_derived", {})
            key = (name, scope_key, args)
            if key not in values:
                values[key] = _kept(atlas, f, first, args, scope_key, code) if persist else f(first, *args)
            return values[key]

        return get

    return wrap(fn) if fn is not None else wrap


def forget(atlas: Any) -> None:
    """Drop every value the store holds in memory for an atlas (the kept files stay), e.g. to time a first call."""
    atlas.__dict__.pop("_derived", None)


def _kept(atlas: Any, f: Callable[..., T], first: Any, args: tuple[Any, ...], scope_key: str,
          code: tuple[str, ...]) -> T:
    folder = atlas.meta.get("folder") if isinstance(atlas.meta, dict) else None
    if not folder:
        return f(first, *args)
    stem = _stem(f"{f.__module__}.{f.__qualname__}", _build(atlas), scope_key, args,
                 _files_hash(_code_files(f, code)))
    path = Path(folder) / "derived" / f"{stem}.parquet"
    import pandas as pd

    with contextlib.suppress(OSError, ValueError):
        return pd.read_parquet(path)  # type: ignore[return-value]
    value = f(first, *args)
    with contextlib.suppress(OSError, ValueError):
        path.parent.mkdir(exist_ok=True)
        with atomic_path(path) as tmp:
            value.to_parquet(tmp, index=False)  # type: ignore[attr-defined]
    return value
