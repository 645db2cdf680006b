import json
import re

import numpy as np
import pandas as pd
import pytest

from targeting import maps
from targeting.render.assets import ASSET_URL, install_static_assets
from targeting.render.page import build_map
from targeting.render.payload import _legend_html, map_payload
from targeting.scope import make_scope


def _payload_dict(payload: str) -> dict:
    return json.loads(payload)


@pytest.fixture(scope="module")
def bsol(atlas):
    lsoas, bounds, name = maps.area_lsoas(make_scope(atlas, kind="icb", code="E54000055"))
    return lsoas, bounds, name


@pytest.fixture(scope="module")
def area(each_atlas):
    """Birmingham and Solihull ICB as each atlas holds it (only Solihull in the small one)."""
    return maps.area_lsoas(make_scope(each_atlas, kind="icb", code="E54000055"))


@pytest.mark.slow
def test_icb_area_is_birmingham_and_solihull(bsol, atlas):
    lsoas, bounds, name = bsol
    assert name == "NHS Birmingham and Solihull Integrated Care Board"
    assert len(lsoas) == 793  # ONS April 2024 LSOA 2021 → ICB lookup
    assert bounds is None
    assert set(lsoas["lad_name"]) == {"Birmingham", "Solihull"}


@pytest.mark.slow
def test_decile_layer_classes_match_the_atlas(bsol):
    lsoas, _, _ = bsol
    layers = {lay.key: lay for lay in maps.standard_layers(lsoas)}
    imd25 = layers["imd25"]
    assert (imd25.classes == lsoas["imd25_decile"].to_numpy() - 1).all()
    # Birmingham has many of England's most deprived LSOAs: decile 1 is the largest class
    assert np.bincount(imd25.classes).argmax() == 0
    assert imd25.palette == maps.VIRIDIS_10
    assert "IoD 2025" in imd25.vintage and "MHCLG" in imd25.source


def test_ethnic_group_layers_have_quantile_classes(area):
    lsoas, _, _ = area
    lay = {x.key: x for x in maps.standard_layers(lsoas)}["eth_pakistani"]
    assert lay.classes.min() == 0 and lay.classes.max() == len(lay.class_labels) - 1
    # highest class holds the LSOAs with the largest shares
    top = lsoas["pct_pakistani"].to_numpy()[lay.classes == lay.classes.max()]
    assert top.min() >= np.quantile(lsoas["pct_pakistani"], 0.75)
    assert "Census 2021" in lay.source


def test_value_layer_marks_missing_and_diverging_signs():
    v = pd.Series([np.nan, -10.0, -1.0, 0.0, 1.0, 10.0])
    lay = maps.value_layer("x", "X", v, units="u", source="s", vintage="v", diverging=True, decimals=0)
    assert list(lay.classes) == [-1, 0, 1, 2, 3, 4]
    seq = maps.value_layer("y", "Y", pd.Series([0.0] * 8 + [5.0, 9.0]), units="u", source="s", vintage="v")
    assert len(seq.class_labels) == len(set(seq.class_labels)) >= 2  # tied breaks merged, no empty class
    assert seq.classes[0] == 0 and seq.classes[-1] == len(seq.class_labels) - 1


def test_flag_and_category_layers():
    f = maps.flag_layer("p", "P", pd.Series([True, False, None]), yes="yes", no="no", source="s", vintage="v")
    assert list(f.classes) == [1, 0, -1]
    c = maps.category_layer("c", "C", np.array(["b", "a", None]), order=["a", "b"], source="s", vintage="v")
    assert list(c.classes) == [1, 0, -1]


def test_payload_rejects_misaligned_layers(area):
    lsoas, _, _ = area
    lay = maps.value_layer("v", "V", pd.Series([1.0, 2.0]), units="u", source="s", vintage="v")
    with pytest.raises(ValueError, match=f"2 values for {len(lsoas)} LSOAs"):
        map_payload(lsoas, [lay])


def test_map_uses_only_local_assets(area):
    lsoas, _, _ = area
    m = build_map(map_payload(lsoas, maps.standard_layers(lsoas)[:2]))
    links = []

    def walk(el):
        links.extend(u for _, u in getattr(el, "default_js", []))
        links.extend(u for _, u in getattr(el, "default_css", []))
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)
    assert links and all(u.startswith(ASSET_URL) for u in links)
    rendered = m.get_root().render()
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["'](https?:)?//""", rendered)


def test_install_static_assets(tmp_path):
    vendor = install_static_assets(tmp_path)
    js = vendor / "leaflet" / "leaflet.js"
    assert js.stat().st_size > 100_000
    assert (vendor / "markercluster" / "leaflet.markercluster.js").exists()
    mtime = js.stat().st_mtime_ns
    install_static_assets(tmp_path)  # second call leaves identical files alone
    assert js.stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_pcn_area_zooms_to_where_its_patients_live(atlas):
    lsoas, bounds, name = maps.area_lsoas(make_scope(atlas, kind="pcn", code="U79433"))
    assert "BIRMINGHAM EAST CENTRAL" in name.upper()
    assert set(lsoas["icb_code_nhs"]) == {"QHL"}
    x0, y0, x1, y1 = lsoas["geometry_web"].total_bounds
    (s, w), (n, e) = bounds
    assert y0 <= s < n <= y1 and x0 <= w < e <= x1
    assert (n - s) < (y1 - y0) / 2  # a PCN is a small part of its ICB


def test_unknown_area_raises_lookup_error(each_atlas):
    with pytest.raises(LookupError, match="U00000"):  # the edge resolves the area, once
        maps.area_lsoas(make_scope(each_atlas, kind="pcn", code="U00000"))
    with pytest.raises(LookupError):
        maps.lsoa_detail(make_scope(each_atlas), "E01NOTANY")


def test_lsoa_detail_of_a_real_lsoa(each_atlas, area):
    lsoas, _, _ = area
    code = lsoas.sort_values("imd25_rank")["lsoa_code"].iloc[0]  # the most deprived LSOA of the ICB
    d = maps.lsoa_detail(make_scope(each_atlas), code)
    assert d["row"]["lsoa_code"] == code and d["row"]["imd25_decile"] == 1
    assert d["practices"]["patients"].sum() <= d["row"]["registered_patients"]
    assert d["practices"]["share_pct"].between(0, 100).all()
    assert d["ethnic"]["pct"].is_monotonic_decreasing


def test_area_layers_include_plus_core20_and_gaps(each_atlas, area):
    lsoas, _, _ = area
    keys = [lay.key for lay in maps.area_layers(make_scope(each_atlas), lsoas)]
    assert keys[:4] == ["imd25", "imd19", "core20", "plus"]
    assert "reg_gap" in keys and "det_gap_hyp" in keys
    core = {lay.key: lay for lay in maps.area_layers(make_scope(each_atlas), lsoas, gaps=False)}["core20"]
    assert int(core.classes.sum()) == int(lsoas["imd25_core20"].sum())


@pytest.mark.parametrize("which, pcn", [pytest.param("atlas", "U79433", marks=pytest.mark.slow),  # Birmingham E.C.
                                        ("small_cli", "U37316")])  # Bradford City 4, in the small atlas
def test_map_command_writes_offline_html(tmp_path, request, which, pcn):
    from targeting.cli import main

    request.getfixturevalue(which)

    out = tmp_path / "bsol.html"
    assert main(["map", "--icb", "E54000055", "--layer", "plus", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert '"initial":"plus"' in text
    assert not re.search(r"""<script[^>]+src=["']https?://""", text)
    assert main(["map", "--icb", "Atlantis", "--out", str(tmp_path / "x.html")]) == 2
    plan = tmp_path / "plan.html"
    assert main(["map", "--pcn", pcn, "--layer", "targets", "--out", str(plan)]) == 0
    text = plan.read_text(encoding="utf-8")
    assert '"initial":"plan_connector"' in text and '"patches":' in text


@pytest.mark.slow
def test_core20_change_layer_has_four_classes_with_patterns(atlas, bsol):
    from targeting.change import lsoa_change

    lsoas = maps.area_lsoas(make_scope(atlas, kind="icb", code="E54000055"))[0]
    layers = {lay.key: lay for lay in maps.area_layers(make_scope(atlas), lsoas, gaps=False)}
    lay = layers["core20_change"]
    change = lsoa_change(make_scope(atlas, kind="icb", code="QHL")).set_index("lsoa_code")["change"]
    change = change.reindex(lsoas["lsoa_code"])
    order = ["entered", "left", "stayed in", "stayed out"]
    assert [order[c] for c in lay.classes] == change.tolist()
    assert (lay.classes == 0).sum() == 12 and (lay.classes == 1).sum() == 26  # Birmingham and Solihull
    assert lay.class_labels[0].startswith("Entered") and "striped" in lay.class_labels[0]
    from targeting.render.payload import map_payload

    legend = _legend_html(lay)
    assert "repeating-linear-gradient" in legend and "radial-gradient" in legend and "Source:" in legend
    payload = map_payload(lsoas, list(layers.values()))
    assert '"pat":["stripes","dots",null,null]' in payload


def test_practice_upload_tooltip_is_escaped_once(each_atlas):
    """Issue 13: a practice upload's tooltip showed a literal <br> and a twice-escaped label."""
    from targeting import uploads
    from targeting.area_maps import upload_map_payload

    codes = each_atlas.practices.loc[each_atlas.practices["icb_code_nhs"] == "QHL", "practice_code"].iloc[:12].tolist()
    data = ("practice_code,numerator,denominator\n" + "".join(f"{c},40,100\n" for c in codes)).encode()
    u = uploads.read_upload(data, each_atlas, filename="a&b <i>.csv")
    scope = make_scope(each_atlas, kind="icb", code="QHL")
    d = _payload_dict(upload_map_payload(scope, u, label="Uptake <b>&</b>"))
    vals = [p[-1] for p in d["overlays"]["practices"]["pts"] if p[3] in codes]
    assert vals and all(v == "Uptake &lt;b&gt;&amp;&lt;/b&gt; (%): 40.0 %" for v in vals), vals[:2]
    assert not any("&amp;lt;" in v or "&lt;br&gt;" in v for v in vals)
    legend = d["overlays"]["practices"]["legend"]
    assert "a&amp;b &lt;i&gt;.csv" in legend and "&amp;amp;" not in legend


def test_quantile_breaks_are_mapclassifys_to_the_bit(area):
    import warnings

    import mapclassify

    lsoas, _, _ = area
    for col in ("pct_pakistani", "pct_white", "pct_roma", "imd25_score", "residents"):
        v = lsoas[col].dropna().to_numpy(dtype=float)
        for k in (2, 3, 4, 5):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                expected = np.unique(mapclassify.Quantiles(v, k=k).bins)
            assert np.array_equal(maps.quantile_breaks(v, k), expected), (col, k)


def test_map_script_is_valid_javascript_with_its_accessible_controls(tmp_path):
    import shutil
    import subprocess
    from pathlib import Path

    import targeting.render

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is absent: the map's script cannot be parsed here")
    static = Path(targeting.render.__file__).parent / "static"
    script = (static / "map.js").read_text(encoding="utf-8")
    res = subprocess.run([node, "--check", str(static / "map.js")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr  # e.g. an apostrophe that ends a string
    for words in ("Legend (hide)", "Layers (hide)", "aria-expanded", "paddingBottomRight", "c20-patch-label",
                  "stroke-dasharray", "direction: 'auto'", "function collapsible(", "function lineKey(",
                  "var DASH", "function core20Style(", "'zoomend'", "f.properties.selected",
                  "history.replaceState", "maxClusterRadius: 80"):
        assert words in script, words
    css = (static / "map.css").read_text(encoding="utf-8")
    for rule in (".c20-toggle", ".c20-line", ".c20-patch-label", ":focus-visible", "min-height:24px"):
        assert rule in css, rule


def test_an_lsoas_plus_reasons_rank_it_among_the_lsoas_the_map_draws(each_atlas):
    """A "top 20%" rule ranks the clicked LSOA among its ICB's, as the map's PLUS layer does (alone, every LSOA
    would be its own top 20%)."""
    from targeting.plus import EthnicGroupRule

    scope = make_scope(each_atlas, kind="icb", code="QWO", plus_rules=(EthnicGroupRule("minority", top_pct=20),))
    drawn = each_atlas.lsoa21[each_atlas.lsoa21["icb_code_nhs"] == "QWO"]
    least = drawn.sort_values("pct_minority").iloc[0]["lsoa_code"]
    most = drawn.sort_values("pct_minority").iloc[-1]["lsoa_code"]
    layer = {lay.key: lay for lay in maps.area_layers(scope, drawn, gaps=False)}["plus"]
    flags = dict(zip(drawn["lsoa_code"], layer.values.astype(bool), strict=True))
    assert maps.lsoa_detail(scope, least)["plus_reasons"] == "" and not flags[least]
    assert "top 20%" in maps.lsoa_detail(scope, most)["plus_reasons"] and flags[most]
