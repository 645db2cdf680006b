"""Printable visit sheets rendered from ``templates/visit_sheets.html.j2`` with jinja2 (autoescape on)."""

from __future__ import annotations

import functools
from typing import Any

from targeting.render._files import static_text, template_text

__all__ = ["render_visit_sheets"]


@functools.cache
def _template() -> Any:
    import jinja2

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    return env.from_string(template_text("visit_sheets.html.j2"))


def render_visit_sheets(context: dict[str, Any]) -> str:
    """The visit sheets as one standalone HTML document.

    Parameters
    ----------
    context
        What :func:`targeting.visit_sheets.visit_sheets_html` prepares: ``title``, ``area``, ``s`` (plan
        settings), ``cover``, ``sources``, ``reminder``, ``connectors``, ``not_planned`` and ``scenario``. Every
        string is escaped by the template except ``map_svg`` (SVG built in Python with its text escaped).
    """
    return _template().render(css=static_text("visit_sheets.css"), **context) + "\n"
