"""Linked tables: secondary suppression across every sum published together (rows, group totals, grand total)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from targeting.suppression._cells import _cell, _check_counts, _float
from targeting.suppression.rules import DEFAULT_RULE, SuppressionRule


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
