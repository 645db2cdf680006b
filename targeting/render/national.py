"""The national map of the start page: each ICB's share of residents living in Core20 neighbourhoods, as an SVG.

ICB boundaries are the union of their LSOA 2021 polygons (the atlas's web geometry, EPSG:4326): an ICB of the
registration month is exactly the LSOAs the month's lookup gives it, so the map and its figures agree. The
polygons form a coverage, so :func:`shapely.coverage_union_all` dissolves each ICB in a fraction of a second and
``simplify_coverage`` thins the boundaries without opening gaps between neighbours.

Everything that came from data (ICB names) is escaped by the template (autoescape on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BREAKS", "PALETTE", "IcbShares", "icb_core20_shares", "legend_rows", "national_answer", "national_svg"]

#: Class breaks of the Core20 share, in % of residents. England is 20% by construction (deciles 1–2 of LSOAs,
#: close to 20% of people), so the classes are read against it.
BREAKS = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0)
#: ColorBrewer YlOrRd, seven classes (sequential, colour-blind safe), light = few residents in Core20.
PALETTE = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
LABELS = ("under 10%", "10–15%", "15–20%", "20–25%", "25–30%", "30–40%", "40% or more")


@dataclass(frozen=True)
class IcbShares:
    """Each ICB's Core20 share (``table``) and the figures that describe it."""

    table: pd.DataFrame
    england_pct: float
    imd: int
    source: str


def icb_core20_shares(atlas: Any, *, imd: int = 2025) -> IcbShares:
    r"""The share of each ICB's residents (Census 2021) who live in Core20 LSOAs, with the ICB's polygon.

    Parameters
    ----------
    atlas
        The loaded atlas of a registration month (its ``lsoa21`` with ``geometry_web`` and its ``icbs``).
    imd
        The IMD edition whose national deciles 1–2 define Core20 (LSOA 2021 rows: IMD 2019 is carried).

    Returns
    -------
    IcbShares
        ``table``: one row per ICB of the month, ``icb_code``, ``icb_code_nhs``, ``icb_name``, ``lsoas``,
        ``core20_lsoas``, ``residents``, ``core20_residents``, ``core20_pct`` (one decimal) and ``geometry``
        (shapely, EPSG:4326), largest share first; ``england_pct`` over every LSOA of England.

    Notes
    -----
    Residents are a count, so an ICB's share is :math:`\sum_{core20} r_i / \sum r_i` over its LSOAs, never a
    mean of LSOA shares.
    """
    import shapely

    from geo.editions import Edition

    ed = Edition.of(imd)
    t = atlas.lsoa21
    core = t[ed.core20].fillna(False).astype(bool).to_numpy()
    res = t["residents"].fillna(0).to_numpy(dtype=float)
    df = pd.DataFrame({"icb_code": t["icb_code"].to_numpy(), "core": core, "res": res,
                       "core_res": np.where(core, res, 0.0)})
    g = df.groupby("icb_code", sort=False).agg(lsoas=("core", "size"), core20_lsoas=("core", "sum"),
                                                 residents=("res", "sum"), core20_residents=("core_res", "sum"))
    geom = t.set_geometry("geometry_web").geometry
    shapes = {code: shapely.coverage_union_all(geom.to_numpy()[idx])
              for code, idx in t.groupby("icb_code", sort=False).indices.items()}
    # the ICBs the LSOAs carry (the month's; for July 2022 the April 2024 LSOA 2021 lookup's), none dropped
    icbs = pd.DataFrame(t[["icb_code", "icb_code_nhs", "icb_name"]]).drop_duplicates("icb_code")
    out = icbs.merge(g, left_on="icb_code", right_index=True, how="inner")
    for c in ("lsoas", "core20_lsoas", "residents", "core20_residents"):
        out[c] = out[c].astype(int)
    out["core20_pct"] = (100 * out["core20_residents"] / out["residents"]).round(1)
    import geopandas as gpd

    gs = gpd.GeoSeries([shapes[c] for c in out["icb_code"]], crs=4326)
    gs = gs.simplify_coverage(0.01) if hasattr(gs, "simplify_coverage") else gs.simplify(0.01)
    out["geometry"] = list(gs.to_numpy())
    out = out.sort_values(["core20_pct", "icb_code"], ascending=[False, True]).reset_index(drop=True)
    england = round(100 * float(df["core_res"].sum()) / float(df["res"].sum()), 1)
    source = (f"{ed.source} (national deciles 1–2); Census 2021 usual residents (ONS); ICB boundaries: the LSOA 2021 "
              f"polygons of each ICB (ONS LSOA December 2021 BSC; ICBs of {atlas.month.title})")
    return IcbShares(out, england, imd, source)


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


def national_svg(shares: IcbShares, *, width: int = 440, link: str = "compare?icb={code}") -> str:
    """The ICBs coloured by Core20 share as an inline ``<svg>``: each ICB a link (``link``) with a tooltip.

    Parameters
    ----------
    shares
        From :func:`icb_core20_shares`.
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


def legend_rows(shares: IcbShares) -> list[tuple[str, str, int]]:
    """The legend: (colour, label, ICBs in the class) for each class, lightest first."""
    counts = np.bincount([_klass(p) for p in shares.table["core20_pct"]], minlength=len(PALETTE))
    return [(c, lab, int(n)) for c, lab, n in zip(PALETTE, LABELS, counts, strict=True)]


def national_answer(atlas: Any, *, imd: int = 2025) -> dict[str, Any]:
    """The start page's map as JSON-ready values, stored at build by :mod:`targeting.precompute`.

    ``svg``, ``table`` (records, no geometry), ``legend``, ``england_pct``, ``imd`` and ``source``.
    """
    s = icb_core20_shares(atlas, imd=imd)
    return {"svg": national_svg(s), "table": s.table.drop(columns="geometry").to_dict("records"),
            "legend": legend_rows(s), "england_pct": s.england_pct, "imd": s.imd, "source": s.source}
