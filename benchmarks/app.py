"""App timings against the goals: the largest ICB's first map, a layer switch, and one ICB's map payload.

Starts ``streamlit run streamlit_app.py`` on a free localhost port, drives Debian's Chromium (headless, every
non-localhost request blocked, as on a locked-down network) and prints:

* the first map of the largest ICB (most LSOAs) drawn after choosing it in the search box (goal ≤ 3 s): the app
  has already loaded the atlas and the national tables with another ICB, as a running app has;
* a layer switch in the map's panel (goal ≤ 1 s);
* the map payload of that ICB (goal ≤ 3 MB), and the whole map HTML a browser receives.

Run: ``python benchmarks/app.py`` (takes about a minute).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")
MAP = 'iframe[title="streamlit_folium.st_folium"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _payload_figures() -> tuple[str, str, int, int, int]:
    from geo.atlas import load
    from targeting import maps

    atlas = load(progress=False)
    counts = atlas.lsoa21.groupby("icb_code_nhs").size().sort_values()
    nhs = str(counts.index[-1])
    name = str(atlas.icbs.loc[atlas.icbs["icb_code_nhs"] == nhs, "icb_name"].iloc[0])
    lsoas, bounds, _ = maps.area_lsoas(atlas, "icb", nhs)
    layers = maps.area_layers(atlas, lsoas)
    practices = atlas.practices[atlas.practices["icb_code_nhs"] == nhs]
    payload = maps.map_payload(lsoas, layers, practices=practices, bounds=bounds)
    html = maps.build_map(payload).get_root().render()
    return nhs, name, int(counts.iloc[-1]), maps.payload_bytes(payload), len(html.encode("utf-8"))


def main() -> None:
    nhs, name, n_lsoas, payload_bytes, html_bytes = _payload_figures()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
                             "true", "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
            page = ctx.new_page()
            page.set_default_timeout(300_000)
            t0 = time.perf_counter()
            page.goto(f"{url}/?icb=E54000055")  # warm the running app with another ICB
            page.frame_locator(MAP).first.locator("path.leaflet-interactive").nth(792).wait_for(state="attached")
            cold = time.perf_counter() - t0

            box = page.get_by_label("Find an ICB, local authority, PCN or practice")
            box.fill(nhs)
            t0 = time.perf_counter()  # from pressing Enter in the search box (one match is opened at once)
            box.press("Enter")
            sel = page.get_by_test_id("stSelectbox").filter(has_text="match").first
            sel.wait_for()
            if name not in sel.inner_text():
                sel.click()
                page.get_by_role("option").filter(has_text=name).first.click()
            frame = page.frame_locator(MAP).first
            frame.locator("path.leaflet-interactive").nth(n_lsoas - 1).wait_for(state="attached")
            frame.locator(f'.leaflet-container[data-lsoas="{n_lsoas}"]').wait_for(state="attached")
            first_map = time.perf_counter() - t0

            legend = frame.locator(".c20-legend")
            before = legend.inner_text()
            t0 = time.perf_counter()
            frame.locator("select.c20-layer").select_option("eth_minority")
            frame.locator('.leaflet-container[data-layer="eth_minority"]').wait_for(state="attached")
            page.wait_for_function("() => true")
            switch = time.perf_counter() - t0
            assert legend.inner_text() != before
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()

    def line(what: str, value: str, goal: str, ok: bool) -> None:
        print(f"{what:<58} {value:>12}   goal {goal:<8} {'OK' if ok else 'MISSED'}")

    print(f"largest ICB: {name} ({nhs}), {n_lsoas:,} LSOAs")
    print(f"{'app start + first ICB (Birmingham and Solihull), cold':<58} {cold:>10.2f} s")
    line("first map of the largest ICB after choosing it", f"{first_map:.2f} s", "≤ 3 s", first_map <= 3)
    line("layer switch (IMD decile → ethnic minority share)", f"{switch:.2f} s", "≤ 1 s", switch <= 1)
    line("map payload of the largest ICB", f"{payload_bytes / 1e6:.2f} MB", "≤ 3 MB", payload_bytes <= 3e6)
    print(f"{'whole map HTML (payload + scripts, no Leaflet)':<58} {html_bytes / 1e6:>9.2f} MB")


if __name__ == "__main__":
    main()
