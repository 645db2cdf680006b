"""Issue 24, item 6: the smaller defects of the hostile-input probe, each with the behaviour it must now have.

(The output folder's swap, two writers of one folder, a loop of links, a full disk and a read-only cache are in
``tests/geo/test_files.py`` and ``tests/geo/test_read_only_cache.py``; counts and broken quotes in uploads in
``test_upload_corpus.py``; the download message in ``tests/geo/test_fetch_rows.py``.)
"""

import os
import threading

import pytest

from targeting.cli import main
from targeting.outreach import MIN_CAPACITY, check_settings

BRADFORD_PCN = "U37316"


@pytest.mark.parametrize("capacity", [0.001, 1, 9.99, 0])
def test_capacity_has_a_lower_bound(capacity):
    """0.001 households a month made 24,000 rounds and a 72 MB sheet: below 10 is refused in one sentence."""
    with pytest.raises(ValueError, match=r"capacity must be .* from 10 to 100,000, not ") as err:
        check_settings(3, capacity, 12)
    assert str(err.value).count(".") <= 2 and "\n" not in str(err.value)
    check_settings(3, MIN_CAPACITY, 12)  # 10 is taken (the app's field starts there)


def test_cli_refuses_a_tiny_capacity_before_loading(capsys):
    assert main(["targets", "--pcn", BRADFORD_PCN, "--capacity", "0.001", "--out", "never"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: capacity must be") and len(err.splitlines()) == 1
    assert not os.path.exists("never")


@pytest.mark.parametrize("command", [["targets", "--pcn", BRADFORD_PCN], ["map", "--icb", "QWO"],
                                     ["yourdata", "--file", "x.csv"]])
@pytest.mark.parametrize("out", ["", "   "])
def test_an_empty_out_is_refused(tmp_path, monkeypatch, capsys, command, out):
    """``--out ""`` would write into the current folder: one line, exit 2, nothing written."""
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--out", out]) == 2
    err = capsys.readouterr().err
    assert err == "error: argument --out: it is empty; give the folder (or file) to write\n"
    assert not list(tmp_path.iterdir())


def _within(seconds, fn):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it takes longer than ``seconds``."""
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("value", fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "still waiting: it opened the pipe"
    return out["value"]


def test_yourdata_refuses_a_pipe_without_opening_it(tmp_path, capsys):
    fifo = tmp_path / "stalled.csv"
    os.mkfifo(fifo)  # no writer: opening it for reading would wait for ever
    code = _within(10, lambda: main(["yourdata", "--file", str(fifo), "--out", str(tmp_path / "o")]))
    err = capsys.readouterr().err
    assert code == 2 and "stalled.csv is not a regular file (a pipe, device or socket)" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "o").exists()


def test_yourdata_names_a_loop_of_links(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.symlink_to(b)
    b.symlink_to(a)
    assert main(["yourdata", "--file", str(a), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "a.csv is a loop of symbolic links" in err and "Errno" not in err


def test_wrote_lines_show_control_characters_as_escapes(tmp_path, capsys, small_cli):
    out = tmp_path / "plan\x1b[2J\x1b[31mred"
    assert main(["targets", "--pcn", BRADFORD_PCN, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    wrote = [line for line in err.splitlines() if line.startswith("wrote ")]
    assert wrote and all("\x1b" not in line and "\\x1b[2J" in line for line in wrote)


def test_a_full_disk_is_one_plain_line(capsys, monkeypatch):
    """An OSError with no file name (a write on a full disk) is said without '[Errno 28]'."""
    import targeting.commands.data as mod

    def full(args):
        raise OSError(28, "No space left on device")

    real = mod.register

    def register(sub):
        real(sub)
        sub.choices["build"].set_defaults(func=full)

    monkeypatch.setattr(mod, "register", register)
    assert main(["build"]) == 2
    assert capsys.readouterr().err == "error: No space left on device\n"
