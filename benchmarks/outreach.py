"""Outreach planner timings against the goals: one PCN plan ≤ 2 s; every PCN plan of the largest ICB ≤ 30 s.

Run: python benchmarks/outreach.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.atlas import load
from targeting.outreach import _footprints, outreach_inputs, plan_outreach, scenario
from targeting.patches import lsoa_adjacency
from targeting.visit_sheets import visit_sheets_html

PCN = "U37316"  # BRADFORD CITY 4 PCN


def timed(label: str, fn, goal: float | None = None):
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    verdict = "" if goal is None else ("  ok" if dt <= goal else "  MISSED")
    goal_txt = "" if goal is None else f"  (goal ≤ {goal:g} s)"
    print(f"{label:<64} {dt:7.2f} s{goal_txt}{verdict}", flush=True)
    return out


def main() -> None:
    atlas = timed("atlas load", lambda: load(progress=False))
    timed("national inputs, once per process (footprints, gaps, registers)",
          lambda: outreach_inputs(atlas, ["E01033693"]))
    plan = timed(f"plan for one PCN ({PCN}), 3 connectors", lambda: plan_outreach(atlas, pcn=PCN), goal=2.0)
    timed("  + targets.csv, patches.geojson, visit_sheets.html",
          lambda: (plan.targets_table().to_csv(), plan.patches_geojson(), visit_sheets_html(plan)), goal=2.0)
    timed("  scenario table (5 × 4 resource levels × 3 horizons)", lambda: scenario(plan))
    wy = timed("plan for NHS West Yorkshire ICB (1,434 LSOAs), 20 connectors",
               lambda: plan_outreach(atlas, icb="E54000054", connectors=20, capacity=300))
    print(f"{'':<4}{int(wy.lsoas['target'].sum())} targets, {len(wy.patches)} patches, "
          f"{int((wy.lsoas['status'] == 'planned').sum())} planned, months to cover {wy.months_to_cover}")

    size = atlas.lsoa21.groupby("icb_code_nhs")["residents"].sum().sort_values()
    icb = size.index[-1]
    name = atlas.icbs.loc[atlas.icbs["icb_code_nhs"] == icb, "icb_name"].iloc[0]
    pcns = atlas.pcns.loc[atlas.pcns["icb_code_nhs"] == icb, "pcn_code"].tolist()

    def all_pcns():
        fp = _footprints(atlas)
        codes = fp.loc[fp["pcn_code"].isin(pcns), "lsoa_code"]
        rows = atlas.lsoa21[atlas.lsoa21["lsoa_code"].isin(codes)]
        adjacency = lsoa_adjacency(rows)  # once for the whole area, with one spatial index
        plans = []
        for code in pcns:
            try:
                plans.append(plan_outreach(atlas, pcn=code, adjacency=adjacency))
            except LookupError:  # a PCN that holds the most residents of no LSOA has no footprint
                continue
        return plans

    plans = timed(f"plans for every PCN of the largest ICB ({name}, {len(pcns)} PCNs)", all_pcns, goal=30.0)
    print(f"{'':<4}{len(plans)} plans; {sum(int(p.lsoas['target'].sum()) for p in plans)} targets; "
          f"{sum(len(p.patches) for p in plans)} patches")


if __name__ == "__main__":
    main()
