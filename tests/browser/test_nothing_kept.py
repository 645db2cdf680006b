"""Nothing of a user's upload is kept (issue 21): it lives in the session's memory and goes with the session.

The app runs as its container runs it (tests/runtime_app.py: the image's command and environment, a non-root user,
a read-only cache, its own /tmp). A session uploads a CSV of every LSOA in England carrying a distinctive marker in
every row; it is over 1 MB, so the web server spools it to a temporary file while reading it. After that session
ends: no byte of the marker is in any file under the cache, the data folders or the temporary folder, nothing there
changed, the log holds none of the file's values or codes, and another session reaches none of it.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pytest
from runtime_app import ROOT, runtime_app, tree_state

from tests.browser.conftest import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas

MARKER = f"C20-PRIVATE-{uuid.uuid4().hex[:12]}"
FILENAME = f"uptake_{MARKER}.csv"


@pytest.fixture(scope="module")
def kept_app(atlas):
    from geo.paths import cache_dir

    with runtime_app(cache_dir(), {"CORE20_SIGN_IN": "off"}, keep=SHOTS / "nothing_kept.log") as app:
        yield app


def _upload(atlas, folder: Path) -> tuple[Path, list[str]]:
    codes = atlas.lsoa21["lsoa_code"].tolist()
    rows = ["lsoa_code,numerator,denominator,note"]
    rows += [f"{c},{20 + i % 9},{60 + i % 7},{MARKER}-{i:06d}" for i, c in enumerate(codes)]
    path = folder / FILENAME
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert path.stat().st_size > 1024 * 1024  # Starlette spools a multipart part over 1 MB to a temporary file
    return path, codes


def _files_holding(folders: list[Path], needle: bytes) -> list[Path]:
    """Every file under ``folders`` whose name or bytes hold ``needle`` (read whole: the largest are ~60 MB)."""
    found = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for dirpath, _, names in os.walk(folder):
            for name in names:
                p = Path(dirpath) / name
                if p.is_symlink() or not p.is_file():
                    continue
                if needle.decode() in name or needle in p.read_bytes():
                    found.append(p)
    return found


def _data_folders(app) -> list[Path]:
    from geo.paths import data_roots

    return [app.cache, app.tmp, ROOT / "data" / "cache", *data_roots()]


def test_an_upload_leaves_nothing_behind_when_its_session_ends(kept_app, browser, atlas, tmp_path):
    path, codes = _upload(atlas, tmp_path)
    cache_before = tree_state(kept_app.cache)
    a = browser.new_context(accept_downloads=True)
    pa = a.new_page()
    pa.set_default_timeout(180_000)
    upload_urls: list[str] = []
    pa.on("request", lambda r: upload_urls.append(r.url) if "/_stcore/upload_file/" in r.url else None)
    pa.goto(f"{kept_app.url}/your_data")
    pa.locator('input[type="file"]').set_input_files(str(path))
    pa.get_by_text(f"{len(codes):,} rows of").first.wait_for()
    assert MARKER in pa.evaluate("() => document.body.innerText")  # the file's name, shown to its own session
    with pa.expect_download() as dl:
        pa.get_by_role("button", name="Download your data with suppression applied (CSV)").click()
    media = dl.value.url
    assert "/media/" in media and upload_urls
    # A closed session's download goes at once only if a run of it is stopped half way (that run's end drops it);
    # otherwise only when the session expires, which Streamlit 1.67 never did by itself: a CI run waited 200 s in
    # vain. Let the page settle first, so the test doesn't depend on that race (app_pages/_sessions.py frees it).
    pa.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    pa.wait_for_timeout(1500)

    b = browser.new_context()
    try:
        # while session A runs: its upload cannot be read back from the upload address by anyone
        for url in set(upload_urls):
            r = b.request.get(url)
            assert MARKER.encode() not in r.body(), (r.status, r.body()[:200])
            assert r.status != 200 or b"<div id=\"root\"></div>" in r.body(), r.body()[:200]  # the page shell
        a.close()  # session A ends: the tab is closed
        deadline = time.time() + 200  # Streamlit frees a disconnected session after server.disconnectedSessionTTL
        while b.request.get(media).status != 404:
            assert time.time() < deadline, "session A's download was still served after it ended"
            time.sleep(2)
        pb = b.new_page()
        pb.set_default_timeout(120_000)
        pb.goto(f"{kept_app.url}/your_data")
        pb.locator('input[type="file"]').wait_for(state="attached")
        pb.wait_for_timeout(2000)
        text = pb.evaluate("() => document.body.innerText")
        assert MARKER not in text and f"{len(codes):,} rows" not in text
        pb.goto(f"{kept_app.url}/core20plus5")
        pb.wait_for_timeout(2000)
        assert MARKER not in pb.evaluate("() => document.body.innerText")
    finally:
        b.close()

    assert _files_holding(_data_folders(kept_app), MARKER.encode()) == []
    assert tree_state(kept_app.cache) == cache_before, "the cache changed"
    left = [p for p in kept_app.tmp.rglob("*") if p.is_file()]
    assert left == [], f"files left in the temporary folder: {left}"
    log = kept_app.log_text()
    assert MARKER not in log and path.name not in log
    assert not re.search(r"E0[12]\d{6}", log), "an LSOA code in the log"  # values and codes stay out of logs
    assert "Traceback" not in log
