"""What each catalogued input must look like before the build (or ``fetch``) accepts it.

:func:`read_input` reads a source with the same reader the build uses and checks its row count against the
catalogue's :data:`EXPECTED_ROWS` for that edition, so ``fetch`` refuses a download the build would refuse,
before the file is renamed into place, and the build refuses a local file that was cut short or replaced by
a file of another shape, naming the file. :func:`check_rows` and :func:`check_coverage` are the two checks.

Row counts
----------
* A catalogued edition has exactly its catalogued rows (:data:`ROW_TOLERANCE` is 0): a practice map missing its
  last row (6,844 of July 2022's 6,845) is refused by ``fetch`` and by the build alike.
* A file replacing an earlier file of the same kind and edition (``fetch --latest`` again, a re-issue) keeps the
  earlier file's count within :data:`REPLACEMENT_TOLERANCE` (0.1%), and never has fewer rows without
  ``fetch --allow-shrink``.
* A newer edition (``fetch --latest``: another month, QOF year or ODS report) is compared with the nearest edition
  of its kind whose count is known, within :func:`newer_edition_tolerance` of the months between them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from geo._errors import Problem, ValidationError

__all__ = ["EXPECTED_ROWS", "MONTHLY_DRIFT", "NEEDED_COLUMNS", "NEWER_EDITION_TOLERANCE", "REPLACEMENT_TOLERANCE",
           "ROW_TOLERANCE", "check_columns", "check_coverage", "check_rows", "newer_edition_tolerance", "read_input",
           "reader_for"]

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
#: Allowed relative difference from :data:`EXPECTED_ROWS`: none. The catalogue pins the edition, and its files do
#: not change; a file of that edition with one row fewer is cut short (issue 24: a practice map cut at a line end,
#: with no Content-Length or a matching short one, is told only by its count).
ROW_TOLERANCE = 0.0
#: Allowed relative difference from the file a download replaces (the same kind and edition, e.g. a month's map
#: fetched again): 0.1%, and never fewer rows unless the user allows it (``fetch --allow-shrink``).
REPLACEMENT_TOLERANCE = 0.001
#: Allowed relative difference per month between a newer edition and the nearest edition of its kind whose count is
#: known: practices merge and close, so a new month has other rows. The practice map fell from 6,845 practices (July
#: 2022) to 6,139 (July 2026), 10.3% in 48 months, about 0.2% a month, with mergers bunched at the start of a
#: financial year; 1% a month (at least 2%, at most :data:`NEWER_EDITION_TOLERANCE`) is about five times that, and
#: refuses a file cut by more.
MONTHLY_DRIFT = 0.01
#: The widest allowed difference for a newer edition, however far apart: a file cut to half is always refused.
NEWER_EDITION_TOLERANCE = 0.25


def newer_edition_tolerance(months_apart: int) -> float:
    """Allowed relative row difference between editions ``months_apart`` months apart (:data:`MONTHLY_DRIFT`)."""
    return min(NEWER_EDITION_TOLERANCE, max(2 * MONTHLY_DRIFT, MONTHLY_DRIFT * abs(months_apart)))


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


def check_rows(key: str, df: Any, path: str | Path, *, tolerance: float = ROW_TOLERANCE, expected: int | None = None,
               versus: str | None = None, no_fewer: bool = False) -> None:
    """Raise :class:`geo._errors.ValidationError` naming ``path`` if ``df`` has not the rows expected.

    Parameters
    ----------
    key : str
        Source key in :data:`geo.sources.SOURCES` (or a kind's key, e.g. ``gp_reg_quin_age``).
    df : pandas.DataFrame
        What the reader returned.
    path : str or pathlib.Path
        The file (for the message).
    tolerance : float, default ROW_TOLERANCE (0: exactly)
        Largest relative difference allowed.
    expected : int, optional
        Rows to compare with; the catalogued edition's :data:`EXPECTED_ROWS` if None (nothing is checked if the
        catalogue has no count for ``key``).
    versus : str, optional
        What ``expected`` is the count of, for the message (e.g. "the June 2026 edition").
    no_fewer : bool, default False
        Also refuse fewer rows than ``expected`` (a file replacing another, unless ``fetch --allow-shrink``).
    """
    from geo.sources import SOURCES

    catalogued = expected is None
    want = EXPECTED_ROWS.get(key) if catalogued else expected
    if want is None:
        return
    got = len(df)
    edition = SOURCES[key].edition if key in SOURCES else ""
    versus = versus or f"the catalogued edition ({edition})"
    if no_fewer and got < want:
        raise ValidationError(path, [Problem("(file)", f"{got:,} data rows, fewer than the {want:,} of {versus}: a "
                                             "file cut short loses its last rows. If the publisher did remove rows, "
                                             "fetch it with --allow-shrink.")])
    if abs(got - want) > tolerance * want:
        if catalogued and tolerance == 0:
            raise ValidationError(path, [Problem("(file)", f"{got:,} data rows where the catalogued edition "
                                                 f"({edition}) has {want:,}: the file is cut short, or is not that "
                                                 f"edition. Download it again (python -m targeting fetch {key}).")])
        share = f"{tolerance:.1%}".replace(".0%", "%")
        raise ValidationError(path, [Problem("(file)", f"{got:,} data rows, more than {share} away from the "
                                             f"{want:,} of {versus}: too few or too many for another edition of "
                                             "this file (cut short, or another file)")])


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


def read_input(key: str, path: str | Path, *, tolerance: float = ROW_TOLERANCE, expected: int | None = None,
               versus: str | None = None, no_fewer: bool = False) -> Any:
    """Read source ``key`` at ``path`` with the build's reader, as the build checks it; return what it read.

    The checks: the row count (:func:`check_rows`: the catalogued edition's exactly, or ``expected`` within
    ``tolerance``) and the columns the build needs (:data:`NEEDED_COLUMNS`).
    """
    reader = reader_for(key)
    if reader is None:
        return None
    df = reader(Path(path))
    check_rows(key, df, path, tolerance=tolerance, expected=expected, versus=versus, no_fewer=no_fewer)
    check_columns(key, df, path)
    return df
