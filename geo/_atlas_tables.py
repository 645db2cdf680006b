"""How the atlas tables are made from the official files, for :func:`geo.atlas.build`.

Every input is read through :mod:`geo.readers` and checked against its catalogued edition; LSOA 2011 and 2021 are
bridged with :mod:`geo.vintage`; practices are geocoded and placed in ICBs; every registration month besides the
base month gets its own NHS tables (:mod:`geo.structure`).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo import readers
from geo.editions import core20_rule
from geo.inputs import check_columns, check_coverage, check_rows
from geo.paths import MissingDataError, find
from geo.readers.census import BROAD_GROUPS, DETAILED_GROUPS
from geo.readers.os import normalise_postcode
from geo.sources import SOURCES
from geo.vintage import apportion, bridge_pairs, detect_lsoa_vintage, inherit

if TYPE_CHECKING:  # geopandas is imported where polygons are handled
    import geopandas as gpd

ETHNIC_GROUPS: list[str] = list(BROAD_GROUPS) + list(DETAILED_GROUPS)


class _Progress:
    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total, self.n, self.t0 = enabled, total, 0, time.perf_counter()

    def step(self, what: str) -> None:
        self.n += 1
        if self.enabled:
            bar = "#" * int(20 * self.n / self.total)
            print(f"\r[{bar:<20}] {self.n}/{self.total} {time.perf_counter() - self.t0:5.1f}s {what:<48}",
                  end="" if self.n < self.total else "\n", file=sys.stderr, flush=True)


def _build_tables(p: _Progress, *, national: bool = True) -> dict[str, pd.DataFrame]:
    r = readers
    checked = partial(_checked, national=national)
    # the small inputs first, so a cut or wrong file stops the build in seconds, not after the big ones
    pm = checked("gp_reg_map", r.read_practice_map(find("gp_reg_map")))
    imd19 = checked("imd2019", r.read_iod(find("imd2019"), edition=2019, national=national))
    imd25 = checked("imd2025", r.read_iod(find("imd2025"), edition=2025, national=national))
    p.step("IoD 2019 and 2025")
    b21 = checked("lsoa21_boundaries", r.read_boundaries(find("lsoa21_boundaries"), vintage=2021))
    b11 = checked("lsoa11_boundaries", r.read_boundaries(find("lsoa11_boundaries"), vintage=2011))
    p.step("LSOA boundaries")
    lk = checked("lsoa11_lsoa21", r.read_lsoa11_lsoa21(find("lsoa11_lsoa21")))
    icb22 = checked("lsoa11_icb22", r.read_lsoa_icb(find("lsoa11_icb22"), vintage=2011))
    icb24 = checked("lsoa21_icb24", r.read_lsoa_icb(find("lsoa21_icb24"), vintage=2021))
    lad24 = checked("lsoa21_lad24", r.read_lsoa21_lad(find("lsoa21_lad24")))
    ruc = checked("ruc21", r.read_ruc(find("ruc21"), vintage=2021))
    p.step("ONS lookups")
    eth = checked("ts021", r.read_ts021(find("ts021")))
    hh = checked("ts011", r.read_census_table(find("ts011")))
    extra = _census_extras()
    age = _aged_40_74_lsoa21()
    mye = checked("mye2020", r.read_mye_single_year(find("mye2020")))
    p.step("Census 2021 and mid-year estimates")

    pairs = bridge_pairs(lk, pop11=mye.set_index("lsoa_code")["all_ages"],
                         pop21=eth.set_index("lsoa_code")["residents"])
    l21 = _lsoa21_attrs(icb24, lad24, imd25, _imd19_on_lsoa21(imd19, pairs), eth, hh, extra, age, ruc)
    p.step("LSOA 2021 attributes")

    reg = checked("gp_reg_lsoa", r.read_gp_registrations(find("gp_reg_lsoa")))
    vintage = detect_lsoa_vintage(reg["lsoa_code"], lsoa11=lk["lsoa11_code"], lsoa21=lk["lsoa21_code"])
    reg_counts = reg[["practice_code", "lsoa_code", "patients"]]
    if vintage == 2011:
        reg11 = reg_counts
        reg21 = apportion(reg_counts, code="lsoa_code", counts=["patients"], pairs=pairs, direction="forward")
    else:
        reg21 = reg_counts
        reg11 = apportion(reg_counts, code="lsoa_code", counts=["patients"], pairs=pairs, direction="back")
    p.step(f"GP registrations (LSOA {vintage}) bridged")
    l21 = _with_patients(l21, reg21)
    l11 = _with_patients(_lsoa11_attrs(icb22, imd19, mye, eth, l21, pairs), reg11)
    p.step("LSOA 2011 attributes")

    g21, bng21 = _with_geometry(l21, b21)
    p.step("LSOA 2021 geometry simplified")
    g11, _ = _with_geometry(l11, b11)
    p.step("LSOA 2011 geometry simplified")

    icbs = _icbs(icb22, icb24)
    codepoint = checked("codepoint", readers.read_codepoint(find("codepoint")))
    practices, pcns = _practices(reg, icb22, g11, codepoint, pm)
    p.step("practices geocoded and placed in ICBs")
    qof = _qof()
    hyp = _hypertension()
    p.step("QOF and modelled prevalence")
    placement = _postcodes(g21, bng21, codepoint)
    placement.table.attrs["placement"] = placement.stats  # for build.json and the build's report
    p.step("postcodes placed in LSOA 2021")
    pw = _postcode_centroids(g21, placement.table)
    g21 = g21.merge(pw, on="lsoa_code", how="left")
    p.step("population-weighted centroids")
    months = _months(reg, vintage, pairs, l21, l11, icb24, placement.table, icbs, practices, pcns, codepoint,
                     checked)
    p.step(f"registration months ({', '.join(months) or 'none besides the base'})")
    return {"months": months,  # type: ignore[dict-item]
            "lsoa21": g21, "lsoa11": g11, "practices": practices, "registrations11": reg11.reset_index(drop=True),
            "registrations21": reg21.reset_index(drop=True), "pcns": pcns, "icbs": icbs, "qof": qof,
            "qof_achievement": _qof_achievement(), "hypertension": hyp, "lsoa_bridge": pairs.reset_index(drop=True),
            "postcodes": placement.table}


def _imd19_on_lsoa21(imd19: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """IMD 2019 carried to the English LSOA 2021 across the vintage bridge, under the ``imd19`` prefix."""
    i19 = inherit(imd19[["lsoa_code", "imd_score", "imd_rank", "imd_decile"]], pairs=pairs, mean=["imd_score"],
                  best=["imd_rank", "imd_decile"])
    i19 = i19[i19["lsoa_code"].str.startswith("E")]
    i19 = i19.rename(columns={"imd_score": "imd19_score", "imd_rank": "imd19_rank", "imd_decile": "imd19_decile",
                              "bridge": "imd19_bridge"})
    i19["imd19_quintile"] = (i19["imd19_decile"] + 1) // 2
    i19["imd19_core20"] = core20_rule(i19["imd19_decile"])
    # a merged LSOA 2021 whose LSOA 2011 parents lie on both sides of the Core20 line takes its best-fitting
    # parent's decile, so part of its people are counted on the wrong side: flagged, never resolved (14 in England)
    par = pairs.loc[pairs["change_code"].eq("M"), ["lsoa11_code", "lsoa21_code"]].merge(
        imd19[["lsoa_code", "imd_decile"]].rename(columns={"lsoa_code": "lsoa11_code"}), on="lsoa11_code")
    sides = pd.Series(core20_rule(par["imd_decile"]).to_numpy()).groupby(par["lsoa21_code"].to_numpy()).nunique()
    i19["core20_2019_ambiguous_merge"] = i19["lsoa_code"].isin(sides.index[sides > 1])
    return i19


def _lsoa21_attrs(icb24: pd.DataFrame, lad24: pd.DataFrame, imd25: pd.DataFrame, i19: pd.DataFrame,
                  eth: pd.DataFrame, hh: pd.DataFrame, extra: pd.DataFrame, age: pd.DataFrame,
                  ruc: pd.DataFrame) -> pd.DataFrame:
    """The LSOA 2021 table without patients or geometry: NHS and local authority, IMD, Census, rural/urban."""
    l21 = icb24[["lsoa_code", "lsoa_name", "sicbl_code", "sicbl_code_nhs", "sicbl_name", "icb_code",
                 "icb_code_nhs", "icb_name"]].merge(lad24[["lsoa_code", "lad_code", "lad_name"]], on="lsoa_code",
                                                    how="left")
    l21 = l21.merge(_imd_cols(imd25, "imd25"), on="lsoa_code", how="left")
    l21 = l21.merge(i19, on="lsoa_code", how="left")
    l21 = l21.merge(_eth_cols(eth), on="lsoa_code", how="left")
    l21 = l21.merge(pd.DataFrame({"lsoa_code": hh["area_code"], "households": hh["total_all_households"],
                                  "hh_deprived_2plus": hh[[c for c in hh.columns if "two" in c or "three" in c
                                                           or "four" in c]].sum(axis=1)}),
                    on="lsoa_code", how="left")
    l21 = l21.merge(extra, on="lsoa_code", how="left").merge(age, on="lsoa_code", how="left")
    return l21.merge(ruc[["lsoa_code", "ruc_code", "ruc_name", "urban_rural"]], on="lsoa_code", how="left")


def _lsoa11_attrs(icb22: pd.DataFrame, imd19: pd.DataFrame, mye: pd.DataFrame, eth: pd.DataFrame,
                  l21: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The LSOA 2011 table without patients or geometry; Census 2021 counts apportioned back across the bridge."""
    l11 = icb22[["lsoa_code", "lsoa_name", "sicbl_code", "sicbl_code_nhs", "sicbl_name", "icb_code", "icb_code_nhs",
                 "icb_name"]].merge(imd19[["lsoa_code", "lad_code", "lad_name"]], on="lsoa_code", how="left")
    l11 = l11.merge(_imd_cols(imd19, "imd19"), on="lsoa_code", how="left")
    l11 = l11.merge(imd19[["lsoa_code", "pop_total"]].rename(columns={"pop_total": "pop_mid2015"}), on="lsoa_code",
                    how="left")
    ages = mye[["lsoa_code", "all_ages"]].rename(columns={"all_ages": "pop_mid2020"})
    ages["aged_40_74"] = mye[[f"age_{a}" for a in range(40, 75)]].sum(axis=1)
    l11 = l11.merge(ages, on="lsoa_code", how="left")
    back_cols = ["residents", *[f"eth_{g}" for g in ETHNIC_GROUPS if f"eth_{g}" in eth]]
    eth11 = apportion(eth[["lsoa_code", *back_cols]], code="lsoa_code", counts=back_cols, pairs=pairs, direction="back")
    hh21 = l21[["lsoa_code", "households"]].dropna()
    hh21 = hh21.assign(households=hh21["households"].astype("int64"))
    hh11 = apportion(hh21, code="lsoa_code", counts=["households"], pairs=pairs, direction="back")
    return l11.merge(_eth_cols(eth11), on="lsoa_code", how="left").merge(hh11, on="lsoa_code", how="left")


def _with_patients(lsoas: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    """LSOA rows with ``registered_patients``, the patients of ``reg`` living there (0 where none)."""
    out = lsoas.merge(reg.groupby("lsoa_code", as_index=False)["patients"].sum()
                      .rename(columns={"patients": "registered_patients"}), on="lsoa_code", how="left")
    out["registered_patients"] = out["registered_patients"].fillna(0).astype("int64")
    return out


def _months(reg: pd.DataFrame, vintage: int, pairs: pd.DataFrame, l21: pd.DataFrame, l11: pd.DataFrame,
            icb24: pd.DataFrame, postcodes: pd.DataFrame, icbs: pd.DataFrame, practices: pd.DataFrame,
            pcns: pd.DataFrame, codepoint: pd.DataFrame, checked: Callable) -> dict[str, dict[str, pd.DataFrame]]:
    """The tables of every registration month found besides the base month (:mod:`geo.structure`)."""
    from geo.months import base_month, discover
    from geo.structure import month_tables

    base = base_month()
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for month, files in discover().items():
        if month == base or not files.usable:
            continue
        pm = readers.read_practice_map(files.map)
        own, own_vintage, lsoa_month = reg, vintage, base
        if files.lsoa is not None:  # the month's own LSOA-level file: its patients as published
            own = readers.read_gp_registrations(files.lsoa)
            own_vintage = detect_lsoa_vintage(own["lsoa_code"], lsoa11=pairs["lsoa11_code"],
                                              lsoa21=pairs["lsoa21_code"])
            lsoa_month = month
        if files.quin_age is not None:
            lists = readers.read_quin_age(files.quin_age)
        else:
            lists = own.groupby("practice_code", as_index=False)["patients"].sum().rename(
                columns={"patients": "list_size"}).assign(registered_40_74=0)
        check_coverage("gp_reg_map", pm["practice_code"], lists["practice_code"], files.map,
                       what=f"practices with list sizes in {month}", minimum=0.998)
        lookup = _subicb_lookup(month, icb24)
        ods, epcn = _ods_of(month)
        tables = month_tables(
            month=month, lsoa_month=lsoa_month, practice_map=pm, lists=lists, reg=own, vintage=own_vintage,
            pairs=pairs, l21=l21, l11=l11, lookup=lookup, postcodes=postcodes, base_icbs=icbs,
            base_practices=practices, base_pcns=pcns, geocode=partial(_geocode, codepoint=codepoint, ods=ods),
            epcn_history=epcn)
        tables["practices"].attrs["lsoa_month"] = lsoa_month
        out[month] = tables
    return out


def _ods_paths(month: str) -> dict[str, Path]:
    """The epraccur and ePCN files a month uses: the newest found at or before it, else the catalogued ones."""
    from geo.months import newest_dated

    out: dict[str, Path] = {}
    for kind, keys in (("epraccur", ("epraccur_2026", "epraccur")), ("epcn", ("epcn_2024", "epcn"))):
        path = newest_dated(kind, until=month)
        for key in keys if path is None else ():
            with contextlib.suppress(MissingDataError):
                path = find(key)
                break
        if path is not None:
            out[kind] = path
    return out


def _ods_of(month: str) -> tuple[pd.DataFrame | None, tuple[pd.DataFrame, pd.DataFrame] | None]:
    """ODS epraccur (indexed by practice) and the ePCN history of a month (None where absent)."""
    paths = _ods_paths(month)
    ods = _epraccur(paths["epraccur"]) if "epraccur" in paths else None
    epcn = readers.read_epcn_history(paths["epcn"]) if "epcn" in paths else None
    return ods, epcn


def _subicb_lookup(month: str, icb24: pd.DataFrame) -> pd.DataFrame:
    """Sub-ICB → ICB of a month: ONS April 2026 from April 2026 (when present), else the April 2024 lookup."""
    if month >= "2026-04":
        try:
            return readers.read_sicbl_icb(find("sicbl26"))
        except MissingDataError:
            pass
    cols = ["sicbl_code", "sicbl_code_nhs", "sicbl_name", "icb_code", "icb_code_nhs", "icb_name"]
    return icb24[cols].drop_duplicates("sicbl_code_nhs").reset_index(drop=True)


def _months_meta(months: dict[str, dict[str, pd.DataFrame]]) -> dict:
    """What ``build.json`` records of the registration months: base, built, unplaced practices, divisions."""
    from geo.months import base_month

    out: dict = {"base": base_month(), "months": {}}
    for month, t in months.items():
        pr = t["practices"]
        div = t["divided"]
        out["months"][month] = {
            "lsoa_month": pr.attrs.get("lsoa_month", out["base"]),
            "practices": len(pr), "pcns": int((t["pcns"]["pcn_code"] != "U").sum()), "icbs": len(t["icbs"]),
            "icb_names": {str(r.icb_code): [str(r.icb_code_nhs), str(r.icb_name)] for r in t["icbs"].itertuples()},
            "patients": int(pr["list_size"].sum()),
            "unplaced": sorted(pr.loc[~pr["lsoa_placed"], "practice_code"].tolist()),
            "unplaced_patients": int(pr.loc[~pr["lsoa_placed"], "list_size"].sum()),
            "divided": div.to_dict("records"),
        }
    return out


def _postcodes(g21: gpd.GeoDataFrame, bng21: gpd.GeoSeries, codepoint: pd.DataFrame):
    """Residential postcodes in LSOA 2021: by ONSPD where that optional file is present, else by position."""
    from geo.postcodes import place_postcodes

    try:
        onspd = readers.read_onspd(find("onspd"))
    except MissingDataError:
        onspd = None
    households = g21.set_index("lsoa_code")["households"].fillna(0).astype("int64")
    import geopandas as gpd

    lsoas = gpd.GeoDataFrame({"lsoa_code": g21["lsoa_code"]}, geometry=bng21.values, crs=bng21.crs)
    return place_postcodes(codepoint, lsoas, households=households, onspd=onspd)


def _checked(key: str, df: pd.DataFrame, *, national: bool = True) -> pd.DataFrame:
    """``df`` if its row count fits the catalogued edition of ``key``; else a ValidationError naming the file.

    The row counts are those of the national files: an extract (``build(expect_national=False)``) is not
    held to them; its columns are still checked.
    """
    if national:
        check_rows(key, df, find(key))
    check_columns(key, df, find(key))
    return df


def _imd_cols(imd: pd.DataFrame, prefix: str) -> pd.DataFrame:
    out = pd.DataFrame({"lsoa_code": imd["lsoa_code"], f"{prefix}_score": imd["imd_score"],
                        f"{prefix}_rank": imd["imd_rank"], f"{prefix}_decile": imd["imd_decile"]})
    out[f"{prefix}_quintile"] = (out[f"{prefix}_decile"] + 1) // 2
    out[f"{prefix}_core20"] = core20_rule(out[f"{prefix}_decile"])  # national, never re-ranked locally
    for dom in ("income", "employment", "health"):
        if f"{dom}_score" in imd:
            out[f"{prefix}_{dom}_score"] = imd[f"{dom}_score"]
    return out


def _eth_cols(eth: pd.DataFrame) -> pd.DataFrame:
    out = eth.copy()
    out["eth_minority"] = out["residents"] - out["eth_white"]
    res = out["residents"].where(out["residents"] > 0)
    shares = {f"pct_{c[4:]}": 100 * out[c] / res for c in out.columns if c.startswith("eth_")}
    return pd.concat([out, pd.DataFrame(shares)], axis=1)


def _census_extras() -> pd.DataFrame:
    frames = []
    specs = {"ts038": {"disabled": "disabled_under_the_equality_act"},
             "ts052": {"overcrowded_hh": ("1_overcrowded", "2_or_less_overcrowded")},
             "ts044": {"caravan_hh": "a_caravan_or_other_mobile_or_temporary_structure"},
             "ts054": {"social_rented_hh": ("social_rented_rents_from_council_or_local_authority",
                                            "social_rented_other_social_rented")}}
    for key, cols in specs.items():
        try:
            t = readers.read_census_table(find(key))
        except MissingDataError:
            continue
        f = pd.DataFrame({"lsoa_code": t["area_code"]})
        for name, src in cols.items():
            f[name] = t[list(src)].sum(axis=1) if isinstance(src, tuple) else t[src]
        frames.append(f.set_index("lsoa_code"))
    return pd.concat(frames, axis=1).reset_index() if frames else pd.DataFrame({"lsoa_code": []})


def _aged_40_74_lsoa21() -> pd.DataFrame:
    """Residents aged 40–74 per LSOA 2021 from Census 2021 age bands, split with MSOA single years.

    The LSOA table has bands 35–49, 50–64 and 65+. Everyone aged 50–64 counts; of the 35–49 band we count
    the share aged 40–49 in the LSOA's MSOA (TS007 single years), and of 65+ the MSOA's share aged 65–74.
    The LSOA → MSOA link is the ONS naming rule (an LSOA 2021 is named after its MSOA plus a letter).
    """
    a6 = readers.read_age6(find("age6"))
    ms = readers.read_ts007_msoa(find("ts007_msoa"))
    lad = readers.read_lsoa21_lad(find("lsoa21_lad24"))
    ms_share = pd.DataFrame({
        "msoa_name": ms["msoa_name"],
        "f40_49": ms[[f"age_{a}" for a in range(40, 50)]].sum(axis=1)
        / ms[[f"age_{a}" for a in range(35, 50)]].sum(axis=1).replace(0, np.nan),
        "f65_74": ms[[f"age_{a}" for a in range(65, 75)]].sum(axis=1)
        / ms[[f"age_{a}" for a in range(65, 101)]].sum(axis=1).replace(0, np.nan),
    })
    names = lad[["lsoa_code", "lsoa_name"]].assign(msoa_name=lambda d: d["lsoa_name"].str[:-1])
    a = a6.merge(names[["lsoa_code", "msoa_name"]], on="lsoa_code", how="left").merge(ms_share, on="msoa_name",
                                                                                        how="left")
    a["f40_49"] = a["f40_49"].fillna(10 / 15)
    a["f65_74"] = a["f65_74"].fillna(0.6)
    est = a["age_35_49"] * a["f40_49"] + a["age_50_64"] + a["age_65_plus"] * a["f65_74"]
    return pd.DataFrame({"lsoa_code": a["lsoa_code"], "aged_40_74": np.rint(est).astype("int64"),
                         "age_total_2021": a["age_total"]})


def _with_geometry(attrs: pd.DataFrame, bounds: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """The LSOAs with their boundaries and web geometry, and the boundaries in EPSG:27700 (projected once)."""
    import geopandas as gpd

    from geo.geometry import simplify_for_web

    b = bounds.set_index("lsoa_code")
    missing = ~attrs["lsoa_code"].isin(b.index)
    if missing.any():
        raise MissingDataError(f"{int(missing.sum())} LSOAs have no boundary, e.g. "
                               f"{attrs.loc[missing, 'lsoa_code'].head(3).tolist()}")
    geom = b.geometry.reindex(attrs["lsoa_code"])
    gdf = gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=geom.values, crs=4326)
    bng = gdf.geometry.to_crs(27700)
    web = simplify_for_web(gdf.geometry, bng=bng)
    gdf["geometry_web"] = gpd.GeoSeries(web.values, crs=4326)
    gdf["area_km2"] = bng.area / 1e6
    pts = bng.representative_point()
    gdf["label_e"], gdf["label_n"] = pts.x.round(1), pts.y.round(1)
    return gdf, bng


def _icbs(icb22: pd.DataFrame, icb24: pd.DataFrame) -> pd.DataFrame:
    a = icb22.groupby(["icb_code", "icb_code_nhs", "icb_name"]).size().rename("lsoa11_count").reset_index()
    b = icb24.groupby(["icb_code", "icb_code_nhs", "icb_name"]).size().rename("lsoa21_count").reset_index()
    out = a.merge(b, on=["icb_code", "icb_code_nhs", "icb_name"], how="outer")
    out["short_name"] = out["icb_name"].str.replace(" Integrated Care Board", " ICB", regex=False)
    return out.sort_values("icb_name").reset_index(drop=True)


def _practices(reg: pd.DataFrame, icb22: pd.DataFrame, g11: gpd.GeoDataFrame,
               codepoint: pd.DataFrame, pm: pd.DataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Practices of the registration file, placed in their July 2022 ICB and geocoded from their postcode.

    ICB: the map file's CCG code is a Sub-ICB location code in July 2022; it is looked up in the ONS
    LSOA → Sub-ICB → ICB (July 2022) lookup. A practice whose Sub-ICB code is unknown there is placed by
    its ePCN Sub-ICB, then by the map file's own STP/ICB code, then by the ICB of the LSOA its postcode falls
    in. The postcode is the map file's, or ODS epraccur's when the map file lacks the practice or its postcode
    is not in Code-Point Open.
    """
    import geopandas as gpd

    # every registered practice must be in the map: a map cut short would move practices out of their PCN
    check_coverage("gp_reg_map", pm["practice_code"], reg["practice_code"], find("gp_reg_map"),
                   what="practices of the registration file", minimum=0.998)  # July 2022: 6 of 6,484 missing
    lists = reg.groupby("practice_code").agg(practice_name=("practice_name", "first"),
                                             list_size=("patients", "sum")).reset_index()
    pr = lists.merge(pm.drop(columns=["practice_name"]), on="practice_code", how="left")
    pr["practice_name"] = pr["practice_name"].fillna("").str.strip()
    sub = icb22.drop_duplicates("sicbl_code_nhs").set_index("sicbl_code_nhs")
    pr["icb_code"] = pr["sub_code"].map(sub["icb_code"])
    pr["icb_source"] = np.where(pr["icb_code"].notna(), "sub-ICB location (map file)", None)
    try:
        _, mem = readers.read_epcn(find("epcn"))
        ep = mem.drop_duplicates("practice_code").set_index("practice_code")
        via = pr["practice_code"].map(ep["sub_code"]).map(sub["icb_code"])
        fill = pr["icb_code"].isna() & via.notna()
        pr.loc[fill, "icb_code"] = via[fill]
        pr.loc[fill, "icb_source"] = "sub-ICB location (ePCN)"
        nopcn = pr["pcn_code"].isna() | pr["pcn_code"].eq("")
        pr.loc[nopcn, "pcn_code"] = pr.loc[nopcn, "practice_code"].map(ep["pcn_code"])
        pr.loc[nopcn, "pcn_name"] = pr.loc[nopcn, "practice_code"].map(ep["pcn_name"])
    except MissingDataError:
        pass
    # a retired CCG code (07T, 08V, 08E…) is in no July 2022 Sub-ICB lookup, but the map file's own STP/ICB code
    # still says whose practice it is: trust it before a postcode (F84041, Y03528, Y06592 were misplaced by theirs)
    by_nhs = icb22.drop_duplicates("icb_code_nhs").set_index("icb_code_nhs")["icb_code"]
    via_map = pr["stp_code_nhs"].map(by_nhs) if "stp_code_nhs" in pr else pd.Series(np.nan, index=pr.index)
    fill = pr["icb_code"].isna() & via_map.notna()
    pr.loc[fill, "icb_code"] = via_map[fill]
    pr.loc[fill, "icb_source"] = "ICB (map file)"
    gpr = _geocode(pr, codepoint, _epraccur("epraccur"))
    located = gpr[gpr["easting"].notna()]
    hit = gpd.sjoin(located[["practice_code", "geometry"]], g11[["icb_code", "geometry"]], predicate="within",
                    how="left").drop_duplicates("practice_code").set_index("practice_code")["icb_code"]
    fill = gpr["icb_code"].isna()
    gpr.loc[fill, "icb_code"] = gpr.loc[fill, "practice_code"].map(hit)
    gpr.loc[fill & gpr["icb_code"].notna(), "icb_source"] = "location"
    names = icb22.drop_duplicates("icb_code").set_index("icb_code")
    gpr["icb_code_nhs"] = gpr["icb_code"].map(names["icb_code_nhs"])
    gpr["icb_name"] = gpr["icb_code"].map(names["icb_name"])
    gpr["pcn_code"] = gpr["pcn_code"].replace("", np.nan)
    pcns = (gpr.dropna(subset=["pcn_code"]).groupby("pcn_code")
            .agg(pcn_name=("pcn_name", "first"), practices=("practice_code", "size"), list_size=("list_size", "sum"))
            .reset_index())
    # each PCN's ICB is that of most of its practices (ties: the first code), as Series.mode would give
    votes = (gpr.dropna(subset=["pcn_code", "icb_code"]).groupby(["pcn_code", "icb_code"]).size()
             .rename("n").reset_index().sort_values(["pcn_code", "n", "icb_code"], ascending=[True, False, True])
             .drop_duplicates("pcn_code").set_index("pcn_code")["icb_code"])
    pcns.insert(2, "icb_code", pcns["pcn_code"].map(votes))
    pcns["icb_name"] = pcns["icb_code"].map(names["icb_name"])
    pcns["icb_code_nhs"] = pcns["icb_code"].map(names["icb_code_nhs"])
    return gpr.reset_index(drop=True), pcns


def _epraccur(key: str | Path) -> pd.DataFrame | None:
    """ODS epraccur (a catalogue key, or a file) indexed by practice code (None when the file is absent)."""
    try:
        path = key if isinstance(key, Path) else find(key)
        return readers.read_epraccur(path).drop_duplicates("practice_code").set_index("practice_code")
    except MissingDataError:
        return None


def _geocode(pr: pd.DataFrame, codepoint: pd.DataFrame, ods: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """Practices with coordinates from their postcode (OS Code-Point Open), as points in EPSG:4326.

    Practices missing from the map file (or whose postcode has since been retired) take ODS epraccur's postcode.
    A practice with no coordinates gets an empty point.
    """
    import geopandas as gpd

    from geo.geometry import bng_to_lonlat

    pr = pr.copy()
    pc = normalise_postcode(pr["postcode"].fillna(""))
    alt = normalise_postcode(pr["practice_code"].map(ods["postcode"]).fillna("")) if ods is not None else None
    # Only the practices' postcodes are indexed: an index of all 1.7 million Arrow strings costs seconds to
    # build and check for uniqueness, and Series.isin against it converts them to Python one by one.
    wanted = set(pc) | (set(alt) if alt is not None else set())
    cp = codepoint[codepoint["postcode"].isin(wanted)].drop_duplicates("postcode").set_index("postcode")
    if alt is not None:
        use = ~pc.isin(cp.index) & alt.isin(cp.index)
        pc = pc.where(~use, alt)
        pr.loc[use, "postcode"] = pr.loc[use, "practice_code"].map(ods["postcode"])
    pr["easting"] = pc.map(cp["easting"]).astype(float)
    pr["northing"] = pc.map(cp["northing"]).astype(float)
    lon, lat = bng_to_lonlat(pr["easting"].to_numpy(), pr["northing"].to_numpy())
    pr["lon"], pr["lat"] = np.round(lon, 6), np.round(lat, 6)
    geom = gpd.points_from_xy(pr["lon"], pr["lat"], crs=4326)
    return gpd.GeoDataFrame(pr, geometry=geom, crs=4326)


def _qof() -> pd.DataFrame:
    """QOF prevalence of every bundled year, one row per practice, register and year.

    Columns ``practice_code``, ``group_code``, ``register``, ``list_type``, ``list_size`` and ``qof_year``
    (``"2024-25"``, ``"2022-23"``, ``"2021-22"``, ``"2020-21"``: the catalogue's edition); a year whose optional
    file is absent is left out. QOF 2023-24 is not in the data.
    """
    frames = []
    years = set()
    for key in ("qof_2223", "qof_2122", "qof_2021", "qof_2425"):
        try:
            q = readers.read_qof_prevalence(find(key))
        except MissingDataError:
            continue
        years.add(SOURCES[key].edition.replace("QOF ", ""))
        frames.append(q.assign(qof_year=SOURCES[key].edition.replace("QOF ", "")))
    for year, path in _newer_qof(years).items():  # a year `fetch --latest` brought that the catalogue lacks
        frames.append(readers.read_qof_prevalence(path).assign(qof_year=year))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["practice_code", "group_code", "register", "list_type", "list_size", "qof_year"])


def _newer_qof(known: set[str]) -> dict[str, Path]:
    """QOF prevalence files of years the catalogue does not name, found by name (``QOF_2025-26_PREVALENCE_…``)."""
    from geo.months import dated_files

    return {y: p for y, p in dated_files("qof").items() if y not in known}


def _qof_achievement() -> pd.DataFrame:
    """QOF achievement rates by practice, one row per practice and indicator.

    Columns ``practice_code``, ``indicator`` (DM019, DM020), ``achievement`` (0–1) and ``qof_year``; empty when
    the optional file is absent.
    """
    try:
        dm = readers.read_qof_dm_achievement(find("qof_2122_dm"))
    except MissingDataError:
        return pd.DataFrame({"practice_code": pd.Series(dtype=str), "indicator": pd.Series(dtype=str),
                             "achievement": pd.Series(dtype=float), "qof_year": pd.Series(dtype=str)})
    long = dm.melt(id_vars="practice_code", var_name="indicator", value_name="achievement").dropna()
    long["indicator"] = long["indicator"].str.upper()
    return long.assign(qof_year=SOURCES["qof_2122_dm"].edition.replace("QOF ", "")).reset_index(drop=True)


def _hypertension() -> pd.DataFrame:
    try:
        u = readers.read_hypertension_estimates(find("hyp_undiagnosed"))
        d = readers.read_hypertension_estimates(find("hyp_diagnosed"))
    except MissingDataError:
        return pd.DataFrame(columns=["practice_code"])
    u = u.add_prefix("undiag_").rename(columns={"undiag_practice_code": "practice_code"})
    d = d.add_prefix("diag_").rename(columns={"diag_practice_code": "practice_code"})
    return d.merge(u, on="practice_code", how="outer")


def _postcode_centroids(g21: gpd.GeoDataFrame, postcodes: pd.DataFrame) -> pd.DataFrame:
    """Approximate each LSOA's population-weighted centroid by the mean of its postcode units' positions.

    Postcode units follow addresses, so their mean lies where people live far better than the polygon's
    centroid does in a rural LSOA. LSOAs with no postcode unit fall back to a point inside the polygon.
    The postcodes come from :func:`geo.postcodes.place_postcodes`, so one spatial join serves both.
    """
    located = postcodes[postcodes["easting"].notna()]
    agg = located.groupby("lsoa_code").agg(pw_e=("easting", "mean"), pw_n=("northing", "mean"),
                                           postcodes=("easting", "size"))
    out = pd.DataFrame({"lsoa_code": g21["lsoa_code"]}).merge(agg, on="lsoa_code", how="left")
    miss = out["pw_e"].isna()
    out.loc[miss, "pw_e"] = g21.loc[miss.values, "label_e"].values
    out.loc[miss, "pw_n"] = g21.loc[miss.values, "label_n"].values
    out["postcodes"] = out["postcodes"].fillna(0).astype("int64")
    return out
