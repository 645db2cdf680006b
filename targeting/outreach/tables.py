"""The tables of an outreach plan: per LSOA, patch, connector and stop, and the files made from them.

``targets.csv`` (:data:`TARGET_COLUMNS`), ``rounds.csv`` (:data:`ROUND_COLUMNS`) and the rounds' and patches'
GeoJSON; the frames behind them are read off the rounds (:class:`targeting.rounds.RoundPlan`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from targeting.priority import COMPONENTS

__all__ = ["ROUND_COLUMNS", "TARGET_COLUMNS"]

#: Columns of ``targets.csv`` in order (one row per LSOA of the area).
TARGET_COLUMNS = [
    "lsoa_code", "lsoa_name", "lad_name", "pcn_code", "pcn_share", "priority_score", "priority_rank",
    *[f"score_{k}" for k in COMPONENTS], *[f"points_{k}" for k in COMPONENTS],
    "imd_edition", "imd_rank", "imd_decile", "core20", "plus", "plus_reasons", "target",
    "households", "population", "pct_minority", "registration_ratio",
    "eligible_40_74", "hypertension_not_on_register_16plus", "hypertension_not_on_register_16plus_lower",
    "hypertension_not_on_register_16plus_upper", "hypertension_undiagnosed_phe_16plus",
    "hypertension_undiagnosed_phe_16plus_lower", "hypertension_undiagnosed_phe_16plus_upper",
    "health_check_new_hypertension", "health_check_new_hypertension_low",
    "health_check_new_hypertension_high", "smi_register", "ld_register",
    "patch_id", "connector", "visit_order", "postcodes", "households_planned", "first_month", "last_month",
    "status", "reason", "why", "locality", "locality_name", "locality_connectors", "locality_core20_households",
    "locality_plus_households", "households_visited",
]

#: Columns of ``rounds.csv`` in order (one row per stop of a planned round or caseload).
ROUND_COLUMNS = ["connector", "month", "stop", "postcode", "lsoa_code", "lsoa_name", "households_est", "core20",
                 "plus", "easting", "northing", "lat", "lon", "connector_name", "month_start"]

#: Health-check columns summed per patch and connector (shares of partly planned LSOAs count by households).
_HEALTH = ["eligible_40_74", "hypertension_not_on_register_16plus", "hypertension_undiagnosed_phe_16plus",
           "health_check_new_hypertension",
           "health_check_new_hypertension_low", "health_check_new_hypertension_high", "smi_register", "ld_register"]


def _targets_frame(lsoas: pd.DataFrame) -> pd.DataFrame:
    """The ``targets.csv`` table: :data:`TARGET_COLUMNS`, one row per LSOA of the area."""
    return pd.DataFrame(lsoas[TARGET_COLUMNS]).reset_index(drop=True)


def _rounds_frame(rounds: pd.DataFrame) -> pd.DataFrame:
    """The ``rounds.csv`` table: :data:`ROUND_COLUMNS`, one row per stop of a planned round or caseload."""
    r = rounds
    if r.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROUND_COLUMNS})
    return pd.DataFrame(r.loc[r["planned"], ROUND_COLUMNS]).reset_index(drop=True)


def _rounds_geojson(table: pd.DataFrame, area: Mapping[str, Any], settings: dict[str, Any],
                    sources: list[str]) -> str:
    """The stops of a ``rounds.csv`` table as GeoJSON points (EPSG:4326), with the settings and sources."""
    feats = []
    for rec in table.to_dict("records"):
        props = {k: (None if (v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA)
                     else (v.item() if hasattr(v, "item") else v)) for k, v in rec.items()}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Point", "coordinates": [props["lon"], props["lat"]]}})
    doc = {"type": "FeatureCollection", "name": f"Outreach rounds: {area['name']} ({area['code']})",
           "description": ("Postcodes in walking order for each connector and month (campaign) or each "
                           "worker's standing neighbourhood (caseload). Households per postcode are about. "
                           "PCN footprints are indicative."),
           "settings": settings, "sources": sources, "features": feats}
    return json.dumps(doc)


def _patches_geojson(patches: gpd.GeoDataFrame, area: Mapping[str, Any], settings: dict[str, Any],
                     sources: list[str]) -> str:
    """The patches as GeoJSON (EPSG:4326) with their figures, the plan settings and sources."""
    g = patches.to_crs(4326)
    g = g.assign(geometry=g.geometry.set_precision(1e-6))
    doc = json.loads(g.to_json(drop_id=True, na="null"))
    doc["name"] = f"Outreach patches: {area['name']} ({area['code']})"
    doc["description"] = ("Contiguous patches of Core20 and PLUS neighbourhoods for connectors. PCN "
                          "footprints are indicative. The plan starts conversations with communities; "
                          "it is not a verdict on them.")
    doc["settings"] = settings
    doc["sources"] = sources
    return json.dumps(doc)


def _not_target_reason(edition: int, decile: int, score: float, score_cut: float | None) -> str:
    bits = [f"not Core20 (IMD {int(edition)} decile {int(decile)})", "meets no PLUS rule"]
    if score_cut is not None:
        bits.append(f"priority score {score:.1f} below the cut of {score_cut:g}")
    return "; ".join(bits)


def _stop_arrays(lsoas: pd.DataFrame, rp) -> dict[str, np.ndarray]:
    """The stops as plain arrays, with each stop's LSOA as a row number of ``lsoas`` (-1 if not there)."""
    st = rp.stops
    pos = {c: i for i, c in enumerate(lsoas["lsoa_code"].to_numpy(dtype=object))}
    conn = st["connector"].to_numpy(dtype=float, na_value=np.nan)
    month = st["month"].to_numpy(dtype=float, na_value=np.nan)
    return {"l": np.fromiter((pos.get(c, -1) for c in st["lsoa_code"].to_numpy(dtype=object)), dtype=np.int64,
                             count=len(st)),
            "hh": st["households_est"].to_numpy(dtype=np.int64), "planned": st["planned"].to_numpy(dtype=bool),
            "piece": st["piece"].to_numpy(dtype=np.int64), "conn": conn, "month": month,
            "seq": st["lsoa_seq"].to_numpy(dtype=np.int64), "chain": st["chain"].to_numpy(dtype=np.int64),
            "postcode": st["postcode"].to_numpy(dtype=object)}


def _int_or_na(values: np.ndarray) -> pd.arrays.IntegerArray:
    ok = np.isfinite(values)
    return pd.arrays.IntegerArray(np.where(ok, values, 0).astype("int64"), ~ok)


def _lsoa_outcome(lsoas: pd.DataFrame, rp, *, score_cut: float | None, connectors: int, capacity: float,
                  months: int, visited: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Per-LSOA connector, visit order, households planned, months and status from the rounds."""
    n = len(lsoas)
    a = _stop_arrays(lsoas, rp)
    ok = a["l"] >= 0
    l_, hh, pl = a["l"][ok], a["hh"][ok], a["planned"][ok]
    seq = np.bincount(l_, weights=hh, minlength=n)
    done = np.bincount(l_[pl], weights=hh[pl], minlength=n).astype(np.int64)
    npc = pd.Series(a["postcode"][ok]).groupby(l_).nunique()
    lsoas["postcodes"] = np.bincount(npc.index.to_numpy(), weights=npc.to_numpy(), minlength=n).astype("int64")
    lsoas["households_planned"] = done
    conn = np.full(n, np.nan)
    first_m, last_m = np.full(n, np.inf), np.full(n, -np.inf)
    first_p = np.full(n, np.iinfo(np.int64).max)
    first_q = np.full(n, np.iinfo(np.int64).max)
    lp, cp, mp, pp, qp = l_[pl], a["conn"][ok][pl], a["month"][ok][pl], a["piece"][ok][pl], a["seq"][ok][pl]
    # By LSOA, then month, then piece: each LSOA's first stop is its first visit in time (caseload: in order).
    order = np.lexsort((pp, np.where(np.isfinite(mp), mp, 0), lp))
    lp, cp, mp, pp, qp = lp[order], cp[order], mp[order], pp[order], qp[order]
    head = np.r_[True, lp[1:] != lp[:-1]] if len(lp) else np.array([], dtype=bool)
    conn[lp[head]], first_p[lp[head]] = cp[head], pp[head]
    np.minimum.at(first_q, lp, qp)
    if len(lp) and np.isfinite(mp).any():
        np.minimum.at(first_m, lp, np.where(np.isfinite(mp), mp, np.inf))
        np.maximum.at(last_m, lp, np.where(np.isfinite(mp), mp, -np.inf))
    lsoas["connector"] = _int_or_na(conn)
    lsoas["first_month"] = _int_or_na(np.where(np.isfinite(first_m), first_m, np.nan))
    lsoas["last_month"] = _int_or_na(np.where(np.isfinite(last_m), last_m, np.nan))
    # Visit order: the order in which each connector first reaches an LSOA along its rounds.
    reached = np.flatnonzero(np.isfinite(conn))
    visit = np.full(n, np.nan)
    if len(reached):
        o = reached[np.lexsort((first_q[reached], first_p[reached], conn[reached]))]
        c = conn[o]
        starts = np.r_[0, np.flatnonzero(c[1:] != c[:-1]) + 1]
        rank = np.arange(len(o)) - np.repeat(starts, np.diff(np.r_[starts, len(o)]))
        visit[o] = rank + 1
    lsoas["visit_order"] = _int_or_na(visit)
    lsoas["patch_id"] = lsoas["lsoa_code"].map(_lsoa_patch(rp))
    target = lsoas["target"].to_numpy(dtype=bool)
    seen = lsoas["lsoa_code"].map(visited or {}).fillna(0).to_numpy(dtype=np.int64)
    lsoas["households_visited"] = seen
    status = np.where(~target, "not a target",
                      np.where((seq > 0) & (done >= seq), "planned",
                               np.where(done > 0, "part planned",
                                        np.where((seq == 0) & (seen > 0), "visited", "waiting"))))
    lsoas["status"] = status
    words = (f"{connectors} connector(s) × {capacity:g} households a month × {months} months are taken by "
             "higher-priority neighbourhoods" if rp.mode == "campaign" else
             f"the {connectors} worker(s) each already hold a higher-priority neighbourhood")
    reasons = []
    for code, st_, t, s_, d, ed, dec, sc in zip(lsoas["lsoa_code"], status, target, seq, done, lsoas["imd_edition"],
                                               lsoas["imd_decile"], lsoas["priority_score"], strict=True):
        if not t:
            reasons.append(_not_target_reason(ed, dec, sc, score_cut))
        elif st_ == "visited":
            reasons.append("")
        elif s_ == 0:
            reasons.append("no residential postcode with a grid reference is placed in this LSOA (OS Code-Point "
                           "Open), so it cannot be put on a round")
        elif st_ == "waiting":
            reasons.append(f"beyond capacity: {words}")
        elif st_ == "part planned" and d <= rp.top_ups.get(code, 0):
            reasons.append(f"about {int(d):,} of {int(s_):,} households are planned, to finish a round in a "
                           f"neighbouring higher-priority LSOA; the rest wait for this LSOA's turn: {words}")
        elif st_ == "part planned":
            reasons.append(f"about {int(d):,} of {int(s_):,} households are planned; the rest wait: {words}")
        else:
            reasons.append("")
    lsoas["reason"] = reasons
    return lsoas


def _lsoa_patch(rp) -> pd.Series:
    """Patch id of each LSOA: the chain that took it as a member, so every patch is contiguous."""
    if not rp.lsoa_chain:
        return pd.Series(dtype=object)
    width = max(3, len(str(max(rp.lsoa_chain.values()) + 1)))
    return pd.Series({k: f"P{int(c) + 1:0{width}d}" for k, c in rp.lsoa_chain.items()}, dtype=object)


def _patch_table(lsoas: pd.DataFrame, rp, geometry: pd.Series, *, capacity: float) -> gpd.GeoDataFrame:
    t = lsoas[lsoas["patch_id"].notna()]
    cols = ["patch_id", "connector", "connectors", "patch_visit", "lsoas", "lsoa_codes", "households",
            "households_planned", "population", "core20_lsoas", "plus_lsoas", "priority", *_HEALTH,
            "months_of_work", "status"]
    if t.empty:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols}, geometry=[], crs=27700)
    ids, inv = np.unique(t["patch_id"].to_numpy(dtype=object).astype(str), return_inverse=True)
    n = len(ids)

    def total(values) -> np.ndarray:
        return np.bincount(inv, weights=np.asarray(values, dtype=float), minlength=n)

    codes = t["lsoa_code"].to_numpy(dtype=object)
    members: list[list[str]] = [[] for _ in range(n)]
    for i, c in zip(inv, codes, strict=True):
        members[i].append(c)
    w = t["households"].to_numpy(dtype=float)
    wsum = total(w)
    agg = pd.DataFrame({"patch_id": ids, "lsoas": np.bincount(inv, minlength=n),
                        "lsoa_codes": [";".join(m) for m in members],
                        "households": total(w).astype("int64"),
                        "households_planned": total(t["households_planned"]).astype("int64"),
                        "population": total(t["population"]).astype("int64"),
                        "core20_lsoas": total(t["core20"]).astype("int64"),
                        "plus_lsoas": total(t["plus"]).astype("int64"),
                        "priority": np.round(total(t["priority_score"].to_numpy(dtype=float) * w)
                                             / np.where(wsum > 0, wsum, 1.0), 2)})
    for c in _HEALTH:
        agg[c] = total(t[c].fillna(0))
    agg["eligible_40_74"] = agg["eligible_40_74"].round().astype("int64")
    for c in _HEALTH[1:]:
        agg[c] = agg[c].round(1)
    where = dict(zip(codes, inv, strict=True))
    st = rp.stops[rp.stops["planned"]]
    first_piece = np.full(n, np.iinfo(np.int64).max)
    first_conn = np.zeros(n, dtype=np.int64)
    conns: list[set[int]] = [set() for _ in range(n)]
    for code, piece, c in zip(st["lsoa_code"].to_numpy(dtype=object), st["piece"].to_numpy(),
                              st["connector"].to_numpy(dtype=float), strict=True):
        k = where.get(code)
        if k is None:
            continue
        conns[k].add(int(c))
        if piece < first_piece[k]:
            first_piece[k], first_conn[k] = piece, int(c)
    has = first_conn > 0
    agg["connector"] = pd.array(np.where(has, first_conn, 0), dtype="Int64").astype("Int64")
    agg.loc[~has, "connector"] = pd.NA
    agg["connectors"] = [";".join(str(x) for x in sorted(cs)) for cs in conns]
    agg["_first"] = first_piece
    key = agg[has].sort_values(["connector", "_first"])
    visit = pd.Series(key.groupby("connector").cumcount().to_numpy() + 1, index=key.index)
    agg["patch_visit"] = pd.array(visit.reindex(agg.index).to_numpy(), dtype="Int64")
    agg["months_of_work"] = (agg["households"] / capacity).round(1)
    agg["status"] = np.where(agg["households_planned"] >= agg["households"], "planned",
                             np.where(agg["households_planned"] > 0, "part planned", "waiting"))
    agg["_members"] = members
    agg = agg.sort_values(["connector", "patch_visit", "patch_id"], na_position="last").reset_index(drop=True)
    union = [shapely.union_all(geometry.loc[m].to_numpy()) for m in agg["_members"]]
    return gpd.GeoDataFrame(agg[cols], geometry=union, crs=27700)


def _round_rows(lsoas: pd.DataFrame, rp, *, names: Sequence[str], start: str) -> pd.DataFrame:
    """Every stop with the columns of ``rounds.csv`` and what the sheets need beside them."""
    from geo.geometry import bng_to_lonlat
    from targeting.programme import add_months

    st = rp.stops
    if st.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*ROUND_COLUMNS, "piece", "planned", "locality"]})
    base = lsoas.set_index("lsoa_code")
    lon, lat = bng_to_lonlat(st["easting"].to_numpy(dtype=float), st["northing"].to_numpy(dtype=float))
    out = pd.DataFrame({
        "connector": st["connector"], "month": st["month"], "stop": st["stop"].astype("int64"),
        "postcode": st["postcode"], "lsoa_code": st["lsoa_code"],
        "lsoa_name": st["lsoa_code"].map(base["lsoa_name"]), "households_est": st["households_est"].astype("int64"),
        "core20": st["core20"].astype(bool), "plus": st["plus"].astype(bool),
        "easting": st["easting"].round(0).astype("int64"), "northing": st["northing"].round(0).astype("int64"),
        "lat": np.round(lat, 6), "lon": np.round(lon, 6),
        "piece": st["piece"].astype("int64"), "planned": st["planned"].astype(bool),
        "postcode_households": st["postcode_households"].astype("int64"),
        "lsoa_households": st["lsoa_code"].map(base["households"]),
        "imd_rank": st["lsoa_code"].map(base["imd_rank"]), "imd_decile": st["lsoa_code"].map(base["imd_decile"]),
        "patch_id": st["lsoa_code"].map(base["patch_id"]), "chain": st["chain"].astype("int64"),
        "why": st["lsoa_code"].map(base["why"]),
    })
    conn = st["connector"].to_numpy(dtype=float, na_value=np.nan)
    month = st["month"].to_numpy(dtype=float, na_value=np.nan)
    out["connector_name"] = [names[int(c) - 1] if np.isfinite(c) else None for c in conn]
    caseload = rp.mode == "caseload"
    out["month_start"] = [(start if caseload else add_months(start, int(m) - 1)) if np.isfinite(c) and
                          (caseload or np.isfinite(m)) else None for c, m in zip(conn, month, strict=True)]
    out["locality"] = st["locality"].to_numpy() if "locality" in st else ""
    return out.sort_values(["connector", "month", "piece", "stop"], na_position="last").reset_index(drop=True)


def _connector_table(lsoas: pd.DataFrame, rp, *, connectors: int, cap_total: float, capacity: float,
                     mode: str) -> pd.DataFrame:
    """One row per connector: rounds, LSOAs, households and health-check totals (shares of partly covered LSOAs)."""
    a = _stop_arrays(lsoas, rp)
    on = a["planned"] & (a["l"] >= 0)
    c = a["conn"][on].astype(np.int64) - 1
    l_, hh = a["l"][on], a["hh"][on]
    k = connectors
    denom = lsoas["households"].to_numpy(dtype=float)
    frac = hh / np.where(denom[l_] > 0, denom[l_], np.inf)

    def share(col: str) -> np.ndarray:
        v = lsoas[col].to_numpy(dtype=float, na_value=0.0)
        return np.bincount(c, weights=np.nan_to_num(v[l_]) * frac, minlength=k)

    def distinct(values: np.ndarray) -> np.ndarray:
        if not len(c):
            return np.zeros(k, dtype=np.int64)
        pairs = pd.DataFrame({"c": c, "v": values}).drop_duplicates()
        return np.bincount(pairs["c"].to_numpy(), minlength=k)

    households = np.bincount(c, weights=hh, minlength=k).astype(np.int64)
    out = pd.DataFrame({"connector": np.arange(1, k + 1), "rounds": distinct(a["piece"][on]),
                        "patches": distinct(a["chain"][on]), "lsoas": distinct(l_),
                        "postcodes": distinct(a["postcode"][on]), "households": households,
                        "population": np.round(share("population")).astype(np.int64),
                        "capacity_households": cap_total,
                        "load_pct": np.round(100 * households / cap_total, 1) if cap_total else 0.0,
                        "months_of_work": np.round(households / capacity, 1) if mode == "campaign" else 1.0,
                        "eligible_40_74": np.round(share("eligible_40_74")).astype(np.int64)})
    for col in _HEALTH[1:]:
        out[col] = np.round(share(col), 1)
    return out
