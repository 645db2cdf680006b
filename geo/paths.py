"""Find the data: ``$CORE20_DATA``, then the raw folder (filled by ``fetch``), then ``../shared/data``.

In a source checkout (a ``pyproject.toml`` beside ``geo/``) the raw folder and the cache are ``data/raw/`` and
``data/cache/`` of the checkout, as the README says. Installed from a wheel, the package's folder is inside
``site-packages``, which is no place for 300 MB of data: they go in the user's data folder instead
(``platformdirs``: ``~/.local/share/core20plus-targeting/`` on Linux). ``CORE20_CACHE``, ``CORE20_RAW`` and
``CORE20_DATA`` come first either way.
"""

from __future__ import annotations

import os
from pathlib import Path

from geo.sources import SOURCES

__all__ = ["PROJECT_ROOT", "MissingDataError", "cache_dir", "data_roots", "find", "is_source_checkout", "raw_dir"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_APP = "core20plus-targeting"


def is_source_checkout() -> bool:
    """Whether the package runs from a source checkout (editable install or the folder itself), not a wheel."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "geo").is_dir()


def _data_home() -> Path:
    """``data/`` of the checkout, or the user's data folder for an installed wheel."""
    if is_source_checkout():
        return PROJECT_ROOT / "data"
    from platformdirs import user_data_path

    return user_data_path(_APP, appauthor=False)


class MissingDataError(FileNotFoundError):
    """A dataset the tool needs is in none of the data folders."""


def raw_dir() -> Path:
    """Return the folder that ``python -m targeting fetch`` fills."""
    return Path(os.environ.get("CORE20_RAW") or _data_home() / "raw")


def cache_dir() -> Path:
    """Return the folder holding the built atlas (``$CORE20_CACHE``, or ``cache/`` beside the raw folder)."""
    return Path(os.environ.get("CORE20_CACHE") or _data_home() / "cache")


def data_roots() -> list[Path]:
    """Return the data folders in the order they are searched."""
    roots: list[Path] = []
    env = os.environ.get("CORE20_DATA")
    if env:
        roots.append(Path(env))
    roots.append(raw_dir())
    if is_source_checkout():
        roots.append(PROJECT_ROOT.parent / "shared" / "data")
    return roots


def find(key: str) -> Path:
    """Return the path of a catalogued dataset, searching each data folder in turn.

    Parameters
    ----------
    key
        A key of :data:`geo.sources.SOURCES`. ``CORE20_FILE_<KEY>`` (upper-cased key) names a file to use
        instead, e.g. a newer GP registrations month with its matching practice map.

    Raises
    ------
    MissingDataError
        Naming the file, the folders searched and how to get it.
    """
    src = SOURCES[key]
    override = os.environ.get(f"CORE20_FILE_{key.upper()}")
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise MissingDataError(f"CORE20_FILE_{key.upper()} names {path}, which is not a file.")
        return path
    roots = data_roots()
    for root in roots:
        path = root / src.relpath
        if path.is_file():
            return path
    searched = ", ".join(str(r) for r in roots)
    raise MissingDataError(
        f"{src.title} ({src.publisher}, {src.edition}) was not found as '{src.relpath}' in any data folder "
        f"({searched}). Run `python -m targeting fetch` to download it from {src.url}"
        + (f", or download it by hand from {src.page}" if src.page else "")
        + f" and put it in {raw_dir()} (or set CORE20_DATA to the folder that holds it)."
    )
