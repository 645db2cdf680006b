"""Printable visit sheets and their SVG maps, rendered from ``templates/`` with jinja2 (autoescape on).

:mod:`targeting.render.visit_sheets` prepares what goes on each page (rows, formatted numbers, map geometry as numbers);
this module only turns it into markup. Every string is escaped by the templates; the one value marked safe inside
a sheet is a map (``map_svg``), itself rendered here from an autoescaping template.
"""

from __future__ import annotations

import functools
from typing import Any

from targeting.render._files import static_text, template_text

__all__ = ["render_lsoa_map", "render_round_map", "render_visit_sheets"]


@functools.cache
def _template(name: str) -> Any:
    import jinja2

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=False, undefined=jinja2.StrictUndefined)
    return env.from_string(template_text(name))


def _render(name: str, context: dict[str, Any]) -> str:
    # A plain str, not markupsafe.Markup: callers may concatenate or .replace() it without escaping surprises.
    return str(_template(name).render(**context))


def render_visit_sheets(context: dict[str, Any]) -> str:
    """The visit sheets as one standalone HTML document.

    Parameters
    ----------
    context
        What :func:`targeting.render.visit_sheets.visit_sheets_html` prepares: ``title``, ``area``, ``reminder``,
        ``warnings``, ``cover``, ``hc``, ``sources``, ``pages`` (each with ``map_svg`` from
        :func:`render_round_map`), ``not_planned`` and ``scenario``.

    Returns
    -------
    str
        The HTML document, ending with a newline.
    """
    return _render("visit_sheets.html.j2", {"css": static_text("visit_sheets.css"), **context}) + "\n"


def render_lsoa_map(context: dict[str, Any]) -> str:
    """An ``<svg>`` map of LSOAs drawn from ``templates/lsoa_map.svg.j2``.

    Parameters
    ----------
    context
        What :func:`targeting.render.visit_sheets.svg_map` prepares: sizes ``w``, ``h``, ``vw``, ``vh``, ``title``,
        ``context_paths``, ``paths`` (``d``, ``fill``), ``labels`` (``x``, ``y``, ``text``) and ``bar``.

    Returns
    -------
    str
        The SVG element; :func:`render_visit_sheets` places it as it is (its text is already escaped).
    """
    return _render("lsoa_map.svg.j2", context)


def render_round_map(context: dict[str, Any]) -> str:
    """An ``<svg>`` map of one round drawn from ``templates/round_map.svg.j2``.

    Parameters
    ----------
    context
        What :func:`targeting.render.visit_sheets.round_map_svg` prepares: sizes, ``title``, ``tiles``, ``outlines``,
        ``route``, ``markers``, ``bar`` and ``north``.

    Returns
    -------
    str
        The SVG element, its text escaped.
    """
    return _render("round_map.svg.j2", context)
