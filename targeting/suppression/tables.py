"""The rule applied to counts, rates and whole tables, and to one set of parts with their total."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from targeting.suppression._cells import _cell, _check_counts, _float
from targeting.suppression.rules import DEFAULT_RULE, SuppressionRule


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
