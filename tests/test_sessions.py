"""app_pages/_sessions.py: a disconnected session is shut down when it expires or is evicted, never when resumed."""

from __future__ import annotations

from streamlit.runtime.memory_session_storage import MemorySessionStorage

from app_pages._sessions import _closing_cache


class _Session:
    def __init__(self, sid: str, log: list[str]) -> None:
        self.id, self._log = sid, log

    def shutdown(self) -> None:
        self._log.append(self.id)


class _Info:
    def __init__(self, sid: str, log: list[str]) -> None:
        self.session = _Session(sid, log)


def _cache(ttl: float = 120, maxsize: int = 128):
    now = [0.0]
    old = MemorySessionStorage(maxsize=maxsize, ttl_seconds=ttl)._cache
    old._timer = lambda: now[0]  # Streamlit's own cache, on a clock the test moves
    return _closing_cache(old), now


def test_an_expired_session_is_shut_down_when_reaped():
    log: list[str] = []
    cache, now = _cache()
    cache["a"] = _Info("a", log)
    now[0] = 119.0
    assert cache.expire() == [] and log == []
    now[0] = 121.0
    cache.expire()
    assert log == ["a"] and "a" not in cache


def test_a_resumed_session_is_not_shut_down():
    log: list[str] = []
    cache, _ = _cache()
    cache["a"] = _Info("a", log)
    del cache["a"]  # what WebsocketSessionManager does when a tab reconnects to its session
    assert log == []


def test_sessions_held_before_the_swap_are_kept_and_freed_later():
    log: list[str] = []
    now = [0.0]
    old = MemorySessionStorage(ttl_seconds=120)._cache
    old._timer = lambda: now[0]
    old["early"] = _Info("early", log)
    cache = _closing_cache(old)
    assert "early" in cache
    now[0] = 500.0
    cache.expire()
    assert log == ["early"]


def test_a_session_evicted_for_room_is_shut_down():
    log: list[str] = []
    cache, _ = _cache(maxsize=2)
    for sid in "abc":
        cache[sid] = _Info(sid, log)
    assert log == ["a"]
