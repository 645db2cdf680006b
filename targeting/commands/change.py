"""``change``: which neighbourhoods and patients enter or leave Core20 between IoD 2019 and IoD 2025, as CSV."""

from __future__ import annotations

import argparse

from targeting.publish import write_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the change command."""
    p = sub.add_parser("change", help="IoD 2019 → 2025: LSOAs and patients entering or leaving Core20, by LSOA, "
                                      "PCN or ICB")
    p.add_argument("--icb", required=True, help="ONS code (E54…), NHS code (Q…) or name")
    p.add_argument("--level", choices=["lsoa", "pcn", "icb"], default="lsoa",
                   help="one row per LSOA 2021 (default), per PCN, or one row for the ICB")
    p.set_defaults(func=_change)


def _change(args: argparse.Namespace) -> int:
    from geo.atlas import load
    from targeting.change import change_table
    from targeting.scope import make_scope

    atlas = load(progress=False, geometry=False)  # draws nothing
    write_table(change_table(make_scope(atlas, kind="icb", code=args.icb), level=args.level))
    return 0
