"""Outreach plans for Core20PLUS connectors and health checks: targets, patches, connectors and scenarios.

A plan covers one area (a PCN's *indicative* footprint or an ICB) on LSOA 2021. Each LSOA gets a transparent
priority score (:mod:`targeting.priority`); target LSOAs (Core20, PLUS, or above a score cut) are grouped into
chains of neighbouring LSOAs (patches); their residential postcodes are put in walking order and cut into rounds
of about the capacity in households (:mod:`targeting.rounds`): a connector's month (``campaign``) or a worker's
standing neighbourhood (``caseload``). Health-check numbers (residents aged 40–74, hypertension in adults 16+
not on a GP register and PHE's modelled undiagnosed component beside it, expected new hypertension diagnoses from
NHS Health Checks, SMI and learning-disability registers) are carried per LSOA, patch and connector.
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
from targeting.health_checks import DEFAULT_HEALTH_CHECK, HealthCheckParams, health_check_new_hypertension
from targeting.patches import lsoa_adjacency
from targeting.priority import COMPONENTS, DEFAULT_WEIGHTS, parse_weights, priority_order, priority_scores
from targeting.programme import Done

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_CONNECTORS",
    "DEFAULT_MONTHS",
    "MAX_CAPACITY",
    "MAX_CONNECTORS",
    "MAX_MONTHS",
    "MIN_CAPACITY",
    "ROUND_COLUMNS",
    "TARGET_COLUMNS",
    "OutreachPlan",
    "outreach_inputs",
    "plan_outreach",
    "scenario",
    "scenario_around",
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
#: The least capacity: below 10 households a connector a month, an area is cut into tens of thousands of rounds
#: (0.001 made 24,000 rounds and a 72 MB visit sheet), and no connector works that way. The app's field starts at 10.
MIN_CAPACITY = 10
MAX_MONTHS = 120

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

_SOURCES = [
    "Index of Multiple Deprivation: MHCLG English Indices of Deprivation {imd} (national ranks, {geo})",
    "Residents, households, ethnic group (TS021), age: ONS Census 2021 (LSOA 2021; ages 40–74 from 6 bands by "
    "LSOA split by single years of the MSOA)",
    "Where patients live, PCN membership: NHS Digital Patients Registered at a GP Practice, July 2022 "
    "(apportioned to LSOA 2021); PCN footprints are indicative",
    "Hypertension not on a register: PHE 2016 modelled prevalence (diagnosed + undiagnosed) minus QOF 2022-23 "
    "registers; undiagnosed hypertension: PHE 2016 modelled undiagnosed component × QOF 2022-23 list aged 16+; "
    "both apportioned to where patients live",
    "SMI and learning disability registers: QOF 2022-23 (NHS Digital), apportioned to where patients live",
    "Postcodes: OS Code-Point Open 2025.2.0 placed in LSOA 2021 ({postcode_method}); households per postcode are "
    "about: each LSOA's Census 2021 households (TS011) shared equally among its postcodes. Contains OS data © Crown "
    "copyright and database right 2025; contains Royal Mail data © Royal Mail copyright and database right 2025",
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
        One row per LSOA of the area (:data:`TARGET_COLUMNS` plus ``tier``, ``x``, ``y`` in EPSG:27700 and
        geometry in EPSG:27700), in visit order then priority.
    patches
        One row per patch (a chain of neighbouring target LSOAs walked in turn): ``patch_id``, ``connector``
        (the first to reach it), ``connectors``, ``patch_visit``, ``lsoas``, ``lsoa_codes``, ``households``,
        ``households_planned``, ``population``, ``core20_lsoas``, ``plus_lsoas``, ``priority``, health-check
        columns, ``months_of_work``, ``status``, geometry (EPSG:27700).
    connectors
        One row per connector (or worker): ``connector``, ``rounds``, ``patches``, ``lsoas``, ``households``,
        ``capacity_households``, ``load_pct``, ``months_of_work`` and health-check totals (shared by households
        where a connector covers part of an LSOA).
    settings
        Mode, connectors, capacity, months, priority order, weights, IMD edition, score cut, PLUS rules,
        health-check parameters.
    months_to_cover
        Months the connectors need to visit every Core20 and PLUS household of the area once (campaign);
        ``None`` when there is none or in caseload mode.
    rounds
        One row per stop of every round (campaign) or neighbourhood (caseload), planned or not:
        :data:`ROUND_COLUMNS` plus ``piece``, ``planned``, ``postcode_households``, ``lsoa_households``,
        ``imd_rank``, ``imd_decile``, ``patch_id`` and ``why``.
    pieces
        One row per round or neighbourhood: ``piece``, ``connector``, ``month``, ``planned``, ``households``,
        ``postcodes``, ``lsoas``, ``chains`` (2 or more: it tops up from a second area), ``core20_households``.
    workers_needed
        Rounds (campaign) or workers (caseload) needed to reach every Core20 household (``core20``) and every
        Core20 and PLUS household (``core20plus``).
    warnings
        Plain-language notes for the sheet, e.g. when the user's weights plan a less deprived LSOA while a more
        deprived Core20 one waits.
    localities
        One row per locality (:data:`targeting.localities.LOCALITY_COLUMNS` but ``lsoa_codes``): where each
        connector works and how many connectors each has. A PCN plan has one.
    progress
        With ``done``: ``households_visited`` (in this area's targets), ``rows_done``, ``postcodes_done``,
        ``last_month``, ``postcodes_elsewhere`` (done postcodes not among the area's targets),
        ``core20plus_households``, ``months_to_finish``, ``finish_month``, ``visited_by_lsoa`` and ``notes``.
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
    rounds: pd.DataFrame = field(default_factory=pd.DataFrame)
    pieces: pd.DataFrame = field(default_factory=pd.DataFrame)
    workers_needed: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    localities: pd.DataFrame = field(default_factory=pd.DataFrame)
    progress: dict[str, Any] | None = None

    def targets_table(self) -> pd.DataFrame:
        """The ``targets.csv`` table: :data:`TARGET_COLUMNS`, one row per LSOA of the area."""
        return pd.DataFrame(self.lsoas[TARGET_COLUMNS]).reset_index(drop=True)

    def rounds_table(self) -> pd.DataFrame:
        """The ``rounds.csv`` table: :data:`ROUND_COLUMNS`, one row per stop of a planned round or caseload.

        ``month`` is empty in caseload mode (the stops are the worker's standing monthly round);
        ``households_est`` is about (an LSOA's Census 2021 households shared among its postcodes).
        """
        r = self.rounds
        if r.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ROUND_COLUMNS})
        return pd.DataFrame(r.loc[r["planned"], ROUND_COLUMNS]).reset_index(drop=True)

    def rounds_geojson(self) -> str:
        """The planned stops as GeoJSON points (EPSG:4326) with :data:`ROUND_COLUMNS`, settings and sources."""
        import json

        t = self.rounds_table()
        feats = []
        for rec in t.to_dict("records"):
            props = {k: (None if (v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA)
                         else (v.item() if hasattr(v, "item") else v)) for k, v in rec.items()}
            feats.append({"type": "Feature", "properties": props,
                          "geometry": {"type": "Point", "coordinates": [props["lon"], props["lat"]]}})
        doc = {"type": "FeatureCollection", "name": f"Outreach rounds: {self.area['name']} ({self.area['code']})",
               "description": ("Postcodes in walking order for each connector and month (campaign) or each "
                               "worker's standing neighbourhood (caseload). Households per postcode are about. "
                               "PCN footprints are indicative."),
               "settings": self.settings, "sources": self.sources, "features": feats}
        return json.dumps(doc)

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

        code = source_hash("*.py", "gaps/*.py", "stats/*.py", "suppression/*.py")
        flat = atlas.memo(("outreach", "national-flat"), make, persist=f"outreach-national-{code}")
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
        Naming the setting, its value and the allowed range (:data:`MAX_CONNECTORS`, :data:`MIN_CAPACITY` to
        :data:`MAX_CAPACITY`, :data:`MAX_MONTHS`; a score cut lies in 0–100).
    """
    def num(v: Any) -> float:
        try:
            return float(v)
        except (TypeError, ValueError):
            return float("nan")

    c = num(connectors)
    if not np.isfinite(c) or c != int(c) or not 1 <= c <= MAX_CONNECTORS:
        raise ValueError(f"connectors must be a whole number from 1 to {MAX_CONNECTORS}, not {connectors}")
    if not MIN_CAPACITY <= num(capacity) <= MAX_CAPACITY:  # NaN fails every comparison
        raise ValueError(f"capacity must be a number of households per connector per month (or per worker's "
                         f"caseload) from {MIN_CAPACITY} to {MAX_CAPACITY:,}, not {capacity}")
    m = num(months)
    if not (1 <= m <= MAX_MONTHS and m == int(m)):  # NaN fails every comparison
        raise ValueError(f"months must be a whole number from 1 to {MAX_MONTHS} (one round per connector a month), "
                         f"not {months}")
    if score_cut is not None and not 0 <= num(score_cut) <= 100:
        raise ValueError(f"the score cut must be a number from 0 to 100 (priority scores lie in 0–100), "
                         f"not {score_cut}")


def plan_outreach(atlas: Atlas, *, pcn: str | None = None, icb: str | None = None,
                  connectors: int = DEFAULT_CONNECTORS, capacity: float = DEFAULT_CAPACITY,
                  months: float = DEFAULT_MONTHS, weights: Mapping[str, float] | str | None = None,
                  plus_rules=None, plus_combine: str = "any", score_cut: float | None = None, imd: int = 2025,
                  adjacency: pd.DataFrame | None = None, mode: str = "campaign",
                  health_check: HealthCheckParams | None = None, start: str | None = None,
                  names: Sequence[str] | str | None = None, done: Done | None = None) -> OutreachPlan:
    r"""Plan outreach for a PCN's indicative footprint or an ICB, down to postcode rounds.

    Parameters
    ----------
    atlas
        The loaded atlas.
    pcn, icb
        Exactly one: a PCN code (its indicative footprint: LSOAs where it holds most registered residents), or
        an ICB (ONS code, NHS code or name).
    connectors
        Number of connectors (campaign) or community health and wellbeing workers (caseload).
    capacity
        Households one connector visits per month (campaign), or one worker's standing caseload (default 100).
    months
        Campaign horizon: each connector has one round a month for this many whole months.
    weights
        ``None`` (default): deprivation first (:func:`targeting.priority.priority_order`). A mapping or
        ``"k=v,..."`` over :data:`targeting.priority.DEFAULT_WEIGHTS`: order by the weighted score instead.
    plus_rules, plus_combine
        PLUS rules (default ``targeting.plus.DEFAULT_PLUS_RULES``), evaluated over the area's ICB.
    score_cut
        Also target LSOAs with a priority score at or above this (0–100).
    imd
        IMD edition for deprivation and Core20: 2025 (default) or 2019 (carried to LSOA 2021).
    adjacency
        Precomputed :func:`targeting.patches.lsoa_adjacency` covering the area (e.g. its whole ICB), to reuse
        across plans; computed for the area when omitted.
    mode
        ``"campaign"`` (each target household visited once; a round a month per connector) or ``"caseload"``
        (each worker keeps one neighbourhood of about ``capacity`` households, visited every month).
    health_check
        Parameters of the expected new hypertension diagnoses (default
        :data:`targeting.health_checks.DEFAULT_HEALTH_CHECK`).
    start
        Calendar month of month 1, ``YYYY-MM`` (default: next month); ``rounds.csv``'s ``month_start``.
    names
        The connectors' (or workers') names, one each, in order: a list or ``"A,B,C"`` (default "Connector 1"…);
        ``rounds.csv``'s ``connector_name``.
    done
        What an earlier plan's rounds say was done (:func:`targeting.programme.read_done`): the households visited
        at each postcode are not planned again, and ``start`` defaults to the month after the last one done.
        ``plan.progress`` then says how far the campaign has come.

    Returns
    -------
    OutreachPlan

    Notes
    -----
    Targets are Core20 ∪ PLUS (∪ score ≥ cut). Every LSOA of the area is in ``plan.lsoas`` with a ``status``:
    ``planned`` (all its households are in planned rounds), ``part planned``, ``waiting`` (a target beyond the
    connectors' capacity; ``reason`` says why) or ``not a target`` (with the reason). In campaign mode
    ``months_to_cover`` is :math:`\lceil R / N \rceil` where :math:`R` is the number of rounds up to the last
    one holding a Core20 or PLUS household and :math:`N` the connectors.
    """
    from targeting.rounds import MODES, plan_rounds

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    check_settings(connectors, capacity, months, score_cut)
    from targeting.programme import add_months, connector_names, start_month

    if start is None and done is not None and done.last_month:
        start = add_months(done.last_month, 1)  # the rest is planned from the month after the last one done
    start = start_month(start)
    named = names is not None
    names = connector_names(names, int(connectors), worker=mode == "caseload")
    hc = health_check or DEFAULT_HEALTH_CHECK
    order_by = "deprivation" if weights is None else "score"
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
    # Plain object strings while planning: many small lookups, each slow on Arrow-backed strings.
    lsoas = lsoas.astype({c: object for c in lsoas.columns if pd.api.types.is_string_dtype(lsoas[c])})
    lsoas["target"] = lsoas["core20"] | lsoas["plus"]
    if score_cut is not None:
        lsoas["target"] |= lsoas["priority_score"] >= float(score_cut)
    order = priority_order(lsoas, by=order_by)
    lsoas["tier"], lsoas["priority_rank"] = order["tier"], order["priority_rank"]
    if order_by == "deprivation":  # the weighted score does not set the order, so the reason says what does
        lsoas["why"] = lsoas["why"].str.replace(r"; score [^;]*$", "", regex=True) + lsoas["tier"].map(_TIER_WORDS)
    for name, col in (("hypertension_not_on_register_16plus", "expected_undiagnosed"),
                      ("hypertension_undiagnosed_phe_16plus", "hyp_undiagnosed_phe")):
        for s in ("", "_lower", "_upper"):
            lsoas[f"{name}{s}"] = lsoas[f"{col}{s}"].round(1)
    lsoas = pd.concat([lsoas, health_check_new_hypertension(lsoas["eligible_40_74"], hc)], axis=1)
    if adjacency is None:
        # an ICB's localities need its footprints' neighbours, so every LSOA's; a PCN's rounds only the targets'
        tgt = lsoas.loc[lsoas["target"] | (area["kind"] == "icb"), ["lsoa_code"]]
        adjacency = lsoa_adjacency(gpd.GeoDataFrame(tgt, geometry=geometry.loc[tgt["lsoa_code"]].to_numpy(),
                                                    crs=27700))
    else:
        keep = set(codes)
        adjacency = adjacency[adjacency["lsoa_code"].isin(keep) & adjacency["neighbour_code"].isin(keep)]

    locs = _localities(atlas, lsoas, adjacency, area, int(connectors))
    lsoas = _with_localities(lsoas, locs)
    targets = lsoas[lsoas["target"]].sort_values("priority_rank")
    postcodes, progress = _postcodes_left(_postcodes_of(atlas, targets["lsoa_code"]), done, lsoas)
    rp = plan_rounds(targets, postcodes, adjacency, mode=mode, connectors=int(connectors), capacity=float(capacity),
                     months=float(months), localities=locs[["locality", "connectors", "lsoa_codes"]])
    whole_months = max(1, math.floor(float(months) + 1e-9))
    lsoas = _lsoa_outcome(lsoas, rp, score_cut=score_cut, connectors=int(connectors), capacity=float(capacity),
                          months=whole_months, visited=None if progress is None else progress["visited_by_lsoa"])
    patches = _patch_table(lsoas, rp, geometry, capacity=float(capacity))
    cap_total = float(capacity) * (whole_months if mode == "campaign" else 1)
    conn = _connector_table(lsoas, rp, connectors=int(connectors), cap_total=cap_total, capacity=float(capacity),
                            mode=mode)
    mtc = (rp.months_needed.get("core20plus", 0) or None) if mode == "campaign" else None
    rounds = _round_rows(lsoas, rp, names=names, start=start)
    conn.insert(1, "connector_name", names)
    who = np.repeat(np.arange(len(locs)), locs["connectors"].to_numpy(dtype=int))
    conn.insert(2, "locality", locs["locality"].to_numpy()[who])
    conn.insert(3, "locality_name", locs["locality_name"].to_numpy()[who])
    rounds["locality_name"] = rounds["locality"].map(locs.set_index("locality")["locality_name"])
    if progress is not None:
        progress["months_to_finish"] = mtc
        progress["finish_month"] = add_months(start, mtc - 1) if mtc else None
    lsoas = lsoas.sort_values(["connector", "visit_order", "priority_rank"], na_position="last").reset_index(drop=True)
    lsoas = gpd.GeoDataFrame(lsoas, geometry=geometry.loc[lsoas["lsoa_code"]].to_numpy(), crs=27700)
    method = atlas.meta.get("postcodes", {}).get("source", "point in polygon") if isinstance(atlas.meta, dict) \
        else "point in polygon"
    settings = {
        "area": area["label"], "mode": mode, "connectors": int(connectors), "capacity_per_month": float(capacity),
        "months": float(months), "capacity_per_connector": cap_total, "order": order_by,
        "order_words": ("deprivation first: Core20, then PLUS, then other targets; each by national IMD rank"
                        if order_by == "deprivation" else "by the weighted priority score"),
        "weights": w, "default_weights": dict(DEFAULT_WEIGHTS), "imd": imd, "score_cut": score_cut,
        "plus_rules": _describe_rules(plus_rules, plus_combine), "plus_combine": plus_combine,
        "health_check": hc.describe(), "start": start, "connector_names": names if named else None,
    }
    if atlas.month.scaled:  # the registrations behind the figures, when they are not one month's (July 2022)
        settings["registrations"] = atlas.month.statement
    pieces = rp.pieces.copy()
    core_hh = rp.stops[rp.stops["core20"]].groupby("piece")["households_est"].sum()
    pieces["core20_households"] = pieces["piece"].map(core_hh).fillna(0).astype("int64")
    plan = OutreachPlan(area=area, lsoas=lsoas, patches=patches, connectors=conn, settings=settings,
                        months_to_cover=mtc, adjacency=adjacency.reset_index(drop=True),
                        sources=[atlas.month.relabel(s.format(imd=imd, geo=atlas.edition(imd).on_lsoa21,
                                                                      postcode_method=method))
                                 for s in _SOURCES] + list(hc.sources),
                        rounds=rounds, pieces=pieces, workers_needed=dict(rp.rounds_needed),
                        localities=locs.drop(columns="lsoa_codes").assign(
                            months_to_cover=pd.array([rp.locality_months.get(x) if mode == "campaign" else None
                                                      for x in locs["locality"]], dtype="Int64")),
                        progress=progress)
    plan.warnings = _order_warnings(plan)
    return plan


def _localities(atlas: Atlas, lsoas: pd.DataFrame, adjacency: pd.DataFrame, area: dict[str, Any],
                connectors: int) -> pd.DataFrame:
    """The plan's localities: an ICB's PCN footprints merged where small; a PCN's footprint is one locality.

    See :mod:`targeting.localities`. A PCN plan's one locality has every connector.
    """
    from targeting.localities import LOCALITY_COLUMNS, build_localities

    if area["kind"] == "icb":
        names = dict(zip(atlas.pcns["pcn_code"], atlas.pcns["pcn_name"], strict=True))
        return build_localities(lsoas, adjacency, connectors=connectors, pcn_names=names)[0]
    t = lsoas[lsoas["target"]]
    hh = t["households"].astype(float)
    core = float(hh[t["core20"]].sum())
    plus = float(hh[~t["core20"] & t["plus"]].sum())
    return pd.DataFrame([{"locality": "L01", "locality_name": f"{area['name']} ({area['code']})",
                          "pcn_codes": area["code"], "connectors": connectors, "core20_households": round(core),
                          "plus_households": round(plus), "target_households": round(float(hh.sum())),
                          "lsoas": len(lsoas), "lsoa_codes": list(lsoas["lsoa_code"])}], columns=LOCALITY_COLUMNS)


def _with_localities(lsoas: pd.DataFrame, locs: pd.DataFrame) -> pd.DataFrame:
    """Each LSOA's locality and the locality's share of connectors (the allocation, stated in targets.csv)."""
    of = {c: lid for lid, codes in zip(locs["locality"], locs["lsoa_codes"], strict=True) for c in codes}
    by = locs.set_index("locality")
    loc = lsoas["lsoa_code"].map(of)
    lsoas["locality"] = loc
    lsoas["locality_name"] = loc.map(by["locality_name"])
    for col, src in (("locality_connectors", "connectors"), ("locality_core20_households", "core20_households"),
                     ("locality_plus_households", "plus_households")):
        lsoas[col] = pd.array(loc.map(by[src]).to_numpy(dtype=float, na_value=np.nan), dtype="Float64").astype(
            "Int64") if len(lsoas) else pd.array([], dtype="Int64")
    return lsoas


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


_TIER_WORDS = {1: "; Core20, so visited first, in order of national IMD rank",
               2: "; PLUS (not Core20), so visited after every Core20 neighbourhood, by IMD rank",
               3: "; above the priority score cut, so visited after every Core20 and PLUS neighbourhood",
               4: ""}


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


def _order_warnings(plan: OutreachPlan) -> list[str]:
    """Say in words when the user's weights plan a less deprived LSOA while a more deprived Core20 LSOA waits."""
    if plan.settings.get("order") != "score":
        return []
    t = plan.lsoas
    reached = t[t["households_planned"] > 0]
    waiting = t[t["core20"] & t["target"] & t["status"].isin(["waiting", "part planned"])]
    if reached.empty or waiting.empty:
        return []
    out = []
    for _, w in waiting.sort_values("imd_rank").iterrows():
        less = reached[reached["imd_rank"] > w["imd_rank"]].sort_values("imd_rank", ascending=False)
        if less.empty:
            continue
        worst = less.iloc[0]
        out.append(
            f"Your priority weights plan {worst['lsoa_name']} ({worst['lsoa_code']}, IMD {plan.settings['imd']} "
            f"rank {int(worst['imd_rank']):,}, decile {int(worst['imd_decile'])}) while {w['lsoa_name']} "
            f"({w['lsoa_code']}), a Core20 neighbourhood ranked {int(w['imd_rank']):,} (decile "
            f"{int(w['imd_decile'])}, more deprived), "
            f"{'is only partly planned' if w['status'] == 'part planned' else 'waits'}. "
            "With the default deprivation-first order it would come first.")
    if len(out) > 3:
        out = [*out[:3], f"… and {len(out) - 3} more Core20 neighbourhoods wait while less deprived ones are planned."]
    return out


def _describe_rules(rules, combine: str) -> str:
    from targeting.plus import describe_rules

    return describe_rules(rules, combine=combine)


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


# --------------------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------------------


def scenario(plan: OutreachPlan, *, connectors: Sequence[int] = (1, 2, 3, 4, 6),
             capacities: Sequence[float] = (50, 100, 150, 200), months: Sequence[float] = (3, 6, 12)) -> pd.DataFrame:
    r"""Share of the area's Core20 and PLUS residents reached after each horizon, as resources change (campaign).

    Parameters
    ----------
    plan
        A plan from :func:`plan_outreach` (its walking sequence of postcodes is reused).
    connectors, capacities, months
        Numbers of connectors, households per connector per month, and horizons to report.

    Returns
    -------
    pandas.DataFrame
        One row per (connectors, capacity, months): ``households_visited``, ``core20plus_residents``,
        ``residents_covered``, ``share_covered`` (0–1) and ``pct_covered``.

    Notes
    -----
    For each capacity the plan's postcode sequence is cut again into rounds of that size; with *n* connectors,
    the first :math:`n \\lfloor m \rfloor` rounds are done by month *m*. An LSOA part-visited counts the visited
    share of its households, applied to its residents. Share = covered Core20/PLUS residents ÷ all Core20/PLUS
    residents of the area.
    """
    from targeting.rounds import cut_rounds

    if not len(months):
        raise ValueError("give at least one horizon in months")
    t = plan.lsoas
    c20p = t[t["core20"] | t["plus"]].set_index("lsoa_code")
    total = float(c20p["population"].sum())
    per_hh = (c20p["population"] / c20p["households"].where(c20p["households"] > 0)).fillna(0.0)
    seq = _sequence_of(plan)
    rows = []
    for cap in capacities:
        stops = cut_rounds(seq, capacity=float(cap), order_walks=False).stops if len(seq) else seq
        for n in connectors:
            for m in months:
                done = stops[stops["piece"] < int(n) * max(1, math.floor(float(m) + 1e-9))] if len(stops) \
                    else stops
                hh = done.groupby("lsoa_code")["households_est"].sum() if len(done) else pd.Series(dtype=float)
                covered = float((hh.reindex(per_hh.index).fillna(0) * per_hh).sum())
                rows.append({"connectors": int(n), "capacity": float(cap), "months": float(m),
                             "households_visited": int(hh.sum()), "core20plus_residents": round(total),
                             "residents_covered": round(covered),
                             "share_covered": round(covered / total, 4) if total else 0.0,
                             "pct_covered": round(100 * covered / total, 1) if total else 0.0})
    return pd.DataFrame(rows).sort_values(["connectors", "capacity", "months"]).reset_index(drop=True)


def _sequence_of(plan: OutreachPlan) -> pd.DataFrame:
    """The plan's walking sequence of postcodes (whole postcodes, in the order they were cut)."""
    r = plan.rounds
    if r.empty:
        return pd.DataFrame(columns=["postcode", "lsoa_code", "households_est", "chain", "easting", "northing"])
    seq = r.sort_values(["piece", "stop"]).drop_duplicates("postcode")
    chain = seq["chain"]
    return pd.DataFrame({"postcode": seq["postcode"].to_numpy(), "lsoa_code": seq["lsoa_code"].to_numpy(),
                         "households_est": seq["postcode_households"].to_numpy(), "chain": chain.to_numpy(),
                         "easting": seq["easting"].to_numpy(dtype=float),
                         "northing": seq["northing"].to_numpy(dtype=float)})


def scenario_around(plan: OutreachPlan) -> pd.DataFrame:
    """:func:`scenario` around the plan's own resources (the table the CLI and the app print).

    Half, the same, twice and four times the plan's connectors, and half, the same and twice its capacity,
    after 3, 6 and 12 months.
    """
    n, cap = int(plan.settings["connectors"]), float(plan.settings["capacity_per_month"])
    return scenario(plan, connectors=sorted({max(1, n // 2), n, 2 * n, 4 * n}),
                    capacities=sorted({cap / 2, cap, 2 * cap}), months=(3, 6, 12))
