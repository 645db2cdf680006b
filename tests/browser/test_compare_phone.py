"""Issue 23: on a phone (390 × 844), the Compare dot chart collapsed into one line: the PCN names on the axis took the
whole width, so every dot was drawn in the same column. Now each PCN is a row with its name above its dot.

The chart is a canvas, so the test reads its pixels: the dots (Okabe–Ito blue, #0072B2, at Vega-Lite's point opacity)
must spread across the plot.
"""

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas

PHONE = {"width": 390, "height": 844}
BLUE = np.array([0x00, 0x72, 0xB2])
DOT = 0.7 * BLUE + 0.3 * 255  # Vega-Lite fills points at opacity 0.7: the blue over the white background


def _dot_columns(png: bytes) -> np.ndarray:
    """The x positions (pixels) of the dot chart's blue dots in a screenshot."""
    import io

    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    blue = np.abs(img - DOT).sum(axis=2) < 30
    return np.flatnonzero(blue.any(axis=0))


def test_the_dot_chart_is_readable_on_a_phone(app_url, browser):
    ctx = browser.new_context(viewport=PHONE)
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1",
                                                                             "data:", "blob:", "about:"))
              else r.abort())
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{app_url}/compare?icb=E54000054")  # West Yorkshire: 52 PCNs
        page.get_by_text("PCNs of NHS West Yorkshire").wait_for()
        chart = page.get_by_test_id("stVegaLiteChart").first
        chart.locator("canvas, svg").first.wait_for()
        page.wait_for_timeout(2000)
        chart.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(1500)
        box = chart.bounding_box()
        assert box["width"] <= PHONE["width"]
        shot = page.screenshot(clip={"x": box["x"], "y": 0, "width": box["width"], "height": PHONE["height"]})
        Path(__file__).resolve().parent.joinpath("screenshots").mkdir(exist_ok=True)
        page.screenshot(path=str(Path(__file__).resolve().parent / "screenshots" / "14_compare_phone.png"))
        cols = _dot_columns(shot)
        # collapsed, every dot sat in one column about 8 px wide; readable, they spread over the plot
        assert len(cols) and cols.max() - cols.min() > 0.25 * box["width"], cols
        # the measure shown first is the adjusted one, and its chart is one row per PCN (about 38 px each)
        box_text = page.get_by_test_id("stSelectbox").filter(has_text="Measure").evaluate(
            "e => e.textContent + ' ' + Array.from(e.querySelectorAll('input')).map(i => i.value).join(' ')")
        assert "Hypertension: recorded ÷ expected (age-adjusted)" in box_text, box_text
        assert box["height"] >= 52 * 30
    finally:
        ctx.close()
