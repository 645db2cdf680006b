"""Start the real app with ``streamlit run`` on a free localhost port, and a headless Chromium that cannot reach
anything but localhost (every other request is aborted), so the tests prove the app works with no internet."""

import shutil
import subprocess
from pathlib import Path

import pytest
from runtime_app import streamlit_run

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")



@pytest.fixture(scope="session")
def app_url(atlas):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) for browser tests")
    SHOTS.mkdir(exist_ok=True)
    with streamlit_run(SHOTS / "streamlit.log") as url:
        yield url



@pytest.fixture
def page(browser, tmp_path):
    """A page whose context aborts every request that is not to localhost, and records what it blocked."""
    SHOTS.mkdir(exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(LOCAL):
            return r.continue_()
        blocked.append(r.request.url)
        return r.abort()

    ctx.route("**/*", route)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))  # includes the map's iframe
    pg.blocked = blocked
    pg.errors = errors
    pg.set_default_timeout(120_000)
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


MAP = 'iframe[title="streamlit_folium.st_folium"]'


def map_frame(page, min_paths: int = 10):
    """The app's map, once at least ``min_paths`` LSOAs are drawn and its layer panel is there."""
    frame = page.frame_locator(MAP).first
    frame.locator("path.leaflet-interactive").nth(min_paths - 1).wait_for(state="attached")
    frame.locator("select.c20-layer").wait_for()
    return frame


def settle(page, quiet_ms: int = 3000) -> None:
    """Wait until Streamlit has finished running (no status widget, no stale element) for ``quiet_ms``."""
    quiet = 0
    for _ in range(600):
        busy = (page.locator('[data-testid="stStatusWidget"]').count()
                + page.locator('[data-stale="true"]').count())
        quiet = quiet + 250 if busy == 0 else 0
        if quiet >= quiet_ms:
            return
        page.wait_for_timeout(250)


@pytest.fixture
def snap():
    """Save a screenshot of the whole page to tests/browser/screenshots/<name>.png (kept for people to look at).

    Streamlit scrolls its main area inside the window, so the window is made as tall as the content first.
    """

    def take(page, name: str, *, whole: bool = True) -> Path:
        path = SHOTS / f"{name}.png"
        size = page.viewport_size
        if whole:
            h = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                              " return m ? m.scrollHeight : 0; }")
            if h and h > size["height"]:
                page.set_viewport_size({"width": size["width"], "height": min(int(h) + 40, 7000)})
                page.wait_for_timeout(2500)  # the map's iframe redraws at the new size
        page.screenshot(path=str(path), full_page=True)
        if page.viewport_size != size:
            page.set_viewport_size(size)
        return path

    return take


AXE_VERSION = "4.10.3"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, installed once with npm into the cache folder (data/cache/npm) if it is not there."""
    from geo.paths import cache_dir

    prefix = cache_dir() / "npm"
    js = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if not js.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install axe-core for the accessibility tests (apt-get install npm)")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--no-save",
                        f"axe-core@{AXE_VERSION}"], check=True, capture_output=True, timeout=600)
    return js.read_text(encoding="utf-8")


SERIOUS = ("serious", "critical")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def run_axe(page, source: str) -> list[dict]:
    """Inject axe-core into the page and each of its frames (the maps), run it, return the violations."""
    for frame in page.frames:
        if not frame.is_detached():
            frame.evaluate(source)
    return page.evaluate(
        """async (tags) => {
             const r = await axe.run(document, {resultTypes: ['violations'], iframes: true,
                                                runOnly: {type: 'tag', values: tags}});
             return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
           }""", AXE_TAGS)
