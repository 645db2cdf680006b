"""The image's ``HEALTHCHECK``: exit 0 if the app answers ``/_stcore/health`` with "ok", else 1 (standard library).

Reads the same ``PORT`` and ``CORE20_PUBLIC_URL`` (its path) as ``deploy/entrypoint.py``; asks 127.0.0.1, so it
needs no name resolution and reaches no other machine.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from entrypoint import SettingsError, public_url


def health_url(env: dict[str, str] | os._Environ) -> str:
    """The address of the health endpoint inside the container, e.g. ``http://127.0.0.1:8501/_stcore/health``."""
    port = (env.get("PORT") or "8501").strip()
    try:
        _, base, _ = public_url(env)
    except SettingsError:
        base = ""
    return f"http://127.0.0.1:{port}/{base + '/' if base else ''}_stcore/health"


def main() -> int:
    """0 when the app is up and healthy, 1 otherwise (with the reason on stderr)."""
    url = health_url(os.environ)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = r.read(64).decode("utf-8", "replace").strip()
            if r.status == 200 and body == "ok":
                return 0
            print(f"unhealthy: {url} answered {r.status} {body!r}", file=sys.stderr)
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
