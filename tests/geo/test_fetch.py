"""geo.fetch against a local HTTP server serving the real bundled files."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import io
import itertools
import json
import threading
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from geo import fetch as fetch_mod
from geo.fetch import FetchResult, arcgis, fetch, format_results, formats, ingest
from geo.fetch import http as fetch_http
from geo.sources import SOURCES
from tests.geo._fetch_server import DATA, ICB, IMD25, LOOKUP, TS011, LocalServer, Route
from tests.geo._fetch_server import leftovers as _leftovers
from tests.geo._fetch_server import serve as _serve
from tests.geo._fetch_server import sha as _sha

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"bundled data folder {DATA} is absent")


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_http, "_BACKOFF", 0.0)


@pytest.fixture(scope="module")
def ts011_csv() -> bytes:
    return gzip.decompress((DATA / TS011).read_bytes())


def _nomis_zip(csv: bytes, *, stored: bool = False) -> bytes:
    """A Nomis-style bulk zip: one member per geography; the OA member is the largest."""
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as zf:
        header = csv.split(b"\n", 1)[0] + b"\n"
        zf.writestr("census2021-ts011-ctry.csv", header + b"E92000001,1,1,0,0,0,0\n")
        zf.writestr("census2021-ts011-msoa.csv", header + b"E02000001,1,1,0,0,0,0\n")
        zf.writestr("census2021-ts011-oa.csv", csv + csv)
        zf.writestr("census2021-ts011-lsoa.csv", csv)
        zf.writestr("metadata/census2021-ts011-metadata.txt", b"notes")
    return buf.getvalue()


# ---------------------------------------------------------------------------------- downloads


@pytest.mark.slow
def test_download_real_gz_keeps_bytes_and_records_manifest(server, monkeypatch, tmp_path):
    body = (DATA / IMD25).read_bytes()
    url = _serve(server, monkeypatch, "imd2025", "/media/File_7_IoD2025.csv.gz", Route(body))
    seen: list[tuple[str, int, int | None]] = []
    [res] = fetch(["imd2025"], dest=tmp_path, retries=0, progress=lambda *a: seen.append(a))
    assert res.ok, res.message
    target = tmp_path / IMD25
    assert res.path == target
    assert res.sha256 == _sha(target) == hashlib.sha256(body).hexdigest()
    assert res.bytes == len(body)
    assert seen[-1] == ("imd2025", len(body), len(body))
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(seen))

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    entry = manifest["imd2025"]
    assert entry["sha256"] == res.sha256
    assert entry["size"] == len(body)
    assert entry["url"] == url
    assert entry["path"] == IMD25
    assert datetime.fromisoformat(entry["fetched_at"]).utcoffset().total_seconds() == 0
    assert _leftovers(target.parent) == []

    # Second run: the sha256 matches the manifest, nothing is downloaded.
    [again] = fetch(["imd2025"], dest=tmp_path, progress=False)
    assert again.ok and "up to date" in again.message and again.sha256 == res.sha256
    assert server.hits["/media/File_7_IoD2025.csv.gz"] == 1
    # force downloads again; gzip passthrough gives the same digest.
    [forced] = fetch(["imd2025"], dest=tmp_path, progress=False, force=True)
    assert forced.ok and forced.sha256 == res.sha256
    assert server.hits["/media/File_7_IoD2025.csv.gz"] == 2


def test_download_gpkg_and_text_progress_bar(server, monkeypatch, tmp_path, capsys):
    # An override naming a file (not a FeatureServer layer) downloads it as a file.
    body = (DATA / ICB).read_bytes()
    _serve(server, monkeypatch, "icb_boundaries", "/icb.gpkg", Route(body))
    [res] = fetch(["icb_boundaries"], dest=tmp_path, retries=0, progress=True)
    assert res.ok, res.message
    assert res.sha256 == hashlib.sha256(body).hexdigest()
    err = capsys.readouterr().err
    assert "icb_boundaries" in err and "100%" in err


@pytest.mark.slow
def test_plain_csv_is_gzipped(server, monkeypatch, tmp_path):
    csv = gzip.decompress((DATA / IMD25).read_bytes())
    _serve(server, monkeypatch, "imd2025", "/File_7.csv", Route(csv))
    [res] = fetch(["imd2025"], dest=tmp_path, retries=0, progress=False)
    assert res.ok, res.message
    assert gzip.decompress((tmp_path / IMD25).read_bytes()) == csv


@pytest.mark.slow
def test_nomis_zip_becomes_csv_gz_of_lsoa_member(server, monkeypatch, tmp_path, ts011_csv):
    zpath = tmp_path / "census2021-ts011.zip"
    zpath.write_bytes(_nomis_zip(ts011_csv))
    dest = tmp_path / "raw"
    _serve(server, monkeypatch, "ts011", "/output/census/2021/census2021-ts011.zip",
           Route(zpath.read_bytes()))
    [res] = fetch(["ts011"], dest=dest, retries=0, progress=False)
    assert res.ok, res.message
    out = dest / TS011
    assert gzip.decompress(out.read_bytes()) == ts011_csv  # the LSOA member, not the larger OA one
    assert json.loads((dest / "manifest.json").read_text())["ts011"]["sha256"] == _sha(out)
    assert _leftovers(out.parent) == []
    # Deterministic gzip: the same content gives the same digest on a forced re-fetch.
    [again] = fetch(["ts011"], dest=dest, retries=0, progress=False, force=True)
    assert again.sha256 == res.sha256


def test_pick_member_prefers_matching_names():
    def infos(*names_sizes: tuple[str, int]) -> list[zipfile.ZipInfo]:
        out = []
        for name, size in names_sizes:
            info = zipfile.ZipInfo(name)
            info.file_size = size
            out.append(info)
        return out

    nhs = infos(("gp-reg-pat-prac-lsoa-male.csv", 9), ("gp-reg-pat-prac-lsoa-all.csv", 5))
    assert formats._pick_member(nhs, SOURCES["gp_reg_lsoa"].relpath).filename.endswith("all.csv")
    qof = infos(("ACHIEVEMENT_LONDON_2223.csv", 99), ("PREVALENCE_2223.csv", 1),
                ("MAPPING_NHS_GEOGRAPHIES_2223.csv", 2))
    assert formats._pick_member(qof, SOURCES["qof_2223"].relpath).filename == "PREVALENCE_2223.csv"
    assert formats._pick_member(qof, SOURCES["qof_geo_2223"].relpath).filename.startswith("MAPPING")
    msoa = infos(("census2021-ts007-lsoa.csv", 9), ("census2021-ts007-msoa.csv", 1))
    assert "msoa" in formats._pick_member(msoa, SOURCES["ts007_msoa"].relpath).filename
    assert formats._pick_member(infos(("a.csv", 1), ("b.csv", 2)), "x/y.csv").filename == "b.csv"


@pytest.mark.slow
def test_retries_after_server_error(server, monkeypatch, tmp_path):
    body = (DATA / IMD25).read_bytes()
    _serve(server, monkeypatch, "imd2025", "/flaky.csv.gz", Route(body, fail_first=1))
    [res] = fetch(["imd2025"], dest=tmp_path, retries=1, progress=False)
    assert res.ok, res.message
    assert server.hits["/flaky.csv.gz"] == 2 and "retry" in res.message


def test_html_page_is_refused(server, monkeypatch, tmp_path):
    _serve(server, monkeypatch, "hyp_diagnosed", "/landing", Route(b"<!DOCTYPE html><html></html>"))
    [res] = fetch(["hyp_diagnosed"], dest=tmp_path, retries=0, progress=False)
    assert not res.ok and "HTML page" in res.message
    assert not res.path.exists() and _leftovers(res.path.parent) == []


def test_unknown_key_is_refused(tmp_path):
    with pytest.raises(ValueError, match="nope"):
        fetch(["nope"], dest=tmp_path)


# -------------------------------------------------------------------------------------- failures


FAILURES = ["404", "truncated", "corrupt_zip", "timeout"]


def _failing_route(kind: str, good_zip: bytes) -> tuple[Route | None, str]:
    """Return the route (None: not served) and the phrase the message must contain."""
    if kind == "404":
        return None, "HTTP 404"
    if kind == "truncated":
        half = len(good_zip) // 2
        return Route(good_zip[:half], length=len(good_zip)), f"truncated at {half:,} of {len(good_zip):,} bytes"
    if kind == "corrupt_zip":
        return Route(_corrupt(good_zip)), "corrupt zip"
    return Route(good_zip, delay=5.0), "timed out after 0.3 s"


def _corrupt(good: bytes) -> bytes:
    data = bytearray(good)
    mid = len(data) // 3  # inside the stored OA member's data
    data[mid : mid + 64] = bytes(b ^ 0x5A for b in data[mid : mid + 64])
    return bytes(data)


@pytest.mark.parametrize("kind", FAILURES)
def test_failure_leaves_no_file_and_keeps_good_one(server, monkeypatch, tmp_path, ts011_csv, kind):
    good_zip = _nomis_zip(ts011_csv, stored=True)
    route, phrase = _failing_route(kind, good_zip)
    bad_path = f"/bad/{kind}/census2021-ts011.zip"
    if route is not None:
        server.routes[bad_path] = route
    bad_url = server.url(bad_path)
    monkeypatch.setenv("CORE20_URL_TS011", bad_url)

    # 1. Fresh cache: nothing at the destination, no temporary file.
    fresh = tmp_path / "fresh"
    started = time.monotonic()
    [res] = fetch(["ts011"], dest=fresh, timeout=0.3, retries=0, progress=False)
    assert time.monotonic() - started < 4
    assert not res.ok and res.sha256 is None
    assert "ts011" in res.message and bad_url in res.message and phrase in res.message, res.message
    assert not (fresh / TS011).exists()
    assert _leftovers((fresh / TS011).parent) == []
    assert not (fresh / "manifest.json").exists()  # written only after a success
    assert "FAIL" in format_results([res]) and "0 ok, 1 failed" in format_results([res])

    # 2. An earlier good file survives a failed forced re-fetch untouched.
    cache = tmp_path / "cache"
    _serve(server, monkeypatch, "ts011", "/good/census2021-ts011.zip", Route(good_zip))
    [good] = fetch(["ts011"], dest=cache, retries=0, progress=False)
    assert good.ok, good.message
    before = (cache / TS011).read_bytes()
    manifest_before = (cache / "manifest.json").read_text()
    monkeypatch.setenv("CORE20_URL_TS011", bad_url)
    [res2] = fetch(["ts011"], dest=cache, timeout=0.3, retries=0, progress=False, force=True)
    assert not res2.ok and phrase in res2.message
    assert (cache / TS011).read_bytes() == before
    assert (cache / "manifest.json").read_text() == manifest_before
    assert _leftovers((cache / TS011).parent) == []


@pytest.mark.slow
def test_404_is_not_retried_and_others_continue(server, monkeypatch, tmp_path):
    monkeypatch.setenv("CORE20_URL_TS011", server.url("/missing.zip"))
    _serve(server, monkeypatch, "imd2025", "/imd.csv.gz", Route((DATA / IMD25).read_bytes()))
    results = fetch(["ts011", "imd2025"], dest=tmp_path, retries=2, progress=False)
    assert [r.ok for r in results] == [False, True]
    assert server.hits["/missing.zip"] == 1
    text = format_results(results)
    assert "1 ok, 1 failed" in text and "HTTP 404" in text


@pytest.mark.slow
def test_stale_temp_file_is_removed(server, monkeypatch, tmp_path):
    folder = tmp_path / "imd"
    folder.mkdir()
    stale = folder / f".deadbeef.part.{Path(IMD25).name}"
    stale.write_bytes(b"half a file")
    _serve(server, monkeypatch, "imd2025", "/imd.csv.gz", Route((DATA / IMD25).read_bytes()))
    [res] = fetch(["imd2025"], dest=tmp_path, progress=False)
    assert res.ok and not stale.exists()


@pytest.mark.slow
def test_lock_makes_a_second_fetch_wait(server, monkeypatch, tmp_path):
    _serve(server, monkeypatch, "imd2025", "/imd.csv.gz", Route((DATA / IMD25).read_bytes()))
    out: list[FetchResult] = []
    with open(tmp_path / ".fetch.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        worker = threading.Thread(
            target=lambda: out.extend(fetch(["imd2025"], dest=tmp_path, progress=False))
        )
        worker.start()
        time.sleep(0.3)
        assert worker.is_alive() and server.hits["/imd.csv.gz"] == 0
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    worker.join(timeout=10)
    assert not worker.is_alive() and out[0].ok


# ---------------------------------------------------------------------------------------- ArcGIS


def _arcgis_layer(features: list[dict], max_records: int, *, flag: bool) -> Callable[[dict], bytes]:
    def respond(query: dict[str, str]) -> bytes:
        if query.get("returnCountOnly") == "true":
            return json.dumps({"count": len(features)}).encode()
        if query.get("where") != "1=1" or query.get("f") != "geojson" or query.get("outFields") != "*":
            return json.dumps({"error": {"code": 400, "message": "bad query"}}).encode()
        offset = int(query.get("resultOffset", 0))
        count = min(int(query.get("resultRecordCount", max_records)), max_records)
        page = features[offset : offset + count]
        body: dict = {"type": "FeatureCollection", "features": page}
        if flag and offset + len(page) < len(features):
            body["properties"] = {"exceededTransferLimit": True}
        return json.dumps(body).encode()

    return respond


def _page_offsets(server: LocalServer, path: str) -> list[int]:
    return [int(q["resultOffset"]) for q in server.queries
            if q["_path"] == path and "resultOffset" in q]


def test_arcgis_boundaries_paged_into_gpkg(server, monkeypatch, tmp_path):
    import geopandas as gpd

    icb = gpd.read_file(DATA / ICB)
    assert len(icb) == 42
    features = json.loads(icb.to_json())["features"]
    path = "/arcgis/ICB_JUL_2022_EN_BUC_V3/FeatureServer/0/query"
    server.routes[path] = Route(_arcgis_layer(features, 10, flag=True))
    monkeypatch.setenv("CORE20_URL_ICB_BOUNDARIES", server.url(path.removesuffix("/query")))
    [res] = fetch(["icb_boundaries"], dest=tmp_path, retries=0, progress=False)
    assert res.ok, res.message
    assert _page_offsets(server, path) == [0, 10, 20, 30, 40]
    out = gpd.read_file(tmp_path / ICB)
    assert len(out) == 42 and out.crs.to_epsg() == 4326
    assert sorted(out["icb22_code"]) == sorted(icb["icb22_code"])
    assert (tmp_path / ICB).read_bytes()[:16] == b"SQLite format 3\x00"
    assert json.loads((tmp_path / "manifest.json").read_text())["icb_boundaries"]["sha256"] == res.sha256


@pytest.mark.slow
def test_arcgis_lookup_paged_into_csv_gz(server, monkeypatch, tmp_path):
    table = pd.read_csv(DATA / LOOKUP, dtype=str, keep_default_na=False)
    features = [{"type": "Feature", "geometry": None, "properties": row}
                for row in table.to_dict(orient="records")]
    path = "/arcgis/LSOA21_SICBL24_ICB24_CAL24_LAD24_EN_LU/FeatureServer/0/query"
    # No exceededTransferLimit: paging stops on the first short page.
    server.routes[path] = Route(_arcgis_layer(features, 5000, flag=False))
    monkeypatch.setattr(arcgis, "_ARCGIS_PAGE_SIZE", 5000)
    monkeypatch.setenv("CORE20_URL_LSOA21_ICB24", server.url(path.removesuffix("/query")))
    [res] = fetch(["lsoa21_icb24"], dest=tmp_path, retries=0, progress=False)
    assert res.ok, res.message
    assert _page_offsets(server, path) == list(range(0, len(table), 5000))
    out = pd.read_csv(tmp_path / SOURCES["lsoa21_icb24"].relpath, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(out, table)


def test_arcgis_error_reply_fails_cleanly(server, monkeypatch, tmp_path):
    path = "/arcgis/broken/FeatureServer/0/query"
    server.routes[path] = Route(json.dumps({"error": {"code": 498, "message": "Invalid token"}}).encode())
    monkeypatch.setenv("CORE20_URL_RUC21", server.url(path.removesuffix("/query")))
    [res] = fetch(["ruc21"], dest=tmp_path, retries=0, progress=False)
    assert not res.ok and "Invalid token" in res.message and "ruc21" in res.message
    assert not res.path.exists() and _leftovers(res.path.parent) == []


# ------------------------------------------------------------------------------------------ ingest


@pytest.mark.slow
def test_ingest_from_folder(tmp_path, ts011_csv):
    src = tmp_path / "downloads"
    (src / "imd").mkdir(parents=True)
    (src / IMD25).write_bytes((DATA / IMD25).read_bytes())  # same relpath layout
    (src / "misc" / "deep").mkdir(parents=True)
    (src / "misc" / "deep" / Path(ICB).name).write_bytes((DATA / ICB).read_bytes())  # by name
    (src / "census2021-ts011.zip").write_bytes(_nomis_zip(ts011_csv))  # as the publisher serves it
    dest = tmp_path / "raw"

    results = {r.key: r for r in ingest(src, dest=dest)}
    assert set(results) == set(SOURCES)
    assert results["imd2025"].ok and results["imd2025"].sha256 == _sha(DATA / IMD25)
    assert results["icb_boundaries"].ok and results["icb_boundaries"].sha256 == _sha(DATA / ICB)
    assert results["ts011"].ok
    assert gzip.decompress((dest / TS011).read_bytes()) == ts011_csv
    missing = [k for k, r in results.items() if not r.ok]
    assert set(missing) == set(SOURCES) - {"imd2025", "icb_boundaries", "ts011"}
    assert "not found under" in results["ts021"].message
    assert "census2021-ts021.zip" in results["ts021"].message

    manifest = json.loads((dest / "manifest.json").read_text())
    assert set(manifest) == {"imd2025", "icb_boundaries", "ts011"}
    assert manifest["imd2025"]["sha256"] == _sha(dest / IMD25)
    assert manifest["icb_boundaries"]["from"].endswith(Path(ICB).name)
    assert _leftovers(dest / "census") == []


def test_ingest_refuses_a_corrupt_file(tmp_path, ts011_csv):
    src = tmp_path / "downloads"
    src.mkdir()
    (src / "census2021-ts011.zip").write_bytes(_corrupt(_nomis_zip(ts011_csv, stored=True)))
    [res] = ingest(src, dest=tmp_path / "raw", keys=["ts011"])
    assert not res.ok and "corrupt zip" in res.message
    assert not (tmp_path / "raw" / TS011).exists()
    assert _leftovers(tmp_path / "raw" / "census") == []


def _mye_workbook(data_dir: Path, rows: int = 40) -> bytes:
    """An ONS-style mid-year workbook: title rows above the header, a persons sheet, real rows."""
    import openpyxl

    df = pd.read_csv(data_dir / "population/ons_mye2020_sape23dt2_lsoa11_syoa_persons_ew.csv.gz", nrows=rows)
    wb = openpyxl.Workbook()
    wb.active.title = "Contents"
    ws = wb.create_sheet("Mid-2020 Persons")
    ws.append(["Mid-2020 Population Estimates for Lower Layer Super Output Areas in England and Wales"])
    ws.append(["All Persons"])
    ws.append([])
    ws.append([c if not c.isdigit() else int(c) for c in df.columns])
    for rec in df.itertuples(index=False):
        ws.append(list(rec))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_ons_workbook_becomes_csv_gz_the_reader_accepts(server, monkeypatch, tmp_path):
    import geo.inputs
    from geo.readers import read_mye_single_year

    data = DATA
    _serve(server, monkeypatch, "mye2020", "/sape23dt2.xlsx", Route(_mye_workbook(data)))
    # a 40-row workbook: this test is about the conversion, so the edition's row count is not expected here
    monkeypatch.setattr(geo.inputs, "EXPECTED_ROWS", {k: v for k, v in geo.inputs.EXPECTED_ROWS.items()
                                                      if k != "mye2020"})
    [res] = fetch_mod.fetch(["mye2020"], dest=tmp_path, progress=False)
    assert res.ok, res.message
    df = read_mye_single_year(res.path)
    raw = pd.read_csv(data / "population/ons_mye2020_sape23dt2_lsoa11_syoa_persons_ew.csv.gz", nrows=40)
    assert df["lsoa_code"].tolist() == raw["LSOA Code"].tolist()
    assert df["all_ages"].sum() == raw["All Ages"].sum()


def test_manual_source_explains_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CORE20_URL_AGE6", raising=False)
    [res] = fetch_mod.fetch(["age6"], dest=tmp_path, progress=False)
    assert not res.ok
    assert "by hand" in res.message and "fetch --from" in res.message
    assert not any(tmp_path.rglob("*.csv.gz"))
