"""ONS Census 2021 tables (Nomis bulk files) and ONS mid-year population estimates."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from geo._errors import Problems
from geo.codes import LSOA, MSOA
from geo.readers._common import (
    check_codes,
    finish,
    norm,
    read_csv_text,
    require_rows,
    to_number,
)

__all__ = [
    "BROAD_GROUPS",
    "DETAILED_GROUPS",
    "read_age6",
    "read_census_table",
    "read_mye_single_year",
    "read_ts007_msoa",
    "read_ts021",
]


#: Broad TS021 groups: canonical key → label.
BROAD_GROUPS: dict[str, str] = {
    "asian": "Asian, Asian British or Asian Welsh",
    "black": "Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Mixed or Multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
}

#: The 19 detailed TS021 groups: canonical key → (broad key, label).
DETAILED_GROUPS: dict[str, tuple[str, str]] = {
    "bangladeshi": ("asian", "Bangladeshi"),
    "chinese": ("asian", "Chinese"),
    "indian": ("asian", "Indian"),
    "pakistani": ("asian", "Pakistani"),
    "other_asian": ("asian", "Other Asian"),
    "african": ("black", "African"),
    "caribbean": ("black", "Caribbean"),
    "other_black": ("black", "Other Black"),
    "white_and_asian": ("mixed", "White and Asian"),
    "white_and_black_african": ("mixed", "White and Black African"),
    "white_and_black_caribbean": ("mixed", "White and Black Caribbean"),
    "other_mixed": ("mixed", "Other Mixed or Multiple ethnic groups"),
    "white_british": ("white", "English, Welsh, Scottish, Northern Irish or British"),
    "irish": ("white", "Irish"),
    "gypsy_irish_traveller": ("white", "Gypsy or Irish Traveller"),
    "roma": ("white", "Roma"),
    "other_white": ("white", "Other White"),
    "arab": ("other", "Arab"),
    "any_other": ("other", "Any other ethnic group"),
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def read_census_table(path: str | Path, *, geography: str = "lsoa") -> pd.DataFrame:
    """Read any Nomis Census 2021 bulk table (wide, one row per area) as counts.

    The ``date`` and ``geography`` (area name) columns are optional; headers may carry the Nomis
    ``; measures: Value`` suffix. A zip holding several geographies is read at the member named for
    ``geography``.

    Returns
    -------
    pandas.DataFrame
        ``area_code``, ``area_name`` (if present) and one integer column per category, named by the
        text after the topic, slugged: ``"Household deprivation: Total: All households"`` → ``total_all_households``.
    """
    problems = Problems(path)
    raw = read_csv_text(path, prefer=[f"-{geography}."])
    code_col = next((c for c in raw.columns if norm(c) in ("geography code", f"{geography}21_code",
                                                           f"{geography}21cd")), None)
    if code_col is None:
        problems.add("geography code", "required column is missing")
        problems.raise_if_any()
    name_col = next((c for c in raw.columns if norm(c) in ("geography", f"{geography}21_name")), None)
    skip = {code_col, name_col, "date"}
    data_cols = [c for c in raw.columns if c not in skip and norm(c) != "date"]
    names = [_slug(norm(c).split(":", 1)[1] if ":" in c else norm(c)) for c in data_cols]
    dups = {n for n in names if names.count(n) > 1}
    for d in dups:
        problems.add(d, "the header appears more than once")
    df = raw[data_cols].copy()
    df.columns = names
    df.insert(0, "area_code", raw[code_col].values)
    if name_col:
        df.insert(1, "area_name", raw[name_col].values)
    require_rows(df, problems)
    pattern = LSOA if geography == "lsoa" else MSOA if geography == "msoa" else None
    check_codes(df, "area_code", problems, pattern=pattern, what=f"{geography.upper()} code")
    to_number(df, [n for n in names if n not in dups], problems, integer=True)
    return finish(problems, df)


def _total_col(df: pd.DataFrame) -> str:
    return next(c for c in df.columns if c.startswith("total"))


def read_ts021(path: str | Path) -> pd.DataFrame:
    """Read Census 2021 TS021 ethnic group by LSOA 2021 (19 detailed groups and the 5 broad ones).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``residents`` (all usual residents), ``eth_<broad>`` for the 5 broad groups and
        ``eth_<group>`` for the 19 detailed groups (counts). A file with only the broad groups gives
        only those.

    Notes
    -----
    Checks that the broad groups add up to the total in every row, and that the detailed groups add up
    to their broad group.
    """
    problems = Problems(path)
    t = read_census_table(path)
    out = pd.DataFrame({"lsoa_code": t["area_code"], "residents": t[_total_col(t)]})
    for key, label in BROAD_GROUPS.items():
        col = _slug(label)
        if col in t:
            out[f"eth_{key}"] = t[col]
        else:
            problems.add(f"Ethnic group: {label}", "required column is missing")
    for key, (broad, label) in DETAILED_GROUPS.items():
        col = _slug(f"{BROAD_GROUPS[broad]}: {label}")
        if col in t:
            out[f"eth_{key}"] = t[col]
    problems.raise_if_any()
    broad_sum = out[[f"eth_{k}" for k in BROAD_GROUPS]].sum(axis=1)
    bad = broad_sum != out["residents"]
    if bad.any():
        problems.add("Ethnic group: Total: All usual residents", "the broad groups do not add up to the total",
                     list(np.flatnonzero(bad)[:5] + 2), out.loc[bad, "lsoa_code"].head(3).tolist())
    for broad in BROAD_GROUPS:
        parts = [f"eth_{k}" for k, (b, _) in DETAILED_GROUPS.items() if b == broad and f"eth_{k}" in out]
        if parts and len(parts) == sum(1 for b, _ in DETAILED_GROUPS.values() if b == broad):
            bad = out[parts].sum(axis=1) != out[f"eth_{broad}"]
            if bad.any():
                problems.add(f"Ethnic group: {BROAD_GROUPS[broad]}", "the detailed groups do not add up to it",
                             list(np.flatnonzero(bad)[:5] + 2))
    return finish(problems, out)


def read_age6(path: str | Path) -> pd.DataFrame:
    """Read Census 2021 usual residents by Age (6 categories) per LSOA 2021.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``age_total``, ``age_0_15``, ``age_16_24``, ``age_25_34``, ``age_35_49``,
        ``age_50_64``, ``age_65_plus``.
    """
    problems = Problems(path)
    t = read_census_table(path)
    bands = {"age_0_15": "15_years_and_under", "age_16_24": "16_to_24", "age_25_34": "25_to_34",
             "age_35_49": "35_to_49", "age_50_64": "50_to_64", "age_65_plus": "65_years_and_over"}
    out = pd.DataFrame({"lsoa_code": t["area_code"]})
    for key, frag in bands.items():
        col = next((c for c in t.columns if frag in c), None)
        if col is None:
            problems.add(f"Age (6 categories): {frag}", "required column is missing")
        else:
            out[key] = t[col]
    problems.raise_if_any()
    out["age_total"] = out[list(bands)].sum(axis=1)
    return finish(problems, out)


def read_ts007_msoa(path: str | Path) -> pd.DataFrame:
    """Read Census 2021 TS007 age by single year for MSOA 2021.

    Returns
    -------
    pandas.DataFrame
        ``msoa_code``, ``msoa_name`` and ``age_0`` … ``age_100`` (100 = 100 and over).
    """
    problems = Problems(path)
    t = read_census_table(path, geography="msoa")
    out = pd.DataFrame({"msoa_code": t["area_code"]})
    if "area_name" in t:
        out["msoa_name"] = t["area_name"]
    ages = {}
    for c in t.columns:
        m = re.fullmatch(r"aged_(\d+)_years?(_and_over)?|aged_under_1_year", c)
        if m:
            ages[0 if c == "aged_under_1_year" else int(m.group(1))] = t[c]
    missing = [a for a in range(101) if a not in ages]
    if missing:
        problems.add("Age: Aged N years", f"single-year columns missing for ages {missing[:5]}")
    problems.raise_if_any()
    out = pd.concat([out, pd.DataFrame({f"age_{a}": ages[a] for a in range(101)})], axis=1)
    return finish(problems, out)


def read_mye_single_year(path: str | Path) -> pd.DataFrame:
    """Read ONS mid-year LSOA population estimates by single year of age (e.g. SAPE23DT2, mid-2020).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``lsoa_name``, ``all_ages`` and ``age_0`` … ``age_90`` (90 = 90 and over).
        Checks that the single years add up to All Ages in every row.
    """
    problems = Problems(path)
    raw = read_csv_text(path)
    cols = {norm(c): c for c in raw.columns}
    code = cols.get("lsoa code") or cols.get("lsoa11cd") or cols.get("lsoa21cd")
    allc = cols.get("all ages")
    if code is None:
        problems.add("LSOA Code", "required column is missing")
    if allc is None:
        problems.add("All Ages", "required column is missing")
    ages = {}
    for a in range(91):
        c = cols.get(str(a)) or (cols.get("90+") if a == 90 else None)
        if c is None:
            problems.add(str(a), "single-year column is missing")
        else:
            ages[a] = c
    problems.raise_if_any()
    name = cols.get("lsoa name")
    parts = {"lsoa_code": raw[code], "lsoa_name": raw[name] if name else raw[code], "all_ages": raw[allc]}
    parts.update({f"age_{a}": raw[c] for a, c in ages.items()})
    out = pd.DataFrame(parts)
    require_rows(out, problems)
    check_codes(out, "lsoa_code", problems)
    to_number(out, ["all_ages", *[f"age_{a}" for a in range(91)]], problems, integer=True)
    if not problems.items:
        bad = out[[f"age_{a}" for a in range(91)]].sum(axis=1) != out["all_ages"]
        if bad.any():
            problems.add("All Ages", "single years do not add up to All Ages", list(np.flatnonzero(bad)[:5] + 2))
    return finish(problems, out)
