"""The app as its users meet it (issue 12): what a PCN clinical director, an analyst and a connector asked for.

Every test looks at the real app on the real data and saves a screenshot under tests/browser/screenshots/.
"""

import re
from pathlib import Path

import pandas as pd
import pytest

from targeting.scope import make_scope
from tests.browser.conftest import map_frame, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def _cells(page, n: int = 0) -> list[str]:
    """Texts of the rendered cells of the n-th data grid (its accessible table mirrors what is drawn)."""
    grid = page.get_by_test_id("stDataFrame").nth(n)
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    return [t.strip() for t in grid.locator('td[role="gridcell"]').all_text_contents()]


def _headers(page, n: int = 0) -> list[str]:
    return [t.strip() for t in page.get_by_test_id("stDataFrame").nth(n).locator('th[role="columnheader"]')
            .all_text_contents()]


def _not_cut_off(page) -> None:
    """No data grid is wider than the space it has: nothing is hidden on the right at 1,400 px."""
    grids = page.get_by_test_id("stDataFrame")
    grids.first.wait_for(state="attached")
    for i in range(grids.count()):
        if not grids.nth(i).is_visible():  # inside a closed expander: not drawn
            continue
        grids.nth(i).scroll_into_view_if_needed()
        grids.nth(i).locator(".dvn-scroller").wait_for(state="attached")
    widths = page.evaluate("() => Array.from(document.querySelectorAll('[data-testid=stDataFrame] .dvn-scroller'))"
                           ".map(e => [e.scrollWidth, e.clientWidth])")
    assert widths, "no data grid on the page"
    assert all(sw <= cw + 1 for sw, cw in widths), widths


def test_practice_link_shows_the_practice_not_its_icb(app_url, page, snap, atlas):
    from targeting.profiles import practice_profiles

    page.goto(f"{app_url}/?practice=B83052")
    page.get_by_text("Practice: Kensington Partnership").wait_for()
    page.get_by_text("Gaps (figures with 95% intervals").wait_for()
    map_frame(page)
    settle(page)
    heading = page.get_by_role("heading", name="Kensington Partnership (B83052)")
    main = heading.locator("xpath=ancestor::div[@data-testid='stColumn'][1]").inner_text()  # the panel
    r = practice_profiles(make_scope(atlas), practice_codes=["B83052"]).iloc[0]
    patients = int(atlas.registrations21.loc[atlas.registrations21["practice_code"] == "B83052", "patients"].sum())
    assert int(r["registered_patients"]) == patients
    assert f"{patients:,}" in main  # 23,881 patients (July 2022), not the ICB's 2,402,449 residents
    assert "2,402,449" not in main and "1,434" not in main
    assert "Bradford City 4 PCN (U37316)" in main
    assert (f"Living in Core20 LSOAs: {r['core20_pct']:.1f}% (95% CI {r['core20_pct_lower']:.1f}–"
            f"{r['core20_pct_upper']:.1f})") in main
    assert f"Living in PLUS LSOAs: {r['plus_pct']:.1f}%" in main
    assert f"Asian {r['pct_asian']:.1f}%" in main
    assert "Recorded ÷ expected: hypertension" in page.locator("table").filter(has_text="Measure (unit)").inner_text()
    snap(page, "12_01_practice_B83052")


def test_pcn_shows_its_gaps_member_practices_and_footprint_lsoas(app_url, page, snap, atlas):
    from targeting.footprints import pcn_footprints
    from targeting.gaps import pcn_gaps

    page.goto(f"{app_url}/?pcn=U79433")
    page.get_by_text("Member practices of Birmingham East Central PCN").wait_for()
    map_frame(page)
    settle(page)
    gaps = page.locator("table").filter(has_text="Measure (unit)")
    text = gaps.inner_text()
    g = pcn_gaps(atlas.edition(2025), ["U79433"]).iloc[0]
    # as `pcns` prints them: undiagnosed hypertension with its limits, and ratios beside the ICB and England
    assert (f"{g['hyp_undiagnosed']:,.0f} ({g['hyp_undiagnosed_lower']:,.0f} to "
            f"{g['hyp_undiagnosed_upper']:,.0f})") in text
    assert f"{g['mh_ratio']:.2f} ({g['mh_ratio_lower']:.2f} to {g['mh_ratio_upper']:.2f})" in text
    for measure in ("Registration gap of the indicative footprint", "Core20 reach index",
                    "Median distance from its Core20 LSOAs to a member practice"):
        assert measure in text
    headers = [h.strip() for h in gaps.locator("th").all_inner_texts()]
    assert headers == ["Measure (unit)", "Value (95% interval)", "ICB", "England"]
    assert _headers(page, 0)[:4] == ["Code", "Practice", "Patients", "% Core20"]
    assert {"% PLUS", "% ethnic minority (est.)"} <= set(_headers(page, 0))
    _not_cut_off(page)
    fp = pcn_footprints(atlas.edition(2025))
    n = int((fp["pcn_code"] == "U79433").sum())
    page.get_by_text(f"LSOAs of the PCN's indicative footprint ({n} rows)").wait_for()
    snap(page, "12_02_pcn_gaps_and_practices")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the LSOA table (CSV)").click()
    rows = pd.read_csv(dl.value.path())
    assert len(rows) == n < 100  # its footprint, not the ICB's 793 LSOAs
    assert set(rows["lsoa_code"]) == set(fp.loc[fp["pcn_code"] == "U79433", "lsoa_code"])


def test_imd_2019_is_fully_applied_and_the_view_is_in_the_url(app_url, page, snap):
    page.goto(f"{app_url}/?icb=E54000055&imd=2019")
    frame = map_frame(page, 793)
    settle(page)
    assert page.get_by_role("radio", name="2019").first.is_checked()
    assert frame.locator(".leaflet-container").get_attribute("data-layer") == "imd19"
    assert "IMD 2019 national decile" in frame.locator(".c20-legend").inner_text()
    caption = page.get_by_text("Opens on IMD 2019 national deciles").inner_text()
    assert "carried to the LSOA 2021 boundaries" in caption
    assert "Core20 outline (IMD 2019" in frame.locator(".c20-panel").inner_text()
    snap(page, "12_03_imd2019")
    # the layer chosen in the map goes into the address; the link reopens on it
    frame.locator("select.c20-layer").select_option("eth_minority")
    page.wait_for_url(re.compile(r"layer=eth_minority"))
    assert "imd=2019" in page.url
    page.goto(page.url)
    frame = map_frame(page, 793)
    assert frame.locator(".leaflet-container").get_attribute("data-layer") == "eth_minority"
    assert page.get_by_role("radio", name="2019").first.is_checked()


def test_compare_opens_on_a_measure_with_an_sii_and_keeps_it_in_the_url(app_url, page, snap):
    page.goto(f"{app_url}/compare?icb=E54000055")
    page.get_by_text("Slope index of inequality (SII)").wait_for()
    settle(page)
    page.wait_for_url(re.compile(r"measure=hyp_ratio"))  # the age-adjusted measure first (issue 23)
    main = page.get_by_test_id("stMain").inner_text()
    assert "SII not available" not in main
    assert re.search(r"SII = -?\d+\.\d\d in recorded ÷ expected \(95% CI", main)
    assert "solid line 95%, dashed 99.8%" in main
    _not_cut_off(page)
    snap(page, "12_04_compare_default_measure")
    page.goto(f"{app_url}/compare?icb=E54000055&measure=qof_DM")
    page.get_by_text("PCNs of NHS Birmingham and Solihull").wait_for()
    settle(page)
    box = page.get_by_test_id("stSelectbox").filter(has_text="Measure")
    shown = box.evaluate("e => e.textContent + ' ' + Array.from(e.querySelectorAll('input'))"
                         ".map(i => i.value + ' ' + (i.getAttribute('aria-label') || '')).join(' ')")
    assert "diabetes" in shown, shown


def test_funnel_plot_draws_limits_as_lines_and_pcns_by_where_they_fall(app_url, page, snap):
    page.goto(f"{app_url}/compare?icb=E54000055&measure=qof_HYP")
    page.get_by_text("Funnel plot").wait_for()
    settle(page)
    funnel = page.get_by_test_id("stVegaLiteChart").nth(1)
    funnel.scroll_into_view_if_needed()
    funnel.locator("canvas, svg").first.wait_for()
    page.wait_for_timeout(1500)
    funnel.screenshot(path=str(snap(page, "12_05_funnel").with_name("12_05b_funnel_chart.png")))
    caption = page.get_by_text("Funnel limits around the ICB value").inner_text()
    assert "solid line 95%, dashed 99.8%" in caption and "colour and shape" in caption


def test_plan_outreach_has_no_none_fits_the_screen_and_offers_scenarios(app_url, page, snap):
    page.goto(f"{app_url}/outreach?pcn=U79433")
    page.get_by_text("Neighbourhoods in visit order").first.wait_for()
    map_frame(page)
    settle(page)
    grids = page.get_by_test_id("stDataFrame").count()
    tables = [_cells(page, i) for i in range(grids)]
    visits = next(c for c in tables if "waiting" in c)  # the neighbourhoods in visit order
    assert all("None" not in c for c in tables) and "–" in visits
    _not_cut_off(page)
    page.get_by_text("Scenarios: more or fewer connectors and capacity").click()
    page.get_by_text("share of the area's Core20 and PLUS residents reached").wait_for()
    settle(page)
    heads = next(h for h in (_headers(page, i) for i in range(page.get_by_test_id("stDataFrame").count()))
                 if h[:2] == ["Connectors", "Households per connector per month"])
    assert "% reached in 12 months" in heads
    snap(page, "12_06_outreach_scenarios")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Printable visit sheets (HTML)").click()
    sheets = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "reached" in sheets.lower() and "scenario" in sheets.lower()


def test_your_data_shows_counts_as_counts_and_no_arrow_fallback(app_url, page, snap, atlas, tmp_path):
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"].head(63)
    rows = ["lsoa_code,numerator,denominator"] + [f"{c},{40 + i % 30},{100 + i % 50}"
                                                  for i, c in enumerate(t["lsoa_code"])]
    rows += ["E01XXXXXX,1,2"]
    f = tmp_path / "uptake.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    log = Path(__file__).resolve().parent / "screenshots" / "streamlit.log"
    before = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    page.goto(f"{app_url}/your_data")
    page.locator('input[type="file"]').set_input_files(str(f))
    page.get_by_text("63 rows").first.wait_for()
    page.get_by_text("1 row could not be used").wait_for()
    map_frame(page, 63)
    settle(page)
    main = page.get_by_test_id("stMain").inner_text()
    assert not re.search(r"(?<![\d,])1 rows", main) and "63 rows of LSOA 2021" in main
    gap = _cells(page, 1)
    assert "63.0" not in gap and "63" in gap  # LSOAs counted as whole numbers
    assert "LSOAs" in _headers(page, 1)
    snap(page, "12_07_your_data")
    after = log.read_text(encoding="utf-8", errors="replace")[len(before):]
    assert "Arrow" not in after and "Traceback" not in after, after[-2000:]


def test_practice_y07274_is_placed_in_its_icb(app_url, page, snap):
    page.goto(f"{app_url}/?practice=Y07274")
    page.get_by_text("Practice: St Nicolas Medical Centre").wait_for()
    map_frame(page)
    settle(page)
    main = page.get_by_test_id("stMain").inner_text()
    assert "NHS Coventry and Warwickshire Integrated Care Board" in main
    assert "not in a PCN" in main
    snap(page, "12_08_practice_Y07274")


def test_map_targets_layer_labels_non_targets(tmp_path, browser, atlas):
    from targeting.cli import main

    out = tmp_path / "plan.html"
    assert main(["map", "--pcn", "U67660", "--layer", "targets", "--out", str(out)]) == 0
    ctx = browser.new_context(viewport={"width": 1200, "height": 800})
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "about:"))
              else r.abort())
    pg = ctx.new_page()
    pg.goto(out.as_uri())
    legend = pg.locator(".c20-legend")
    legend.wait_for()
    assert "Not a target" in legend.inner_text()
    assert "no data" not in legend.inner_text().lower()
    pg.screenshot(path=str(Path(__file__).resolve().parent / "screenshots" / "12_09_map_targets_cli.png"))
    ctx.close()
