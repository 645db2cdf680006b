r"""Practice and PCN profiles weighted by where their registered patients live, compared fairly with ICB and England.

Every figure is a registration-weighted sum over the patients' LSOAs (NHS Digital "Patients registered at a GP
practice", July 2022, with the same month's practice → PCN map):

* ``patients_known_lsoa`` — patients living in an English LSOA of the edition's geography (LSOA 2011 for IMD 2019,
  LSOA 2021 for IMD 2025); ``NO2011`` (unknown) and Welsh ``W01`` rows are excluded from every rate;
* ``core20_patients`` / ``core20_pct`` — patients in national IMD deciles 1–2, of ``patients_known_lsoa``;
* ``plus_patients`` / ``plus_pct`` — patients in LSOAs meeting the PLUS rules (:mod:`targeting.plus`);
* ``weighted_imd_score`` — :math:`\sum_l s_l p_l / \sum_l p_l` over known LSOAs;
* ``pct_<group>`` — the patients' estimated ethnic mix: each LSOA's patients split by its Census 2021 shares.

Rates carry Wilson 95% limits and a flag against their ICB and England values (``higher``/``lower``/``similar``:
the interval lies wholly above, wholly below, or contains the comparator). The flags are neutral — whether
higher is better depends on the measure — and no table here is sorted into a league.

Derived tables are cached per process, keyed by the atlas object, so repeated calls are fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from targeting.core20 import population_quintiles
from targeting.plus import MissingColumnError, plus_mask
from targeting.stats import significance, wilson_ci
from targeting.store import derived

if TYPE_CHECKING:
    from geo.editions import Edition
    from targeting.scope import Scope

__all__ = [
    "BROAD_GROUPS",
    "ENGLAND_CODE",
    "pcn_profiles",
    "population_quintiles",
    "practice_profiles",
    "qof_prevalence",
]

#: Broad Census 2021 ethnic groups reported in the estimated ethnic mix, and ``minority`` (all but White).
BROAD_GROUPS: tuple[str, ...] = ("asian", "black", "mixed", "white", "other", "minority")

#: ONS code for England, used as the code of the England row / comparator.
ENGLAND_CODE = "E92000001"

_RATES = (("core20", "core20_patients", "core20_pct"), ("plus", "plus_patients", "plus_pct"),
          ("minority", "minority_patients", "pct_minority"))


def _wilson(x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95% limits for x/n; a rate above 1 (a QOF register above its list size) gets no interval."""
    return wilson_ci(x, n, strict=False)


@dataclass
class _Base:
    """Registrations as integer positions of practices and LSOAs, with the per-practice sums that need no PLUS rule.

    Built once per atlas and edition.
    """

    practices: pd.DataFrame  # one row per practice (positional index)
    lsoas: pd.DataFrame
    p_pos: np.ndarray  # practice position of each registration row with a known English LSOA
    l_pos: np.ndarray  # its LSOA position in the edition's table
    w: np.ndarray  # its patients
    registered: np.ndarray  # all patients per practice, known LSOA or not
    fixed: dict[str, np.ndarray]  # per-practice sums of LSOA attributes that do not depend on PLUS rules
    plus_cache: dict = field(default_factory=dict)  # per-practice PLUS sums, keyed by the (hashable) rules
    tables: dict = field(default_factory=dict)  # finished national tables, keyed by level and rules
    alt: object = None  # for IMD 2019: a callable giving the LSOA 2021 base (for rules on LSOA 2021 only)


def _positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value in ``index`` (-1 if absent); factorising first is ~5x faster than a direct lookup."""
    codes, uniques = pd.factorize(values)
    pos = index.get_indexer(uniques)
    return np.where(codes >= 0, pos[codes], -1)


@derived
def _base(ed: Edition) -> _Base:
    atlas = ed.atlas
    lsoas = ed.lsoas
    reg = ed.registrations
    cols = ["practice_code", "practice_name", "pcn_code", "pcn_name", "icb_code", "icb_code_nhs", "icb_name"]
    prac = pd.DataFrame(atlas.practices[cols]).copy()
    extra = pd.Index(reg["practice_code"].unique()).difference(prac["practice_code"])
    if len(extra):
        prac = pd.concat([prac, pd.DataFrame({"practice_code": extra})], ignore_index=True)
    prac = prac.reset_index(drop=True)
    p_pos = _positions(pd.Index(prac["practice_code"]), reg["practice_code"])
    l_pos = _positions(pd.Index(lsoas["lsoa_code"]), reg["lsoa_code"])
    w = reg["patients"].to_numpy(dtype=float)
    n_p, n_l = len(prac), len(lsoas)
    known = l_pos >= 0
    res = lsoas["residents"].to_numpy(dtype=float)
    attrs = {
        "patients_known_lsoa": np.ones(n_l),
        "core20_patients": ed.core20_of(lsoas).to_numpy(dtype=float),
        "_score_x_patients": np.nan_to_num(lsoas[ed.score].to_numpy(dtype=float)),
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in BROAD_GROUPS:
            share = lsoas[f"eth_{g}"].to_numpy(dtype=float) / res
            attrs[f"{g}_patients"] = np.nan_to_num(share, nan=0.0, posinf=0.0)
    pk, lk, wk = p_pos[known], l_pos[known], w[known]
    fixed = {k: np.bincount(pk, weights=wk * v[lk], minlength=n_p) for k, v in attrs.items()}
    base = _Base(practices=prac, lsoas=lsoas, p_pos=pk, l_pos=lk, w=wk,
                 registered=np.bincount(p_pos, weights=w, minlength=n_p), fixed=fixed,
                 alt=(lambda: _base(atlas.edition_on(2021))) if ed.lsoa_vintage != 2021 else None)
    return base


_SUM_COLS = ["registered_patients", "patients_known_lsoa", "core20_patients", "plus_patients", "_score_x_patients",
             *[f"{g}_patients" for g in BROAD_GROUPS]]


def _hashable(obj) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _practice_sums(b: _Base, plus_rules) -> pd.DataFrame:
    """Per-practice sums (extensive quantities only), aligned to ``b.practices``."""
    if plus_rules is not None and not hasattr(plus_rules, "mask"):
        plus_rules = tuple(plus_rules)
    key = ("rules", plus_rules) if _hashable(plus_rules) else None  # ("rules", None): the default rules
    plus_sum = b.plus_cache.get(key) if key is not None else None
    if plus_sum is None:
        try:
            plus = plus_mask(b.lsoas, plus_rules).to_numpy(dtype=float)
            plus_sum = np.bincount(b.p_pos, weights=b.w * plus[b.l_pos], minlength=len(b.practices))
        except MissingColumnError:
            if b.alt is None:
                raise
            # Census 2021 measures other than ethnicity exist on LSOA 2021 only: count the same patients through
            # the registrations apportioned to LSOA 2021 (same practices, same known-LSOA total)
            alt = b.alt()
            plus = plus_mask(alt.lsoas, plus_rules).to_numpy(dtype=float)
            plus_sum = np.bincount(alt.p_pos, weights=alt.w * plus[alt.l_pos], minlength=len(alt.practices))
            if not alt.practices["practice_code"].equals(b.practices["practice_code"]):
                plus_sum = pd.Series(plus_sum, index=alt.practices["practice_code"]) \
                    .reindex(b.practices["practice_code"]).fillna(0).to_numpy()
        if key is not None:
            if len(b.plus_cache) > 16:
                b.plus_cache.clear()
            b.plus_cache[key] = plus_sum
    out = {"registered_patients": b.registered, **b.fixed, "plus_patients": plus_sum}
    return pd.DataFrame(out)[_SUM_COLS]


def _finish(sums: pd.DataFrame, comp: pd.DataFrame | None, eng: pd.Series) -> pd.DataFrame:
    """Turn summed counts into rates with Wilson limits, and compare with the ICB (``comp``) and England."""
    n = sums["patients_known_lsoa"].to_numpy(dtype=float)
    nn = np.where(n > 0, n, np.nan)
    out: dict[str, np.ndarray] = {k: sums[k].to_numpy() for k in _SUM_COLS if not k.startswith("_")}
    out["weighted_imd_score"] = sums["_score_x_patients"].to_numpy() / nn
    for g in BROAD_GROUPS:
        if g != "minority":
            out[f"pct_{g}"] = 100 * sums[f"{g}_patients"].to_numpy() / nn
    for key, num, pct in _RATES:
        x = np.minimum(sums[num].to_numpy(dtype=float), n)
        lo, hi = _wilson(x, n)
        out[pct] = 100 * x / nn
        out[f"{pct}_lower"] = 100 * np.asarray(lo)
        out[f"{pct}_upper"] = 100 * np.asarray(hi)
        if comp is not None:
            out[f"{pct}_icb"] = comp[pct].to_numpy()
            out[f"{key}_vs_icb"] = significance(out[f"{pct}_lower"], out[f"{pct}_upper"], out[f"{pct}_icb"])
        out[f"{pct}_england"] = np.full(len(n), float(eng[pct]))
        out[f"{key}_vs_england"] = significance(out[f"{pct}_lower"], out[f"{pct}_upper"], out[f"{pct}_england"])
    if comp is not None:
        out["weighted_imd_score_icb"] = comp["weighted_imd_score"].to_numpy()
    out["weighted_imd_score_england"] = np.full(len(n), float(eng["weighted_imd_score"]))
    return pd.DataFrame(out, index=sums.index)


def _rates_only(sums: pd.DataFrame) -> pd.DataFrame:
    """Rates (no comparisons) for comparator rows (ICBs, England)."""
    n = sums["patients_known_lsoa"].where(sums["patients_known_lsoa"] > 0)
    out = pd.DataFrame(index=sums.index)
    for _, num, pct in _RATES:
        out[pct] = 100 * sums[num] / n
    out["weighted_imd_score"] = sums["_score_x_patients"] / n
    return out


def _england(sums: pd.DataFrame) -> pd.Series:
    return _rates_only(sums[_SUM_COLS].sum().to_frame().T).iloc[0]


def _icb_rates(prac: pd.DataFrame, sums: pd.DataFrame) -> pd.DataFrame:
    return _rates_only(sums[_SUM_COLS].groupby(prac["icb_code_nhs"].to_numpy()).sum())


def _rate_cols(pct: str, key: str) -> list[str]:
    return [pct, f"{pct}_lower", f"{pct}_upper", f"{pct}_icb", f"{pct}_england", f"{key}_vs_icb",
            f"{key}_vs_england"]


#: Output columns after the identifiers, in order: counts, Core20 and deprivation, PLUS, then ethnic mix.
_OUT_COLS = [
    "registered_patients", "patients_known_lsoa", "core20_patients", *_rate_cols("core20_pct", "core20"),
    "weighted_imd_score", "weighted_imd_score_icb", "weighted_imd_score_england", "imd_quintile",
    "plus_patients", *_rate_cols("plus_pct", "plus"),
    *[f"pct_{g}" for g in BROAD_GROUPS if g != "minority"], *_rate_cols("pct_minority", "minority"),
]


#: Columns of a registration month with list sizes by age (quin-age), placed after ``registered_patients``.
_AGE_COLS = ["registered_40_74", "residents_40_74_est"]


def _ordered(out: pd.DataFrame, ids: list[str], imd: int) -> pd.DataFrame:
    out = out.assign(imd=imd)
    ages = [c for c in _AGE_COLS if c in out]
    cols = [*_OUT_COLS[:1], *ages, *_OUT_COLS[1:]]
    return out[[*ids, "imd", *cols]].reset_index(drop=True)


def _ages(atlas, b: _Base) -> pd.DataFrame | None:
    r"""Per practice (rows of ``b.practices``): registered patients aged 40–74 in the month, and residents aged 40–74.

    ``registered_40_74`` is the month's quin-age count; ``residents_40_74_est`` shares each LSOA's residents
    aged 40–74 among its registered patients' practices: :math:`\sum_l a_l p_{kl} / P_l`. None when the month
    has no list sizes by age (a month whose list sizes come from its LSOA-level file, e.g. July 2022).
    """
    if "registered_40_74" not in atlas.practices or "aged_40_74" not in b.lsoas:
        return None
    reg = atlas.practices.set_index("practice_code")["registered_40_74"]
    with np.errstate(invalid="ignore", divide="ignore"):
        per = (b.lsoas["aged_40_74"].to_numpy(dtype=float)
               / b.lsoas["registered_patients"].to_numpy(dtype=float))
    per = np.nan_to_num(per, nan=0.0, posinf=0.0)
    est = np.bincount(b.p_pos, weights=b.w * per[b.l_pos], minlength=len(b.practices))
    return pd.DataFrame({"registered_40_74": b.practices["practice_code"].map(reg).fillna(0).astype("int64"),
                         "residents_40_74_est": np.rint(est).astype("int64")})


def _national(scope: Scope, level: str) -> pd.DataFrame:
    """The national practice or PCN table (unordered, all rows), cached per atlas, edition and PLUS rules."""
    atlas, plus_rules = scope.atlas, scope.plus_rules
    b = _base(scope.edition)
    if plus_rules is not None and not hasattr(plus_rules, "mask"):
        plus_rules = tuple(plus_rules)
    key = (level, plus_rules) if _hashable(plus_rules) else None
    if key is not None and key in b.tables:
        return b.tables[key]
    sums = _practice_sums(b, plus_rules)
    prac = b.practices
    eng = _england(sums)
    icb_r = _icb_rates(prac, sums)
    if level == "practice":
        comp = icb_r.reindex(prac["icb_code_nhs"].to_numpy())
        comp.index = sums.index
        out = pd.concat([prac, _finish(sums, comp, eng)], axis=1)
        ages = _ages(atlas, b)
        if ages is not None:
            out[_AGE_COLS] = ages.to_numpy()
    else:
        in_pcn = (prac["pcn_code"].notna() & (prac["pcn_code"] != "U")).to_numpy()
        g = sums[_SUM_COLS][in_pcn].groupby(prac.loc[in_pcn, "pcn_code"].to_numpy())
        pcns = _pcn_table(atlas).set_index("pcn_code")
        pcns = pcns[pcns.index != "U"]
        psums = g.sum().reindex(pcns.index).fillna(0)
        n_prac = g.size().reindex(pcns.index).fillna(0).astype(int)
        comp = icb_r.reindex(pcns["icb_code_nhs"].to_numpy())
        comp.index = psums.index
        out = _finish(psums, comp, eng)
        out["practices"] = n_prac
        ages = _ages(atlas, b)
        if ages is not None:
            out[_AGE_COLS] = ages[in_pcn].groupby(prac.loc[in_pcn, "pcn_code"].to_numpy()).sum() \
                .reindex(pcns.index).fillna(0).astype("int64").to_numpy()
        out = pd.concat([pcns, out], axis=1).rename_axis("pcn_code").reset_index()
    out["imd_quintile"] = population_quintiles(out["weighted_imd_score"], out["patients_known_lsoa"])
    if key is not None:
        if len(b.tables) > 16:
            b.tables.clear()
        b.tables[key] = out
    return out


def practice_profiles(scope: Scope, *, practice_codes=None) -> pd.DataFrame:
    r"""Profile GP practices by where their registered patients live.

    Parameters
    ----------
    scope : targeting.scope.Scope
        The area (an ICB, a PCN or a practice: only its practices; None: England), the IMD edition (2019 uses
        ``registrations11`` on LSOA 2011, 2025 ``registrations21`` on LSOA 2021) and the PLUS rules (default
        :data:`targeting.plus.DEFAULT_PLUS_RULES`). The rules are evaluated over every LSOA in England, so a
        top-N% rule means the national top N%; to rank within an ICB, evaluate the rule on the ICB's LSOAs and
        pass the result as a :class:`targeting.plus.LsoaListRule`.
    practice_codes : iterable of str, optional
        Only these practices (all of the area otherwise). Unknown codes raise :class:`LookupError`.

    Returns
    -------
    pandas.DataFrame
        One row per practice: ``practice_code``, ``practice_name``, ``pcn_code``, ``pcn_name``, ``icb_code``,
        ``icb_code_nhs``, ``icb_name``, ``imd`` (edition), ``registered_patients``, ``patients_known_lsoa``,
        ``core20_patients``, ``plus_patients``, ``core20_pct`` with ``_lower``/``_upper`` (Wilson 95%),
        ``_icb``, ``_england`` and flags ``core20_vs_icb``/``core20_vs_england``; the same for ``plus_pct`` and
        ``pct_minority``; ``weighted_imd_score`` (+ ICB and England), ``imd_quintile`` (national quintile of
        practices cut on cumulative registered population, 1 = most deprived), ``pct_asian``, ``pct_black``,
        ``pct_mixed``, ``pct_white``, ``pct_other``. Rows in practice-code order.

    Notes
    -----
    With :math:`p_{kl}` patients of practice :math:`k` living in LSOA :math:`l` (known English LSOAs only),
    :math:`n_k = \sum_l p_{kl}`, Core20 share :math:`\sum_l p_{kl} [l \in C] / n_k`, weighted score
    :math:`\sum_l p_{kl} s_l / n_k`, and estimated ethnic share :math:`\sum_l p_{kl} e_{gl}/r_l / n_k` with
    :math:`e_{gl}` Census 2021 residents of group :math:`g` and :math:`r_l` all residents. The ethnic mix assumes
    a practice's patients in an LSOA mirror its residents; it is an estimate, not recorded ethnicity. The Wilson
    interval treats the patients as a sample of the population the practice could serve; comparisons use the
    interval against the ICB (all practices placed in that ICB) and England values.
    """
    atlas, area = scope.atlas, scope.area
    out = _national(scope, "practice")
    mask = pd.Series(True, index=out.index)
    if practice_codes is not None:
        codes = pd.Index([str(c).strip().upper() for c in practice_codes])
        unknown = codes.difference(out["practice_code"])
        if len(unknown):
            raise LookupError(f"Unknown practice code(s): {', '.join(unknown[:5])}")
        mask &= out["practice_code"].isin(codes)
    if area is not None and area.kind == "pcn":
        if not (out["pcn_code"] == area.code).any():
            raise LookupError(atlas.month.relabel(f"No practice belongs to PCN '{area.code}' in the July 2022 "
                                                  "practice → PCN map"))
        mask &= out["pcn_code"] == area.code
    elif area is not None and area.kind == "practice":
        mask &= out["practice_code"] == area.code
    elif area is not None:
        mask &= out["icb_code_nhs"] == area.icb_code_nhs
    out = out[mask].sort_values("practice_code")
    return _ordered(out, ["practice_code", "practice_name", "pcn_code", "pcn_name", "icb_code", "icb_code_nhs",
                          "icb_name"], scope.imd)


def _pcn_table(atlas) -> pd.DataFrame:
    cols = ["pcn_code", "pcn_name", "icb_code", "icb_code_nhs", "icb_name"]
    return pd.DataFrame(atlas.pcns[cols])


def pcn_profiles(scope: Scope, *, pcn_codes=None) -> pd.DataFrame:
    """Profile PCNs by where their member practices' registered patients live.

    Parameters
    ----------
    scope : targeting.scope.Scope
        The area (an ICB: its PCNs in the registration month's PCN → ICB map; a PCN: that PCN; None: England),
        the IMD edition (and registrations geography) and the PLUS rules, as in :func:`practice_profiles`.
    pcn_codes : iterable of str, optional
        Only these PCNs. Unknown codes raise :class:`LookupError`.

    Returns
    -------
    pandas.DataFrame
        One row per PCN with ``pcn_code``, ``pcn_name``, ``icb_code``, ``icb_code_nhs``, ``icb_name``, ``imd``,
        ``practices`` and the columns of :func:`practice_profiles` (``imd_quintile`` is the national quintile of
        PCNs cut on cumulative registered population). Practices not in a PCN (code ``U``, "Unallocated") are
        left out. Rows in PCN-code order.

    Notes
    -----
    A PCN's sums are its member practices' sums (July 2022 map), so every rate is registration-weighted over all
    the PCN's patients; the comparator is the PCN's ICB (all its practices) and England (all practices).
    """
    area = scope.area
    out = _national(scope, "pcn")
    mask = pd.Series(True, index=out.index)
    if pcn_codes is not None:
        codes = pd.Index([str(c).strip().upper() for c in pcn_codes])
        unknown = codes.difference(out["pcn_code"])
        if len(unknown):
            raise LookupError(f"Unknown PCN code(s): {', '.join(unknown[:5])}")
        mask &= out["pcn_code"].isin(codes)
    if area is not None and area.kind == "pcn":
        mask &= out["pcn_code"] == area.code
    elif area is not None:
        mask &= out["icb_code_nhs"] == area.icb_code_nhs
    out = out[mask].sort_values("pcn_code")
    res = _ordered(out.drop(columns=["practices"]), ["pcn_code", "pcn_name", "icb_code", "icb_code_nhs", "icb_name"],
                   scope.imd)
    res.insert(res.columns.get_loc("imd") + 1, "practices", out["practices"].to_numpy())
    return res


# ------------------------------------------------------------------------------------------------------------------
# QOF register prevalence
# ------------------------------------------------------------------------------------------------------------------
def qof_prevalence(atlas, group: str, year: str | None = None, *, level: str = "practice") -> pd.DataFrame:
    r"""QOF recorded prevalence of a register at practice, PCN, ICB or England level.

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas (its ``qof`` table: raw QOF prevalence files).
    group : str
        QOF group code, e.g. ``HYP`` (hypertension), ``MH`` (severe mental illness), ``DM``, ``AST``, ``COPD``,
        ``LD``.
    year : str, optional
        QOF year, e.g. ``"2022-23"`` or ``"2020-21"``; default the latest in the atlas.
    level : {"practice", "pcn", "icb", "england"}
        Aggregation level. PCN and ICB use the July 2022 practice map; practices missing from it count only in
        England.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``register``, ``list_size``, ``prevalence_pct``, ``prevalence_pct_lower``,
        ``prevalence_pct_upper`` (Wilson 95%), ``qof_year``, ``group_code``, ``list_type`` (the QOF list the
        register is counted against, e.g. ``TOTAL`` all ages or ``17OV``).

    Notes
    -----
    Prevalence :math:`= \sum R / \sum N` over the practices in the unit, with :math:`R` the register and :math:`N`
    the practice list of the register's age base. This is *recorded* prevalence, not true prevalence.
    """
    q = atlas.qof
    g = str(group).strip().upper().removeprefix("QOF_")
    years = sorted(q["qof_year"].unique())
    y = year or years[-1]
    if y not in years:
        raise LookupError(f"QOF year {year!r} is not in the data; available: {', '.join(years)}")
    rows = q[(q["group_code"] == g) & (q["qof_year"] == y)]
    if rows.empty:
        avail = sorted(q.loc[q["qof_year"] == y, "group_code"].unique())
        raise LookupError(f"No QOF register '{group}' in {y}; available: {', '.join(avail)}")
    list_type = ",".join(sorted(rows["list_type"].unique()))
    level = level.lower()
    if level == "practice":
        prac = atlas.practices.set_index("practice_code")["practice_name"]
        agg = rows.groupby("practice_code")[["register", "list_size"]].sum()
        agg["name"] = prac.reindex(agg.index).to_numpy()
    elif level in ("pcn", "icb"):
        key, name = ("pcn_code", "pcn_name") if level == "pcn" else ("icb_code_nhs", "icb_name")
        m = atlas.practices.set_index("practice_code")[[key, name]]
        r = rows.join(m, on="practice_code", how="inner")
        if level == "pcn":
            r = r[r[key] != "U"]
        agg = r.groupby(key)[["register", "list_size"]].sum()
        agg["name"] = r.groupby(key)[name].first()
    elif level == "england":
        agg = pd.DataFrame({"register": [rows["register"].sum()], "list_size": [rows["list_size"].sum()],
                            "name": ["England"]}, index=[ENGLAND_CODE])
    else:
        raise ValueError(f"level must be practice, pcn, icb or england, not {level!r}")
    agg = agg.rename_axis("code").reset_index()
    lo, hi = _wilson(agg["register"].to_numpy(dtype=float), agg["list_size"].to_numpy(dtype=float))
    n = agg["list_size"].where(agg["list_size"] > 0)
    agg["prevalence_pct"] = 100 * agg["register"] / n
    agg["prevalence_pct_lower"] = 100 * lo
    agg["prevalence_pct_upper"] = 100 * hi
    agg["qof_year"] = y
    agg["group_code"] = g
    agg["list_type"] = list_type
    return agg[["code", "name", "register", "list_size", "prevalence_pct", "prevalence_pct_lower",
                "prevalence_pct_upper", "qof_year", "group_code", "list_type"]]
