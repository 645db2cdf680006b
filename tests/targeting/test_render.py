import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from targeting import maps
from targeting.render import area as render_area
from targeting.render.assets import ASSET_URL, install_static_assets
from targeting.render.page import build_map, standalone_html
from targeting.render.payload import map_payload, payload_bytes


def _payload_dict(payload: str) -> dict:
    return json.loads(payload)


@pytest.fixture(scope="module")
def bsol(atlas):
    lsoas, bounds, name = maps.area_lsoas(atlas, "icb", "E54000055")
    return lsoas, bounds, name


def test_largest_icb_payload_is_under_3_mb_and_rounded(atlas):
    lsoas, _, _ = maps.area_lsoas(atlas, "icb", "QHM")  # North East and North Cumbria, 1,889 LSOAs
    assert len(lsoas) == 1889
    practices = atlas.practices[atlas.practices["icb_code_nhs"] == "QHM"]
    payload = map_payload(lsoas, maps.standard_layers(lsoas), practices=practices)
    assert payload_bytes(payload) <= 3_000_000
    d = _payload_dict(payload)
    assert len(d["fc"]["features"]) == 1889
    coords = re.findall(r"-?\d+\.(\d+)", json.dumps(d["fc"]["features"][0]["geometry"]))
    assert coords and max(len(c) for c in coords) <= 5
    assert all(len(layer["cls"]) == 1889 for layer in d["layers"])
    assert "core20" in d["overlays"] and "practices" in d["overlays"]


def test_tooltip_strings_are_escaped():
    g = gpd.GeoDataFrame({
        "lsoa_code": ["E01999999"], "lsoa_name": ["<script>alert(1)</script> & co"], "lad_name": ["Test"],
        "imd25_decile": [1], "imd19_decile": [2], "imd25_core20": [True], "imd19_core20": [True],
        "residents": [1500], "pct_minority": [20.0], "registered_patients": [1600], "icb_code_nhs": ["QXX"],
        "geometry_web": [box(-1.0, 52.0, -0.99, 52.01)],
    }, geometry="geometry_web", crs=4326)
    lay = maps.value_layer("v", "Label </script><b>", pd.Series([1.0]), units="u", source="s", vintage="v")
    payload = map_payload(g, [lay])
    assert "<script" not in payload and "</script" not in payload
    d = _payload_dict(payload)
    assert d["fc"]["features"][0]["properties"]["n"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    assert "&lt;/script&gt;&lt;b&gt;" in d["layers"][0]["label"]


def test_payload_rejects_misaligned_layers(bsol):
    lsoas, _, _ = bsol
    lay = maps.value_layer("v", "V", pd.Series([1.0, 2.0]), units="u", source="s", vintage="v")
    with pytest.raises(ValueError, match="2 values for 793 LSOAs"):
        map_payload(lsoas, [lay])


def test_map_uses_only_local_assets(bsol):
    lsoas, _, _ = bsol
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


def test_standalone_html_inlines_leaflet(bsol):
    lsoas, _, _ = bsol
    html = standalone_html(map_payload(lsoas, maps.standard_layers(lsoas)[:2]))
    assert "Leaflet 1.9.3" in html or "leafletjs.com" in html  # the library itself is in the file
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["'](https?:)?//""", html)
    assert "E01009331" in html  # an LSOA of Birmingham


def test_install_static_assets(tmp_path):
    vendor = install_static_assets(tmp_path)
    js = vendor / "leaflet" / "leaflet.js"
    assert js.stat().st_size > 100_000
    assert (vendor / "markercluster" / "leaflet.markercluster.js").exists()
    mtime = js.stat().st_mtime_ns
    install_static_assets(tmp_path)  # second call leaves identical files alone
    assert js.stat().st_mtime_ns == mtime


def test_map_command_writes_offline_html(tmp_path, atlas):
    from targeting.cli import main

    out = tmp_path / "bsol.html"
    assert main(["map", "--icb", "E54000055", "--layer", "plus", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert '"initial":"plus"' in text
    assert not re.search(r"""<script[^>]+src=["']https?://""", text)
    assert main(["map", "--icb", "Atlantis", "--out", str(tmp_path / "x.html")]) == 2
    plan = tmp_path / "plan.html"
    assert main(["map", "--pcn", "U79433", "--layer", "targets", "--out", str(plan)]) == 0
    text = plan.read_text(encoding="utf-8")
    assert '"initial":"plan_connector"' in text and '"patches":' in text


def test_plan_map_has_connectors_and_patches(atlas):
    from targeting.outreach import plan_outreach

    plan = plan_outreach(atlas, pcn="U79433", connectors=3)
    patches = render_area.plan_patches(plan)
    assert set(patches["connector"]) == {1.0, 2.0, 3.0}
    d = _payload_dict(render_area.plan_map_payload(atlas, plan))
    assert d["initial"] == "plan_connector"
    assert len(d["fc"]["features"]) == len(plan.lsoas)
    assert len(d["overlays"]["patches"]["fc"]["features"]) == len(patches)
    conn = next(lay for lay in d["layers"] if lay["key"] == "plan_connector")
    planned = (plan.lsoas["status"] == "planned").to_numpy()
    waiting = (plan.lsoas["status"] == "waiting").to_numpy()
    assert all((c != "-") == (p or w) for c, p, w in zip(conn["cls"], planned, waiting, strict=True))
    assert {int(c) for c, w in zip(conn["cls"], waiting, strict=True) if w} <= {3}  # its own colour after 1-3


def test_template_syntax_in_data_is_never_evaluated():
    # branca compiles a macro's output as a template again: a name such as "{{ 7*7 }}" (an upload's file name
    # reaches the legend) must stay text, in the app's map and in the standalone page
    g = gpd.GeoDataFrame({
        "lsoa_code": ["E01999999"], "lsoa_name": ["{{ 7*7 }} {% if 1 %}x{% endif %}"], "lad_name": ["Test"],
        "imd25_decile": [1], "imd19_decile": [2], "imd25_core20": [True], "imd19_core20": [True],
        "residents": [1500], "pct_minority": [20.0], "registered_patients": [1600], "icb_code_nhs": ["QXX"],
        "geometry_web": [box(-1.0, 52.0, -0.99, 52.01)],
    }, geometry="geometry_web", crs=4326)
    lay = maps.value_layer("v", "V", pd.Series([1.0]), units="u", source="upload {{ 6*7 }}.csv", vintage="v")
    payload = map_payload(g, [lay])
    for page in (build_map(payload).get_root().render(), standalone_html(payload)):
        assert "{{ 7*7 }} {% if 1 %}x{% endif %}" in page and "upload {{ 6*7 }}.csv" in page
        assert '"n":"49 x"' not in page and "upload 42.csv" not in page
