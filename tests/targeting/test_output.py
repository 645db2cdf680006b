"""Output folders written as a unit, files that name their area and settings, and bounded plan settings."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from targeting.cli import main
from targeting.publish import PLAN_FILES

BRADFORD_PCN = "U37316"  # Bradford City 4 PCN (July 2022 practice → PCN map)


def _run(capsys, argv):
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("which, other", [pytest.param("data_dir", "U67660", marks=pytest.mark.slow),  # Oldham
                                          ("small_cli", "U78361")])  # Bradford City 5, in the small atlas
def test_a_reused_folder_holds_only_the_new_plan(tmp_path, capsys, request, which, other):
    request.getfixturevalue(which)  # the national atlas, or the small one for the command line
    out = tmp_path / "plan"
    out.mkdir()
    (out / "my_notes.txt").write_text("keep me")
    code, _ = _run(capsys, ["targets", "--pcn", other, "--connectors", "1", "--scenario", "--out", str(out)])
    assert code == 0 and (out / "scenario.csv").exists()
    # issue 13: a stale scenario.csv from another PCN's plan stayed beside the new plan and did not name its area
    code, _ = _run(capsys, ["targets", "--pcn", BRADFORD_PCN, "--connectors", "2", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["my_notes.txt", *PLAN_FILES[:-1]])  # all but scenario
    assert (out / "my_notes.txt").read_text() == "keep me"
    targets = pd.read_csv(out / "targets.csv")
    assert targets["area"].str.contains(BRADFORD_PCN).all()
    assert targets["settings"].str.match(r"campaign: 2 connector\(s\), 100 households per connector per month, "
                                         r"12 months from \d{4}-\d\d; order deprivation first").all()


def test_a_failed_plan_leaves_the_earlier_files(tmp_path, capsys, small_cli):
    out = tmp_path / "plan"
    code, _ = _run(capsys, ["targets", "--pcn", BRADFORD_PCN, "--connectors", "1", "--out", str(out)])
    assert code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = _run(capsys, ["targets", "--pcn", "U99999", "--out", str(out)])
    assert code == 2 and "U99999" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no new targets.csv beside old sheets


@pytest.mark.parametrize("argv,words", [
    (["--connectors", "10000000"], "connectors must be a whole number from 1 to 200"),
    (["--connectors", "99999999999"], "connectors must be a whole number from 1 to 200"),
    (["--capacity", "1e12"], "capacity must be"),
    (["--capacity", "nan"], "capacity must be"),
    (["--months", "100000"], "months must be a whole number from 1 to 120"),
    (["--months", "2.5"], "months must be a whole number from 1 to 120"),
    (["--score-cut", "nan"], "score cut must be a number from 0 to 100"),
    (["--score-cut", "200"], "score cut must be a number from 0 to 100"),
    (["--weights", "plus=0.1,plus=0.5"], "weight 'plus' is given twice"),
])
def test_limits_give_one_line_and_exit_2(tmp_path, capsys, small_cli, argv, words):
    code, err = _run(capsys, ["targets", "--pcn", BRADFORD_PCN, *argv, "--out", str(tmp_path / "o")])
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_bad_outputs_and_inputs_of_other_commands(tmp_path, capsys, small_cli):
    code, err = _run(capsys, ["map", "--pcn", BRADFORD_PCN, "--out", str(tmp_path)])
    assert code == 2 and "is a folder" in err
    fifo = tmp_path / "device"
    os.mkfifo(fifo)  # as /dev/null or /dev/full: never replaced by a file
    code, err = _run(capsys, ["map", "--pcn", BRADFORD_PCN, "--out", str(fifo)])
    assert code == 2 and "not a regular file" in err and stat.S_ISFIFO(fifo.lstat().st_mode)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = _run(capsys, ["map", "--pcn", BRADFORD_PCN, "--out", str(blocker / "map.html")])
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
    code, err = _run(capsys, ["targets", "--pcn", BRADFORD_PCN, "--out", str(blocker)])
    assert code == 2 and "is a file, not a folder" in err
    for argv in (["targets", "--pcn", BRADFORD_PCN, "--out", "/proc/no-plan-here"],
                 ["map", "--pcn", BRADFORD_PCN, "--out", "/proc/no-map.html"]):  # folders nobody may write in
        code, err = _run(capsys, argv)
        assert code == 2 and err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) == 1
    for argv in (["practices", "--pcn", ""], ["practices", "--icb", " "], ["pcns", "--icb", ""],
                 ["map", "--icb", "", "--out", str(tmp_path / "m.html")]):  # empty would mean all of England
        with pytest.raises(SystemExit) as stop:
            main(argv)
        err = capsys.readouterr().err
        assert stop.value.code == 2 and "it is empty; give a code or part of a name" in err, argv
    code, err = _run(capsys, ["pcns", "--icb", "QHL", "--plus-lsoas", "/dev/zero", "--no-gaps"])
    assert code == 2 and "larger than 50 MB" in err  # the one upload limit (targeting/_limits.py)
    code, err = _run(capsys, ["pcns", "--icb", "Q\x1b[31mHL"])
    assert code == 2 and "\x1b" not in err and "\\x1b[31m" in err
