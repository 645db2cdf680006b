r"""Compare an ICB's PCNs fairly: side by side with confidence intervals, funnel-plot limits and the SII.

Rows are ordered by deprivation (registration-weighted IMD score, most deprived first), never by performance:
this is not a league table. Each PCN's value carries its 95% interval and a neutral flag against the ICB
and England values; funnel-plot limits (95% and 99.8%) around the ICB value show which differences are larger
than chance alone would give for a PCN of that size.

**Adjusted measures first.** A QOF register is compared first as **recorded ÷ expected** (``hyp_ratio``,
``dm_ratio``, …; :data:`ADJUSTED`), the detection gap of :mod:`targeting.gaps`: for hypertension the expected count
comes from PHE's 2016 modelled prevalence of each practice's adults (age-adjusted), for the other registers from an
indirect standardisation on a national regression (age bands of the QOF lists, deprivation, ethnic mix). Crude
recorded prevalence (``qof_<GROUP>``) stays, labelled "crude": it mostly reflects the age of a population, so a
young PCN shows low. No ratio is standardised on the practices' registered 5-year age bands: QOF publishes no
national prevalence by age (:data:`targeting.clinical.NO_AGE_RATES`).

The slope and relative index of inequality (SII, RII) summarise how the measure changes across the ICB's
deprivation gradient: practices are grouped into deciles of the ICB's registered population by their weighted
IMD score (quintiles if the ICB has fewer than 30 practices; :mod:`targeting.gradient`), and
:func:`targeting.stats.sii` fits the population-weighted regression with simulated 95% limits.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from targeting.gradient import deprivation_groups, proportion_sii, ratio_sii
from targeting.profiles import pcn_profiles, practice_profiles, qof_prevalence
from targeting.stats import (
    funnel_limits,
    overdispersion,
    ratio_funnel_limits,
    ratio_overdispersion,
    significance,
    wilson_ci,
)
from targeting.store import derived

if TYPE_CHECKING:
    from geo.editions import Edition
    from targeting.areas import Area
    from targeting.scope import Scope

__all__ = ["ADJUSTED", "DEFAULT_METRIC", "METRICS", "UnknownMetricError", "adjusted_metric", "compare_pcns",
           "qof_publisher", "ratio_funnel_limits", "ratio_overdispersion"]


class UnknownMetricError(LookupError):
    """The metric asked for is not one this module compares."""

#: Metrics built from the profiles: name → (numerator, denominator, label).
METRICS: dict[str, tuple[str | None, str, str]] = {
    "core20_pct": ("core20_patients", "patients_known_lsoa", "% of patients living in Core20 LSOAs"),
    "plus_pct": ("plus_patients", "patients_known_lsoa", "% of patients living in PLUS LSOAs"),
    "pct_minority": ("minority_patients", "patients_known_lsoa",
                     "% of patients estimated from ethnic minority communities (Census 2021 shares of their LSOAs)"),
    "weighted_imd_score": (None, "patients_known_lsoa", "registration-weighted IMD score"),
    "core20_change_pp": (None, "patients_known_lsoa",
                         "change in % of patients living in Core20 LSOAs, IoD 2019 → IoD 2025 (percentage points)"),
}
_QOF_PREFIX = "qof_"

#: The adjusted measures Compare leads with: metric → QOF register compared as recorded ÷ expected (every register of
#: the detection gap; the app offers the six Core20PLUS5 ones first).
ADJUSTED: dict[str, str] = {f"{code.lower()}_ratio": code for code in
                            ("HYP", "MH", "DM", "AST", "COPD", "LD", "CHD", "AF", "HF", "STIA", "CKD", "DEM", "EP")}

#: The measure compared when none is asked for: hypertension, recorded ÷ expected (age-adjusted).
DEFAULT_METRIC = "hyp_ratio"


def _qof_group(metric: str) -> str | None:
    m = metric.strip()
    if m.lower().startswith(_QOF_PREFIX):
        return m[len(_QOF_PREFIX):].upper()
    return None


def _ratio_group(metric: str) -> str | None:
    """The QOF register of an adjusted metric (``hyp_ratio`` → ``HYP``), else None."""
    m = re.fullmatch(r"([A-Za-z]+)_ratio", metric.strip())
    return ADJUSTED.get(f"{m.group(1).lower()}_ratio") if m else None


def adjusted_metric(group: str) -> str | None:
    """The adjusted metric of a QOF register (``HYP`` → ``hyp_ratio``), or None where there is none (e.g. ``CAN``).

    Parameters
    ----------
    group : str
        QOF group code (``qof_`` prefix and case ignored).

    Returns
    -------
    str or None
        A key of :data:`ADJUSTED`.
    """
    key = f"{str(group).strip().upper().removeprefix('QOF_').lower()}_ratio"
    return key if key in ADJUSTED else None


def _funnel_words(funnel: str, phi: float, units: int, limits: str = "binomial") -> str:
    """How the funnel limits were drawn, in words (for the CSV, the plot and the command line).

    ``limits`` names the chance model: ``binomial`` for a proportion, ``Poisson`` for recorded ÷ expected.
    """
    if not np.isfinite(phi):
        return f"{limits} limits (too few PCNs to estimate over-dispersion)"
    est = f"over-dispersion factor φ = {phi:.2f} from {units} PCNs' 10%-winsorised z-scores (Spiegelhalter 2005)"
    if funnel == "binomial":
        return f"{limits} limits, unadjusted; {est}"
    if phi <= 1:
        return f"{limits} limits: {est}, not above 1, so no adjustment"
    return f"{limits} limits widened by √φ = {phi ** 0.5:.2f}: {est}"


def qof_publisher(year: str) -> str:
    """Who published QOF of a year: NHS Digital up to 2022-23, NHS England since (NHS Digital joined it in 2023).

    Parameters
    ----------
    year : str
        QOF year, ``YYYY-YY``.

    Returns
    -------
    str
        ``"NHS Digital"`` or ``"NHS England"``.
    """
    return "NHS Digital" if str(year) <= "2022-23" else "NHS England"


def compare_pcns(scope: Scope, *, metric: str, qof_year: str | None = None, seed: int = 20240401,
                 funnel: str = "overdispersed") -> tuple[pd.DataFrame, dict]:
    r"""PCNs of an ICB side by side on one measure, with CIs, comparators, funnel limits and the SII.

    Parameters
    ----------
    scope : targeting.scope.Scope
        The ICB (its area) in the atlas of a registration month, the IMD edition for deprivation (ordering,
        Core20, deciles) and the PLUS rules for ``plus_pct`` (default :data:`targeting.plus.DEFAULT_PLUS_RULES`).
    metric : str
        An adjusted measure first: ``<reg>_ratio`` (:data:`ADJUSTED`: ``hyp_ratio``, ``mh_ratio``, ``dm_ratio``,
        ``ast_ratio``, ``copd_ratio``, ``ld_ratio``, …), recorded ÷ expected on the detection gap's QOF year
        (2022-23); or ``qof_<GROUP>`` for QOF **crude** recorded register prevalence (e.g. ``qof_HYP``, ``qof_MH``,
        ``qof_DM``); or ``core20_pct``, ``plus_pct``, ``pct_minority``, ``weighted_imd_score``,
        ``core20_change_pp``.
    qof_year : str, optional
        QOF year for ``qof_*`` metrics (default the latest). Recorded ÷ expected is on QOF 2022-23 whatever it is.
    seed : int
        Seed of the SII simulation, so results are reproducible.
    funnel : {"overdispersed", "binomial"}, default "overdispersed"
        Funnel limits widened for over-dispersion (Spiegelhalter 2005, :func:`targeting.stats.overdispersion`,
        :func:`ratio_overdispersion`) where the estimated factor exceeds 1, or the plain binomial limits (Poisson
        for recorded ÷ expected).

    Returns
    -------
    table : pandas.DataFrame
        One row per PCN, most deprived first: ``pcn_code``, ``pcn_name``, ``practices``, ``weighted_imd_score``,
        ``imd_quintile``, ``core20_pct`` (deprivation always beside the measure), ``metric``, ``numerator``,
        ``denominator``, ``value``, ``lower``, ``upper`` (Wilson 95%; for recorded ÷ expected the limits of
        :func:`targeting.gaps.pcn_gaps`, with ``numerator`` recorded and ``denominator`` expected), ``icb_value``,
        ``england_value``,
        ``vs_icb``, ``vs_england``, ``funnel_lower_95``, ``funnel_upper_95``, ``funnel_lower_998``,
        ``funnel_upper_998``, ``funnel`` ("within", "outside 95%", "outside 99.8%"), and with the default
        ``funnel`` ``overdispersion`` (the factor :math:`\hat\phi` of the ICB's PCNs) and ``funnel_method``.
        Proportions are in percent.
        For ``weighted_imd_score`` (an average, not a proportion) the CI, flags and funnel are empty.
    summary : dict
        ``metric``, ``label`` (says "crude" for crude prevalence, "recorded ÷ expected" and its adjustment for an
        adjusted measure), ``unit`` (``%``, ``ratio``, ``score`` or ``percentage points``), ``icb_code``,
        ``icb_code_nhs``, ``icb_name``, ``imd``, ``icb_value``, ``england_value``, ``order`` (how rows are sorted),
        ``source``, ``adjustment`` (for a QOF measure: how it is adjusted, or that it is crude and where the
        adjusted measure is, or why there is none), ``adjusted_metric`` (the adjusted measure of a crude QOF one,
        or None), and ``sii`` (dict of :class:`targeting.stats.SIIResult` fields plus the quantile values, or
        ``None`` with a ``note``).

    Notes
    -----
    Funnel limits use :func:`funnel_limits` around the ICB value :math:`p_0` at each PCN's denominator; for
    recorded ÷ expected, :func:`ratio_funnel_limits` around the ICB ratio at each PCN's expected count. The SII is
    the difference between the fitted values at the least and most deprived ends of the ICB's registered
    population (positive = higher in less deprived practices); the RII is their ratio. Both use the practices, not
    the PCNs, so a gradient within PCNs counts too.
    """
    atlas, icb = scope.atlas, scope.area
    if icb is None or icb.kind != "icb":
        raise ValueError("compare_pcns compares the PCNs of an ICB: give the scope an ICB")
    ratio = _ratio_group(metric)
    group = None if ratio else _qof_group(metric)
    if ratio is None and group is None and metric not in METRICS:
        raise UnknownMetricError(f"Unknown metric {metric!r}; use <register>_ratio (recorded ÷ expected, e.g. "
                                 f"hyp_ratio), qof_<GROUP> (crude, e.g. qof_HYP) or one of {', '.join(METRICS)}")
    pcn = pcn_profiles(scope)
    prac = practice_profiles(scope)
    if pcn.empty:
        raise LookupError(atlas.month.relabel(f"No PCN in {icb.icb_name} in the July 2022 practice → PCN map"))
    pcn["minority_patients"] = pcn["pct_minority"] / 100 * pcn["patients_known_lsoa"]
    prac["minority_patients"] = prac["pct_minority"] / 100 * prac["patients_known_lsoa"]
    summary: dict = {"metric": metric, "icb_code": icb.icb_code, "icb_code_nhs": icb.icb_code_nhs,
                     "icb_name": icb.icb_name, "imd": scope.imd,
                     "order": "most deprived first (registration-weighted IMD score); not a ranking of performance"}
    gradient = (*deprivation_groups(prac), seed)
    if ratio is not None:
        kind, cols = "ratio", _ratio_columns(scope, pcn, prac, ratio, gradient, summary)
    elif group is not None:
        kind, cols = "proportion", _qof_columns(atlas, icb, pcn, prac, group, qof_year, gradient, summary)
    else:
        kind, cols = _profile_columns(scope, pcn, prac, metric, gradient, summary)
    summary["icb_value"], summary["england_value"] = cols["icb"], cols["england"]
    out = _value_columns(pcn, metric, kind, cols)
    _add_funnel(out, summary, kind, cols, funnel)
    if metric == "core20_change_pp":
        for c in ("patients_entered", "patients_left", "lsoas_entered", "lsoas_left"):
            out[c] = cols[c]
    out = out.sort_values(["weighted_imd_score", "pcn_code"], ascending=[False, True]).reset_index(drop=True)
    return out, summary


def _qof_columns(atlas, icb: Area, pcn: pd.DataFrame, prac: pd.DataFrame, group: str, qof_year: str | None,
                 gradient: tuple, summary: dict) -> dict:
    """Crude recorded prevalence of a QOF register for an ICB's PCNs, its ICB and England, and its SII."""
    pq = qof_prevalence(atlas, group, qof_year, level="pcn").set_index("code")
    iq = qof_prevalence(atlas, group, qof_year, level="icb").set_index("code")
    eq = qof_prevalence(atlas, group, qof_year, level="england").iloc[0]
    q = pq.reindex(pcn["pcn_code"])
    icb_v = float(iq.loc[icb.icb_code_nhs, "prevalence_pct"]) if icb.icb_code_nhs in iq.index else np.nan
    yr = eq["qof_year"]
    summary.update(label=f"QOF {group} crude recorded prevalence, {yr} (% of list {eq['list_type']}; not "
                         "age-adjusted)", unit="%",
                   source=atlas.month.relabel(f"{qof_publisher(yr)} QOF {yr} prevalence; practice → PCN map "
                                              "July 2022"),
                   **_crude_adjustment(group))
    xq = qof_prevalence(atlas, group, qof_year, level="practice").set_index("code")
    pr = xq.reindex(prac["practice_code"])
    summary["sii"] = proportion_sii(pr["register"].fillna(0), pr["list_size"].fillna(0), *gradient)
    return {"num": q["register"].to_numpy(dtype=float), "den": q["list_size"].to_numpy(dtype=float), "icb": icb_v,
            "england": float(eq["prevalence_pct"])}


def _profile_columns(scope: Scope, pcn: pd.DataFrame, prac: pd.DataFrame, metric: str, gradient: tuple,
                     summary: dict) -> tuple[str, dict]:
    """A measure of the profiles (:data:`METRICS`) for an ICB's PCNs and its comparators, and its SII.

    Also returns the kind of measure: ``proportion``, or ``other`` (no interval or funnel).
    """
    num_col, den_col, label = METRICS[metric]
    den = pcn[den_col].to_numpy(dtype=float)
    ed = scope.edition
    summary.update(label=label, unit="%" if num_col else "score",
                   source=scope.month.relabel(f"NHS Digital GP registrations by LSOA, July 2022 "
                                              f"({ed.lsoa_label}); {ed.title}; Census 2021"))
    if metric == "core20_change_pp":
        return "other", _change_columns(scope, pcn, summary)
    if num_col is None:
        summary["sii"] = None
        summary["sii_note"] = ("not computed: the measure is the deprivation score that defines the deciles, so "
                               "its gradient is circular")
        return "other", {"num": np.full(len(pcn), np.nan), "den": den, "value": pcn["weighted_imd_score"].to_numpy(),
                         "icb": float(pcn["weighted_imd_score_icb"].iloc[0]),
                         "england": float(pcn["weighted_imd_score_england"].iloc[0])}
    summary["sii"] = proportion_sii(prac[num_col], prac[den_col], *gradient)
    if metric == "core20_pct" and isinstance(summary["sii"], dict):
        # the bars by decile still show how concentrated Core20 patients are; a slope would be circular
        summary["sii"]["note"] = ("not given for the Core20 share: Core20 is defined by the same "
                                  "deprivation index that orders the practices, so the gradient is "
                                  "circular (and a fitted slope can pass ±100 points)")
    return "proportion", {"num": pcn[num_col].to_numpy(dtype=float), "den": den,
                          "icb": float(pcn[f"{metric}_icb"].iloc[0]),
                          "england": float(pcn[f"{metric}_england"].iloc[0])}


def _value_columns(pcn: pd.DataFrame, metric: str, kind: str, cols: dict) -> pd.DataFrame:
    """Each PCN's deprivation beside its value, interval and neutral flags against the ICB and England."""
    out = pcn[["pcn_code", "pcn_name", "practices", "weighted_imd_score", "imd_quintile", "core20_pct"]].copy()
    out["metric"] = metric
    num, den = cols["num"], cols["den"]
    out["numerator"] = num
    out["denominator"] = den
    if kind == "proportion":
        x = np.minimum(num, den)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["value"] = 100 * x / np.where(den > 0, den, np.nan)
        lo, hi = wilson_ci(np.nan_to_num(x), np.nan_to_num(den))
        out["lower"], out["upper"] = 100 * np.asarray(lo), 100 * np.asarray(hi)
    elif kind == "ratio":
        out["value"], out["lower"], out["upper"] = cols["value"], cols["lower"], cols["upper"]
    else:
        out["value"] = cols["value"]
        out["lower"] = out["upper"] = np.nan
    out["icb_value"], out["england_value"] = cols["icb"], cols["england"]
    out["vs_icb"] = significance(out["lower"], out["upper"], out["icb_value"])
    out["vs_england"] = significance(out["lower"], out["upper"], out["england_value"])
    return out


def _add_funnel(out: pd.DataFrame, summary: dict, kind: str, cols: dict, funnel: str) -> None:
    """Funnel limits (95%, 99.8%) around the ICB value at each PCN's denominator, and where each PCN falls."""
    if funnel not in ("overdispersed", "binomial"):
        raise ValueError(f"funnel must be 'overdispersed' or 'binomial', not {funnel!r}")
    num, den, icb_v = cols["num"], cols["den"], cols["icb"]
    funnelled = kind != "other" and np.isfinite(icb_v)
    if kind == "ratio":
        phi, units = ratio_overdispersion(num, den, icb_v) if funnelled else (float("nan"), 0)
    else:
        phi, units = (overdispersion(np.minimum(num, den), den, icb_v / 100) if funnelled else (float("nan"), 0))
    use = phi if funnel == "overdispersed" and np.isfinite(phi) and phi > 1 else 1.0
    summary.update(overdispersion=phi, overdispersion_units=units, funnel_phi=use,
                   funnel_method=(_funnel_words(funnel, phi, units, "Poisson" if kind == "ratio" else "binomial")
                                  if kind != "other" else "no funnel"))
    for conf, tag in ((0.95, "95"), (0.998, "998")):
        if funnelled and kind == "ratio":
            out[f"funnel_lower_{tag}"], out[f"funnel_upper_{tag}"] = ratio_funnel_limits(icb_v, den, conf, phi=use)
        elif funnelled:
            lo, hi = funnel_limits(icb_v / 100, den, conf, phi=use)
            out[f"funnel_lower_{tag}"], out[f"funnel_upper_{tag}"] = 100 * lo, 100 * hi
        else:
            out[f"funnel_lower_{tag}"] = out[f"funnel_upper_{tag}"] = np.nan
    v = out["value"]
    out["funnel"] = np.where(
        out["funnel_lower_95"].isna() | v.isna(), "not compared",
        np.where((v < out["funnel_lower_998"]) | (v > out["funnel_upper_998"]), "outside 99.8%",
                 np.where((v < out["funnel_lower_95"]) | (v > out["funnel_upper_95"]), "outside 95%", "within")))
    if funnel == "overdispersed":  # the binomial table stays as it was before over-dispersion was allowed for
        out["overdispersion"] = round(phi, 2) if np.isfinite(phi) else np.nan
        out["funnel_method"] = summary["funnel_method"]


def _crude_adjustment(group: str) -> dict:
    """``adjustment`` and ``adjusted_metric`` of a crude QOF measure: where its adjusted measure is, or why none."""
    from targeting.clinical import NO_AGE_RATES, NO_STAGING

    adjusted = adjusted_metric(group)
    words = f"Crude: QOF {group} recorded prevalence is not adjusted for age, so a young population shows low."
    if adjusted:
        words += f" The adjusted measure is recorded ÷ expected ({adjusted})."
    else:
        words += f" No adjusted measure for QOF {group}. {NO_AGE_RATES}"
        if group == "CAN":
            words += f" {NO_STAGING}"
    return {"adjustment": words, "adjusted_metric": adjusted}


def _gap_sum(ed: Edition, codes: pd.Series, group: str) -> pd.Series:
    """Recorded and expected summed over a set of practices (an ICB, England), with the ratio's limits."""
    from targeting.gaps import pcn_gaps

    members = pd.DataFrame({"practice_code": list(codes), "pcn_code": "ALL"})
    return pcn_gaps(ed, ["ALL"], registers=[group], membership=members).iloc[0]


@derived
def _england_gap(ed: Edition, group: str) -> pd.Series:
    """Recorded and expected of a register summed over every practice in England."""
    return _gap_sum(ed, ed.atlas.practices["practice_code"], group)


def _ratio_columns(scope: Scope, pcn: pd.DataFrame, prac: pd.DataFrame, group: str, gradient: tuple,
                   summary: dict) -> dict:
    """Recorded ÷ expected of an ICB's PCNs (the detection gap), its ICB and England, and its SII."""
    from targeting.clinical import ADJUSTMENT, NO_AGE_RATES
    from targeting.gaps import REGISTERS, pcn_gaps, practice_gaps
    from targeting.gaps import SOURCES as GAP_SOURCES
    from targeting.gaps._common import _latest_qof

    r = group.lower()
    ed, month = scope.edition, scope.month
    year = _latest_qof(scope.atlas)[1]
    g = pcn_gaps(ed, list(pcn["pcn_code"]), registers=[group]).set_index("pcn_code")
    g = g.reindex(pcn["pcn_code"])
    everyone = scope.atlas.practices
    icb = _gap_sum(ed, everyone.loc[everyone["icb_code_nhs"] == scope.icb_nhs, "practice_code"], group)
    eng = _england_gap(ed, group)
    how = ADJUSTMENT[group == "HYP"]
    summary.update(label=f"{REGISTERS[group].name}: recorded ÷ expected, QOF {year} ({how}; 1 = as expected)",
                   unit="ratio",
                   source=f"{GAP_SOURCES['detection']} " + month.relabel("Practice → PCN map July 2022"),
                   adjustment=("Age-adjusted: the expected count is PHE's 2016 modelled prevalence of each practice's "
                               f"adults (16+) × its QOF {year} list aged 16+. {NO_AGE_RATES}" if group == "HYP" else
                               f"Adjusted for age (QOF list-type bands), deprivation and ethnic mix. {NO_AGE_RATES}"),
                   adjusted_metric=None)
    pg = practice_gaps(ed, list(prac["practice_code"]), registers=[group]).set_index("practice_code")
    summary["sii"] = ratio_sii(pg[f"{r}_recorded"], pg[f"{r}_expected"], pg[f"{r}_denominator"], *gradient)
    return {"num": g[f"{r}_recorded"].to_numpy(float), "den": g[f"{r}_expected"].to_numpy(float),
            "value": g[f"{r}_ratio"].to_numpy(float), "lower": g[f"{r}_ratio_lower"].to_numpy(float),
            "upper": g[f"{r}_ratio_upper"].to_numpy(float), "icb": float(icb[f"{r}_ratio"]),
            "england": float(eng[f"{r}_ratio"])}


def _change_columns(scope: Scope, pcn: pd.DataFrame, summary: dict) -> dict:
    """The Core20 change measure (IoD 2025 − IoD 2019, percentage points) of an ICB's PCNs and comparators."""
    from targeting.change import pcn_change

    ch = pcn_change(scope).set_index("pcn_code").reindex(pcn["pcn_code"])
    p19, p25 = (pcn_profiles(scope.with_edition(ed)) for ed in scope.editions)
    summary.update(
        label=METRICS["core20_change_pp"][2], unit="percentage points",
        source=scope.month.relabel("IoD 2019 (LSOA 2011) and IoD 2025 (LSOA 2021), MHCLG; NHS Digital GP "
                                   "registrations by LSOA, July 2022 (as published on LSOA 2011 for 2019, "
                                   "apportioned to LSOA 2021 for 2025)"),
        sii=None, sii_note="not computed: the change is defined by the deprivation indices that order the practices, "
                           "and a difference of the same patients classified twice has no sampling interval")
    out = {"num": (ch["core20_patients_2025"] - ch["core20_patients_2019"]).to_numpy(dtype=float),
           "den": ch["patients_known_lsoa_2025"].to_numpy(dtype=float), "value": ch["difference_pp"].to_numpy(),
           "icb": float(p25["core20_pct_icb"].iloc[0] - p19["core20_pct_icb"].iloc[0]),
           "england": float(p25["core20_pct_england"].iloc[0] - p19["core20_pct_england"].iloc[0])}
    for c in ("patients_entered", "patients_left", "lsoas_entered", "lsoas_left"):
        out[c] = ch[c].to_numpy()
    return out
