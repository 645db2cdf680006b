"""``map``: the app's map of an ICB or a PCN as one standalone HTML file that opens offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.files import atomic_write

#: ``--layer`` choice → the layer shown first.
LAYER_CHOICES = {"imd": "imd{yy}", "core20": "core20", "plus": "plus", "change": "core20_change",
                 "ethnicity": "eth_minority", "targets": "plan_connector"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``map`` command."""
    p = sub.add_parser("map", help="write an area's map as a standalone HTML file (opens with no internet)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--icb", help="ONS code (E54…), NHS code (Q…) or name")
    where.add_argument("--pcn", help="PCN code or a unique part of its name (e.g. U79433)")
    p.add_argument("--layer", choices=list(LAYER_CHOICES), default="imd",
                   help="layer shown first (all layers can be switched in the file); 'targets' plans outreach")
    p.add_argument("--imd", type=int, choices=[2019, 2025], default=2025, help="IMD edition of Core20")
    p.add_argument("--connectors", type=int, default=3, help="connectors for --layer targets (default 3)")
    p.add_argument("--basemap", action="store_true", help="add OpenStreetMap tiles (need internet to show)")
    p.add_argument("--out", required=True, help="HTML file to write")
    p.set_defaults(func=_map)


def _map(args: argparse.Namespace) -> int:
    from targeting.render.page import standalone_html

    if args.layer == "targets":
        from targeting.outreach import check_settings

        check_settings(args.connectors, 100, 12)
    out = Path(args.out)
    if out.is_dir():
        from geo._errors import plain

        raise ValueError(f"--out {plain(out)} is a folder; give the HTML file to write, e.g. "
                         f"{plain(out / 'map.html')}")
    kind, code = ("icb", args.icb) if args.icb else ("pcn", str(args.pcn).strip().upper())
    initial = LAYER_CHOICES[args.layer].format(yy=str(args.imd)[2:])
    if args.layer == "targets":
        from geo.atlas import load
        from targeting.area_maps import plan_map_payload
        from targeting.outreach import plan_outreach
        from targeting.scope import make_scope

        scope = make_scope(load(progress=False), imd=args.imd, kind=kind, code=code)
        plan = plan_outreach(scope, connectors=args.connectors)
        payload = plan_map_payload(scope, plan, initial=initial)
        title = f"Outreach plan: {plan.area['name']}"
    else:
        from targeting.precompute import open_answers

        # the map of an ICB or a PCN with the default settings is precomputed: read, joined, written
        answers = open_answers(build_if_missing=True)
        hit = answers.map_payload(kind, code, args.imd, initial) if answers else None
        if hit is not None:
            payload, title = hit[0], f"Core20PLUS map: {hit[1]}"
        else:
            from geo.atlas import load
            from targeting.area_maps import area_map
            from targeting.scope import make_scope

            scope = make_scope(load(progress=False, geometry=False), imd=args.imd, kind=kind, code=code)
            made = area_map(scope, initial=initial, store=answers)
            payload, title = made.payload, made.title
    path = atomic_write(args.out, standalone_html(payload, title=title, basemap=args.basemap))
    from geo._errors import plain

    print(f"wrote {plain(path)} ({path.stat().st_size / 1e6:.1f} MB): {plain(title)}", file=sys.stderr)
    return 0
