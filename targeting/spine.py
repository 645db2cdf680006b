r"""A PCN's spine chart: each measure against the range of its ICB's PCNs and England, Fingertips-style.

One row per measure: the PCN's count, denominator and value, England's and the ICB's values, the spread of the
ICB's PCNs (minimum, 25th percentile, median, 75th percentile, maximum) and whether the PCN differs from England
and from its ICB by more than chance and ordinary between-PCN variation would give.

Significance comes from the over-dispersed funnel of :mod:`targeting.compare` (issue 23, item 1): for a
proportion, the PCN is compared with the funnel limits around the comparator at the PCN's denominator
(:func:`targeting.stats.funnel_limits`), widened by :math:`\sqrt\phi` where Spiegelhalter's factor
(:func:`targeting.stats.overdispersion`, 10%-winsorised z-scores) exceeds 1. Against England, :math:`\phi` is
estimated from every PCN in England around England's value; against the ICB, from the ICB's PCNs around the ICB's
value, exactly as ``compare`` does. Outside the 95% limits is "higher" or "lower" (or "better" / "worse" for a
measure whose direction is defined); inside is "similar". Hypertension recorded ÷ expected is a ratio of a count
to a modelled expectation, not a proportion: it is compared by its own 95% limits (recorded count, Byar, and the
model's error; :func:`targeting.gaps.pcn_gaps`) against the comparator, and says so.

The QOF rows are *crude* recorded prevalence (register ÷ list of the register's age base): mostly age, and not
true prevalence. The recorded ÷ expected ratio beside hypertension allows for the practices' populations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.stats import funnel_limits, overdispersion, significance, wilson_ci
from targeting.store import derived

if TYPE_CHECKING:
    from geo.editions import Edition
    from targeting.scope import Scope

__all__ = ["SPINE_COLUMNS", "SPINE_MEASURES", "SpineMeasure", "spine_for_output", "spine_table"]


@dataclass(frozen=True)
class SpineMeasure:
    """One row of the spine chart.

    Attributes
    ----------
    key : str
        ``core20_pct``, ``plus_pct``, ``pct_minority``, ``qof_<GROUP>`` or ``hyp_ratio``.
    label : str
        What the row shows, in words (with its unit).
    polarity : str
        ``"none"`` where neither direction is better (flags say higher / similar / lower), or ``"higher"`` where a
        higher value is better (flags say better / similar / worse).
    """

    key: str
    label: str
    polarity: str = "none"


#: The measures of the spine chart, in the order drawn.
SPINE_MEASURES: tuple[SpineMeasure, ...] = (
    SpineMeasure("core20_pct", "Patients living in Core20 neighbourhoods (%)"),
    SpineMeasure("plus_pct", "Patients living in PLUS neighbourhoods (%)"),
    SpineMeasure("pct_minority", "Patients from ethnic minority communities, estimated (%)"),
    SpineMeasure("qof_HYP", "Hypertension: recorded prevalence, crude (% of list)"),
    SpineMeasure("hyp_ratio", "Hypertension: recorded ÷ expected (ratio; higher = more of the expected found)",
                 polarity="higher"),
    SpineMeasure("qof_DM", "Diabetes: recorded prevalence, crude (% of list aged 17+)"),
    SpineMeasure("qof_COPD", "COPD: recorded prevalence, crude (% of list)"),
    SpineMeasure("qof_AST", "Asthma: recorded prevalence, crude (% of list aged 6+)"),
    SpineMeasure("qof_MH", "Severe mental illness: recorded prevalence, crude (% of list)"),
    SpineMeasure("qof_CAN", "Cancer: recorded prevalence, crude (% of list)"),
    SpineMeasure("qof_EP", "Epilepsy: recorded prevalence, crude (% of list aged 18+)"),
    SpineMeasure("qof_LD", "Learning disability: recorded prevalence, crude (% of list)"),
)

#: The columns of :func:`spine_table`, in order.
SPINE_COLUMNS: tuple[str, ...] = (
    "measure", "label", "unit", "polarity", "period", "count", "denominator", "value", "lower", "upper",
    "england_value", "icb_value", "icb_min", "icb_q25", "icb_median", "icb_q75", "icb_max", "icb_pcns",
    "vs_england", "vs_icb", "funnel_england", "funnel_icb", "phi_england", "phi_icb", "method", "source")

_WORDS = {"none": {"higher": "higher", "lower": "lower"}, "higher": {"higher": "better", "lower": "worse"}}


def _funnel(value: float, n: float, p0: float, phi: float) -> str:
    """Where a proportion (in %) falls in the over-dispersed funnel around ``p0`` (in %) at denominator ``n``."""
    if not (np.isfinite(value) and np.isfinite(p0) and n > 0 and 0 < p0 < 100):
        return "not compared"
    use = phi if np.isfinite(phi) and phi > 1 else 1.0
    out = "within 95%"
    for conf, tag in ((0.95, "outside 95%"), (0.998, "outside 99.8%")):
        lo, hi = funnel_limits(p0 / 100, np.array([n]), conf, phi=use)
        if value < 100 * lo[0] or value > 100 * hi[0]:
            out = tag
    return out


def _flag(funnel: str, value: float, p0: float, polarity: str) -> str:
    if funnel == "not compared":
        return "not compared"
    if funnel == "within 95%":
        return "similar"
    return _WORDS[polarity]["higher" if value > p0 else "lower"]


def _spread(values: pd.Series) -> dict[str, float]:
    v = values.dropna().to_numpy(dtype=float)
    if not len(v):
        return {k: np.nan for k in ("icb_min", "icb_q25", "icb_median", "icb_q75", "icb_max")}
    q = np.percentile(v, [0, 25, 50, 75, 100])
    return dict(zip(("icb_min", "icb_q25", "icb_median", "icb_q75", "icb_max"), map(float, q), strict=True))


def _proportion_row(m: SpineMeasure, frame: pd.DataFrame, pcn: str, icb_codes: pd.Index, england: float,
                    icb_value: float, period: str, source: str) -> dict[str, Any]:
    """A proportion measure: ``frame`` holds every PCN of England (index ``pcn_code``; ``num``, ``den``)."""
    f = frame[frame["den"] > 0]
    value_all = 100 * f["num"] / f["den"]
    phi_e, _ = overdispersion(f["num"], f["den"], england / 100)
    mine = f.reindex(icb_codes).dropna(subset=["den"])
    phi_i, _ = overdispersion(mine["num"], mine["den"], icb_value / 100) if np.isfinite(icb_value) else (np.nan, 0)
    x, n = (float(f.at[pcn, "num"]), float(f.at[pcn, "den"])) if pcn in f.index else (np.nan, np.nan)
    value = 100 * x / n if n > 0 else np.nan
    lo, hi = wilson_ci(np.nan_to_num(x), np.nan_to_num(n)) if n > 0 else (np.nan, np.nan)
    fe, fi = _funnel(value, n, england, phi_e), _funnel(value, n, icb_value, phi_i)
    return {"measure": m.key, "label": m.label, "unit": "%", "polarity": m.polarity, "period": period,
            "count": x, "denominator": n, "value": value, "lower": 100 * float(lo), "upper": 100 * float(hi),
            "england_value": england, "icb_value": icb_value, **_spread(value_all.reindex(icb_codes)),
            "icb_pcns": int(value_all.reindex(icb_codes).notna().sum()),
            "vs_england": _flag(fe, value, england, m.polarity), "vs_icb": _flag(fi, value, icb_value, m.polarity),
            "funnel_england": fe, "funnel_icb": fi, "phi_england": phi_e, "phi_icb": phi_i,
            "method": "over-dispersed funnel (Spiegelhalter 2005): φ from England's PCNs against England, from the "
                      "ICB's PCNs against the ICB; limits widened by √φ where φ > 1",
            "source": source}


def _profile_rows(scope: Scope, pcn: str, icb_codes: pd.Index) -> list[dict[str, Any]]:
    from targeting.profiles import pcn_profiles

    atlas, ed = scope.atlas, scope.edition
    prof = pcn_profiles(scope.with_area(None)).set_index("pcn_code")
    known = prof["patients_known_lsoa"].astype(float)
    nums = {"core20_pct": prof["core20_patients"].astype(float), "plus_pct": prof["plus_patients"].astype(float),
            "pct_minority": prof["pct_minority"].astype(float) / 100 * known}
    src = {"core20_pct": f"{ed.title} (MHCLG): national deciles 1–2",
           "plus_pct": "PLUS rule over Census 2021 (ONS) LSOA figures",
           "pct_minority": "Census 2021 TS021 (ONS) shares of the LSOAs patients live in"}
    month = atlas.month
    rows = []
    for m in SPINE_MEASURES[:3]:
        frame = pd.DataFrame({"num": nums[m.key], "den": known})
        r = prof.loc[pcn] if pcn in prof.index else None
        england = float(prof[f"{m.key}_england"].iloc[0])
        icb_value = float(r[f"{m.key}_icb"]) if r is not None else np.nan
        source = month.relabel(f"{src[m.key]}; NHS Digital GP registrations by LSOA, July 2022 ({ed.lsoa_label})")
        rows.append(_proportion_row(m, frame, pcn, icb_codes, england, icb_value, month.title, source))
    return rows


def _qof_rows(atlas: Any, pcn: str, icb_code: str, icb_codes: pd.Index, year: str | None) -> list[dict[str, Any]]:
    from targeting.clinical import practice_map_label
    from targeting.compare import qof_publisher
    from targeting.profiles import qof_prevalence

    rows = []
    for m in SPINE_MEASURES:
        if not m.key.startswith("qof_"):
            continue
        group = m.key[4:]
        try:
            pq = qof_prevalence(atlas, group, year, level="pcn").set_index("code")
        except LookupError:
            continue
        iq = qof_prevalence(atlas, group, year, level="icb").set_index("code")
        eq = qof_prevalence(atlas, group, year, level="england").iloc[0]
        yr = str(eq["qof_year"])
        frame = pd.DataFrame({"num": pq["register"].astype(float), "den": pq["list_size"].astype(float)})
        icb_value = float(iq.at[icb_code, "prevalence_pct"]) if icb_code in iq.index else np.nan
        source = (f"{qof_publisher(yr)} QOF {yr} prevalence (register ÷ list of its age base, crude: not "
                  f"age-adjusted); practice → PCN map {practice_map_label(atlas)}")
        rows.append(_proportion_row(m, frame, pcn, icb_codes, float(eq["prevalence_pct"]), icb_value,
                                    f"QOF {yr}", source))
    return rows


@derived
def _hyp_gaps(ed: Edition) -> pd.DataFrame:
    """Recorded ÷ expected hypertension of every PCN, every ICB (``ICB:<code>``) and England."""
    from targeting.gaps import pcn_gaps

    pr = ed.atlas.practices
    by_pcn = pcn_gaps(ed, registers=["HYP"])
    icbs = pd.DataFrame({"practice_code": pr["practice_code"], "pcn_code": "ICB:" + pr["icb_code_nhs"]}).dropna()
    by_icb = pcn_gaps(ed, sorted(set(icbs["pcn_code"])), registers=["HYP"], membership=icbs)
    england = pcn_gaps(ed, ["ENGLAND"], registers=["HYP"],
                       membership=pr[["practice_code"]].assign(pcn_code="ENGLAND"))
    return pd.concat([by_pcn, by_icb, england], ignore_index=True).set_index("pcn_code")


def _hyp_ratio_row(ed: Edition, pcn: str, icb_code: str) -> dict[str, Any]:
    from targeting.gaps import SOURCES
    from targeting.gaps._common import _latest_qof

    m = next(s for s in SPINE_MEASURES if s.key == "hyp_ratio")
    pr = ed.atlas.practices
    year = _latest_qof(ed.atlas)[1]
    g = _hyp_gaps(ed)
    pcns = g[~g.index.str.startswith("ICB:") & (g.index != "ENGLAND")]
    icb_pcns = pr.loc[pr["icb_code_nhs"].eq(icb_code) & pr["pcn_code"].notna() & pr["pcn_code"].ne("U"),
                      "pcn_code"].unique()
    ratio = pcns["hyp_ratio"].astype(float)
    england = float(g.at["ENGLAND", "hyp_ratio"])
    icb_value = float(g.at[f"ICB:{icb_code}", "hyp_ratio"]) if f"ICB:{icb_code}" in g.index else np.nan
    r = g.loc[pcn] if pcn in g.index else None
    value, lo, hi = ((float(r["hyp_ratio"]), float(r["hyp_ratio_lower"]), float(r["hyp_ratio_upper"]))
                     if r is not None else (np.nan, np.nan, np.nan))

    def flag(comparator: float) -> str:
        f = significance(lo, hi, comparator)
        return _WORDS[m.polarity].get(f, f) if f in ("higher", "lower") else f

    return {"measure": m.key, "label": m.label, "unit": "ratio", "polarity": m.polarity, "period": f"QOF {year}",
            "count": float(r["hyp_recorded"]) if r is not None else np.nan,
            "denominator": float(r["hyp_expected"]) if r is not None else np.nan,
            "value": value, "lower": lo, "upper": hi, "england_value": england, "icb_value": icb_value,
            **_spread(ratio.reindex(icb_pcns)), "icb_pcns": int(ratio.reindex(icb_pcns).notna().sum()),
            "vs_england": flag(england), "vs_icb": flag(icb_value), "funnel_england": "not compared",
            "funnel_icb": "not compared", "phi_england": np.nan, "phi_icb": np.nan,
            "method": "a ratio, not a proportion: its 95% limits (recorded count and the model's error) against the "
                      "comparator",
            "source": SOURCES["detection"].replace("QOF 2022-23", f"QOF {year}")}


def spine_table(scope: Scope, *, qof_year: str | None = None) -> pd.DataFrame:
    r"""Every spine-chart measure of one PCN, with its ICB's PCN range, England and significance.

    Parameters
    ----------
    scope : targeting.scope.Scope
        The PCN (e.g. ``U37316``) in the atlas of a registration month, the IMD edition for Core20 and PLUS, and
        the PLUS rules (default :data:`targeting.plus.DEFAULT_PLUS_RULES`).
    qof_year : str, optional
        QOF year of the register rows (default the newest in the atlas).

    Returns
    -------
    pandas.DataFrame
        One row per :data:`SPINE_MEASURES` entry the data holds, with the :data:`SPINE_COLUMNS`: ``count`` and
        ``denominator`` (for the ratio: recorded and expected), ``value`` with 95% ``lower``/``upper`` (Wilson for
        proportions), ``england_value``, ``icb_value``, the spread of the ICB's PCNs' values (``icb_min`` …
        ``icb_max``, ``icb_pcns``), ``vs_england`` and ``vs_icb`` (``higher``/``similar``/``lower``, or
        ``better``/``similar``/``worse`` where ``polarity`` is ``higher``), ``funnel_england`` and
        ``funnel_icb`` (within 95% / outside 95% / outside 99.8%), the factors ``phi_england`` and ``phi_icb``,
        ``method`` and ``source``. ``attrs`` holds ``pcn``, ``pcn_name``, ``icb_code``, ``icb_name``, ``imd``,
        ``month``.

    Raises
    ------
    LookupError
        If the PCN is not in the registration month's practice map.

    Notes
    -----
    The ICB's PCNs are those whose patients are mostly registered in the ICB (``atlas.pcns``), as in
    ``compare``. The spread is of the PCNs' values, unweighted, as Fingertips draws it. For a proportion
    :math:`p` of a PCN with denominator :math:`n` and a comparator :math:`p_0`, the 95% limits are
    :math:`p_0 \pm 1.96\sqrt{\phi\,p_0(1-p_0)/n}` with :math:`\phi` replaced by 1 where it is not above 1.
    """
    atlas = scope.atlas
    if scope.area is None or scope.area.kind != "pcn":
        raise ValueError("a spine chart is drawn for a PCN")
    code = scope.area.code
    pcns = atlas.pcns
    row = pcns[pcns["pcn_code"] == code]
    if row.empty:
        raise LookupError(atlas.month.relabel(f"PCN {code} is not in the practice → PCN map of July 2022"))
    r = row.iloc[0]
    icb_code = str(r["icb_code_nhs"])
    icb_codes = pd.Index(pcns.loc[pcns["icb_code_nhs"] == icb_code, "pcn_code"])
    rows = _profile_rows(scope, code, icb_codes)
    rows += _qof_rows(atlas, code, icb_code, icb_codes, qof_year)
    rows.insert(4, _hyp_ratio_row(scope.edition, code, icb_code))
    out = pd.DataFrame(rows, columns=list(SPINE_COLUMNS))
    out.attrs.update(pcn=code, pcn_name=str(r["pcn_name"]), icb_code=icb_code, icb_name=str(r["icb_name"]),
                     imd=scope.imd, month=atlas.month.title)
    return out


def spine_for_output(table: pd.DataFrame, rule: Any = None) -> pd.DataFrame:
    """The spine table as shown and downloaded: counts through the small-number rule, values withheld on them.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`spine_table`.
    rule : targeting.suppression.SuppressionRule, optional
        Default :data:`targeting.suppression.DEFAULT_RULE` (NHS Digital: 1–7 withheld as ``*``, other counts
        rounded to 5).

    Returns
    -------
    pandas.DataFrame
        A copy: ``count`` rounded (or ``*``), ``denominator`` shown as published unless it is 1–7, and
        ``value``, ``lower``, ``upper`` and the flags withheld where the count or the denominator is 1–7. Values
        are rounded to 1 decimal (3 for the ratio). The ICB's spread and the comparators are values of whole
        PCNs, ICBs and England.
    """
    from targeting.suppression import DEFAULT_RULE, suppress_counts, suppress_rates

    rule = rule or DEFAULT_RULE
    out = table.copy()
    for c in ("value", "lower", "upper", "england_value", "icb_value", "icb_min", "icb_q25", "icb_median",
              "icb_q75", "icb_max"):
        out[c] = [round(float(v), 3 if u == "ratio" else 1) if pd.notna(v) else np.nan
                  for v, u in zip(table[c], table["unit"], strict=True)]
    out["count"] = suppress_counts(table["count"].fillna(0).round(), rule).where(table["count"].notna(), None)
    den = table["denominator"]
    out["denominator"] = [rule.symbol if s else (None if pd.isna(v) else (round(float(v)) if u != "ratio"
                                                                            else round(float(v), 1)))
                          for s, v, u in zip(rule.is_small(den), den, table["unit"], strict=True)]
    hidden = suppress_rates(table["value"], table["count"].fillna(0), den.fillna(0), rule).eq(rule.symbol)
    out = out.astype({c: object for c in ("value", "lower", "upper", "vs_england", "vs_icb")})
    out.loc[hidden, ["value", "lower", "upper", "vs_england", "vs_icb"]] = rule.symbol
    out["phi_england"] = table["phi_england"].round(2)
    out["phi_icb"] = table["phi_icb"].round(2)
    return out
