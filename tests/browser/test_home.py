"""The start page: England's ICBs by Core20 share, and the three ways in (a PCN, outreach, an ICS); old links."""

import re

import pandas as pd
import pytest

from tests.browser.conftest import settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def _bsol_share(data_dir) -> float:
    """Birmingham and Solihull's % of Census 2021 residents in IMD 2025 deciles 1–2, from the published files."""
    lk = pd.read_csv(data_dir / "lookups/lsoa21_sicbl24_icb24_en.csv.gz", usecols=["lsoa21_code", "icb24_code"])
    lsoas = set(lk.loc[lk["icb24_code"] == "E54000055", "lsoa21_code"])
    imd = pd.read_csv(data_dir / "imd/imd2025_lsoa21_ranks_scores_deciles.csv.gz")
    code, dec = "LSOA code (2021)", "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    core = set(imd.loc[imd[dec] <= 2, code]) & lsoas
    eth = pd.read_csv(data_dir / "census/census2021_ts021_ethnic_group_broad_lsoa21_ew.csv.gz")
    area, total = "geography code", "Ethnic group: Total: All usual residents"
    eth = eth[eth[area].isin(lsoas)]
    return round(100 * eth.loc[eth[area].isin(core), total].sum() / eth[total].sum(), 1)


def test_the_start_page_maps_every_icb_by_core20_share_with_legend_units_and_source(app_url, page, data_dir, snap):
    page.goto(f"{app_url}/?registrations=2026-07")  # today's NHS (the test app's default month is July 2022)
    page.locator("svg.c20-national").wait_for()
    assert page.locator("h1").first.inner_text() == "Core20PLUS targeting"
    icbs = page.locator("svg.c20-national path[data-icb]")
    assert icbs.count() == 36  # the ICBs of July 2026
    bsol = page.locator('svg.c20-national path[data-icb="E54000055"] title').text_content()
    share = _bsol_share(data_dir)
    assert f"{share:.1f}% of residents live in Core20 neighbourhoods" in bsol, (bsol, share)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "% of residents living in Core20 neighbourhoods" in text  # units
    assert "IMD 2025 national deciles 1–2" in text and "England 20.2%" in text
    assert "Source: English Indices of Deprivation 2025" in text and "Census 2021" in text  # source, vintage
    assert "ICBs of July 2026" in text
    snap(page, "20_01_start_page")
    assert page.blocked == []


def test_my_pcn_opens_it_in_explore(app_url, page):
    page.goto(app_url)
    box = page.get_by_label("Find an ICB, local authority, PCN or practice")
    box.fill("U37316")
    box.press("Enter")
    page.wait_for_url(re.compile(r"pcn=U37316"))
    page.get_by_role("heading", name=re.compile(r"^PCN: Bradford City 4")).wait_for()
    assert page.locator("h1").first.inner_text() == "Explore Core20PLUS neighbourhoods"


def test_compare_my_ics_opens_compare_on_the_icb_chosen_and_the_map_links_there_too(app_url, page):
    page.goto(app_url)
    page.get_by_label("Choose your ICB (or click it on the map)").click()
    page.keyboard.type("West Yorkshire")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/compare\?.*icb=E54000054"))
    page.get_by_role("heading", name="Compare places").wait_for()
    page.goto(app_url)
    page.locator('svg.c20-national path[data-icb="E54000055"]').click()
    page.wait_for_url(re.compile(r"/compare\?.*icb=E54000055"))
    page.get_by_role("heading", name="Compare places").wait_for()


def test_plan_outreach_leads_to_the_outreach_page(app_url, page):
    page.goto(app_url)
    page.get_by_role("link", name="Plan outreach for a PCN or an ICB").click()
    page.wait_for_url(re.compile(r"/outreach"))
    page.get_by_role("heading", name=re.compile("outreach", re.I)).first.wait_for()


@pytest.mark.parametrize("link,heading", [("/?pcn=U37316", "PCN: Bradford City 4"),
                                          ("/?icb=E54000055", "ICB: NHS Birmingham and Solihull"),
                                          ("/?practice=B83052", "Practice:"),
                                          ("/explore?icb=QWO", "ICB: NHS West Yorkshire")])
def test_links_shared_before_the_start_page_still_open_explore(link, heading, app_url, page):
    page.goto(f"{app_url}{link}")
    page.get_by_role("heading", name=re.compile("^" + re.escape(heading))).first.wait_for()
    assert page.locator("h1").first.inner_text() == "Explore Core20PLUS neighbourhoods"
    settle(page, 1000)
    assert page.locator('[data-testid="stDialog"]').count() == 0  # /explore?… said "Page not found" over the page
    assert page.locator("svg.c20-national").count() == 0  # not the start page


DEPRECATION = re.compile(r"deprecat|use_container_width|will be removed", re.I)


@pytest.fixture(scope="module")
def fresh_app(atlas, tmp_path_factory):
    """An app of its own, so its server log holds only what the pages below do."""
    from runtime_app import streamlit_run

    log_path = tmp_path_factory.mktemp("app") / "server.log"
    with streamlit_run(log_path) as url:
        yield url, log_path


def test_every_page_opens_with_no_deprecation_warning_in_the_server_log(fresh_app, page):
    url, log_path = fresh_app
    for link, heading in (("/?registrations=2026-07", "Core20PLUS targeting"),
                          ("/?icb=E54000055", "Explore Core20PLUS neighbourhoods"),
                          ("/?pcn=U37316", "Explore Core20PLUS neighbourhoods"),
                          ("/outreach?pcn=U37316", "Plan outreach"),
                          ("/compare?icb=QWO", "Compare places"),
                          ("/core20plus5?pcn=U37316", "Core20PLUS5 clinical areas"),
                          ("/your_data", "Your data"),
                          ("/methods", "Methods & sources")):
        page.goto(f"{url}{link}")
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()
        settle(page, 2000)
        if link == "/your_data":  # the example file: its table and its map
            page.get_by_text("Or try an example file").click()
            page.locator('iframe[title="streamlit_folium.st_folium"]').first.wait_for()
            settle(page, 2000)
        assert page.get_by_text(DEPRECATION).count() == 0, link
    warned = [ln for ln in log_path.read_text(encoding="utf-8", errors="replace").splitlines()
              if DEPRECATION.search(ln)]
    assert warned == [], warned[:10]


def test_the_national_map_fits_a_phone(app_url, page):
    """At 390×844 the map was 440 px wide and cut off at the right edge of the screen."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{app_url}/start")
    svg = page.locator("svg.c20-national")
    svg.wait_for()
    box = svg.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
