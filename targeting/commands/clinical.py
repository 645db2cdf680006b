"""``clinical``: the Core20PLUS5 clinical-area summary of a PCN or an ICB, as CSV on stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from targeting.commands._io import write_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the clinical command."""
    c = sub.add_parser("clinical", help="Core20PLUS5: one row per clinical area and measure of a PCN or an ICB")
    who = c.add_mutually_exclusive_group(required=True)
    who.add_argument("--pcn", help="PCN code (e.g. U37316) or a unique part of its name")
    who.add_argument("--icb", help="ONS code (E54…), NHS code (Q…) or name")
    who.add_argument("--practice", help="GP practice code (e.g. B83052)")
    c.add_argument("--fingertips", nargs="+", default=[], metavar="FILE", type=Path,
                   help="Fingertips 'Export data' CSV(s), unchanged; every indicator in each file is added "
                        "(latest period, Persons, the commonest age, no category)")
    c.add_argument("--imd", type=int, choices=[2019, 2025], default=2025,
                   help="IMD edition of the practices' deprivation groups (SII) and the standardisation")
    c.set_defaults(func=_clinical)


def _clinical(args: argparse.Namespace) -> int:
    from geo.atlas import load
    from targeting.clinical import for_output, summary
    from targeting.fingertips import choices, read_fingertips, select

    indicators = []
    for path in args.fingertips:
        if not path.exists():
            raise LookupError(f"{path}: no such file")
        if not path.is_file():
            raise LookupError(f"{path}: not a regular file (a folder, device or pipe); give a Fingertips CSV export")
        export = read_fingertips(path)
        for ind in choices(export)["indicator"]:
            indicators.append(select(export, indicator=ind.split(": ", 1)[0]))
    atlas = load(progress=False, geometry=False)
    table = summary(atlas, pcn=args.pcn, icb=args.icb, practice=args.practice, fingertips=indicators, imd=args.imd)
    for label in table.attrs.get("unplaced", []):
        print(f"warning: '{label}' fits none of the Core20PLUS5 areas and is left out", file=sys.stderr)
    print(f"{table.attrs['name']} ({table.attrs['code']}), {table.attrs['icb_name']}. {table.attrs['caveat']} "
          "SII: percentage points across the ICB's practices by deprivation (positive = higher in less deprived).",
          file=sys.stderr)
    blank = table[table["status"].eq("available") & table["value"].isna()]
    for r in blank.itertuples(index=False):  # say why a row the tool can fill has no value
        why = getattr(r, "note", "") or "no data for this area in the file"
        print(f"note: {r.area} — {r.measure}: no value ({why})", file=sys.stderr)
    write_table(for_output(table))
    return 0
