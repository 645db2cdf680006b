"""Errors raised when an input file does not have the shape its publisher documents."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Problem", "Problems", "ValidationError", "plain"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def plain(text: object, limit: int | None = None, *, newlines: bool = False) -> str:
    r"""Text safe to echo to a terminal or a page: control characters shown as escapes, optionally shortened.

    Parameters
    ----------
    text : object
        Anything; ``str(text)`` is used.
    limit : int, optional
        Longest result; longer text is cut and ends with ``…``.
    newlines : bool, default False
        Keep line breaks (``\n``) as they are (for multi-line messages).

    Returns
    -------
    str
        ``ESC`` becomes ``\x1b``, a carriage return ``\r`` and so on, so ANSI escapes and bidi overrides in a
        user's code cannot recolour, move or rewrite what the terminal shows.
    """
    s = str(text)
    if limit is not None and len(s) > limit:
        s = s[: max(limit - 1, 0)] + "…"
    s = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s)
    if not newlines:
        s = s.replace("\n", "\\n")
    return s


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: which column, which rows (1-based data rows) and what."""

    column: str
    message: str
    rows: tuple[int, ...] = ()
    examples: tuple[str, ...] = ()

    def render(self) -> str:
        """Return the problem as one line of text."""
        text = self.message if self.column == "(file)" else f"column '{self.column}': {self.message}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" and {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
            text += f" (rows {shown}{more})"
        if self.examples:
            text += " e.g. " + ", ".join(repr(e)[:60] for e in self.examples[:3])
        return text


class ValidationError(ValueError):
    """A file failed its checks. Lists every problem at once so the user can fix it in one pass."""

    def __init__(self, path: str | Path, problems: list[Problem]):
        self.path = str(path)
        self.problems = list(problems)
        lines = [f"{Path(path).name}: {len(problems)} problem(s) in {path}"]
        lines += [f"  - {p.render()}" for p in problems]
        super().__init__("\n".join(lines))


@dataclass
class Problems:
    """Collect problems while checking a file, then raise them together."""

    path: str | Path
    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        column: str,
        message: str,
        rows: list[int] | tuple[int, ...] = (),
        examples: list[str] | tuple[str, ...] = (),
    ) -> None:
        """Record one problem."""
        self.items.append(Problem(column, message, tuple(int(r) for r in rows), tuple(map(str, examples))))

    def raise_if_any(self) -> None:
        """Raise :class:`ValidationError` if anything was recorded."""
        if self.items:
            raise ValidationError(self.path, self.items)
