"""What each catalogued input must look like before the build (or ``fetch``) accepts it.

:func:`read_input` reads a source with the same reader the build uses and checks its row count against the
catalogue's :data:`EXPECTED_ROWS` for that edition, so ``fetch`` refuses a download the build would refuse,
before the file is renamed into place, and the build refuses a local file that was cut short or replaced by
a file of another shape, naming the file. :func:`check_rows` and :func:`check_coverage` are the two checks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from geo._errors import Problem, ValidationError

__all__ = ["EXPECTED_ROWS", "NEEDED_COLUMNS", "NEWER_EDITION_TOLERANCE", "ROW_TOLERANCE", "check_columns",
           "check_coverage", "check_rows", "read_input", "reader_for"]

#: Data rows (after the reader's checks) of each catalogued edition, as published. The catalogue pins the
#: edition (geo.sources), so a file with many more or fewer rows is not that edition, or is cut short.
EXPECTED_ROWS: dict[str, int] = {
    "imd2019": 32_844, "imd2025": 33_755, "lsoa21_boundaries": 33_755, "lsoa11_boundaries": 32_844,
    "icb_boundaries": 42, "lsoa11_lsoa21": 35_795, "lsoa11_icb22": 32_844, "lsoa21_icb24": 33_755,
    "lsoa21_lad24": 35_672, "oa11_lookup": 227_759, "ruc11": 34_753, "ruc21": 35_672, "ts021": 35_672,
    "ts011": 35_672, "ts038": 35_672, "ts052": 35_672, "ts044": 35_672, "ts054": 35_672, "age6": 35_672,
    "ts007_msoa": 7_264, "mye2020": 34_753, "gp_reg_lsoa": 865_965, "gp_reg_map": 6_845, "epcn": 6_391,
    "epraccur": 15_536, "qof_2223": 133_938, "qof_2021": 137_991, "qof_2425": 129_948, "hyp_undiagnosed": 7_563,
    "hyp_diagnosed": 7_563, "codepoint": 1_743_449,
}
#: Allowed relative difference from :data:`EXPECTED_ROWS` (a corrected re-issue of the same edition): 0.1%, so
#: a practice map (6,845 rows) that lost 7 whole lines is refused.
ROW_TOLERANCE = 0.001
#: Allowed relative difference for a newer edition than the catalogued one (``fetch --latest``): a new month of the
#: practice map has other practices (July 2026: 6,139 rows to July 2022's 6,845), so only a file of a quite
#: different size is refused, e.g. one cut to half its rows.
NEWER_EDITION_TOLERANCE = 0.25


def reader_for(key: str) -> Callable[[Path], Any] | None:
    """The reader the build applies to source ``key`` (None if the build does not read it)."""
    from geo import readers as r

    table: dict[str, Callable[[Path], Any]] = {
        "imd2019": lambda p: r.read_iod(p, edition=2019), "imd2025": lambda p: r.read_iod(p, edition=2025),
        "lsoa21_boundaries": lambda p: r.read_boundaries(p, vintage=2021),
        "lsoa11_boundaries": lambda p: r.read_boundaries(p, vintage=2011),
        "icb_boundaries": r.read_icb_boundaries, "lsoa11_lsoa21": r.read_lsoa11_lsoa21,
        "lsoa11_icb22": lambda p: r.read_lsoa_icb(p, vintage=2011),
        "lsoa21_icb24": lambda p: r.read_lsoa_icb(p, vintage=2021), "lsoa21_lad24": r.read_lsoa21_lad,
        "oa11_lookup": r.read_oa11_lookup, "ruc11": lambda p: r.read_ruc(p, vintage=2011),
        "ruc21": lambda p: r.read_ruc(p, vintage=2021), "ts021": r.read_ts021, "ts011": r.read_census_table,
        "ts038": r.read_census_table, "ts052": r.read_census_table, "ts044": r.read_census_table,
        "ts054": r.read_census_table, "age6": r.read_age6, "ts007_msoa": r.read_ts007_msoa,
        "mye2020": r.read_mye_single_year, "gp_reg_lsoa": r.read_gp_registrations,
        "gp_reg_map": r.read_practice_map, "epcn": lambda p: r.read_epcn(p)[1], "epraccur": r.read_epraccur,
        "qof_2223": r.read_qof_prevalence, "qof_2021": r.read_qof_prevalence, "qof_2425": r.read_qof_prevalence,
        "hyp_undiagnosed": r.read_hypertension_estimates, "hyp_diagnosed": r.read_hypertension_estimates,
        "codepoint": r.read_codepoint,
        "gp_reg_quin_age": r.read_quin_age,  # a month's quin-age file (geo.months), not a catalogue entry
    }
    return table.get(key)


def check_rows(key: str, df: Any, path: str | Path, *, tolerance: float = ROW_TOLERANCE) -> None:
    """Raise :class:`geo._errors.ValidationError` naming ``path`` if ``df`` has not about the catalogued rows.

    Parameters
    ----------
    key : str
        Source key in :data:`geo.sources.SOURCES`.
    df : pandas.DataFrame
        What the reader returned.
    path : str or pathlib.Path
        The file (for the message).
    tolerance : float, default ROW_TOLERANCE
        Largest relative difference allowed; :data:`NEWER_EDITION_TOLERANCE` for a newer edition of the file.
    """
    from geo.sources import SOURCES

    want = EXPECTED_ROWS.get(key)
    if want is None:
        return
    got = len(df)
    if abs(got - want) > tolerance * want:
        edition = SOURCES[key].edition if key in SOURCES else ""
        if tolerance > ROW_TOLERANCE:
            raise ValidationError(path, [Problem("(file)", f"{got:,} data rows, more than {tolerance:.0%} away from "
                                                 f"the {want:,} of the catalogued edition ({edition}): too few or too "
                                                 "many for another edition of this file (cut short, or another "
                                                 "file)")])
        raise ValidationError(path, [Problem("(file)", f"{got:,} data rows where the catalogued edition "
                                             f"({edition}) has {want:,}: the file is cut short, or is not that "
                                             f"edition. Download it again (python -m targeting fetch {key}).")])


def check_coverage(key: str, codes: pd.Series, wanted: pd.Series, path: str | Path, *, what: str,
                   minimum: float = 0.99) -> None:
    """Raise a :class:`ValidationError` naming ``path`` if ``codes`` holds under ``minimum`` of ``wanted``.

    Used where one input must cover the keys of another (every registered practice has a PCN in the practice
    map, every LSOA of the lookup has an IMD score…).
    """
    need = pd.Index(pd.Series(wanted).dropna().unique())
    if need.empty:
        return
    share = float(need.isin(pd.Series(codes).dropna().unique()).mean())
    if share < minimum:
        raise ValidationError(path, [Problem("(file)", f"holds {share:.1%} of the {len(need):,} {what} it must "
                                             f"cover (at least {minimum:.0%} expected): the file is cut short or "
                                             f"not the catalogued edition. Download it again (python -m targeting "
                                             f"fetch {key}).")])


#: Columns the build uses from a reader whose file may legitimately lack them (IoD Files 1, 2, 6).
NEEDED_COLUMNS = {"imd2019": ("imd_score", "imd_rank", "imd_decile", "lad_code", "lad_name", "pop_total"),
                  "imd2025": ("imd_score", "imd_rank", "imd_decile")}


def check_columns(key: str, df: Any, path: str | Path) -> None:
    """Raise a ValidationError naming ``path`` if ``df`` lacks a column the build needs from source ``key``."""
    missing = [c for c in NEEDED_COLUMNS.get(key, ()) if c not in df.columns]
    if missing:
        raise ValidationError(path, [Problem(c, "this column is needed by the build and was not found in the file")
                                     for c in missing])


def read_input(key: str, path: str | Path, *, tolerance: float = ROW_TOLERANCE) -> Any:
    """Read source ``key`` at ``path`` with the build's reader, as the build checks it; return what it read.

    The checks: the row count of the catalogued edition (:func:`check_rows`, within ``tolerance``) and the columns
    the build needs (:data:`NEEDED_COLUMNS`).
    """
    reader = reader_for(key)
    if reader is None:
        return None
    df = reader(Path(path))
    check_rows(key, df, path, tolerance=tolerance)
    check_columns(key, df, path)
    return df
