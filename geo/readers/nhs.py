"""NHS Digital / NHS England files: GP registrations by LSOA, practice mapping, ePCN, epraccur, QOF."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from geo._errors import Problem, Problems, ValidationError
from geo.codes import LSOA, ODS
from geo.readers._common import (
    check_codes,
    finish,
    norm,
    pick_columns,
    read_csv_text,
    require_rows,
    to_number,
)

__all__ = [
    "UNKNOWN_LSOA",
    "read_epcn",
    "read_epcn_history",
    "read_epraccur",
    "read_gp_registrations",
    "read_hypertension_estimates",
    "read_practice_map",
    "read_qof_dm_achievement",
    "read_qof_prevalence",
    "read_quin_age",
    "unknown_lsoa_patients",
]

#: Pseudo-codes NHS England uses for patients whose LSOA is unknown: ``NO2011``/``NO2021`` (no LSOA of that
#: vintage, files up to 2024), ``CLOSED`` (an invalid postcode, files from PDS since April 2024) and ``EMPTY``
#: (no postcode). The rows are kept; the tool counts their patients as unknown-LSOA patients.
UNKNOWN_LSOA = ("NO2011", "NO2021", "CLOSED", "EMPTY", "UNKNOWN", "NULL")
#: Small areas of Scotland (data zones, ``S01…``) and Northern Ireland (``N…``) where a few patients of English
#: practices live: kept as rows like Welsh LSOAs, outside England and not unknown.
_OTHER_UK_AREA = re.compile(r"^[SN]\d{8}$")


def read_gp_registrations(path: str | Path) -> pd.DataFrame:
    """Read NHS England ``gp-reg-pat-prac-lsoa-all`` (patients registered per practice × LSOA).

    Accepts the CSV, gzipped CSV or the published zip, on LSOA 2011 or LSOA 2021 (a ``LSOA_CODE``,
    ``LSOA_2021_CODE``, ``LSOA21CD``-style header) and with the count as ``NUMBER_OF_PATIENTS`` or
    ``Number of Patients``. Where a ``SEX`` column is present only the ``ALL`` rows are kept. The LSOA vintage
    is not decided here: see :func:`geo.vintage.detect_lsoa_vintage`.

    Parameters
    ----------
    path : str or pathlib.Path
        The file as published.

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``practice_name``, ``lsoa_code`` (an LSOA code, one of the pseudo-codes of
        :data:`UNKNOWN_LSOA` such as ``CLOSED``, kept as rows, or a Scottish or Northern Irish small area) and
        ``patients`` (int).
        :func:`unknown_lsoa_patients` gives the patients under each pseudo-code, for the build's report.

    Raises
    ------
    geo._errors.ValidationError
        Naming the file and each column at fault.
    """
    problems = Problems(path)
    raw = read_csv_text(path, prefer=["lsoa-all", "all"])
    spec = {
        "practice_code": ["PRACTICE_CODE"],
        "practice_name": ["PRACTICE_NAME"],
        "lsoa_code": ["LSOA_CODE", "LSOA_2011_CODE", "LSOA_2021_CODE", "LSOA11CD", "LSOA21CD", "LSOA11_CODE",
                      "LSOA21_CODE", "LSOA_CODE_2011", "LSOA_CODE_2021"],
        "patients": ["NUMBER_OF_PATIENTS", "Number of Patients"],
        "sex": ["SEX"],
    }
    df = pick_columns(raw, spec, problems, optional=["practice_name", "sex"])
    problems.raise_if_any()
    if "sex" in df:
        df = df[df["sex"].str.strip().str.upper().isin(["ALL", "PERSONS"])].drop(columns="sex")
    require_rows(df, problems)
    check_codes(df, "practice_code", problems, pattern=ODS, unique=False, what="practice code")
    if "lsoa_code" in df:
        df["lsoa_code"] = df["lsoa_code"].str.strip().str.upper()
        s = df["lsoa_code"]
        bad = ~s.str.match(LSOA) & ~s.isin(UNKNOWN_LSOA) & ~s.str.match(r"^NO\d{4}$") & ~s.str.match(_OTHER_UK_AREA)
        if bad.any():
            problems.add("lsoa_code", f"{int(bad.sum())} value(s) are neither an LSOA code nor an unknown marker "
                         f"({', '.join(UNKNOWN_LSOA[:4])})", list(np.flatnonzero(bad)[:5] + 2),
                         s[bad].head(3).tolist())
    to_number(df, ["patients"], problems, integer=True)
    if "practice_name" not in df:
        df["practice_name"] = ""
    if not problems.items:
        dup = df.duplicated(["practice_code", "lsoa_code"])
        if dup.any():
            problems.add("lsoa_code", "a practice × LSOA pair appears more than once",
                         list(np.flatnonzero(dup)[:5] + 2))
    return finish(problems, df[["practice_code", "practice_name", "lsoa_code", "patients"]])


def unknown_lsoa_patients(reg: pd.DataFrame) -> dict[str, int]:
    """Patients under each unknown-LSOA pseudo-code (``CLOSED``, ``EMPTY``, ``NO2011``…) of a registrations table.

    Parameters
    ----------
    reg : pandas.DataFrame
        As returned by :func:`read_gp_registrations` (or any frame with its ``lsoa_code`` and ``patients``).

    Returns
    -------
    dict[str, int]
        Pseudo-code → patients, in code order, e.g. ``{"CLOSED": 51234, "EMPTY": 12}``; empty when every row has
        an LSOA code.

    Notes
    -----
    A function of the rows rather than ``DataFrame.attrs``: pandas carries ``attrs`` through ``groupby`` and
    writes them into a Parquet file's metadata, so a reader's ``attrs`` would change the bytes of the atlas.
    """
    codes = reg["lsoa_code"].astype(str)
    unknown = reg[~codes.str.match(LSOA) & ~codes.str.match(_OTHER_UK_AREA)]
    return {str(k): int(v) for k, v in unknown.groupby("lsoa_code")["patients"].sum().sort_index().items()}


def read_practice_map(path: str | Path) -> pd.DataFrame:
    """Read NHS Digital ``gp-reg-pat-prac-map`` (practice → PCN → CCG/Sub-ICB → STP/ICB → region).

    Handles both the CCG/STP-era layout (2022) and the Sub-ICB/ICB layout of later releases, as CSV or xlsx.

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``practice_name``, ``postcode``, ``pcn_code``, ``pcn_name``, ``sub_code``
        (CCG or Sub-ICB location, NHS code), ``sub_name``, ``stp_code`` (ONS ``E54…`` of the STP or ICB),
        ``stp_code_nhs``, ``stp_name``.
    """
    path = Path(path)
    problems = Problems(path)
    if path.suffix.lower() == ".xlsx":
        try:
            raw = pd.read_excel(path, dtype=str, engine=_XLSX).fillna("")
        except Exception as exc:  # openpyxl raises many kinds
            raise ValidationError(path, [Problem("(file)", f"cannot be read as xlsx: {exc}")]) from None
    else:
        raw = read_csv_text(path)
    spec = {
        "practice_code": ["PRACTICE_CODE"],
        "practice_name": ["PRACTICE_NAME"],
        "postcode": ["PRACTICE_POSTCODE", "POSTCODE"],
        "pcn_code": ["PCN_CODE"],
        "pcn_name": ["PCN_NAME"],
        "sub_code": ["CCG_CODE", "SUB_ICB_LOCATION_CODE", "SUB_ICB_CODE"],
        "sub_name": ["CCG_NAME", "SUB_ICB_LOCATION_NAME", "SUB_ICB_NAME"],
        "stp_code": ["ONS_STP_CODE", "ONS_ICB_CODE", "ICB_ONS_CODE"],
        "stp_code_nhs": ["STP_CODE", "ICB_CODE", "ICB_ODS_CODE"],
        "stp_name": ["STP_NAME", "ICB_NAME"],
    }
    df = pick_columns(raw, spec, problems, optional=["practice_name", "postcode", "sub_name", "stp_code",
                                                       "stp_code_nhs", "stp_name", "sub_code"])
    require_rows(df, problems)
    check_codes(df, "practice_code", problems, pattern=ODS, what="practice code")
    for col in spec:
        if col not in df:
            df[col] = ""
        df[col] = df[col].astype(str).str.strip()
    return finish(problems, df[list(spec)])


def _xlsx_engine() -> str:
    # calamine (Rust) reads the ePCN workbook 7× faster than openpyxl, to the same cells; openpyxl stays the fallback
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return "openpyxl"
    return "calamine"


_XLSX = _xlsx_engine()


#: The columns of the two ePCN tables, in the order of the workbook's sheets and of the headerless ODS Data Search
#: and Export reports ``epcn`` (PCN details) and ``epcncorepartnerdetails`` (practice → PCN memberships).
EPCN_DETAILS_COLUMNS = ("PCN Code", "PCN Name", "Current Sub ICB Loc Code", "Sub ICB Location", "Open Date",
                        "Close Date", "Address Line 1", "Address Line 2", "Address Line 3", "Address Line 4",
                        "Address Line 5", "Postcode")
EPCN_PARTNER_COLUMNS = ("Partner Organisation Code", "Partner Name", "Practice Parent Sub ICB Loc Code",
                        "Practice Parent Sub ICB Loc Name", "PCN Code", "PCN Name", "PCN Parent Sub ICB Loc Code",
                        "PCN Parent Sub ICB Loc Name", "Practice to PCN Relationship Start Date",
                        "Practice to PCN Relationship End Date",
                        "Practice Sub ICB Loc and PCN Sub ICB Loc Match")  # the 11th column, new in 2023-24
#: Names of the two reports inside a zip that ``python -m targeting fetch --latest`` writes (``gp/ePCN_YYYY-MM.zip``).
EPCN_REPORTS = ("epcn.csv", "epcncorepartnerdetails.csv")

_PCN_SPEC = {"pcn_code": ["pcn code"], "pcn_name": ["pcn name"],
             "sub_code": ["current sub icb loc code", "current ccg code"],
             "sub_name": ["sub icb location", "ccg"], "open_date": ["open date"], "close_date": ["close date"],
             "postcode": ["postcode"]}
_MEMBER_SPEC = {"practice_code": ["partner organisation code"], "practice_name": ["partner name"],
                "pcn_code": ["pcn code"], "pcn_name": ["pcn name"],
                "sub_code": ["practice parent sub icb loc code", "practice parent ccg code"],
                "pcn_sub_code": ["pcn parent sub icb loc code", "pcn parent ccg code"],
                "start": ["practice to pcn relationship start date"],
                "end": ["practice to pcn relationship end date"]}


def _epcn_tables(path: Path, problems: Problems) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The PCN details and core partner tables, headers normalised, from the workbook or the reports' zip."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValidationError(path, [Problem("(file)", f"cannot be read as the ePCN workbook or a zip of its "
                                                       f"reports: {exc}")]) from None
    if "xl/workbook.xml" in names:
        try:
            sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine=_XLSX)
        except Exception as exc:  # openpyxl and calamine raise many kinds for a damaged workbook
            raise ValidationError(path, [Problem("(file)", f"cannot be read as the ePCN workbook: {exc}")]) from None
        by = {norm(k): v.fillna("") for k, v in sheets.items()}
        det, part = by.get("pcndetails"), by.get("pcn core partner details")
        if det is None or part is None:
            problems.add("(sheet)", f"expected sheets 'PCNDetails' and 'PCN Core Partner Details', found "
                                    f"{list(sheets)}")
            problems.raise_if_any()
    else:
        csvs = [n for n in names if n.lower().endswith(".csv")]
        partner = [n for n in csvs if "corepartner" in n.lower().replace(" ", "").replace("_", "")]
        detail = [n for n in csvs if n not in partner and "epcn" in n.lower()]
        if not partner or not detail:
            problems.add("(file)", f"a zip of the ODS reports must hold {' and '.join(EPCN_REPORTS)}; found "
                                   f"{', '.join(names[:6]) or 'nothing'}")
            problems.raise_if_any()
        det = _report(path, detail[0], EPCN_DETAILS_COLUMNS, problems)
        part = _report(path, partner[0], EPCN_PARTNER_COLUMNS, problems)
    det.columns = [norm(c) for c in det.columns]
    part.columns = [norm(c) for c in part.columns]
    return det, part


def _report(path: Path, member: str, columns: tuple[str, ...], problems: Problems) -> pd.DataFrame:
    """One headerless (or headed) ODS report CSV inside the zip ``path``, with the documented column names."""
    raw = read_csv_text(path, header=False, prefer=[PurePosixPath(member).name.lower()])
    if raw.empty:
        problems.add("(file)", f"{member} is empty")
        problems.raise_if_any()
    first = [norm(c) for c in raw.iloc[0].tolist()]
    if first and first[0] == norm(columns[0]):  # the report was saved with its header row
        raw = raw.iloc[1:].reset_index(drop=True)
    need = len(columns) - (1 if columns is EPCN_PARTNER_COLUMNS else 0)  # the match column is new in 2023-24
    if raw.shape[1] < need:
        problems.add("(file)", f"{member}: expected {need} or more columns (the ODS report layout), found "
                               f"{raw.shape[1]}")
        problems.raise_if_any()
    raw = raw.iloc[:, : len(columns)]
    raw.columns = list(columns[: raw.shape[1]])
    return raw


def _ods_dates(df: pd.DataFrame, column: str, problems: Problems, label: str) -> pd.Series:
    """ODS dates (``YYYYMMDD``, or ``YYYY-MM-DD`` as a spreadsheet may show them) as datetimes; blank is NaT."""
    text = df[column].astype(str).str.strip().str.replace(r"[ T]00:00:00$", "", regex=True).str.replace("-", "")
    blank = text.isin(["", "NaT", "nan", "None"])
    out = pd.to_datetime(text.mask(blank), format="%Y%m%d", errors="coerce")
    bad = out.isna() & ~blank
    if bad.any():
        problems.add(label, f"{int(bad.sum())} value(s) are not dates (YYYYMMDD)", list(np.flatnonzero(bad)[:5] + 2),
                     df.loc[bad, column].head(3).tolist())
    return out


def _epcn(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, Problems]:
    """PCN details and every membership row, checked, with the canonical names (dates still as published)."""
    path = Path(path)
    problems = Problems(path)
    det, part = _epcn_tables(path, problems)
    pcns = pick_columns(det, _PCN_SPEC, problems, optional=["sub_name", "open_date", "close_date", "postcode"])
    mem = pick_columns(part, _MEMBER_SPEC, problems, optional=["sub_code", "practice_name", "pcn_sub_code", "start"])
    problems.raise_if_any()
    for c in mem.columns:
        mem[c] = mem[c].astype(str).str.strip()
    check_codes(pcns, "pcn_code", problems, pattern=None, what="PCN code")
    check_codes(mem, "practice_code", problems, pattern=ODS, unique=False, what="practice code")
    require_rows(mem, problems)
    problems.raise_if_any()
    return pcns, mem, problems


def read_epcn(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the ODS ePCN workbook, or the zip of its two ODS Data Search and Export reports.

    Accepts the workbook of any edition (sheets ``PCNDetails`` and ``PCN Core Partner Details``, with or without
    the 11th column "Practice Sub ICB Loc and PCN Sub ICB Loc Match" of 2023-24 on) and the zip that ``python -m
    targeting fetch --latest`` writes (``epcn.csv`` and ``epcncorepartnerdetails.csv`` as served, headerless,
    columns as :data:`EPCN_DETAILS_COLUMNS` and :data:`EPCN_PARTNER_COLUMNS`). Every edition gives the same
    columns.

    Parameters
    ----------
    path : str or pathlib.Path
        The workbook (``.xlsx``) or the zip of the reports.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        PCNs (``pcn_code``, ``pcn_name``, ``sub_code``, ``sub_name``, ``open_date``, ``close_date``, ``postcode``;
        dates as published, ``YYYYMMDD``) and current memberships (``practice_code``, ``sub_code``, ``pcn_code``,
        ``pcn_name``), i.e. the core partner rows whose relationship end date is empty. For closed and ended
        memberships see :func:`read_epcn_history`.

    Raises
    ------
    geo._errors.ValidationError
        Naming the file and the sheet, report or column at fault.
    """
    pcns, mem, _ = _epcn(path)
    current = mem[mem["end"].isin(["", "NaT", "nan", "None"])]
    cols = ["practice_code", "sub_code", "pcn_code", "pcn_name"] if "sub_code" in mem else \
        ["practice_code", "pcn_code", "pcn_name"]
    return pcns.reset_index(drop=True), current[cols].reset_index(drop=True)


def read_epcn_history(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read every practice → PCN membership of an ePCN edition, ended ones included, and every PCN's dates.

    ePCN keeps a practice's earlier memberships (with their end dates) and closed PCNs (with their close dates),
    so a PCN code that no longer exists can be answered: ``pcns`` says when it closed, ``memberships`` which
    practices it had (``end_date`` set), and their rows with no ``end_date`` (or the practice map of a later
    month) where those practices are now. For example::

        pcns, mem = read_epcn_history("gp/ePCN_2024-10.xlsx")
        gone = mem[(mem.pcn_code == "U12345") & mem.end_date.notna()].practice_code
        now = mem[mem.practice_code.isin(gone) & mem.current][["practice_code", "pcn_code", "pcn_name"]]

    Parameters
    ----------
    path : str or pathlib.Path
        The workbook or the zip of the ODS reports, as for :func:`read_epcn`.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``pcns``: ``pcn_code``, ``pcn_name``, ``sub_code``, ``sub_name``, ``postcode``, ``open_date``,
        ``close_date`` (datetimes, NaT while open) and ``closed`` (bool). ``memberships``: one row per membership
        spell, ``practice_code``, ``practice_name``, ``pcn_code``, ``pcn_name``, ``sub_code`` (the practice's
        Sub-ICB location), ``pcn_sub_code`` (the PCN's), ``start_date``, ``end_date`` (datetimes, NaT while
        current) and ``current`` (bool), in the file's order.

    Raises
    ------
    geo._errors.ValidationError
        Naming the file and the sheet, report or column at fault (including a date that is not ``YYYYMMDD``).
    """
    pcns, mem, problems = _epcn(path)
    out = pd.DataFrame({c: mem.get(c, "") for c in
                        ("practice_code", "practice_name", "pcn_code", "pcn_name", "sub_code", "pcn_sub_code")})
    out["start_date"] = _ods_dates(mem, "start", problems, "practice to pcn relationship start date") \
        if "start" in mem else pd.NaT
    out["end_date"] = _ods_dates(mem, "end", problems, "practice to pcn relationship end date")
    out["current"] = out["end_date"].isna()
    p = pd.DataFrame({c: pcns[c].astype(str).str.strip() if c in pcns else "" for c in
                      ("pcn_code", "pcn_name", "sub_code", "sub_name", "postcode")})
    for c, label in (("open_date", "open date"), ("close_date", "close date")):
        p[c] = _ods_dates(pcns, c, problems, label) if c in pcns else pd.NaT
    p["closed"] = p["close_date"].notna()
    problems.raise_if_any()
    return p.reset_index(drop=True), out.reset_index(drop=True)


_EPRACCUR_COLS = {0: "practice_code", 1: "practice_name", 9: "postcode", 10: "open_date", 11: "close_date",
                  12: "status", 14: "sub_code", 25: "prescribing_setting"}
#: ODS status codes in both layouts of epraccur, as the old layout's letters.
_EPRACCUR_STATUS = {"A": "A", "C": "C", "D": "D", "P": "P", "ACTIVE": "A", "INACTIVE": "C", "CLOSED": "C",
                    "DORMANT": "D", "PROPOSED": "P"}
#: Column 26: prescribing setting ``4`` (old layout) or primary role ``RO76`` (ODS Data Search and Export).
_GP_PRACTICE = {"4", "RO76"}


def read_epraccur(path: str | Path) -> pd.DataFrame:
    """Read ODS epraccur, in the old layout or the ODS Data Search and Export one (no header; columns by position).

    Both layouts have 27 columns. The old one (e.g. January 2023) gives the status as ``A``/``C``/``D``/``P`` in
    column 13 and the prescribing setting (``4`` = GP practice) in column 26; the new one (e.g. February 2026,
    ``getReport?report=epraccur``) gives ``ACTIVE``/``INACTIVE``/``DORMANT`` and the primary role code (``RO76`` =
    GP practice; several roles are separated by ``|``) there.

    Parameters
    ----------
    path : str or pathlib.Path
        The file as published (CSV, gzipped CSV or zip).

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``practice_name``, ``postcode``, ``open_date``, ``close_date``, ``status``
        (A active, C closed or inactive, D dormant, P proposed, in both layouts), ``sub_code`` (commissioner),
        ``prescribing_setting`` (column 26 as published: ``4`` in the old layout, a role code such as ``RO76`` in
        the new) and ``is_gp_practice`` (bool: setting 4 or role RO76). The old layout's values are unchanged.

    Raises
    ------
    geo._errors.ValidationError
        Naming the file and the column at fault (too few columns, a bad practice code, an unknown status).
    """
    problems = Problems(path)
    raw = read_csv_text(path, header=False)
    if raw.shape[1] < 26:
        problems.add("(file)", f"expected at least 26 columns (the ODS epraccur layout), found {raw.shape[1]}")
        problems.raise_if_any()
    df = raw[list(_EPRACCUR_COLS)].rename(columns=_EPRACCUR_COLS)
    require_rows(df, problems)
    check_codes(df, "practice_code", problems, pattern=ODS, what="practice code")
    for c in df.columns:
        df[c] = df[c].astype(str).str.strip()
    status = df["status"].str.upper().map(_EPRACCUR_STATUS)
    bad = status.isna()
    if bad.any():
        problems.add("status", f"{int(bad.sum())} value(s) in column 13 are not an ODS status (A, C, D, P or "
                               "ACTIVE, INACTIVE, DORMANT, PROPOSED)", list(np.flatnonzero(bad)[:5] + 1),
                     df.loc[bad, "status"].head(3).tolist())
    df["status"] = status.where(~bad, df["status"])
    roles = df["prescribing_setting"].str.upper().str.split("|")
    df["is_gp_practice"] = roles.map(lambda r: any(x.strip() in _GP_PRACTICE for x in r)).astype(bool)
    return finish(problems, df)


def read_qof_prevalence(path: str | Path) -> pd.DataFrame:
    """Read a raw QOF prevalence file (``PREVALENCE_YYZZ.csv``).

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``group_code`` (HYP, MH, LD, DM…), ``register``, ``list_type`` (TOTAL, 18OV…)
        and ``list_size`` (the list the register is a share of).
    """
    problems = Problems(path)
    raw = read_csv_text(path, prefer=["prevalence"])
    spec = {
        "practice_code": ["PRACTICE_CODE"],
        "group_code": ["GROUP_CODE", "INDICATOR_GROUP_CODE"],
        "register": ["REGISTER"],
        "list_type": ["PATIENT_LIST_TYPE"],
        "list_size": ["PRACTICE_LIST_SIZE"],
    }
    df = pick_columns(raw, spec, problems)
    problems.raise_if_any()
    require_rows(df, problems)
    check_codes(df, "practice_code", problems, pattern=ODS, unique=False, what="practice code")
    to_number(df, ["register", "list_size"], problems, integer=True)
    if not problems.items:
        df["group_code"] = df["group_code"].str.strip().str.upper()
        dup = df.duplicated(["practice_code", "group_code"])
        if dup.any():
            problems.add("GROUP_CODE", "a practice × register pair appears more than once",
                         list(np.flatnonzero(dup)[:5] + 2))
    return finish(problems, df)


def read_hypertension_estimates(path: str | Path) -> pd.DataFrame:
    """Read a PHE 2016 practice-level hypertension prevalence estimate sheet (diagnosed or undiagnosed).

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``estimate_pct``, ``lower_pct``, ``upper_pct`` (modelled % of adults 16+,
        95% interval).
    """
    problems = Problems(path)
    raw = read_csv_text(path)
    spec = {"practice_code": ["practice_code", "Practice Code"], "estimate_pct": ["estimate"],
            "lower_pct": ["min95"], "upper_pct": ["max95"]}
    df = pick_columns(raw, spec, problems)
    require_rows(df, problems)
    check_codes(df, "practice_code", problems, pattern=ODS, what="practice code")
    to_number(df, ["estimate_pct", "lower_pct", "upper_pct"], problems)
    if not problems.items:
        bad = ~df["estimate_pct"].between(0, 100)
        if bad.any():
            problems.add("estimate", "percentages must lie in 0..100", list(np.flatnonzero(bad)[:5] + 2))
    return finish(problems, df)


def read_qof_dm_achievement(path: str | Path) -> pd.DataFrame:
    """Read the QOF 2021-22 diabetes achievement rates per practice (DM019 blood pressure, DM020 HbA1c).

    The file is one row per practice with its code and the two achievement rates, as a fraction (0–1) or a
    percentage (0–100): the table NHS Digital publishes in its 2021-22 practice workbooks
    (``qof-2122-prev-ach-pca-hd-prac.xlsx``) reduced to one row per practice, e.g. columns
    ``OrganisationCode, DM019-BP, DM020-HbA1c``. A blank rate (a practice without the indicator) is kept as NaN.

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``dm019`` and ``dm020`` (fractions 0–1).
    """
    problems = Problems(path)
    raw = read_csv_text(path)
    spec = {"practice_code": ["OrganisationCode", "PRACTICE_CODE", "Practice code", "ORG_CODE"],
            "dm019": ["DM019-BP", "DM019", "DM019_ACHIEVEMENT"],
            "dm020": ["DM020-HbA1c", "DM020", "DM020_ACHIEVEMENT"]}
    df = pick_columns(raw, spec, problems)
    problems.raise_if_any()
    require_rows(df, problems)
    check_codes(df, "practice_code", problems, pattern=ODS, what="practice code")
    to_number(df, ["dm019", "dm020"], problems, allow_blank=True)
    if not problems.items:
        for col in ("dm019", "dm020"):
            if df[col].max() > 1:  # published as a percentage
                df[col] = df[col] / 100
            bad = ~df[col].between(0, 1) & df[col].notna()
            if bad.any():
                problems.add(col, "achievement must lie in 0..1 (or 0..100 as a percentage)",
                             list(np.flatnonzero(bad)[:5] + 2), df.loc[bad, col].head(3).tolist())
    return finish(problems, df[["practice_code", "dm019", "dm020"]])


#: The 5-year bands NHS England's quin-age file uses, and the ages of the NHS Health Check (40–74).
_HEALTH_CHECK_BANDS = ("40_44", "45_49", "50_54", "55_59", "60_64", "65_69", "70_74")


def read_quin_age(path: str | Path) -> pd.DataFrame:
    """Read NHS England ``gp-reg-pat-prac-quin-age`` (registered patients by sex and 5-year age band).

    Only the practice rows (``ORG_TYPE`` ``GP``) are kept. The published file also holds PCN, Sub-ICB, ICB and
    region rows; they are sums of the practices, so nothing is lost.

    Returns
    -------
    pandas.DataFrame
        One row per practice: ``practice_code``, ``postcode``, ``list_size`` (``SEX`` ALL, ``AGE_GROUP_5`` ALL),
        ``registered_40_74`` (female and male patients in the bands 40–44 … 70–74) and ``extract_date``.
    """
    problems = Problems(path)
    raw = read_csv_text(path, prefer=["quin-age", "quin"])
    spec = {"org_type": ["ORG_TYPE"], "org_code": ["ORG_CODE"], "postcode": ["POSTCODE"], "sex": ["SEX"],
            "age": ["AGE_GROUP_5"], "patients": ["NUMBER_OF_PATIENTS", "Number of Patients"],
            "extract_date": ["EXTRACT_DATE"]}
    df = pick_columns(raw, spec, problems, optional=["postcode", "extract_date"])
    problems.raise_if_any()
    df = df[df["org_type"].str.strip().str.upper().isin(["GP", "GP_PRACTICE", "PRACTICE"])].copy()
    require_rows(df, problems)
    problems.raise_if_any()
    to_number(df, ["patients"], problems, integer=True)
    check_codes(df, "org_code", problems, pattern=ODS, unique=False, what="practice code")
    problems.raise_if_any()
    sex = df["sex"].str.strip().str.upper()
    age = df["age"].str.strip().str.upper()
    total = df[sex.eq("ALL") & age.eq("ALL")]
    if total["org_code"].duplicated().any():
        problems.add("ORG_CODE", "a practice has more than one ALL/ALL row",
                     values=total.loc[total["org_code"].duplicated(), "org_code"].head(3).tolist())
    band = df[sex.isin(["MALE", "FEMALE"]) & age.isin(_HEALTH_CHECK_BANDS)]
    aged = band.groupby("org_code")["patients"].sum()
    out = pd.DataFrame({"practice_code": total["org_code"].to_numpy(),
                        "postcode": total["postcode"].str.strip().to_numpy() if "postcode" in total else "",
                        "list_size": total["patients"].to_numpy(dtype="int64")})
    out["registered_40_74"] = out["practice_code"].map(aged).fillna(0).astype("int64")
    out["extract_date"] = total["extract_date"].str.strip().to_numpy() if "extract_date" in total else ""
    if out.empty:
        problems.add("ORG_TYPE", "no practice (GP) rows with SEX ALL and AGE_GROUP_5 ALL")
    return finish(problems, out.reset_index(drop=True))
