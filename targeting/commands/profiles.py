"""``pcns``, ``practices`` and ``compare``: registration-weighted profiles and fair comparison, as CSV on stdout."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from targeting.publish import profile_source, profiles_csv, suppress_comparison, write_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the profile commands."""
    p = sub.add_parser("pcns", help="one row per PCN of an ICB: Core20, PLUS, deprivation, ethnic mix, gaps")
    p.add_argument("--icb", required=True, help="ONS code (E54…), NHS code (Q…) or name")
    _common(p)
    p.set_defaults(func=_pcns)

    pr = sub.add_parser("practices", help="one row per GP practice of a PCN or an ICB")
    who = pr.add_mutually_exclusive_group(required=True)
    who.add_argument("--pcn", help="PCN code (e.g. U67660) or a unique part of its name")
    who.add_argument("--icb", help="ONS code (E54…), NHS code (Q…) or name")
    _common(pr)
    pr.set_defaults(func=_practices)

    c = sub.add_parser("compare", help="an ICB's PCNs side by side on one measure, with CIs, funnel limits and SII")
    c.add_argument("--icb", required=True, help="ONS code (E54…), NHS code (Q…) or name")
    c.add_argument("--metric", default="hyp_ratio",  # targeting.compare.DEFAULT_METRIC, not imported: a cold start
                   help="adjusted first: hyp_ratio (default; hypertension recorded ÷ expected, age-adjusted), "
                        "mh_ratio, dm_ratio, ast_ratio, copd_ratio, ld_ratio, … (<register>_ratio); qof_<GROUP> for "
                        "crude recorded prevalence (e.g. qof_HYP); core20_pct, plus_pct, pct_minority, "
                        "weighted_imd_score, core20_change_pp")
    c.add_argument("--imd", type=int, choices=[2019, 2025], default=2025, help="IMD edition (default 2025)")
    c.add_argument("--qof-year", help="QOF year for qof_* metrics, e.g. 2020-21 (default the latest)")
    c.add_argument("--plus-lsoas", metavar="CSV", help="PLUS = the LSOAs listed in this CSV (instead of the default)")
    c.add_argument("--funnel", choices=["overdispersed", "binomial"], default="overdispersed",
                   help="funnel limits widened for over-dispersion (Spiegelhalter 2005; default) or plain binomial "
                        "(Poisson for recorded ÷ expected)")
    c.set_defaults(func=_compare)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--imd", type=int, choices=[2019, 2025], default=2025,
                   help="IMD edition: 2019 on LSOA 2011 registrations, 2025 on LSOA 2021 (default)")
    p.add_argument("--plus-lsoas", metavar="CSV", help="PLUS = the LSOAs listed in this CSV (instead of the default)")
    p.add_argument("--no-gaps", action="store_true", help="leave out the gap columns (faster)")


def _atlas():
    """The atlas without geometry: the profile commands draw nothing, and decoding polygons is most of a cold start."""
    from geo.atlas import load

    return load(progress=False, geometry=False)


def _plus_rules(path: str | None, atlas):
    """PLUS rules from a user's LSOA list; problems go to stderr, bad files stop with a clear message."""
    if not path:
        return None
    from targeting.plus import LsoaListRule, read_lsoa_list

    codes, problems = read_lsoa_list(path, atlas)
    if not codes:
        from geo._errors import ValidationError

        raise ValidationError(path, problems)
    from geo._errors import plain

    for pr in problems:  # the codes come from the user's file: control characters are neutralised
        print(f"warning: {plain(path, 200)}: {plain(pr.render(), 500)}", file=sys.stderr)
    return (LsoaListRule.across_vintages(codes, atlas.lsoa_bridge, label=f"on the list {path}"),)


def _pcns(args: argparse.Namespace) -> int:
    if not args.plus_lsoas and not args.no_gaps:
        # the default table of an ICB given by its code was printed once at build: print it again
        from targeting.precompute import open_answers

        answers = open_answers()
        nhs = answers.icb_of(args.icb) if answers else None
        text = answers.pcns_csv(nhs, args.imd) if nhs else None
        if text is not None:
            sys.stdout.write(text)
            return 0
    return _profiles(args, "pcns", code=args.icb)


def _practices(args: argparse.Namespace) -> int:
    # "" is an error, not all of England
    return _profiles(args, "practices", kind="pcn" if args.pcn is not None else "icb",
                     code=args.pcn if args.pcn is not None else args.icb)


def _profiles(args: argparse.Namespace, table_kind: str, *, kind: str = "icb", code: str | None = None) -> int:
    """Print the profiles with the gap columns, suppressing what came from the user's list.

    With the default settings they are read from the answers precomputed at build.
    """
    from targeting.precompute import finished_profiles, open_answers
    from targeting.scope import make_scope

    atlas = _atlas()
    scope = make_scope(atlas, imd=args.imd, kind=kind, code=code)
    rules = _plus_rules(args.plus_lsoas, atlas)
    scope = scope if rules is None else dataclasses.replace(scope, plus_rules=rules)
    table = None
    if rules is None and not args.no_gaps:
        answers = open_answers(build_if_missing=True)
        table = answers.profiles(table_kind, scope) if answers else None
    if table is None:
        table = finished_profiles(scope, table_kind, gaps=not args.no_gaps)
    sys.stdout.write(profiles_csv(table, scope.edition, rules, month=atlas.month))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from targeting.compare import compare_pcns
    from targeting.scope import make_scope

    atlas = _atlas()
    rules = _plus_rules(args.plus_lsoas, atlas)
    scope = make_scope(atlas, imd=args.imd, kind="icb", code=args.icb, plus_rules=rules)
    table, summary = compare_pcns(scope, metric=args.metric, qof_year=args.qof_year, funnel=args.funnel)
    s = summary.get("sii") or {}
    for k in ("sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"):
        table[f"icb_{k}"] = None if s.get("note") else s.get(k)  # withheld where the SII is circular
    table["sii_quantiles"] = s.get("quantiles", "")
    table.insert(int(table.columns.get_loc("metric")) + 1, "measure", summary["label"])  # says "crude" where it is
    table["order"] = summary["order"]
    qof = args.metric.lower().startswith("qof_") or summary.get("unit") == "ratio"
    plus = "" if qof else f"; PLUS = {profile_source(scope.edition, rules).split('PLUS = ')[1]}"
    table["source"] = summary["source"] + plus
    if rules is not None and args.metric == "plus_pct":
        table = suppress_comparison(table)
    print(f"Measure: {summary['label']}", file=sys.stderr)
    if summary.get("adjustment"):
        print(f"note: {summary['adjustment']}", file=sys.stderr)
    if args.funnel == "overdispersed":
        print(f"Funnel: {summary['funnel_method']}", file=sys.stderr)
    if s.get("sii") is not None and not s.get("note"):
        units = "(ratio units)" if summary.get("unit") == "ratio" else "percentage points"
        print(f"{summary['label']} in {summary['icb_name']}: SII {s['sii']:.2f} (95% CI {s['sii_lower']:.2f} to "
              f"{s['sii_upper']:.2f}) {units} across practice IMD {s.get('quantiles', 'deciles')} "
              f"(positive = higher in less deprived practices); RII {s['rii']:.3f}", file=sys.stderr)
    else:
        print(f"SII: {summary.get('sii_note') or (summary.get('sii') or {}).get('note', 'not computed')}",
              file=sys.stderr)
    write_table(table)
    return 0
