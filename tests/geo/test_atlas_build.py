"""The atlas cache under concurrent builds and failures (synthetic tables: the real build is tested elsewhere)."""

import json
import threading
import time

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

import geo._atlas_cache as atlas_cache
import geo._atlas_tables as atlas_tables
import geo.atlas as atlas_mod


def _tables(tag: str) -> dict[str, pd.DataFrame]:
    pts = gpd.GeoDataFrame({"lsoa_code": ["E01000001"], "tag": [tag]}, geometry=[Point(0, 51)], crs=4326)
    small = pd.DataFrame({"x": [1], "tag": [tag]})
    return {name: (pts if name in atlas_cache._GEO_TABLES else small) for name in atlas_mod._TABLES}


@pytest.fixture
def fake_build(monkeypatch, tmp_path):
    monkeypatch.setenv("CORE20_CACHE", str(tmp_path))
    calls = []

    def slow_tables(progress, *, national=True):
        calls.append(threading.get_ident())
        time.sleep(0.3)  # long enough for the other thread to try to build at the same time
        return _tables(f"build{len(calls)}")

    monkeypatch.setattr(atlas_tables, "_build_tables", slow_tables)
    monkeypatch.setattr(atlas_mod, "input_hashes", lambda keys=None: {"imd2025": {"sha256": "abc"}})
    yield tmp_path, calls


def test_two_builds_at_once_build_once_and_leave_a_whole_atlas(fake_build):
    cache, calls = fake_build
    errors = []

    def run():
        try:
            atlas_mod.build(progress=False)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(calls) == 1  # the second waited for the lock, then saw the inputs unchanged
    meta = json.loads((cache / "atlas" / "build.json").read_text())
    assert meta["inputs"] == {"imd2025": {"sha256": "abc"}}
    a = atlas_mod.load(build_if_missing=False)
    assert a.lsoa21["tag"].iloc[0] == "build1"
    assert not [p for p in cache.iterdir() if p.name.startswith(".atlas-")]  # no temporary folders left


def test_failed_build_keeps_the_previous_atlas(fake_build, monkeypatch):
    cache, _ = fake_build
    atlas_mod.build(progress=False)
    before = (cache / "atlas" / "lsoa21.parquet").read_bytes()

    def broken(progress, *, national=True):
        raise ValueError("a reader found a bad file")

    monkeypatch.setattr(atlas_tables, "_build_tables", broken)
    with pytest.raises(ValueError, match="bad file"):
        atlas_mod.build(force=True, progress=False)
    assert (cache / "atlas" / "lsoa21.parquet").read_bytes() == before
    assert not [p for p in cache.iterdir() if p.name.startswith(".atlas-")]


def test_changed_input_triggers_rebuild(fake_build, monkeypatch):
    _, calls = fake_build
    atlas_mod.build(progress=False)
    atlas_mod.build(progress=False)
    assert len(calls) == 1
    monkeypatch.setattr(atlas_mod, "input_hashes", lambda keys=None: {"imd2025": {"sha256": "changed"}})
    atlas_mod.build(progress=False)
    assert len(calls) == 2


def test_a_killed_builds_temporary_folders_are_removed(fake_build):
    cache, _ = fake_build
    stale = cache / ".atlas-k1ll3d"
    (stale / "deep").mkdir(parents=True)
    (stale / "deep" / "lsoa21.parquet").write_bytes(b"x" * 1000)
    (cache / ".atlas-old-4242").mkdir()
    mine = cache / "my.atlas-notes"  # not the build's own name pattern: left alone
    mine.write_text("keep")
    atlas_mod.build(progress=False)
    assert not [p for p in cache.iterdir() if p.name.startswith(".atlas-")]
    assert mine.read_text() == "keep"
    (cache / ".atlas-again").mkdir()
    atlas_mod.build(progress=False)  # up to date: nothing rebuilt, but the leftovers still go
    assert not (cache / ".atlas-again").exists()


# ---------------------------------------------------------------- real inputs the build must refuse (issue 13)

def _real(data_dir, relpath):
    path = data_dir / relpath
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path.read_bytes()


@pytest.mark.parametrize("how", ["cut mid-line", "half its rows"])
def test_build_refuses_a_cut_practice_map_naming_the_file(data_dir, tmp_path, monkeypatch, capsys, how):
    from targeting.cli import main

    body = _real(data_dir, "gp/gp-reg-pat-prac-map_2022-07.csv")
    if how == "cut mid-line":
        bad = body[: len(body) - 30]  # the last line loses its end, as an interrupted copy leaves it
    else:
        lines = body.splitlines(keepends=True)
        bad = b"".join(lines[: len(lines) // 2])
    path = tmp_path / "gp-reg-pat-prac-map_2022-07.csv"
    path.write_bytes(bad)
    monkeypatch.setenv("CORE20_FILE_GP_REG_MAP", str(path))
    monkeypatch.setenv("CORE20_CACHE", str(tmp_path / "cache"))
    code = main(["build", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err
    assert ("cut short" in err) if how == "cut mid-line" else ("3,422 data rows" in err and "6,845" in err)
    assert not (tmp_path / "cache" / "atlas").exists()
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".atlas-")]


def test_an_imd_file_without_the_score_column_is_named(data_dir):
    from geo._errors import ValidationError
    from geo.readers import read_iod

    imd = read_iod(data_dir / "imd/imd2025_lsoa21_ranks_scores_deciles.csv.gz", edition=2025)
    with pytest.raises(ValidationError, match=r"column 'imd_score': this column is needed by the build") as info:
        atlas_tables._checked("imd2025", imd.drop(columns=["imd_score"]))
    assert "imd2025_lsoa21_ranks_scores_deciles.csv.gz" in str(info.value)


def test_an_extract_build_is_not_taken_for_the_national_atlas(fake_build):
    _, calls = fake_build
    atlas_mod.build(progress=False, expect_national=False)
    assert json.loads((fake_build[0] / "atlas" / "build.json").read_text())["national"] is False
    atlas_mod.build(progress=False, expect_national=False)
    assert len(calls) == 1
    atlas_mod.build(progress=False)  # same inputs, but now they must be the national files: rebuild
    assert len(calls) == 2 and json.loads((fake_build[0] / "atlas" / "build.json").read_text())["national"]
