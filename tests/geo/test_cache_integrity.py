"""A cache that checks itself: every atlas and answers file is recorded with its size and sha256 when written; a
damaged one is named and rebuilt by ``build``, and a command that meets it says so in one line (issue 24, item 5).

Each test damages its own copy of the small atlas's cache (built from extracts of the real files).
"""

import json
import shutil
from pathlib import Path

import pytest

from geo.files import DamagedCacheError
from targeting.cli import main


@pytest.fixture
def cache(small_atlas, small_env, monkeypatch, tmp_path):
    from targeting.precompute import build_answers

    for k, v in small_env.items():
        monkeypatch.setenv(k, v)
    build_answers(progress=False)  # the small atlas's answers, then a copy of it all to damage
    copy = tmp_path / "cache"
    shutil.copytree(small_env["CORE20_CACHE"], copy, ignore=shutil.ignore_patterns("*.lock"))
    monkeypatch.setenv("CORE20_CACHE", str(copy))
    return copy


def _cut(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_every_file_is_recorded_with_its_size_and_sha256(cache):
    meta = json.loads((cache / "atlas" / "build.json").read_text())
    assert {"lsoa21.parquet", "practices.parquet", "months/2026-07/practices.parquet"} <= set(meta["files"])
    size, sha = meta["files"]["lsoa21.parquet"]
    assert size == (cache / "atlas" / "lsoa21.parquet").stat().st_size and len(sha) == 64
    answers = next((cache / "answers").glob("*/build.json"))
    assert "index.json" in json.loads(answers.read_text())["files"]


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_a_damaged_atlas_file_is_named_by_commands_and_rebuilt_by_build(cache, capsys, damage):
    from geo.atlas import build, load

    path = cache / "atlas" / "lsoa21.parquet"
    _cut(path) if damage == "truncated" else path.unlink()
    with pytest.raises(DamagedCacheError, match=r"lsoa21\.parquet .*Run `python -m targeting build`"):
        load(progress=False, geometry=False)
    assert main(["lsoas", "--icb", "QWO"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lsoa21.parquet" in err and "Traceback" not in err
    build(progress=False, expect_national=False)  # says what it rebuilds, then the atlas is whole again
    assert "Atlas cache damaged, rebuilding: lsoa21.parquet" in capsys.readouterr().err
    assert len(load(progress=False, geometry=False).lsoa21) > 0


def test_a_file_changed_in_place_is_found_by_its_sha256(cache, capsys):
    from geo.atlas import build

    path = cache / "atlas" / "icbs.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte flipped
    path.write_bytes(bytes(data))
    build(progress=False, expect_national=False)
    assert "icbs.parquet (contents changed: sha256 differs)" in capsys.readouterr().err


def test_garbled_answers_are_one_line_and_made_again(cache, capsys):
    from targeting.precompute import answers_damage, open_answers

    index = next((cache / "answers").glob("*/index.json"))
    index.write_bytes(b"x" * index.stat().st_size)  # same size: only the sha256 tells
    assert main(["pcns", "--icb", "QWO"]) == 2
    err = capsys.readouterr().err
    assert "index.json cannot be read" in err and "python -m targeting build" in err and err.count("\n") == 1
    assert answers_damage() == ["index.json (contents changed: sha256 differs)"]
    index.write_text("[]")  # another size: the answers are set aside, and computed again when asked
    assert open_answers() is None
    assert main(["pcns", "--icb", "QWO"]) == 0
    assert "pcn_code" in capsys.readouterr().out and open_answers() is not None and answers_damage() == []
