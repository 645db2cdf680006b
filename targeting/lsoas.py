"""The per-LSOA table of an ICB that ``python -m targeting lsoas`` prints."""

from __future__ import annotations

import pandas as pd

from geo.atlas import Atlas
from targeting.areas import lsoas_in, resolve_icb

__all__ = ["LSOA_COLUMNS", "lsoa_table"]

LSOA_COLUMNS = ["lsoa_code", "lsoa_name", "lad_name", "icb_code", "imd_score", "imd_rank", "imd_decile", "core20",
                "population", "ethnic_minority_pct", "registered_patients", "core20_2019_ambiguous_merge"]


def lsoa_table(atlas: Atlas, icb: str, *, imd: int = 2025, geometry: bool = False) -> pd.DataFrame:
    """One row per LSOA of an ICB with its deprivation, population, ethnicity and registered patients.

    Parameters
    ----------
    atlas
        The loaded atlas.
    icb
        ONS code (E54…), NHS code (Q…) or name.
    imd
        2019 (rows are LSOA 2011) or 2025 (rows are LSOA 2021), in the ICBs of the atlas's registration month.
    geometry
        Keep the web geometry (for GeoJSON output).

    Returns
    -------
    pandas.DataFrame
        :data:`LSOA_COLUMNS`. ``population`` is Census 2021 usual residents (apportioned to LSOA 2011 for
        2019); ``ethnic_minority_pct`` is every group but White, in %; ``core20`` is national IMD deciles 1–2.
        ``core20_2019_ambiguous_merge`` marks an LSOA 2021 merged from LSOA 2011s that lie on both sides of the
        IMD 2019 Core20 line (its carried IMD 2019 decile is its best-fitting parent's); false on LSOA 2011 rows.
        For a registration month whose patients are placed by another month's LSOA shares, a ``source`` column
        names both months.
    """
    row = resolve_icb(atlas, icb)
    t = lsoas_in(atlas, row, imd=imd)
    ed = atlas.edition(imd)
    out = pd.DataFrame({
        "lsoa_code": t["lsoa_code"], "lsoa_name": t["lsoa_name"], "lad_name": t["lad_name"],
        "icb_code": t["icb_code"], "imd_score": t[ed.score], "imd_rank": t[ed.rank],
        "imd_decile": t[ed.decile], "core20": t[ed.core20].astype(bool),
        "population": t["residents"].astype("Int64"), "ethnic_minority_pct": t["pct_minority"].round(1),
        "registered_patients": t["registered_patients"],
        # LSOA 2021 merged from LSOA 2011s on both sides of the IMD 2019 Core20 line (LSOA 2011 rows: never)
        "core20_2019_ambiguous_merge": (t["core20_2019_ambiguous_merge"].fillna(False).astype(bool)
                                        if "core20_2019_ambiguous_merge" in t.columns else False),
    })
    if atlas.month.scaled:  # registered_patients of one month placed by another's shares: say both
        out["source"] = (f"registered_patients: NHS England GP registrations, {atlas.month.statement}; "
                         f"{ed.source}; Census 2021 (ONS); ICBs of {atlas.month.title}")
    if geometry:
        out["geometry"] = t["geometry_web"].values
        import geopandas as gpd

        return gpd.GeoDataFrame(out, geometry="geometry", crs=4326).sort_values("lsoa_code").reset_index(drop=True)
    return out.sort_values("lsoa_code").reset_index(drop=True)
