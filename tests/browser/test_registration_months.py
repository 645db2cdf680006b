"""Today's NHS in the app: a new ICB of April 2026 opens from a link, and the month is a sidebar choice in the URL."""

import re

import pytest

from tests.browser.conftest import map_frame, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def test_a_link_opens_a_new_icb_of_2026_with_both_months_stated(app_url, page, snap):
    page.goto(f"{app_url}/?icb=E54000065&registrations=2026-07")
    page.get_by_text("ICB: NHS Central East Integrated Care Board").wait_for()
    frame = map_frame(page, 1816)
    assert frame.locator("path.leaflet-interactive").count() >= 1816  # every LSOA 2021 placed in it for 2026
    assert "GP practices, coloured by PCN (July 2026 with July 2022 LSOA shares)" in frame.locator("body").inner_text()
    page.get_by_text("PCNs of this ICB (77)").wait_for()  # the figures follow the map
    assert "practices and list sizes July 2026; where patients live: July 2022 shares" in page.inner_text("body")
    snap(page, "20_central_east_2026")


def test_the_month_is_chosen_in_the_sidebar_and_kept_in_the_address(app_url, page):
    page.goto(f"{app_url}/?icb=E54000055&registrations=2026-07")
    page.get_by_text("ICB: NHS Birmingham and Solihull Integrated Care Board").wait_for()
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="NHS as of")
    box.click()
    page.get_by_role("option", name="July 2022").click()
    page.wait_for_url(re.compile(r"registrations=2022-07"))
    settle(page)
    assert "Practices, list sizes and where patients live: July 2022" in page.inner_text("body")
    # a former ICB's code under today's NHS says what it became
    page.goto(f"{app_url}/?icb=E54000034&registrations=2026-07")
    page.get_by_text("no longer exists: in April 2026 it was divided between").wait_for()
