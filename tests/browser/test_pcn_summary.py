"""A PCN's page in the real app (issue 23, item 3): the spine chart, the QOF trends, the registered population
pyramid and the printable A4 summary, on the real data, in headless Chromium with no internet."""

import re

import pytest

from tests.browser.conftest import SERIOUS, SHOTS, run_axe, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas

PCN = "U37316"  # Bradford City 4 PCN: 48,289 registered patients in July 2026
A4_PRINTABLE = {"width": 718, "height": 1047}  # 210 × 297 mm less the summary's 10 mm margins, at 96 px per inch


def test_a_pcn_page_shows_its_spine_chart_trends_pyramid_and_print_button(app_url, page, snap, tmp_path,
                                                                         axe_source):
    page.goto(f"{app_url}/?pcn={PCN}&registrations=2026-07")
    page.get_by_role("heading", name="PCN summary: spine chart, trends and population").wait_for()
    spine = page.locator("table.spine-table")
    spine.wait_for()
    page.locator("img[alt^='Registered patients by age and sex']").wait_for()
    settle(page)
    # the spine chart: one row per measure, each with its spine drawn and its comparison in words
    rows = spine.locator("tbody tr")
    assert rows.count() == 12
    text = spine.inner_text()
    for measure in ("Patients living in Core20 neighbourhoods", "Patients living in PLUS neighbourhoods",
                    "ethnic minority communities", "Hypertension: recorded prevalence, crude",
                    "Hypertension: recorded ÷ expected"):
        assert measure in text
    hyp = rows.filter(has_text="Hypertension: recorded prevalence, crude").inner_text()
    assert "5,695" in hyp and "11.5" in hyp and "15.2" in hyp and "similar" in hyp
    assert "89.8" in rows.filter(has_text="Core20").inner_text()
    assert spine.locator("img[alt*='compared with England']").count() == 12
    legend = page.locator(".pcn-summary .legend").first.inner_text()
    for word in ("higher than England", "similar to England", "lower than England", "better than England",
                 "worse than England"):
        assert word in legend
    page.get_by_text("widened for over-dispersion (Spiegelhalter 2005").first.wait_for()
    # trends: every register the tool holds, over the QOF years, beside the ICB and England
    trends = page.locator("img[alt*='2020-21: PCN']")
    assert trends.count() == 8
    assert "Hypertension (HYP), crude %" in trends.first.get_attribute("alt")
    assert "2023-24: PCN –" in trends.first.get_attribute("alt")  # a year not in the data is a gap
    page.get_by_text("QOF 2023-24: not in the data, a gap, never interpolated").first.wait_for()
    # the pyramid: July 2026 registered patients by sex, beside the Census 2021 residents of the footprint
    page.get_by_text("48,289 patients, the PCN's list size").wait_for()
    page.get_by_text("ONS Census 2021 (21 March 2021) usual residents").first.wait_for()
    assert page.locator("img[alt^='Age profile, persons']").count() == 1
    snap(page, "23_03_pcn_summary")
    bad = [v for v in run_axe(page, axe_source) if v["impact"] in SERIOUS]
    assert not bad, [(v["id"], v["nodes"][:3]) for v in bad]

    button = page.get_by_role("button", name=re.compile("Print the PCN summary"))
    assert button.is_visible()
    with page.expect_download() as dl:
        button.click()
    path = tmp_path / "summary.html"
    dl.value.save_as(path)
    doc = path.read_text(encoding="utf-8")
    assert "@page { size: A4" in doc and "window.print()" in doc and "Bradford City 4 PCN (U37316)" in doc

    ctx = page.context.browser.new_context(viewport=A4_PRINTABLE)
    blocked: list[str] = []
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else
              (blocked.append(r.request.url), r.abort()))
    pg = ctx.new_page()
    try:
        pg.goto(path.as_uri())
        assert pg.get_by_role("button", name="Print or save as PDF (A4)").is_visible()
        assert pg.locator("svg.spine").count() == 12 and pg.locator("svg.trend").count() == 8
        assert pg.locator("svg.pyramid").count() == 1 and pg.locator("svg.ages").count() == 1
        assert pg.locator("p.source").count() >= 3  # a source under every figure
        pg.screenshot(path=str(SHOTS / "23_04_pcn_summary_print.png"), full_page=True)
        pg.emulate_media(media="print")
        assert not pg.get_by_role("button", name="Print or save as PDF (A4)").is_visible()
        for section in pg.locator("section").all():  # each figure fits the width of an A4 page
            assert section.bounding_box()["width"] <= A4_PRINTABLE["width"]
        pdf = pg.pdf(format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 2 <= pages <= 4
        assert blocked == []  # it prints with no internet
    finally:
        ctx.close()


def test_the_imd_2019_caption_says_merged_lsoas_take_their_best_fitting_parent(app_url, page):
    page.goto(f"{app_url}/?pcn={PCN}&registrations=2026-07&imd=2019")
    caption = page.get_by_text("Opens on IMD 2019 national deciles")
    caption.wait_for()
    text = caption.inner_text()
    # what geo.vintage.inherit does: ranks and deciles from the best-fitting parent, a merge's score weighted
    assert "rank and decile" in text and "best-fitting parent" in text
    assert "merged ones take the population-weighted score" not in text  # the wording before issue 23
