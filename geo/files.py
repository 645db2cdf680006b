"""Writing files safely: atomic files, atomic output folders, an inter-process lock and injection-safe CSV.

One home for what the build, ``fetch``, the command line and the app's downloads all need:

* :func:`atomic_write` writes a temporary file beside the target and renames it into place, so a reader
  never sees half a file;
* :func:`atomic_path` does the same for a writer that wants a path (parquet, a GeoPackage), and
  :func:`move_into_place` renames a temporary file that was written and checked elsewhere (``fetch``);
* :func:`output_folder` writes a set of files into a temporary folder and moves them in only when every one
  was written, removing files the tool wrote there before that the new set does not include; :func:`write_folder`
  writes a set already made (name → bytes) that way;
* :func:`replace_folder` swaps a finished folder (the atlas) for the old one;
* :func:`remove_stale` removes temporary folders or files a killed run left behind;
* :func:`file_lock` holds an exclusive lock (the ``filelock`` package) across processes;
* :func:`record_files` notes each cached file's size and sha256 as it is written, and :func:`damaged_files`
  checks them again, so a truncated, deleted or garbled cache file is found and named;
* :func:`csv_text` / :func:`escape_formulas` write CSV whose text cells cannot run as spreadsheet formulas
  (OWASP "CSV injection": a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets
  a leading ``'``). Numbers are numbers, so -0.5 in a numeric column is left alone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "FORMULA_PREFIXES",
    "DamagedCacheError",
    "atomic_path",
    "atomic_write",
    "check_not_loop",
    "csv_text",
    "damaged_files",
    "escape_formulas",
    "file_lock",
    "move_into_place",
    "output_folder",
    "plain_os_error",
    "record_files",
    "recover_output_folder",
    "remove_stale",
    "replace_folder",
    "staging_folder",
    "write_folder",
]

class DamagedCacheError(FileNotFoundError):
    """A cached file is missing, cut short or garbled (the message names it and ``build`` as the fix)."""


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def record_files(folder: Path, *, skip: Iterable[str] = ()) -> dict[str, list]:
    """``{relative path: [size, sha256]}`` of every file under ``folder`` (but ``build.json`` and ``skip`` folders)."""
    skip = set(skip)
    out: dict[str, list] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == "build.json" or rel.split("/", 1)[0] in skip:
            continue
        out[rel] = [path.stat().st_size, _sha256(path)]
    return out


def damaged_files(folder: Path, recorded: dict[str, list] | None, *, full: bool = False) -> list[str]:
    """The recorded files under ``folder`` that are missing, of another size or (``full``) another sha256.

    Each is named with what is wrong, e.g. ``lsoa21.parquet (1,024 bytes, recorded 5,321,882)``. Sizes cost a
    ``stat``; ``full`` reads every byte (``build`` does, a command does not).
    """
    out = []
    for rel, (size, sha) in (recorded or {}).items():
        path = folder / rel
        try:
            now = path.stat().st_size
        except OSError:
            out.append(f"{rel} (missing)")
            continue
        if now != size:
            out.append(f"{rel} ({now:,} bytes, recorded {size:,})")
        elif full and _sha256(path) != sha:
            out.append(f"{rel} (contents changed: sha256 differs)")
    return out


#: First characters that make a spreadsheet treat a text cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _umask_mode(path: str | Path, mode: int = 0o666) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)  # mkstemp/mkdtemp make 0600/0700; an output should read like any other


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` if the block ends without an error.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to write.

    Yields
    ------
    pathlib.Path
        Where to write (same folder and extension, hidden name).
    """
    check_not_loop(Path(path).parent)
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise plain_os_error(exc, Path(path).parent) from None
    path = _regular_target(Path(path))
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    except OSError as exc:  # name the file the user asked for, not the temporary one
        if exc.errno == errno.ENOSPC:
            raise plain_os_error(exc, path) from None
        raise type(exc)(exc.errno, f"cannot write in this folder ({exc.strerror})", str(path)) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _umask_mode(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:  # a write inside the block, with no file name: say which device
            raise plain_os_error(exc, path) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def plain_os_error(exc: OSError, path: str | Path) -> OSError:
    """``exc`` said plainly for ``path``: a full disk, a loop of links (else ``exc`` itself).

    A write that fails for want of space names no file (``[Errno 28] No space left on device``), and a loop of
    symbolic links makes ``mkdir`` say "File exists"; the message returned names ``path`` and what is wrong.
    """
    if exc.errno == errno.ENOSPC:
        return OSError(f"no space left on the device holding {path}: free some space, or write elsewhere")
    if exc.errno == errno.ELOOP:
        return OSError(f"{path} is a loop of symbolic links; give another path")
    return exc


def check_not_loop(path: Path) -> None:
    """Raise a clear :class:`OSError` if ``path`` (or a folder above it) is a loop of symbolic links."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise plain_os_error(exc, path) from None


def _regular_target(path: Path) -> Path:
    """``path``, or the file a symbolic link there points to; refuse anything but a regular file (or nothing).

    A rename onto a device such as /dev/null would replace it for the whole machine, and onto a link would
    replace the link instead of the file it names.
    """
    if path.is_symlink():
        check_not_loop(path)
        try:
            path = path.resolve()
        except (RuntimeError, OSError) as exc:  # a loop of links (Python 3.11 raises RuntimeError)
            raise OSError(f"{path} is a link that cannot be followed ({exc}); give a file name") from None
    if path.exists() and not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a folder; give a file name")
        raise OSError(f"{path} is not a regular file (a device, pipe or socket); give a file name")
    return path


def move_into_place(tmp: Path, target: Path) -> None:
    """Rename a finished, checked temporary file (in ``target``'s folder) onto ``target`` in one atomic step."""
    if tmp.parent.resolve() != target.parent.resolve():
        raise ValueError(f"{tmp} must be in the folder of {target} for the rename to be atomic")
    os.replace(tmp, target)


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; return the path.

    Raises
    ------
    IsADirectoryError
        If ``path`` is a folder.
    OSError
        If the folder cannot be written (nothing at ``path`` changes).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@contextlib.contextmanager
def output_folder(folder: str | Path, *, known: Iterable[str] = ()) -> Iterator[Path]:
    """Write a set of output files as a unit.

    Parameters
    ----------
    folder : str or pathlib.Path
        The output folder (created if missing).
    known : iterable of str
        Every file name this kind of output can contain. A known name in ``folder`` that the new set does
        not write is removed (it belongs to an earlier run with other settings); any other file in
        ``folder`` is never touched.

    Yields
    ------
    pathlib.Path
        A temporary folder inside ``folder``: write the files there. When the block ends without an error
        they are moved into ``folder`` (each with an atomic rename, the earlier files first set aside and put
        back if any move fails); on an error nothing in ``folder`` changes and the temporary folder is
        removed.

    Notes
    -----
    Two writers of one folder take turns (:func:`file_lock` on a lock file named after the folder, kept in the
    temporary-files folder so the output folder holds only outputs), so neither removes the other's temporary
    folder nor mixes its files with the other's. Before the renames a journal (``.out.journal.json``) names the
    temporary folder and the files; a run killed during them (``kill -9``, a power cut) leaves it, and the next
    write to the folder first puts the earlier set back whole (:func:`recover_output_folder`), so the folder
    holds one run's files, never a mix.

    Raises
    ------
    NotADirectoryError
        If ``folder`` exists and is a file.
    FileExistsError
        If one of the files to write or remove is a folder, link, device or pipe (nothing changes).
    OSError
        If ``folder`` cannot be written, is a loop of symbolic links, or its device is full (said plainly).
    """
    folder = Path(folder)
    check_not_loop(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise plain_os_error(exc, folder) from None
    with file_lock(_folder_lock(folder)):
        recover_output_folder(folder)  # a run killed mid-swap: its earlier set back first
        remove_stale(folder, ".out-")  # safe: we hold the folder's lock, so no other writer is using one
        try:
            tmp = Path(tempfile.mkdtemp(prefix=".out-", dir=folder))
        except OSError as exc:
            raise plain_os_error(exc, folder) from None
        try:
            yield tmp
            new = sorted(p.name for p in tmp.iterdir())
            names = sorted(set(known) | set(new))
            for name in names:  # before anything moves: a folder or a device in the way stops the whole set
                old = folder / name
                if old.is_symlink() or (old.exists() and not old.is_file()):
                    raise FileExistsError(f"{old} is in the way (not a regular file); nothing in {folder} was "
                                          "changed")
            _swap_in(tmp, folder, new, names)
        except OSError as exc:
            raise plain_os_error(exc, folder) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def write_folder(folder: str | Path, files: dict[str, bytes], *, known: Iterable[str] = ()) -> list[Path]:
    """Write ``files`` (name → bytes) into ``folder`` as a unit (:func:`output_folder`); return the paths written.

    Parameters
    ----------
    folder : str or pathlib.Path
        The output folder (created if missing).
    files : dict of str to bytes
        File name → contents.
    known : iterable of str
        Every file name this kind of output can contain (see :func:`output_folder`).

    Returns
    -------
    list of pathlib.Path
        The paths written, in the order of ``files``.
    """
    folder = Path(folder)
    with output_folder(folder, known=known) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return [folder / name for name in files]


_JOURNAL = ".out.journal.json"


def _folder_lock(folder: Path) -> Path:
    """The lock file of an output folder: in the temporary-files folder, named by the folder's real path."""
    import hashlib

    key = hashlib.sha256(str(folder.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"core20-locks-{uid}" / f"out-{key}.lock"


def recover_output_folder(folder: str | Path) -> bool:
    """Put back the earlier set of files of a swap that was killed part-way (its journal is still there).

    Every new file already renamed in is removed, or replaced by the earlier file of its name (kept aside in the
    temporary folder), and every earlier file moved aside comes back: the folder is wholly as it was before the
    killed run. Returns True if there was anything to recover. Call it holding the folder's lock
    (:func:`output_folder` does).
    """
    folder = Path(folder)
    journal = folder / _JOURNAL
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        tmp = folder / str(record["staging"])
        new, names = list(record["new"]), list(record["names"])
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):  # a journal cut short: killed before any rename
        journal.unlink(missing_ok=True)
        return False
    if tmp.parent != folder or not tmp.name.startswith(".out-"):
        journal.unlink(missing_ok=True)  # not one of ours
        return False
    aside = tmp / ".earlier"
    for name in names:
        if Path(name).name != name:
            continue
        if (aside / name).exists():  # an earlier file, kept or taken aside: it comes back
            os.replace(aside / name, folder / name)
        elif name in new and not (tmp / name).exists():  # a new file already placed, with no earlier one
            (folder / name).unlink(missing_ok=True)
    journal.unlink(missing_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return True


def _swap_in(tmp: Path, folder: Path, new: list[str], names: list[str]) -> None:
    """Put the ``new`` files in and take the other ``names`` out, so that on a failure the earlier set comes back.

    An earlier file that is replaced is first kept as a hard link (a copy where links are not possible), so it
    never disappears from ``folder``; one that is only removed is moved aside. If putting them back fails too, the
    kept files are left in a folder ``earlier-files-*`` beside them, and the error names it. The journal written
    first lets :func:`recover_output_folder` do the same after a kill.
    """
    aside = tmp / ".earlier"
    aside.mkdir()
    journal = folder / _JOURNAL
    atomic_write(journal, json.dumps({"staging": tmp.name, "new": new, "names": names}))
    kept: list[str] = []
    taken: list[str] = []
    placed: list[str] = []
    try:
        for name in names:
            if not (folder / name).exists():
                continue
            if name in new:
                try:
                    os.link(folder / name, aside / name)
                except OSError:
                    shutil.copy2(folder / name, aside / name)
                kept.append(name)
            else:
                os.replace(folder / name, aside / name)
                taken.append(name)
        for name in new:
            _umask_mode(tmp / name)
            os.replace(tmp / name, folder / name)
            placed.append(name)
        journal.unlink(missing_ok=True)  # the new set is whole: nothing to put back
    except BaseException as exc:
        try:
            for name in placed:
                if name not in kept:
                    (folder / name).unlink(missing_ok=True)
            for name in [*kept, *taken]:
                os.replace(aside / name, folder / name)
        except OSError:
            rescue = folder / f"earlier-files-{time.strftime('%Y%m%d-%H%M%S')}"
            os.replace(aside, rescue)
            journal.unlink(missing_ok=True)
            raise OSError(f"writing into {folder} failed ({exc}), and so did putting the earlier files back: "
                          f"they are kept in {rescue}") from exc
        journal.unlink(missing_ok=True)
        raise


def staging_folder(parent: Path, prefix: str) -> Path:
    """A new empty hidden folder ``prefix<random>`` in ``parent`` to build a folder in before :func:`replace_folder`."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    _umask_mode(path, 0o777)  # mkdtemp makes 0700; the swapped-in folder should read like any other
    return path


def replace_folder(new: Path, target: Path) -> None:
    """Swap the finished folder ``new`` in for ``target`` (two renames; the old copy is then removed)."""
    old = None
    if target.exists():
        old = target.with_name(f"{new.name}-old")
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_stale(folder: Path, prefix: str, *, older_than: float = 0.0, keep: Iterable[Path] = ()) -> list[Path]:
    """Remove temporary files or folders named ``prefix*`` in ``folder`` (left by a killed run).

    Call it while holding the lock that guards ``folder`` (or with ``older_than`` seconds, so a run in
    progress keeps its own). Returns what was removed.
    """
    keep = {Path(k).resolve() for k in keep}
    removed = []
    now = time.time()
    if not folder.is_dir():
        return removed
    for path in folder.glob(f"{prefix}*"):
        try:
            if path.resolve() in keep or now - path.lstat().st_mtime < older_than:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def file_lock(path: str | Path, *, waiting: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` across processes (``filelock.FileLock``).

    Parameters
    ----------
    path : str or pathlib.Path
        The lock file (created if missing, left in place).
    waiting : str, optional
        Printed on stderr if another process holds the lock, before waiting for it.

    Where the lock file cannot be made because the folder is read-only (or not ours), the block runs without it:
    nothing can be written there by this process anyway.
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if waiting:
                print(waiting, file=sys.stderr, flush=True)
            lock.acquire()
    except OSError as exc:
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        # A read-only folder (a cache mounted read-only, another user's): this process can write nothing there, so
        # there is nothing for the lock to guard. A reader goes on (``build`` of an up-to-date cache); a writer
        # fails at its first write, with its own message.
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _escape(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_formulas(df: Any) -> Any:
    """A copy of a DataFrame whose text cells (and column names) cannot start a spreadsheet formula.

    Only ``str`` values are changed (prefixed with ``'``); numbers, booleans and missing values are not,
    so a negative number in a numeric column stays a number.
    """
    import pandas as pd  # imported here: writing a file (atomic_write) should not cost a pandas import

    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or str(s.dtype) in ("string", "str"):
            escaped = [_escape(v) for v in s]
            if any(e is not v for e, v in zip(escaped, s, strict=True)):  # map() would turn ints + None to floats
                out[col] = pd.Series(escaped, index=s.index, dtype=object)
    out.columns = [_escape(c) for c in out.columns]
    return out


def csv_text(df: Any, **kwargs: Any) -> str:
    """CSV text of a DataFrame with formula cells escaped (:func:`escape_formulas`); no index by default."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    return escape_formulas(df).to_csv(**kwargs)
