r"""A user's own figures (e.g. health check uptake) at LSOA or practice level: read, check, compare, suppress.

The file is a CSV with one row per LSOA (2021 or 2011 codes) or per GP practice, a numerator and a
denominator. :func:`read_upload` checks every row and keeps the reason for each one it cannot use, so nothing is
dropped silently; :func:`core20_gap` compares the Core20 neighbourhoods with the rest, with Wilson 95% limits;
:func:`suppressed` applies the small-number rule (:mod:`targeting.suppression`) to whatever is shown or
downloaded. Nothing here writes the data anywhere: an upload stays in the memory of the user's session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo._errors import plain
from geo.codes import LSOA, PRACTICE_OR_PCN
from targeting._limits import MAX_BYTES
from targeting.intake import (
    MAX_COUNT,
    MAX_FIELD,
    MAX_ROWS,
    CsvRows,
    UploadError,
    csv_columns,
    detect_level,
    find_columns,
    parse_count,
    read_rows,
)
from targeting.suppression import DEFAULT_RULE, SuppressionRule, suppress_frame

if TYPE_CHECKING:
    from targeting.scope import Scope

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


@dataclass(frozen=True)
class _Known:
    """The codes an upload's rows may hold: their names, the other LSOA edition's codes, and the code's shape."""

    geography: str
    names: dict[str, str]
    other: set[str]
    pattern: re.Pattern[str]


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
    table = read_rows(data, filename=filename, max_bytes=max_bytes, max_rows=max_rows)
    columns = find_columns(table.header, filename, level=level, code=code_column, numerator=numerator_column,
                           denominator=denominator_column)
    codes = [c.strip().upper() for c in table.cells(columns["code"])]
    level = level or detect_level(codes, columns["code"])
    known = _known(level, codes, atlas)
    good, bad = _check_rows(table, codes, columns, level, known)
    df = pd.DataFrame(good, columns=["row", "code", "name", "numerator", "denominator"])
    df["rate"] = df["numerator"] / df["denominator"] * 100
    invalid = pd.DataFrame(bad, columns=["row", "code", "reason"])
    return Upload(level, known.geography, df, invalid, columns, filename)


def _known(level: str, codes: list[str], atlas: Any) -> _Known:
    """LSOAs of the edition holding more of the codes (2021 on a tie), or the practices."""
    if level != "lsoa":
        names = atlas.practices.set_index("practice_code")["practice_name"].to_dict()
        return _Known(atlas.month.relabel("GP practice (July 2022)"), names, set(), PRACTICE_OR_PCN)
    l21 = atlas.lsoa21.set_index("lsoa_code")["lsoa_name"]
    l11 = atlas.lsoa11.set_index("lsoa_code")["lsoa_name"]
    in21 = sum(c in l21.index for c in set(codes))
    in11 = sum(c in l11.index for c in set(codes))
    vintage = 2011 if in11 > in21 else 2021
    names = (l11 if vintage == 2011 else l21).to_dict()
    return _Known(f"LSOA {vintage}", names, set((l21 if vintage == 2011 else l11).index), LSOA)


def _code_reason(code: str, code_col: str, level: str, known: _Known, seen: dict[str, int]) -> str | None:
    if not code:
        return f"{plain(code_col, 60)} is empty"
    if not known.pattern.fullmatch(code):
        return (f"{plain(code_col, 60)} '{plain(code, 40)}' is not "
                + ("an LSOA code like E01033620" if level == "lsoa" else "a GP practice code like M85110"))
    if code.startswith("W01"):
        return f"'{plain(code, 40)}' is a Welsh LSOA: England's IMD does not cover Wales"
    if code not in known.names:
        geography = known.geography
        return f"'{code}' is not a {geography} code" + (
            f" (it is an LSOA {2011 if geography.endswith('2021') else 2021} code; use one vintage per file)"
            if code in known.other else "")
    if code in seen:
        return f"'{code}' repeats row {seen[code]}"
    return None


def _check_rows(table: CsvRows, codes: list[str], columns: dict[str, str], level: str,
                known: _Known) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows to use and the rows not used, each with every reason it is not."""
    num_col, den_col = columns["numerator"], columns["denominator"]
    counts = {"numerator": table.cells(num_col), "denominator": table.cells(den_col)}
    good, bad, seen = [], [], {}
    for i, (r, code) in enumerate(zip(table.rows, codes, strict=True)):
        if not any(c.strip() for c in r):
            continue  # blank line: nothing to lose
        line = table.lines[i][0]
        reasons = [why for why in (table.broken_quote(i), _code_reason(code, columns["code"], level, known, seen))
                   if why]
        vals = {}
        for what, col in (("numerator", num_col), ("denominator", den_col)):
            v, why = parse_count(counts[what][i])
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
            good.append({"row": line, "code": code, "name": known.names[code], "numerator": vals["numerator"],
                         "denominator": vals["denominator"]})
    return good, bad


def _groups(upload: Upload, scope: Scope) -> pd.Series:
    """Core20 flag per valid row (LSOA: national deciles 1–2; practice: most deprived fifth by patients)."""
    d = upload.data
    atlas, ed = scope.atlas, scope.edition
    if upload.level == "lsoa":
        if upload.geography == "LSOA 2011":
            if ed.lsoa_vintage != 2011:
                raise ValueError("LSOA 2011 codes carry IMD 2019 only: choose IMD 2019 for this file")
            t = atlas.lsoa11.set_index("lsoa_code")[ed.core20]
        else:
            t = atlas.lsoa21.set_index("lsoa_code")[ed.core20]
        return t.reindex(d["code"]).fillna(False).astype(bool).set_axis(d.index)
    from targeting.profiles import practice_profiles

    prof = practice_profiles(scope.with_area(None)).set_index("practice_code")  # the national quintiles
    return (prof["imd_quintile"].reindex(d["code"]) == 1).set_axis(d.index)


def core20_gap(upload: Upload, scope: Scope, *, confidence: float = 0.95) -> pd.DataFrame:
    r"""The rate in Core20 neighbourhoods against the rest, and the gap between them, with 95% limits.

    Parameters
    ----------
    upload
        From :func:`read_upload`.
    scope
        The atlas and the IMD edition of Core20 (2025 or 2019; LSOA 2011 files need 2019); its area is not used.
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
    core = _groups(upload, scope)
    imd = scope.imd
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


def decile_table(upload: Upload, scope: Scope) -> pd.DataFrame:
    """Numerator, denominator and rate (%, Wilson limits) by national IMD decile (LSOA uploads only).

    Parameters
    ----------
    upload
        From :func:`read_upload`, of LSOAs.
    scope
        The atlas and the IMD edition of the deciles; an LSOA 2011 file takes the edition published on LSOA 2011
        (IoD 2019) whatever the scope's.

    Returns
    -------
    pandas.DataFrame
        Deciles 1–10: ``decile``, ``numerator``, ``denominator``, ``rate``, ``lower``, ``upper`` (%).

    Raises
    ------
    ValueError
        For a practice-level upload.
    """
    from targeting.stats import wilson_ci

    if upload.level != "lsoa":
        raise ValueError("deciles need LSOA-level data")
    on_2011 = upload.geography == "LSOA 2011"
    t = scope.atlas.lsoa11 if on_2011 else scope.atlas.lsoa21
    col = (scope.edition_on(2011) if on_2011 else scope.edition).decile
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


def example_csv(scope: Scope, *, seed: int = 2021) -> bytes:
    """A synthetic example file (clearly not real uptake): one row per LSOA 2021 of an ICB, plus two bad rows.

    Eligible people are the LSOA's Census 2021 residents aged 40–74 divided by 5 (a five-year cycle); uptake is
    drawn at random around 40% in Core20 LSOAs and 50% elsewhere, so the Core20 gap has something to show.

    Parameters
    ----------
    scope
        The ICB (the one its area sits in); Core20 is that of the edition on LSOA 2021 (IoD 2025) whatever the
        scope's edition, so the file is the same for either.
    seed
        The random seed.

    Returns
    -------
    bytes
        The CSV: ``lsoa_code``, ``health_checks``, ``eligible``.
    """
    lsoa21 = scope.atlas.lsoa21
    t = lsoa21[lsoa21["icb_code_nhs"] == scope.icb_nhs]
    rng = np.random.default_rng(seed)
    eligible = np.maximum((t["aged_40_74"].to_numpy() / 5).round().astype(int), 1)
    p = np.where(t[scope.edition_on(2021).core20].to_numpy(), 0.40, 0.50)
    uptake = rng.binomial(eligible, p)
    df = pd.DataFrame({"lsoa_code": t["lsoa_code"].to_numpy(), "health_checks": uptake, "eligible": eligible})
    df = pd.concat([df, pd.DataFrame({"lsoa_code": ["E01XXXXXX", t["lsoa_code"].iloc[0]],
                                      "health_checks": [10, 5], "eligible": [20, 4]})], ignore_index=True)
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
