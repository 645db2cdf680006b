"""Ordnance Survey Code-Point Open (postcode unit coordinates in British National Grid)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from geo._errors import Problem, ValidationError
from geo.readers._common import expand_limit

__all__ = ["normalise_postcode", "read_codepoint"]

_COLUMNS = ["postcode", "quality", "easting", "northing", "country_code", "nhs_region", "nhs_ha",
            "county", "district", "ward"]


def normalise_postcode(pc: pd.Series) -> pd.Series:
    """Upper-case a postcode and put exactly one space before its inward code ('TS181HU' → 'TS18 1HU')."""
    s = pc.astype(str).str.upper()
    if s.str.contains(r"[\t\r\n]", regex=True).any():
        s = s.str.replace(r"\s+", "", regex=True)
    else:  # the common case, and much faster than a regular expression on 1.7 million postcodes
        s = s.str.replace(" ", "", regex=False)
    return s.str[:-3] + " " + s.str[-3:]


def read_codepoint(path: str | Path, *, postcodes: Iterable[str] | None = None) -> pd.DataFrame:
    """Read OS Code-Point Open as published (a zip of ``Data/CSV/<area>.csv`` files with no header).

    Parameters
    ----------
    path
        The Code-Point Open zip.
    postcodes
        If given, keep only these postcodes (any spacing), which keeps memory small.

    Returns
    -------
    pandas.DataFrame
        ``postcode`` (normalised), ``quality`` (positional quality indicator), ``easting``, ``northing``
        (EPSG:27700 metres) and ``country_code``.
    """
    path = Path(path)
    wanted = None
    if postcodes is not None:
        wanted = set(normalise_postcode(pd.Series(list(postcodes))).tolist())
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValidationError(path, [Problem("(file)", f"not a valid Code-Point Open zip ({exc})")]) from None
    with zf:
        members = [n for n in zf.namelist() if n.lower().startswith("data/csv/") and n.lower().endswith(".csv")]
        if not members:
            raise ValidationError(path, [Problem("(file)", "no Data/CSV/*.csv members: not a Code-Point Open zip")])
        raws = []
        for name in members:
            info = zf.getinfo(name)
            if info.file_size > expand_limit(info.compress_size):
                raise ValidationError(path, [Problem("(file)", f"member {name} expands to {info.file_size:,} bytes "
                                                               f"from {info.compress_size:,}: a damaged file or a "
                                                               "decompression bomb")])
            raws.append(zf.read(name))
    import pyarrow as pa

    try:  # all members in one multithreaded Arrow parse: 4x faster than 120 pandas parses
        out = _parse_arrow(raws)
    except pa.ArrowInvalid:  # a member of another shape or a bad number: pandas, member by member, says which
        out = pd.concat([_parse_pandas(raw) for raw in raws], ignore_index=True)
    if wanted is not None:
        out = out[out["postcode"].isin(wanted)]
    bad = pd.to_numeric(out["easting"], errors="coerce").isna() | pd.to_numeric(out["northing"], errors="coerce").isna()
    if bad.any():
        raise ValidationError(path, [Problem("Eastings", f"{int(bad.sum())} non-numeric coordinates",
                                             examples=tuple(out.loc[bad, "postcode"].head(3)))])
    return out.reset_index(drop=True)


def _parse_arrow(raws: list[bytes]) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    raw = b"".join(r if not r or r.endswith(b"\n") else r + b"\n" for r in raws)
    types = {"postcode": pa.string(), "quality": pa.int64(), "easting": pa.int64(), "northing": pa.int64(),
             "country_code": pa.string()}
    t = pcsv.read_csv(pa.py_buffer(raw), read_options=pcsv.ReadOptions(column_names=_COLUMNS, encoding="latin-1"),
                      convert_options=pcsv.ConvertOptions(include_columns=list(types), column_types=types))
    s = pc.utf8_upper(t["postcode"])  # as normalise_postcode, in Arrow
    s = pc.replace_substring_regex(s, r"\s+", "") if pc.any(pc.match_substring_regex(s, r"[\t\r\n]")).as_py() \
        else pc.replace_substring(s, " ", "")
    s = pc.binary_join_element_wise(pc.utf8_slice_codeunits(s, 0, -3), pc.utf8_slice_codeunits(s, -3), " ")
    return t.set_column(0, "postcode", s).to_pandas()


def _parse_pandas(raw: bytes) -> pd.DataFrame:
    df = pd.read_csv(io.BytesIO(raw), header=None, names=_COLUMNS, usecols=[0, 1, 2, 3, 4], dtype={0: str, 4: str},
                     encoding="latin-1")
    df["postcode"] = normalise_postcode(df["postcode"])
    return df
