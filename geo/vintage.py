"""The bridge between LSOA 2011 and LSOA 2021, built on the ONS change codes.

ONS marks each LSOA 2011 → 2021 pair U (unchanged), S (split), M (merged) or X (irregular). Counts
(*extensive* variables: patients, residents, households) and rates or scores (*intensive* variables) move
across the bridge by different rules and are never mixed:

* counts are apportioned as whole numbers with the largest-remainder method, so every source area's total
  is conserved exactly and nothing is duplicated;
* scores are inherited by a split's children, averaged with population weights for a merge, and taken from
  the best-fitting parent (the one supplying most of the population) for an irregular change.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["MERGE_RULE", "apportion", "bridge_pairs", "detect_lsoa_vintage", "inherit"]

#: How IMD 2019 reaches an LSOA 2021, in the words every page and document uses (one truth: :func:`inherit`).
MERGE_RULE = ("an unchanged LSOA keeps its IMD 2019 values and a split one's parts inherit them; a merged LSOA "
              "takes its parents' population-weighted mean score, and the rank and decile (so its Core20 status) "
              "of its best-fitting parent, the one supplying most of its population; an irregular change takes "
              "everything from its best-fitting parent")


def bridge_pairs(lookup: pd.DataFrame, *, pop11: pd.Series, pop21: pd.Series) -> pd.DataFrame:
    r"""Weight each LSOA 2011 → 2021 pair by the population it carries.

    Parameters
    ----------
    lookup
        From :func:`geo.readers.read_lsoa11_lsoa21`: ``lsoa11_code``, ``lsoa21_code``, ``change_code``.
    pop11
        Population of each LSOA 2011 (e.g. ONS mid-2020), indexed by code.
    pop21
        Population of each LSOA 2021 (e.g. Census 2021 usual residents), indexed by code.

    Returns
    -------
    pandas.DataFrame
        ``lsoa11_code``, ``lsoa21_code``, ``change_code``, ``w_fwd`` (share of the 2011 area's people who
        live in the 2021 area; sums to 1 over each 2011 area) and ``w_back`` (share of the 2021 area's
        people who lived in the 2011 area; sums to 1 over each 2021 area).

    Notes
    -----
    Without output-area detail the overlap population :math:`e_{ij}` of 2011 area *i* and 2021 area *j*
    is estimated as the 2021 population of *j* when *i* splits (or changes irregularly), shared among
    *j*'s parents in proportion to their 2011 population. Then
    :math:`w^{fwd}_{ij} = e_{ij} / \sum_j e_{ij}` and :math:`w^{back}_{ij} = e_{ij} / \sum_i e_{ij}`.
    A zero-population group falls back to equal shares.
    """
    pairs = lookup[["lsoa11_code", "lsoa21_code", "change_code"]].drop_duplicates(["lsoa11_code", "lsoa21_code"])
    p11 = pairs["lsoa11_code"].map(pop11).fillna(0).astype(float)
    p21 = pairs["lsoa21_code"].map(pop21).fillna(0).astype(float)
    # share of the child's population coming from each parent, by parent population
    par_share = _normalise(p11.to_numpy(), pairs["lsoa21_code"].to_numpy())
    overlap = p21.to_numpy() * par_share
    out = pairs.reset_index(drop=True).copy()
    out["w_fwd"] = _normalise(overlap, out["lsoa11_code"].to_numpy())
    out["w_back"] = _normalise(overlap, out["lsoa21_code"].to_numpy())
    return out


def _normalise(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    s = pd.Series(values)
    g = pd.Series(groups)
    total = s.groupby(g).transform("sum").to_numpy()
    count = g.map(g.value_counts()).to_numpy()
    return np.where(total > 0, values / np.where(total > 0, total, 1), 1.0 / count)


def apportion(
    df: pd.DataFrame,
    *,
    code: str,
    counts: Iterable[str],
    pairs: pd.DataFrame,
    direction: str = "forward",
) -> pd.DataFrame:
    r"""Move whole-number counts from one LSOA vintage to the other, conserving every total exactly.

    Parameters
    ----------
    df
        Rows to move. ``code`` holds the source LSOA code; other columns that are not ``counts`` are
        carried along as keys (e.g. ``practice_code``). Codes absent from the bridge (an unknown-LSOA marker
        such as ``NO2011``) pass through unchanged.
    code
        Column with the source LSOA code; the output keeps the same column name with target codes.
    counts
        Integer count columns to apportion.
    pairs
        From :func:`bridge_pairs`.
    direction
        ``"forward"`` (2011 → 2021, weights ``w_fwd``) or ``"back"`` (2021 → 2011, weights ``w_back``).

    Returns
    -------
    pandas.DataFrame
        The same columns, one row per source row and target LSOA, grouped so each key × target appears once.

    Notes
    -----
    Each source value :math:`v` is split into quotas :math:`v w_j`; every target first gets
    :math:`\lfloor v w_j \rfloor` and the remaining :math:`v - \sum_j \lfloor v w_j \rfloor` units go one
    each to the targets with the largest fractional remainders (Hamilton's method). Sums over the source
    row are therefore exactly :math:`v`.
    """
    counts = list(counts)
    src, dst = ("lsoa11_code", "lsoa21_code") if direction == "forward" else ("lsoa21_code", "lsoa11_code")
    wcol = "w_fwd" if direction == "forward" else "w_back"
    keys = [c for c in df.columns if c != code and c not in counts]
    fan = pairs.groupby(src).size()
    multi = set(fan.index[fan > 1])
    one = pairs[~pairs[src].isin(multi)].set_index(src)[dst]
    is_multi = df[code].isin(multi)

    simple = df[~is_multi].copy()
    simple[code] = simple[code].map(one).fillna(simple[code])

    split = df[is_multi].reset_index(drop=True)
    split["_row"] = np.arange(len(split))
    fanned = split.merge(pairs[[src, dst, wcol]], left_on=code, right_on=src, how="left")
    fanned = fanned.sort_values(["_row", dst], kind="stable").reset_index(drop=True)
    w = fanned[wcol].to_numpy()
    for c in counts:
        v = fanned[c].to_numpy().astype(np.int64)
        quota = v * w
        base = np.floor(quota + 1e-9).astype(np.int64)
        rem = quota - base
        short = v - pd.Series(base).groupby(fanned["_row"]).transform("sum").to_numpy()
        order = pd.Series(-rem).groupby(fanned["_row"]).rank(method="first").to_numpy()
        fanned[c] = base + (order <= short).astype(np.int64)
    fanned[code] = fanned[dst]
    moved = fanned[df.columns.tolist()]
    out = pd.concat([simple, moved], ignore_index=True)
    if keys or len(out) != out[code].nunique():
        out = out.groupby([*keys, code], as_index=False, sort=False)[counts].sum()
    return out[df.columns.tolist()]


def inherit(
    df: pd.DataFrame,
    *,
    pairs: pd.DataFrame,
    mean: Iterable[str] = (),
    best: Iterable[str] = (),
) -> pd.DataFrame:
    r"""Carry LSOA 2011 scores onto LSOA 2021.

    Parameters
    ----------
    df
        One row per LSOA 2011 (column ``lsoa_code``) with intensive values.
    pairs
        From :func:`bridge_pairs`.
    mean
        Columns averaged with population weights (``w_back``) where 2011 areas merge (change code M).
    best
        Columns taken from the best-fitting parent (largest ``w_back``): ranks, deciles and flags.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA 2021 (``lsoa_code``) with ``mean`` and ``best`` columns, and ``bridge`` recording
        how each value arrived: ``"unchanged"``, ``"split"``, ``"merged"`` or ``"irregular (best fit)"``.

    Notes
    -----
    A split's children inherit the parent's values unchanged. For a merge the score is
    :math:`\sum_i w_i s_i` over parents *i*. For an irregular (X) change every column, scores included, is
    taken from the best-fitting parent, as ONS advises for best-fit lookups.
    """
    mean, best = list(mean), list(best)
    p = pairs.merge(df.rename(columns={"lsoa_code": "lsoa11_code"}), on="lsoa11_code", how="inner")
    p = p.sort_values(["lsoa21_code", "w_back"], ascending=[True, False], kind="stable")
    first = p.drop_duplicates("lsoa21_code").set_index("lsoa21_code")
    out = pd.DataFrame(index=first.index)
    g = p.groupby("lsoa21_code", sort=False)
    any_x = p["change_code"].eq("X").groupby(p["lsoa21_code"], sort=False).any()
    merged_or_x = g["change_code"].first().where(~any_x, "X")
    for c in mean:
        wsum = (p[c] * p["w_back"]).groupby(p["lsoa21_code"]).sum(min_count=1)
        wtot = p["w_back"].where(p[c].notna()).groupby(p["lsoa21_code"]).sum()
        averaged = wsum / wtot.replace(0, np.nan)
        out[c] = np.where(merged_or_x.reindex(out.index).eq("X"), first[c], averaged.reindex(out.index))
    for c in best:
        out[c] = first[c]
    out["bridge"] = merged_or_x.reindex(out.index).map(
        {"U": "unchanged", "S": "split", "M": "merged", "X": "irregular (best fit)"}
    )
    return out.rename_axis("lsoa_code").reset_index()


def detect_lsoa_vintage(codes: Iterable[str], *, lsoa11: Iterable[str], lsoa21: Iterable[str]) -> int:
    """Tell whether a list of LSOA codes is on the 2011 or the 2021 geography.

    Codes shared by both vintages (unchanged areas) say nothing; the decision rests on codes that exist in
    only one. Returns 2011 or 2021; raises ``ValueError`` if the codes fit neither.
    """
    s11, s21 = set(lsoa11), set(lsoa21)
    c = set(codes.unique() if isinstance(codes, pd.Series) else codes)  # Arrow strings iterate slowly, one by one
    only11 = len(c & (s11 - s21))
    only21 = len(c & (s21 - s11))
    if only11 == only21 == 0:
        if c & (s11 | s21):
            return 2021 if not c - s21 else 2011
        raise ValueError("none of the codes is an LSOA 2011 or LSOA 2021 code")
    return 2011 if only11 >= only21 else 2021
