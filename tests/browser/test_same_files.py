"""The app's downloads and the command line write the same bytes for the same settings (one implementation)."""

from pathlib import Path

import pytest

from targeting.cli import main

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def _download(page, name: str) -> bytes:
    button = page.get_by_role("button", name=name, exact=True)
    button.wait_for()
    with page.expect_download() as dl:
        button.click()
    data = Path(dl.value.path()).read_bytes()
    page.wait_for_timeout(1500)  # a download button reruns the page; let it settle before the next click
    return data


def test_plan_downloads_equal_the_targets_command(app_url, page, tmp_path, capsys):
    # the page's defaults: campaign, 3 connectors, 100 households a month, 12 months, IMD 2025
    page.goto(f"{app_url}/outreach?pcn=U79433")
    page.get_by_role("button", name="targets.csv", exact=True).wait_for(timeout=120_000)
    got = {name: _download(page, label) for name, label in (
        ("targets.csv", "targets.csv"), ("rounds.csv", "rounds.csv"), ("rounds.geojson", "rounds.geojson"),
        ("patches.geojson", "patches.geojson"), ("visit_sheets.html", "Printable visit sheets (HTML)"))}
    assert main(["targets", "--pcn", "U79433", "--out", str(tmp_path / "plan")]) == 0
    for name, data in got.items():
        assert (tmp_path / "plan" / name).read_bytes() == data, name
    assert b"E01" in got["targets.csv"] and len(got["rounds.csv"].splitlines()) > 100
    assert page.blocked == []
