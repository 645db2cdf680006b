"""Small-number suppression for anything exported from the tool.

Default rule: NHS Digital's statistical disclosure control for sub-national figures

* counts of 1 to 7 are shown as ``*``;
* every other count is rounded to the nearest 5 (0 stays 0);
* rates and percentages are withheld (``*``) when their numerator, or their denominator,
  is 1 to 7.

The rule is a :class:`SuppressionRule`, so another publisher's rule can be applied instead,
e.g. GP Patient Survey style ``SuppressionRule(low=1, high=9, round_to=1)`` (fewer than 10
respondents withheld, no rounding). Counts here may be fractional (apportioned from one
geography to another); a fractional count is suppressed when it lies strictly between
``low - 1`` and ``high + 1``, so 0.4 or 7.6 people are hidden too.

A table that shows parts with their total needs more than primary suppression: a single
hidden part equals the total minus the visible parts. :func:`suppress_with_totals` adds
secondary suppression for one row or column of parts and its total; :func:`protect_linked`
does it for any set of cells tied by sums (rows within groups within a grand total, across
several tables published together), and :func:`publish_grouped` applies it to a table of rows
and its group totals (Your data's rows and its Core20 / Rest / All table).

Rates shown beside suppressed or rounded counts are computed from the *published* counts
(:func:`published_rates`), never from the exact ones: a rate from exact counts multiplied by a
rounded denominator gives the hidden count back.

Everything a session publishes is one model: for a Fingertips export the practice rows, the Core20 / Rest /
All totals and the PCN and ICB sums are cells of one :func:`protect_linked` call
(:func:`publish_linked`, used by :func:`targeting.yourdata.fingertips_tables`), so no table can be subtracted
from another to give a withheld count back. An exact feasibility audit in the tests
(``tests/_disclosure_audit.py``, ``scipy.optimize.milp``) checks that every withheld cell keeps at least three
feasible values.

A rule that cannot protect what it withholds (shown counts not rounded, a withheld range short of 1-7, or no
suppression) is *weak* (:meth:`SuppressionRule.weakness`): it may be used, with a warning, and its files are named
``…_unsuppressed.csv`` with the reason in their ``source`` column. No rule protects two overlapping releases from
being subtracted one from the other (docs/methods.md, section 7).

Every table, chart, tooltip, command-line output and download of figures derived from a user's
own data passes through this module.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_RULE",
    "ROUND1_RULE",
    "RULES",
    "SuppressionRule",
    "protect_linked",
    "publish_grouped",
    "publish_linked",
    "published_rates",
    "suppress_counts",
    "suppress_frame",
    "suppress_rate_columns",
    "suppress_rates",
    "suppress_with_totals",
]


@dataclass(frozen=True)
class SuppressionRule:
    """A small-number suppression rule.

    Attributes
    ----------
    low, high : float
        Counts from ``low`` to ``high`` inclusive are suppressed (default 1 to 7, NHS Digital).
        For fractional counts the suppressed range is the open interval
        ``(low - 1, high + 1)``.
    round_to : int
        Counts that are shown are rounded to the nearest multiple of this (default 5; use 1
        for no rounding). Halves round up (away from zero).
    enabled : bool
        If False nothing is suppressed or rounded (for a user's own, unexported view).
    symbol : str
        What a suppressed value shows as (default ``"*"``).
    check_denominator : bool
        Withhold a rate when its denominator, as well as its numerator, is in the suppressed
        range (default True).
    """

    low: float = 1
    high: float = 7
    round_to: int = 5
    enabled: bool = True
    symbol: str = "*"
    check_denominator: bool = True

    def __post_init__(self) -> None:
        """Validate the rule."""
        if self.low < 0 or self.high < self.low:
            raise ValueError("need 0 <= low <= high")
        if self.round_to < 1 or int(self.round_to) != self.round_to:
            raise ValueError("round_to must be a positive integer")

    def is_small(self, values: Any) -> np.ndarray:
        """Boolean mask of values in the suppressed range (NaN is not small)."""
        v = _float(values)
        with np.errstate(invalid="ignore"):
            return (v > self.low - 1) & (v < self.high + 1)

    def describe(self) -> str:
        """The rule in words, for a download's source column or a caption."""
        if not self.enabled:
            return "UNSUPPRESSED: no suppression, every count shown exactly"
        rounding = f"others rounded to the nearest {self.round_to}" if self.round_to > 1 else "others shown exactly"
        weak = self.weakness()
        if weak:
            return (f"UNSUPPRESSED, not safe to publish ({weak}): counts {self.low:g}–{self.high:g} withheld "
                    f"({self.symbol}), {rounding}; rates from the published counts")
        return (f"counts {self.low:g}–{self.high:g} withheld ({self.symbol}) with secondary suppression so none "
                f"can be recovered by subtraction, {rounding}; rates from the published counts")

    def weakness(self) -> str | None:
        """Why the rule cannot protect what it withholds, or None for a rule that can.

        The feasibility audit (``tests/targeting/test_disclosure_audit.py``) recovers withheld cells exactly,
        or to fewer than three values, under these rules: shown counts not rounded (a withheld part is the
        shown total minus the shown parts, and a numerator cannot exceed its denominator), nothing withheld,
        or a withheld range that leaves some of the counts 1–7 shown.

        Returns
        -------
        str or None
            A reason in words (for a warning and a download's ``source`` column), or None.
        """
        if not self.enabled:
            return "no suppression: every count is shown exactly"
        reasons = []
        if self.low > 1 or self.high < 7:
            reasons.append(f"counts outside {self.low:g}–{self.high:g} but within 1–7 are shown")
        if self.round_to == 1:
            reasons.append("shown counts are exact, so withheld counts can be worked out from totals and from "
                           "numerator ≤ denominator")
        return "; ".join(reasons) or None

    @property
    def weak(self) -> bool:
        """True when :meth:`weakness` names a reason: files are then called ``…_unsuppressed.csv``."""
        return self.weakness() is not None

    def round(self, values: Any) -> np.ndarray:
        """Round to the nearest ``round_to`` (halves up); NaN stays NaN."""
        v = _float(values)
        return np.floor(v / self.round_to + 0.5) * self.round_to


#: NHS Digital sub-national rule: 1-7 shown as ``*``, other counts rounded to the nearest 5.
DEFAULT_RULE = SuppressionRule()
#: The same small-number range with no rounding of the counts that are shown.
ROUND1_RULE = SuppressionRule(round_to=1)
#: Rules by the names the command line uses (``--rule``).
RULES = {"nhsd": DEFAULT_RULE, "round1": ROUND1_RULE}


def _float(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series):
        return pd.to_numeric(values, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _cell(v: float) -> Any:
    """A plain Python value for export: int for whole numbers, float otherwise, None for NaN."""
    if np.isnan(v):
        return None
    return int(v) if float(v).is_integer() else float(v)


def _check_counts(name: str, v: np.ndarray) -> None:
    if np.any(v[~np.isnan(v)] < 0):
        raise ValueError(f"{name}: counts must not be negative")


def suppress_counts(series: pd.Series, rule: SuppressionRule = DEFAULT_RULE) -> pd.Series:
    r"""Suppress and round a column of counts for export.

    Parameters
    ----------
    series : pandas.Series
        Counts (people, households); non-negative, may be fractional, may contain NaN.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule to apply.

    Returns
    -------
    pandas.Series
        Object dtype, same index: ``rule.symbol`` for suppressed counts, otherwise the count
        rounded to the nearest ``rule.round_to`` as a Python ``int``; ``None`` for missing.
        With ``rule.enabled`` False the counts are returned unchanged (as Python numbers).

    Raises
    ------
    ValueError
        If any count is negative.

    Notes
    -----
    Under the default rule a count :math:`c` becomes ``*`` if :math:`1 \le c \le 7`, else
    :math:`5\lfloor c/5 + 1/2 \rfloor`. Zero is shown as 0: it reveals no individual. A
    rounded count of 8 or more is at least 10, so no shown value is ever 1 to 7.
    """
    v = _float(series)
    _check_counts(str(series.name), v)
    if not rule.enabled:
        return pd.Series([_cell(x) for x in v], index=series.index, name=series.name, dtype=object)
    small = rule.is_small(v)
    rounded = rule.round(v)
    out = [rule.symbol if s else _cell(r) for s, r in zip(small, rounded, strict=True)]
    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def suppress_rates(
    rate: pd.Series,
    numerator: pd.Series,
    denominator: pd.Series | None = None,
    rule: SuppressionRule = DEFAULT_RULE,
) -> pd.Series:
    r"""Withhold rates or percentages built from small numbers.

    Parameters
    ----------
    rate : pandas.Series
        The rate, percentage or proportion (any scale); not rounded.
    numerator : pandas.Series
        The unrounded count the rate was calculated from, aligned with ``rate``.
    denominator : pandas.Series, optional
        The unrounded denominator; checked too when ``rule.check_denominator`` is True.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule to apply.

    Returns
    -------
    pandas.Series
        Object dtype: ``rule.symbol`` where the numerator (or denominator) is in the
        suppressed range, the rate as a float otherwise, ``None`` where the rate is missing.

    Notes
    -----
    A rate :math:`r = x/n \cdot m` is withheld when :math:`x` (or :math:`n`) is 1 to 7 under
    the default rule, because :math:`x` could otherwise be recovered as :math:`r n / m`.
    """
    r = _float(rate)
    x = _float(numerator)
    if len(x) != len(r):
        raise ValueError("rate and numerator must have the same length")
    _check_counts("numerator", x)
    hide = rule.is_small(x)
    if denominator is not None and rule.check_denominator:
        n = _float(denominator)
        if len(n) != len(r):
            raise ValueError("rate and denominator must have the same length")
        _check_counts("denominator", n)
        hide = hide | rule.is_small(n)
    if not rule.enabled:
        hide = np.zeros(len(r), dtype=bool)
    out = [
        rule.symbol if h else (None if np.isnan(v) else float(v))
        for h, v in zip(hide, r, strict=True)
    ]
    index = rate.index if isinstance(rate, pd.Series) else None
    name = rate.name if isinstance(rate, pd.Series) else None
    return pd.Series(out, index=index, name=name, dtype=object)


def suppress_frame(
    df: pd.DataFrame,
    count_cols: list[str] | tuple[str, ...] = (),
    rate_cols: Mapping[str, tuple[str, str | None]] | None = None,
    rule: SuppressionRule = DEFAULT_RULE,
) -> pd.DataFrame:
    """Apply the rule to a whole table before export.

    Parameters
    ----------
    df : pandas.DataFrame
        The table with unrounded counts.
    count_cols : sequence of str
        Count columns: suppressed and rounded with :func:`suppress_counts`.
    rate_cols : mapping of str to (str, str or None), optional
        ``{rate_column: (numerator_column, denominator_column)}``; each rate is withheld with
        :func:`suppress_rates` using the *unrounded* numerator / denominator columns of ``df``.
        The denominator may be None.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule to apply.

    Returns
    -------
    pandas.DataFrame
        A copy with every column of object dtype (other columns passed through unchanged), so
        ``*`` and rounded integers can sit together and export to CSV / Excel as shown.

    Raises
    ------
    KeyError
        If a named column is missing.

    Notes
    -----
    Each cell is treated on its own. If the table also shows totals of these counts, use
    :func:`suppress_with_totals` on each set of parts so that a hidden cell cannot be
    recovered by subtraction.
    """
    rate_cols = dict(rate_cols or {})
    needed = set(count_cols) | set(rate_cols)
    for num, den in rate_cols.values():
        needed |= {num} | ({den} if den is not None else set())
    missing = sorted(needed - set(df.columns))
    if missing:
        raise KeyError(f"columns not in the table: {missing}")
    out = df.astype(object).copy()
    for col in count_cols:
        out[col] = suppress_counts(df[col], rule)
    for col, (num, den) in rate_cols.items():
        out[col] = suppress_rates(df[col], df[num], None if den is None else df[den], rule)
    return out


def suppress_with_totals(
    parts: pd.Series,
    rule: SuppressionRule = DEFAULT_RULE,
    *,
    total_label: Hashable = "Total",
) -> pd.Series:
    r"""Suppress a set of parts and their total so no hidden part can be recovered.

    Parameters
    ----------
    parts : pandas.Series
        Unrounded, non-negative counts that add up to the total (e.g. patients by ethnic
        group in one PCN). Missing values are not allowed: the total would be unknown.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule to apply.
    total_label : hashable, default ``"Total"``
        Index label of the appended total; must not already be in ``parts.index``.

    Returns
    -------
    pandas.Series
        Object dtype: the parts (same order) followed by the total, each ``rule.symbol`` or a
        rounded count.

    Raises
    ------
    ValueError
        On negative or missing parts, or a clashing ``total_label``.

    Notes
    -----
    1. *Primary*: every part in the suppressed range (1-7) is hidden. The total is hidden if it
       is itself in that range.
    2. *Secondary*: if the total is shown, hidden parts can be recovered as a group by
       differencing, :math:`T - \sum_{\text{shown}} x_i`. While exactly one part is hidden,
       or the hidden parts add up to 1-7, the smallest shown part is hidden too (preferring
       non-zero parts, since a known zero protects nothing). So one hidden part is never alone
       and the hidden parts together never form a small number.
    3. Shown parts and the total are rounded *independently* from their true values, so the
       shown total need not equal the sum of the shown parts, and differencing rounded values
       gives no exact answer either.

    This handles one dimension (one set of parts and its total). In a two-way table, apply
    it to every row and every column and check the combined pattern, or use specialist
    statistical disclosure control software.
    """
    if total_label in parts.index:
        raise ValueError(f"total_label {total_label!r} is already in the index")
    v = _float(parts)
    if np.any(np.isnan(v)):
        raise ValueError("parts must not be missing when a total is shown")
    _check_counts(str(parts.name), v)
    total = float(v.sum())
    index = parts.index.append(pd.Index([total_label]))
    if not rule.enabled:
        return pd.Series(
            [_cell(x) for x in [*v, total]], index=index, name=parts.name, dtype=object
        )

    hidden = rule.is_small(v).copy()
    total_hidden = bool(rule.is_small(np.array([total]))[0])
    if not total_hidden and hidden.any():
        order = np.argsort(v, kind="stable")  # smallest first
        nonzero_first = [i for i in order if v[i] > 0] + [i for i in order if v[i] == 0]
        while True:
            n_hidden = int(hidden.sum())
            hidden_sum = float(v[hidden].sum())
            single = n_hidden == 1
            small_sum = bool(rule.is_small(np.array([hidden_sum]))[0])
            if not (single or small_sum):
                break
            candidates = [i for i in nonzero_first if not hidden[i]]
            if not candidates:
                break
            hidden[candidates[0]] = True
    rounded = rule.round(v)
    cells: list[Any] = [
        rule.symbol if h else _cell(r) for h, r in zip(hidden, rounded, strict=True)
    ]
    cells.append(rule.symbol if total_hidden else _cell(float(rule.round(np.array([total]))[0])))
    return pd.Series(cells, index=index, name=parts.name, dtype=object)


# --------------------------------------------------------------------------------------------------
# linked tables: secondary suppression across sums, and rates from the published counts
# --------------------------------------------------------------------------------------------------


def _pick(v: np.ndarray, candidates: np.ndarray) -> int:
    """The cell to hide next: the smallest non-zero candidate (a known zero protects little), else a zero."""
    nonzero = candidates[v[candidates] > 0]
    pool = nonzero if nonzero.size else candidates
    return int(pool[np.argmin(v[pool])])  # argmin takes the first of equals


def protect_linked(
    values: Any,
    constraints: list[tuple[Any, int]],
    rule: SuppressionRule = DEFAULT_RULE,
) -> np.ndarray:
    r"""Which cells to hide so that no hidden cell can be recovered by adding or subtracting others.

    Parameters
    ----------
    values : array_like
        Every count published together (all tables, flattened), unrounded and non-negative.
    constraints : list of (sequence of int, int)
        Each ``(parts, total)`` says ``values[total] == sum(values[parts])``.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule to apply.

    Returns
    -------
    numpy.ndarray of bool
        True for the cells to show as ``rule.symbol``.

    Raises
    ------
    ValueError
        If a count is negative or missing.

    Notes
    -----
    1. *Primary*: every cell in the suppressed range is hidden.
    2. *Secondary*, repeated over every constraint until nothing changes:

       * a shown total with exactly one hidden part, or with hidden parts adding up to a small
         number, gets its next smallest part hidden (the total minus the shown parts would give the
         hidden part, or a small group, back);
       * a hidden total whose parts are all shown gets a part hidden (the sum of the parts would give
         it back);
       * a shown total whose only part is hidden is hidden too.

    So in every sum either nothing is hidden or at least two cells are, and the hidden parts of a
    shown total never add up to a small number. Shown cells are rounded independently of each other
    (:meth:`SuppressionRule.round`), so differencing shown cells gives no exact answer either. The
    tests enumerate every table consistent with what is published and check that each hidden cell
    keeps at least three possible values, one of them outside the suppressed range.
    """
    v = _float(values).astype(float)
    if np.any(np.isnan(v)):
        raise ValueError("counts must not be missing when totals are published")
    _check_counts("values", v)
    if not rule.enabled:
        return np.zeros(len(v), dtype=bool)
    hidden = rule.is_small(v).copy()
    cons = [(np.asarray(list(parts), dtype=int), int(total)) for parts, total in constraints]
    changed = True
    while changed:
        changed = False
        for parts, total in cons:
            if parts.size == 0:
                continue
            while True:
                hp = hidden[parts]
                if hidden[total]:
                    need = not hp.any()
                else:
                    small_sum = bool(rule.is_small(np.array([v[parts][hp].sum()]))[0])
                    need = bool(hp.any()) and (int(hp.sum()) == 1 or small_sum)
                if not need:
                    break
                shown = parts[~hp]
                if shown.size == 0:
                    hidden[total] = True  # every part hidden and the total still tells their sum
                    changed = True
                    break
                hidden[_pick(v, shown)] = True
                changed = True
    return hidden


def _published(v: np.ndarray, hidden: np.ndarray, rule: SuppressionRule) -> list[Any]:
    if not rule.enabled:
        return [_cell(x) for x in v]
    rounded = rule.round(v)
    return [rule.symbol if h else _cell(r) for h, r in zip(hidden, rounded, strict=True)]


def publish_linked(
    values: Any,
    constraints: list[tuple[Any, int]],
    rule: SuppressionRule = DEFAULT_RULE,
) -> list[Any]:
    """Every cell of tables published together, protected together (:func:`protect_linked`) and rounded.

    Parameters
    ----------
    values : array_like
        Every count published together, unrounded and non-negative.
    constraints : list of (sequence of int, int)
        Each ``(parts, total)`` says ``values[total] == sum(values[parts])``.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule to apply.

    Returns
    -------
    list
        One published cell per value: ``rule.symbol`` or the rounded count as a Python number.
    """
    v = _float(values).astype(float)
    return _published(v, protect_linked(v, constraints, rule), rule)


def publish_grouped(
    rows: pd.DataFrame,
    group: pd.Series,
    counts: tuple[str, ...] = ("numerator", "denominator"),
    *,
    labels: tuple[Hashable, ...] | None = None,
    total_label: Hashable = "All",
    rule: SuppressionRule = DEFAULT_RULE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Publish a table of rows together with its group totals and grand total, safely.

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per unit (LSOA, practice) with unrounded, non-negative ``counts`` columns.
    group : pandas.Series
        Each row's group label, aligned with ``rows``.
    counts : tuple of str
        The count columns; each is protected on its own (:func:`protect_linked` over the rows, the
        group totals and the grand total, which are all published together).
    labels : tuple, optional
        Group labels in output order (default: the labels found, in order of first appearance).
        A label with no rows gets a total of 0.
    total_label : hashable, default ``"All"``
        Label of the grand total.
    rule : SuppressionRule, default :data:`DEFAULT_RULE`
        The rule to apply.

    Returns
    -------
    rows_out, totals_out : pandas.DataFrame
        ``rows`` with each count column published (``rule.symbol`` or a rounded count, object dtype),
        and one row per group plus the grand total (index ``group``) with ``units`` and the published
        counts. Rates to go with them come from :func:`published_rates`.
    """
    g = pd.Series(group, index=rows.index)
    labels = tuple(labels) if labels is not None else tuple(pd.unique(g))
    n = len(rows)
    members = [np.flatnonzero(g.to_numpy() == lab) for lab in labels]
    totals_idx = list(range(n, n + len(labels)))
    grand = n + len(labels)
    constraints = [(m, t) for m, t in zip(members, totals_idx, strict=True)]
    constraints.append((totals_idx, grand))
    rows_out = rows.astype(object).copy()
    totals = pd.DataFrame({"group": [*labels, total_label],
                           "units": [len(m) for m in members] + [n]}).set_index("group")
    for col in counts:
        v = _float(rows[col])
        sums = [float(v[m].sum()) for m in members]
        allv = np.concatenate([v, sums, [float(v.sum())]])
        hidden = protect_linked(allv, constraints, rule)
        shown = _published(allv, hidden, rule)
        rows_out[col] = pd.Series(shown[:n], index=rows.index, dtype=object)
        totals[col] = pd.Series(shown[n:], index=totals.index, dtype=object)
    return rows_out, totals


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
