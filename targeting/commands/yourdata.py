"""``yourdata``: the Your data page as a command — an upload's suppressed tables written to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``yourdata`` command."""
    p = sub.add_parser("yourdata", help="a CSV of numerators and denominators by LSOA or practice: Core20 against "
                                        "the rest, suppressed, as the Your data page downloads it")
    p.add_argument("--file", required=True, type=Path, help="CSV with a code, a numerator and a denominator column")
    p.add_argument("--level", choices=["lsoa", "practice"], help="rows are LSOAs or GP practices (default: detected)")
    p.add_argument("--imd", type=int, choices=[2019, 2025], default=2025, help="IMD edition of Core20 (default 2025)")
    p.add_argument("--rule", choices=["nhsd", "round1"], default="nhsd",
                   help="small-number rule: nhsd = 1–7 withheld, others rounded to 5 (default); round1 = 1–7 "
                        "withheld, others exact")
    p.add_argument("--out", required=True, type=Path, help="folder for your_data_suppressed.csv, core20_gap.csv "
                                                           "and invalid_rows.csv")
    p.set_defaults(func=_yourdata)


def _read_bounded(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing (without reading on) a file or stream larger than ``limit``."""
    from targeting.uploads import UploadError

    if path.is_dir():
        raise UploadError(f"{path} is a folder, not a CSV file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise UploadError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UploadError(f"{path}: larger than the {limit / 1e6:.0f} MB limit. Upload one row per LSOA or practice, "
                          "with only the code, numerator and denominator.")
    return data


def _yourdata(args: argparse.Namespace) -> int:
    from geo.atlas import load
    from targeting.suppression import RULES
    from targeting.uploads import MAX_BYTES, read_upload
    from targeting.yourdata import write_your_data, your_data_tables

    data = _read_bounded(args.file, MAX_BYTES)
    atlas = load(progress=False, geometry=False)
    upload = read_upload(data, atlas, filename=args.file.name, level=args.level)
    tables = your_data_tables(upload, atlas, imd=args.imd, rule=RULES[args.rule])
    paths = write_your_data(tables, args.out)
    print(f"{len(upload.data):,} rows of {upload.geography} used, {len(upload.invalid):,} listed as invalid; "
          f"{tables.rule.describe()}.", file=sys.stderr)
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    return 0
