"""The app in headless Chromium with every non-localhost request blocked: what a user on a locked-down network sees."""

import re
from pathlib import Path

import pytest

from tests.browser.conftest import map_frame

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def _search(page, text: str, option: str) -> None:
    box = page.get_by_label("Find an ICB, local authority, PCN or practice")
    box.fill(text)
    box.press("Enter")
    sel = page.get_by_test_id("stSelectbox").filter(has_text="match").first
    sel.wait_for()
    if option not in sel.inner_text():
        sel.click()
        page.get_by_role("option", name=option).click()


def test_search_an_icb_and_see_its_lsoas_drawn_offline(app_url, page, snap):
    page.goto(f"{app_url}/explore")  # the search on Explore itself (the start page's own: tests/browser/test_home.py)
    _search(page, "Birmingham and Solihull", "ICB: NHS Birmingham and Solihull Integrated Care Board (E54000055)")
    page.wait_for_url(re.compile(r"icb=E54000055"))
    frame = map_frame(page, 793)
    assert frame.locator("path.leaflet-interactive").count() >= 793  # every LSOA 2021 of the ICB, drawn as SVG
    page.get_by_text("ICB: NHS Birmingham and Solihull Integrated Care Board").wait_for()
    legend = frame.locator(".c20-legend")
    assert "IMD 2025 national decile" in legend.inner_text()
    assert "Source:" in legend.inner_text()
    snap(page, "01_icb_map")
    assert page.blocked == []  # nothing was even asked of the internet


def test_switch_layer_click_lsoa_and_download(app_url, page, snap):
    page.goto(f"{app_url}/?icb=E54000055")
    frame = map_frame(page, 793)
    frame.locator("select.c20-layer").select_option("eth_minority")
    assert frame.locator(".leaflet-container").get_attribute("data-layer") == "eth_minority"
    assert "All ethnic minority groups" in frame.locator(".c20-legend").inner_text()
    snap(page, "02_layer_ethnic_minority")

    # click an LSOA in the middle of the map: the details panel opens with its code
    box = frame.locator(".leaflet-container").bounding_box()
    frame.locator(".leaflet-container").click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.55})
    page.get_by_text("Practices most of them use").wait_for()
    heading = page.locator("h4").filter(has_text=re.compile(r"\(E01\d{6}\)")).first
    assert re.search(r"\(E01\d{6}\)", heading.inner_text())
    panel = heading.locator("xpath=ancestor::div[@data-testid='stColumn'][1]").inner_text()
    assert "Largest groups (Census 2021, % of residents)" in panel
    assert len(re.findall(r": \d+\.\d%", panel)) >= 3  # each largest group with its percentage, none hidden
    snap(page, "03_lsoa_clicked")

    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the LSOA table (CSV)").click()
    path = dl.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("lsoa_code,lsoa_name,")
    assert text.count("\n") == 794  # header + 793 LSOAs
    assert page.blocked == []


def test_find_a_pcn_by_part_of_its_name_and_see_practices(app_url, page, snap):
    page.goto(f"{app_url}/explore")
    _search(page, "Birmingham East", "PCN: Birmingham East Central Pcn (U79433)")
    page.wait_for_url(re.compile(r"pcn=U79433"))
    frame = map_frame(page, 793)
    # the practices overlay is on for a PCN: clustered markers, or circle markers beyond the ICB's 793 LSOAs
    frame.locator(".leaflet-container").wait_for()
    for _ in range(120):
        if frame.locator(".marker-cluster").count() or frame.locator("path.leaflet-interactive").count() > 800:
            break
        page.wait_for_timeout(250)
    else:
        raise AssertionError("no practice markers drawn")
    page.get_by_text("Member practices of Birmingham East Central PCN").wait_for()
    frame.locator("select.c20-layer").wait_for()  # the map is laid out (controls visible)
    page.wait_for_timeout(1000)
    snap(page, "04_pcn")
    # click a practice (a circle marker: black 1 px outline; LSOAs have grey 0.4 px ones): its panel opens
    marker = frame.locator('path.leaflet-interactive[stroke="#000"][stroke-width="1"]')
    for _ in range(40):
        if marker.count():
            break
        frame.locator(".marker-cluster").first.click()  # zoom into a cluster until markers show
        page.wait_for_timeout(500)
    marker.first.dispatch_event("click")  # wherever the marker sits on screen
    page.get_by_text("PCN: Birmingham East Central PCN (U79433)").wait_for()
    snap(page, "04b_practice_clicked")
    assert page.blocked == []


def test_outreach_plan_for_three_connectors_prints_visit_sheets(app_url, page, snap):
    page.goto(f"{app_url}/outreach?pcn=U79433")
    page.get_by_text("Target neighbourhoods").wait_for()
    map_frame(page, 10)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Printable visit sheets (HTML)").click()
    html = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Connector 3" in html
    snap(page, "05_outreach")
    assert page.blocked == []


def test_upload_your_own_uptake_file(app_url, page, snap, atlas, tmp_path):
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"].head(200)
    rows = ["lsoa_code,numerator,denominator"] + [f"{c},{40 + i % 30},{100 + i % 50}"
                                                  for i, c in enumerate(t["lsoa_code"])]
    rows += ["E01XXXXXX,1,2", f"{t['lsoa_code'].iloc[0]},3,2"]
    f = tmp_path / "uptake.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.goto(f"{app_url}/your_data")
    page.locator('input[type="file"]').set_input_files(str(f))
    page.get_by_text("200 rows").wait_for()
    page.get_by_text("2 rows could not be used").wait_for()
    map_frame(page, 700)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download your data with suppression applied (CSV)").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("code,name,group,numerator,denominator,rate")
    snap(page, "06_your_data")
    assert page.blocked == []


def test_compare_the_icbs_pcns(app_url, page, snap):
    page.goto(f"{app_url}/compare?icb=E54000055")
    page.get_by_text("PCNs of NHS Birmingham and Solihull Integrated Care Board").wait_for()
    # a shared link opens the page inside the app's navigation, even as the first visit to a fresh server
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert "Plan outreach" in nav and "Methods & sources" in nav
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert page.get_by_test_id("stVegaLiteChart").count() == 3  # dot plot, funnel plot, SII
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the comparison (CSV)").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("pcn_code,pcn,practices,weighted_imd_score")
    snap(page, "07_compare")
    assert page.blocked == []


def test_methods_and_sources(app_url, page, snap):
    page.goto(f"{app_url}/methods")
    page.get_by_text("Data limitations").wait_for()
    page.get_by_text("All data under the Open Government Licence v3.0").wait_for()
    snap(page, "08_methods")
    assert page.blocked == []


def test_core20_change_layer_legend_panel_and_download(app_url, page, snap):
    import io
    from contextlib import redirect_stdout

    from targeting.cli import main

    page.goto(f"{app_url}/?icb=E54000055&layer=core20_change")
    frame = map_frame(page, 793)
    assert frame.locator(".leaflet-container").get_attribute("data-layer") == "core20_change"
    legend = frame.locator(".c20-legend").inner_text()
    for words in ("Core20 change 2019 → 2025", "Entered: newly Core20 under IoD 2025 (striped)",
                  "no longer under IoD 2025 (dotted)", "Stayed in Core20", "Stayed out of Core20", "Source:",
                  "Ranks are relative"):
        assert words in legend
    # entered and left neighbourhoods are filled with SVG patterns, not colour alone: 12 and 26 in the ICB
    assert frame.locator("defs.c20-defs pattern").count() == 2
    assert frame.locator('path.leaflet-interactive[fill="url(#c20-core20_change-0)"]').count() == 12
    assert frame.locator('path.leaflet-interactive[fill="url(#c20-core20_change-1)"]').count() == 26
    page.get_by_text("12 neighbourhoods (20,768 residents) newly Core20; 26 (43,294) no longer").wait_for()
    snap(page, "09_core20_change")

    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the Core20 change 2019 → 2025 by PCN (CSV)").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["change", "--icb", "QHL", "--level", "pcn"]) == 0
    assert text == buf.getvalue()  # the app and the command line write the same file
    assert page.blocked == []
