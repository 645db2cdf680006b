"""WCAG 2.2 AA in the real app: axe-core on every page state, the keyboard alone, a visible focus.

axe-core (npm) is installed by the ``axe_source`` fixture and injected with Playwright into the page and its
frames (the maps). Each state is saved as a screenshot under tests/browser/screenshots/.
"""

import re
from pathlib import Path

import pytest

from tests.browser.conftest import MAP, SERIOUS, run_axe, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas


def _upload(page, atlas, tmp_path) -> None:
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"].head(120)
    rows = ["lsoa_code,numerator,denominator"] + [f"{c},{40 + i % 30},{100 + i % 50}"
                                                  for i, c in enumerate(t["lsoa_code"])]
    f = tmp_path / "uptake.csv"
    f.write_text("\n".join([*rows, "E01XXXXXX,1,2"]) + "\n", encoding="utf-8")
    page.locator('input[type="file"]').set_input_files(str(f))


STATES = {
    "empty": ("/", "Type part of a name or a code above"),
    "icb": ("/?icb=E54000055", "LSOAs of this ICB"),
    "pcn": ("/?pcn=U79433", "Member practices of Birmingham East Central PCN"),
    "practice": ("/?practice=B83052", "Measure (unit)"),
    "plan": ("/outreach?pcn=U79433", "Neighbourhoods in visit order"),
    "upload": ("/your_data", "Core20 compared with the rest"),
    "methods": ("/methods", "Data limitations"),
}


@pytest.mark.parametrize("state", list(STATES))
def test_axe_finds_no_serious_or_critical_violation(state, app_url, page, snap, axe_source, atlas, tmp_path):
    path, ready = STATES[state]
    page.goto(app_url + path)
    if state == "upload":
        _upload(page, atlas, tmp_path)
    page.get_by_text(ready).first.wait_for()
    if state not in ("empty", "methods"):
        page.frame_locator(MAP).first.locator("select.c20-layer").wait_for()
    settle(page)
    violations = run_axe(page, axe_source)
    snap(page, f"12_axe_{state}")
    bad = [v for v in violations if v["impact"] in SERIOUS]
    assert not bad, "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"][:5])
                              for v in bad)


def test_a_pcn_on_a_phone_after_a_click_on_the_map_has_no_serious_violation(app_url, page, snap, axe_source):
    """At 390x844 the spine table scrolls sideways: a scrolling region a keyboard cannot reach is a serious
    violation (axe: scrollable-region-focusable). Checked after the one click a user makes on the map."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_url + "/explore?pcn=U37316")
    page.frame_locator(MAP).first.locator("path.leaflet-interactive").nth(199).wait_for(state="attached")
    box = page.locator(MAP).first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.55)
    page.get_by_text("Spine chart").first.wait_for()
    settle(page)
    violations = run_axe(page, axe_source)
    snap(page, "12_axe_pcn_phone_clicked")
    bad = [v for v in violations if v["impact"] in SERIOUS]
    assert not bad, "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"][:5])
                              for v in bad)


def _focus_outline(page) -> dict:
    """The focused element (inside the map's frame if focus is there) and whether a focus ring is drawn."""
    return page.evaluate("""() => {
      let d = document, e = d.activeElement;
      while (e && e.tagName === 'IFRAME' && e.contentDocument) { d = e.contentDocument; e = d.activeElement; }
      if (!e) return {};
      const cs = e.ownerDocument.defaultView.getComputedStyle(e);
      const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== 'none';
      return {tag: e.tagName, label: e.getAttribute('aria-label') || '', text: (e.innerText || '').slice(0, 80),
              role: e.getAttribute('role') || (e.type === 'range' ? 'slider' : ''),
              value: e.getAttribute('aria-valuenow') || (e.type === 'range' ? e.value : ''),
              cls: String(e.className || ''), ring: ring, inFrame: d !== document};
    }""")


def _tab_to(page, match, limit: int = 150, seen: list | None = None) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        f = _focus_outline(page)
        if seen is not None:
            seen.append(f)
        if match(f):
            return f
    raise AssertionError(f"Tab never reached the control; last focus {f}")


def test_keyboard_alone_plans_outreach_for_a_pcn_and_downloads_the_sheets(app_url, page, snap):
    page.goto(f"{app_url}/outreach")
    page.get_by_text("Search for a PCN").wait_for()
    settle(page)
    seen: list[dict] = []
    # a priority weight, changed with the arrow keys (the weights open with the "own priority weights" switch)
    switch = _tab_to(page, lambda f: f.get("tag") == "INPUT" and "own priority weights" in f.get("label", ""),
                     seen=seen)
    assert switch["ring"], switch
    page.keyboard.press("Space")
    page.get_by_text("Priority weights").wait_for()
    settle(page)
    slider = _tab_to(page, lambda f: f.get("role") == "slider" and f.get("label") == "Deprivation (IMD)", seen=seen)
    assert slider["ring"], slider
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    moved = _focus_outline(page)
    assert float(moved["value"]) == pytest.approx(float(slider["value"]) + 0.05), (slider, moved)
    settle(page)
    box = _tab_to(page, lambda f: f.get("tag") == "INPUT" and "Find an ICB" in f.get("label", ""), seen=seen)
    assert box["ring"], box
    page.keyboard.type("U79433")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"pcn=U79433"))
    page.get_by_text("Neighbourhoods in visit order").wait_for()
    page.frame_locator(MAP).first.locator("select.c20-layer").wait_for()
    settle(page)
    # the map's layer panel is reached and used from the keyboard
    layer = _tab_to(page, lambda f: f.get("inFrame") and f.get("tag") == "SELECT", seen=seen)
    assert layer["ring"], layer
    page.keyboard.press("ArrowDown")
    frame = page.frame_locator(MAP).first
    assert frame.locator(".leaflet-container").get_attribute("data-layer") == "plan_status"
    snap(page, "12_10_keyboard_layer_panel", whole=False)
    sheets = _tab_to(page, lambda f: f.get("tag") == "BUTTON" and "Printable visit sheets" in f.get("text", ""),
                     seen=seen, limit=250)
    assert sheets["ring"], sheets
    snap(page, "12_11_keyboard_download_focused", whole=False)
    with page.expect_download() as dl:
        page.keyboard.press("Enter")
    html = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Birmingham East Central PCN" in html and "Connector 3" in html
    # every control reached on the way showed where the focus was
    assert all(f.get("ring") for f in seen if f.get("tag") in ("INPUT", "BUTTON", "SELECT", "A")), \
        [f for f in seen if not f.get("ring")][:5]
