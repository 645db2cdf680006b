"""``targets``: an outreach plan for a PCN or an ICB: targets, postcode rounds, patches and printable visit sheets."""

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
    p.add_argument("--mode", choices=["campaign", "caseload"], default="campaign",
                   help="campaign (default): each target household visited once, one round of postcodes a month "
                        "per connector; caseload: each worker keeps one neighbourhood of about --capacity "
                        "households, visited every month")
    p.add_argument("--connectors", type=int, default=None,
                   help="number of connectors or workers (default 3, or as many as --names)")
    p.add_argument("--names", help='the connectors\' (or workers\') names in order, e.g. "Asha,Ben,Chloe": on the '
                                   "sheets and in rounds.csv's connector_name")
    p.add_argument("--start", help="calendar month of month 1, YYYY-MM (default: next month; with --done, the "
                                   "month after the last one done)")
    p.add_argument("--done", type=Path, help="a rounds.csv of an earlier plan with a done column (true/false, or "
                                             "the date): postcodes done are not planned again, and the rest is "
                                             "planned from the next month")
    p.add_argument("--capacity", type=float, default=100,
                   help="households per connector per month, or per worker's caseload (default 100)")
    p.add_argument("--months", type=float, default=12,
                   help="campaign horizon in whole months: one round per connector per month (default 12)")
    p.add_argument("--weights", help="order by a weighted priority score instead of deprivation first, e.g. "
                                     "deprivation=0.5,plus=0.2,undiagnosed=0.2,registration=0.05,size=0.05 "
                                     "(unnamed ones keep their defaults)")
    p.add_argument("--uptake", type=float, help="NHS Health Check uptake among those offered (default 0.526, "
                                                "Patel et al. 2020; the range stays the published 0.251–0.847 "
                                                "unless the value falls outside it)")
    p.add_argument("--detection", type=float,
                   help="new hypertension diagnoses per NHS Health Check (default 0.038, Robson et al. 2016)")
    p.add_argument("--already-diagnosed", type=float,
                   help="share of residents aged 40–74 not eligible because already diagnosed (default 0.30, PHE)")
    p.add_argument("--basemap", choices=["OpenStreetMap"],
                   help="draw a street basemap under the visit sheets' maps (needs the internet when printing)")
    p.add_argument("--score-cut", type=float, help="also target LSOAs with a priority score at or above this (0–100)")
    p.add_argument("--imd", type=int, choices=[2019, 2025], default=2025,
                   help="IMD edition for deprivation and Core20 (default 2025; 2019 is carried to LSOA 2021)")
    p.add_argument("--scenario", action="store_true",
                   help="also write scenario.csv: share of Core20 and PLUS residents reached in 3, 6 and 12 months "
                        "with half, the same, twice and four times the connectors, and half to twice the capacity")
    p.add_argument("--out", required=True, type=Path,
                   help="folder for targets.csv, rounds.csv, rounds.geojson, patches.geojson, visit_sheets.html")
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
        print(f"error: cannot write the plan to {plain(args.out, 300)}: {plain(exc.strerror or exc, 300)}",
              file=sys.stderr)
        return 2


def _health_check(args: argparse.Namespace):
    from dataclasses import replace

    from targeting.health_checks import DEFAULT_HEALTH_CHECK

    hc = DEFAULT_HEALTH_CHECK
    changes = {}
    if args.uptake is not None:
        changes.update(uptake=args.uptake, uptake_low=min(hc.uptake_low, args.uptake),
                       uptake_high=max(hc.uptake_high, args.uptake))
    if args.detection is not None:
        changes["detection"] = args.detection
    if args.already_diagnosed is not None:
        changes["already_diagnosed"] = args.already_diagnosed
    return replace(hc, **changes) if changes else None


def _run(args: argparse.Namespace) -> int:
    from geo._errors import plain
    from geo.atlas import load
    from targeting.outreach import check_settings, plan_outreach, scenario_around
    from targeting.programme import connector_names, read_done, start_month
    from targeting.publish import write_plan

    names = None if args.names is None else args.names.split(",")
    if args.connectors is None:
        args.connectors = len(names) if names else 3
    check_settings(args.connectors, args.capacity, args.months, args.score_cut)  # before the slow load
    if names is not None:
        connector_names(names, args.connectors)
    start = None if args.start is None else start_month(args.start)
    done = None
    if args.done is not None:
        try:
            done = read_done(args.done)
        except FileNotFoundError:
            raise ValueError(f"no done file at {plain(args.done, 300)}") from None
    hc = _health_check(args)
    from targeting.scope import make_scope

    scope = make_scope(load(progress=False), imd=args.imd, kind="pcn" if args.pcn is not None else "icb",
                       code=args.pcn if args.pcn is not None else args.icb)
    plan = plan_outreach(scope, connectors=args.connectors, capacity=args.capacity, months=args.months,
                         weights=args.weights, score_cut=args.score_cut, mode=args.mode, health_check=hc,
                         start=start, names=names, done=done)
    scen = None
    if args.scenario:  # around the plan's own resources: half, the same, double and four times
        scen = scenario_around(plan)
    written = write_plan(plan, args.out, scenario=scen, basemap=args.basemap)
    t = plan.lsoas
    n_planned = int((t["status"] == "planned").sum())
    n_part = int((t["status"] == "part planned").sum())
    need = plan.workers_needed
    if plan.settings["mode"] == "caseload":
        print(f"{plan.area['label']}: {int(t['target'].sum())} target neighbourhoods carved into {len(plan.pieces)} "
              f"caseloads of about {args.capacity:g} households; {min(args.connectors, len(plan.pieces))} given out. "
              f"Workers needed for every Core20 household: {need.get('core20', 0)}; for every Core20 and PLUS "
              f"household: {need.get('core20plus', 0)}.", file=sys.stderr)
    else:
        print(f"{plan.area['label']}: {int(t['target'].sum())} target neighbourhoods, {len(plan.pieces)} rounds of "
              f"about {args.capacity:g} households; {n_planned} planned in full and {n_part} in part for "
              f"{plan.settings['connectors']} connector(s) over {plan.settings['months']:g} months; every Core20 and "
              f"PLUS household in about {plan.months_to_cover} months.", file=sys.stderr)
    if plan.progress is not None:
        pr = plan.progress
        print(f"done so far: about {pr['households_visited']:,} households at {pr['postcodes_done']:,} postcodes; "
              f"the rest planned from {plan.settings['start']}"
              + (f", about {pr['months_to_finish']} more months" if pr.get("months_to_finish") else "")
              + (f"; {pr['postcodes_elsewhere']:,} postcode(s) marked done are not among this area's targets"
                 if pr.get("postcodes_elsewhere") else "") + ".", file=sys.stderr)
    for w in plan.warnings:
        print(f"note: {w}", file=sys.stderr)
    targets = t[t["target"]]
    if len(targets) and plan.rounds.empty:
        print("warning: no target neighbourhood has a residential postcode to visit.", file=sys.stderr)
    for path in written:
        print(f"wrote {plain(path)}", file=sys.stderr)  # a folder name may hold control characters
    return 0
