# ruff: noqa: F811 - the fixtures of test_fetch_hostile and test_fetch_latest are imported by name
"""fetch knows the shape it expects (issue 24, item 4), and says plainly what went wrong (item 6).

* A catalogued edition has exactly its catalogued rows: the July 2022 practice map missing its last row, cut at a
  line end with no Content-Length or a matching short one, is refused by ``fetch`` and by the build.
* A newer edition is compared with the nearest edition of its kind (1% a month, at least 2%), and a file that
  replaces another keeps its count within 0.1%, never fewer rows without ``--allow-shrink``.
"""

from __future__ import annotations

import http.client
import io
import json
import zipfile

import pytest
from test_fetch_hostile import MAP, _fetch_one, _untouched, old_copy  # noqa: F401
from test_fetch_latest import TODAY, files, publisher  # noqa: F401

from geo._errors import ValidationError
from geo.fetch import fetch_latest
from geo.fetch import http as fetch_http
from geo.fetch import jobs as fetch_jobs
from geo.inputs import newer_edition_tolerance, read_input
from tests.geo._fetch_server import DATA, Route
from tests.geo._fetch_server import serve as _serve

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"bundled data folder {DATA} is absent")

MAP_URL = "/files/98/8142DB/gp-reg-pat-prac-map.zip"
MAP_2026 = "gp/gp-reg-pat-prac-map_2026-07.zip"


def _cut_last_row() -> bytes:
    body = (DATA / MAP).read_bytes()
    lines = body.splitlines(keepends=True)
    cut = b"".join(lines[:-1])
    assert cut.endswith(b"\n") and len(lines) - 1 == 6_845  # header + 6,845 rows: one row gone, at a line end
    return cut


@pytest.mark.parametrize("no_length", [True, False], ids=["no-content-length", "matching-short-length"])
def test_a_practice_map_missing_its_last_row_is_refused(server, monkeypatch, old_copy, no_length):
    dest, old, manifest = old_copy("gp_reg_map", MAP)
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route(_cut_last_row(), no_length=no_length))
    res = _fetch_one("gp_reg_map", dest)
    assert not res.ok
    assert "6,844 data rows where the catalogued edition (July 2022) has 6,845" in res.message, res.message
    _untouched(dest, MAP, old, manifest)


def test_the_build_refuses_the_same_cut_map(tmp_path, monkeypatch):
    from geo._atlas_tables import _checked
    from geo.readers import read_practice_map

    cut = tmp_path / "gp-reg-pat-prac-map.csv"
    cut.write_bytes(_cut_last_row())
    with pytest.raises(ValidationError, match="6,844 data rows where the catalogued edition"):
        read_input("gp_reg_map", cut)
    monkeypatch.setenv("CORE20_FILE_GP_REG_MAP", str(cut))
    with pytest.raises(ValidationError, match="6,844 data rows where the catalogued edition") as err:
        _checked("gp_reg_map", read_practice_map(cut))  # what build() runs on each input
    assert str(cut) in str(err.value)


def test_tolerance_for_a_newer_edition_grows_with_the_months_between():
    assert newer_edition_tolerance(1) == 0.02 and newer_edition_tolerance(-1) == 0.02
    assert newer_edition_tolerance(6) == pytest.approx(0.06)
    assert newer_edition_tolerance(48) == 0.25  # July 2022 → July 2026: 6,845 → 6,139 practices (−10.3%) is taken


def _map_zip(files, drop: int) -> bytes:
    with zipfile.ZipFile(io.BytesIO(files["map"])) as zf:
        name = zf.namelist()[0]
        lines = zf.read(name).splitlines(keepends=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, b"".join(lines[: len(lines) - drop]))
    return buf.getvalue()


def _latest_map(dest, **kw):
    (res, *_) = fetch_latest(["gp_registrations"], dest=dest, progress=False, retries=0, today=TODAY, **kw)
    assert res.key == "gp_reg_map@2026-07"
    return res


def test_a_newer_month_is_compared_with_the_previous_month(publisher, files, tmp_path):
    dest = tmp_path / "raw"
    dest.mkdir()
    june = {"gp_reg_map@2026-06": {"path": "gp/gp-reg-pat-prac-map_2026-06.zip", "rows": 6_139,
                                   "edition_title": "June 2026"}}
    (dest / "manifest.json").write_text(json.dumps(june))
    publisher.routes[MAP_URL] = Route(_map_zip(files, 300))  # 5,839 rows: 4.9% fewer than June's
    res = _latest_map(dest)
    assert not res.ok and "5,839 data rows, more than 2% away from the 6,139 of the June 2026 edition" in res.message
    publisher.routes[MAP_URL] = Route(_map_zip(files, 60))  # 1% fewer: practices merge and close month to month
    assert _latest_map(dest).ok


def test_a_file_replacing_another_keeps_its_rows(publisher, files, tmp_path):
    dest = tmp_path / "raw"
    assert _latest_map(dest).ok  # July 2026's map, 6,139 rows
    # the same month again, one row fewer (cut at a line end, its length announced): refused, the file kept
    publisher.routes[MAP_URL] = Route(_map_zip(files, 1))
    res = _latest_map(dest, force=True)
    assert not res.ok and "6,138 data rows, fewer than the 6,139 of the file it would replace" in res.message
    assert "--allow-shrink" in res.message
    assert (dest / MAP_2026).read_bytes() == files["map"]
    # a re-issue with fewer rows is taken when the user says so, within 0.1%; a larger cut never is
    assert _latest_map(dest, force=True, allow_shrink=True).ok
    publisher.routes[MAP_URL] = Route(_map_zip(files, 30))
    res = _latest_map(dest, force=True, allow_shrink=True)
    assert not res.ok and "more than 0.1% away from the 6,138 of the file it would replace" in res.message


def test_a_catalogued_edition_found_by_latest_is_held_to_its_exact_count(publisher, files, tmp_path):
    from test_fetch_latest import QOF

    # QOF 2024-25 is catalogued (129,948 rows): served with its last row missing, it is refused
    csv = files["qof_prevalence"].splitlines(keepends=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("PREVALENCE_2425.csv", b"".join(csv[:-1]))
    publisher.routes["/files/95/4708D7/QOF2425.zip"] = Route(buf.getvalue())
    assert publisher.routes[QOF]  # the series page is served
    [res] = fetch_latest(["qof"], dest=tmp_path / "raw", progress=False, retries=0, today=TODAY)
    assert not res.ok and "129,947 data rows where the catalogued edition (QOF 2024-25) has 129,948" in res.message


def test_a_closed_chunked_response_says_what_happened():
    with pytest.raises(fetch_http._FetchError) as err:
        fetch_http._raise_fetch_error(http.client.IncompleteRead(b""), 630_865, None, 60)
    text = str(err.value)
    assert "of 630,865" not in text and "630,865 bytes" in text and "last chunk" in text
    with pytest.raises(fetch_http._FetchError, match="truncated at 1,000 of 630,865 bytes"):
        fetch_http._raise_fetch_error(http.client.IncompleteRead(b"x" * 10), 990, 630_865, 60)


def test_a_full_disk_is_said_plainly(server, monkeypatch, old_copy):
    dest, old, manifest = old_copy("gp_reg_map", MAP)
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route((DATA / MAP).read_bytes()))

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fetch_jobs, "move_into_place", full)
    res = _fetch_one("gp_reg_map", dest)
    assert not res.ok and f"no space left on the device holding {dest / 'gp'}" in res.message
    assert "Errno" not in res.message
    _untouched(dest, MAP, old, manifest)
