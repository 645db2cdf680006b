"""The Plan outreach page runs a programme (issue 22): names, a start month and a done file; the month view first
on a phone."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import LOCAL

from targeting.scope import make_scope

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_names_start_month_and_a_done_file_re_plan_in_the_app(app_url, page, atlas, tmp_path, snap):
    from targeting.outreach import plan_outreach
    from targeting.publish import plan_files

    first = plan_outreach(make_scope(atlas, kind="pcn", code="U79433"), names="Asha,Ben,Chloe", start="2027-01")
    r = pd.read_csv(io.BytesIO(plan_files(first)["rounds.csv"]), dtype=str)
    r["done"] = np.where(r["month"].astype(int) <= 2, "true", "false")  # months 1 and 2 walked
    done = tmp_path / "rounds_done.csv"
    r.to_csv(done, index=False)
    visited = int(r.loc[r["done"] == "true", "households_est"].astype(int).sum())

    page.goto(f"{app_url}/outreach?pcn=U79433")
    page.get_by_text("Target neighbourhoods").wait_for()
    side = page.locator('[data-testid="stSidebar"]')
    side.get_by_text("Names, start month and what was done").click()
    names = side.get_by_role("textbox", name="Connectors' names")
    names.fill("Asha\nBen\nChloe")
    names.press("Control+Enter")
    page.get_by_text("Asha (connector 1):").first.wait_for()
    side.locator('input[type="file"]').set_input_files(str(done))
    page.get_by_text("Households visited so far (about)").wait_for()
    page.get_by_text(f"{visited:,}", exact=True).first.wait_for()
    page.get_by_text("March 2027 (month 1)").wait_for()  # the month after the last one done
    snap(page, "12_outreach_programme")
    with page.expect_download() as dl:
        page.get_by_role("button", name="rounds.csv", exact=True).click()
    again = pd.read_csv(Path(dl.value.path()), dtype=str)
    assert set(again["connector_name"]) == {"Asha", "Ben", "Chloe"} and again["month_start"].min() == "2027-03"
    assert not set(r.loc[r["done"] == "true", "postcode"]) & set(again["postcode"])
    with page.expect_download() as dl:
        page.get_by_role("button", name="Printable visit sheets (HTML)").click()
    html = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Asha (connector 1) · month 1 · March 2027" in html and "Progress so far" in html
    assert page.blocked == []


def test_on_a_phone_the_month_view_comes_before_the_map(app_url, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    ctx.route("**/*", lambda rt: rt.continue_() if rt.request.url.startswith(LOCAL) else rt.abort())
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        pg.goto(f"{app_url}/outreach?pcn=U79433")
        pg.get_by_text("each connector's round of postcodes").wait_for()
        pg.wait_for_function("[...document.querySelectorAll('style')].some(s => "
                             "s.textContent.includes('out_month_view'))")
        pg.wait_for_timeout(500)
        month = pg.locator(".st-key-out_month_view").bounding_box()
        plan_map = pg.locator(".st-key-out_map_view").bounding_box()
        assert month["y"] < plan_map["y"]
        pg.set_viewport_size({"width": 1200, "height": 900})  # on a wide screen the map comes first
        pg.wait_for_timeout(500)
        assert pg.locator(".st-key-out_map_view").bounding_box()["y"] < pg.locator(
            ".st-key-out_month_view").bounding_box()["y"]
    finally:
        ctx.close()
