"""One family of errors for a file a user gives: each names the file and, where it can, the field and the row.

:class:`IntakeError` is the family. :class:`UploadError` is one plain sentence that says how to fix the file (a
CSV of codes and counts that cannot be used at all). :class:`FileProblemsError` lists every problem found at once,
each a :class:`geo._errors.Problem` naming its field and rows; it is a :class:`geo._errors.ValidationError`, so
the command line and the app show it as they show a problem in an official file.
"""

from __future__ import annotations

from geo._errors import Problems, ValidationError

__all__ = ["FileProblemsError", "IntakeError", "UploadError", "raise_problems"]


class IntakeError(ValueError):
    """A file a user gave cannot be used; the message names the file and says what is wrong."""


class UploadError(IntakeError):
    """The file cannot be read at all (too big, not a CSV, columns missing); the message says how to fix it."""


class FileProblemsError(IntakeError, ValidationError):
    """Every problem found in a user's file, each naming its field and rows (one per line of the message)."""


def raise_problems(problems: Problems) -> None:
    """Raise :class:`FileProblemsError` for what ``problems`` collected, if anything."""
    if problems.items:
        raise FileProblemsError(problems.path, problems.items)
