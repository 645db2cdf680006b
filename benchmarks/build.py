"""National atlas build time, peak memory and load time, each in a fresh process.

Goals on a 2-core machine: build ≤ 60 s (stretch ≤ 20 s), peak memory ≤ 3 GB, load ≤ 2 s.
The build goes to a temporary cache so the project's own cache is left alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import resource, sys, time, json
t = time.perf_counter()
from geo.atlas import build, load
if sys.argv[1] == "build":
    build(force=True, progress=False)
else:
    a = load(build_if_missing=False, progress=False)
    _ = len(a.lsoa21)
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
print(json.dumps({"seconds": secs, "peak_mib": peak}))
"""


def _run(what: str, env: dict[str, str]) -> dict[str, float]:
    import json

    out = subprocess.run([sys.executable, "-c", _CHILD, what], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "CORE20_CACHE": cache}
        t0 = time.perf_counter()
        b = _run("build", env)
        wall = time.perf_counter() - t0
        loads = [_run("load", env) for _ in range(3)]
    best = min(x["seconds"] for x in loads)
    print(f"{'measure':<34}{'value':>12}  goal")
    print(f"{'national build (in process)':<34}{b['seconds']:>10.1f} s  ≤ 60 s (stretch ≤ 20 s)")
    print(f"{'national build (whole process)':<34}{wall:>10.1f} s")
    print(f"{'build peak memory':<34}{b['peak_mib'] / 1024:>10.2f} GB ≤ 3 GB")
    print(f"{'atlas load, incl. imports (best/3)':<34}{best:>10.2f} s  ≤ 2 s")


if __name__ == "__main__":
    main()
