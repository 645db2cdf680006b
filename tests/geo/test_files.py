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
    with pytest.raises(OSError, match="cannot be followed"):
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
