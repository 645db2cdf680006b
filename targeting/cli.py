"""The command line: ``python -m targeting <command>``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

#: Modules under ``targeting.commands`` that add sub-commands, in help order.
COMMAND_MODULES = ["data", "outreach", "profiles", "change", "clinical", "maps", "yourdata"]

#: Options that name one area; each must name something when given.
_AREA_OPTIONS = ("icb", "pcn", "practice")
#: Commands about the data rather than an area: they take no registration month.
_NO_MONTH = ("fetch", "sources", "build")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="core20" if Path(sys.argv[0]).name == "core20" else "python -m targeting",  # the console script
        description="Core20PLUS targeting for England's NHS: deprivation, ethnicity and GP registrations by LSOA, "
        "PCN profiles and gaps, and outreach plans.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name in COMMAND_MODULES:
        importlib.import_module(f"targeting.commands.{name}").register(sub)
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.dest == "out":  # an empty --out would be the current folder ("" is Path("."))
                action.type = _given(action.type)
        if name not in _NO_MONTH:
            command.add_argument(
                "--registrations", metavar="YYYY-MM",
                help="registration month: its practices, PCNs, ICBs and list sizes (default: the newest month "
                     "found, or $CORE20_REGISTRATIONS; `sources` lists the months)")
    return parser


class _Empty(str):
    """An option given as empty text (``--out ""``), refused after parsing in one line."""


def _given(convert):
    """``convert`` (``Path``, or None for text) of the option's text; empty text becomes :class:`_Empty`."""
    def given(text: str):
        if not text.strip():
            return _Empty(text)
        return convert(text) if convert is not None else text
    return given


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code; errors are printed as one clear message."""
    from geo.months import select

    try:
        return _main(argv)
    finally:
        select(None)  # the month chosen for one command does not outlive it (the tests run commands in-process)


def _main(argv: Sequence[str] | None) -> int:
    from geo._errors import ValidationError, plain
    from geo.paths import MissingDataError

    parser = _parser()
    args = parser.parse_args(argv)
    for name in _AREA_OPTIONS:  # an empty area would otherwise mean "no filter": all of England
        value = getattr(args, name, None)
        if value is not None and not str(value).strip():
            parser.error(f"argument --{name}: it is empty; give a code or part of a name")
    if isinstance(getattr(args, "out", None), _Empty):  # else it would write into the current folder
        print("error: argument --out: it is empty; give the folder (or file) to write", file=sys.stderr)
        return 2
    from geo.months import parse_month, select

    month = getattr(args, "registrations", None)
    try:
        select(parse_month(month) if month is not None else None)
    except ValueError as exc:
        command = parser._subparsers._group_actions[0].choices[args.command]  # its own usage line
        command.error(f"argument --registrations: {plain(exc.args[0], 200)}")
    # messages may echo what a user typed or a file holds: control characters (ANSI escapes) are neutralised
    try:
        return int(args.func(args) or 0)
    except (MissingDataError, ValidationError) as exc:
        print(f"error: {plain(exc, newlines=True)}", file=sys.stderr)
        return 2
    except (LookupError, ValueError) as exc:
        print(f"error: {plain(exc.args[0] if exc.args else exc, 2000, newlines=True)}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output folder that is a file, read-only, or a full disk
        text = f"{exc.filename}: {exc.strerror}" if exc.strerror and exc.filename else (exc.strerror or str(exc))
        print(f"error: {plain(text, 2000)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
