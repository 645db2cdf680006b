"""NHS Digital / NHS England files: GP registrations by LSOA, practice mapping, ePCN, epraccur, QOF."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from geo._errors import Problem, Problems, ValidationError
from geo.readers._common import (
    LSOA_RE,
    check_codes,
    finish,
    norm,
    pick_columns,
    read_csv_text,
    require_rows,
    to_number,
)

__all__ = [
    "read_epcn",
    "read_epraccur",
    "read_gp_registrations",
    "read_hypertension_estimates",
    "read_practice_map",
    "read_qof_dm_achievement",
    "read_qof_prevalence",
    "read_quin_age",
]

_PRACTICE_RE = re.compile(r"^[A-Z0-9]{5,6}$")
#: Codes NHS Digital uses for a patient whose LSOA is unknown.
UNKNOWN_LSOA = ("NO2011", "NO2021", "UNKNOWN", "NULL")


def read_gp_registrations(path: str | Path) -> pd.DataFrame:
    """Read NHS Digital ``gp-reg-pat-prac-lsoa-all`` (patients registered per practice × LSOA).

    Accepts the CSV, gzipped CSV or the published zip. Where a ``SEX`` column is present only the
    ``ALL`` rows are kept. The LSOA vintage (2011 or 2021) is not decided here: see
    :func:`geo.vintage.detect_lsoa_vintage`.

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``practice_name``, ``lsoa_code`` (an LSOA code, or an unknown marker such as
        ``NO2011``) and ``patients`` (int).
    """
    problems = Problems(path)
    raw = read_csv_text(path, prefer=["lsoa-all", "all"])
    spec = {
        "practice_code": ["PRACTICE_CODE"],
        "practice_name": ["PRACTICE_NAME"],
        "lsoa_code": ["LSOA_CODE", "LSOA_2011_CODE", "LSOA_2021_CODE", "LSOA11CD", "LSOA21CD"],
        "patients": ["NUMBER_OF_PATIENTS"],
        "sex": ["SEX"],
    }
    df = pick_columns(raw, spec, problems, optional=["practice_name", "sex"])
    problems.raise_if_any()
    if "sex" in df:
        df = df[df["sex"].str.strip().str.upper().isin(["ALL", "PERSONS"])].drop(columns="sex")
    require_rows(df, problems)
    check_codes(df, "practice_code", problems, pattern=_PRACTICE_RE, unique=False, what="practice code")
    if "lsoa_code" in df:
        df["lsoa_code"] = df["lsoa_code"].str.strip().str.upper()
        s = df["lsoa_code"]
        bad = ~s.str.match(LSOA_RE) & ~s.isin(UNKNOWN_LSOA) & ~s.str.match(r"^NO\d{4}$")
        if bad.any():
            problems.add("lsoa_code", f"{int(bad.sum())} value(s) are neither an LSOA code nor an unknown marker",
                         list(np.flatnonzero(bad)[:5] + 2), s[bad].head(3).tolist())
    to_number(df, ["patients"], problems, integer=True)
    if "practice_name" not in df:
        df["practice_name"] = ""
    if not problems.items:
        dup = df.duplicated(["practice_code", "lsoa_code"])
        if dup.any():
            problems.add("lsoa_code", "a practice × LSOA pair appears more than once",
                         list(np.flatnonzero(dup)[:5] + 2))
    return finish(problems, df[["practice_code", "practice_name", "lsoa_code", "patients"]])


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
    check_codes(df, "practice_code", problems, pattern=_PRACTICE_RE, what="practice code")
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


def read_epcn(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the ODS ePCN workbook.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        PCNs (``pcn_code``, ``pcn_name``, ``sub_code``, ``sub_name``, ``postcode``, open/close dates) and
        current memberships (``practice_code``, ``pcn_code``, ``pcn_name``, ``sub_code``), i.e. rows of
        ``PCN Core Partner Details`` whose relationship end date is empty.
    """
    path = Path(path)
    problems = Problems(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine=_XLSX)
    except Exception as exc:
        raise ValidationError(path, [Problem("(file)", f"cannot be read as the ePCN workbook: {exc}")]) from None
    by = {norm(k): v.fillna("") for k, v in sheets.items()}
    det = by.get("pcndetails")
    part = by.get("pcn core partner details")
    if det is None or part is None:
        problems.add("(sheet)", f"expected sheets 'PCNDetails' and 'PCN Core Partner Details', found {list(sheets)}")
        problems.raise_if_any()
    det.columns = [norm(c) for c in det.columns]
    part.columns = [norm(c) for c in part.columns]
    pcns = pick_columns(det, {"pcn_code": ["pcn code"], "pcn_name": ["pcn name"],
                              "sub_code": ["current sub icb loc code", "current ccg code"],
                              "sub_name": ["sub icb location", "ccg"], "open_date": ["open date"],
                              "close_date": ["close date"], "postcode": ["postcode"]},
                        problems, optional=["sub_name", "open_date", "close_date", "postcode"])
    mem = pick_columns(part, {"practice_code": ["partner organisation code"], "pcn_code": ["pcn code"],
                              "pcn_name": ["pcn name"], "sub_code": ["practice parent sub icb loc code",
                                                                   "practice parent ccg code"],
                              "end": ["practice to pcn relationship end date"]},
                       problems, optional=["sub_code"])
    problems.raise_if_any()
    mem = mem[mem["end"].astype(str).str.strip().isin(["", "NaT", "nan"])].drop(columns="end")
    check_codes(pcns, "pcn_code", problems, pattern=None, what="PCN code")
    problems.raise_if_any()
    return pcns.reset_index(drop=True), mem.reset_index(drop=True)


_EPRACCUR_COLS = {0: "practice_code", 1: "practice_name", 9: "postcode", 10: "open_date", 11: "close_date",
                  12: "status", 14: "sub_code", 25: "prescribing_setting"}


def read_epraccur(path: str | Path) -> pd.DataFrame:
    """Read ODS epraccur (no header; columns by position as documented by ODS).

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``practice_name``, ``postcode``, ``open_date``, ``close_date``, ``status``
        (A active, C closed, D dormant, P proposed), ``sub_code`` (commissioner) and ``prescribing_setting``
        (4 = GP practice).
    """
    problems = Problems(path)
    raw = read_csv_text(path, header=False)
    if raw.shape[1] < 26:
        problems.add("(file)", f"expected at least 26 columns (the ODS epraccur layout), found {raw.shape[1]}")
        problems.raise_if_any()
    df = raw[list(_EPRACCUR_COLS)].rename(columns=_EPRACCUR_COLS)
    require_rows(df, problems)
    check_codes(df, "practice_code", problems, pattern=_PRACTICE_RE, what="practice code")
    for c in df.columns:
        df[c] = df[c].astype(str).str.strip()
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
    check_codes(df, "practice_code", problems, pattern=_PRACTICE_RE, unique=False, what="practice code")
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
    check_codes(df, "practice_code", problems, pattern=_PRACTICE_RE, what="practice code")
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
    check_codes(df, "practice_code", problems, pattern=_PRACTICE_RE, what="practice code")
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
    check_codes(df, "org_code", problems, pattern=_PRACTICE_RE, unique=False, what="practice code")
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
