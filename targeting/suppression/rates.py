"""Rates (and Wilson limits) computed from the published counts, never from the exact ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from targeting.suppression.rules import DEFAULT_RULE, SuppressionRule
from targeting.suppression.tables import suppress_counts


def published_rates(
    numerator: pd.Series,
    denominator: pd.Series,
    rule: SuppressionRule = DEFAULT_RULE,
    *,
    confidence: float | None = 0.95,
    decimals: int = 1,
    scale: float = 100.0,
) -> pd.DataFrame:
    """Rates (and Wilson limits) computed from published counts only.

    Parameters
    ----------
    numerator, denominator : pandas.Series
        Published counts (``rule.symbol``, a rounded count, or None), as returned by
        :func:`publish_grouped` or :func:`suppress_counts`.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule the counts were published with (for the symbol).
    confidence : float or None, default 0.95
        Level of the Wilson limits; None for the rate alone.
    decimals : int, default 1
        Rates are rounded to this many decimals.
    scale : float, default 100
        100 for percentages.

    Returns
    -------
    pandas.DataFrame
        Columns ``rate`` (and ``lower``, ``upper``), object dtype: ``rule.symbol`` where either count
        is withheld, None where the denominator is 0 or missing, else a float.

    Notes
    -----
    A rate computed from exact counts, shown beside a rounded denominator, gives the exact numerator
    back (rate × denominator). Computed from the published counts it tells nothing they do not.
    """
    from targeting.stats import wilson_ci

    num = pd.Series(numerator).astype(object)
    den = pd.Series(denominator, index=num.index).astype(object)
    withheld = num.eq(rule.symbol) | den.eq(rule.symbol)
    x = pd.to_numeric(num.where(~withheld), errors="coerce").astype(float)
    n = pd.to_numeric(den.where(~withheld), errors="coerce").astype(float)
    ok = (n > 0) & x.notna()
    xs, ns = x.where(ok), n.where(ok)
    out = pd.DataFrame(index=num.index)
    cols = {"rate": xs / ns * scale}
    if confidence is not None:
        lo, hi = wilson_ci(xs.fillna(0).to_numpy(), ns.fillna(1).to_numpy(), confidence)
        cols["lower"] = pd.Series(np.asarray(lo) * scale, index=num.index).where(ok)
        cols["upper"] = pd.Series(np.asarray(hi) * scale, index=num.index).where(ok)
    for name, col in cols.items():
        vals = col.round(decimals)
        out[name] = [rule.symbol if w else (None if np.isnan(r) else float(r))
                     for w, r in zip(withheld, vals, strict=True)]
    return out


def suppress_rate_columns(
    table: pd.DataFrame,
    numerator: str,
    denominator: str,
    rates: tuple[str, str, str],
    rule: SuppressionRule = DEFAULT_RULE,
    *,
    public_denominator: bool = True,
) -> pd.DataFrame:
    """A table whose user-derived numerator is published and whose rate and limits come from it.

    Parameters
    ----------
    table : pandas.DataFrame
        Unrounded ``numerator`` and ``denominator`` columns, and the ``rates`` columns to replace.
    numerator, denominator : str
        Column names. The numerator is suppressed and rounded (:func:`suppress_counts`).
    rates : (str, str, str)
        Names of the rate (%), lower and upper limit columns, recomputed by :func:`published_rates`.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule to apply.
    public_denominator : bool, default True
        The denominator is published data shown as it is (e.g. registered patients): it is not rounded,
        but a rate on a small one is still withheld. If False it is suppressed and rounded too.

    Returns
    -------
    pandas.DataFrame
        A copy; the rate columns hold ``rule.symbol``, None or a float with one decimal, so a rate times
        the denominator gives back only the published numerator.
    """
    out = table.copy()
    out[numerator] = suppress_counts(table[numerator], rule)
    if public_denominator:
        den = table[denominator].astype(object).where(~rule.is_small(table[denominator]), rule.symbol)
    else:
        den = out[denominator] = suppress_counts(table[denominator], rule)
    rate, lower, upper = rates
    pub = published_rates(out[numerator], den, rule)
    out[rate], out[lower], out[upper] = pub["rate"], pub["lower"], pub["upper"]
    return out
