"""The map as its users meet it: controls clear of the data and foldable, outlines readable, meaning beyond colour."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import map_frame, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def _overlap(a: dict, b: dict) -> float:
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


def _lsoa_extent(frame) -> dict:
    """The box, in page pixels, around every LSOA drawn (grey 0.4 px outlines; overlays excluded)."""
    return frame.locator(".leaflet-overlay-pane svg").evaluate("""svg => {
      let x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
      svg.querySelectorAll('path.leaflet-interactive[stroke-width="0.4"]').forEach(p => {
        const r = p.getBoundingClientRect(); x0 = Math.min(x0, r.left); y0 = Math.min(y0, r.top);
        x1 = Math.max(x1, r.right); y1 = Math.max(y1, r.bottom); });
      return {x: x0, y: y0, width: x1 - x0, height: y1 - y0}; }""")


@pytest.mark.parametrize("icb,name", [("E54000050", "North East and North Cumbria"),
                                      ("E54000055", "Birmingham and Solihull")])
def test_legend_and_layer_panel_sit_clear_of_the_icb_and_fold_away(icb, name, app_url, page, snap):
    page.goto(f"{app_url}/?icb={icb}")
    frame = map_frame(page, 300)
    settle(page)
    extent = _lsoa_extent(frame)
    legend = frame.locator(".c20-legend").bounding_box()
    panel = frame.locator(".c20-panel").bounding_box()
    # the ICB is framed in the part of the map the controls leave free (at most a sliver touches them)
    area = extent["width"] * extent["height"]
    assert _overlap(extent, legend) < 0.02 * area and _overlap(extent, panel) < 0.02 * area, (extent, legend, panel)
    snap(page, f"12_12_controls_clear_{icb}", whole=False)
    # both fold away from the keyboard or the mouse, and say so to a screen reader
    for box, word in ((".c20-legend", "Legend"), (".c20-panel", "Layers")):
        btn = frame.locator(f"{box} button.c20-toggle")
        assert btn.get_attribute("aria-expanded") == "true"
        btn.click()
        assert btn.get_attribute("aria-expanded") == "false" and btn.inner_text() == f"{word} (show)"
    assert not frame.locator(".c20-legend-body").is_visible() and not frame.locator("select.c20-layer").is_visible()
    snap(page, f"12_13_controls_folded_{icb}", whole=False)


def test_tooltip_never_covers_the_legend_and_core20_outlines_stay_thin_at_icb_zoom(app_url, page, snap):
    page.goto(f"{app_url}/?icb=E54000055")
    frame = map_frame(page, 793)
    settle(page)
    core20 = frame.locator('path[stroke="#000"][fill="none"]')
    core20.first.wait_for(state="attached")
    widths = {float(w) for w in core20.evaluate_all("ps => ps.map(p => p.getAttribute('stroke-width'))")}
    assert max(widths) <= 1.2, widths  # 2.5 px at street zoom only: no merged blobs at ICB zoom
    legend = frame.locator(".c20-legend").bounding_box()
    extent = _lsoa_extent(frame)
    # hover LSOAs along the legend's left edge, where the tooltip used to land on the legend
    for dy in (20, 60, 100):
        x = legend["x"] - 12
        y = min(legend["y"] + dy, extent["y"] + extent["height"] - 5)
        page.mouse.move(x, y)
        tip = frame.locator(".leaflet-tooltip").first
        try:
            tip.wait_for(timeout=3000)
        except PlaywrightTimeout:  # no LSOA under this point
            continue
        assert _overlap(tip.bounding_box(), legend) == 0, (tip.bounding_box(), legend)
    snap(page, "12_14_tooltip_beside_legend", whole=False)


def test_selected_pcn_footprint_and_connectors_are_told_apart_without_colour(app_url, page, snap):
    page.goto(f"{app_url}/?pcn=U79433")
    frame = map_frame(page, 300)
    settle(page)
    bold = frame.locator('path[stroke="#6a0d5f"][stroke-width="4.5"]')
    assert bold.count() == 1  # Birmingham East Central's own footprint, solid and bold
    assert frame.locator('path[stroke="#a8527f"][stroke-dasharray]').count() >= 30  # the ICB's other PCNs, dashed
    legend = frame.locator(".c20-legend").inner_text()
    assert "Indicative footprint of the selected PCN" in legend and "Core20 outline" in legend
    snap(page, "12_15_pcn_footprint_highlight", whole=False)

    page.goto(f"{app_url}/outreach?pcn=U79433")
    frame = map_frame(page, 10)
    settle(page)
    labels = sorted(set(frame.locator(".c20-patch-label").all_inner_texts()))
    assert labels == ["C1", "C2", "C3"]
    dashes = frame.locator("path.leaflet-interactive[stroke-width='4']").evaluate_all(
        "ps => ps.map(p => p.getAttribute('stroke-dasharray') || 'solid')")
    assert len(set(dashes)) == 3  # each connector's patches in its own line style, beside its colour
    legend = frame.locator(".c20-legend").inner_text()
    assert "Patch of connector 1 (labelled C1)" in legend and "Patch of connector 3 (labelled C3)" in legend
    snap(page, "12_16_connector_patterns", whole=False)


def test_a_practice_map_draws_its_pcns_footprint_and_rings_the_practice(app_url, page, snap):
    page.goto(f"{app_url}/?practice=B83052")  # Kensington Partnership, Bradford; PCN U37316
    frame = map_frame(page, 300)
    settle(page)
    assert frame.locator('path[stroke="#6a0d5f"][stroke-width="4.5"]').count() == 1  # its PCN's footprint, bold
    assert frame.locator('path[stroke="#6a0d5f"][stroke-width="4"]').count() == 1  # the practice, ringed
    legend = frame.locator(".c20-legend").inner_text()
    assert "Indicative footprint of the practice’s PCN" in legend and "The selected practice (ringed)" in legend
    snap(page, "12_21_practice_footprint_and_marker", whole=False)


def test_a_legend_class_picks_out_its_lsoas_from_the_keyboard(app_url, page, snap, atlas):
    # ten deciles cannot all differ from their neighbours by 3:1 in contrast; a class is picked out instead
    l21 = atlas.lsoa21
    decile1 = int(((l21["icb_code"] == "E54000055") & (l21["imd25_decile"] == 1)).sum())  # 300 of 793
    page.goto(f"{app_url}/?icb=E54000055")
    frame = map_frame(page, 793)
    settle(page)
    btn = frame.locator("button.c20-class[data-k='0']")
    btn.focus()
    page.keyboard.press("Enter")
    assert btn.get_attribute("aria-pressed") == "true"
    opacities = frame.locator('.leaflet-overlay-pane path.leaflet-interactive[fill-opacity]').evaluate_all(
        "ps => ps.map(p => p.getAttribute('fill-opacity'))")
    assert opacities.count("0.9") == decile1 and opacities.count("0.07") == 793 - decile1
    said = frame.locator(".c20-picked").inner_text()
    assert f"Showing {decile1} LSOAs" in said
    snap(page, "12_22_legend_picks_out_decile_1", whole=False)
    page.keyboard.press("Enter")  # again: every class back
    assert btn.get_attribute("aria-pressed") == "false"
    assert frame.locator('.leaflet-overlay-pane path[fill-opacity="0.07"]').count() == 0
