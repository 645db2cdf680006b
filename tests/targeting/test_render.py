import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from targeting import area_maps, maps
from targeting.render.page import build_map, standalone_html
from targeting.render.payload import map_payload
from targeting.render.topology import build_topology, decode
from targeting.scope import make_scope

pytestmark = pytest.mark.slow  # the national atlas (and its precomputed answers)


def _payload_dict(payload: str) -> dict:
    return json.loads(payload)


def _codes(d: dict) -> list[str]:
    from targeting.render._pack import unpack

    return [f"E01{n:06d}" for n in np.cumsum(unpack(d["props"]["c"], signed=True))]


def _one_lsoa(name: str) -> gpd.GeoDataFrame:
    """One synthetic LSOA named ``name``, with the columns a map payload reads (for hostile-name tests)."""
    return gpd.GeoDataFrame({
        "lsoa_code": ["E01999999"], "lsoa_name": [name], "lad_name": ["Test"],
        "imd25_decile": [1], "imd19_decile": [2], "imd25_core20": [True], "imd19_core20": [True],
        "residents": [1500], "pct_minority": [20.0], "registered_patients": [1600], "icb_code_nhs": ["QXX"],
        "geometry_web": [box(-1.0, 52.0, -0.99, 52.01)],
    }, geometry="geometry_web", crs=4326)


@pytest.fixture(scope="module")
def bsol(atlas):
    lsoas, bounds, name = maps.area_lsoas(make_scope(atlas, kind="icb", code="E54000055"))
    return lsoas, bounds, name


def test_largest_icb_map_with_every_layer_is_under_0_6_mb(atlas):
    # North East and North Cumbria, 1,889 LSOAs: all 32 layers, practices, footprints, Leaflet inlined
    made = area_maps.area_map(make_scope(atlas, imd=2019, kind="icb", code="E54000050"))
    html = standalone_html(made.payload, title=made.title)
    assert len(html.encode("utf-8")) <= 600_000
    d = _payload_dict(made.payload)
    _, polys = decode(d["topo"])
    assert len(polys) == 1889 and all(p is not None and p.is_valid for p in polys)
    assert len(d["layers"]) == 32 and all(len(layer["cls"]) == 1889 for layer in d["layers"])
    assert {"core20", "practices", "footprints"} <= set(d["overlays"])


def test_neighbouring_lsoas_meet_with_no_gaps(atlas):
    lsoas, _, _ = maps.area_lsoas(make_scope(atlas, kind="icb", code="E54000050"))
    original = lsoas["geometry_web"].values
    topo = build_topology(original)
    _, polys = decode(json.loads(json.dumps(topo.to_json())))
    polys = np.array(polys, dtype=object)
    # every boundary two LSOAs share is one arc, drawn from the same numbers for both
    shared = [s for s in topo.sides if len(s) == 2]
    assert len(shared) > 4000
    for a, b in shared[::50]:
        assert shapely.intersection(polys[a], polys[b]).length > 0  # still touching along the boundary
        assert shapely.intersection(polys[a], polys[b]).area < 1e-12  # and not overlapping
    union = shapely.union_all(polys)
    holes = sum(len(p.interiors) for p in getattr(union, "geoms", [union]))
    before = shapely.coverage_union_all(original)
    assert holes == sum(len(p.interiors) for p in getattr(before, "geoms", [before]))  # no slivers opened up
    # the published boundaries overlap at two edges of this ICB; the encoding adds no other gap or overlap
    bad = int((~shapely.is_empty(shapely.coverage_invalid_edges(polys))).sum())
    assert bad <= int((~shapely.is_empty(shapely.coverage_invalid_edges(original))).sum())
    assert abs(union.area - sum(p.area for p in polys)) < 1e-7  # overlaps < 0.001 km² in all
    assert max(shapely.hausdorff_distance(original, polys)) < 3e-5  # within the 2 m grid


def test_packed_numbers_round_trip():
    from targeting.render._pack import pack, pack_values, unpack, unpack_values

    assert unpack(pack([0, 1, 31, 32, 1023, 1024, 10**9])) == [0, 1, 31, 32, 1023, 1024, 10**9]
    assert unpack(pack([0, -1, 5, -600, 10**7], signed=True), signed=True) == [0, -1, 5, -600, 10**7]
    assert unpack_values(pack_values([np.nan, 0, 1.2, -3.3, 95.3], 1), 1) == [None, 0, 1.2, -3.3, 95.3]
    assert set(pack(range(5000))) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_tooltip_strings_are_escaped():
    g = _one_lsoa("<script>alert(1)</script> & co")
    lay = maps.value_layer("v", "Label </script><b>", pd.Series([1.0]), units="u", source="s", vintage="v")
    payload = map_payload(g, [lay])
    assert "<script" not in payload and "</script" not in payload
    d = _payload_dict(payload)
    assert d["props"]["n"][0] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    assert "&lt;/script&gt;&lt;b&gt;" in d["layers"][0]["label"]


def test_standalone_html_inlines_leaflet(bsol):
    lsoas, _, _ = bsol
    html = standalone_html(map_payload(lsoas, maps.standard_layers(lsoas)[:2]))
    assert "Leaflet 1.9.3" in html or "leafletjs.com" in html  # the library itself is in the file
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["'](https?:)?//""", html)
    payload = html.rsplit("c20Map(map, ", 1)[1].rsplit(");\n})();", 1)[0]
    assert "E01009331" in _codes(_payload_dict(payload))  # an LSOA of Birmingham




def test_plan_map_has_connectors_and_patches(atlas):
    from targeting.outreach import plan_outreach

    plan = plan_outreach(make_scope(atlas, kind="pcn", code="U79433"), connectors=3)
    patches = area_maps.plan_patches(plan, atlas.lsoa21)
    # A patch is coloured by the first connector to reach it; a connector's rounds can run on into a patch
    # another connector started, so every connector walks some patch but need not be the first in one.
    assert set(patches["connector"]) <= {1.0, 2.0, 3.0} and 1.0 in set(patches["connector"])
    walked = {int(c) for cs in plan.patches["connectors"] for c in str(cs).split(";") if c}
    assert walked == {1, 2, 3}
    d = _payload_dict(area_maps.plan_map_payload(make_scope(atlas), plan))
    assert d["initial"] == "plan_connector"
    assert len(decode(d["topo"])[1]) == len(plan.lsoas)
    planned = plan.patches[plan.patches["connector"].notna()]
    assert len(d["overlays"]["patches"]["lines"]) == len(planned) == patches["label"].nunique()
    conn = next(lay for lay in d["layers"] if lay["key"] == "plan_connector")
    planned = plan.lsoas["status"].isin(["planned", "part planned"]).to_numpy()
    waiting = (plan.lsoas["status"] == "waiting").to_numpy()
    assert "-" not in conn["cls"]  # every LSOA is a connector's, waiting or not a target: none is "no data"
    assert {int(c) for c, w in zip(conn["cls"], waiting, strict=True) if w} <= {3}  # its own colour after 1-3
    assert {int(c) for c, p in zip(conn["cls"], planned, strict=True) if p} <= {0, 1, 2}


@pytest.mark.slow
def test_plan_map_labels_non_targets_as_such(atlas):
    from targeting.outreach import plan_outreach

    plan = plan_outreach(make_scope(atlas, kind="pcn", code="U67660"),
                         connectors=3)  # one LSOA of its footprint is neither Core20 nor PLUS
    other = (plan.lsoas["status"] == "not a target").to_numpy()
    assert other.sum() == 1
    conn = next(lay for lay in _payload_dict(area_maps.plan_map_payload(make_scope(atlas), plan))["layers"]
                if lay["key"] == "plan_connector")
    assert conn["flag"][4] == "Not a target" and "Not a target" in conn["legend"]
    assert [c for c, o in zip(conn["cls"], other, strict=True) if o] == ["4"]  # not "no data" ('-')


def test_template_syntax_in_data_is_never_evaluated():
    # branca compiles a macro's output as a template again: a name such as "{{ 7*7 }}" (an upload's file name
    # reaches the legend) must stay text, in the app's map and in the standalone page
    g = _one_lsoa("{{ 7*7 }} {% if 1 %}x{% endif %}")
    lay = maps.value_layer("v", "V", pd.Series([1.0]), units="u", source="upload {{ 6*7 }}.csv", vintage="v")
    payload = map_payload(g, [lay])
    for page in (build_map(payload).get_root().render(), standalone_html(payload)):
        assert "{{ 7*7 }} {% if 1 %}x{% endif %}" in page and "upload {{ 6*7 }}.csv" in page
        assert '"n":"49 x"' not in page and "upload 42.csv" not in page


def test_a_stored_map_is_the_computed_map(atlas):
    from targeting.precompute import open_answers

    answers = open_answers(build_if_missing=True, progress=False)
    for kind, code, imd in (("icb", "E54000050", 2019), ("pcn", "U79433", 2025)):
        stored = area_maps.area_map(make_scope(atlas, imd=imd, kind=kind, code=code), store=answers)
        computed = area_maps.area_map(make_scope(atlas, imd=imd, kind=kind, code=code))
        assert stored == computed
    d = _payload_dict(area_maps.area_map(make_scope(atlas, kind="pcn", code="U79433"), store=answers).payload)
    lines = d["overlays"]["footprints"]["lines"]
    assert [ln["pcn"] for ln in lines if ln.get("selected")] == ["U79433"] and len(lines) > 1  # its own, bold
    assert {p[3] for p in d["overlays"]["practices"]["pts"]} == set(
        atlas.practices.loc[atlas.practices["pcn_code"] == "U79433", "practice_code"].dropna())


def test_a_practice_map_selects_its_pcns_footprint_and_rings_the_practice(atlas):
    # Kensington Partnership (B83052, Bradford) is in PCN U37316 in the July 2022 map
    from targeting.precompute import open_answers

    answers = open_answers(build_if_missing=True, progress=False)
    for store in (answers, None):
        d = _payload_dict(area_maps.area_map(make_scope(atlas, kind="practice", code="B83052"), store=store).payload)
        lines = d["overlays"]["footprints"]["lines"]
        assert [ln["pcn"] for ln in lines if ln.get("selected")] == ["U37316"] and len(lines) > 1
        assert d["overlays"]["practices"]["sel"] == "B83052"
        assert "B83052" in {p[3] for p in d["overlays"]["practices"]["pts"]}  # the ICB's practices, itself among them


def test_every_legend_class_is_a_button_that_picks_out_its_lsoas(atlas, bsol):
    from targeting.render.payload import _legend_html

    lay = maps.area_layers(make_scope(atlas, imd=2025), bsol[0], gaps=False)[0]
    legend = _legend_html(lay)
    # the n-th button is class n (the page's script numbers them); "no data" says so
    buttons = re.findall(r'<button class="c20-class"( data-k="-")?><i style="background:(#[0-9a-f]{6})', legend)
    assert [c for _, c in buttons[:10]] == list(lay.palette) and '<div class="c20-classes">' in legend


def test_a_practice_values_legend_is_plain_rows_not_pickers(atlas, bsol):
    """Markers' classes are not LSOA classes: their legend must not offer to pick out LSOAs (it said 'Showing 0')."""
    from targeting.render.payload import practices_overlay

    pr = atlas.practices[atlas.practices["icb_code_nhs"] == "QHL"]
    lay = maps.value_layer("v", "Checks done", pd.Series(range(len(pr)), dtype=float), units="%", source="s",
                           vintage="v")
    legend = json.loads(practices_overlay(pr, lay))["legend"]
    assert "Checks done" in legend and legend.count('class="c20-key"') >= 2
    assert "<button" not in legend and "c20-classes" not in legend


def test_ambiguous_merges_ride_in_the_payload_for_the_imd_2019_layer_only_when_there_are_some():
    two = pd.concat([_one_lsoa("A"), _one_lsoa("B").assign(lsoa_code="E01999998")], ignore_index=True)
    lay = maps.value_layer("v", "V", pd.Series([1.0, 2.0]), units="u", source="s", vintage="v")
    assert "am" not in _payload_dict(map_payload(two, [lay]))["props"]  # no flag column: nothing sent
    flagged = two.assign(core20_2019_ambiguous_merge=[False, True])
    props = _payload_dict(map_payload(flagged, [lay]))["props"]
    assert props["am"] == [1] and props["amk"] == "imd19"  # the second LSOA, hatched on the IMD 2019 layer
    none = two.assign(core20_2019_ambiguous_merge=[False, False])
    assert "am" not in _payload_dict(map_payload(none, [lay]))["props"]


def test_the_national_map_shares_are_counts_summed_by_icb_and_each_icb_a_link(atlas):
    from targeting.national import icb_core20_shares
    from targeting.render.national import legend_rows, national_svg

    s = icb_core20_shares(make_scope(atlas, imd=2025))
    t = s.table.set_index("icb_code")
    l21 = atlas.lsoa21
    assert set(t.index) == set(l21["icb_code"]) and t.index.is_unique  # every LSOA's ICB, none left out
    assert int(t["lsoas"].sum()) == len(l21) and int(t["residents"].sum()) == int(l21["residents"].sum())
    bsol = l21[l21["icb_code"] == "E54000055"]
    core = bsol.loc[bsol["imd25_core20"].astype(bool), "residents"].sum()
    assert t.loc["E54000055", "core20_pct"] == round(100 * core / bsol["residents"].sum(), 1)
    assert s.england_pct == round(100 * l21.loc[l21["imd25_core20"].astype(bool), "residents"].sum()
                                  / l21["residents"].sum(), 1)
    # each ICB's dissolved polygon covers its LSOAs (areas within 1% after coverage simplification)
    lsoa_area = float(shapely.area(bsol["geometry_web"].to_numpy()).sum())
    assert t.loc["E54000055", "geometry"].area == pytest.approx(lsoa_area, rel=0.01)
    svg = national_svg(s)
    assert svg.count("<path ") == len(t) and 'href="compare?icb=E54000055"' in svg
    assert sum(n for _, _, n in legend_rows(s)) == len(t)
