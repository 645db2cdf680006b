"""``fetch``, ``build`` and ``lsoas``: getting the data, building the atlas and listing an ICB's LSOAs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from targeting.publish import write_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the data commands."""
    p = sub.add_parser("fetch", help="download the official files into data/raw/ (or ingest a folder)")
    p.add_argument("keys", nargs="*", help="catalogue keys to fetch (default: all); with --latest, resolvers "
                   "(gp_registrations, qof, ods; default: all)")
    p.add_argument("--from", dest="from_dir", type=Path, help="ingest an already-downloaded folder instead")
    p.add_argument("--latest", action="store_true",
                   help="find the newest edition on each publisher's own page (registration month, QOF year, ODS "
                        "reports) and download it, with the same checks")
    p.add_argument("--dest", type=Path, help="target folder (default data/raw/)")
    p.add_argument("--force", action="store_true", help="download again even if unchanged")
    p.add_argument("--allow-shrink", action="store_true",
                   help="take a file with fewer rows than the one it replaces (a re-issue that removed rows; a "
                        "catalogued edition must still have exactly its rows)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a stalled download fails")
    p.add_argument("--deadline", type=float, default=1800.0,
                   help="seconds allowed for each file in all, retries included (default 1800)")
    p.set_defaults(func=_fetch)

    b = sub.add_parser("build", help="build the national atlas cache (only if an input changed)")
    b.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_build)

    sources = sub.add_parser("sources", help="list the catalogued sources and where each was found")
    sources.add_argument("--markdown", action="store_true", help="print the catalogue as a Markdown table")
    sources.add_argument("--check", action="store_true",
                         help="ask each publisher what is newer than what the atlas was built from")
    sources.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for a publisher (--check)")
    sources.set_defaults(func=_sources)

    ls = sub.add_parser("lsoas", help="one row per LSOA of an ICB")
    ls.add_argument("--icb", required=True, help="ONS code (E54…), NHS code (Q…) or name")
    ls.add_argument("--imd", type=int, choices=[2019, 2025], default=2025,
                    help="IMD edition: 2019 lists LSOA 2011, 2025 lists LSOA 2021 (default)")
    ls.add_argument("--format", choices=["csv", "geojson"], default="csv")
    ls.set_defaults(func=_lsoas)


def _seconds(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name)
        if not 0 < value <= 86_400:  # NaN fails too
            raise ValueError(f"--{name} must be a number of seconds above 0 and at most 86400, not {value}")


def _fetch(args: argparse.Namespace) -> int:
    from geo.fetch import fetch, fetch_latest, format_results, ingest

    if args.latest and args.from_dir:
        raise ValueError("--latest reads the publishers' pages; --from ingests a folder: give one of them")
    if args.from_dir:
        results = ingest(args.from_dir, dest=args.dest, keys=args.keys or None)
    elif args.latest:
        _seconds(args, "timeout", "deadline")
        results = fetch_latest(args.keys or None, dest=args.dest, force=args.force, timeout=args.timeout,
                               deadline=args.deadline, allow_shrink=args.allow_shrink)
        print(format_results(results), file=sys.stderr)
        return 0 if all(r.ok for r in results) else 1
    else:
        _seconds(args, "timeout", "deadline")
        results = fetch(args.keys or None, dest=args.dest, force=args.force, timeout=args.timeout,
                        deadline=args.deadline, allow_shrink=args.allow_shrink)
    from geo.sources import SOURCES

    print(format_results(results), file=sys.stderr)
    # optional sources without a direct link (or absent) do not fail the run; a required one does
    return 0 if all(r.ok or not SOURCES[r.key].required for r in results) else 1


def _build(args: argparse.Namespace) -> int:
    from geo.atlas import build
    from targeting.precompute import answers_damage, build_answers, open_answers

    build(force=args.force, progress=not args.quiet)
    # geo/ knows nothing of targeting/: the answers every question needs are precomputed here, after the atlas
    damaged = answers_damage()
    if damaged:
        print(f"Precomputed answers damaged, making them again: {', '.join(damaged[:5])}", file=sys.stderr)
    if args.force or damaged or open_answers() is None:
        build_answers(progress=not args.quiet)
    return 0


def _sources(args: argparse.Namespace) -> int:
    from geo.paths import MissingDataError, find
    from geo.sources import SOURCES, catalogue_markdown

    if args.markdown:
        print(catalogue_markdown(), end="")
        return 0
    if args.check:
        from geo.fetch import check_latest

        _seconds(args, "timeout")
        for line in check_latest(timeout=args.timeout):
            print(line)
        return 0

    for key, src in SOURCES.items():
        try:
            where = str(find(key))
        except MissingDataError:
            where = "MISSING" + (" (required)" if src.required else " (optional)")
        print(f"{key:18} {src.publisher} · {src.edition} · {src.geography}\n{'':18} {where}")
    _months()
    return 0


def _months() -> None:
    """List the registration months found in the data folders and the files each has."""
    from geo.months import base_month, default_month, discover, usable_months

    found = discover()
    usable = usable_months(found)
    try:
        default = default_month(usable)
    except ValueError as exc:  # a CORE20_REGISTRATIONS that is not YYYY-MM
        default, note = usable[-1], f" ({exc})"
    else:
        note = ""
    print(f"\nRegistration months found (--registrations YYYY-MM; default {default}{note}):")
    base = base_month()
    for month in sorted(set(found) | set(usable)):
        files = found.get(month)
        if month in usable:
            what = "usable"
        elif files is not None and files.lsoa is not None and files.map is None:
            what = "LSOA-level file only (where patients live, for the months after it)"
        else:
            what = "not usable (needs a practice map and list sizes)"
        tags = [what] + (["base month: the LSOA-level registrations of the catalogue"] if month == base else [])
        print(f"{month:18} {'; '.join(tags)}")
        for kind in ("map", "quin_age", "lsoa"):
            path = getattr(files, kind, None) if files is not None else None
            if path is not None:
                print(f"{'':18} {kind:9} {path}")


def _lsoas(args: argparse.Namespace) -> int:
    from geo.atlas import load
    from targeting.lsoas import lsoa_table
    from targeting.scope import make_scope

    atlas = load(geometry=args.format == "geojson")
    table = lsoa_table(make_scope(atlas, imd=args.imd, kind="icb", code=args.icb),
                       geometry=args.format == "geojson")
    write_table(table, args.format)
    return 0
