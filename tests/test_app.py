"""Every page's flow through streamlit.testing's AppTest, on the real atlas."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the app reads the national atlas

TIMEOUT = 240
APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def app(atlas):
    # the atlas fixture makes sure the real data is there (or skips)
    from streamlit.testing.v1 import AppTest  # imported here: `pytest -m "not slow"` never pays for streamlit

    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
    parts += [str(w.value) for w in at.warning] + [str(i.value) for i in at.info] + [str(e.value) for e in at.error]
    parts += [str(s.value) for s in at.success]
    return "\n".join(parts)


def test_explore_opens_the_icb_in_the_url(app):
    app.query_params["icb"] = "E54000055"
    app.run()
    assert not app.exception
    assert app.subheader[0].value == "ICB: NHS Birmingham and Solihull Integrated Care Board"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["LSOAs"] == "793"
    assert int(metrics["Core20 LSOAs"].replace(",", "")) > 300  # Birmingham: most LSOAs are in deciles 1–2
    assert any(b.key == "explore_download" for b in app.get("download_button"))


def test_explore_without_an_area_asks_for_one(app):
    app.run()
    assert not app.exception
    assert "Type part of a name" in _texts(app)


def test_search_finds_a_pcn_by_part_of_its_name_and_puts_it_in_the_url(app):
    app.run()
    app.text_input(key="explore_search").input("Birmingham East").run()
    assert not app.exception
    assert app.query_params.get("pcn") in ("U79433", ["U79433"])
    assert app.subheader[0].value.startswith("PCN: Birmingham East Central")
    assert "Living in Core20 LSOAs" in _texts(app)


def test_search_with_no_match_says_so(app):
    app.run()
    app.text_input(key="explore_search").input("zzzz no such place").run()
    assert not app.exception
    assert "Nothing matches" in _texts(app)


def test_unknown_code_in_the_url_is_a_clear_message(app):
    app.query_params["pcn"] = "U00000"
    app.run()
    assert not app.exception
    assert "No PCN matches 'U00000'" in _texts(app)


def test_switching_imd_edition_keeps_the_area(app):
    app.query_params["icb"] = "QHL"
    app.run()
    app.radio(key="imd").set_value(2019).run()
    assert not app.exception
    assert app.subheader[0].value.endswith("Birmingham and Solihull Integrated Care Board")


def test_your_data_example_flow(app):
    app.run()
    app.switch_page("app_pages/your_data.py").run()
    assert not app.exception
    app.toggle(key="yd_example").set_value(True).run()
    assert not app.exception
    text = _texts(app)
    assert "793 rows" in text  # one row per LSOA 2021 of Birmingham and Solihull
    assert "could not be used" in text  # the example's two bad rows are listed, not dropped
    frames = [d.value for d in app.dataframe]
    invalid = next(f for f in frames if "reason" in f.columns)
    assert list(invalid["row"]) == [795, 796]
    gap = next(f for f in frames if "group" in f.columns)
    assert list(gap["group"])[:3] == ["Core20", "Rest", "All"]
    assert "percentage points" in text
    keys = {b.key for b in app.get("download_button")}
    assert {"yd_dl", "yd_gap_dl", "yd_invalid_dl"} <= keys


def test_methods_page_lists_sources_and_limitations(app):
    app.run()
    app.switch_page("app_pages/methods.py").run()
    assert not app.exception
    text = _texts(app)
    assert "Open Government Licence" in text
    assert "Contains OS data" in text
    assert "July 2022" in text and "indicative" in text.lower()


def test_compare_page_flow(app):
    app.query_params["icb"] = "E54000055"
    app.run()
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    text = _texts(app)
    assert "Birmingham and Solihull" in text
    assert "league" in text.lower()  # framed: not a league table
    assert any(b.key == "compare_download" for b in app.get("download_button"))


def test_outreach_page_flow(app):
    app.query_params["pcn"] = "U79433"
    app.run()
    app.switch_page("app_pages/outreach.py").run()
    assert not app.exception
    text = _texts(app)
    assert "Birmingham East Central" in text.title() or "BIRMINGHAM EAST CENTRAL" in text
    keys = {b.key for b in app.get("download_button")}
    assert {"outreach_csv", "outreach_rounds_csv", "outreach_rounds_geojson", "outreach_geojson",
            "outreach_sheets"} <= keys
    assert "(month 1)" in text and "postcodes, about" in text  # the rounds of the month (a calendar month), as points
    assert any(s.key == "out_month" for s in app.select_slider)
    app.radio(key="out_mode").set_value("caseload").run()
    assert not app.exception
    assert "Workers for every Core20 household" in {m.label for m in app.metric}


def test_explore_pcn_with_outreach_patches(app):
    app.query_params["pcn"] = "U79433"
    app.run()
    app.toggle(key="explore_patches").set_value(True).run()
    assert not app.exception
    assert app.subheader[0].value == "PCN: Birmingham East Central PCN"


def test_explore_a_local_authority_and_a_practice(app, atlas):
    app.query_params["lad"] = "E08000025"
    app.run()
    assert not app.exception
    assert app.subheader[0].value == "Local authority: Birmingham"
    n = int((atlas.lsoa21["lad_code"] == "E08000025").sum())
    assert {m.label: m.value for m in app.metric}["LSOAs"] == f"{n:,}"
    app2 = type(app).from_file(APP, default_timeout=TIMEOUT)
    app2.query_params["practice"] = "M85013"
    app2.run()
    assert not app2.exception
    assert app2.subheader[0].value.startswith("Practice: Church Lane")


def test_your_data_label_is_plain_text(app):
    """Issue 13: a Markdown image in the label made the browser fetch its URL."""
    app.run()
    app.switch_page("app_pages/your_data.py").run()
    app.toggle(key="yd_example").set_value(True).run()
    label = "![x](http://127.0.0.1:9/x.png) <img src=x> **bold**"
    app.text_input(key="yd_label").set_value(label).run()
    assert not app.exception
    assert any(label in t.value for t in app.text)  # shown, as typed, in a plain-text element
    markdown = [m.value for m in app.markdown] + [s.value for s in app.subheader] + [c.value for c in app.caption]
    assert not any("![" in m or "<img" in m for m in markdown)
