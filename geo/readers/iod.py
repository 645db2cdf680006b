"""MHCLG English Indices of Deprivation: File 7 (and Files 1, 2 and 6) for IoD 2019 and IoD 2025."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo._errors import Problems
from geo.codes import ENGLISH_LSOA
from geo.readers._common import (
    check_codes,
    finish,
    pick_columns,
    read_csv_text,
    require_rows,
    to_number,
)

__all__ = ["DOMAINS", "NATIONAL_LSOAS", "read_iod"]

#: Canonical domain prefix → the wording MHCLG uses at the start of its column headers.
DOMAINS: dict[str, str] = {
    "imd": "Index of Multiple Deprivation (IMD)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability",
    "crime": "Crime",
    "housing": "Barriers to Housing and Services",
    "environment": "Living Environment",
}


def _spec(year: int) -> dict[str, list[str]]:
    code_year = 2011 if year == 2019 else 2021
    spec: dict[str, list[str]] = {
        "lsoa_code": [f"LSOA code ({code_year})", "LSOA code", f"LSOA{str(code_year)[2:]}CD"],
        "lsoa_name": [f"LSOA name ({code_year})", "LSOA name", f"LSOA{str(code_year)[2:]}NM"],
        "lad_code": ["Local Authority District code", "LAD code"],
        "lad_name": ["Local Authority District name", "LAD name"],
    }
    for key, words in DOMAINS.items():
        spec[f"{key}_score"] = [f"{words} Score"]
        spec[f"{key}_rank"] = [f"{words} Rank"]
        spec[f"{key}_decile"] = [f"{words} Decile"]
    spec["pop_total"] = ["Total population: mid"]
    return spec


#: LSOAs in England that each edition ranks (rank 1 is the most deprived).
NATIONAL_LSOAS = {2019: 32_844, 2025: 33_755}


def read_iod(path: str | Path, *, edition: int, national: bool = True) -> pd.DataFrame:
    """Read an IoD LSOA file as MHCLG publishes it.

    Accepts File 7 (all ranks, scores, deciles and population denominators) and Files 1, 2 and 6 of
    IoD 2019, each as CSV (UTF-8 with or without BOM, thousands separators allowed), gzipped or zipped.

    Parameters
    ----------
    path
        The file.
    edition
        2019 (LSOA 2011 rows, 32,844 in England) or 2025 (LSOA 2021 rows, 33,755).
    national
        The file ranks every row it holds, so ranks must lie in 1..rows. ``False`` reads an extract of the
        national file (some LSOAs, keeping their national ranks): ranks must lie in 1..:data:`NATIONAL_LSOAS`.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code`` plus whatever the file holds of ``lsoa_name``, ``lad_code``, ``lad_name``,
        ``<domain>_score``, ``<domain>_rank``, ``<domain>_decile`` (domains: imd, income, employment,
        education, health, crime, housing, environment) and ``pop_total`` (the population denominator),
        and an ``imd_edition`` column.
    """
    if edition not in (2019, 2025):
        raise ValueError(f"edition must be 2019 or 2025, not {edition!r}")
    problems = Problems(path)
    raw = read_csv_text(path)
    spec = _spec(edition)
    df = pick_columns(raw, spec, problems, optional=[k for k in spec if k != "lsoa_code"], prefix=True)
    require_rows(df, problems)
    if not any(c.startswith("imd_") for c in df.columns) and "pop_total" not in df:
        problems.add("Index of Multiple Deprivation (IMD) Rank", "no IMD score, rank or decile column found")
    check_codes(df, "lsoa_code", problems, pattern=ENGLISH_LSOA, what="English LSOA code")
    numeric = [c for c in df.columns if c.endswith(("_score", "_rank", "_decile")) or c == "pop_total"]
    to_number(df, [c for c in numeric if c.endswith("_score")], problems, nonneg=False)
    to_number(df, [c for c in numeric if not c.endswith("_score")], problems, integer=True)
    if not problems.items:
        n = len(df) if national else NATIONAL_LSOAS[edition]
        for col in [c for c in df.columns if c.endswith("_rank")]:
            bad = (df[col] < 1) | (df[col] > n)
            if bad.any():
                problems.add(col, f"ranks must lie in 1..{n}", list(bad[bad].index[:5] + 2))
        for col in [c for c in df.columns if c.endswith("_decile")]:
            bad = ~df[col].between(1, 10)
            if bad.any():
                problems.add(col, "deciles must lie in 1..10", list(bad[bad].index[:5] + 2))
    df["imd_edition"] = edition
    return finish(problems, df)
