r"""Compare an ICB's PCNs fairly: side by side with confidence intervals, funnel-plot limits and the SII.

Rows are ordered by deprivation (registration-weighted IMD score, most deprived first), never by performance:
this is not a league table. Each PCN's value carries its Wilson 95% interval and a neutral flag against the ICB
and England values; funnel-plot limits (95% and 99.8%) around the ICB value show which differences are larger
than chance alone would give for a PCN of that size.

The slope and relative index of inequality (SII, RII) summarise how the measure changes across the ICB's
deprivation gradient: practices are grouped into deciles of the ICB's registered population by their weighted
IMD score (quintiles if the ICB has fewer than 30 practices), and :func:`targeting.stats.sii` fits the
population-weighted regression with simulated 95% limits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from targeting.areas import resolve_icb
from targeting.core20 import population_quantiles
from targeting.profiles import pcn_profiles, practice_profiles, qof_prevalence
from targeting.stats import funnel_limits, overdispersion, significance, sii, wilson_ci

__all__ = ["METRICS", "UnknownMetricError", "compare_pcns"]


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


def _qof_group(metric: str) -> str | None:
    m = metric.strip()
    if m.lower().startswith(_QOF_PREFIX):
        return m[len(_QOF_PREFIX):].upper()
    return None


def _practice_deciles(prac: pd.DataFrame) -> tuple[np.ndarray, int]:
    known = prac["patients_known_lsoa"].to_numpy(dtype=float)
    k = 10 if len(prac) >= 30 else 5
    q = population_quantiles(prac["weighted_imd_score"].to_numpy(dtype=float), known, k)
    return q, k


def _sii(num: pd.Series, den: pd.Series, groups: np.ndarray, k: int, seed: int) -> dict:
    """SII/RII of a proportion across deprivation groups of practices (group 1 = most deprived)."""
    frame = pd.DataFrame({"q": groups, "num": num.to_numpy(dtype=float), "den": den.to_numpy(dtype=float)})
    frame = frame[(frame["q"] > 0) & (frame["den"] > 0)]
    by = frame.groupby("q")[["num", "den"]].sum().reset_index()
    if len(by) < 2:
        return {"sii": None, "note": "too few practices with data for an SII"}
    by["num"] = by["num"].clip(upper=by["den"])
    res = sii(by, count="num", population="den", quantile="q", value_type=2, multiplier=100, rii=True,
              n_sims=20_000, seed=seed)
    out = res.as_dict() if hasattr(res, "as_dict") else dict(res.__dict__)
    out["quantiles"] = "deciles" if k == 10 else "quintiles"
    out["by_quantile"] = [
        {"quantile": int(r.q), "numerator": float(r.num), "denominator": float(r.den), "value": 100 * r.num / r.den}
        for r in by.itertuples()
    ]
    return out


def _funnel_words(funnel: str, phi: float, units: int) -> str:
    """How the funnel limits were drawn, in words (for the CSV, the plot and the command line)."""
    if not np.isfinite(phi):
        return "binomial limits (too few PCNs to estimate over-dispersion)"
    est = f"over-dispersion factor φ = {phi:.2f} from {units} PCNs' 10%-winsorised z-scores (Spiegelhalter 2005)"
    if funnel == "binomial":
        return f"binomial limits, unadjusted; {est}"
    if phi <= 1:
        return f"binomial limits: {est}, not above 1, so no adjustment"
    return f"binomial limits widened by √φ = {phi ** 0.5:.2f}: {est}"


def _qof_publisher(year: str) -> str:
    """NHS Digital published QOF up to 2022-23; NHS England since (NHS Digital joined it in February 2023)."""
    return "NHS Digital" if str(year) <= "2022-23" else "NHS England"


def compare_pcns(atlas, icb: str, *, metric: str, imd: int = 2025, plus_rules=None,
                 qof_year: str | None = None, seed: int = 20240401,
                 funnel: str = "overdispersed") -> tuple[pd.DataFrame, dict]:
    r"""PCNs of an ICB side by side on one measure, with CIs, comparators, funnel limits and the SII.

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas.
    icb : str
        ICB (ONS code, NHS code or name).
    metric : str
        ``core20_pct``, ``plus_pct``, ``pct_minority``, ``weighted_imd_score``, or ``qof_<GROUP>`` for QOF recorded
        register prevalence (e.g. ``qof_HYP``, ``qof_MH``, ``qof_DM``).
    imd : {2019, 2025}, default 2025
        IMD edition for deprivation (ordering, Core20, deciles).
    plus_rules : optional
        PLUS rules for ``plus_pct`` (default :data:`targeting.plus.DEFAULT_PLUS_RULES`).
    qof_year : str, optional
        QOF year for ``qof_*`` metrics (default the latest).
    seed : int
        Seed of the SII simulation, so results are reproducible.
    funnel : {"overdispersed", "binomial"}, default "overdispersed"
        Funnel limits widened for over-dispersion (Spiegelhalter 2005, :func:`targeting.stats.overdispersion`)
        where the estimated factor exceeds 1, or the plain binomial limits.

    Returns
    -------
    table : pandas.DataFrame
        One row per PCN, most deprived first: ``pcn_code``, ``pcn_name``, ``practices``, ``weighted_imd_score``,
        ``imd_quintile``, ``core20_pct`` (deprivation always beside the measure), ``metric``, ``numerator``,
        ``denominator``, ``value``, ``lower``, ``upper`` (Wilson 95%), ``icb_value``, ``england_value``,
        ``vs_icb``, ``vs_england``, ``funnel_lower_95``, ``funnel_upper_95``, ``funnel_lower_998``,
        ``funnel_upper_998``, ``funnel`` ("within", "outside 95%", "outside 99.8%"), and with the default
        ``funnel`` ``overdispersion`` (the factor :math:`\hat\phi` of the ICB's PCNs) and ``funnel_method``.
        Proportions are in percent.
        For ``weighted_imd_score`` (an average, not a proportion) the CI, flags and funnel are empty.
    summary : dict
        ``metric``, ``label``, ``unit``, ``icb_code``, ``icb_code_nhs``, ``icb_name``, ``imd``, ``icb_value``,
        ``england_value``, ``order`` (how rows are sorted), ``source``, and ``sii`` (dict of
        :class:`targeting.stats.SIIResult` fields plus the quantile values, or ``None`` with a ``note``).

    Notes
    -----
    Funnel limits use :func:`funnel_limits` around the ICB value :math:`p_0` at each PCN's denominator. The SII is
    the difference between the fitted values at the least and most deprived ends of the ICB's registered
    population (positive = higher in less deprived practices); the RII is their ratio. Both use the practices, not
    the PCNs, so a gradient within PCNs counts too.
    """
    row = resolve_icb(atlas, icb)
    group = _qof_group(metric)
    if group is None and metric not in METRICS:
        raise UnknownMetricError(f"Unknown metric {metric!r}; use one of {', '.join(METRICS)} or qof_<GROUP> "
                         f"(e.g. qof_HYP)")
    pcn = pcn_profiles(atlas, imd=imd, icb=row["icb_code_nhs"], plus_rules=plus_rules)
    prac = practice_profiles(atlas, imd=imd, icb=row["icb_code_nhs"], plus_rules=plus_rules)
    if pcn.empty:
        raise LookupError(atlas.month.relabel(f"No PCN in {row['icb_name']} in the July 2022 practice → PCN map"))
    pcn["minority_patients"] = pcn["pct_minority"] / 100 * pcn["patients_known_lsoa"]
    prac["minority_patients"] = prac["pct_minority"] / 100 * prac["patients_known_lsoa"]
    summary: dict = {"metric": metric, "icb_code": row["icb_code"], "icb_code_nhs": row["icb_code_nhs"],
                     "icb_name": row["icb_name"], "imd": imd,
                     "order": "most deprived first (registration-weighted IMD score); not a ranking of performance"}
    deciles, k = _practice_deciles(prac)
    proportion = True
    if group is not None:
        pq = qof_prevalence(atlas, group, qof_year, level="pcn").set_index("code")
        iq = qof_prevalence(atlas, group, qof_year, level="icb").set_index("code")
        eq = qof_prevalence(atlas, group, qof_year, level="england").iloc[0]
        q = pq.reindex(pcn["pcn_code"])
        num = q["register"].to_numpy(dtype=float)
        den = q["list_size"].to_numpy(dtype=float)
        icb_v = float(iq.loc[row["icb_code_nhs"], "prevalence_pct"]) if row["icb_code_nhs"] in iq.index else np.nan
        eng_v = float(eq["prevalence_pct"])
        yr = eq["qof_year"]
        summary.update(label=f"QOF {group} recorded prevalence, {yr} (% of list {eq['list_type']})", unit="%",
                       source=atlas.month.relabel(f"{_qof_publisher(yr)} QOF {yr} prevalence; practice → PCN map "
                                                  "July 2022"))
        xq = qof_prevalence(atlas, group, qof_year, level="practice").set_index("code")
        pr = xq.reindex(prac["practice_code"])
        summary["sii"] = _sii(pr["register"].fillna(0), pr["list_size"].fillna(0), deciles, k, seed)
    else:
        num_col, den_col, label = METRICS[metric]
        den = pcn[den_col].to_numpy(dtype=float)
        ed = atlas.edition(imd)
        summary.update(label=label, unit="%" if num_col else "score",
                       source=atlas.month.relabel(f"NHS Digital GP registrations by LSOA, July 2022 "
                                                  f"({ed.lsoa_label}); {ed.title}; Census 2021"))
        if metric == "core20_change_pp":
            proportion = False
            change = _change_columns(atlas, row, pcn, summary)
            num, den, values = change["num"], change["den"], change["value"]
            icb_v, eng_v = change["icb"], change["england"]
        elif num_col is None:
            proportion = False
            num = np.full(len(pcn), np.nan)
            icb_v = float(pcn["weighted_imd_score_icb"].iloc[0])
            eng_v = float(pcn["weighted_imd_score_england"].iloc[0])
            summary["sii"] = None
            summary["sii_note"] = ("not computed: the measure is the deprivation score that defines the deciles, so "
                                   "its gradient is circular")
        else:
            num = pcn[num_col].to_numpy(dtype=float)
            icb_v = float(pcn[f"{metric}_icb"].iloc[0])
            eng_v = float(pcn[f"{metric}_england"].iloc[0])
            summary["sii"] = _sii(prac[num_col], prac[den_col], deciles, k, seed)
            if metric == "core20_pct" and isinstance(summary["sii"], dict):
                # the bars by decile still show how concentrated Core20 patients are; a slope would be circular
                summary["sii"]["note"] = ("not given for the Core20 share: Core20 is defined by the same "
                                          "deprivation index that orders the practices, so the gradient is "
                                          "circular (and a fitted slope can pass ±100 points)")
    summary["icb_value"], summary["england_value"] = icb_v, eng_v

    out = pcn[["pcn_code", "pcn_name", "practices", "weighted_imd_score", "imd_quintile", "core20_pct"]].copy()
    out["metric"] = metric
    out["numerator"] = num
    out["denominator"] = den
    if proportion:
        x = np.minimum(num, den)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["value"] = 100 * x / np.where(den > 0, den, np.nan)
        lo, hi = wilson_ci(np.nan_to_num(x), np.nan_to_num(den))
        out["lower"], out["upper"] = 100 * np.asarray(lo), 100 * np.asarray(hi)
    else:
        out["value"] = values if metric == "core20_change_pp" else pcn["weighted_imd_score"].to_numpy()
        out["lower"] = out["upper"] = np.nan
    out["icb_value"], out["england_value"] = icb_v, eng_v
    out["vs_icb"] = significance(out["lower"], out["upper"], out["icb_value"])
    out["vs_england"] = significance(out["lower"], out["upper"], out["england_value"])
    if funnel not in ("overdispersed", "binomial"):
        raise ValueError(f"funnel must be 'overdispersed' or 'binomial', not {funnel!r}")
    phi, units = (overdispersion(np.minimum(num, den), den, icb_v / 100) if proportion and np.isfinite(icb_v)
                  else (float("nan"), 0))
    use = phi if funnel == "overdispersed" and np.isfinite(phi) and phi > 1 else 1.0
    summary.update(overdispersion=phi, overdispersion_units=units, funnel_phi=use,
                   funnel_method=_funnel_words(funnel, phi, units) if proportion else "no funnel")
    for conf, tag in ((0.95, "95"), (0.998, "998")):
        if proportion and np.isfinite(icb_v):
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
    if metric == "core20_change_pp":
        for c in ("patients_entered", "patients_left", "lsoas_entered", "lsoas_left"):
            out[c] = change[c]
    out = out.sort_values(["weighted_imd_score", "pcn_code"], ascending=[False, True]).reset_index(drop=True)
    return out, summary


def _change_columns(atlas, row: pd.Series, pcn: pd.DataFrame, summary: dict) -> dict:
    """The Core20 change measure (IoD 2025 − IoD 2019, percentage points) of an ICB's PCNs and comparators."""
    from targeting.change import pcn_change

    ch = pcn_change(atlas, row).set_index("pcn_code").reindex(pcn["pcn_code"])
    p19 = pcn_profiles(atlas, imd=2019, icb=row["icb_code_nhs"])
    p25 = pcn_profiles(atlas, imd=2025, icb=row["icb_code_nhs"])
    summary.update(
        label=METRICS["core20_change_pp"][2], unit="percentage points",
        source=atlas.month.relabel("IoD 2019 (LSOA 2011) and IoD 2025 (LSOA 2021), MHCLG; NHS Digital GP "
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
