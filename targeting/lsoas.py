"""The per-LSOA table of an ICB that ``python -m targeting lsoas`` prints, and an area's figures in brief."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from targeting.scope import Scope

__all__ = ["LSOA_COLUMNS", "area_summary", "lsoa_table"]

LSOA_COLUMNS = ["lsoa_code", "lsoa_name", "lad_name", "icb_code", "imd_score", "imd_rank", "imd_decile", "core20",
                "population", "ethnic_minority_pct", "registered_patients", "core20_2019_ambiguous_merge"]


def lsoa_table(scope: Scope, *, geometry: bool = False) -> pd.DataFrame:
    """One row per LSOA of an ICB with its deprivation, population, ethnicity and registered patients.

    Parameters
    ----------
    scope
        The ICB, the IMD edition (2019: rows are LSOA 2011; 2025: rows are LSOA 2021) and the registration month
        whose ICBs are used.
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
    t, ed, atlas = scope.icb_lsoas, scope.edition, scope.atlas
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


def area_summary(scope: Scope) -> dict[str, float | int | str]:
    """Deprivation beside ethnicity for an ICB or local authority, on LSOA 2021.

    Returns
    -------
    dict
        ``lsoas``, ``core20_lsoas``, ``residents`` (Census 2021 usual residents), ``core20_residents``,
        ``core20_residents_pct``, ``minority_pct`` (ethnic minority communities: every group but White, % of
        residents), ``core20_minority_pct`` (the same within its Core20 LSOAs), ``england_lsoas`` (LSOAs the
        edition ranks) and ``source``.
    """
    ed, area = scope.edition, scope.area
    if area is None:
        raise ValueError("an area summary covers an ICB or a local authority, not all of England")
    from targeting.areas import area_lsoa_rows

    sel = area_lsoa_rows(scope.atlas, area)
    core = sel[ed.core20].fillna(False).astype(bool)
    res = int(sel["residents"].sum())
    core_res = int(sel.loc[core, "residents"].sum())

    def pct(x: float, n: float) -> float:
        return float(100 * x / n) if n > 0 else float("nan")

    return {"lsoas": len(sel), "core20_lsoas": int(core.sum()), "residents": res, "core20_residents": core_res,
            "core20_residents_pct": pct(core_res, res), "minority_pct": pct(sel["eth_minority"].sum(), res),
            "core20_minority_pct": pct(sel.loc[core, "eth_minority"].sum(), core_res),
            "england_lsoas": ed.lsoa_count,
            "source": f"{ed.source} ({ed.title} on {ed.on_lsoa21}); Census 2021 TS021 usual residents (ONS)"}
