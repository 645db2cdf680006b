"""The visit sheets of one connector, printed by Chromium as A4 pages: one per month, each with its postcodes."""

import itertools
import re
from pathlib import Path

import pytest

from targeting.scope import make_scope

SHOTS = Path(__file__).resolve().parent / "screenshots"
A4_PRINTABLE = {"width": 688, "height": 1017}  # 210 × 297 mm less 14 mm margins, at 96 px per inch


@pytest.mark.slow
def test_one_connectors_sheets_print_as_a4_pages_with_postcodes(atlas, browser, tmp_path):
    from targeting.outreach import plan_outreach
    from targeting.render.visit_sheets import visit_sheets_html

    plan = plan_outreach(make_scope(atlas, kind="pcn", code="U79433"), connectors=3, capacity=100, months=12)
    path = tmp_path / "connector_1.html"
    path.write_text(visit_sheets_html(plan, connector=1), encoding="utf-8")
    ctx = browser.new_context(viewport=A4_PRINTABLE)
    blocked: list[str] = []
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else
              (blocked.append(r.request.url), r.abort()))
    pg = ctx.new_page()
    try:
        pg.goto(path.as_uri())
        pg.emulate_media(media="print")
        pdf = pg.pdf(format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        rounds = pg.locator("section.round")
        # A cover, 12 monthly rounds and the list of what waits: one A4 page each, none spilling over.
        assert rounds.count() == 12 and pages == 1 + 12 + 1
        SHOTS.mkdir(exist_ok=True)
        r = plan.rounds_table()
        for month in (1, 12):
            sec = rounds.nth(month - 1)
            assert sec.bounding_box()["height"] <= A4_PRINTABLE["height"]
            text = sec.inner_text()
            assert f"Connector 1 · month {month}" in text
            for pc in r.loc[(r["connector"] == 1) & (r["month"] == month), "postcode"]:
                assert pc in text
            sec.screenshot(path=str(SHOTS / f"11_visit_sheet_connector1_month{month:02d}.png"))
        assert blocked == []  # the sheets need no internet
    finally:
        ctx.close()


@pytest.mark.slow
def test_on_a_phone_the_sheets_read_as_one_column_and_still_print_on_a4(atlas, browser, tmp_path):
    """Issue 22: at 390 px nothing is wider than the screen and each stop is one card; printing is unchanged."""
    from targeting.outreach import plan_outreach
    from targeting.render.visit_sheets import visit_sheets_html

    plan = plan_outreach(make_scope(atlas, kind="pcn", code="U79433"),
                         connectors=3, capacity=100, months=12, names="Asha,Ben,Chloe", start="2027-01")
    path = tmp_path / "asha.html"
    path.write_text(visit_sheets_html(plan, connector=1), encoding="utf-8")
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    try:
        pg.goto(path.as_uri())
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        first = pg.locator("section.round").first
        assert "Asha (connector 1) · month 1 · January 2027" in first.inner_text()
        rows = first.locator("tbody tr")
        boxes = [rows.nth(i).bounding_box() for i in range(min(3, rows.count()))]
        # one column: each stop spans the page's width, one below the other
        assert all(b["width"] > 300 for b in boxes)
        assert all(a["y"] + a["height"] <= b["y"] for a, b in itertools.pairwise(boxes))
        svg = first.locator("svg").first.bounding_box()
        assert svg["width"] <= 390
        SHOTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(SHOTS / "11_visit_sheet_phone.png"))
        pg.emulate_media(media="print")
        pdf = pg.pdf(format="A4", print_background=True)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1 + 12 + 1
    finally:
        ctx.close()
