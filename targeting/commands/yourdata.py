"""``yourdata``: the Your data page as a command — an upload's suppressed tables written to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo._errors import plain


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``yourdata`` command."""
    p = sub.add_parser("yourdata", help="a CSV of numerators and denominators by LSOA or practice: Core20 against "
                                        "the rest, suppressed, as the Your data page downloads it")
    p.add_argument("--file", required=True, type=Path, help="CSV with a code, a numerator and a denominator column")
    p.add_argument("--level", choices=["lsoa", "practice"], help="rows are LSOAs or GP practices (default: detected)")
    p.add_argument("--imd", type=int, choices=[2019, 2025], default=2025, help="IMD edition of Core20 (default 2025)")
    p.add_argument("--rule", choices=["nhsd", "round1"], default="nhsd",
                   help="small-number rule: nhsd = 1–7 withheld, others rounded to 5 (default); round1 = 1–7 "
                        "withheld, others exact: NOT safe to publish (withheld counts can be worked out), so its "
                        "files are named …_unsuppressed.csv")
    ft = p.add_argument_group("a Fingertips export (OHID's 'Export data' CSV, unchanged): what to read from it "
                                "(default: the first indicator, latest period, Persons, the commonest age, no "
                                "category)")
    ft.add_argument("--indicator", help="indicator ID")
    ft.add_argument("--period", help="time period as the file writes it, e.g. 2022/23")
    ft.add_argument("--sex", help="Persons, Male or Female")
    ft.add_argument("--age", help="age group as the file writes it")
    ft.add_argument("--category", help="category as the file writes it")
    ft.add_argument("--icb", help="ICB whose PCNs get the indicator (default: the one with most practices in the file)")
    p.add_argument("--out", required=True, type=Path, help="folder for your_data_suppressed.csv, core20_gap.csv "
                                                           "and invalid_rows.csv (and fingertips_pcns.csv for a "
                                                           "Fingertips export; …_unsuppressed.csv under round1)")
    p.set_defaults(func=_yourdata)


def _read_bounded(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing (without reading on) a file larger than ``limit``, or anything but a file.

    A pipe, a device or a socket is refused before it is opened: opening a pipe whose writer stalls, or reading
    one, would wait for ever.
    """
    import errno
    import os
    import stat

    from targeting.intake import UploadError, read_bounded

    shown = plain(path, 300)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UploadError(f"{shown} is a loop of symbolic links, not a CSV file") from None
        raise UploadError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise UploadError(f"{shown} is a folder, not a CSV file")
    if not stat.S_ISREG(mode):
        raise UploadError(f"{shown} is not a regular file (a pipe, device or socket); save the CSV as a file first")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # never waits, were it swapped for a pipe
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise UploadError(f"{shown} is not a regular file (a pipe, device or socket); save the CSV as a "
                                  "file first")
            data = read_bounded(fh, limit)
    except OSError as exc:
        raise UploadError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UploadError(f"{shown}: larger than the {limit / 1e6:.0f} MB limit. Upload one row per LSOA or practice, "
                          "with only the code, numerator and denominator.")
    return data


def _warn_weak(rule) -> None:
    """A weak rule is allowed, but said out loud (and its files are named …_unsuppressed.csv)."""
    weak = rule.weakness()
    if weak:
        print(f"warning: this rule is not safe to publish ({weak}); the files are named …_unsuppressed.csv",
              file=sys.stderr)


def _yourdata(args: argparse.Namespace) -> int:
    from geo.atlas import load
    from targeting.publish import write_your_data
    from targeting.scope import make_scope
    from targeting.suppression import RULES
    from targeting.uploads import MAX_BYTES, read_upload
    from targeting.yourdata import your_data_tables

    data = _read_bounded(args.file, MAX_BYTES)
    _warn_weak(RULES[args.rule])
    atlas = load(progress=False, geometry=False)
    from targeting.fingertips import is_fingertips

    if is_fingertips(data):
        return _fingertips(args, data, atlas)
    upload = read_upload(data, atlas, filename=args.file.name, level=args.level)
    tables = your_data_tables(upload, make_scope(atlas, imd=args.imd), rule=RULES[args.rule])
    paths = write_your_data(tables, args.out)
    print(f"{len(upload.data):,} rows of {upload.geography} used, {len(upload.invalid):,} listed as invalid; "
          f"{tables.rule.describe()}.", file=sys.stderr)
    for path in paths:
        print(f"wrote {plain(path)}", file=sys.stderr)  # a folder name may hold control characters
    return 0


def _fingertips(args: argparse.Namespace, data: bytes, atlas) -> int:
    """A Fingertips export, read as the Your data page reads it.

    Writes the indicator for an ICB's PCNs and, with counts of a percentage, the Core20 comparison of its practices.
    """
    from targeting.fingertips import file_icbs, read_fingertips, select
    from targeting.publish import write_your_data
    from targeting.scope import make_scope
    from targeting.suppression import RULES
    from targeting.yourdata import fingertips_tables

    ind = select(read_fingertips(data, filename=args.file.name), indicator=args.indicator, period=args.period,
                 sex=args.sex, age=args.age, category=args.category)
    print(f"{args.file.name} is a Fingertips export: {ind.label}, {ind.period} ({ind.unit}); "
          f"{len(ind.practices):,} GP practice rows, {len(ind.pcns):,} PCN rows.", file=sys.stderr)
    for note in ind.notes:
        print(f"note: {note}", file=sys.stderr)
    icbs = file_icbs(ind, atlas)
    if icbs.empty:
        raise LookupError(atlas.month.relabel(f"{args.file.name}: none of the practices is in an English ICB of "
                                              "July 2022"))
    scope = make_scope(atlas, imd=args.imd, kind="icb", code=args.icb or str(icbs.index[0]))
    rule = RULES[args.rule]
    session = fingertips_tables(ind, scope, rule=rule)  # every table protected together
    if session.tables is None:
        print("no Core20 comparison: it needs a percentage with Count and Denominator for each practice",
              file=sys.stderr)
    for path in write_your_data(session.tables, args.out, fingertips=session.pcns, rule=rule):
        print(f"wrote {plain(path)}", file=sys.stderr)
    return 0
