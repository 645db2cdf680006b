"""The app from a cold link: first polygons of the largest ICB, and the first page, in a freshly started app.

A clinical director opens ``/?icb=E54000050`` from an email; someone else opens the app's address. Each is
measured in a fresh app process and a fresh browser context (nothing cached in the browser), with Debian's
Chromium headless and every non-localhost request blocked, as on a locked-down network:

* **first polygons**: from opening the link to the first LSOA polygon drawn in the map (and to all 1,889);
* **first page**: from opening the address to the start page's map of England (ICBs by Core20 share).

The app is started the way the README says, ``python streamlit_app.py`` (it warms up, then serves), and timed
once it answers its health check. For comparison the same link is timed in an app started with plain
``streamlit run streamlit_app.py``, where the first visitor pays for the warm-up.

It also times Streamlit's own floor in the same harness: a one-line Streamlit app (to its text), and an app that
draws nothing but the same stored map with streamlit-folium (to its first polygon).

Goals (2 cores): first polygons ≤ 2 s, first page ≤ 1.5 s. Run: ``python benchmarks/app.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")
MAP = 'iframe[title="streamlit_folium.st_folium"]'
ICB, N_LSOAS = "E54000050", 1889


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Streamlit's own floor, in the same harness: a one-line app, and an app that draws nothing but the same stored
# map with streamlit-folium (run from a folder whose static/ is the project's, so Leaflet is served the same way)
_FLOOR_PAGE = 'import streamlit as st\nst.write("Type part of a name or a code above")\n'
_FLOOR_MAP = f"""import streamlit as st
from streamlit_folium import st_folium
from targeting.precompute import open_answers
from targeting.render.page import build_map
st.write("Type part of a name or a code above")
payload, name = open_answers().map_payload("icb", "{ICB}", 2025)
st_folium(build_map(payload), height=620, width=None, returned_objects=[])
"""


class _App:
    """A freshly started app on a free port (``warm``: ``python streamlit_app.py``; else ``streamlit run``)."""

    def __init__(self, warm: bool, script: str = "streamlit_app.py"):
        self.port = _free_port()
        opts = ["--server.headless", "true", "--server.port", str(self.port), "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false"]
        cmd = [sys.executable, "streamlit_app.py", *opts] if warm else [
            sys.executable, "-m", "streamlit", "run", script, *opts]
        self.log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)  # noqa: SIM115
        t = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.25)
        self.start_seconds = time.perf_counter() - t

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def _link(browser, url: str, every: bool = True) -> tuple[float, float]:
    """Seconds from opening the link to the first polygon, and to every polygon, in a fresh browser context."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
    page = ctx.new_page()
    page.set_default_timeout(300_000)
    t0 = time.perf_counter()
    page.goto(f"{url}/?icb={ICB}")
    frame = page.frame_locator(MAP).first
    frame.locator("path.leaflet-interactive").first.wait_for(state="attached")
    first = time.perf_counter() - t0
    if every:
        frame.locator(f'.leaflet-container[data-lsoas="{N_LSOAS}"]').wait_for(state="attached")
    every = time.perf_counter() - t0
    ctx.close()
    return first, every


def _floor_script(folder: Path, text: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "static").exists():
        (folder / "static").symlink_to(ROOT / "static")
    path = folder / f"floor_{abs(hash(text))}.py"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _first_page(browser, url: str, *, start_page: bool = True) -> float:
    """Seconds from opening ``url`` to its first page drawn: the start page's map of England (the floor: its text)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
    page = ctx.new_page()
    page.set_default_timeout(300_000)
    t0 = time.perf_counter()
    page.goto(url)
    if start_page:
        page.locator("svg.c20-national path").first.wait_for()
    else:
        page.get_by_text("Type part of a name or a code above").first.wait_for()
    secs = time.perf_counter() - t0
    ctx.close()
    return secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh app processes per measure (medians)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    subprocess.run([sys.executable, "-m", "targeting", "build", "--quiet"], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    res: dict[str, list[float]] = {k: [] for k in ("start", "first", "every", "page", "plain_first", "floor_page",
                                                   "floor_map")}
    floors = Path(tempfile.mkdtemp(prefix="c20-floor-"))
    page_script, map_script = _floor_script(floors, _FLOOR_PAGE), _floor_script(floors, _FLOOR_MAP)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        _warm_up_browser(browser)  # Chromium's own first start is not the app's
        for _ in range(args.runs):
            app = _App(warm=True)
            try:
                res["start"].append(app.start_seconds)
                first, every = _link(browser, app.url)
                res["first"].append(first)
                res["every"].append(every)
            finally:
                app.close()
            app = _App(warm=True)
            try:
                res["page"].append(_first_page(browser, app.url))
            finally:
                app.close()
            app = _App(warm=False)
            try:
                res["plain_first"].append(_link(browser, app.url)[0])
            finally:
                app.close()
            app = _App(warm=False, script=page_script)
            try:
                res["floor_page"].append(_first_page(browser, app.url, start_page=False))
            finally:
                app.close()
            app = _App(warm=False, script=map_script)
            try:
                res["floor_map"].append(_link(browser, app.url, every=False)[0])
            finally:
                app.close()
        browser.close()

    def med(k: str) -> float:
        return statistics.median(res[k])

    def line(what: str, k: str, goal: float | None) -> None:
        verdict = "" if goal is None else f"goal ≤ {goal:g} s  {'OK' if med(k) <= goal else 'MISSED'}"
        runs = ", ".join(f"{x:.2f}" for x in res[k])
        print(f"{what:<62}{med(k):>7.2f} s   {verdict:<20} ({runs})")

    print(f"Cold link /?icb={ICB} (North East and North Cumbria, {N_LSOAS:,} LSOAs), medians of {args.runs} fresh "
          f"app processes on {os.cpu_count()} cores")
    line("app start to healthy (python streamlit_app.py, warms up)", "start", None)
    line("cold link → first polygons", "first", 2.0)
    line(f"cold link → all {N_LSOAS:,} polygons", "every", None)
    line("first page (Explore, empty)", "page", 1.5)
    line("cold link → first polygons, plain `streamlit run` (no warm-up)", "plain_first", None)
    print("Streamlit's floor in the same harness (what no page of this stack can beat here):")
    line("  a one-line Streamlit app → its text", "floor_page", None)
    line("  an app of nothing but the same stored map → first polygons", "floor_map", None)


def _warm_up_browser(browser) -> None:
    """A page the browser opens once before timing (its own start-up is not the app's)."""
    app = _App(warm=True)
    try:
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(app.url)
        page.wait_for_timeout(1000)
        ctx.close()
    finally:
        app.close()


if __name__ == "__main__":
    main()
