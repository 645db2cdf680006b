r"""A user's own figures (e.g. health check uptake) at LSOA or practice level: read, check, compare, suppress.

The file is a CSV with one row per LSOA (2021 or 2011 codes) or per GP practice, a numerator and a
denominator. :func:`read_upload` checks every row and keeps the reason for each one it cannot use, so nothing is
dropped silently; :func:`core20_gap` compares the Core20 neighbourhoods with the rest, with Wilson 95% limits;
:func:`suppressed` applies the small-number rule (:mod:`targeting.suppression`) to whatever is shown or
downloaded. Nothing here writes the data anywhere: an upload stays in the memory of the user's session.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo._errors import plain
from targeting._limits import MAX_BYTES
from targeting.suppression import DEFAULT_RULE, SuppressionRule, suppress_frame

__all__ = [
    "MAX_BYTES",
    "MAX_COUNT",
    "MAX_FIELD",
    "MAX_ROWS",
    "Upload",
    "UploadError",
    "core20_gap",
    "csv_columns",
    "decile_table",
    "example_csv",
    "read_upload",
    "suppressed",
    "upload_icbs",
]

#: Largest file accepted (bytes: the one limit, targeting._limits) and most data rows: an LSOA file for all
#: England has ~34,000 rows.
MAX_ROWS = 100_000
#: Longest field (characters): a code, a count or a column name is a few dozen; a note column may be longer.
MAX_FIELD = 1000

_CODE_NAMES = {
    "lsoa": ("lsoa_code", "lsoa21cd", "lsoa11cd", "lsoa21", "lsoa11", "lsoa", "lsoa code", "lsoacd"),
    "practice": ("practice_code", "practice", "practice code", "org_code", "ods_code", "gp_code", "prac_code"),
}
_GENERIC_CODE = ("code", "area_code", "geography_code")
_NUM_NAMES = ("numerator", "num", "count", "events", "uptake", "received", "completed", "checks", "health_checks",
              "attended", "vaccinated", "n")
_DEN_NAMES = ("denominator", "den", "eligible", "population", "invited", "offered", "total", "d")
_LSOA_RE = re.compile(r"[EW]01[0-9]{6}", re.ASCII)  # used with fullmatch: no other digits, nothing after
_PRACTICE_RE = re.compile(r"[A-Z][0-9]{5}", re.ASCII)
#: A count as published: ASCII digits, optionally with commas between thousands (``1,234``), optionally a
#: decimal point (a fraction is then its own reason). Not ``1e3``, ``1_000``, ``١٢`` (Arabic-Indic) or ``inf``.
_COUNT_RE = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
#: The largest count taken: more people than England has many times over is not a count (and 1e308 would make
#: every total infinite).
MAX_COUNT = 1_000_000_000


class UploadError(ValueError):
    """The file cannot be read at all (too big, not a CSV, columns missing); the message says how to fix it."""


@dataclass
class Upload:
    """A checked upload.

    Attributes
    ----------
    level
        ``"lsoa"`` or ``"practice"``.
    geography
        ``"LSOA 2021"``, ``"LSOA 2011"`` or ``"GP practice (July 2022)"``.
    data
        Valid rows: ``row`` (line number in the file, header = 1), ``code``, ``numerator``, ``denominator``,
        ``rate`` (numerator / denominator, %), and ``name``.
    invalid
        Every row not used: ``row``, ``code``, ``reason``.
    columns
        The file's columns used as ``code``, ``numerator``, ``denominator``.
    filename
        As uploaded.
    """

    level: str
    geography: str
    data: pd.DataFrame
    invalid: pd.DataFrame
    columns: dict[str, str]
    filename: str = "upload.csv"
    notes: list[str] = field(default_factory=list)


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower().lstrip("\ufeff"))


def _find(columns: list[str], wanted: tuple[str, ...], *, exclude: tuple[str | None, ...] = ()) -> str | None:
    normed = {_norm(c): c for c in columns if c not in exclude}
    for w in wanted:
        if _norm(w) in normed:
            return normed[_norm(w)]
    # then a column whose name holds one of the words ('checks_done' → checks), longest words first
    for w in sorted((w for w in wanted if len(w) > 2), key=len, reverse=True):
        for c in columns:
            if c not in exclude and _norm(w) in re.split(r"[^a-z0-9]+", str(c).lower()):
                return c
    return None


def _decode(data: bytes | str, filename: str, max_bytes: int) -> str:
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > max_bytes:
        raise UploadError(f"{filename}: {size / 1e6:.1f} MB is larger than the {max_bytes / 1e6:.0f} MB limit. "
                          "Upload one row per LSOA or practice, with only the code, numerator and denominator.")
    if size == 0:
        raise UploadError(f"{filename}: the file is empty.")
    if isinstance(data, str):
        return data
    if data[:4] == b"PK\x03\x04":
        raise UploadError(f"{filename}: this looks like an Excel or zip file. Save it as CSV (comma-separated) first.")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(data) > 1 and data[:200].count(0) > len(data[:200]) // 4):
        try:  # Excel's "Unicode text" and some exports: UTF-16 with (or without) a byte-order mark
            return data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else
                               ("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"))
        except UnicodeDecodeError:
            raise UploadError(f"{filename}: cannot read the text (it looks like UTF-16 but does not decode). "
                              "Save it as CSV UTF-8.") from None
    if b"\x00" in data[:4096]:
        raise UploadError(f"{filename}: this is not a text file. Save it as CSV (comma-separated) first.")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UploadError(f"{filename}: cannot read the text (not UTF-8 or Windows-1252).")  # pragma: no cover


def _number(text: str) -> tuple[float | None, str | None]:
    t = str(text).strip()
    if t == "":
        return None, "is empty"
    # the reasons never repeat the value: a reason is shown and downloaded, and a count in it would not be suppressed
    negative = t.startswith("-")
    if not _COUNT_RE.fullmatch(t[1:] if negative else t):
        try:
            finite = np.isfinite(float(t.replace(",", "")))
        except ValueError:
            finite = False
        if not finite:
            return None, "is not a number"
        return None, ("is not a plain count: write it with the digits 0–9 only (commas between thousands are "
                      "fine), not in scientific notation, with underscores or other digits")
    v = float(t.replace(",", ""))
    if negative and v != 0:
        return None, "is negative"
    if not float(v).is_integer():
        return None, "is not a whole number of people"
    if v > MAX_COUNT:
        return None, f"is more than {MAX_COUNT:,}: not a count of people"
    return abs(v), None


def _parse(text: str, delim: str, filename: str, max_rows: int = MAX_ROWS,
           lines: list[tuple[int, int]] | None = None) -> list[list[str]]:
    """Rows of the CSV; a field longer than :data:`MAX_FIELD` is one clear error.

    ``lines``, if given, receives each row's first and last line in the file: a row over several lines holds a
    quote that runs over line ends (a broken quote swallows the rows after it).
    """
    rows = []
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delim)  # \r\n, \n or a lone \r (Mac CSV)
    last = 0
    try:
        for row in reader:
            if lines is not None:
                lines.append((last + 1, reader.line_num))
            last = reader.line_num
            for j, cell in enumerate(row):
                if len(cell) > MAX_FIELD:
                    raise UploadError(f"{filename}: row {reader.line_num}, column {j + 1} holds {len(cell):,} "
                                      f"characters; fields longer than {MAX_FIELD} are not accepted (a code or a "
                                      "count is never that long). Check the file is a CSV of codes and counts.")
            rows.append(row)
            if len(rows) > max_rows + 2:  # enough to say the file is too long
                break
    except csv.Error as exc:  # e.g. a field over the csv module's own limit, or a NUL byte
        if "field larger" in str(exc):
            raise UploadError(f"{filename}: row {reader.line_num} holds a field of more than {MAX_FIELD} characters "
                              "(a code or a count is never that long). Check the file is a CSV of codes and "
                              "counts.") from None
        raise UploadError(f"{filename}: row {reader.line_num} cannot be read as CSV ({exc}). Check the file is a "
                          "CSV of codes and counts.") from None
    return rows


def csv_columns(data: bytes | str, *, filename: str = "upload.csv", max_bytes: int = MAX_BYTES) -> list[str]:
    """The column names in a CSV's header row (for choosing columns by hand)."""
    text = _decode(data, filename, max_bytes)
    first = text.splitlines()[0] if text.strip() else ""
    try:
        delim = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        delim = ","
    try:
        header = next(csv.reader([first], delimiter=delim), [])
    except csv.Error as exc:  # a header field over the csv module's limit, a NUL byte
        raise UploadError(f"{filename}: the header row cannot be read as CSV ({exc}). Check the file is a CSV of "
                          "codes and counts.") from None
    return [c.strip().lstrip("\ufeff") for c in header if c.strip()]


def read_upload(
    data: bytes | str,
    atlas: Any,
    *,
    filename: str = "upload.csv",
    level: str | None = None,
    code_column: str | None = None,
    numerator_column: str | None = None,
    denominator_column: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> Upload:
    """Read and check a user's CSV of numerators and denominators by LSOA or GP practice.

    Parameters
    ----------
    data
        The file's bytes (or text).
    atlas
        The loaded atlas: codes are checked against its LSOAs and practices.
    filename
        Used in messages.
    level
        ``"lsoa"`` or ``"practice"``; detected from the column names and codes when omitted.
    code_column, numerator_column, denominator_column
        Column names; found by common names (``lsoa_code``, ``LSOA21CD``, ``practice_code``, ``numerator``,
        ``denominator``, ``eligible``…) when omitted.
    max_bytes, max_rows
        Size limits.

    Returns
    -------
    Upload
        Valid rows and every invalid row with its reason.

    Raises
    ------
    UploadError
        When the file as a whole cannot be used: too large, empty, not CSV, or a needed column is missing
        (the message lists the columns found).

    Notes
    -----
    A row is invalid when its code is empty, malformed, unknown, Welsh, or repeats an earlier row; when the
    numerator or denominator is empty, not a number, negative or fractional; when the denominator is 0; or
    when the numerator exceeds the denominator. LSOA codes are matched to LSOA 2021 or 2011, whichever holds
    more of them; codes of the other vintage are listed as invalid with that reason.
    """
    text = _decode(data, filename, max_bytes)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    spans: list[tuple[int, int]] = []
    rows = _parse(text, delim, filename, max_rows, spans)
    if not rows or not any(c.strip() for c in rows[0]):
        raise UploadError(f"{filename}: no header row. The first row must name the columns, e.g. "
                          "lsoa_code,numerator,denominator.")
    header = [c.strip().lstrip("\ufeff") for c in rows[0]]
    body = rows[1:]
    if not any(any(c.strip() for c in r) for r in body):  # blank lines are not rows
        body = []
    if len(body) > max_rows:
        raise UploadError(f"{filename}: more than the {max_rows:,} data rows allowed. Upload one row per LSOA or "
                          "practice.")
    if not body:
        raise UploadError(f"{filename}: the file has a header but no data rows.")

    if level not in (None, "lsoa", "practice"):
        raise UploadError(f"level must be 'lsoa' or 'practice', not '{level}'")
    code_col = code_column or (_find(header, _CODE_NAMES[level]) if level else
                               _find(header, _CODE_NAMES["lsoa"]) or _find(header, _CODE_NAMES["practice"])) \
        or _find(header, _GENERIC_CODE)
    num_col = numerator_column or _find(header, _NUM_NAMES, exclude=(code_col,))
    den_col = denominator_column or _find(header, _DEN_NAMES, exclude=(code_col, num_col))
    missing = [what for what, col in (("a code column (e.g. lsoa_code or practice_code)", code_col),
                                      ("a numerator column (e.g. numerator)", num_col),
                                      ("a denominator column (e.g. denominator)", den_col)) if col is None]
    for given in (code_column, numerator_column, denominator_column):
        if given is not None and given not in header:
            missing.append(f"the column '{given}'")
    if missing:
        raise UploadError(f"{filename}: cannot find {', '.join(missing)}. Columns in the file: "
                          f"{', '.join(plain(h, 60) for h in header) or 'none'}.")
    idx = {c: header.index(c) for c in (code_col, num_col, den_col)}

    codes = [(r[idx[code_col]].strip().upper() if len(r) > idx[code_col] else "") for r in body]
    if level is None:
        lsoa_like = sum(bool(_LSOA_RE.fullmatch(c)) for c in codes)
        prac_like = sum(bool(_PRACTICE_RE.fullmatch(c)) for c in codes)
        level = "practice" if prac_like > lsoa_like or _norm(code_col) in map(_norm, _CODE_NAMES["practice"]) \
            else "lsoa"

    names: dict[str, str]
    if level == "lsoa":
        l21 = atlas.lsoa21.set_index("lsoa_code")["lsoa_name"]
        l11 = atlas.lsoa11.set_index("lsoa_code")["lsoa_name"]
        in21 = sum(c in l21.index for c in set(codes))
        in11 = sum(c in l11.index for c in set(codes))
        vintage = 2011 if in11 > in21 else 2021
        names = (l11 if vintage == 2011 else l21).to_dict()
        other = set((l21 if vintage == 2011 else l11).index)
        geography = f"LSOA {vintage}"
        pattern = _LSOA_RE
    else:
        names = atlas.practices.set_index("practice_code")["practice_name"].to_dict()
        other, geography, pattern = set(), atlas.month.relabel("GP practice (July 2022)"), _PRACTICE_RE

    good, bad, seen = [], [], {}
    for i, (r, code) in enumerate(zip(body, codes, strict=True)):
        line, end = spans[i + 1]  # the row's lines in the file (header = 1)
        if not any(c.strip() for c in r):
            continue  # blank line: nothing to lose
        reasons = []
        if end > line:  # a quote ran over line ends: the lines after it were read into one field, not as rows
            j = next((k for k, c in enumerate(r) if "\n" in c or "\r" in c), len(r) - 1)
            name = header[j] if j < len(header) else ""
            col = f"column {j + 1}" + (f" ({plain(name, 60)})" if name else "")
            reasons.append(f"{col} opens a quote that is closed only on line {end}, so lines {line + 1}–{end} "
                           "were read into this one field instead of as rows: close or remove the quote and "
                           "upload the file again")
        if not code:
            reasons.append(f"{plain(code_col, 60)} is empty")
        elif not pattern.fullmatch(code):
            reasons.append(f"{plain(code_col, 60)} '{plain(code, 40)}' is not "
                           + ("an LSOA code like E01033620" if level == "lsoa" else "a GP practice code like M85110"))
        elif code.startswith("W01"):
            reasons.append(f"'{plain(code, 40)}' is a Welsh LSOA: England's IMD does not cover Wales")
        elif code not in names:
            reasons.append(f"'{code}' is not a {geography} code" + (
                f" (it is an LSOA {2011 if geography.endswith('2021') else 2021} code; use one vintage per file)"
                if code in other else ""))
        elif code in seen:
            reasons.append(f"'{code}' repeats row {seen[code]}")
        vals = {}
        for what, col in (("numerator", num_col), ("denominator", den_col)):
            raw = r[idx[col]] if len(r) > idx[col] else ""
            v, why = _number(raw)
            if why:
                reasons.append(f"{what} ({plain(col, 60)}) {why}")
            vals[what] = v
        if vals["denominator"] == 0:
            reasons.append(f"denominator ({plain(den_col, 60)}) is 0")
        if vals["numerator"] is not None and vals["denominator"] is not None \
                and vals["numerator"] > vals["denominator"]:
            reasons.append(f"numerator ({plain(num_col, 60)}) is more than denominator ({plain(den_col, 60)})")
        if reasons:
            bad.append({"row": line, "code": plain(code, 40), "reason": "; ".join(reasons)})
        else:
            seen[code] = line
            good.append({"row": line, "code": code, "name": names[code], "numerator": vals["numerator"],
                         "denominator": vals["denominator"]})
    df = pd.DataFrame(good, columns=["row", "code", "name", "numerator", "denominator"])
    df["rate"] = df["numerator"] / df["denominator"] * 100
    invalid = pd.DataFrame(bad, columns=["row", "code", "reason"])
    return Upload(level, geography, df, invalid, {"code": code_col, "numerator": num_col, "denominator": den_col},
                  filename)


def _groups(upload: Upload, atlas: Any, imd: int) -> pd.Series:
    """Core20 flag per valid row (LSOA: national deciles 1–2; practice: most deprived fifth by patients)."""
    d = upload.data
    if upload.level == "lsoa":
        ed = atlas.edition(imd)
        if upload.geography == "LSOA 2011":
            if ed.lsoa_vintage != 2011:
                raise ValueError("LSOA 2011 codes carry IMD 2019 only: choose IMD 2019 for this file")
            t = atlas.lsoa11.set_index("lsoa_code")[ed.core20]
        else:
            t = atlas.lsoa21.set_index("lsoa_code")[ed.core20]
        return t.reindex(d["code"]).fillna(False).astype(bool).set_axis(d.index)
    from targeting.profiles import practice_profiles

    prof = practice_profiles(atlas, imd=imd).set_index("practice_code")
    return (prof["imd_quintile"].reindex(d["code"]) == 1).set_axis(d.index)


def core20_gap(upload: Upload, atlas: Any, *, imd: int = 2025, confidence: float = 0.95) -> pd.DataFrame:
    r"""The rate in Core20 neighbourhoods against the rest, and the gap between them, with 95% limits.

    Parameters
    ----------
    upload
        From :func:`read_upload`.
    atlas
        The loaded atlas.
    imd
        IMD edition of Core20 (2025 or 2019; LSOA 2011 files need 2019).
    confidence
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Rows ``Core20``, ``Rest``, ``All`` and ``Gap (Core20 − rest)`` with ``units`` (LSOAs or practices),
        ``numerator``, ``denominator``, ``rate`` (%), ``lower``, ``upper`` (%) and ``group_definition``.

    Notes
    -----
    For LSOAs, Core20 = national IMD deciles 1–2. For practices, Core20 = the practices in the national
    quintile of practices holding the most deprived fifth of registered patients (weighted IMD score, cut on
    cumulative population; :func:`targeting.profiles.practice_profiles`), since a practice is not itself an
    area. Each rate :math:`p = x/n` has Wilson limits (:func:`targeting.stats.wilson_ci`). The gap
    :math:`d = p_1 - p_2` has Newcombe's hybrid score limits (method 10):

    .. math::

        d - \sqrt{(p_1 - l_1)^2 + (u_2 - p_2)^2}, \qquad d + \sqrt{(u_1 - p_1)^2 + (p_2 - l_2)^2}

    with :math:`(l_i, u_i)` the Wilson limits of :math:`p_i`.
    """
    from targeting.stats import wilson_ci

    d = upload.data
    core = _groups(upload, atlas, imd)
    rows = []
    for label, mask in (("Core20", core), ("Rest", ~core), ("All", pd.Series(True, index=d.index))):
        x, n = float(d.loc[mask, "numerator"].sum()), float(d.loc[mask, "denominator"].sum())
        lo, hi = wilson_ci(x, n, confidence)
        rows.append({"group": label, "units": int(mask.sum()), "numerator": x, "denominator": n,
                     "rate": x / n * 100 if n else np.nan, "lower": lo * 100, "upper": hi * 100})
    c, r = rows[0], rows[1]
    if c["denominator"] and r["denominator"]:
        diff = c["rate"] - r["rate"]
        lo = diff - np.hypot(c["rate"] - c["lower"], r["upper"] - r["rate"])
        hi = diff + np.hypot(c["upper"] - c["rate"], r["rate"] - r["lower"])
    else:
        diff = lo = hi = np.nan
    rows.append({"group": "Gap (Core20 − rest)", "units": np.nan, "numerator": np.nan, "denominator": np.nan,
                 "rate": diff, "lower": lo, "upper": hi})
    out = pd.DataFrame(rows)
    what = (f"LSOAs in national IMD {imd} deciles 1–2" if upload.level == "lsoa"
            else f"practices serving the most deprived fifth of registered patients (IMD {imd})")
    out["group_definition"] = [what, "all other rows", "all valid rows", "percentage points"]
    return out


def decile_table(upload: Upload, atlas: Any, *, imd: int = 2025) -> pd.DataFrame:
    """Numerator, denominator and rate (%, Wilson limits) by national IMD decile (LSOA uploads only)."""
    from targeting.stats import wilson_ci

    if upload.level != "lsoa":
        raise ValueError("deciles need LSOA-level data")
    t = atlas.lsoa11 if upload.geography == "LSOA 2011" else atlas.lsoa21
    col = atlas.edition(2019 if upload.geography == "LSOA 2011" else imd).decile
    dec = t.set_index("lsoa_code")[col].reindex(upload.data["code"]).to_numpy()
    g = upload.data.assign(decile=dec).groupby("decile")[["numerator", "denominator"]].sum()
    g = g.reindex(range(1, 11), fill_value=0)
    lo, hi = wilson_ci(g["numerator"], g["denominator"])
    return pd.DataFrame({"decile": g.index, "numerator": g["numerator"].to_numpy(),
                         "denominator": g["denominator"].to_numpy(),
                         "rate": np.where(g["denominator"] > 0, g["numerator"] / g["denominator"].where(
                             g["denominator"] > 0) * 100, np.nan),
                         "lower": np.asarray(lo) * 100, "upper": np.asarray(hi) * 100})


def suppressed(table: pd.DataFrame, *, rule: SuppressionRule = DEFAULT_RULE, numerator: str = "numerator",
               denominator: str = "denominator", rates: tuple[str, ...] = ("rate", "lower", "upper")) -> pd.DataFrame:
    """A table ready to show or download: small counts hidden, other counts rounded, small-number rates withheld.

    Uses :func:`targeting.suppression.suppress_frame` with the numerator and denominator as counts and every
    column in ``rates`` (present in the table) withheld with them. Rates are rounded to one decimal place. Rows
    without a numerator are derived from the others (the gap): their rates are withheld if any rate is.
    """
    rate_cols = {c: (numerator, denominator) for c in rates if c in table.columns}
    t = table.copy()
    for c in rate_cols:
        t[c] = t[c].round(1)
    mask = t[numerator].notna()
    out = t.astype(object)
    if mask.any():
        part = suppress_frame(t[mask], count_cols=[numerator, denominator], rate_cols=rate_cols, rule=rule)
        out.loc[mask] = part
        # a derived row (e.g. the gap between two groups) would reveal a withheld rate
        hidden = any((part[c] == rule.symbol).any() for c in rate_cols)
        if hidden:
            for c in rate_cols:
                out.loc[~mask, c] = rule.symbol
    return out


def upload_icbs(upload: Upload, atlas: Any) -> pd.DataFrame:
    """The ICBs the valid rows fall in, most rows first: ``icb_code_nhs``, ``icb_name``, ``rows``."""
    if upload.level == "lsoa":
        t = atlas.lsoa11 if upload.geography == "LSOA 2011" else atlas.lsoa21
        key = t.set_index("lsoa_code")["icb_code_nhs"]
    else:
        key = atlas.practices.set_index("practice_code")["icb_code_nhs"]
    icb = key.reindex(upload.data["code"]).dropna()
    counts = icb.value_counts().rename("rows").rename_axis("icb_code_nhs").reset_index()
    names = atlas.icbs.drop_duplicates("icb_code_nhs").set_index("icb_code_nhs")["icb_name"]
    counts["icb_name"] = counts["icb_code_nhs"].map(names)
    return counts[["icb_code_nhs", "icb_name", "rows"]]


def example_csv(atlas: Any, *, icb: str = "QHL", seed: int = 2021) -> bytes:
    """A synthetic example file (clearly not real uptake): one row per LSOA 2021 of an ICB, plus two bad rows.

    Eligible people are the LSOA's Census 2021 residents aged 40–74 divided by 5 (a five-year cycle); uptake is
    drawn at random around 40% in Core20 LSOAs and 50% elsewhere, so the Core20 gap has something to show.
    """
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == icb]
    rng = np.random.default_rng(seed)
    eligible = np.maximum((t["aged_40_74"].to_numpy() / 5).round().astype(int), 1)
    p = np.where(t["imd25_core20"].to_numpy(), 0.40, 0.50)
    uptake = rng.binomial(eligible, p)
    df = pd.DataFrame({"lsoa_code": t["lsoa_code"].to_numpy(), "health_checks": uptake, "eligible": eligible})
    df = pd.concat([df, pd.DataFrame({"lsoa_code": ["E01XXXXXX", t["lsoa_code"].iloc[0]],
                                      "health_checks": [10, 5], "eligible": [20, 4]})], ignore_index=True)
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
