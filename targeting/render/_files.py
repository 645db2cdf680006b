"""Read the package's own templates and static files (package data) with :mod:`importlib.resources`."""

from __future__ import annotations

import functools
from importlib import resources

__all__ = ["static_text", "template_text"]


@functools.cache
def _text(folder: str, name: str) -> str:
    return resources.files("targeting.render").joinpath(folder, name).read_text(encoding="utf-8")


@functools.cache
def static_text(name: str) -> str:
    """The text of ``targeting/render/static/<name>`` (JavaScript or CSS), its colours filled in.

    The files name their colours ``@c20-<name>@``; :func:`targeting.render.palette.fill` puts in the values.
    """
    from targeting.render.palette import fill

    return fill(_text("static", name))


def template_text(name: str) -> str:
    """The text of ``targeting/render/templates/<name>``."""
    return _text("templates", name)
