"""The map as its users meet it: controls clear of the data and foldable, outlines readable, meaning beyond colour."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from targeting.scope import make_scope
from tests.browser.conftest import map_frame, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def _overlap(a: dict, b: dict) -> float:
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


def _box(frame, selector: str) -> dict:
    """An element's box in the map frame's own pixels (as :func:`_lsoa_extent` measures)."""
    return frame.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, width: r.width, height: r.height}; }")


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
    legend, panel = _box(frame, ".c20-legend"), _box(frame, ".c20-panel")
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
    labels = frame.locator(".c20-patch-label").all_inner_texts()
    # every connector is named on the patches it walks; Core20 patches are shared month by month ("C1 C2 C3")
    assert {w for t in labels for w in t.split()} == {"C1", "C2", "C3"}
    assert any(len(t.split()) > 1 for t in labels)
    dashes = frame.locator("path.leaflet-interactive[stroke-width='4']").evaluate_all(
        "ps => ps.map(p => p.getAttribute('stroke-dasharray') || 'solid')")
    assert len(set(dashes)) >= 2  # a patch's outline in its first connector's own line style, beside its colour
    legend = frame.locator(".c20-legend").inner_text()
    assert "Patch first walked by connector 1 (labelled C1)" in legend
    assert "labelled with each (C1 C2" in legend
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


def _frame_box(page) -> dict:
    return page.locator(MAP_IFRAME).first.bounding_box()


MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _hover_code(page, frame, x: float, y: float) -> str | None:
    """The code of the LSOA or practice under page point (x, y), read from its tooltip (None if nothing is)."""
    page.mouse.move(x, y)
    tip = frame.locator(".leaflet-tooltip").first
    try:
        tip.wait_for(timeout=3000)
    except PlaywrightTimeout:
        return None
    m = re.search(r"\((E0\d{7}|[A-Y]\d{5})\)", tip.inner_text())
    return m.group(1) if m else None


@pytest.mark.parametrize("width,height", [(1400, 900), (1366, 768)])
def test_the_first_click_on_an_lsoa_opens_it_when_the_map_runs_below_the_window(width, height, app_url, page):
    # At these sizes the map's frame ends below the window: Leaflet focused the map on mousedown, the focus
    # scrolled the page by the part hidden (66 px at 1400×900), and the mouseup fell on another LSOA, so the
    # click was never reported and the panel stayed on the ICB.
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{app_url}/?icb=E54000055")
    frame = map_frame(page, 793)
    settle(page)
    box = _frame_box(page)
    assert box["y"] + box["height"] > height  # the case of the defect: the map runs below the window
    top = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop")
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.45
    code = _hover_code(page, frame, x, y)
    assert code and code.startswith("E01"), code
    page.mouse.click(x, y)
    page.locator("h4", has_text=f"({code})").wait_for(timeout=30_000)
    assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop") == top


@pytest.mark.parametrize("width,height", [(1400, 900), (1366, 768)])
def test_the_first_click_on_a_practice_opens_it(width, height, app_url, page):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{app_url}/?pcn=U79433")  # Birmingham East Central: its practices drawn unclustered at PCN zoom
    frame = map_frame(page, 300)
    settle(page)
    markers = frame.locator('.leaflet-overlay-pane path.leaflet-interactive[stroke="#000"][stroke-width="1"]')
    box = _frame_box(page)
    for i in range(markers.count()):  # a practice marker inside the visible part of the window
        b = markers.nth(i).bounding_box()
        if b and box["y"] < b["y"] and b["y"] + b["height"] < height - 5 and b["x"] + b["width"] < box["x"] + 350:
            break
    else:
        pytest.fail("no practice marker in view")
    x, y = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    code = _hover_code(page, frame, x, y)
    assert code and re.fullmatch(r"[A-Y]\d{5}", code), code
    page.mouse.click(x, y)
    page.locator("h4", has_text=f"({code})").wait_for(timeout=30_000)


def test_the_tooltip_is_drawn_above_the_legend(app_url, page):
    # Leaflet draws tooltips inside its map pane, whose stacking context sits under the map's controls, so a
    # tooltip reaching the legend was hidden under it. Put an open tooltip over the legend: it must be on top.
    page.goto(f"{app_url}/?icb=E54000055")
    frame = map_frame(page, 793)
    settle(page)
    box = _frame_box(page)
    assert _hover_code(page, frame, box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.45)
    on_top = frame.locator(".leaflet-tooltip").first.evaluate("""tip => {
      const lg = document.querySelector('.c20-legend').getBoundingClientRect();
      const pane = tip.parentElement.getBoundingClientRect();
      tip.style.transform = `translate3d(${lg.left + 4 - pane.left}px, ${lg.top + 4 - pane.top}px, 0)`;
      tip.style.pointerEvents = 'auto';  // tooltips ignore the pointer; hit-testing needs them not to
      const t = tip.getBoundingClientRect();
      const hit = document.elementFromPoint((t.left + t.right) / 2, (t.top + t.bottom) / 2);
      return {overlaps: t.left < lg.right && t.top < lg.bottom, hit: tip.contains(hit),
              what: hit ? hit.className : null}; }""")
    assert on_top["overlaps"] and on_top["hit"], on_top


@pytest.mark.parametrize("icb", ["E54000050", "E54000055", "E54000057"])
def test_an_icb_fills_the_part_of_its_map_the_controls_leave_free(icb, app_url, page):
    # Fitted at whole zoom levels with a wide margin, North East and North Cumbria filled 76% of the free width
    # (259 px of 339) and 16% of the frame; zoomed in tenths of a level it fills the free part in its binding
    # dimension.
    page.goto(f"{app_url}/?icb={icb}")
    frame = map_frame(page, 300)
    settle(page)
    extent = _lsoa_extent(frame)
    mbox = _box(frame, ".leaflet-container")
    left_of_controls = min(_box(frame, ".c20-legend")["x"], _box(frame, ".c20-panel")["x"])
    free_w, free_h = left_of_controls - mbox["x"], mbox["height"]
    fill = max(extent["width"] / free_w, extent["height"] / free_h)
    assert fill >= 0.85, (icb, extent, free_w, free_h)
    assert extent["x"] >= mbox["x"] - 1 and extent["x"] + extent["width"] <= left_of_controls + 1


def test_on_a_phone_the_layers_and_legend_start_folded(app_url, page, snap):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{app_url}/?icb=E54000055")
    frame = page.frame_locator(MAP_IFRAME).first
    frame.locator("path.leaflet-interactive").nth(792).wait_for(state="attached")
    frame.locator("select.c20-layer").wait_for(state="attached")
    for box, word in ((".c20-legend", "Legend"), (".c20-panel", "Layers")):
        btn = frame.locator(f"{box} button.c20-toggle")
        assert btn.get_attribute("aria-expanded") == "false" and btn.inner_text() == f"{word} (show)"
    assert not frame.locator("select.c20-layer").is_visible()
    frame.locator(".c20-panel button.c20-toggle").click()  # one tap opens it
    assert frame.locator("select.c20-layer").is_visible()
    snap(page, "12_30_phone_map_folded", whole=False)


def test_a_map_file_on_a_phone_starts_folded_and_on_a_desktop_open(page, atlas):
    from targeting.area_maps import area_map
    from targeting.render.page import standalone_html

    m = area_map(make_scope(atlas, kind="icb", code="E54000055"))
    html = standalone_html(m.payload, title=m.title)  # the file `map` writes, Leaflet inlined
    for width, expanded in ((390, "false"), (1280, "true")):
        page.set_viewport_size({"width": width, "height": 800})
        page.set_content(html)
        page.locator("path.leaflet-interactive").nth(100).wait_for(state="attached")
        assert page.locator(".c20-legend button.c20-toggle").get_attribute("aria-expanded") == expanded
        assert page.locator(".c20-panel button.c20-toggle").get_attribute("aria-expanded") == expanded


def test_ambiguous_merges_are_hatched_on_the_imd_2019_layer_with_a_legend_entry(app_url, page, snap):
    # Greater Manchester holds 2 of England's 14 merged LSOA 2021s whose LSOA 2011 parents lie on both sides of
    # the IMD 2019 Core20 line (E01034119, E01034128; tests/targeting/test_lsoas.py finds them from the files)
    page.goto(f"{app_url}/?icb=E54000057")
    frame = map_frame(page, 1702)
    settle(page)
    hatched = '.leaflet-overlay-pane path.leaflet-interactive[fill^="url(#c20-am-"]'
    assert frame.locator(hatched).count() == 0  # IMD 2025: nothing carried, nothing hatched
    assert "Hatched" not in frame.locator(".c20-legend").inner_text()
    frame.locator("select.c20-layer").select_option("imd19")
    assert frame.locator(hatched).count() == 2
    assert frame.locator('pattern[id^="c20-am-"]').count() == 10  # one hatch over each decile's colour
    legend = frame.locator(".c20-legend").inner_text()
    assert "Hatched: merged from LSOA 2011s on both sides of the Core20 line (IMD 2019)" in legend
    assert "(2 LSOAs here)" in legend
    snap(page, "12_31_ambiguous_merges_hatched", whole=False)
