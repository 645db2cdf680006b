"""The national map of the start page drawn: each ICB's share of residents living in Core20 neighbourhoods, as SVG.

The figures and the ICBs' polygons are :func:`targeting.national.icb_core20_shares`. Everything that came from
data (ICB names) is escaped by the template (autoescape on).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from targeting.render.palette import YLORRD_7

__all__ = ["BREAKS", "LABELS", "PALETTE", "legend_rows", "national_svg"]

#: Class breaks of the Core20 share, in % of residents. England is 20% by construction (deciles 1–2 of LSOAs,
#: close to 20% of people), so the classes are read against it.
BREAKS = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0)
#: ColorBrewer YlOrRd, seven classes (sequential, colour-blind safe), light = few residents in Core20.
PALETTE = YLORRD_7
LABELS = ("under 10%", "10–15%", "15–20%", "20–25%", "25–30%", "30–40%", "40% or more")


def _klass(pct: float) -> int:
    return int(np.searchsorted(BREAKS, pct, side="right"))


def _path(geom: Any, project: Any) -> str:
    """SVG path data of a (multi)polygon, every ring closed, coordinates to 0.1 px."""
    import shapely

    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            xy = [project(x, y) for x, y in shapely.get_coordinates(ring)]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + "Z")
    return "".join(parts)


def national_svg(shares: Any, *, width: int = 440, link: str = "compare?icb={code}") -> str:
    """The ICBs coloured by Core20 share as an inline ``<svg>``: each ICB a link (``link``) with a tooltip.

    Parameters
    ----------
    shares
        :class:`targeting.national.IcbShares`, from :func:`targeting.national.icb_core20_shares`.
    width
        Width in pixels; the height follows England's shape.
    link
        Where an ICB leads, ``{code}`` being its ONS code (``E54…``), relative to the app's address.
    """
    from targeting.render.sheets import _template

    t = shares.table
    x0, y0, x1, y1 = np.array([g.bounds for g in t["geometry"]]).T
    lon0, lat0, lon1, lat1 = x0.min(), y0.min(), x1.max(), y1.max()
    k = math.cos(math.radians((lat0 + lat1) / 2))  # equirectangular at England's mid-latitude
    scale = (width - 8) / ((lon1 - lon0) * k)
    height = math.ceil((lat1 - lat0) * scale) + 8

    def project(lon: float, lat: float) -> tuple[float, float]:
        return 4 + (lon - lon0) * k * scale, 4 + (lat1 - lat) * scale

    icbs = [{"d": _path(r.geometry, project), "fill": PALETTE[_klass(r.core20_pct)],
             "href": link.format(code=r.icb_code), "code": r.icb_code,
             "title": f"{r.icb_name}: {r.core20_pct:.1f}% of residents live in Core20 neighbourhoods "
                      f"({r.core20_lsoas:,} of {r.lsoas:,} LSOAs)"}
            for r in t.itertuples()]
    return _template("national_map.svg.j2").render(
        w=width, h=height, icbs=icbs,
        title=f"Share of residents living in Core20 neighbourhoods (IMD {shares.imd}), by ICB")


def legend_rows(shares: Any) -> list[tuple[str, str, int]]:
    """The legend: (colour, label, ICBs in the class) for each class, lightest first."""
    counts = np.bincount([_klass(p) for p in shares.table["core20_pct"]], minlength=len(PALETTE))
    return [(c, lab, int(n)) for c, lab, n in zip(PALETTE, LABELS, counts, strict=True)]
