"""geo.files: atomic files and folders, the lock and formula-safe CSV."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from geo import files


def test_escape_formulas_only_touches_text_cells():
    df = pd.DataFrame({"code": ["=1+1", "+44", "-x", "@SUM(A1)", "\tTab", "\rCR", "E01000001", None],
                       "value": [-0.5, 1.0, -2.0, 3.0, 4.0, 5.0, 6.0, None],
                       "mixed": pd.Series([1, "-1", "*", 2, None, 3, 4, 5], dtype=object)})
    out = files.escape_formulas(df)
    assert out["code"].tolist()[:7] == ["'=1+1", "'+44", "'-x", "'@SUM(A1)", "'\tTab", "'\rCR", "E01000001"]
    assert out["value"].tolist()[:3] == [-0.5, 1.0, -2.0]  # numbers stay numbers
    assert out["mixed"].tolist()[:4] == [1, "'-1", "*", 2]
    text = files.csv_text(pd.DataFrame({"=bad": [1]}))
    assert text.splitlines()[0] == "'=bad"


def test_output_folder_is_all_or_nothing(tmp_path):
    out = tmp_path / "o"
    with files.output_folder(out, known=("a.csv", "b.csv")) as tmp:
        (tmp / "a.csv").write_text("1")
        (tmp / "b.csv").write_text("1")
    (out / "mine.txt").write_text("keep")
    with pytest.raises(RuntimeError), files.output_folder(out, known=("a.csv", "b.csv")) as tmp:
        (tmp / "a.csv").write_text("2")
        raise RuntimeError("the second file failed")
    assert (out / "a.csv").read_text() == "1" and (out / "b.csv").exists()
    with files.output_folder(out, known=("a.csv", "b.csv")) as tmp:
        (tmp / "a.csv").write_text("3")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "mine.txt"]  # stale b.csv removed, mine kept
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError), files.output_folder(blocker):
        pass


def test_atomic_write_refuses_a_folder_and_keeps_the_old_file(tmp_path):
    with pytest.raises(IsADirectoryError):
        files.atomic_write(tmp_path, "x")
    f = tmp_path / "f.txt"
    files.atomic_write(f, "old")
    with pytest.raises(RuntimeError), files.atomic_path(f) as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert f.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_atomic_write_never_replaces_a_device_or_a_link(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # stands in for /dev/null or /dev/full, which a rename would replace for the whole machine
    with pytest.raises(OSError, match="not a regular file"):
        files.atomic_write(fifo, "x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    real = tmp_path / "real.html"
    real.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    files.atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"  # the file the link names is written
    loop_a, loop_b = tmp_path / "a.html", tmp_path / "b.html"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    with pytest.raises(OSError, match=r"a\.html is a loop of symbolic links"):
        files.atomic_write(loop_a, "x")


def test_output_folder_checks_every_target_before_moving_any(tmp_path, monkeypatch):
    out = tmp_path / "o"
    with files.output_folder(out, known=("a.csv", "b.csv", "c.csv")) as tmp:
        for name in ("a.csv", "b.csv", "c.csv"):
            (tmp / name).write_text("1")
    (out / "b.csv").unlink()
    (out / "b.csv").mkdir()  # a folder where a file goes
    with pytest.raises(FileExistsError, match="in the way"), files.output_folder(out, known=("a.csv", "b.csv",
                                                                                           "c.csv")) as tmp:
        for name in ("a.csv", "b.csv", "c.csv"):
            (tmp / name).write_text("2")
    assert (out / "a.csv").read_text() == (out / "c.csv").read_text() == "1"
    (out / "b.csv").rmdir()
    real_replace = os.replace
    calls = []

    def failing(src, dst):  # the second new file's rename fails (a disk error, a file held open)
        calls.append(dst)
        if Path(dst).parent == out and len([c for c in calls if Path(c).parent == out]) == 2:
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", failing)
    with pytest.raises(OSError), files.output_folder(out, known=("a.csv", "c.csv")) as tmp:
        for name in ("a.csv", "c.csv"):
            (tmp / name).write_text("3")
    monkeypatch.undo()
    assert (out / "a.csv").read_text() == (out / "c.csv").read_text() == "1"  # the earlier set, whole
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "c.csv"]

    def broken(src, dst):  # every file renamed into the folder after the first fails: putting back fails too
        calls.append(dst)
        into = [c for c in calls if Path(c).parent == out and Path(c).suffix == ".csv"]
        if Path(dst).parent == out and Path(dst).suffix == ".csv" and len(into) >= 2:
            raise OSError(30, "Read-only file system")
        return real_replace(src, dst)

    calls.clear()
    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(OSError, match="earlier-files-") as err, files.output_folder(out, known=("a.csv", "c.csv")) \
            as tmp:
        for name in ("a.csv", "c.csv"):
            (tmp / name).write_text("4")
    monkeypatch.undo()
    rescue = next(out.glob("earlier-files-*"))
    assert str(rescue) in str(err.value)
    assert sorted(p.name for p in rescue.iterdir()) == ["a.csv", "c.csv"]  # nothing of the earlier set is lost
    assert {p.read_text() for p in rescue.iterdir()} == {"1"}


def test_file_lock_serialises(tmp_path, capsys):
    order = []

    def hold():
        with files.file_lock(tmp_path / ".lock"):
            order.append("first in")
            time.sleep(0.3)
            order.append("first out")

    t = threading.Thread(target=hold)
    t.start()
    time.sleep(0.1)
    with files.file_lock(tmp_path / ".lock", waiting="Waiting for the other one…"):
        order.append("second in")
    t.join()
    assert order == ["first in", "first out", "second in"]
    assert "Waiting for the other one" in capsys.readouterr().err


# ---------------------------------------------------------------------- issue 24, item 6 (smaller defects)


def test_a_loop_of_links_is_said_plainly(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OSError, match=r"/a is a loop of symbolic links") as err, files.output_folder(a):
        pass
    assert "File exists" not in str(err.value)
    with pytest.raises(OSError, match=r"/a is a loop of symbolic links"):
        files.atomic_write(a / "map.html", "x")  # a folder above the file is the loop


def _full(*args, **kwargs):
    raise OSError(28, "No space left on device")  # as a write() on a full disk says it: no file name


def test_a_full_disk_names_the_device_not_errno_28(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "write_bytes", _full)
    with pytest.raises(OSError) as err:
        files.atomic_write(tmp_path / "map.html", b"x")
    assert str(err.value).startswith(f"no space left on the device holding {tmp_path / 'map.html'}")
    assert "Errno" not in str(err.value)
    with pytest.raises(OSError) as err, files.output_folder(tmp_path / "plan", known=("a.csv",)) as tmp:
        (tmp / "a.csv").write_bytes(b"1")
    assert str(err.value).startswith(f"no space left on the device holding {tmp_path / 'plan'}")
    assert not list((tmp_path / "plan").iterdir())


_KILLER = """
import os, signal, sys
from pathlib import Path
from geo import files

folder, version, after = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
calls = []

def killing(real):  # killed (kill -9) after `after` steps of the swap (a link or a rename of an output file)
    def step(src, dst):
        if not Path(dst).name.startswith("."):
            calls.append(dst)
            if len(calls) > after:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst)
    return step

os.replace, os.link = killing(os.replace), killing(os.link)
names = ["a.csv", "b.csv", "c.csv"] + (["d.csv"] if version == "new" else [])
with files.output_folder(folder, known=("a.csv", "b.csv", "c.csv", "d.csv", "e.csv")) as tmp:
    for name in names:
        (tmp / name).write_text(version)
"""


def test_a_kill_during_the_swap_leaves_one_whole_set(tmp_path):
    """kill -9 at every step of the swap: the next write to the folder finds it wholly old, never a mix."""
    import subprocess
    import sys

    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    env = {**os.environ, "PYTHONPATH": str(Path(files.__file__).parents[1])}
    old = {"a.csv": "old", "b.csv": "old", "c.csv": "old", "e.csv": "old", "mine.txt": "mine"}
    for after in range(8):  # a, b, c kept aside, e (of the earlier set only) taken out, 4 new files in
        out = tmp_path / f"o{after}"
        out.mkdir()
        for name, text in old.items():
            (out / name).write_text(text)
        run = subprocess.run([sys.executable, str(script), str(out), "new", str(after)], env=env,
                             capture_output=True, text=True)
        assert run.returncode == -9, run.stderr
        assert (out / ".out.journal.json").exists()  # the killed swap is on record
        assert files.recover_output_folder(out)
        seen = {p.name: p.read_text() for p in out.iterdir()}
        assert seen == old, (after, seen)  # wholly the earlier set
        with files.output_folder(out, known=("a.csv", "b.csv", "c.csv", "d.csv", "e.csv")) as tmp:
            for name in ("a.csv", "b.csv"):
                (tmp / name).write_text("next")
        assert {p.name: p.read_text() for p in out.iterdir()} == {"a.csv": "next", "b.csv": "next",
                                                                  "mine.txt": "mine"}


def test_the_next_write_recovers_a_killed_swap_before_anything_else(tmp_path):
    out = tmp_path / "o"
    with files.output_folder(out, known=("a.csv", "b.csv")) as tmp:
        (tmp / "a.csv").write_text("1")
        (tmp / "b.csv").write_text("1")
    # what a kill between the two renames of a second run leaves: a.csv new, b.csv old, the earlier a.csv aside
    staging = out / ".out-killed"
    (staging / ".earlier").mkdir(parents=True)
    os.link(out / "a.csv", staging / ".earlier" / "a.csv")
    os.link(out / "b.csv", staging / ".earlier" / "b.csv")
    (staging / "b.csv").write_text("2")
    (out / "a.csv").unlink()
    (out / "a.csv").write_text("2")
    (out / ".out.journal.json").write_text('{"staging": ".out-killed", "new": ["a.csv", "b.csv"], '
                                           '"names": ["a.csv", "b.csv"]}')
    with pytest.raises(RuntimeError), files.output_folder(out, known=("a.csv", "b.csv")):
        raise RuntimeError("this run fails: the folder must still be one whole set")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.csv": "1", "b.csv": "1"}


def test_two_writers_of_one_folder_take_turns(tmp_path):
    """The second writer waits for the first: neither removes the other's staging, and each set lands whole."""
    out = tmp_path / "o"
    known = ("a.csv", "b.csv")
    first_in, release, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with files.output_folder(out, known=known) as tmp:
                (tmp / "a.csv").write_text("first")
                first_in.set()
                release.wait(5)
                (tmp / "b.csv").write_text("first")
        except Exception as exc:  # reported below
            errors.append(exc)

    worker = threading.Thread(target=first)
    worker.start()
    assert first_in.wait(5)
    second = threading.Thread(target=lambda: _write(out, known, "second", errors))
    second.start()
    time.sleep(0.3)
    assert second.is_alive()  # waiting for the first writer, not removing its staging folder
    release.set()
    worker.join(5)
    second.join(5)
    assert not errors, errors
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.csv": "second", "b.csv": "second"}


def _write(out, known, text, errors):
    try:
        with files.output_folder(out, known=known) as tmp:
            for name in known:
                (tmp / name).write_text(text)
    except Exception as exc:  # reported by the test
        errors.append(exc)


def test_a_read_only_folder_needs_no_lock(tmp_path, monkeypatch):
    from filelock import FileLock

    def read_only(self, *args, **kwargs):
        raise OSError(30, "Read-only file system", self.lock_file)

    monkeypatch.setattr(FileLock, "acquire", read_only)
    ran = []
    with files.file_lock(tmp_path / ".atlas.lock"):
        ran.append(True)
    assert ran == [True]
