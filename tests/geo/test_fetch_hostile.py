"""geo.fetch against hostile servers (issue 13): cut bodies, drip feeds, random bytes, bombs; the old copy stays."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from geo.fetch import FetchResult, fetch
from geo.fetch import http as fetch_http
from tests.geo._fetch_server import DATA, IMD25, TS011, Route
from tests.geo._fetch_server import leftovers as _leftovers
from tests.geo._fetch_server import serve as _serve
from tests.geo._fetch_server import sha as _sha

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"bundled data folder {DATA} is absent")


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_http, "_BACKOFF", 0.0)


# ------------------------------------------------------------------ hostile servers (issue 13)

MAP = "gp/gp-reg-pat-prac-map_2022-07.csv"


@pytest.fixture
def old_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], tuple[Path, bytes, bytes]]:
    """Put a good earlier copy of a source and its manifest in place; and an atlas cache that must not change."""
    cache = tmp_path / "cache"
    (cache / "atlas").mkdir(parents=True)
    (cache / "atlas" / "build.json").write_text("{}")
    monkeypatch.setenv("CORE20_CACHE", str(cache))

    def make(key: str, relpath: str) -> tuple[Path, bytes, bytes]:
        dest = tmp_path / "raw"
        target = dest / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((DATA / relpath).read_bytes())
        manifest = dest / "manifest.json"
        manifest.write_text(json.dumps({key: {"path": relpath, "sha256": _sha(target)}}))
        return dest, target.read_bytes(), manifest.read_bytes()

    return make


def _untouched(dest: Path, relpath: str, old: bytes, manifest: bytes) -> None:
    assert (dest / relpath).read_bytes() == old
    assert (dest / "manifest.json").read_bytes() == manifest
    assert _leftovers((dest / relpath).parent) == []
    cache = Path(os.environ["CORE20_CACHE"])
    assert sorted(p.name for p in cache.rglob("*")) == ["atlas", "build.json"]


def _fetch_one(key: str, dest: Path, **kw: object) -> FetchResult:
    [res] = fetch([key], dest=dest, progress=False, force=True, retries=0, **kw)
    return res


def test_no_content_length_and_a_cut_body_is_refused(server, monkeypatch, old_copy):
    dest, old, manifest = old_copy("gp_reg_map", MAP)
    body = (DATA / MAP).read_bytes()
    cut = body[: len(body) * 2 // 3]
    assert not cut.endswith(b"\n")  # cut mid-line, as a dropped connection leaves it
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route(cut, no_length=True))
    res = _fetch_one("gp_reg_map", dest)
    assert not res.ok and "cut short" in res.message
    _untouched(dest, MAP, old, manifest)


def test_a_half_length_file_is_refused(server, monkeypatch, old_copy):
    dest, old, manifest = old_copy("gp_reg_map", MAP)
    lines = (DATA / MAP).read_bytes().splitlines(keepends=True)
    half = b"".join(lines[: len(lines) // 2])  # whole lines and a true Content-Length: only the count tells
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route(half))
    res = _fetch_one("gp_reg_map", dest)
    assert not res.ok and "3,422 data rows where the catalogued edition" in res.message
    assert "6,845" in res.message
    _untouched(dest, MAP, old, manifest)


def test_small_cuts_are_refused(server, monkeypatch, old_copy):
    dest, old, manifest = old_copy("gp_reg_map", MAP)
    body = (DATA / MAP).read_bytes()
    lines = body.splitlines(keepends=True)
    # 30 whole lines, with a true Content-Length; then a connection dropped inside the last field (no
    # Content-Length, so only the missing line end tells: the last line still has all 14 fields)
    for cut, no_length, words in ((b"".join(lines[:-30]), False, "6,815 data rows where the catalogued edition"),
                                  (body.rstrip(b"\r\n")[:-2], True, "without a line end")):
        _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route(cut, no_length=no_length))
        res = _fetch_one("gp_reg_map", dest)
        assert not res.ok and words in res.message, res.message
        _untouched(dest, MAP, old, manifest)
    # a publisher's file whose last line simply has no line end, sent with its length, is taken
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route(body.rstrip(b"\r\n")))
    assert _fetch_one("gp_reg_map", dest).ok


def test_a_drip_feeding_server_is_stopped_by_the_deadline(server, monkeypatch, old_copy):
    dest, old, manifest = old_copy("gp_reg_map", MAP)
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route((DATA / MAP).read_bytes(), drip=0.05))
    res = _fetch_one("gp_reg_map", dest, timeout=5, deadline=1.0)  # each byte is well within the timeout
    assert not res.ok and "deadline" in res.message
    _untouched(dest, MAP, old, manifest)


def test_a_server_dripping_its_headers_is_stopped_by_the_deadline(server, monkeypatch, old_copy):
    dest, old, manifest = old_copy("gp_reg_map", MAP)
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route(b"", drip_headers=0.01))
    res = _fetch_one("gp_reg_map", dest, timeout=5, deadline=1.0)  # the headers alone would take 100 s
    assert not res.ok and "deadline" in res.message, res.message
    _untouched(dest, MAP, old, manifest)


def test_a_deadline_that_passes_while_connecting_still_stops_a_drip(server, monkeypatch, old_copy):
    import socket

    dest, old, manifest = old_copy("gp_reg_map", MAP)
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route(b"", drip_headers=0.01))
    real = socket.create_connection

    def slow(*args, **kwargs):  # a slow name lookup or handshake: the deadline passes before there is a socket
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", slow)
    res = _fetch_one("gp_reg_map", dest, timeout=5, deadline=1.0)
    assert not res.ok and "deadline" in res.message, res.message
    _untouched(dest, MAP, old, manifest)


@pytest.mark.parametrize("key,relpath,name", [("gp_reg_map", MAP, "/map.csv"), ("ts011", TS011, "/ts011.csv.gz"),
                                              ("epraccur", "gp/epraccur_2023-01.csv", "/epraccur.csv")])
def test_random_bytes_are_refused(server, monkeypatch, old_copy, key, relpath, name):
    dest, old, manifest = old_copy(key, relpath)
    noise = os.urandom(200_000).replace(b"<", b"(")  # never mistaken for an HTML page
    _serve(server, monkeypatch, key, name, Route(noise))
    res = _fetch_one(key, dest)
    assert not res.ok and ("fails the build's checks" in res.message or "cannot be read" in res.message), res.message
    _untouched(dest, relpath, old, manifest)


def test_a_file_without_a_column_the_build_needs_is_refused(server, monkeypatch, old_copy):
    dest, old, manifest = old_copy("imd2025", IMD25)
    # every row, in a shape the reader takes (IoD Files 1 and 2 have no score): only the build's needs tell
    published = pd.read_csv(DATA / IMD25).drop(columns=["Index of Multiple Deprivation (IMD) Score"])
    body = gzip.compress(published.to_csv(index=False).encode())
    _serve(server, monkeypatch, "imd2025", "/imd2025.csv.gz", Route(body))
    res = _fetch_one("imd2025", dest)
    assert not res.ok and "imd_score" in res.message and "needed by the build" in res.message, res.message
    _untouched(dest, IMD25, old, manifest)


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """A gzip of 256 MiB of zeros (about 250 kB; the check is on the ratio, so 1 GiB adds only test time)."""
    import zlib

    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join([*(comp.compress(zeros) for _ in range(256)), comp.flush()])


@pytest.mark.parametrize("key,relpath,name", [("ts011", TS011, "/ts011.csv.gz"),
                                              ("gp_reg_map", MAP, "/map.csv")])  # served gzipped, kept as CSV
def test_a_gzip_bomb_is_refused(server, monkeypatch, old_copy, gzip_bomb, key, relpath, name):
    dest, old, manifest = old_copy(key, relpath)
    _serve(server, monkeypatch, key, name, Route(gzip_bomb))
    res = _fetch_one(key, dest)
    assert not res.ok and "decompression bomb" in res.message, res.message
    _untouched(dest, relpath, old, manifest)


def test_a_good_download_records_its_rows(server, monkeypatch, old_copy):
    dest, old, _ = old_copy("gp_reg_map", MAP)
    _serve(server, monkeypatch, "gp_reg_map", "/map.csv", Route((DATA / MAP).read_bytes(), no_length=True))
    res = _fetch_one("gp_reg_map", dest)
    assert res.ok, res.message
    entry = json.loads((dest / "manifest.json").read_text())["gp_reg_map"]
    assert entry["rows"] == 6845 and entry["sha256"] == hashlib.sha256(old).hexdigest()
