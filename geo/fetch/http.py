"""HTTP for the fetcher: streamed downloads within a deadline and size cap, failures as :class:`_FetchError`."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Any

_CHUNK = 1 << 16
_USER_AGENT = "core20plus-targeting/0.1 (python urllib)"
_BACKOFF = 1.0  # seconds before the first retry; doubles each time
#: Seconds allowed for one file, all attempts included (the largest, Code-Point Open, is about 20 MB).
DEFAULT_DEADLINE = 1800.0
#: Largest download accepted (bytes): the largest catalogued file is under 200 MB.
MAX_DOWNLOAD = 2_000_000_000


class _FetchError(Exception):
    """Something wrong with one download; ``retry`` says whether trying again could help."""

    def __init__(self, message: str, *, retry: bool = False):
        super().__init__(message)
        self.retry = retry


def _pause(attempt: int) -> None:
    """Wait before another try: :data:`_BACKOFF` seconds after the first failure, doubling each time."""
    time.sleep(_BACKOFF * 2**attempt)


def _download(url: str, out: Path, timeout: float, on_chunk: Callable[[int, int | None], None],
              ends: float | None = None) -> int | None:
    """Stream ``url`` into the file ``out``; return the length the server announced (None: none)."""
    with open(out, "wb") as fh:
        return _stream(url, fh, timeout, on_chunk, ends)


def _stream(
    url: str, sink: IO[bytes], timeout: float, on_chunk: Callable[[int, int | None], None] | None = None,
    ends: float | None = None, limit: int | None = None,
) -> int | None:
    """Copy the body of ``url`` into ``sink``, mapping every failure to a :class:`_FetchError`.

    Returns the length the server announced (Content-Length), or None if it announced none. With ``limit`` it
    stops once that many bytes have come (a look at the start of a report, or a page's links).

    ``ends`` is the :func:`time.monotonic` time the whole file must be done by; ``read1`` returns whatever has
    arrived, so a server dripping a byte at a time is caught by it, not only by the per-read ``timeout``.
    Without a Content-Length the body is complete when the server closes the connection (or, chunked, sends
    the last chunk); a body cut short there is caught by the checks of :func:`geo.fetch.jobs._commit`.
    """
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    done = 0
    total: int | None = None
    watch = _Watchdog(ends)
    try:
        if ends is not None and time.monotonic() >= ends:
            raise _FetchError("the deadline for this file ran out before the download started")
        with watch, watch.opener.open(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > MAX_DOWNLOAD:
                raise _FetchError(f"the server announces {total:,} bytes, more than the {MAX_DOWNLOAD:,} allowed")
            read = getattr(resp, "read1", resp.read)
            while chunk := read(_CHUNK):
                sink.write(chunk)
                done += len(chunk)
                if on_chunk is not None:
                    on_chunk(done, total)
                if done > MAX_DOWNLOAD:
                    raise _FetchError(f"more than {MAX_DOWNLOAD:,} bytes: not the catalogued file")
                if ends is not None and time.monotonic() > ends:
                    raise _FetchError(f"not finished by the deadline ({done:,} bytes so far): the server is too "
                                      "slow or stalling")
                if limit is not None and done >= limit:
                    return total  # the start is all that is wanted
    except _FetchError:
        raise
    except Exception as exc:
        if watch.fired:  # the watchdog closed the connection: say why, whatever the socket raised
            raise _FetchError(f"not finished by the deadline ({done:,} bytes so far): the server is too slow or "
                              "stalling") from None
        _raise_fetch_error(exc, done, total, timeout)
    if watch.fired:  # closed mid-headers, http.client may see an empty, finished response
        raise _FetchError(f"not finished by the deadline ({done:,} bytes so far): the server is too slow or stalling")
    if total is not None and done != total:
        raise _FetchError(f"truncated at {done:,} of {total:,} bytes", retry=True)
    return total


class _Watchdog:
    """Closes the connections of one download when its deadline passes.

    A server dripping its headers a byte at a time never trips a per-read timeout, and urllib gives no other
    handle on the socket while it reads them.
    """

    def __init__(self, ends: float | None):
        import threading

        self.ends, self.fired, self._conns, self._timer = ends, False, [], None
        self._lock = threading.Lock()
        watch = self

        def factory(cls: type) -> Callable[..., http.client.HTTPConnection]:
            def make(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
                conn = cls(*args, **kwargs)
                with watch._lock:
                    watch._conns.append(conn)
                opened = conn.connect

                def connect() -> None:  # a deadline that passed while connecting closes the new socket at once
                    opened()
                    with watch._lock:
                        if watch.fired:
                            watch._shut(conn)

                conn.connect = connect
                return conn
            return make

        class Http(urllib.request.HTTPHandler):
            def http_open(self, req):  # urllib's signature
                return self.do_open(factory(http.client.HTTPConnection), req)

        class Https(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(factory(http.client.HTTPSConnection), req, context=self._context)

        self.opener = urllib.request.build_opener(Http, Https)

    @staticmethod
    def _shut(conn: http.client.HTTPConnection) -> None:
        import socket

        with contextlib.suppress(OSError, AttributeError):  # no socket yet: connect() shuts it when it opens
            conn.sock.shutdown(socket.SHUT_RDWR)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for conn in self._conns:
                self._shut(conn)

    def __enter__(self) -> _Watchdog:
        import threading

        if self.ends is not None:
            self._timer = threading.Timer(max(0.0, self.ends - time.monotonic()), self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _raise_fetch_error(exc: BaseException, done: int, total: int | None, timeout: float) -> None:
    """Map what urllib and http.client raise to a :class:`_FetchError` (anything else is raised as it is)."""
    if isinstance(exc, urllib.error.HTTPError):
        exc.close()
        transient = exc.code >= 500 or exc.code in (408, 429)
        raise _FetchError(f"HTTP {exc.code} {exc.reason}", retry=transient) from None
    if isinstance(exc, http.client.IncompleteRead):
        got = done + len(exc.partial)
        if total is not None and got < total:
            raise _FetchError(f"truncated at {got:,} of {total:,} bytes", retry=True) from None
        if exc.expected:
            raise _FetchError(f"truncated at {got:,} bytes, {exc.expected:,} short of the end the server announced",
                              retry=True) from None
        # chunked, or a length already received in full: what is missing is the end of the response itself
        raise _FetchError(f"the connection closed after {got:,} bytes without the server's end-of-body marker "
                          "(a chunked response with no last chunk): the body may be incomplete", retry=True) from None
    if isinstance(exc, TimeoutError):
        raise _FetchError(f"timed out after {timeout:g} s", retry=True) from None
    if isinstance(exc, urllib.error.URLError):
        if isinstance(exc.reason, TimeoutError):
            raise _FetchError(f"timed out after {timeout:g} s", retry=True) from None
        raise _FetchError(f"could not connect: {exc.reason}", retry=True) from None
    if isinstance(exc, http.client.HTTPException | ConnectionError):
        raise _FetchError(f"connection failed: {type(exc).__name__}: {exc}", retry=True) from None
    raise exc


def _get_body(url: str, timeout: float, ends: float | None = None, limit: int | None = None) -> bytes:
    """Return the body of ``url`` (its first ``limit`` bytes or so, with a limit), failures as :class:`_FetchError`."""
    buf = io.BytesIO()
    _stream(url, buf, timeout, None, ends, limit)
    return buf.getvalue()


def _get_json(url: str, timeout: float, ends: float | None = None) -> Any:
    """Return the JSON body of ``url``; an ArcGIS ``{"error": …}`` reply is a :class:`_FetchError`."""
    body = _get_body(url, timeout, ends)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise _FetchError(f"the response is not JSON ({exc})", retry=True) from None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        raise _FetchError(f"ArcGIS error {err.get('code')}: {err.get('message')}", retry=True)
    return data


def _served_name(url: str) -> str | None:
    """Return the file name a URL serves, if it has a data-file extension."""
    name = PurePosixPath(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    return name if name.lower().endswith((".zip", ".csv", ".gz", ".xlsx", ".gpkg")) else None
