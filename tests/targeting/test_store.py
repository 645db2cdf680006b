"""The derived-state store: kept per atlas and scope, on disk beside the atlas, and made again when its code changes."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pandas as pd

import targeting.store as store_mod
from targeting.scope import make_scope
from targeting.store import derived


def _fresh(atlas):
    """The same atlas build as a new process would load it: same cache folder, nothing derived in memory."""
    a = copy.copy(atlas)
    a.__dict__.pop("_derived", None)
    return a


def _core20_counts_maker(calls: list):
    @derived(persist=True)
    def core20_lsoas_by_icb(scope) -> pd.DataFrame:
        calls.append(scope.key)
        t = scope.edition.lsoas
        return (t[scope.edition.core20_of(t)].groupby("icb_code_nhs").size()
                .rename("core20_lsoas").reset_index())

    return core20_lsoas_by_icb


def test_kept_in_memory_per_scope_and_on_disk_for_a_new_process(small_atlas):
    calls: list[str] = []
    make = _core20_counts_maker(calls)
    bradford = make_scope(small_atlas, imd=2025, kind="icb", code="QWO")
    solihull = make_scope(small_atlas, imd=2025, kind="icb", code="QHL")
    first = make(bradford)
    assert make(bradford) is first and len(calls) == 1  # the same scope: made once
    make(solihull)
    assert len(calls) == 2  # another scope: its own value
    again = make(make_scope(_fresh(small_atlas), imd=2025, kind="icb", code="QWO"))
    assert len(calls) == 2, "a new process reads the kept file instead of making it"
    pd.testing.assert_frame_equal(again, first)
    # the small atlas is Bradford and Solihull: West Yorkshire's Core20 LSOAs are in it
    assert int(first.set_index("icb_code_nhs").loc["QWO", "core20_lsoas"]) > 0


def test_the_core20_rule_is_part_of_every_key():
    import geo.editions
    import targeting.core20

    assert Path(geo.editions.__file__).resolve() in store_mod._RULE_FILES
    assert Path(targeting.core20.__file__).resolve() in store_mod._RULE_FILES


def test_a_file_kept_by_another_build_is_not_read(small_atlas):
    """A national table is keyed by an edition, not a scope: the build must still be in its file's key."""
    calls: list[int] = []

    @derived(persist=True)
    def core20_count(ed) -> pd.DataFrame:
        calls.append(ed.year)
        return pd.DataFrame({"core20_lsoas": [int(ed.core20_of(ed.lsoas).sum())]})

    core20_count(small_atlas.edition(2019))
    core20_count(_fresh(small_atlas).edition(2019))
    assert len(calls) == 1, "the same build: the kept file is read"
    rebuilt = _fresh(small_atlas)
    rebuilt.meta = {**small_atlas.meta, "built_at": "2030-01-01T00:00:00Z"}  # the same folder, a newer build
    core20_count(rebuilt.edition(2019))
    assert len(calls) == 2, "a newer build in the same folder must not read the older build's file"


def test_changing_the_core20_rule_makes_the_value_again(small_atlas, tmp_path, monkeypatch):
    rule = tmp_path / "editions.py"
    shutil.copy(Path(store_mod.__file__).resolve().parents[1] / "geo" / "editions.py", rule)
    monkeypatch.setattr(store_mod, "_RULE_FILES", (rule,))
    calls: list[str] = []
    make = _core20_counts_maker(calls)
    scope = make_scope(small_atlas, imd=2019, kind="icb", code="QHL")
    make(scope)
    make(make_scope(_fresh(small_atlas), imd=2019, kind="icb", code="QHL"))
    assert len(calls) == 1
    rule.write_text(rule.read_text().replace("CORE20_MAX_DECILE = 2", "CORE20_MAX_DECILE = 3"))
    make(make_scope(_fresh(small_atlas), imd=2019, kind="icb", code="QHL"))
    assert len(calls) == 2, "a new Core20 rule must not be answered from the old rule's file"


def test_a_damaged_kept_file_is_made_again(small_atlas):
    calls: list[str] = []
    make = _core20_counts_maker(calls)
    scope = make_scope(small_atlas, imd=2025)
    good = make(scope)
    folder = Path(small_atlas.meta["folder"]) / "derived"
    for p in folder.glob("*core20_lsoas_by_icb*.parquet"):
        p.write_bytes(b"not parquet")
    again = make(make_scope(_fresh(small_atlas), imd=2025))
    assert len(calls) == 2
    pd.testing.assert_frame_equal(again, good)
