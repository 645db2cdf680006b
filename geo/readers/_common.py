"""Shared machinery for the readers: opening files as published, matching headers, checking values."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from geo._errors import Problems, ValidationError
from geo.codes import LSOA

_ZIP_MAGIC = b"PK\x03\x04"
_GZ_MAGIC = b"\x1f\x8b"
#: Limits on what a compressed input may expand to: the largest catalogued CSV is under 200 MB and text
#: compresses about 5–20 times, so more than this is a damaged file or a decompression bomb.
MAX_EXPANDED = 1_500_000_000
MAX_RATIO = 200


def expand_limit(compressed: int) -> int:
    """Most bytes a compressed input of ``compressed`` bytes may expand to (:data:`MAX_RATIO`, :data:`MAX_EXPANDED`)."""
    return min(MAX_EXPANDED, MAX_RATIO * max(compressed, 1) + 1_000_000)


def _gunzip(raw: bytes, path: Path) -> bytes:
    limit = expand_limit(len(raw))
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
            out = gz.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValidationError(path, [_p("(file)", f"not a valid gzip file ({exc})")]) from None
    if len(out) > limit:
        raise ValidationError(path, [_p("(file)", f"expands to more than {limit:,} bytes from {len(raw):,}: a "
                                                  "damaged file or a decompression bomb")])
    return out


def _member(zf: zipfile.ZipFile, prefer: Iterable[str] = ()) -> str:
    names = [n for n in zf.namelist() if n.lower().endswith(".csv") and not n.startswith("__MACOSX")]
    if not names:
        raise ValidationError(zf.filename or "zip", [_p("(file)", "the zip holds no .csv file")])
    for word in prefer:
        hits = [n for n in names if word in n.lower()]
        if hits:
            return sorted(hits, key=lambda n: zf.getinfo(n).file_size)[-1]
    return sorted(names, key=lambda n: zf.getinfo(n).file_size)[-1]


def _p(column: str, message: str):  # tiny helper to build a single Problem
    from geo._errors import Problem

    return Problem(column, message)


def read_bytes(path: str | Path, *, prefer: Iterable[str] = ()) -> bytes:
    """Return the decompressed bytes of a CSV file, a gzipped CSV, or the CSV inside a zip."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    raw = path.read_bytes()
    if not raw.strip():
        raise ValidationError(path, [_p("(file)", "the file is empty")])
    if raw[:2] == _GZ_MAGIC:
        raw = _gunzip(raw, path)
    if raw[:4] == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                if any(n.startswith("xl/") for n in zf.namelist()):
                    raise ValidationError(
                        path,
                        [_p("(file)", "this is an Excel workbook, not a CSV; save it as CSV or give it .xlsx")],
                    )
                zf.filename = str(path)
                info = zf.getinfo(_member(zf, prefer))
                if info.file_size > expand_limit(info.compress_size):
                    raise ValidationError(path, [_p("(file)", f"member {info.filename} expands to {info.file_size:,} "
                                                              f"bytes from {info.compress_size:,}: a damaged file or "
                                                              "a decompression bomb")])
                raw = zf.read(info)
        except zipfile.BadZipFile as exc:
            raise ValidationError(path, [_p("(file)", f"not a valid zip file ({exc})")]) from None
    elif path.suffix.lower() == ".zip":
        raise ValidationError(path, [_p("(file)", "named .zip but is not a zip file")])
    return raw


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def read_csv_text(path: str | Path, *, header: bool = True, prefer: Iterable[str] = ()) -> pd.DataFrame:
    """Read a CSV as published: any of BOM, cp1252, comma or semicolon, gzip or zip; all columns as text."""
    path = Path(path)
    text = _decode(read_bytes(path, prefer=prefer))
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    _check_last_line(text, first, sep, path)
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[],
            header=0 if header else None, skipinitialspace=False,
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise ValidationError(path, [_p("(file)", f"cannot be parsed as CSV: {exc}")]) from None
    except pd.errors.EmptyDataError:
        raise ValidationError(path, [_p("(file)", "the file is empty")]) from None
    if header:
        df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    return df


def _check_last_line(text: str, first: str, sep: str, path: Path) -> None:
    """Refuse a file whose last line was cut short (fewer fields than the first line and no line end)."""
    if text.endswith(("\n", "\r")) or "\n" not in text.strip():
        return
    last = text.rsplit("\n", 1)[-1]
    try:
        n_last = len(next(csv.reader([last], delimiter=sep), []))
        n_first = len(next(csv.reader([first.rstrip("\r")], delimiter=sep), []))
    except csv.Error:
        return
    if n_last < n_first:
        raise ValidationError(path, [_p("(file)", f"the last line is cut short ({n_last} of {n_first} fields, no "
                                                  "line end): an interrupted download or copy")])


def norm(name: str) -> str:
    """Normalise a header for matching: lower case, single spaces, no '; measures: Value' suffix."""
    name = re.sub(r";\s*measures:\s*value$", "", str(name).strip(), flags=re.I)
    return re.sub(r"\s+", " ", name).strip().lower()


def pick_columns(
    df: pd.DataFrame,
    spec: dict[str, list[str]],
    problems: Problems,
    *,
    optional: Iterable[str] = (),
    prefix: bool = False,
) -> pd.DataFrame:
    """Rename the first matching header of each alias list to its canonical name.

    Missing required columns and duplicated headers are recorded as problems. With ``prefix`` an alias
    also matches a header that starts with it.
    """
    optional = set(optional)
    normed = [norm(c) for c in df.columns]
    # pandas renames a repeated header 'x' to 'x.1'; count those as repeats of 'x'
    base = [re.sub(r"\.\d+$", "", n) if re.sub(r"\.\d+$", "", n) in normed else n for n in normed]
    dups = sorted({c for c in base if base.count(c) > 1 and c})
    for d in dups:
        problems.add(d, "the header appears more than once")
    rename: dict[str, str] = {}
    for canon, aliases in spec.items():
        found = None
        for alias in aliases:
            a = norm(alias)
            for orig, n in zip(df.columns, normed, strict=True):
                if n == a or (prefix and n.startswith(a)):
                    found = orig
                    break
            if found is not None:
                break
        if found is None:
            if canon not in optional:
                problems.add(canon, f"required column is missing (expected one of: {', '.join(aliases[:3])})")
        else:
            rename[found] = canon
    out = df.loc[:, ~df.columns.duplicated()]
    keep = [c for c in out.columns if c in rename]
    return out[keep].rename(columns=rename)


def _rows(mask: pd.Series | np.ndarray) -> list[int]:
    # 1-based row numbers as seen in a spreadsheet after the header (header = row 1)
    idx = np.flatnonzero(np.asarray(mask))
    return [int(i) + 2 for i in idx[:20]]


def check_codes(
    df: pd.DataFrame,
    column: str,
    problems: Problems,
    *,
    pattern: re.Pattern[str] | None = LSOA,
    unique: bool = True,
    allow: Iterable[str] = (),
    what: str = "LSOA code",
) -> None:
    """Strip codes and record blank, malformed and duplicated ones."""
    if column not in df:
        return
    s = df[column].astype(str).str.strip().str.upper()
    df[column] = s
    blank = s.eq("") | s.eq("NAN")
    if blank.any():
        problems.add(column, f"{int(blank.sum())} blank {what}(s)", _rows(blank))
    allowed = set(allow)
    if pattern is not None:
        bad = ~blank & ~s.isin(allowed) & ~s.str.match(pattern)
        if bad.any():
            problems.add(column, f"{int(bad.sum())} value(s) are not a valid {what}", _rows(bad),
                         s[bad].head(3).tolist())
    if unique:
        dup = s.duplicated(keep="first") & ~blank
        if dup.any():
            problems.add(column, f"{int(dup.sum())} duplicated {what}(s)", _rows(dup), s[dup].head(3).tolist())


def _clean_numbers(raw: pd.Series) -> pd.Series:
    """Text to numbers as ``pd.to_numeric(errors="coerce")`` gives them, fast when the text is held by Arrow.

    Arrow's cast is about 50× faster on a national file; it is used only when every value is a plain integer or
    a plain number, and gives the dtype ``pd.to_numeric`` gives. Anything else takes ``pd.to_numeric``.
    """
    if getattr(raw.dtype, "storage", None) == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(raw)
        nullable = raw.dtype.na_value is pd.NA  # "string[pyarrow]" gives Int64/Float64, pandas' "str" int64/float64
        for kind, dtype in ((pa.int64(), "Int64" if nullable else "int64"),
                            (pa.float64(), "Float64" if nullable else "float64")):
            try:
                out = pc.cast(arr, kind)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue  # blanks, separators, decimals (for int64) or junk
            if out.null_count and not nullable:
                dtype = "float64"  # pd.to_numeric gives float64 with NaN for a missing value
            return pd.Series(out.to_numpy(zero_copy_only=False), index=raw.index, name=raw.name).astype(dtype)
    return pd.to_numeric(raw, errors="coerce")


def to_number(
    df: pd.DataFrame,
    columns: Iterable[str],
    problems: Problems,
    *,
    integer: bool = False,
    nonneg: bool = True,
    allow_blank: bool = False,
) -> None:
    """Convert text columns to numbers in place (thousands separators allowed), recording bad values."""
    for col in columns:
        if col not in df:
            continue
        raw = df[col]
        if raw.dtype == object or pd.api.types.is_string_dtype(raw):
            num = _clean_numbers(raw)  # fast path: clean published numbers
            if num.isna().any():  # slow path only for columns with blanks, separators or junk
                text = raw.astype(str).str.strip().str.replace(",", "", regex=False)
                blank = text.eq("") | text.eq("nan")
                num = pd.to_numeric(text.mask(blank), errors="coerce")
                bad = num.isna() & ~blank
            else:
                blank = bad = pd.Series(False, index=raw.index)
        else:
            num = pd.to_numeric(raw, errors="coerce")
            bad = pd.Series(False, index=raw.index)
            blank = num.isna()
        if bad.any():
            problems.add(col, f"{int(bad.sum())} value(s) are not numbers", _rows(bad), raw[bad].head(3).tolist())
        if blank.any() and not allow_blank:
            problems.add(col, f"{int(blank.sum())} blank value(s)", _rows(blank))
        if nonneg:
            neg = num < 0
            if neg.any():
                problems.add(col, f"{int(neg.sum())} negative value(s)", _rows(neg), num[neg].head(3).tolist())
        if integer and not num.isna().any():
            frac = (num % 1) != 0
            if frac.any():
                problems.add(col, f"{int(frac.sum())} value(s) are not whole numbers", _rows(frac))
            df[col] = num.astype("int64") if not frac.any() else num
        else:
            df[col] = num


def require_rows(df: pd.DataFrame, problems: Problems) -> None:
    """Record a header-only file."""
    if len(df) == 0:
        problems.add("(file)", "the file has a header but no data rows")


def finish(problems: Problems, df: pd.DataFrame, check: Callable[[pd.DataFrame], None] | None = None) -> pd.DataFrame:
    """Raise collected problems, else return ``df`` reset to a clean index."""
    problems.raise_if_any()
    if check:
        check(df)
    return df.reset_index(drop=True)
