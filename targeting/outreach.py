"""Outreach plans for Core20PLUS connectors and health checks: targets, patches, connectors and scenarios.

A plan covers one area (a PCN's *indicative* footprint or an ICB) on LSOA 2021. Each LSOA gets a transparent
priority score (:mod:`targeting.priority`); target LSOAs (Core20, PLUS, or above a score cut) are grouped into
contiguous patches (:mod:`targeting.patches`); patches are shared between connectors under a hard capacity and
ordered into visits; health-check numbers (residents aged 40–74, expected hypertension case-finding yield,
SMI and learning-disability registers) are carried per LSOA and per patch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.atlas import Atlas
from targeting.areas import AreaNotFound, lsoas_in, resolve_area, resolve_icb
from targeting.patches import build_patches, lsoa_adjacency
from targeting.priority import COMPONENTS, DEFAULT_WEIGHTS, parse_weights, priority_scores

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_CONNECTORS",
    "DEFAULT_MONTHS",
    "MAX_CAPACITY",
    "MAX_CONNECTORS",
    "MAX_MONTHS",
    "TARGET_COLUMNS",
    "OutreachPlan",
    "assign_connectors",
    "outreach_inputs",
    "plan_outreach",
    "scenario",
]

#: Households one connector reaches in a month (the Westminster community health worker model: ~100).
DEFAULT_CAPACITY = 100
#: Connectors in a plan unless told otherwise.
DEFAULT_CONNECTORS = 3
#: Plan horizon in months: a patch holds at most capacity × months households, and so does a connector's load.
DEFAULT_MONTHS = 12
#: Limits on a plan's settings, so any input gives bounded work (a plan's arrays grow with connectors):
#: a PCN or an ICB never has hundreds of connectors, 100,000 households a month, or a 10-year horizon.
MAX_CONNECTORS = 200
MAX_CAPACITY = 100_000
MAX_MONTHS = 120

#: Columns of ``targets.csv`` in order (one row per LSOA of the area).
TARGET_COLUMNS = [
    "lsoa_code", "lsoa_name", "lad_name", "pcn_code", "pcn_share", "priority_score", "priority_rank",
    *[f"score_{k}" for k in COMPONENTS], *[f"points_{k}" for k in COMPONENTS],
    "imd_edition", "imd_rank", "imd_decile", "core20", "plus", "plus_reasons", "target",
    "households", "population", "pct_minority", "registration_ratio",
    "eligible_40_74", "expected_hypertension_yield", "expected_hypertension_yield_lower",
    "expected_hypertension_yield_upper", "smi_register", "ld_register",
    "patch_id", "connector", "visit_order", "status", "reason", "why",
]

_SOURCES = [
    "Index of Multiple Deprivation: MHCLG English Indices of Deprivation {imd} (national ranks, {geo})",
    "Residents, households, ethnic group (TS021), age: ONS Census 2021 (LSOA 2021; ages 40–74 from 6 bands by "
    "LSOA split by single years of the MSOA)",
    "Where patients live, PCN membership: NHS Digital Patients Registered at a GP Practice, July 2022 "
    "(apportioned to LSOA 2021); PCN footprints are indicative",
    "Undiagnosed hypertension: PHE modelled estimates 2016 against QOF 2022-23 registers, apportioned to "
    "where patients live",
    "SMI and learning disability registers: QOF 2022-23 (NHS Digital), apportioned to where patients live",
    "Boundaries: ONS LSOA (December 2021) BSC. Contains OS data © Crown copyright and database right 2021",
    "All under the Open Government Licence v3.0",
]


@dataclass
class OutreachPlan:
    """An outreach plan for one area.

    Attributes
    ----------
    area
        ``kind`` ('pcn' or 'icb'), ``code``, ``name``, ``icb_code``, ``icb_name``.
    lsoas
        One row per LSOA of the area (:data:`TARGET_COLUMNS` plus ``x``, ``y`` in EPSG:27700 and geometry in
        EPSG:27700), in visit order then priority.
    patches
        One row per patch: ``patch_id``, ``connector``, ``patch_visit``, ``lsoas``, ``lsoa_codes``,
        ``households``, ``population``, ``core20_lsoas``, ``plus_lsoas``, ``priority``, health-check columns,
        ``months_of_work``, ``status``, geometry (EPSG:27700).
    connectors
        One row per connector: ``connector``, ``patches``, ``lsoas``, ``households``, ``capacity_households``,
        ``load_pct``, ``months_of_work`` and health-check totals.
    settings
        Connectors, capacity, months, weights, IMD edition, score cut, PLUS rules.
    months_to_cover
        Months the connectors need to visit every Core20 and PLUS household of the area (patches assigned
        without the horizon's cap); ``None`` when there is none.
    adjacency
        The shared-boundary pairs used (:func:`targeting.patches.lsoa_adjacency`).
    sources
        Data sources and vintages, for every export.
    """

    area: dict[str, Any]
    lsoas: gpd.GeoDataFrame
    patches: gpd.GeoDataFrame
    connectors: pd.DataFrame
    settings: dict[str, Any]
    months_to_cover: int | None
    adjacency: pd.DataFrame
    sources: list[str] = field(default_factory=list)

    def targets_table(self) -> pd.DataFrame:
        """The ``targets.csv`` table: :data:`TARGET_COLUMNS`, one row per LSOA of the area."""
        return pd.DataFrame(self.lsoas[TARGET_COLUMNS]).reset_index(drop=True)

    def patches_geojson(self) -> str:
        """The patches as GeoJSON (EPSG:4326) with their figures, the plan settings and sources."""
        import json

        g = self.patches.to_crs(4326)
        g = g.assign(geometry=g.geometry.set_precision(1e-6))
        doc = json.loads(g.to_json(drop_id=True, na="null"))
        doc["name"] = f"Outreach patches: {self.area['name']} ({self.area['code']})"
        doc["description"] = ("Contiguous patches of Core20 and PLUS neighbourhoods for connectors. PCN "
                              "footprints are indicative. The plan starts conversations with communities; "
                              "it is not a verdict on them.")
        doc["settings"] = self.settings
        doc["sources"] = self.sources
        return json.dumps(doc)


# --------------------------------------------------------------------------------------------------------------
# Inputs from the other modules (national tables, cached per atlas)
# --------------------------------------------------------------------------------------------------------------

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
        return nat

    return _cached(atlas, "national", make)


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
        usual residents), ``pct_minority``, ``eligible_40_74``, ``expected_undiagnosed`` (with 95% limits),
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


# --------------------------------------------------------------------------------------------------------------
# Connectors
# --------------------------------------------------------------------------------------------------------------


def assign_connectors(patches: pd.DataFrame, *, connectors: int, capacity: float,
                      months: float | None) -> pd.DataFrame:
    r"""Share patches between connectors: balanced, compact, never over capacity.

    Parameters
    ----------
    patches
        ``patch_id``, ``households``, ``priority``, ``x``, ``y`` (EPSG:27700 metres).
    connectors
        Number of connectors (≥ 1).
    capacity
        Households per connector per month.
    months
        Plan horizon; each connector's load is capped at ``capacity × months`` households. ``None``: no cap
        (used to work out how long covering every patch would take).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``patches.index``: ``connector`` (Int64, 1…N, missing when not assigned), ``patch_visit``
        (order of the patch in its connector's round) and ``reason`` (why a patch is not assigned).

    Notes
    -----
    Capacitated k-means on household-weighted patch centroids. Seeds: the highest-priority patch, then
    repeatedly the patch farthest from every seed. Each pass takes patches in descending priority and gives
    each to the nearest centre whose load stays within a balancing target :math:`T = \min(C, 1.1\,H/N)`
    (:math:`H` = households of the patches that fit), else the nearest within the hard cap
    :math:`C = \text{capacity}\times\text{months}`; a patch that fits nowhere is not assigned. Centres move to
    the household-weighted centroid of their patches; passes repeat until nothing changes (at most 20).
    Priority order means a patch is only left out when every higher-priority patch already fills the
    connectors. Each connector's round starts at its highest-priority patch and then goes to the nearest
    unvisited patch.
    """
    if int(connectors) < 1:
        raise ValueError(f"connectors must be at least 1, not {connectors}")
    if not capacity or capacity <= 0:
        raise ValueError(f"capacity must be a positive number of households per month, not {capacity}")
    n = len(patches)
    k = int(connectors)
    result = pd.DataFrame({"connector": pd.array([pd.NA] * n, dtype="Int64"),
                           "patch_visit": pd.array([pd.NA] * n, dtype="Int64"),
                           "reason": [""] * n}, index=patches.index)
    if n == 0:
        return result
    hard = float(capacity) * float(months) if months else math.inf
    hh = patches["households"].to_numpy(dtype=float)
    prio = patches["priority"].to_numpy(dtype=float)
    xy = patches[["x", "y"]].to_numpy(dtype=float)
    order = np.lexsort((patches["patch_id"].to_numpy(), -prio))

    # Which patches can fit at all, greedily in priority order (first fit into k bins of the hard cap).
    bins = np.zeros(k)
    fits = np.zeros(n, dtype=bool)
    for p in order:
        room = np.flatnonzero(bins + hh[p] <= hard)
        if len(room):
            bins[room[np.argmin(bins[room])]] += hh[p]
            fits[p] = True
    target = min(hard, max(1.1 * hh[fits].sum() / k, float(hh[fits].max(initial=0.0))))

    seeds = [int(order[0])]
    while len(seeds) < min(k, n):
        d = np.min(np.linalg.norm(xy[:, None, :] - xy[seeds][None, :, :], axis=2), axis=1)
        d[seeds] = -1
        seeds.append(int(np.argmax(d)))
    centres = xy[seeds].copy()
    if len(centres) < k:  # fewer patches than connectors: the extra connectors start where the first does
        centres = np.vstack([centres, np.repeat(centres[:1], k - len(centres), axis=0)])

    assign = np.full(n, -1)
    for _ in range(20):
        new = np.full(n, -1)
        load = np.zeros(k)
        for p in order:
            dist = np.linalg.norm(centres - xy[p], axis=1)
            ranked = np.lexsort((load, dist))
            choice = next((c for c in ranked if load[c] + hh[p] <= target), None)
            if choice is None:
                choice = next((c for c in ranked if load[c] + hh[p] <= hard), None)
            if choice is not None:
                new[p] = choice
                load[choice] += hh[p]
        if np.array_equal(new, assign):
            break
        assign = new
        for c in range(k):
            m = assign == c
            if m.any() and hh[m].sum() > 0:
                centres[c] = np.average(xy[m], axis=0, weights=hh[m])

    assign = _improve(assign, hh, xy, centres, hard=hard, target=target)
    # Swaps can open room: offer it to the patches still waiting, in priority order.
    load = np.bincount(assign[assign >= 0], weights=hh[assign >= 0], minlength=k)
    for p in order:
        if assign[p] < 0:
            room = np.flatnonzero(load + hh[p] <= hard)
            if len(room):
                c = room[np.argmin(np.linalg.norm(centres[room] - xy[p], axis=1))]
                assign[p] = c
                load[c] += hh[p]

    # Number connectors by their highest-priority patch, so connector 1 holds the top patch.
    first = {c: min(np.flatnonzero(assign == c), key=lambda q: np.flatnonzero(order == q)[0])
             for c in range(k) if (assign == c).any()}
    renum = {c: i + 1 for i, c in enumerate(sorted(first, key=lambda c: np.flatnonzero(order == first[c])[0]))}
    visit = np.zeros(n, dtype=int)
    for c, start in first.items():
        todo = set(np.flatnonzero(assign == c).tolist())
        cur, step = start, 1
        while True:
            visit[cur] = step
            todo.discard(cur)
            if not todo:
                break
            rest = np.array(sorted(todo))
            cur = int(rest[np.argmin(np.linalg.norm(xy[rest] - xy[cur], axis=1))])
            step += 1
    conn = [renum.get(a) if a >= 0 else pd.NA for a in assign]
    result["connector"] = pd.array(conn, dtype="Int64")
    result["patch_visit"] = pd.array([v if a >= 0 else pd.NA for v, a in zip(visit, assign, strict=True)],
                                     dtype="Int64")
    reasons = []
    for p in range(n):
        if assign[p] >= 0:
            reasons.append("")
        elif hh[p] > hard:
            reasons.append(f"patch of {int(hh[p]):,} households is larger than one connector covers in "
                           f"{months:g} months at {capacity:g} a month; raise the capacity or the months, or share "
                           "it between connectors street by street")
        else:
            reasons.append(f"beyond capacity: {k} connector(s) × {capacity:g} households a month × {months:g} months "
                           "are taken by higher-priority patches")
    result["reason"] = reasons
    return result


def _improve(assign: np.ndarray, hh: np.ndarray, xy: np.ndarray, centres: np.ndarray, *, hard: float,
             target: float, passes: int = 10) -> np.ndarray:
    r"""Local search: move or swap assigned patches between connectors while it shortens travel within caps.

    The cost is :math:`\sum_p h_p \lVert x_p - c_{a(p)} \rVert` (households × distance to the connector's
    centre). A move or swap never lifts a connector above the hard cap, nor above the balancing target unless
    its load falls, so balance is kept. Which patches are planned never changes.
    """
    assign = assign.copy()
    k = len(centres)
    on = np.flatnonzero(assign >= 0)
    if len(on) < 2 or k < 2:
        return assign
    for _ in range(passes):
        changed = False
        load = np.bincount(assign[on], weights=hh[on], minlength=k)
        d = np.linalg.norm(xy[:, None, :] - centres[None, :, :], axis=2)  # patch × connector
        for p in on:
            a = assign[p]
            here = d[p, a]
            # Moves
            gain = hh[p] * (here - d[p])
            room = load + hh[p] <= min(hard, target)
            room[a] = False
            if (gain * room).max(initial=0) > 1e-6:
                b = int(np.argmax(np.where(room, gain, -np.inf)))
                assign[p] = b
                load[a] -= hh[p]
                load[b] += hh[p]
                changed = True
                continue
            # Swaps with a patch q of another connector
            others = on[assign[on] != a]
            if not len(others):
                continue
            bq = assign[others]
            delta = hh[p] * (d[p, bq] - here) + hh[others] * (d[others, a] - d[others, bq])
            new_a = load[a] - hh[p] + hh[others]
            new_b = load[bq] - hh[others] + hh[p]
            ok = (new_a <= min(hard, max(target, load[a]))) & (new_b <= np.minimum(hard, np.maximum(target, load[bq])))
            delta = np.where(ok, delta, np.inf)
            j = int(np.argmin(delta))
            if delta[j] < -1e-6:
                q, b = others[j], bq[j]
                assign[p], assign[q] = b, a
                load[a] += hh[q] - hh[p]
                load[b] += hh[p] - hh[q]
                changed = True
        for c in range(k):
            m = assign == c
            if m.any() and hh[m].sum() > 0:
                centres[c] = np.average(xy[m], axis=0, weights=hh[m])
        if not changed:
            break
    return assign


def _order_in_patches(lsoas: pd.DataFrame) -> pd.Series:
    """Visit order of each LSOA within its patch: highest priority first, then the nearest unvisited one."""
    out = pd.Series(pd.NA, index=lsoas.index, dtype="Int64")
    t = lsoas[lsoas["patch_id"].notna()]
    if t.empty:
        return out
    t = t.sort_values(["patch_id", "priority_score", "lsoa_code"], ascending=[True, False, True])
    pid = t["patch_id"].to_numpy(dtype=object)
    xy = t[["x", "y"]].to_numpy(dtype=float)
    steps = np.zeros(len(t), dtype=int)
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
    ends = np.r_[starts[1:], len(t)]
    for a, b in zip(starts, ends, strict=True):
        todo = list(range(a + 1, b))
        cur, step = a, 1
        steps[a] = 1
        while todo:
            d = np.linalg.norm(xy[todo] - xy[cur], axis=1)
            cur = todo.pop(int(np.argmin(d)))
            step += 1
            steps[cur] = step
    out.loc[t.index] = steps
    return out


def _patch_table(lsoas: pd.DataFrame) -> pd.DataFrame:
    t = lsoas[lsoas["patch_id"].notna()]
    w = t["households"].to_numpy(dtype=float)
    g = pd.DataFrame({
        "patch_id": t["patch_id"].to_numpy(dtype=object), "lsoas": 1, "households": t["households"].to_numpy(),
        "population": t["population"].to_numpy(), "core20_lsoas": t["core20"].to_numpy(dtype=int),
        "plus_lsoas": t["plus"].to_numpy(dtype=int), "_wx": t["x"].to_numpy(dtype=float) * w,
        "_wy": t["y"].to_numpy(dtype=float) * w, "_wp": t["priority_score"].to_numpy(dtype=float) * w, "_w": w,
        "eligible_40_74": t["eligible_40_74"].to_numpy(),
        "expected_hypertension_yield": t["expected_hypertension_yield"].to_numpy(dtype=float),
        "smi_register": t["smi_register"].to_numpy(dtype=float), "ld_register": t["ld_register"].to_numpy(dtype=float),
    })
    agg = g.groupby("patch_id", sort=True).sum()
    safe = agg["_w"].where(agg["_w"] > 0, 1.0)
    agg["x"], agg["y"] = agg["_wx"] / safe, agg["_wy"] / safe
    agg["priority"] = (agg["_wp"] / safe).round(2)
    for c in ("expected_hypertension_yield", "smi_register", "ld_register"):
        agg[c] = agg[c].round(1)
    return agg.drop(columns=["_wx", "_wy", "_wp", "_w"]).reset_index()


def _visit_order(lsoas: pd.DataFrame, patch_conn: pd.Series, patch_visit: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Connector and visit order per LSOA from the patches' connector and round order."""
    conn = pd.array(lsoas["patch_id"].map(patch_conn), dtype="Int64")
    pv = lsoas["patch_id"].map(patch_visit).astype("Float64")
    key = pd.DataFrame({"c": conn, "pv": pv, "ip": lsoas["_in_patch"].astype("Float64")}, index=lsoas.index)
    key = key[key["c"].notna()].sort_values(["c", "pv", "ip"])
    order = pd.Series(pd.NA, index=lsoas.index, dtype="Int64")
    order.loc[key.index] = key.groupby("c").cumcount().to_numpy() + 1
    return pd.Series(conn, index=lsoas.index), order


def _plan_core(lsoas: pd.DataFrame, adjacency: pd.DataFrame, *, connectors: int, capacity: float,
               months: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patches, connector assignment and visit order for scored LSOAs with a ``target`` flag."""
    lsoas = lsoas.copy()
    targets = lsoas[lsoas["target"]]
    pid = pd.Series(None, index=lsoas.index, dtype=object)
    pid.loc[targets.index] = build_patches(targets, adjacency, max_households=capacity * months).to_numpy()
    lsoas["patch_id"] = pid
    lsoas["_in_patch"] = _order_in_patches(lsoas)
    patches = _patch_table(lsoas)
    a = assign_connectors(patches, connectors=connectors, capacity=capacity, months=months)
    patches = pd.concat([patches, a], axis=1)
    pmap = patches.set_index("patch_id")
    lsoas["connector"], lsoas["visit_order"] = _visit_order(lsoas, pmap["connector"], pmap["patch_visit"])
    return lsoas, patches


def _months_to_cover(lsoas: pd.DataFrame, patches: pd.DataFrame, *, connectors: int, capacity: float) -> int | None:
    """Months until every Core20 and PLUS household is visited when no patch is left out."""
    c20p = lsoas["core20"] | lsoas["plus"]
    if not c20p.any():
        return None
    a = assign_connectors(patches, connectors=connectors, capacity=capacity, months=None)
    conn, order = _visit_order(lsoas, pd.Series(a["connector"].to_numpy(), index=patches["patch_id"].to_numpy()),
                               pd.Series(a["patch_visit"].to_numpy(), index=patches["patch_id"].to_numpy()))
    t = pd.DataFrame({"c": conn, "o": order, "hh": lsoas["households"], "k": c20p})
    t = t[t["c"].notna()].sort_values(["c", "o"])
    t["done"] = t.groupby("c")["hh"].cumsum()
    worst = float(t.loc[t["k"], "done"].max()) if t["k"].any() else 0.0
    return math.ceil(worst / capacity)


# --------------------------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------------------------


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


def _not_target_reason(edition: int, decile: int, score: float, score_cut: float | None) -> str:
    bits = [f"not Core20 (IMD {int(edition)} decile {int(decile)})", "meets no PLUS rule"]
    if score_cut is not None:
        bits.append(f"priority score {score:.1f} below the cut of {score_cut:g}")
    return "; ".join(bits)


def check_settings(connectors: Any, capacity: Any, months: Any, score_cut: Any = None) -> None:
    """Refuse plan settings outside their limits, with one clear sentence (shared by the app and the CLI).

    Raises
    ------
    ValueError
        Naming the setting, its value and the allowed range (:data:`MAX_CONNECTORS`, :data:`MAX_CAPACITY`,
        :data:`MAX_MONTHS`; a score cut lies in 0–100).
    """
    def num(v: Any) -> float:
        try:
            return float(v)
        except (TypeError, ValueError):
            return float("nan")

    c = num(connectors)
    if not np.isfinite(c) or c != int(c) or not 1 <= c <= MAX_CONNECTORS:
        raise ValueError(f"connectors must be a whole number from 1 to {MAX_CONNECTORS}, not {connectors}")
    if not 0 < num(capacity) <= MAX_CAPACITY:  # NaN fails every comparison
        raise ValueError(f"capacity must be a number of households per connector per month above 0 and at most "
                         f"{MAX_CAPACITY:,}, not {capacity}")
    if not 0 < num(months) <= MAX_MONTHS:
        raise ValueError(f"months must be above 0 and at most {MAX_MONTHS}, not {months}")
    if score_cut is not None and not 0 <= num(score_cut) <= 100:
        raise ValueError(f"the score cut must be a number from 0 to 100 (priority scores lie in 0–100), "
                         f"not {score_cut}")


def plan_outreach(atlas: Atlas, *, pcn: str | None = None, icb: str | None = None,
                  connectors: int = DEFAULT_CONNECTORS, capacity: float = DEFAULT_CAPACITY,
                  months: float = DEFAULT_MONTHS, weights: Mapping[str, float] | str | None = None,
                  plus_rules=None, plus_combine: str = "any", score_cut: float | None = None, imd: int = 2025,
                  adjacency: pd.DataFrame | None = None) -> OutreachPlan:
    r"""Plan outreach for a PCN's indicative footprint or an ICB.

    Parameters
    ----------
    atlas
        The loaded atlas.
    pcn, icb
        Exactly one: a PCN code (its indicative footprint: LSOAs where it holds most registered residents), or
        an ICB (ONS code, NHS code or name).
    connectors
        Number of connectors.
    capacity
        Households one connector visits per month (default 100).
    months
        Plan horizon. A patch holds at most ``capacity × months`` households and so does each connector.
    weights
        Priority weights over :data:`targeting.priority.DEFAULT_WEIGHTS` (mapping or ``"k=v,..."``).
    plus_rules, plus_combine
        PLUS rules (default ``targeting.plus.DEFAULT_PLUS_RULES``), evaluated over the area's ICB.
    score_cut
        Also target LSOAs with a priority score at or above this (0–100).
    imd
        IMD edition for deprivation and Core20: 2025 (default) or 2019 (carried to LSOA 2021).
    adjacency
        Precomputed :func:`targeting.patches.lsoa_adjacency` covering the area (e.g. its whole ICB), to reuse
        across plans; computed for the area when omitted.

    Returns
    -------
    OutreachPlan

    Notes
    -----
    Targets are Core20 ∪ PLUS (∪ score ≥ cut). Every LSOA of the area is in ``plan.lsoas`` with a ``status``:
    ``planned`` (has a connector and a visit order), ``waiting`` (a target that does not fit the connectors'
    capacity in the horizon; ``reason`` says why) or ``not a target`` (with the reason). ``months_to_cover``
    assigns every target patch with no horizon cap and takes the month in which the last Core20 or PLUS
    household is reached, i.e. :math:`\lceil \max_c L_c / \text{capacity} \rceil` where :math:`L_c` is
    connector *c*'s households up to its last Core20/PLUS LSOA.
    """
    check_settings(connectors, capacity, months, score_cut)
    w = parse_weights(weights)
    area, codes, plus_area = _resolve_area(atlas, pcn, icb)
    if not codes:
        raise AreaNotFound(f"{area['label']} has no LSOA where it holds most registered residents")
    inputs = outreach_inputs(atlas, codes, imd=imd, plus_rules=plus_rules, plus_combine=plus_combine,
                             plus_area=plus_area)
    scores = priority_scores(inputs, w, imd=imd)
    # Plain frames while planning (GeoDataFrame indexing is slow); geometry is joined back at the end.
    geometry = pd.Series(inputs.geometry.to_numpy(), index=inputs["lsoa_code"].to_numpy())
    lsoas = pd.concat([pd.DataFrame(inputs.drop(columns="geometry")), scores], axis=1)
    lsoas["target"] = lsoas["core20"] | lsoas["plus"]
    if score_cut is not None:
        lsoas["target"] |= lsoas["priority_score"] >= float(score_cut)
    lsoas["expected_hypertension_yield"] = lsoas["expected_undiagnosed"].round(1)
    lsoas["expected_hypertension_yield_lower"] = lsoas["expected_undiagnosed_lower"].round(1)
    lsoas["expected_hypertension_yield_upper"] = lsoas["expected_undiagnosed_upper"].round(1)
    if adjacency is None:
        tgt = lsoas.loc[lsoas["target"], ["lsoa_code"]]
        adjacency = lsoa_adjacency(gpd.GeoDataFrame(tgt, geometry=geometry.loc[tgt["lsoa_code"]].to_numpy(),
                                                    crs=27700))
    else:
        keep = set(codes)
        adjacency = adjacency[adjacency["lsoa_code"].isin(keep) & adjacency["neighbour_code"].isin(keep)]
    lsoas, patches = _plan_core(lsoas, adjacency, connectors=int(connectors), capacity=float(capacity),
                                months=float(months))

    preason = dict(zip(patches["patch_id"], patches["reason"], strict=True))
    planned = lsoas["connector"].notna().to_numpy()
    target = lsoas["target"].to_numpy()
    lsoas["status"] = np.where(~target, "not a target", np.where(planned, "planned", "waiting"))
    lsoas["reason"] = [
        "" if p else (str(preason.get(pid, "")) if t else _not_target_reason(ed, dec, sc, score_cut))
        for p, t, pid, ed, dec, sc in zip(planned, target, lsoas["patch_id"], lsoas["imd_edition"],
                                          lsoas["imd_decile"], lsoas["priority_score"], strict=True)]

    in_patch = lsoas[lsoas["patch_id"].notna()]
    members = in_patch.groupby("patch_id")["lsoa_code"].agg(list)
    patches["lsoa_codes"] = patches["patch_id"].map(members.map(";".join))
    union = [shapely.union_all(geometry.loc[members[pid]].to_numpy()) for pid in patches["patch_id"]]
    patches = gpd.GeoDataFrame(patches, geometry=union, crs=27700)
    patches["months_of_work"] = (patches["households"] / float(capacity)).round(1)
    patches["status"] = np.where(patches["connector"].notna(), "planned", "waiting")
    patches = patches.sort_values(["connector", "patch_visit", "patch_id"], na_position="last")
    patches = patches.reset_index(drop=True)

    cap_total = float(capacity) * float(months)
    conn = _connector_table(lsoas, patches, connectors=int(connectors), cap_total=cap_total, capacity=capacity)
    lsoas = lsoas.sort_values(["connector", "visit_order", "priority_rank"], na_position="last").reset_index(drop=True)
    mtc = _months_to_cover(lsoas, patches, connectors=int(connectors), capacity=float(capacity))
    lsoas = gpd.GeoDataFrame(lsoas.drop(columns=["_in_patch"]), geometry=geometry.loc[lsoas["lsoa_code"]].to_numpy(),
                             crs=27700)
    settings = {
        "area": area["label"], "connectors": int(connectors), "capacity_per_month": float(capacity),
        "months": float(months), "capacity_per_connector": cap_total, "weights": w,
        "default_weights": dict(DEFAULT_WEIGHTS), "imd": imd, "score_cut": score_cut,
        "plus_rules": _describe_rules(plus_rules, plus_combine), "plus_combine": plus_combine,
    }
    return OutreachPlan(area=area, lsoas=lsoas, patches=patches, connectors=conn, settings=settings,
                        months_to_cover=mtc, adjacency=adjacency.reset_index(drop=True),
                        sources=[s.format(imd=imd, geo=atlas.edition(imd).on_lsoa21) for s in _SOURCES])


def _describe_rules(rules, combine: str) -> str:
    from targeting.plus import describe_rules

    return describe_rules(rules, combine=combine)


def _connector_table(lsoas: pd.DataFrame, patches: pd.DataFrame, *, connectors: int, cap_total: float,
                     capacity: float) -> pd.DataFrame:
    rows = []
    for c in range(1, connectors + 1):
        p = patches[patches["connector"] == c]
        mine = lsoas[lsoas["connector"] == c]
        hh = int(mine["households"].sum())
        rows.append({"connector": c, "patches": len(p), "lsoas": len(mine), "households": hh,
                     "population": int(mine["population"].sum()), "capacity_households": cap_total,
                     "load_pct": round(100 * hh / cap_total, 1) if cap_total else 0.0,
                     "months_of_work": round(hh / capacity, 1),
                     "eligible_40_74": int(mine["eligible_40_74"].sum()),
                     "expected_hypertension_yield": round(float(mine["expected_hypertension_yield"].sum()), 1),
                     "smi_register": round(float(mine["smi_register"].sum()), 1),
                     "ld_register": round(float(mine["ld_register"].sum()), 1)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------------------


def _coverage(lsoas: pd.DataFrame, capacity: float, months: float) -> float:
    """Core20/PLUS residents visited by ``months``, each connector working down its visit order."""
    c20p = (lsoas["core20"] | lsoas["plus"]).to_numpy()
    covered = 0.0
    planned = lsoas[lsoas["connector"].notna()]
    for _, mine in planned.groupby("connector"):
        mine = mine.sort_values("visit_order")
        hh = mine["households"].to_numpy(dtype=float)
        before = np.concatenate([[0.0], np.cumsum(hh)[:-1]])
        frac = np.clip((capacity * months - before) / np.where(hh > 0, hh, 1.0), 0.0, 1.0)
        pos = lsoas.index.get_indexer(mine.index)
        covered += float((frac * mine["population"].to_numpy(dtype=float) * c20p[pos]).sum())
    return covered


def scenario(plan: OutreachPlan, *, connectors: Sequence[int] = (1, 2, 3, 4, 6),
             capacities: Sequence[float] = (50, 100, 150, 200), months: Sequence[float] = (3, 6, 12)) -> pd.DataFrame:
    """Share of the area's Core20 and PLUS residents covered after each horizon, as resources change.

    Parameters
    ----------
    plan
        A plan from :func:`plan_outreach` (its scores, targets and adjacency are reused).
    connectors, capacities, months
        Numbers of connectors, households per connector per month, and horizons to report.

    Returns
    -------
    pandas.DataFrame
        One row per (connectors, capacity, months): ``households_visited``, ``core20plus_residents``,
        ``residents_covered``, ``share_covered`` (0–1) and ``pct_covered``.

    Notes
    -----
    For each (connectors, capacity) the patches and assignment are rebuilt with the longest horizon as the plan
    horizon. A connector visits ``capacity`` households a month down their visit order; an LSOA part-visited by
    month *m* counts the visited fraction of its households, applied to its residents (households of a similar
    size). Share = covered Core20/PLUS residents ÷ all Core20/PLUS residents of the area.
    """
    if not len(months):
        raise ValueError("give at least one horizon in months")
    lsoas = plan.lsoas.drop(columns=["patch_id", "connector", "visit_order"])
    total = float(plan.lsoas.loc[plan.lsoas["core20"] | plan.lsoas["plus"], "population"].sum())
    horizon = float(max(months))
    rows = []
    for n in connectors:
        for cap in capacities:
            planned, _ = _plan_core(lsoas, plan.adjacency, connectors=int(n), capacity=float(cap), months=horizon)
            for m in months:
                covered = _coverage(planned, float(cap), float(m))
                visited = float(np.minimum(
                    planned[planned["connector"].notna()].groupby("connector")["households"].sum(),
                    float(cap) * float(m)).sum())
                rows.append({"connectors": int(n), "capacity": float(cap), "months": float(m),
                             "households_visited": round(visited), "core20plus_residents": round(total),
                             "residents_covered": round(covered),
                             "share_covered": round(covered / total, 4) if total else 0.0,
                             "pct_covered": round(100 * covered / total, 1) if total else 0.0})
    return pd.DataFrame(rows)
