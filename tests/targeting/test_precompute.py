import io
import random
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from targeting import precompute
from targeting.cli import main
from targeting.maps import area_lsoas
from targeting.scope import make_scope

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "mapclassify", "folium", "jinja2", "branca", "geopandas")

pytestmark = pytest.mark.slow  # the national atlas (and its precomputed answers)



@pytest.fixture(scope="module")
def answers(atlas):
    return precompute.open_answers(build_if_missing=True, progress=False)


def _run(argv: list[str]) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


@pytest.mark.parametrize(("argv", "rows"), [
    (["pcns", "--icb", "E54000050", "--imd", "2019"], 66),  # North East and North Cumbria's PCNs, July 2022
    (["practices", "--pcn", "U79433", "--imd", "2025"], None),
])
def test_stored_profiles_print_exactly_what_is_computed(answers, monkeypatch, argv, rows):
    stored = _run(argv)
    monkeypatch.setattr(precompute, "open_answers", lambda **kw: None)
    computed = _run(argv)
    assert stored == computed
    if rows is not None:
        assert stored.count("\n") - 1 == rows


def test_every_pcns_zoom_is_the_one_area_lsoas_gives(atlas, answers):
    codes = random.Random(11).sample(sorted(answers._bounds or precompute._pcn_bounds(atlas)), 25)
    for code in [*codes, "U79433", "U37316"]:
        assert answers.pcn_bounds(code) == area_lsoas(make_scope(atlas, kind="pcn", code=code))[1], code


def test_answers_are_ignored_when_the_atlas_changes(answers, tmp_path, monkeypatch):
    monkeypatch.setattr(precompute, "_stamp", lambda month: {"atlas": "another build", "month": month, "code": "x"})
    assert precompute.open_answers() is None


@pytest.mark.parametrize("argv", [
    ["lsoas", "--icb", "E54000050", "--imd", "2019"],
    ["pcns", "--icb", "E54000050", "--imd", "2019"],
    ["map", "--icb", "E54000050", "--layer", "imd", "--imd", "2019"],
])
def test_cold_commands_import_no_heavy_library(answers, tmp_path, argv):
    if argv[0] == "map":
        argv = [*argv, "--out", str(tmp_path / "map.html")]
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "targeting", *argv], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    assert "targeting.cli" in imported  # the check sees the imports
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == [], heavy


def test_a_map_read_with_json_only_is_the_app_s_map(atlas, answers):
    from targeting.area_maps import area_map

    for kind, code, imd, initial in (("icb", "E54000050", 2019, "imd19"), ("icb", "QHL", 2025, None),
                                     ("pcn", "U79433", 2025, "plus")):
        payload, name = answers.map_payload(kind, code, imd, initial)
        made = area_map(make_scope(atlas, imd=imd, kind=kind, code=code), initial=initial)  # computed, no store
        assert (payload, f"Core20PLUS map: {name}") == (made.payload, made.title)
    assert answers.map_payload("icb", "Birmingham", 2025) is None  # a name is resolved in full by the caller


def test_the_stored_index_is_what_the_resolvers_give(atlas, answers):
    from targeting.areas import resolve_area

    index = answers.index
    assert len(index["pcn"]) > 1200 and len(index["icb_name"]) == 42
    for code in random.Random(5).sample(sorted(index["pcn"]), 40):
        area = resolve_area(atlas, "pcn", code)
        assert index["pcn"][code] == [area.icb_code_nhs, area.name], code
    for code, nhs in index["icb"].items():
        assert resolve_area(atlas, "icb", code).icb_code_nhs == nhs
    unplaced = set(atlas.pcns["pcn_code"]) - set(index["pcn"]) - {"U"}
    assert all(atlas.pcns.set_index("pcn_code").loc[c, "icb_code_nhs"] not in index["icb_name"] for c in unplaced)


def test_a_killed_build_s_staging_folders_are_removed(small_cli, small_env):
    cache = Path(small_env["CORE20_CACHE"])
    stale = cache / ".answers-k1ll3d"  # what a build killed while writing leaves behind
    stale.mkdir()
    (stale / "maps").mkdir()
    swapped = cache / ".answers-k1ll3d2-old"
    swapped.mkdir()
    mine = cache / "my.answers-notes"  # not the build's own name pattern: left alone
    mine.mkdir()
    inside = cache / "answers" / ".answers-k1ll3d3"  # where the answers of each month are staged now
    inside.mkdir(parents=True)
    precompute.build_answers(small_cli, progress=False)
    assert not stale.exists() and not swapped.exists() and not inside.exists() and mine.exists()
    assert precompute.open_answers() is not None


def test_the_answers_key_covers_the_templates_they_are_rendered_with(tmp_path, monkeypatch):
    """The start page's national map is stored rendered (answers/<month>/national.json): a change to its template
    (national_map.svg.j2) left the old drawing in place, because the key hashed no template."""
    import targeting.store as store
    from targeting.precompute import _code_hash

    (tmp_path / "render" / "templates").mkdir(parents=True)
    template = tmp_path / "render" / "templates" / "national_map.svg.j2"
    template.write_text("<svg>")
    monkeypatch.setattr(store, "_PACKAGE", tmp_path)
    store.code_hash.cache_clear()
    before = _code_hash()
    template.write_text('<svg style="max-width:100%">')
    store.code_hash.cache_clear()
    try:
        assert _code_hash() != before
    finally:
        store.code_hash.cache_clear()
