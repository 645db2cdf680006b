"""geo.files: atomic files and folders, the lock and formula-safe CSV."""

from __future__ import annotations

import threading
import time

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
