r"""Fingertips exports read as published: OHID's "Export data" CSV, unchanged, for GP practices and PCNs.

Fingertips (https://fingertips.phe.org.uk) writes one row per indicator × area × period × sex × age × category
with the header :data:`HEADER`. :func:`read_fingertips` checks the file and names the file, field and row of
anything it cannot read; :func:`choices` lists what the file holds; :func:`select` picks one indicator, period,
sex, age and category and splits its rows by the kind of area:

* **GP practices** are recognised by their ODS practice code (a letter and five digits, e.g. ``B83052``), not by
  one spelling of the area type ("GPs", "GP practice"…);
* **PCNs** by their ODS PCN code (``U`` and five digits);
* **England** by ``E92000001``; ICB rows (``E54…``) are kept when present.

:func:`aggregate` gives a PCN's or ICB's value: the file's own PCN row where there is one, otherwise the member
practices' ``Count`` and ``Denominator`` summed (July 2022 practice → PCN map). Where the file has no counts an
aggregate is not possible and it says so. :func:`clinical_area` slots an indicator into its Core20PLUS5 area by
its name. The export stays in the user's session; nothing here writes it anywhere.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo._errors import Problem
from geo.codes import ICB, PCN, PRACTICE
from targeting._limits import MAX_BYTES
from targeting.intake import HEADER, FileProblemsError, is_fingertips, read_export
from targeting.stats import byar_ci, wilson_ci

if TYPE_CHECKING:
    from targeting.scope import Scope

__all__ = [
    "ENGLAND_CODE",
    "HEADER",
    "FingertipsExport",
    "FingertipsIndicator",
    "aggregate",
    "choices",
    "clinical_area",
    "is_fingertips",
    "read_fingertips",
    "select",
    "to_upload",
]

ENGLAND_CODE = "E92000001"


@dataclass
class FingertipsExport:
    """A checked Fingertips export: every row, with canonical column names.

    Attributes
    ----------
    filename
        As given.
    rows
        ``row`` (line in the file, header = 1), ``indicator_id``, ``indicator_name``, ``area_code``, ``area_name``,
        ``area_type``, ``kind`` (practice, pcn, icb, england, other), ``sex``, ``age``, ``category_type``,
        ``category``, ``period``, ``period_sortable``, ``value``, ``lower``, ``upper``, ``count``, ``denominator``,
        ``value_note``.
    """

    filename: str
    rows: pd.DataFrame


@dataclass
class FingertipsIndicator:
    """One indicator, period, sex, age and category from an export.

    Attributes
    ----------
    practices, pcns, icbs
        The rows for GP practices, PCNs and ICBs (``code``, ``name``, ``value``, ``lower``, ``upper``, ``count``,
        ``denominator``, ``row``).
    england
        England's value, limits, count and denominator, or ``None`` when the file has no England row.
    has_counts
        Every practice row with a value has both ``Count`` and ``Denominator``: aggregates are possible.
    multiplier
        Value ÷ (Count ÷ Denominator): 100 for a percentage, 100,000 for a rate per 100,000 (1 if unknown).
    proportion
        A percentage of people (multiplier 100, Count ≤ Denominator): Wilson limits and an SII apply.
    """

    filename: str
    indicator_id: str
    name: str
    period: str
    sex: str
    age: str
    category: str
    practices: pd.DataFrame
    pcns: pd.DataFrame
    icbs: pd.DataFrame
    england: dict[str, float] | None
    has_counts: bool
    multiplier: float
    proportion: bool
    notes: list[str] = field(default_factory=list)
    area: str | None = None  # a clinical area chosen by the user; default: by the indicator's name

    @property
    def unit(self) -> str:
        """The unit of the values, e.g. ``%`` or ``per 100,000``."""
        if self.multiplier == 100:
            return "%"
        if self.multiplier == 1:
            return "value as published"
        return f"per {self.multiplier:,.0f}"

    @property
    def label(self) -> str:
        """Indicator name with the sex, age and category chosen."""
        bits = [self.sex, self.age] + ([self.category] if self.category else [])
        return f"{self.name} ({', '.join(b for b in bits if b)})"

    @property
    def source(self) -> str:
        """Source line for every figure built from it."""
        return (f"OHID Fingertips export {self.filename}, indicator {self.indicator_id}, {self.period}; "
                f"practice → PCN map July 2022 (NHS Digital); OGL v3")


def read_fingertips(data: bytes | str | Path, *, filename: str | None = None) -> FingertipsExport:
    """Read a CSV written by Fingertips "Export data", unchanged.

    Parameters
    ----------
    data
        The file's bytes or text, or its path.
    filename
        Used in messages (default the path's name, or ``fingertips.csv``).

    Returns
    -------
    FingertipsExport

    Raises
    ------
    targeting.intake.FileProblemsError
        A :class:`geo._errors.ValidationError` naming the file, the field and the rows: a required field missing
        from the header, no data rows, a ``Value``, limit, ``Count`` or ``Denominator`` that is not a number, a
        negative count, or a blank area code or indicator.

    Notes
    -----
    Blank values are kept as missing: Fingertips leaves a value blank where it is suppressed or not published
    (the reason is in ``Value note``), and ``Count`` and ``Denominator`` are blank for some indicators.
    """
    name, out = read_export(data, filename=filename, limit=MAX_BYTES)  # a national export is ~10-30 MB
    code = out["area_code"]
    kinds = [code.str.match(PRACTICE), code.str.match(PCN), code.str.match(ICB), code.eq(ENGLAND_CODE)]
    out["kind"] = np.select(kinds, ["practice", "pcn", "icb", "england"], "other")
    return FingertipsExport(name, out)


def choices(export: FingertipsExport) -> dict[str, list[str]]:
    """What the file holds: ``indicator`` (``"id: name"``), ``period`` (latest first), ``sex``, ``age``, ``category``.

    Periods, sexes, ages and categories are those of GP practice and PCN rows (all rows if there are none).
    """
    r = export.rows
    local = r[r["kind"].isin(["practice", "pcn"])]
    r = local if len(local) else r
    ind = r.drop_duplicates("indicator_id")
    per = r.drop_duplicates("period").sort_values(["period_sortable", "period"], ascending=False)
    cats = r.assign(c=_category(r)).drop_duplicates("c")["c"]
    return {"indicator": [f"{i}: {n}" for i, n in zip(ind["indicator_id"], ind["indicator_name"], strict=True)],
            "period": per["period"].tolist(), "sex": _ordered(r["sex"], ["Persons"]),
            "age": _ordered(r["age"], []), "category": _ordered(cats, [""])}


def _category(r: pd.DataFrame) -> pd.Series:
    both = r["category_type"].where(r["category"].eq(""), r["category_type"] + ": " + r["category"])
    return both.where(r["category"].ne("") | r["category_type"].ne(""), "")


def _ordered(s: pd.Series, first: list[str]) -> list[str]:
    counts = s.value_counts()
    vals = list(counts.index)
    return [v for v in first if v in vals] + [v for v in vals if v not in first]


def _pick(what: str, wanted: str | None, options: list[str], filename: str) -> str:
    if wanted is None:
        return options[0]
    hits = [o for o in options if o == wanted or o.split(": ", 1)[0] == wanted]
    if not hits:
        raise FileProblemsError(filename, [Problem(what, f"'{wanted}' is not in the file; it holds: "
                                                     + "; ".join(options[:10]))])
    return hits[0]


def select(export: FingertipsExport, *, indicator: str | None = None, period: str | None = None,
           sex: str | None = None, age: str | None = None, category: str | None = None) -> FingertipsIndicator:
    """One indicator's rows for a period, sex, age and category, split into practices, PCNs, ICBs and England.

    Parameters
    ----------
    export
        From :func:`read_fingertips`.
    indicator
        Indicator ID (or ``"id: name"`` from :func:`choices`); default the first in the file.
    period, sex, age, category
        Default: the latest period, ``Persons`` (else the commonest sex), the commonest age among practice and PCN
        rows, and no category (the whole population) where the file has such rows.

    Raises
    ------
    targeting.intake.FileProblemsError
        A choice the file does not hold, or no GP practice or PCN rows for the choices; or the same area twice.
    """
    fn = export.filename
    r = export.rows
    ind = _pick("Indicator ID", indicator, choices(export)["indicator"], fn).split(": ", 1)[0]
    r = r[r["indicator_id"] == ind]
    sub = FingertipsExport(fn, r)
    opts = choices(sub)
    per = _pick("Time period", period, opts["period"], fn)
    sx = _pick("Sex", sex, opts["sex"], fn)
    r = r[(r["period"] == per) & (r["sex"] == sx)]
    ag = _pick("Age", age, choices(FingertipsExport(fn, r))["age"], fn)
    r = r[r["age"] == ag]
    cat = _pick("Category", category, choices(FingertipsExport(fn, r))["category"], fn)
    r = r[_category(r) == cat]
    dup = r["area_code"].duplicated(keep="first")
    if dup.any():
        rows = ", ".join(map(str, r.loc[dup, "row"].head(5)))
        raise FileProblemsError(fn, [Problem("Area Code", "the same area appears twice for one indicator, period, sex, "
                                                      f"age and category (rows {rows})")])

    def part(kind: str) -> pd.DataFrame:
        t = r[r["kind"] == kind]
        return t.rename(columns={"area_code": "code", "area_name": "name"})[
            ["code", "name", "value", "lower", "upper", "count", "denominator", "value_note", "row"]
        ].reset_index(drop=True)

    practices, pcns = part("practice"), part("pcn")
    if practices.empty and pcns.empty:
        raise FileProblemsError(fn, [Problem("Area Code", f"no GP practice or PCN rows for indicator {ind}, {per}, "
                                                      f"{sx}, {ag}: export the indicator at GP practice level")])
    eng = r[r["kind"] == "england"]
    england = None if eng.empty else {k: float(eng[k].iloc[0]) for k in ("value", "lower", "upper", "count",
                                                                          "denominator")}
    name = str(r["indicator_name"].iloc[0])
    valued = practices[practices["value"].notna()]
    has_counts = bool(len(valued)) and bool(valued["count"].notna().all() and valued["denominator"].notna().all())
    mult = _multiplier(valued if len(valued) else pcns)
    proportion = bool(has_counts and mult == 100 and (valued["count"] <= valued["denominator"]).all())
    notes = []
    if not has_counts:
        notes.append("The file has no Count and Denominator for every practice, so a PCN or ICB aggregate is not "
                     "possible from the practices (a published PCN row is used where the file has one).")
    return FingertipsIndicator(fn, ind, name, per, sx, ag, cat, practices, pcns, part("icb"), england, has_counts,
                               mult, proportion, notes)


def _multiplier(t: pd.DataFrame) -> float:
    """Value ÷ (Count ÷ Denominator), rounded to a power of ten (100 = percentage); 1 if it cannot be told."""
    ok = t["value"].notna() & t["count"].gt(0) & t["denominator"].gt(0)
    if not ok.any():
        return 1.0
    ratio = (t.loc[ok, "value"] / (t.loc[ok, "count"] / t.loc[ok, "denominator"])).median()
    if not np.isfinite(ratio) or ratio <= 0:
        return 1.0
    return float(10 ** round(math.log10(ratio)))


def _limits(ind: FingertipsIndicator, x: float, n: float) -> tuple[float, float]:
    if ind.proportion:
        lo, hi = wilson_ci(min(x, n), n)
        return 100 * lo, 100 * hi
    lo, hi = byar_ci(x)
    return lo / n * ind.multiplier, hi / n * ind.multiplier


def aggregate(ind: FingertipsIndicator, practice_codes: list[str] | pd.Series, *, pcn_code: str | None = None,
              icb_code: str | None = None) -> dict[str, Any]:
    r"""The value of a group of practices: the file's own PCN (or ICB) row if present, else their counts summed.

    Parameters
    ----------
    ind
        From :func:`select`.
    practice_codes
        The member practices (e.g. a PCN's, July 2022 map).
    pcn_code, icb_code
        The group's code, to use a published row for it when the file has one.

    Returns
    -------
    dict
        ``value``, ``lower``, ``upper``, ``count``, ``denominator``, ``practices`` (members with a row in the file),
        ``members``, ``method`` (``published PCN row``, ``published ICB row``, ``sum of practices`` or
        ``not possible``) and ``note``.

    Notes
    -----
    :math:`v = m \sum_p c_p / \sum_p d_p` with :math:`m` the multiplier (100 for a percentage); Wilson limits for a
    percentage of people, Byar limits on the summed count for a rate. Practices without a value (suppressed in
    the file) are left out of both sums, and the note says how many.
    """
    codes = pd.Index(pd.Series(list(practice_codes), dtype=object).astype(str).str.upper().unique())
    out: dict[str, Any] = {"value": np.nan, "lower": np.nan, "upper": np.nan, "count": np.nan,
                           "denominator": np.nan, "members": len(codes), "practices": 0, "method": "not possible",
                           "note": ""}
    for code, table, what in ((pcn_code, ind.pcns, "PCN"), (icb_code, ind.icbs, "ICB")):
        if code and (table["code"] == code).any():
            row = table[table["code"] == code].iloc[0]
            out.update({k: float(row[k]) for k in ("value", "lower", "upper", "count", "denominator")},
                       method=f"published {what} row", note=f"the file's own {what} row (row {int(row['row'])})")
            return out
    p = ind.practices[ind.practices["code"].isin(codes)]
    out["practices"] = len(p)
    valued = p[p["value"].notna()]
    if valued.empty:
        out["note"] = "none of the member practices has a value in the file"
        return out
    if not ind.has_counts:
        out["note"] = "the file has no Count and Denominator for the practices, so an aggregate is not possible"
        return out
    x, n = float(valued["count"].sum()), float(valued["denominator"].sum())
    if n <= 0:
        out["note"] = "the member practices' denominators sum to 0"
        return out
    lo, hi = _limits(ind, x, n)
    missing = len(codes) - len(valued)
    out.update(value=x / n * ind.multiplier, lower=lo, upper=hi, count=x, denominator=n, method="sum of practices",
               note=f"Count and Denominator of {len(valued)} of {len(codes)} member practices summed"
               + (f" ({missing} without a value in the file)" if missing else ""))
    return out


def file_icbs(ind: FingertipsIndicator, atlas: Any) -> pd.Series:
    """The ICBs (NHS codes, July 2022) of the file's practices known to the atlas, with their counts, most first."""
    prac = atlas.practices.set_index("practice_code")
    known = ind.practices["code"][ind.practices["code"].isin(prac.index)]
    return prac.loc[known, "icb_code_nhs"].value_counts()


def pcn_values(ind: FingertipsIndicator, scope: Scope) -> pd.DataFrame:
    """The indicator for every PCN of an ICB and the ICB itself (:func:`aggregate`), one row each.

    The ICB is the one the scope's area sits in, its PCNs those of the atlas's practice → PCN map. Columns
    ``pcn_code`` (the ICB's NHS code on its own row), ``pcn_name``, ``value``, ``lower``, ``upper``, ``count``,
    ``denominator``, ``method`` and ``note``; counts, values and limits are exact. Never show them as they are:
    :func:`targeting.yourdata.fingertips_tables` publishes the PCN and ICB rows, protected together with the
    practice table (suppressing this table on its own let a withheld practice be worked out, issue 24).
    """
    atlas, icb_nhs = scope.atlas, str(scope.icb_nhs)
    prac = atlas.practices.set_index("practice_code")
    members = prac[prac["icb_code_nhs"] == icb_nhs]
    keys = ("value", "lower", "upper", "count", "denominator")
    rows = []
    for pcn, grp in members[members["pcn_code"] != "U"].groupby("pcn_code"):
        g = aggregate(ind, grp.index, pcn_code=str(pcn))
        rows.append({"pcn_code": pcn, "pcn_name": grp["pcn_name"].iloc[0], **{k: g[k] for k in keys},
                     "method": g["method"], "note": g["note"]})
    icbs = atlas.icbs
    name = icbs.drop_duplicates("icb_code_nhs").set_index("icb_code_nhs")["icb_name"].get(icb_nhs, icb_nhs)
    ons = icbs.drop_duplicates("icb_code_nhs", keep="last").set_index("icb_code_nhs")["icb_code"]
    g = aggregate(ind, members.index, icb_code=str(ons.get(icb_nhs, "")))
    rows.append({"pcn_code": icb_nhs, "pcn_name": f"{name} (ICB)", **{k: g[k] for k in keys},
                 "method": g["method"], "note": g["note"]})
    return pd.DataFrame(rows)


def to_upload(ind: FingertipsIndicator, atlas: Any) -> Any:
    """The practice rows as a :class:`targeting.uploads.Upload` (practice level), for the Your data page.

    The map and the Core20 comparison then work as for any upload. Needs counts; rows whose code the atlas does
    not know, or without a value, are listed as invalid with the reason.
    """
    from targeting.uploads import Upload

    if not ind.has_counts:
        raise ValueError(f"{ind.filename}: indicator {ind.indicator_id} has no Count and Denominator, so it cannot "
                         "be compared by deprivation or summed")
    names = atlas.practices.set_index("practice_code")["practice_name"]
    p = ind.practices[ind.practices["value"].notna()]
    known = p["code"].isin(names.index)
    data = pd.DataFrame({"row": p["row"], "code": p["code"], "name": p["code"].map(names),
                         "numerator": p["count"], "denominator": p["denominator"]})[known.to_numpy()]
    data["rate"] = data["numerator"] / data["denominator"].where(data["denominator"] > 0) * 100
    bad = p[~known.to_numpy()]
    invalid = pd.DataFrame({"row": bad["row"], "code": bad["code"],
                            "reason": atlas.month.relabel("not a practice in the July 2022 GP registrations "
                                                          "(closed, merged or new)")})
    blank = ind.practices[ind.practices["value"].isna()]
    invalid = pd.concat([invalid, pd.DataFrame({"row": blank["row"], "code": blank["code"],
                                                "reason": "no value in the file: " + blank["value_note"].where(
                                                    blank["value_note"].ne(""), "blank")})], ignore_index=True)
    return Upload("practice", atlas.month.relabel("GP practice (July 2022)"), data.reset_index(drop=True),
                  invalid.sort_values("row").reset_index(drop=True),
                  {"code": "Area Code", "numerator": "Count", "denominator": "Denominator"}, ind.filename)


# Keywords that place an indicator in a clinical area, checked in this order (SMI before children's mental health).
_AREA_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("smi", ("severe mental", "serious mental", "smi", "psychos", "schizophren", "bipolar")),
    ("learning_disability", ("learning disab",)),
    ("maternity", ("matern", "pregnan", "antenatal", "booking", "birth weight", "births", "delivery", "breastfe",
                   "postnatal")),
    ("cancer", ("cancer", "screening", "two week wait", "stage at diagnosis", "tumour")),
    ("hypertension", ("hypertens", "blood pressure")),
    ("respiratory", ("copd", "obstructive pulmonary", "flu", "influenza", "pneumococcal", "respiratory")),
    ("asthma", ("asthma",)),
    ("diabetes", ("diabet", "hba1c")),
    ("epilepsy", ("epilep", "seizure")),
    ("oral_health", ("dental", "tooth", "teeth", "oral health", "decay")),
    ("cyp_mental_health", ("mental health", "self-harm", "self harm", "emotional", "eating disorder")),
)


def clinical_area(name: str) -> str | None:
    """The Core20PLUS5 area an indicator belongs to, by its name (``None`` if it is none of them).

    Keys are those of :data:`targeting.clinical.AREAS`, e.g. ``"cancer"`` for "Cancer screening coverage: bowel
    cancer", ``"respiratory"`` for "Flu vaccination coverage: at risk individuals".
    """
    low = str(name).lower()
    for key, words in _AREA_WORDS:
        for w in words:
            if (re.search(rf"\b{w}\b", low) if w == "smi" else w in low):
                return key
    return None
