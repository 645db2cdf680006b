"""What an outreach plan gathers for its area: the LSOAs and their national inputs, the area, its postcodes.

The national tables (footprints, detection and registration gaps, registers) are built once per atlas and kept
beside it; a plan takes its area's rows from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.atlas import Atlas
from targeting.areas import AreaNotFound, lsoas_in
from targeting.programme import Done
from targeting.store import derived

if TYPE_CHECKING:
    from geo.editions import Edition
    from targeting.scope import Scope

__all__ = ["outreach_inputs"]


# Plans are drawn on LSOA 2021 whatever the edition of deprivation: the national inputs are on its edition.
def _lsoa21(atlas: Atlas) -> Edition:
    return atlas.edition_on(2021)


def _footprints(atlas: Atlas) -> pd.DataFrame:
    from targeting.footprints import pcn_footprints

    return pcn_footprints(_lsoa21(atlas))


@derived
def _detection_gap(atlas: Atlas) -> pd.DataFrame:
    from targeting.gaps import lsoa_detection_gap

    # shared out by residents aged 40-74, where hypertension is found, not by every registered patient
    return lsoa_detection_gap(_lsoa21(atlas), register="HYP", age_weighted=True)


@derived
def _phe_undiagnosed(atlas: Atlas) -> pd.DataFrame:
    from targeting.clinical import lsoa_hypertension_undiagnosed

    # the same weights as the count not on a register (residents aged 40-74), so the two stand side by side
    return lsoa_hypertension_undiagnosed(_lsoa21(atlas), age_weighted=True)


@derived
def _registration_gap(atlas: Atlas) -> pd.DataFrame:
    from targeting.gaps import registration_gap

    return registration_gap(atlas, vintage=2021)


@derived
def _register(atlas: Atlas, register: str) -> pd.DataFrame:
    from targeting.gaps import lsoa_register_counts

    return lsoa_register_counts(_lsoa21(atlas), register)


def _plus(lsoas: pd.DataFrame, rules, combine: str) -> pd.DataFrame:
    from targeting.plus import DEFAULT_PLUS_RULES, evaluate_plus

    return evaluate_plus(lsoas, DEFAULT_PLUS_RULES if rules is None else rules, combine=combine)


def _by_code(frame: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    f = frame.drop_duplicates("lsoa_code")
    return pd.DataFrame({new: f[old].to_numpy() for old, new in cols.items()},
                        index=pd.Index(f["lsoa_code"].to_numpy(dtype=object), name="lsoa_code"))


# kept beside the atlas: a new process (a cold `targets`) reads it in milliseconds
@derived(persist=True, code=("**/*.py",))
def _national_flat(atlas: Atlas) -> pd.DataFrame:
    """Per-LSOA 2021 inputs from the footprint, gap and register modules (one row per code)."""
    parts = [
        _by_code(_footprints(atlas), {"pcn_code": "pcn_code", "share": "pcn_share"}),
        _by_code(_detection_gap(atlas), {c: c for c in ("expected_undiagnosed", "expected_undiagnosed_lower",
                                                       "expected_undiagnosed_upper")}),
        _by_code(_phe_undiagnosed(atlas), {c: c for c in ("hyp_undiagnosed_phe", "hyp_undiagnosed_phe_lower",
                                                         "hyp_undiagnosed_phe_upper")}),
        _by_code(_registration_gap(atlas), {"relative_ratio": "registration_ratio"}),
        _by_code(_register(atlas, "MH"), {"register_patients": "smi_register"}),
        _by_code(_register(atlas, "LD"), {"register_patients": "ld_register"}),
    ]
    nat = pd.concat(parts, axis=1)
    for c in nat.columns:
        if c != "pcn_code":
            nat[c] = nat[c].astype(float)
    nat["pcn_share"] = nat["pcn_share"].round(3)
    nat["registration_ratio"] = nat["registration_ratio"].round(3)
    nat["smi_register"] = nat["smi_register"].round(1)
    nat["ld_register"] = nat["ld_register"].round(1)
    return nat.reset_index()


@derived
def _national(atlas: Atlas) -> pd.DataFrame:
    """:func:`_national_flat` indexed by LSOA code."""
    nat = _national_flat(atlas).set_index("lsoa_code")
    nat.index = pd.Index(nat.index.to_numpy(dtype=object), name="lsoa_code")
    nat["pcn_code"] = nat["pcn_code"].astype(object).where(nat["pcn_code"].notna(), None)
    return nat


def _lookup(frame: pd.DataFrame, codes: pd.Series, column: str) -> pd.Series:
    s = frame.drop_duplicates("lsoa_code").set_index("lsoa_code")[column]
    return pd.Series(codes.map(s).to_numpy(), index=codes.index)


def outreach_inputs(scope: Scope, lsoa_codes: Sequence[str], *,
                    plus_area: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Gather everything a plan needs per LSOA 2021.

    Parameters
    ----------
    scope
        The atlas, the IMD edition (2025, or 2019 carried to LSOA 2021 across the vintage bridge) and the PLUS
        rules for :func:`targeting.plus.evaluate_plus` (default ``DEFAULT_PLUS_RULES``, combined with "any").
    lsoa_codes
        LSOA 2021 codes of the area.
    plus_area
        LSOA codes over which PLUS rules that rank within an area are evaluated (the ICB); default the area.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per LSOA (sorted by code): names, ``pcn_code``/``pcn_share`` (indicative footprint), IMD rank,
        decile and Core20 of the edition, ``plus``/``plus_reasons``, ``households``, ``population`` (Census 2021
        usual residents), ``pct_minority``, ``eligible_40_74``, ``expected_undiagnosed`` (hypertension not on a
        register, with 95% limits), ``hyp_undiagnosed_phe`` (PHE's undiagnosed component, with 95% limits),
        ``registration_ratio``, ``smi_register``, ``ld_register``, ``x``/``y`` (population-weighted centroid,
        EPSG:27700) and full geometry in EPSG:27700.
    """
    atlas, ed = scope.atlas, scope.edition
    t = atlas.lsoa21
    codes = pd.Index(pd.unique(pd.Series(list(lsoa_codes), dtype=object)))
    unknown = codes.difference(t["lsoa_code"])
    if len(unknown):
        raise AreaNotFound(f"{len(unknown)} LSOA code(s) are not LSOA 2021 in England, e.g. "
                           + ", ".join(map(str, unknown[:5])))
    rows = t[t["lsoa_code"].isin(codes)].sort_values("lsoa_code")
    out = pd.DataFrame({
        "lsoa_code": rows["lsoa_code"].to_numpy(), "lsoa_name": rows["lsoa_name"].to_numpy(),
        "lad_name": rows["lad_name"].to_numpy(), "icb_code": rows["icb_code"].to_numpy(),
        "imd_edition": ed.year, "imd_rank": rows[ed.rank].to_numpy(), "imd_decile": rows[ed.decile].to_numpy(),
        "imd_score": rows[ed.score].to_numpy(),
        "imd_lsoas": ed.lsoa_count,
        "core20": rows[ed.core20].astype(bool).to_numpy(),
        "households": rows["households"].to_numpy(), "population": rows["residents"].to_numpy(),
        "pct_minority": rows["pct_minority"].round(1).to_numpy(),
        "eligible_40_74": rows["aged_40_74"].to_numpy(),
    })
    nat = _national(atlas).reindex(out["lsoa_code"].to_numpy())
    for c in nat.columns:
        out[c] = nat[c].to_numpy()
    codes_s = out["lsoa_code"]

    plus_codes = pd.Index(list(plus_area)) if plus_area is not None else codes
    plus_rows = t[t["lsoa_code"].isin(plus_codes.union(codes))]
    plus = _plus(plus_rows, scope.plus_rules, scope.plus_combine)
    plus_by_code = pd.DataFrame({"lsoa_code": plus_rows["lsoa_code"].to_numpy(),
                                 "plus": plus["plus"].astype(bool).to_numpy(),
                                 "plus_reasons": plus["plus_reasons"].fillna("").astype(str).to_numpy()})
    out["plus"] = _lookup(plus_by_code, codes_s, "plus").astype(bool)
    out["plus_reasons"] = _lookup(plus_by_code, codes_s, "plus_reasons").fillna("")

    x = rows["pw_e"].where(rows["pw_e"].notna(), rows["label_e"]).to_numpy()
    y = rows["pw_n"].where(rows["pw_n"].notna(), rows["label_n"]).to_numpy()
    out["x"], out["y"] = x, y
    geom = gpd.GeoSeries(rows.geometry.to_numpy(), crs=t.crs).to_crs(27700)
    return gpd.GeoDataFrame(out, geometry=geom.to_numpy(), crs=27700)


def _plan_area(scope: Scope) -> tuple[dict[str, Any], list[str], list[str]]:
    """The area, its LSOA codes, and the LSOAs over which PLUS rules are evaluated (its ICB)."""
    atlas, found = scope.atlas, scope.area
    if found is None or found.kind not in ("pcn", "icb"):
        raise ValueError("choose exactly one area: a PCN code or an ICB code")
    if found.kind == "pcn":
        fp = _footprints(atlas)
        codes = sorted(fp.loc[fp["pcn_code"] == found.code, "lsoa_code"].unique())
        known = (atlas.icbs["icb_code_nhs"] == found.icb_code_nhs).any()
        icb_rows = lsoas_in(_lsoa21(atlas), str(found.icb_code_nhs)) if known else atlas.lsoa21.iloc[:0]
        area = {"kind": "pcn", "code": found.code, "name": found.name, "icb_code": found.icb_code,
                "icb_name": found.icb_name, "label": f"{found.name} ({found.code}), indicative footprint"}
        return area, codes, sorted(set(icb_rows["lsoa_code"]) | set(codes))
    rows = lsoas_in(_lsoa21(atlas), str(found.icb_code_nhs))
    codes = sorted(rows["lsoa_code"])
    area = {"kind": "icb", "code": found.code, "name": found.name, "icb_code": found.code,
            "icb_name": found.name, "label": f"{found.name} ({found.code})"}
    return area, codes, codes


def _postcodes_left(postcodes: pd.DataFrame, done: Done | None,
                    lsoas: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """The target postcodes' households not yet visited, and how far the campaign has come (``None``: no done)."""
    if done is None:
        return postcodes, None
    key = postcodes["postcode"].astype(str).str.upper().str.split().str.join(" ")
    visited = key.map(done.visited).fillna(0).to_numpy(dtype=np.int64)
    hh = postcodes["households_est"].to_numpy(dtype=np.int64)
    took = np.minimum(visited, hh)
    left = postcodes.assign(households_est=hh - took)
    known = set(key)
    t = lsoas[lsoas["core20"] | lsoas["plus"]]
    by_lsoa = pd.Series(took, index=postcodes["lsoa_code"].to_numpy()).groupby(level=0).sum()
    progress = {"households_visited": int(took.sum()), "rows_done": done.rows_done,
                "postcodes_done": int((took > 0).sum()), "last_month": done.last_month,
                "postcodes_elsewhere": sum(1 for k in done.visited if k not in known),
                "core20plus_households": int(t["households"].sum()),
                "visited_by_lsoa": {str(k): int(v) for k, v in by_lsoa[by_lsoa > 0].items()},
                "notes": list(done.notes)}
    return left, progress


@derived
def _postcode_slices(atlas: Atlas) -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
    """The atlas postcodes and where each LSOA's rows start and end (the table is sorted by LSOA)."""
    pc = atlas.postcodes[["postcode", "lsoa_code", "easting", "northing", "households_est"]]
    # Plain object strings: a plan takes a few thousand rows of 1.5 million, and Arrow-backed takes are slow.
    pc = pc.astype({"postcode": object, "lsoa_code": object})
    keys = pc["lsoa_code"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return pc, dict(zip(keys[starts], zip(starts, ends, strict=True), strict=True))


def _postcodes_of(atlas: Atlas, codes: pd.Series) -> pd.DataFrame:
    """The atlas postcodes of some LSOAs (each LSOA's rows are one slice)."""
    pc, where = _postcode_slices(atlas)
    idx = [np.arange(*where[c]) for c in codes if c in where]
    return pc.iloc[np.concatenate(idx)] if idx else pc.iloc[:0]
