"""The figures of an area's panel in the app: a PCN's or a practice's gaps against its ICB and England.

The app's panels show these tables as they are; every figure comes from :mod:`targeting.gaps`,
:mod:`targeting.footprints` and :mod:`targeting.profiles`, so the app holds no analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.stats import byar_ci, significance

if TYPE_CHECKING:
    from targeting.scope import Scope

__all__ = ["GAP_COLUMNS", "gap_table"]

#: Columns of :func:`gap_table`.
GAP_COLUMNS = ("measure", "value", "lower", "upper", "icb", "england", "vs_icb", "vs_england", "unit", "note")

_REGISTER_WORDS = {"hyp": "hypertension", "mh": "severe mental illness", "dm": "diabetes", "ast": "asthma",
                   "copd": "COPD", "ld": "learning disability"}


def _sums(gaps: pd.DataFrame, reg: str) -> tuple[float, float, float]:
    """Recorded, expected and denominator summed over the practices that have the register's data."""
    ok = gaps[f"{reg}_recorded"].notna() & gaps[f"{reg}_expected"].notna()
    g = gaps[ok]
    return (float(g[f"{reg}_recorded"].sum()), float(g[f"{reg}_expected"].sum()),
            float(g[f"{reg}_denominator"].sum()))


def _ratio(gaps: pd.DataFrame, reg: str) -> float:
    rec, exp, _ = _sums(gaps, reg)
    return rec / exp if exp > 0 else np.nan


def _row(measure: str, value: float, lower: float, upper: float, icb: float, england: float, unit: str,
         note: str = "") -> dict[str, Any]:
    vs = [str(significance(lower, upper, c)) if pd.notna(c) and pd.notna(lower) else "not compared"
          for c in (icb, england)]
    return {"measure": measure, "value": value, "lower": lower, "upper": upper, "icb": icb, "england": england,
            "vs_icb": vs[0], "vs_england": vs[1], "unit": unit, "note": note}


def gap_table(scope: Scope) -> pd.DataFrame:
    r"""A PCN's or a practice's gaps as figures with 95% intervals, beside its ICB's and England's values.

    Parameters
    ----------
    scope : targeting.scope.Scope
        A PCN or a practice, and the IMD edition (Core20 for the reach and access rows; the detection models'
        deprivation covariates).

    Returns
    -------
    pandas.DataFrame
        One row per measure, columns :data:`GAP_COLUMNS`: the undiagnosed hypertension estimate (people, with
        limits, and as % of the adult list), recorded ÷ expected for each core QOF register (the figures
        ``pcns`` and ``practices`` print), and for a PCN the registration gap of its indicative footprint, its
        Core20 reach index and the median distance from its Core20 LSOAs to its nearest member practice.
        ``vs_icb``/``vs_england`` say whether the 95% interval excludes the comparator.

    Notes
    -----
    ICB and England values pool every practice with data: :math:`\sum O / \sum E`. The registration gap of
    a footprint is :math:`(\sum R / \sum P) / \bar r - 1` (registered patients over Census 2021 residents,
    relative to England's ratio), with Byar limits on :math:`\sum R` (Poisson only, so narrower than the
    LSOA limits that allow for overdispersion). Access is a measured straight-line distance: no interval.
    """
    from targeting.gaps import CORE_REGISTERS, core20_reach, practice_gaps

    atlas, ed, area = scope.atlas, scope.edition, scope.area
    if area is None or area.kind not in ("pcn", "practice"):
        raise ValueError("a gap table is drawn for a PCN or a practice")
    pcn = area.code if area.kind == "pcn" else None
    pr = atlas.practices
    if pcn is None:
        code = area.code
        hit = pr[pr["practice_code"] == code]
        if hit.empty:
            raise LookupError(f"No practice has the code '{code}'.")
        members = [code]
        icb_nhs = hit["icb_code_nhs"].iloc[0]
    else:
        code = pcn
        members = pr.loc[pr["pcn_code"] == code, "practice_code"].tolist()
        if not members:
            raise LookupError(atlas.month.relabel(f"No practice belongs to PCN '{code}' in the July 2022 practice "
                                                  "→ PCN map."))
        icb_nhs = pr.loc[pr["pcn_code"] == code, "icb_code_nhs"].mode().iloc[0]
    every = practice_gaps(ed)
    in_icb = every[every["practice_code"].isin(pr.loc[pr["icb_code_nhs"] == icb_nhs, "practice_code"])]
    if pcn is None:
        own = every[every["practice_code"] == code].iloc[0]
    else:
        from targeting.gaps import pcn_gaps

        own = pcn_gaps(ed, [code]).iloc[0]  # the figures ``pcns`` prints
    rows = []
    if pd.notna(own.get("hyp_undiagnosed")) and own["hyp_denominator"] > 0:
        und, lo, hi = own["hyp_undiagnosed"], own["hyp_undiagnosed_lower"], own["hyp_undiagnosed_upper"]
        den = own["hyp_denominator"]

        def pct(g: pd.DataFrame) -> float:
            rec, exp, d = _sums(g, "hyp")
            return (exp - rec) / d * 100

        rows.append(_row("Hypertension: people not on a register (expected − recorded)", und, lo, hi, np.nan,
                         np.nan, "people",
                         "PHE 2016 modelled prevalence × QOF 2022-23 adult list, minus the QOF register"))
        rows.append(_row("Hypertension: not on a register, % of adults on the list", und / den * 100, lo / den * 100,
                         hi / den * 100, pct(in_icb), pct(every), "% of patients aged 16+"))
    for reg in (r.lower() for r in CORE_REGISTERS):
        if pd.isna(own.get(f"{reg}_ratio")):
            continue
        rows.append(_row(f"Recorded ÷ expected: {_REGISTER_WORDS.get(reg, reg)}", own[f"{reg}_ratio"],
                         own[f"{reg}_ratio_lower"], own[f"{reg}_ratio_upper"], _ratio(in_icb, reg),
                         _ratio(every, reg), "ratio (1 = as expected; below 1 = fewer recorded than expected)"))
    if pcn is not None:
        rows += _footprint_rows(scope, code, icb_nhs)
        reach = core20_reach(scope).set_index("pcn_code")
        if code in reach.index and pd.notna(reach.at[code, "reach_index"]):
            r = reach.loc[code]
            rows.append(_row("Core20 reach index", r["reach_index"], r["reach_lower"], r["reach_upper"], 1.0,
                             np.nan, "share of the ICB's Core20 patients ÷ share of its patients",
                             "1 = serves Core20 residents in proportion to its size; the ICB is 1 by definition"))
        rows += _access_rows(scope, code)
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))


def _footprint_rows(scope: Scope, pcn: str, icb_nhs: str) -> list[dict[str, Any]]:
    from targeting.footprints import pcn_footprints
    from targeting.gaps import registration_gap

    atlas = scope.atlas
    fp = pcn_footprints(scope.edition_on(2021))
    codes = fp.loc[fp["pcn_code"] == pcn, "lsoa_code"]
    reg = registration_gap(atlas, vintage=2021).set_index("lsoa_code")
    national = float(reg["national_ratio"].iloc[0])
    icb_codes = atlas.lsoa21.loc[atlas.lsoa21["icb_code_nhs"] == icb_nhs, "lsoa_code"]

    def rel(c: pd.Series) -> tuple[float, float, float]:
        t = reg.reindex(c).dropna(subset=["residents"])
        r, p = float(t["registered_patients"].sum()), float(t["residents"].sum())
        lo, hi = byar_ci(np.array([r]))
        e = p * national
        return (r / e - 1) * 100, (float(lo[0]) / e - 1) * 100, (float(hi[0]) / e - 1) * 100

    if codes.empty:
        return []
    v, lo, hi = rel(codes)
    return [_row("Registration gap of the indicative footprint", v, lo, hi, rel(icb_codes)[0], 0.0,
                 "% above (+) or below (−) the registered patients England's ratio predicts from residents",
                 atlas.month.relabel("July 2022 registrations against Census 2021 residents; lists are inflated, "
                                     "so below 0 can mean unregistered residents"))]


def _access_rows(scope: Scope, pcn: str) -> list[dict[str, Any]]:
    from targeting.gaps import access

    acc = access(scope)
    own = acc.loc[acc["pcn_code"] == pcn, "nearest_pcn_practice_m"].dropna()
    if own.empty:
        return []
    return [_row("Median distance from its Core20 LSOAs to a member practice", float(own.median()), np.nan,
                 np.nan, float(acc["nearest_pcn_practice_m"].median()), np.nan, "metres (straight line)",
                 f"{len(own)} Core20 LSOAs where it holds most patients; the ICB: all its Core20 LSOAs to their "
                 "main PCN's nearest practice; a measured distance, so no interval")]
