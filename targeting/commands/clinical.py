"""``clinical``: the Core20PLUS5 clinical-area summary of a PCN or an ICB, or one register's QOF trend, as CSV.

The summary leads each area with its adjusted measure (recorded ÷ expected) and labels crude prevalence "crude";
stderr says where no age-adjusted measure can exist and that the tool holds no cancer staging data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from targeting.publish import write_table

if TYPE_CHECKING:
    from geo.atlas import Atlas
    from targeting.scope import Scope


def register(sub: argparse._SubParsersAction) -> None:
    """Add the clinical command."""
    c = sub.add_parser("clinical", help="Core20PLUS5: one row per clinical area and measure of a PCN or an ICB "
                                        "(or, with --trend, one row per QOF year of a register)")
    who = c.add_mutually_exclusive_group(required=True)
    who.add_argument("--pcn", help="PCN code (e.g. U37316) or a unique part of its name")
    who.add_argument("--icb", help="ONS code (E54…), NHS code (Q…) or name")
    who.add_argument("--practice", help="GP practice code (e.g. B83052)")
    who.add_argument("--england", action="store_true", help="England as a whole (with --trend only)")
    c.add_argument("--fingertips", nargs="+", default=[], metavar="FILE", type=Path,
                   help="Fingertips 'Export data' CSV(s), unchanged; every indicator in each file is added "
                        "(latest period, Persons, the commonest age, no category)")
    c.add_argument("--imd", type=int, choices=[2019, 2025], default=2025,
                   help="IMD edition of the practices' deprivation groups (SII) and the standardisation")
    c.add_argument("--qof-year", metavar="YYYY-YY",
                   help="QOF year of the register rows, e.g. 2022-23 (default: the newest in the data, 2024-25)")
    c.add_argument("--trend", metavar="REGISTER",
                   help="print one QOF register's recorded prevalence in every QOF year instead (e.g. HYP, MH, "
                        "COPD, DM); a year not in the data (2023-24) is a row with no value")
    c.set_defaults(func=_clinical)


def _clinical(args: argparse.Namespace) -> int:
    from geo.atlas import load

    if args.trend is not None:
        if args.fingertips or args.qof_year:
            raise ValueError("--trend shows every QOF year of the tool's own registers: it takes neither "
                             "--qof-year nor --fingertips")
        return _trend(args, load(progress=False, geometry=False))
    if args.england:
        raise ValueError("--england goes with --trend (the summary compares a practice, PCN or ICB with England)")
    from targeting.clinical import NO_AGE_RATES, NO_STAGING, STAGING_URL, for_output, summary
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
    table = summary(_scope(args, load(progress=False, geometry=False)), fingertips=indicators,
                    qof_year=args.qof_year)
    for label in table.attrs.get("unplaced", []):
        print(f"warning: '{label}' fits none of the Core20PLUS5 areas and is left out", file=sys.stderr)
    a = table.attrs
    print(f"{a['name']} ({a['code']}), {a['icb_name']}. Registers: QOF {a['qof_year']}; detection gaps: QOF "
          f"{a['gap_qof_year']}; practices of the practice → PCN map of {a['practice_map']}. {a['caveat']} "
          "SII: percentage points across the ICB's practices by deprivation (positive = higher in less deprived).",
          file=sys.stderr)
    print("note: each area leads with its adjusted measure, recorded ÷ expected (hypertension: age-adjusted by "
          "PHE's 2016 modelled prevalence); the crude recorded prevalence follows, labelled crude (not adjusted for "
          f"age). {NO_AGE_RATES}", file=sys.stderr)
    print(f"note: Early cancer diagnosis — {NO_STAGING} ({STAGING_URL})", file=sys.stderr)
    blank = table[table["status"].eq("available") & table["value"].isna()]
    for r in blank.itertuples(index=False):  # say why a row the tool can fill has no value
        why = getattr(r, "note", "") or "no data for this area in the file"
        print(f"note: {r.area} — {r.measure}: no value ({why})", file=sys.stderr)
    write_table(for_output(table))
    return 0


def _scope(args: argparse.Namespace, atlas: Atlas) -> Scope:
    """The practice, PCN or ICB asked for (England when none is), on the IMD edition asked for."""
    from targeting.scope import make_scope

    kind, code = next(((k, getattr(args, k)) for k in ("pcn", "icb", "practice") if getattr(args, k)), (None, None))
    return make_scope(atlas, imd=args.imd, kind=kind, code=code)


def _trend(args: argparse.Namespace, atlas: Atlas) -> int:
    from targeting.clinical import CAVEAT, qof_trend

    table = qof_trend(_scope(args, atlas), args.trend)
    a = table.attrs
    members = ("" if a["level"] in ("england", "practice") else
               f" Member practices: the practice → PCN map of {a['practice_map']}, the same for every year.")
    print(f"{a['name']} ({a['code']}): QOF {a['group_code']} crude recorded prevalence by year (%, Wilson 95% "
          "limits; not age-adjusted: the adjusted recorded ÷ expected exists for the detection gaps' QOF year only)."
          f"{members} {CAVEAT}", file=sys.stderr)
    for r in table[table["status"] != "available"].itertuples(index=False):
        print(f"note: QOF {r.qof_year}: no value ({r.note})", file=sys.stderr)
    write_table(table)
    return 0
