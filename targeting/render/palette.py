"""Every colour and fill pattern the maps draw, written once.

The layers' palettes are read by :mod:`targeting.maps` (the domain picks a palette per layer); the line,
highlight and panel colours and the legend's pattern swatches are put into ``static/map.js`` and
``static/map.css`` where they say ``@c20-<name>@`` (:func:`fill`, applied by :func:`targeting.render._files.
static_text`), so the stylesheet, the script and the Python legend use the same values.
"""

from __future__ import annotations

import re

__all__ = ["CHANGE_4", "CORE20", "FLAG_OFF", "FLAG_ON", "NO_DATA", "OKABE_ITO", "PATTERN_CSS", "PLAN_STATUS", "PUOR_5",
           "SHEET_CONNECTORS", "TOKENS", "VIRIDIS_10", "WAITING", "YLGNBU_5", "YLORRD_7", "fill"]

#: Colour-blind-safe palettes. Viridis for the ten IMD deciles (dark = most deprived), ColorBrewer YlGnBu for
#: sequential classes, ColorBrewer PuOr for values either side of zero, Okabe-Ito for categories.
VIRIDIS_10 = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
              "#fde725")
YLGNBU_5 = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
PUOR_5 = ("#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99")
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
NO_DATA = "#d9d9d9"
#: ColorBrewer YlOrRd, seven classes: the start page's ICBs by Core20 share (light = few residents in Core20).
YLORRD_7 = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")

#: Yes/no layers: pale grey where false, Okabe-Ito vermilion where true unless a layer says otherwise.
FLAG_OFF, FLAG_ON = "#f2f2f2", "#d55e00"
#: Core20 (and the "stayed in" class of the change layer): the dark blue-purple of Viridis.
CORE20 = "#3e4989"
#: Core20 change 2019 → 2025: entered (vermilion, striped), left (blue, dotted), stayed in, stayed out.
CHANGE_4 = ("#D55E00", "#0072B2", CORE20, FLAG_OFF)
#: An outreach plan: a target waiting for capacity; the plan statuses (planned, part planned, waiting, visited,
#: not a target).
WAITING = "#fdd0a2"
PLAN_STATUS = ("#009E73", "#56B4E9", "#E69F00", "#CC79A7", FLAG_OFF)
#: The visit sheets' connectors (Okabe-Ito, yellow moved up, grey last).
SHEET_CONNECTORS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"]

_INK, _PAPER, _FADED = "#000", "#fff", "#9a9a9a"

#: Fill patterns drawn over a class's colour, so a class reads without colour vision (SVG in the map, CSS in
#: the legend): diagonal stripes and dots.
PATTERN_CSS = {
    "stripes": "repeating-linear-gradient(45deg,{c} 0 3px," + _PAPER + " 3px 4.5px)",
    "dots": "radial-gradient(circle," + _PAPER + " 1.2px,transparent 1.6px) 0 0/5px 5px,{c}",
}

#: The names ``static/map.js`` and ``static/map.css`` use.
TOKENS: dict[str, str] = {
    "ink": _INK,  # outlines, the Core20 line, a hovered LSOA
    "paper": _PAPER,  # panels, pattern gaps
    "edge": "#4d4d4d",  # LSOA borders
    "faded-edge": _FADED,  # borders of LSOAs outside a chosen class
    "selected": "#6a0d5f",  # the chosen PCN's footprint and practice
    "footprint": "#a8527f",  # other PCNs' indicative footprints
    "text": "#0b0c0c",  # GOV.UK text
    "secondary-text": "#333",  # units, the picked class
    "muted-text": "#555",  # notes and sources (7.5:1 on white)
    "swatch-edge": "#888",  # the edge of a legend swatch
    "border": "#767676",  # buttons
    "pressed": "#fff3b0",  # a chosen legend class
    "focus": "#ffdd00",  # GOV.UK focus
}

_TOKEN = re.compile(r"@c20-([a-z-]+)@")


def fill(text: str) -> str:
    """``text`` with every ``@c20-<name>@`` replaced by its value in :data:`TOKENS`.

    Raises
    ------
    KeyError
        For a name :data:`TOKENS` does not hold.
    """
    return _TOKEN.sub(lambda m: TOKENS[m.group(1)], text)
