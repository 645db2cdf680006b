"""Outreach plans for Core20PLUS connectors and health checks: the plan and how it is made.

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
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.atlas import Atlas
from targeting.areas import AreaNotFound
from targeting.health_checks import DEFAULT_HEALTH_CHECK, HealthCheckParams, health_check_new_hypertension
from targeting.outreach.inputs import _plan_area, _postcodes_left, _postcodes_of, outreach_inputs
from targeting.outreach.tables import (
    _connector_table,
    _lsoa_outcome,
    _patch_table,
    _patches_geojson,
    _round_rows,
    _rounds_frame,
    _rounds_geojson,
    _targets_frame,
)
from targeting.patches import lsoa_adjacency
from targeting.priority import DEFAULT_WEIGHTS, parse_weights, priority_order, priority_scores
from targeting.programme import Done

if TYPE_CHECKING:
    from targeting.scope import Scope

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_CONNECTORS",
    "DEFAULT_MONTHS",
    "MAX_CAPACITY",
    "MAX_CONNECTORS",
    "MAX_MONTHS",
    "MIN_CAPACITY",
    "OutreachPlan",
    "check_settings",
    "plan_outreach",
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
        return _targets_frame(self.lsoas)

    def rounds_table(self) -> pd.DataFrame:
        """The ``rounds.csv`` table: :data:`ROUND_COLUMNS`, one row per stop of a planned round or caseload.

        ``month`` is empty in caseload mode (the stops are the worker's standing monthly round);
        ``households_est`` is about (an LSOA's Census 2021 households shared among its postcodes).
        """
        return _rounds_frame(self.rounds)

    def rounds_geojson(self) -> str:
        """The planned stops as GeoJSON points (EPSG:4326) with :data:`ROUND_COLUMNS`, settings and sources."""
        return _rounds_geojson(self.rounds_table(), self.area, self.settings, self.sources)

    def patches_geojson(self) -> str:
        """The patches as GeoJSON (EPSG:4326) with their figures, the plan settings and sources."""
        return _patches_geojson(self.patches, self.area, self.settings, self.sources)


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



def plan_outreach(scope: Scope, *, connectors: int = DEFAULT_CONNECTORS, capacity: float = DEFAULT_CAPACITY,
                  months: float = DEFAULT_MONTHS, weights: Mapping[str, float] | str | None = None,
                  score_cut: float | None = None, adjacency: pd.DataFrame | None = None, mode: str = "campaign",
                  health_check: HealthCheckParams | None = None, start: str | None = None,
                  names: Sequence[str] | str | None = None, done: Done | None = None) -> OutreachPlan:
    r"""Plan outreach for a PCN's indicative footprint or an ICB, down to postcode rounds.

    Parameters
    ----------
    scope
        The area: a PCN (its indicative footprint: LSOAs where it holds most registered residents) or an ICB;
        the IMD edition for deprivation and Core20 (2025, or 2019 carried to LSOA 2021); and the PLUS rules
        (default ``targeting.plus.DEFAULT_PLUS_RULES``), evaluated over the area's ICB.
    connectors
        Number of connectors (campaign) or community health and wellbeing workers (caseload).
    capacity
        Households one connector visits per month (campaign), or one worker's standing caseload (default 100).
    months
        Campaign horizon: each connector has one round a month for this many whole months.
    weights
        ``None`` (default): deprivation first (:func:`targeting.priority.priority_order`). A mapping or
        ``"k=v,..."`` over :data:`targeting.priority.DEFAULT_WEIGHTS`: order by the weighted score instead.
    score_cut
        Also target LSOAs with a priority score at or above this (0–100).
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
    from targeting.programme import add_months, connector_names

    start = _start(start, done)
    named = names is not None
    names = connector_names(names, int(connectors), worker=mode == "caseload")
    hc = health_check or DEFAULT_HEALTH_CHECK
    order_by = "deprivation" if weights is None else "score"
    w = parse_weights(weights)
    atlas = scope.atlas
    area, codes, plus_area = _plan_area(scope)
    if not codes:
        raise AreaNotFound(f"{area['label']} has no LSOA where it holds most registered residents")
    lsoas, geometry = _scored_lsoas(scope, codes, w, plus_area=plus_area, score_cut=score_cut, order_by=order_by,
                                    hc=hc)
    adjacency = _area_adjacency(adjacency, lsoas, geometry, codes, area)
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
    _name_connectors(conn, names, locs)
    rounds["locality_name"] = rounds["locality"].map(locs.set_index("locality")["locality_name"])
    if progress is not None:
        progress["months_to_finish"] = mtc
        progress["finish_month"] = add_months(start, mtc - 1) if mtc else None
    lsoas = lsoas.sort_values(["connector", "visit_order", "priority_rank"], na_position="last").reset_index(drop=True)
    lsoas = gpd.GeoDataFrame(lsoas, geometry=geometry.loc[lsoas["lsoa_code"]].to_numpy(), crs=27700)
    settings = _settings(scope, area, mode=mode, connectors=int(connectors), capacity=float(capacity),
                         months=float(months), cap_total=cap_total, order_by=order_by, weights=w,
                         score_cut=score_cut, hc=hc, start=start, names=names if named else None)
    plan = OutreachPlan(area=area, lsoas=lsoas, patches=patches, connectors=conn, settings=settings,
                        months_to_cover=mtc, adjacency=adjacency.reset_index(drop=True),
                        sources=_sources(scope, hc), rounds=rounds, pieces=_pieces(rp),
                        workers_needed=dict(rp.rounds_needed), localities=_locality_table(locs, rp, mode),
                        progress=progress)
    plan.warnings = _order_warnings(plan)
    return plan


def _start(start: str | None, done: Done | None) -> str:
    """Calendar month of month 1: as given, else the month after the last one done, else next month."""
    from targeting.programme import add_months, start_month

    if start is None and done is not None and done.last_month:
        start = add_months(done.last_month, 1)  # the rest is planned from the month after the last one done
    return start_month(start)


def _scored_lsoas(scope: Scope, codes: list[str], weights: dict[str, float], *, plus_area: list[str],
                  score_cut: float | None, order_by: str, hc: HealthCheckParams) -> tuple[pd.DataFrame, pd.Series]:
    """The area's LSOAs with their inputs, scores, targets, priority order and health-check figures.

    A plain frame (GeoDataFrame indexing is slow while planning), and the geometry by LSOA code beside it.
    """
    inputs = outreach_inputs(scope, codes, plus_area=plus_area)
    scores = priority_scores(inputs, weights)
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
    return lsoas, geometry


def _area_adjacency(adjacency: pd.DataFrame | None, lsoas: pd.DataFrame, geometry: pd.Series, codes: list[str],
                    area: dict[str, Any]) -> pd.DataFrame:
    """The shared-boundary pairs the plan uses: the given ones within the area, else computed for it."""
    if adjacency is None:
        # an ICB's localities need its footprints' neighbours, so every LSOA's; a PCN's rounds only the targets'
        tgt = lsoas.loc[lsoas["target"] | (area["kind"] == "icb"), ["lsoa_code"]]
        return lsoa_adjacency(gpd.GeoDataFrame(tgt, geometry=geometry.loc[tgt["lsoa_code"]].to_numpy(), crs=27700))
    keep = set(codes)
    return adjacency[adjacency["lsoa_code"].isin(keep) & adjacency["neighbour_code"].isin(keep)]


def _name_connectors(conn: pd.DataFrame, names: Sequence[str], locs: pd.DataFrame) -> None:
    """Put each connector's name and locality beside its number (connectors are numbered locality by locality)."""
    conn.insert(1, "connector_name", names)
    who = np.repeat(np.arange(len(locs)), locs["connectors"].to_numpy(dtype=int))
    conn.insert(2, "locality", locs["locality"].to_numpy()[who])
    conn.insert(3, "locality_name", locs["locality_name"].to_numpy()[who])


def _settings(scope: Scope, area: dict[str, Any], *, mode: str, connectors: int, capacity: float, months: float,
              cap_total: float, order_by: str, weights: dict[str, float], score_cut: float | None,
              hc: HealthCheckParams, start: str, names: Sequence[str] | None) -> dict[str, Any]:
    """The plan's settings, as every export states them (``names``: only when the user named the connectors)."""
    atlas, imd, plus_rules, plus_combine = scope.atlas, scope.imd, scope.plus_rules, scope.plus_combine
    settings = {
        "area": area["label"], "mode": mode, "connectors": connectors, "capacity_per_month": capacity,
        "months": months, "capacity_per_connector": cap_total, "order": order_by,
        "order_words": ("deprivation first: Core20, then PLUS, then other targets; each by national IMD rank"
                        if order_by == "deprivation" else "by the weighted priority score"),
        "weights": weights, "default_weights": dict(DEFAULT_WEIGHTS), "imd": imd, "score_cut": score_cut,
        "plus_rules": _describe_rules(plus_rules, plus_combine), "plus_combine": plus_combine,
        "health_check": hc.describe(), "start": start, "connector_names": names,
    }
    if atlas.month.scaled:  # the registrations behind the figures, when they are not one month's (July 2022)
        settings["registrations"] = atlas.month.statement
    return settings


def _sources(scope: Scope, hc: HealthCheckParams) -> list[str]:
    """Data sources and vintages of a plan, for every export."""
    atlas = scope.atlas
    method = atlas.meta.get("postcodes", {}).get("source", "point in polygon") if isinstance(atlas.meta, dict) \
        else "point in polygon"
    return [atlas.month.relabel(s.format(imd=scope.imd, geo=scope.edition.on_lsoa21, postcode_method=method))
            for s in _SOURCES] + list(hc.sources)


def _pieces(rp) -> pd.DataFrame:
    """The rounds (or neighbourhoods) with the Core20 households each holds."""
    pieces = rp.pieces.copy()
    core_hh = rp.stops[rp.stops["core20"]].groupby("piece")["households_est"].sum()
    pieces["core20_households"] = pieces["piece"].map(core_hh).fillna(0).astype("int64")
    return pieces


def _locality_table(locs: pd.DataFrame, rp, mode: str) -> pd.DataFrame:
    """The localities as the plan states them: without their LSOA lists, with their months to cover (campaign)."""
    return locs.drop(columns="lsoa_codes").assign(
        months_to_cover=pd.array([rp.locality_months.get(x) if mode == "campaign" else None
                                  for x in locs["locality"]], dtype="Int64"))


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



_TIER_WORDS = {1: "; Core20, so visited first, in order of national IMD rank",
               2: "; PLUS (not Core20), so visited after every Core20 neighbourhood, by IMD rank",
               3: "; above the priority score cut, so visited after every Core20 and PLUS neighbourhood",
               4: ""}



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

