"""Your data as one use case: the tables the page shows and offers for download, and ``yourdata`` writes.

The app (``app_pages/your_data.py``) and the command ``python -m targeting yourdata`` both call
:func:`your_data_tables` and write the same files (:meth:`YourDataTables.files`), so what a user downloads and
what a batch run writes are byte for byte the same. Every count passes through :mod:`targeting.suppression`:
the rows, the Core20 / Rest / All totals and the grand total are protected together
(:func:`targeting.suppression.publish_grouped`), and every rate, limit and the gap are computed from the
published counts (:func:`targeting.suppression.published_rates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo._errors import plain
from targeting.suppression import (
    DEFAULT_RULE,
    SuppressionRule,
    publish_grouped,
    publish_linked,
    published_rates,
    suppress_counts,
)
from targeting.uploads import Upload, _groups

if TYPE_CHECKING:
    from targeting.scope import Scope

__all__ = ["FILES", "FINGERTIPS_FILE", "GAP_LABEL", "UNSUPPRESSED", "FingertipsTables", "YourDataTables",
           "file_name", "fingertips_pcn_table", "fingertips_tables", "your_data_tables"]

#: The files a Your data run writes (and the page offers), in order, under a rule that protects what it withholds.
FILES = ("your_data_suppressed.csv", "core20_gap.csv", "invalid_rows.csv")
#: What a Fingertips export adds: the indicator for the ICB's PCNs and the ICB, suppressed.
FINGERTIPS_FILE = "fingertips_pcns.csv"
#: The names the files take under a weak rule (:meth:`SuppressionRule.weakness`): they are not safe to publish.
UNSUPPRESSED = {"your_data_suppressed.csv": "your_data_unsuppressed.csv",
                "core20_gap.csv": "core20_gap_unsuppressed.csv",
                FINGERTIPS_FILE: "fingertips_pcns_unsuppressed.csv"}
GAP_LABEL = "Gap (Core20 − rest)"


def file_name(name: str, rule: SuppressionRule) -> str:
    """The name a file of :data:`FILES` (or :data:`FINGERTIPS_FILE`) takes under ``rule``.

    Parameters
    ----------
    name
        The file's name under a safe rule, e.g. ``your_data_suppressed.csv``.
    rule
        The small-number rule the file was written with.

    Returns
    -------
    str
        ``name``, or its ``…_unsuppressed.csv`` form (:data:`UNSUPPRESSED`) when the rule is weak.
    """
    return UNSUPPRESSED.get(name, name) if rule.weak else name


@dataclass(frozen=True)
class YourDataTables:
    """What Your data shows and downloads, suppressed.

    Attributes
    ----------
    rows
        One row per valid upload row: ``code``, ``name``, ``group`` (Core20 or Rest), published ``numerator``
        and ``denominator``, ``rate`` (%), ``geography``, ``source``.
    gap
        ``Core20``, ``Rest``, ``All`` and the gap: ``units``, ``numerator``, ``denominator``, ``rate``,
        ``lower``, ``upper`` (%, Wilson; the gap in percentage points, Newcombe), ``group_definition``,
        ``source``.
    invalid
        Every row not used: ``row``, ``code``, ``reason``, ``source``.
    source
        The upload, the area definition and the rule, as one line (also in every table's ``source``).
    rule
        The small-number rule applied.
    """

    rows: pd.DataFrame
    gap: pd.DataFrame
    invalid: pd.DataFrame
    source: str
    rule: SuppressionRule

    def gap_withheld(self) -> bool:
        """True when the Core20 or Rest rate is withheld (so the gap is too)."""
        return bool(self.gap["rate"].astype(str).eq(self.rule.symbol).any())


def _newcombe(r: pd.DataFrame) -> tuple[float, float, float]:
    """The gap Core20 − Rest and its Newcombe (method 10) limits from Wilson limits, all in %."""
    c, s = r.loc["Core20"], r.loc["Rest"]
    diff = c["rate"] - s["rate"]
    lo = diff - np.hypot(c["rate"] - c["lower"], s["upper"] - s["rate"])
    hi = diff + np.hypot(c["upper"] - c["rate"], s["rate"] - s["lower"])
    return float(diff), float(lo), float(hi)


def your_data_tables(upload: Upload, scope: Scope, *, rule: SuppressionRule = DEFAULT_RULE) -> YourDataTables:
    r"""Suppressed tables of an upload: its rows, Core20 against the rest, and the rows that could not be used.

    Parameters
    ----------
    upload
        From :func:`targeting.uploads.read_upload`.
    scope
        The atlas and the IMD edition of Core20 (LSOA 2011 files need 2019); its area is not used.
    rule
        Small-number rule (default NHS Digital: 1–7 withheld, others rounded to 5).

    Returns
    -------
    YourDataTables

    Raises
    ------
    ValueError
        If the IMD edition does not fit the upload's geography.

    Notes
    -----
    Core20 is as in :func:`targeting.uploads.core20_gap`. Rates :math:`p = x/n` and their Wilson limits use the
    published :math:`x` and :math:`n`; the gap :math:`p_1 - p_2` uses Newcombe's hybrid score limits on them.
    Where the Core20 or Rest count is withheld, so are its rate, its limits and the gap.
    """
    d = upload.data
    core = _groups(upload, scope) if len(d) else pd.Series(dtype=bool)
    group = pd.Series(np.where(core.to_numpy(dtype=bool), "Core20", "Rest"), index=d.index)
    what, source = _what_and_source(upload, scope.imd, rule)
    rows_pub, totals = publish_grouped(d[["code", "name", "numerator", "denominator"]], group,
                                       labels=("Core20", "Rest"), total_label="All", rule=rule)
    return _tables(upload, group, rows_pub, totals, what=what, source=source, rule=rule)


def _what_and_source(upload: Upload, imd: int, rule: SuppressionRule) -> tuple[str, str]:
    what = (f"LSOAs in national IMD {imd} deciles 1–2" if upload.level == "lsoa"
            else f"practices serving the most deprived fifth of registered patients (IMD {imd})")
    source = (f"your upload {plain(upload.filename, 80)} ({upload.geography}); Core20 = {what}; "
              f"small-number rule: {rule.describe()}; IMD {imd} (MHCLG)")
    return what, source


def _tables(upload: Upload, group: pd.Series, rows_pub: pd.DataFrame, totals: pd.DataFrame, *, what: str,
            source: str, rule: SuppressionRule) -> YourDataTables:
    """The tables from published rows and group totals: every rate, limit and the gap from the published counts."""
    rows = rows_pub.assign(group=group.to_numpy())
    rows["rate"] = published_rates(rows["numerator"], rows["denominator"], rule, confidence=None)["rate"]
    rows = rows[["code", "name", "group", "numerator", "denominator", "rate"]].assign(
        geography=upload.geography, source=source).reset_index(drop=True)

    rates = published_rates(totals["numerator"], totals["denominator"], rule)
    gap = pd.concat([totals, rates], axis=1).reset_index()
    exact = published_rates(totals["numerator"], totals["denominator"], rule, decimals=12)
    both = exact.loc[["Core20", "Rest"]]
    if both.isin([rule.symbol]).any().any():
        g_rate = g_lo = g_hi = rule.symbol
    elif both.isna().any().any():
        g_rate = g_lo = g_hi = None
    else:
        g_rate, g_lo, g_hi = (round(v, 1) + 0.0 for v in _newcombe(both.astype(float)))
    gap_row = {"group": GAP_LABEL, "units": None, "numerator": None, "denominator": None,
               "rate": g_rate, "lower": g_lo, "upper": g_hi}
    records = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()}
               for rec in gap.to_dict("records")]
    gap = pd.DataFrame([*records, gap_row], dtype=object)  # concat would turn whole-number columns into floats
    gap["group_definition"] = [what, "all other rows", "all valid rows", "percentage points"]
    gap["source"] = source
    invalid = upload.invalid.assign(source=source)
    return YourDataTables(rows, gap, invalid, source, rule)


@dataclass(frozen=True)
class FingertipsTables:
    """Everything a Fingertips export's session publishes, protected as one set of tables.

    Attributes
    ----------
    pcns
        The indicator for the ICB's PCNs and the ICB (:data:`FINGERTIPS_FILE`): ``pcn_code``, ``pcn_name``,
        ``value``, ``lower``, ``upper``, published ``count`` and ``denominator``, ``method``, ``note``, ``source``.
    tables
        The practices' Your data tables (a percentage with counts), or None.
    upload
        The practices as an upload (:func:`targeting.fingertips.to_upload`), or None without counts.
    rule
        The small-number rule applied.
    practices
        Each practice of the upload with its published ``count`` and ``denominator`` and the ``value``, ``lower``
        and ``upper`` computed from them (index ``code``), or None without counts: what another page (the
        Core20PLUS5 summary) shows of a practice.
    """

    pcns: pd.DataFrame
    tables: YourDataTables | None
    upload: Upload | None
    rule: SuppressionRule
    practices: pd.DataFrame | None = None


def _rate_cells(x: Any, n: Any, ind: Any, rule: SuppressionRule) -> tuple[Any, Any, Any]:
    """Value and 95% limits from *published* counts (1 decimal): Wilson for a percentage, Byar otherwise."""
    from targeting.stats import byar_ci, wilson_ci

    if x == rule.symbol or n == rule.symbol:
        return rule.symbol, rule.symbol, rule.symbol
    if x is None or n is None or pd.isna(x) or pd.isna(n) or float(n) <= 0:
        return None, None, None
    x, n = float(x), float(n)
    if ind.proportion:
        lo, hi = wilson_ci(min(x, n), n)
        vals = (100 * x / n, 100 * float(lo), 100 * float(hi))
    else:
        lo, hi = byar_ci(x)
        vals = (x / n * ind.multiplier, float(lo) / n * ind.multiplier, float(hi) / n * ind.multiplier)
    return tuple(round(v, 1) + 0.0 for v in vals)


def fingertips_tables(ind: Any, scope: Scope, *, rule: SuppressionRule = DEFAULT_RULE) -> FingertipsTables:
    r"""A Fingertips indicator's practice table, its Core20 / Rest / All totals, its PCNs and ICB, suppressed together.

    Parameters
    ----------
    ind
        From :func:`targeting.fingertips.select`.
    scope
        The atlas (July 2022 practice → PCN map), the ICB whose PCNs are shown (the one the scope's area sits in)
        and the IMD edition of Core20.
    rule
        Small-number rule (default NHS Digital).

    Returns
    -------
    FingertipsTables

    Notes
    -----
    Every count published in the session is a cell of one model: each practice's Count and Denominator, the
    Core20, Rest and All totals, each PCN's sum of its member practices and the ICB's sum (its PCNs plus its
    practices in no PCN). The sums tie them: :math:`\text{PCN} = \sum_{p \in \text{PCN}} x_p`,
    :math:`\text{ICB} = \sum \text{PCN} + \sum_{p \in U} x_p`, :math:`\text{All} = \text{Core20} + \text{Rest}`.
    :func:`targeting.suppression.protect_linked` applies primary and secondary suppression to all of them at once,
    and every value and limit is computed from the published (rounded) counts, so neither a PCN row's rate nor the
    ICB total minus the shown rows gives a withheld practice back. A PCN row in the file is not used when the
    practices have counts (its sum would bypass the model). Without practice counts nothing of the user's is summed:
    the file's own PCN and ICB rows are shown, their counts (if any) suppressed and values recomputed from them.
    """
    from targeting.fingertips import pcn_values, to_upload

    source = f"{ind.source}; small-number rule: {rule.describe()}"
    cols = ["pcn_code", "pcn_name", "value", "lower", "upper", "count", "denominator", "method", "note"]
    if not ind.has_counts:
        return FingertipsTables(_published_rows(pcn_values(ind, scope)[cols], ind, rule).assign(
            source=source), None, None, rule, None)
    atlas, icb_nhs = scope.atlas, str(scope.icb_nhs)

    upload = to_upload(ind, atlas)
    d = upload.data.reset_index(drop=True)
    pos = pd.Series(np.arange(len(d)), index=d["code"].to_numpy())
    cells: list[np.ndarray] = [np.array([i]) for i in range(len(d))]
    constraints: list[tuple[list[int], int]] = []

    def add(idx: Any, parts: list[int]) -> int:
        cells.append(np.asarray(idx, dtype=int))
        constraints.append((list(parts), len(cells) - 1))
        return len(cells) - 1

    group = None
    if ind.proportion:
        core = _groups(upload, scope) if len(d) else pd.Series(dtype=bool)
        group = pd.Series(np.where(core.to_numpy(dtype=bool), "Core20", "Rest"), index=d.index)
        c_idx = np.flatnonzero(group.to_numpy() == "Core20")
        r_idx = np.flatnonzero(group.to_numpy() == "Rest")
        k_core = add(c_idx, list(c_idx))
        k_rest = add(r_idx, list(r_idx))
        k_all = add(np.arange(len(d)), [k_core, k_rest])

    prac = atlas.practices.set_index("practice_code")
    members = prac[prac["icb_code_nhs"] == icb_nhs]
    pcn_rows: list[tuple[str, str, int, np.ndarray, int | None]] = []
    icb_parts: list[int] = []
    for pcn, grp in members[members["pcn_code"] != "U"].groupby("pcn_code"):
        idx = pos.reindex(grp.index).dropna().astype(int).to_numpy()
        k = add(idx, list(idx)) if idx.size else None
        if k is not None:
            icb_parts.append(k)
        pcn_rows.append((str(pcn), str(grp["pcn_name"].iloc[0]), len(grp), idx, k))
    unallocated = pos.reindex(members.index[members["pcn_code"] == "U"]).dropna().astype(int).tolist()
    icb_idx = pos.reindex(members.index).dropna().astype(int).to_numpy()
    k_icb = add(icb_idx, icb_parts + unallocated) if icb_idx.size else None

    published: dict[str, list[Any]] = {}
    for col in ("numerator", "denominator"):
        v = d[col].to_numpy(dtype=float)
        published[col] = publish_linked([float(v[idx].sum()) for idx in cells], constraints, rule)

    def row(code: str, name: str, n_members: int, idx: np.ndarray, k: int | None, what: str) -> dict[str, Any]:
        if k is None:
            return {"pcn_code": code, "pcn_name": name, "value": None, "lower": None, "upper": None, "count": None,
                    "denominator": None, "method": "not possible",
                    "note": "none of the member practices has a value in the file"}
        x, n = published["numerator"][k], published["denominator"][k]
        value, lower, upper = _rate_cells(x, n, ind, rule)
        missing = n_members - idx.size
        note = (f"Count and Denominator of {idx.size} of {n_members} member practices summed"
                + (f" ({missing} without a value in the file)" if missing else "")
                + f"; {what}value and limits from the published counts")
        return {"pcn_code": code, "pcn_name": name, "value": value, "lower": lower, "upper": upper, "count": x,
                "denominator": n, "method": "sum of practices", "note": note}

    ignored = "the file's own PCN row is not used; " if len(ind.pcns) else ""
    rows = [row(code, name, m, idx, k, ignored) for code, name, m, idx, k in pcn_rows]
    icbs = atlas.icbs
    icb_name = icbs.drop_duplicates("icb_code_nhs").set_index("icb_code_nhs")["icb_name"].get(icb_nhs, icb_nhs)
    rows.append(row(icb_nhs, f"{icb_name} (ICB)", len(members), icb_idx, k_icb, ""))
    pcns = pd.DataFrame(rows, columns=cols, dtype=object).assign(source=source)

    tables = None
    if group is not None:
        rows_pub = d[["code", "name", "numerator", "denominator"]].astype(object).copy()
        for col in ("numerator", "denominator"):
            rows_pub[col] = pd.Series(published[col][:len(d)], index=d.index, dtype=object)
        totals = pd.DataFrame({"group": ["Core20", "Rest", "All"],
                               "units": [int((group == "Core20").sum()), int((group == "Rest").sum()), len(d)]})
        totals = totals.set_index("group")
        for col in ("numerator", "denominator"):
            totals[col] = pd.Series([published[col][k] for k in (k_core, k_rest, k_all)], index=totals.index,
                                    dtype=object)
        what, src = _what_and_source(upload, scope.imd, rule)
        tables = _tables(upload, group, rows_pub, totals, what=what, source=src, rule=rule)
    return FingertipsTables(pcns, tables, upload, rule, _practice_cells(d["code"], published, ind, rule))


def _published_rows(t: pd.DataFrame, ind: Any, rule: SuppressionRule) -> pd.DataFrame:
    """The file's own PCN and ICB rows (no practice counts to sum): their counts suppressed, values from them."""
    t = t.astype(object)
    for i in t.index:
        x, n = t.at[i, "count"], t.at[i, "denominator"]
        if pd.notna(x) and pd.notna(n):
            x, n = (suppress_counts(pd.Series([float(x), float(n)]), rule)).tolist()
            t.loc[i, ["count", "denominator"]] = [x, n]
            t.loc[i, ["value", "lower", "upper"]] = list(_rate_cells(x, n, ind, rule))
        else:
            t.loc[i, ["count", "denominator"]] = [None, None]
            t.loc[i, ["value", "lower", "upper"]] = [None if pd.isna(v) else round(float(v), 1) + 0.0
                                                     for v in t.loc[i, ["value", "lower", "upper"]]]
    return t


def _practice_cells(codes: pd.Series, published: dict[str, list[Any]], ind: Any,
                    rule: SuppressionRule) -> pd.DataFrame:
    """Each practice's published count and denominator, with the value and limits computed from them."""
    n = len(codes)
    cells = [_rate_cells(x, m, ind, rule) for x, m in zip(published["numerator"][:n], published["denominator"][:n],
                                                         strict=True)]
    return pd.DataFrame({"code": codes.to_numpy(), "count": published["numerator"][:n],
                         "denominator": published["denominator"][:n], "value": [c[0] for c in cells],
                         "lower": [c[1] for c in cells], "upper": [c[2] for c in cells]},
                        dtype=object).set_index("code")


def fingertips_pcn_table(ind: Any, scope: Scope, *, rule: SuppressionRule = DEFAULT_RULE) -> pd.DataFrame:
    """A Fingertips indicator for an ICB's PCNs and the ICB, suppressed, with its ``source`` (shown and downloaded).

    The ``pcns`` table of :func:`fingertips_tables` (``scope`` gives the ICB and the IMD edition): its counts are
    protected together with the practice table and the Core20 / Rest / All totals, and its values and limits come
    from the published counts.
    """
    return fingertips_tables(ind, scope, rule=rule).pcns
