"""A local HTTP server for the fetch tests, serving the real bundled files, and what they share."""
from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest


def _data_dir() -> Path:
    env = os.environ.get("CORE20_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"


DATA = _data_dir()

IMD25 = "imd/imd2025_lsoa21_ranks_scores_deciles.csv.gz"
ICB = "boundaries/icb22_simplified_en_wgs84.gpkg"
TS011 = "census/census2021_ts011_household_deprivation_lsoa21_ew.csv.gz"
LOOKUP = "lookups/lsoa21_sicbl24_icb24_en.csv.gz"


# ----------------------------------------------------------------------------------- local server


@dataclass
class Route:
    body: bytes | Callable[[dict[str, str]], bytes] = b""
    status: int = 200
    length: int | None = None  # announced Content-Length; default the true length
    delay: float = 0.0  # seconds to wait before answering
    fail_first: int = 0  # answer 503 to this many requests first
    no_length: bool = False  # send no Content-Length: the body ends when the connection closes
    drip: float = 0.0  # send the body one byte at a time, this many seconds apart
    drip_headers: float = 0.0  # send the status line and headers one byte at a time, this many seconds apart


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 whose routes the tests set."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.queries: list[dict[str, str]] = []
        self.stop = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = False  # so server_close() joins every handler thread
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                server.hits[parts.path] += 1
                server.queries.append({"_path": parts.path, **query})
                route = server.routes.get(parts.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay and server.stop.wait(route.delay):
                    return
                status, body = route.status, route.body
                if route.fail_first and server.hits[parts.path] <= route.fail_first:
                    status, body = 503, b"busy"
                data = body(query) if callable(body) else body
                try:
                    if route.drip_headers:
                        head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"x" * 10_000 + b"\r\n"
                        for i in range(len(head)):
                            if server.stop.wait(route.drip_headers):
                                return
                            self.wfile.write(head[i:i + 1])
                            self.wfile.flush()
                        return
                    self.send_response(status)
                    self.send_header("Content-Type", "application/octet-stream")
                    if not route.no_length:
                        self.send_header("Content-Length", str(route.length or len(data)))
                    self.end_headers()
                    if route.drip:
                        for i in range(len(data)):
                            if server.stop.wait(route.drip):
                                return
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                    else:
                        self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

        return Handler


def serve(server: LocalServer, monkeypatch: pytest.MonkeyPatch, key: str, path: str, route: Route) -> str:
    server.routes[path] = route
    url = server.url(path)
    monkeypatch.setenv(f"CORE20_URL_{key.upper()}", url)
    return url


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part." in p.name)
