"""``build`` on a read-only cache that is up to date says so and succeeds (issue 24, item 6): it only reads.

The tests run as any user (root too, whom file modes do not stop), so the cache is made read-only by refusing,
as a read-only mount would (EROFS), every call that would create, change or remove anything under it.
"""

import builtins
import errno
import io
import os
import shutil
from functools import partial
from pathlib import Path

import pytest


@pytest.fixture
def cache(small_atlas, small_env, monkeypatch, tmp_path):
    from targeting.precompute import build_answers

    for k, v in small_env.items():
        monkeypatch.setenv(k, v)
    build_answers(progress=False)
    copy = tmp_path / "cache"
    shutil.copytree(small_env["CORE20_CACHE"], copy)  # its lock files too, as a read-only mount keeps them
    monkeypatch.setenv("CORE20_CACHE", str(copy))
    return copy


def _read_only(monkeypatch, root: Path) -> list[str]:
    """Refuse every write under ``root`` with EROFS; return the attempts."""
    tried: list[str] = []
    root = str(root.resolve())

    def under(path) -> bool:
        try:
            return os.path.abspath(os.fspath(path)).startswith(root)
        except TypeError:
            return False

    def refuse(what, path):
        tried.append(f"{what} {path}")
        raise OSError(errno.EROFS, "Read-only file system", os.fspath(path))

    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and under(file) and any(c in mode for c in "wax+"):
            refuse("open", file)
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        if under(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC):
            refuse("os.open", path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    for name in ("mkdir", "unlink", "remove", "rmdir", "replace", "rename", "link", "symlink", "chmod"):
        real = getattr(os, name)

        def guarded(src, *args, _real=real, _name=name, **kwargs):
            if _name == "mkdir" and under(src) and os.path.lexists(src):  # as Linux says it, read-only or not
                raise FileExistsError(errno.EEXIST, "File exists", os.fspath(src))
            if under(src) or (args and isinstance(args[0], (str, os.PathLike)) and under(args[0])):
                refuse(_name, src)
            return _real(src, *args, **kwargs)

        monkeypatch.setattr(os, name, guarded)
    return tried


def test_build_on_a_read_only_up_to_date_cache_succeeds(cache, monkeypatch, capsys):
    import geo.atlas
    from targeting.commands import data

    monkeypatch.setattr(geo.atlas, "build", partial(geo.atlas.build, expect_national=False))
    tried = _read_only(monkeypatch, cache)
    assert data._build(type("Args", (), {"force": False, "quiet": False})()) == 0
    assert "Atlas is up to date" in capsys.readouterr().err
    assert not [t for t in tried if not t.endswith(".lock")], tried
