"""Errors raised when an input file does not have the shape its publisher documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Problem", "Problems", "ValidationError"]


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
