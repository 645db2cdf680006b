"""The Core20PLUS5 section of a PCN in the browser (offline), and Fingertips exports brought in.

The Fingertips export is built by the tests in the published layout, with real practice codes from the atlas and
values of our own (tests/_fingertips_fixture.py): not real Fingertips figures.
"""

import re
from pathlib import Path

import pytest
from _fingertips_fixture import export_csv

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def _panel(page):
    heading = page.get_by_role("heading", name="Core20PLUS5")
    heading.wait_for()
    return heading.locator("xpath=ancestor::div[@data-testid='stColumn'][1]")


def test_pcn_panel_shows_the_core20plus5_section(app_url, page, snap):
    page.goto(f"{app_url}/?pcn=U37316")
    panel = _panel(page)
    panel.get_by_text("Learning disability").first.wait_for()
    text = panel.inner_text()
    for area in ("Maternity", "Severe mental illness", "Chronic respiratory disease", "Early cancer diagnosis",
                 "Hypertension", "Asthma", "Diabetes", "Epilepsy", "Oral health", "Mental health"):
        assert area in text, area
    # Bradford City 4 leads with the age-adjusted measure: recorded ÷ expected 0.50 (95% CI 0.44–0.56; QOF 2022-23,
    # PHE 2016 model) against England's 0.54, then its crude prevalence, 11.1% in QOF 2024-25 (the default) against
    # England's 15.2%: low crude, not low adjusted (a young population)
    hyp = re.search(r"Hypertension — [^\n]*", text).group(0)
    assert hyp.startswith("Hypertension — QOF HYP recorded ÷ expected (age-adjusted): 0.50 (95% CI 0.44–0.56)")
    assert "England 0.54" in hyp and "2022-23" in hyp
    assert hyp.index("0.50") < hyp.index("crude 11.1%, England 15.2% (2024-25)")
    assert "Maternity: no data in the tool" in text  # and where to get it:
    assert panel.get_by_role("link", name="where to get it").first.get_attribute("href").startswith("https://")
    cancer = re.search(r"Early cancer diagnosis[^\n]*", text).group(0)
    assert "no staging data in the tool" in cancer and "%" not in cancer  # not the cancer register's prevalence
    assert "Recorded prevalence is not true prevalence" in text and "QOF 2024-25 (registers)" in text
    assert "QOF 2022-23 (detection gaps)" in text and "Each area leads with its adjusted measure" in text
    panel.get_by_text("Every measure, and your Fingertips data").wait_for()
    page.get_by_role("heading", name="Core20PLUS5").evaluate("e => e.scrollIntoView()")
    page.wait_for_timeout(500)
    page.screenshot(path=str(_shot("10_core20plus5_pcn_panel")))
    snap(page, "10_core20plus5_pcn_page")
    assert page.blocked == []


def test_core20plus5_page_slots_a_fingertips_export(app_url, page, snap, atlas, tmp_path):
    f = tmp_path / "bowel_screening_export.csv"
    f.write_text(export_csv(atlas), encoding="utf-8")
    page.goto(f"{app_url}/core20plus5?pcn=U37316")
    page.get_by_text("PCN: Bradford City 4 PCN").wait_for()
    page.locator('input[type="file"]').set_input_files(str(f))
    line = page.locator("li").filter(has_text="Early cancer diagnosis").filter(has_text="bowel cancer").first
    line.wait_for()
    assert "ICB" in line.inner_text() and "England 70.3%" in line.inner_text()
    assert "no staging data in the tool" in line.inner_text()  # screening is not stage at diagnosis
    assert page.get_by_label("Core20PLUS5 area").first.is_visible()
    line.evaluate("e => e.scrollIntoView()")
    page.screenshot(path=str(_shot("11_core20plus5_fingertips")))
    # each register's trend over every QOF year: a chart with the missing year as a gap, and its sources
    trend = page.get_by_role("heading", name="Trend by QOF year")
    trend.wait_for()
    page.get_by_text("QOF 2023-24: not in the data, shown as a gap and never interpolated").wait_for()
    page.get_by_text("NHS England QOF 2024-25 prevalence").first.wait_for()
    page.get_by_text("Crude: not adjusted for age").first.wait_for()
    trend.evaluate("e => e.scrollIntoView()")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(_shot("13_core20plus5_trend")))
    assert page.blocked == []


def test_core20plus5_page_leads_with_adjusted_measures_and_says_there_is_no_staging_data(app_url, page):
    page.goto(f"{app_url}/core20plus5?pcn=U37316")
    page.get_by_text("PCN: Bradford City 4 PCN").wait_for()
    hyp = page.locator("li").filter(has_text="Hypertension — ").first
    hyp.wait_for()
    text = hyp.inner_text()
    assert text.startswith("Hypertension — Hypertension: recorded ÷ expected (age-adjusted")
    assert text.index("0.50") < text.index("crude recorded prevalence (not age-adjusted) 11.1%")
    cancer = page.locator("li").filter(has_text="Early cancer diagnosis").first.inner_text()
    assert "The tool holds no cancer staging data" in cancer and "National Disease Registration Service" in cancer
    link = page.get_by_role("link", name="NDRS: where to get it").first
    assert link.get_attribute("href") == ("https://digital.nhs.uk/ndrs/data/data-outputs/cancer-data-hub/"
                                          "rapid-cancer-registration-data-dashboards")
    page.get_by_text("QOF publishes none").first.wait_for()  # no age-band standardisation: said on the page
    assert page.blocked == []


def test_core20plus5_page_with_its_trend_has_no_serious_axe_violation(app_url, page, axe_source):
    from tests.browser.conftest import SERIOUS, run_axe, settle

    page.goto(f"{app_url}/core20plus5?pcn=U37316")
    page.get_by_text("QOF 2023-24: not in the data, shown as a gap and never interpolated").wait_for()
    settle(page)
    bad = [v for v in run_axe(page, axe_source) if v["impact"] in SERIOUS]
    assert not bad, "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"][:5])
                              for v in bad)


def test_your_data_reads_a_fingertips_export(app_url, page, atlas, tmp_path):
    f = tmp_path / "bowel_screening_export.csv"
    f.write_text(export_csv(atlas), encoding="utf-8")
    page.goto(f"{app_url}/your_data")
    page.locator('input[type="file"]').set_input_files(str(f))
    page.get_by_text("is a Fingertips export").wait_for()
    page.get_by_text("PCNs and the ICB").wait_for()
    page.get_by_text("Core20PLUS5 area: Early cancer diagnosis").wait_for()
    table = page.get_by_test_id("stDataFrame").first
    table.wait_for()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(_shot("12_your_data_fingertips")))
    assert page.blocked == []


def _shot(name: str) -> Path:
    """Where an element or viewport screenshot goes (beside the full-page ones of the ``snap`` fixture)."""
    shots = Path(__file__).resolve().parent / "screenshots"
    shots.mkdir(exist_ok=True)
    return shots / f"{name}.png"
