"""A choropleth layer as the map draws it: the type the domain's layers are made of (:mod:`targeting.maps`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MapLayer", "fmt_value"]


@dataclass(frozen=True)
class MapLayer:
    """One choropleth layer: a value and a colour class per LSOA, with the legend that explains them.

    Attributes
    ----------
    key, label, group
        Identifier, name shown in the layer menu, and the menu group it sits in.
    values
        One value per LSOA, in the order of the LSOA frame (NaN = no data).
    classes
        Colour class per LSOA (index into ``palette``; -1 = no data).
    palette, class_labels
        Colour and legend text of each class.
    units, source, vintage
        Shown in the legend and tooltip: what the value measures, who published it and when.
    decimals
        Decimal places of the value in tooltips.
    note
        A caveat shown under the legend (e.g. how ethnicity was recorded).
    extra
        Hints for the page: ``{"flag": True}`` means each value is a class index, shown by its class label.
    """

    key: str
    label: str
    group: str
    values: np.ndarray
    classes: np.ndarray
    palette: tuple[str, ...]
    class_labels: tuple[str, ...]
    units: str
    source: str
    vintage: str
    decimals: int = 1
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def fmt_value(v: float, decimals: int) -> str:
    """A value as the legend and tooltips print it: thousands separated, ``decimals`` places."""
    return f"{v:,.{decimals}f}"
