"""Timings of the PCN and practice profiles against the issue's goals.

Goals:
* ``python -m targeting pcns --icb <largest ICB>`` as a cold process ≤ 1.5 s;
* the same profiles warm, in-process ≤ 100 ms;
* profiles for all ~1,250 PCNs in England ≤ 5 s.

The largest ICB is the one with the most registered patients (Greater Manchester, QOP). Each cold run is a fresh
``python -m targeting`` process; the figure is the median of several runs. ``pcns`` prints the gap columns of
``targeting.gaps`` by default, so it is timed with and without them (``--no-gaps``). Warm timings are split into
"same PLUS rules" (served from the per-process cache) and "new PLUS rules" (recomputed from the cached
registration matrix), so the cache does not hide the work.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cold(args: list[str], runs: int = 5) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of fresh ``python -m targeting`` processes."""
    times, cpu = [], []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def _best(fn, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _line(what: str, secs: float, goal: float) -> None:
    ok = "ok  " if secs <= goal else "SLOW"
    print(f"{ok} {what:<62} {secs * 1000:8.0f} ms   (goal ≤ {goal * 1000:.0f} ms)")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from geo.atlas import load
    from targeting import profiles
    from targeting.plus import EthnicGroupRule
    from targeting.scope import make_scope
    from targeting.store import forget

    t = time.perf_counter()
    atlas = load(progress=False)
    load_s = time.perf_counter() - t
    pcns = atlas.pcns[atlas.pcns["pcn_code"] != "U"]
    largest = pcns.groupby("icb_code_nhs")["list_size"].sum().idxmax()
    name = atlas.icbs.loc[atlas.icbs["icb_code_nhs"] == largest, "icb_name"].iloc[0]
    print(f"largest ICB by registered patients: {largest} {name}; atlas load {load_s:.2f} s (not counted below)")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    base_wall, base_cpu = _cold(["-c", "import pandas"])
    print(f"for scale: a bare `python -c 'import pandas'` takes {base_wall * 1000:.0f} ms wall, "
          f"{base_cpu * 1000:.0f} ms CPU here")
    for label, args, runs in ((f"pcns --icb {largest} --no-gaps", ["pcns", "--icb", largest, "--no-gaps"], 5),
                              (f"pcns --icb {largest} (with gap columns)", ["pcns", "--icb", largest], 3)):
        wall, cpu = _cold(["-m", "targeting", *args], runs)
        _line(f"cold process, wall: {label}", wall, 1.5)
        _line(f"cold process, CPU:  {label}", cpu, 1.5)

    t = time.perf_counter()
    big = make_scope(atlas, kind="icb", code=largest)
    profiles.pcn_profiles(big)
    first = time.perf_counter() - t
    _line("first call in-process (builds the registration matrix)", first, 5.0)
    _line(f"warm in-process: pcn_profiles(icb={largest}), same PLUS rules",
          _best(lambda: profiles.pcn_profiles(big)), 0.1)
    counter = iter(range(10_000))
    _line(f"warm in-process: pcn_profiles(icb={largest}), new PLUS rules",
          _best(lambda: profiles.pcn_profiles(dataclasses.replace(big, plus_rules=[
              EthnicGroupRule("minority", threshold_pct=10 + next(counter) / 100)]))),
          0.1)
    forget(atlas)  # the store keeps derived tables per atlas: time each first call
    t = time.perf_counter()
    allp = profiles.pcn_profiles(make_scope(atlas, imd=2025))
    _line(f"all {len(allp)} PCNs in England, from nothing cached", time.perf_counter() - t, 5.0)
    forget(atlas)  # the store keeps derived tables per atlas: time each first call
    t = time.perf_counter()
    allp = profiles.pcn_profiles(make_scope(atlas, imd=2019))
    _line(f"all {len(allp)} PCNs in England (IMD 2019), from nothing cached", time.perf_counter() - t, 5.0)
    forget(atlas)  # the store keeps derived tables per atlas: time each first call
    t = time.perf_counter()
    allq = profiles.practice_profiles(make_scope(atlas, imd=2025))
    _line(f"all {len(allq)} practices in England, from nothing cached", time.perf_counter() - t, 5.0)


if __name__ == "__main__":
    main()
