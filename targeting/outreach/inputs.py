"""What an outreach plan gathers for its area: the LSOAs and their national inputs, the area, its postcodes.

The national tables (footprints, detection and registration gaps, registers) are built once per atlas and kept
beside it; a plan takes its area's rows from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.atlas import Atlas
from targeting.areas import AreaNotFound, lsoas_in, resolve_area, resolve_icb
from targeting.programme import Done

__all__ = ["outreach_inputs"]


def _cached(atlas: Atlas, key: str, make):
    return atlas.memo(("outreach", key), make)


def _footprints(atlas: Atlas) -> pd.DataFrame:
    def make():
        from targeting.footprints import pcn_footprints

        return pcn_footprints(atlas, imd=2025)

    return _cached(atlas, "footprints", make)


def _detection_gap(atlas: Atlas) -> pd.DataFrame:
    def make():
        from targeting.gaps import lsoa_detection_gap

        # shared out by residents aged 40-74, where hypertension is found, not by every registered patient
        return lsoa_detection_gap(atlas, register="HYP", imd=2025, age_weighted=True)

    return _cached(atlas, "hyp", make)


def _phe_undiagnosed(atlas: Atlas) -> pd.DataFrame:
    def make():
        from targeting.clinical import lsoa_hypertension_undiagnosed

        # the same weights as the count not on a register (residents aged 40-74), so the two stand side by side
        return lsoa_hypertension_undiagnosed(atlas, imd=2025, age_weighted=True)

    return _cached(atlas, "hyp_phe", make)


def _registration_gap(atlas: Atlas) -> pd.DataFrame:
    def make():
        from targeting.gaps import registration_gap

        return registration_gap(atlas, vintage=2021)

    return _cached(atlas, "reg", make)


def _register(atlas: Atlas, register: str) -> pd.DataFrame:
    def make():
        from targeting.gaps import lsoa_register_counts

        return lsoa_register_counts(atlas, register, imd=2025)

    return _cached(atlas, f"register:{register}", make)


def _plus(lsoas: pd.DataFrame, rules, combine: str) -> pd.DataFrame:
    from targeting.plus import DEFAULT_PLUS_RULES, evaluate_plus

    return evaluate_plus(lsoas, DEFAULT_PLUS_RULES if rules is None else rules, combine=combine)


def _national(atlas: Atlas) -> pd.DataFrame:
    """Per-LSOA 2021 inputs from the footprint, gap and register modules, indexed by code (built once)."""
    def make():
        def by_code(frame: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
            f = frame.drop_duplicates("lsoa_code")
            return pd.DataFrame({new: f[old].to_numpy() for old, new in cols.items()},
                                index=pd.Index(f["lsoa_code"].to_numpy(dtype=object), name="lsoa_code"))

        parts = [
            by_code(_footprints(atlas), {"pcn_code": "pcn_code", "share": "pcn_share"}),
            by_code(_detection_gap(atlas), {c: c for c in ("expected_undiagnosed", "expected_undiagnosed_lower",
                                                           "expected_undiagnosed_upper")}),
            by_code(_phe_undiagnosed(atlas), {c: c for c in ("hyp_undiagnosed_phe", "hyp_undiagnosed_phe_lower",
                                                             "hyp_undiagnosed_phe_upper")}),
            by_code(_registration_gap(atlas), {"relative_ratio": "registration_ratio"}),
            by_code(_register(atlas, "MH"), {"register_patients": "smi_register"}),
            by_code(_register(atlas, "LD"), {"register_patients": "ld_register"}),
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

    def kept() -> pd.DataFrame:  # kept beside the atlas: a new process (a cold `targets`) reads it in milliseconds
        from targeting._code import source_hash

        flat = atlas.memo(("outreach", "national-flat"), make,
                          persist=f"outreach-national-{source_hash('**/*.py')}")
        nat = flat.set_index("lsoa_code")
        nat.index = pd.Index(nat.index.to_numpy(dtype=object), name="lsoa_code")
        nat["pcn_code"] = nat["pcn_code"].astype(object).where(nat["pcn_code"].notna(), None)
        return nat

    return _cached(atlas, "national", kept)


def _lookup(frame: pd.DataFrame, codes: pd.Series, column: str) -> pd.Series:
    s = frame.drop_duplicates("lsoa_code").set_index("lsoa_code")[column]
    return pd.Series(codes.map(s).to_numpy(), index=codes.index)


def outreach_inputs(atlas: Atlas, lsoa_codes: Sequence[str], *, imd: int = 2025, plus_rules=None,
                    plus_combine: str = "any", plus_area: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Gather everything a plan needs per LSOA 2021.

    Parameters
    ----------
    atlas
        The loaded atlas.
    lsoa_codes
        LSOA 2021 codes of the area.
    imd
        2025 (IoD 2025) or 2019 (IoD 2019 carried to LSOA 2021 across the vintage bridge).
    plus_rules, plus_combine
        PLUS rules for :func:`targeting.plus.evaluate_plus` (default ``DEFAULT_PLUS_RULES``, combined with "any").
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
    ed = atlas.edition(imd)
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
    plus = _plus(plus_rows, plus_rules, plus_combine)
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


def _resolve_area(atlas: Atlas, pcn: str | None, icb: str | None) -> tuple[dict[str, Any], list[str], list[str]]:
    """The area, its LSOA codes, and the LSOAs over which PLUS rules are evaluated (its ICB)."""
    if (pcn is None) == (icb is None):
        raise ValueError("choose exactly one area: a PCN code or an ICB code")
    if pcn is not None:
        found = resolve_area(atlas, "pcn", pcn)
        fp = _footprints(atlas)
        codes = sorted(fp.loc[fp["pcn_code"] == found.code, "lsoa_code"].unique())
        icb_row = atlas.icbs[atlas.icbs["icb_code_nhs"] == found.icb_code_nhs]
        icb_rows = lsoas_in(atlas, icb_row.iloc[0], imd=2025) if len(icb_row) else atlas.lsoa21.iloc[:0]
        area = {"kind": "pcn", "code": found.code, "name": found.name, "icb_code": found.icb_code,
                "icb_name": found.icb_name, "label": f"{found.name} ({found.code}), indicative footprint"}
        return area, codes, sorted(set(icb_rows["lsoa_code"]) | set(codes))
    row = resolve_icb(atlas, icb)
    rows = lsoas_in(atlas, row, imd=2025)
    codes = sorted(rows["lsoa_code"])
    area = {"kind": "icb", "code": row["icb_code"], "name": row["icb_name"], "icb_code": row["icb_code"],
            "icb_name": row["icb_name"], "label": f"{row['icb_name']} ({row['icb_code']})"}
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


def _postcodes_of(atlas: Atlas, codes: pd.Series) -> pd.DataFrame:
    """The atlas postcodes of some LSOAs (the table is sorted by LSOA, so each is one slice)."""
    def make():
        pc = atlas.postcodes[["postcode", "lsoa_code", "easting", "northing", "households_est"]]
        # Plain object strings: a plan takes a few thousand rows of 1.5 million, and Arrow-backed takes are slow.
        pc = pc.astype({"postcode": object, "lsoa_code": object})
        keys = pc["lsoa_code"].to_numpy(dtype=object)
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        return pc, dict(zip(keys[starts], zip(starts, ends, strict=True), strict=True))

    pc, where = _cached(atlas, "postcodes", make)
    idx = [np.arange(*where[c]) for c in codes if c in where]
    return pc.iloc[np.concatenate(idx)] if idx else pc.iloc[:0]
