"""A closed tab's session, and everything it holds (an upload, its downloads), is freed when it can't come back.

Streamlit keeps a disconnected session for ``server.disconnectedSessionTTL`` seconds so that a dropped connection
can resume it. When that time is up, Streamlit 1.67 only forgets the session: its cache entry expires but
``AppSession.shutdown`` is never called, so the session's media files (a download made from an upload) stay in
memory and stay served at their ``/media/`` address until the server stops. :func:`free_ended_sessions` gives the
runtime's store of disconnected sessions a cache that shuts a session down when it expires or is evicted, and reaps
it every few seconds on the runtime's event loop; the session's downloads are deleted with it. It reaches into
Streamlit's internals, which is why Streamlit is pinned; ``tests/browser/test_nothing_kept.py`` fails if a new
version changes them.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["free_ended_sessions"]

_LOG = logging.getLogger("core20.sessions")
_REAP_EVERY_S = 5.0


def _closing_cache(old: Any) -> Any:
    from streamlit.runtime.caching.ttl_cache import TTLCache

    class _ClosingTTLCache(TTLCache):
        """Shuts down each session it drops on its own (expired or evicted); an explicit delete is a resume."""

        def expire(self, at_time: float | None = None) -> list:
            removed = super().expire(at_time)
            for _, info in removed:
                _shutdown(info)
            return removed

        def _evict_lru(self, reason: Any) -> Any:
            info = super()._evict_lru(reason)
            _shutdown(info)
            return info

    new = _ClosingTTLCache(maxsize=old.maxsize, ttl=old.ttl, timer=old.timer)
    new._data.update(old._data)
    new._expirations.update(old._expirations)
    return new


def _shutdown(info: Any) -> None:
    """Shut a session down, then drop its downloads at once (Streamlit only marks a download for deletion at the
    session's end and deletes it at some later run's end, which may never come)."""
    from streamlit import runtime

    media = runtime.get_instance().media_file_mgr if runtime.exists() else None
    try:
        held = set(media._files_by_session_and_coord.get(info.session.id, {}).values()) if media else set()
        info.session.shutdown()
        if media is None:
            return
        with media._lock:
            in_use = set().union(*(set(d.values()) for d in media._files_by_session_and_coord.values()))
            for file_id in held - in_use:
                if file_id in media._file_metadata:
                    media._delete_file(file_id)
    except Exception:  # one session's failure must not stop the others being freed
        _LOG.exception("could not shut down an ended session")


def free_ended_sessions() -> bool:
    """Make the running Streamlit server free each disconnected session once it can no longer be resumed.

    Call once per process, from a script run (the runtime exists then). Returns whether it was installed; if
    Streamlit's internals are not as expected it logs why and changes nothing.
    """
    from streamlit.runtime import Runtime

    try:
        rt = Runtime.instance()
        storage = rt._session_mgr._session_storage
        old = storage._cache
        loop = rt._get_async_objs().eventloop
    except Exception as exc:  # a Streamlit without these internals: say so, leave it be
        _LOG.warning("disconnected sessions are not freed early (Streamlit internals changed: %s)", exc)
        return False

    def install() -> None:
        if type(storage._cache).__name__ != "_ClosingTTLCache":
            storage._cache = _closing_cache(storage._cache)
        reap()

    def reap() -> None:
        try:
            storage._cache.expire()
        finally:
            loop.call_later(_REAP_EVERY_S, reap)

    if not hasattr(old, "expire") or not hasattr(old, "_expirations"):
        _LOG.warning("disconnected sessions are not freed early (Streamlit's session cache changed)")
        return False
    loop.call_soon_threadsafe(install)  # the store is only touched on the event loop
    return True
