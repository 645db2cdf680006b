"""``targets``: an outreach plan for a PCN or an ICB, written as targets.csv, patches.geojson and visit sheets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``targets`` command."""
    p = sub.add_parser("targets", help="outreach plan for connectors and health checks (CSV, GeoJSON, visit sheets)")
    area = p.add_mutually_exclusive_group(required=True)
    area.add_argument("--pcn", help="PCN code or a unique part of its name (its indicative footprint), e.g. U37316")
    area.add_argument("--icb", help="ICB: ONS code (E54…), NHS code (Q…) or name")
    p.add_argument("--connectors", type=int, default=3, help="number of connectors (default 3)")
    p.add_argument("--capacity", type=float, default=100,
                   help="households per connector per month (default 100)")
    p.add_argument("--months", type=float, default=12,
                   help="plan horizon in months; caps each patch and each connector at capacity × months (default 12)")
    p.add_argument("--weights", help="priority weights, e.g. deprivation=0.5,plus=0.2,undiagnosed=0.2,"
                                     "registration=0.05,size=0.05 (unnamed ones keep their defaults)")
    p.add_argument("--score-cut", type=float, help="also target LSOAs with a priority score at or above this (0–100)")
    p.add_argument("--imd", type=int, choices=[2019, 2025], default=2025,
                   help="IMD edition for deprivation and Core20 (default 2025; 2019 is carried to LSOA 2021)")
    p.add_argument("--scenario", action="store_true",
                   help="also write scenario.csv: share of Core20 and PLUS residents reached in 3, 6 and 12 months "
                        "with half, the same, twice and four times the connectors, and half to twice the capacity")
    p.add_argument("--out", required=True, type=Path, help="folder for targets.csv, patches.geojson, visit_sheets.html")
    p.set_defaults(func=_targets)


def _targets(args: argparse.Namespace) -> int:
    from geo._errors import plain

    # cli.main reports LookupError and data errors; bad numbers and weights (ValueError) are reported here.
    try:
        return _run(args)
    except ValueError as exc:
        print(f"error: {plain(exc, 2000)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write the plan to {args.out}: {plain(exc.strerror or exc, 300)}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from geo.atlas import load
    from targeting.output import write_plan
    from targeting.outreach import check_settings, plan_outreach, scenario

    check_settings(args.connectors, args.capacity, args.months, args.score_cut)  # before the slow load
    atlas = load(progress=False)
    plan = plan_outreach(atlas, pcn=args.pcn, icb=args.icb, connectors=args.connectors, capacity=args.capacity,
                         months=args.months, weights=args.weights, score_cut=args.score_cut, imd=args.imd)
    scen = None
    if args.scenario:  # around the plan's own resources: half, the same, double and four times
        n, cap = args.connectors, args.capacity
        scen = scenario(plan, connectors=sorted({max(1, n // 2), n, 2 * n, 4 * n}),
                        capacities=sorted({cap / 2, cap, 2 * cap}), months=(3, 6, 12))
    written = write_plan(plan, args.out, scenario=scen)
    t = plan.lsoas
    print(f"{plan.area['label']}: {int(t['target'].sum())} target neighbourhoods in {len(plan.patches)} patches; "
          f"{int((t['status'] == 'planned').sum())} planned for {plan.settings['connectors']} connector(s) over "
          f"{plan.settings['months']:g} months; every Core20 and PLUS household in about {plan.months_to_cover} "
          f"months.", file=sys.stderr)
    targets = t[t["target"]]
    if len(targets) and not (t["status"] == "planned").any():
        print(f"warning: no target neighbourhood fits one connector's {plan.settings['capacity_per_connector']:,.0f} "
              f"households (capacity × months); the smallest has {int(targets['households'].min()):,}. "
              "Raise --capacity or --months.", file=sys.stderr)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0
