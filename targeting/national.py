"""England's ICBs by the share of their residents living in Core20 neighbourhoods: the start page's figures.

ICB boundaries are the union of their LSOA 2021 polygons (the atlas's web geometry, EPSG:4326): an ICB of the
registration month is exactly the LSOAs the month's lookup gives it, so the map and its figures agree. The
polygons form a coverage, so :func:`shapely.coverage_union_all` dissolves each ICB in a fraction of a second and
``simplify_coverage`` thins the boundaries without opening gaps between neighbours. The drawing is
:mod:`targeting.render.national`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from targeting.scope import Scope

__all__ = ["IcbShares", "icb_core20_shares", "national_answer"]


@dataclass(frozen=True)
class IcbShares:
    """Each ICB's Core20 share (``table``) and the figures that describe it."""

    table: pd.DataFrame
    england_pct: float
    imd: int
    source: str


def icb_core20_shares(scope: Scope) -> IcbShares:
    r"""The share of each ICB's residents (Census 2021) who live in Core20 LSOAs, with the ICB's polygon.

    Parameters
    ----------
    scope
        The atlas of a registration month (its ``lsoa21`` with ``geometry_web`` and its ``icbs``) and the IMD
        edition whose national deciles 1–2 define Core20 (LSOA 2021 rows: IMD 2019 is carried).

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

    atlas, ed = scope.atlas, scope.edition
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
    return IcbShares(out, england, ed.year, source)



def national_answer(scope: Scope) -> dict[str, Any]:
    """The start page's map as JSON-ready values, stored at build by :mod:`targeting.precompute`.

    ``svg``, ``table`` (records, no geometry), ``legend``, ``england_pct``, ``imd`` and ``source``.
    """
    from targeting.render.national import legend_rows, national_svg

    s = icb_core20_shares(scope)
    return {"svg": national_svg(s), "table": s.table.drop(columns="geometry").to_dict("records"),
            "legend": legend_rows(s), "england_pct": s.england_pct, "imd": s.imd, "source": s.source}
