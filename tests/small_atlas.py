"""Small extracts of the real published files, for an atlas built in seconds by the real ``geo.atlas.build``.

:func:`write_extracts` copies, from the real data folder, the rows of every catalogued file that describe a few
local authorities (by default Bradford, in West Yorkshire ICB, and Solihull, in Birmingham and Solihull ICB):
their LSOAs 2011 and 2021 with every lookup, IoD, Census and population row; the practices that register
most of their patients there, with their registrations in those LSOAs, PCNs, QOF and PHE rows; and the
Code-Point Open area files of those practices' postcodes. Each extract keeps its publisher's format (the
same header, encoding and compression, the same GeoPackage layer, workbook sheets or zip members), so the
build reads it through the same readers as the national file.

The extracts are written at the start of a test session into a temporary folder and never committed. An atlas
built from them is a consistent small world ("England" is these few areas); facts that need the whole of
England (national counts, ranks, totals) stay with the national atlas and the ``slow`` marker.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from geo.sources import SOURCES

#: Bradford (West Yorkshire ICB, QWO) and Solihull (Birmingham and Solihull ICB, QHL, E54000055).
DEFAULT_LADS = ("E08000032", "E08000029")
#: A practice is in the small world when at least this share of its registered patients live there.
PRACTICE_SHARE = 0.5



def _open_text(path: Path) -> tuple[bytes, bool]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw), True
    return raw, False


def _write(dest: Path, lines: list[bytes], gz: bool) -> None:
    data = b"".join(lines)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(gzip.compress(data, mtime=0) if gz else data)


def _filter_csv(src: Path, dest: Path, keep: Callable[[pd.DataFrame], pd.Series], *, header: bool = True,
                usecols: list | None = None) -> int:
    """Copy the header and the rows ``keep`` accepts, byte for byte, in the source's compression."""
    raw, gz = _open_text(src)
    lines = _kept_lines(raw, keep, header=header, usecols=usecols, name=src.name)
    _write(dest, lines, gz)
    return len(lines) - (1 if header else 0)


def _kept_lines(raw: bytes, keep: Callable[[pd.DataFrame], pd.Series], *, header: bool, usecols: list | None,
                name: str) -> list[bytes]:
    """``keep`` gets the rows as text columns (numbered when there is no header) and returns a mask; the rows
    are then taken from the raw lines, so quoting, number formats and line endings stay as published."""
    table = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, header=0 if header else None,
                        encoding="latin-1", usecols=usecols)
    lines = raw.splitlines(keepends=True)
    body = lines[1:] if header else lines
    if len(body) != len(table):  # a quoted field spanning lines: rows and lines would not correspond
        raise RuntimeError(f"{name}: {len(body)} lines but {len(table)} rows")
    rows = np.flatnonzero(keep(table).to_numpy())
    return ([lines[0]] if header else []) + [body[i] for i in rows]


def _by_column(src: Path, dest: Path, names: Iterable[str], wanted: set[str]) -> int:
    raw, _ = _open_text(src)
    header = pd.read_csv(io.BytesIO(raw.split(b"\n", 1)[0]), dtype=str, encoding="latin-1").columns
    cols = {str(c).strip().lstrip("\ufeff\xef\xbb\xbf").lower(): c for c in header}
    col = next(cols[n.lower()] for n in names if n.lower() in cols)
    return _filter_csv(src, dest, lambda t: t[col].str.strip().isin(wanted), usecols=[col])


def _gpkg(src: Path, dest: Path, code_field: str, wanted: set[str]) -> int:
    import pyogrio

    layer = pyogrio.list_layers(src)[0][0]
    codes = ",".join(f"'{c}'" for c in sorted(wanted))
    df = pyogrio.read_dataframe(src, layer=layer, where=f"{code_field} IN ({codes})")
    dest.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(df, dest, layer=layer, driver="GPKG")
    return len(df)


_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
_FIRST_CELL = re.compile(rb'<c r="A\d+"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def _epcn(src: Path, dest: Path, practices: set[str]) -> int:
    """Keep the ePCN workbook's own XML, dropping rows: partners of other practices, PCNs of no kept partner.

    The sheets are filtered as text (rows renumbered), so styles, shared strings and sheet names stay as
    published; parsing the workbook with openpyxl would take seconds.
    """
    with zipfile.ZipFile(src) as z:
        members = {i.filename: z.read(i.filename) for i in z.infolist()}
    strings = [re.sub(rb"<[^>]+>", b"", si).decode() for si in
               re.findall(rb"<si>(.*?)</si>", members.get("xl/sharedStrings.xml", b""), re.S)]

    def first(row: bytes) -> str:
        m = _FIRST_CELL.search(row)
        if not m or m.group(2) is None:
            return ""
        v = re.search(rb"<v>(.*?)</v>|<t[^>]*>(.*?)</t>", m.group(2), re.S)
        text = (v.group(1) or v.group(2) or b"").decode() if v else ""
        return strings[int(text)] if b't="s"' in m.group(1) and text else text

    sheets = re.findall(rb'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', members["xl/workbook.xml"])
    rels = dict(re.findall(rb'Id="([^"]+)"[^>]*Target="([^"]+)"', members["xl/_rels/workbook.xml.rels"]))
    rels.update({k: v for v, k in re.findall(rb'Target="([^"]+)"[^>]*Id="([^"]+)"',
                                                members["xl/_rels/workbook.xml.rels"])})
    target = {name.decode(): "xl/" + rels[rid].decode().lstrip("/").removeprefix("xl/") for name, rid in sheets}
    part = next(t for n, t in target.items() if n.lower().startswith("pcn core partner"))
    kept = [r for r in _ROW.findall(members[part])[1:] if first(r) in practices]
    pcn_col = _column_of(members[part], strings, b"PCN Code")
    pcns = {_cell(r, pcn_col, strings) for r in kept}
    n = len(kept)
    for name, path in target.items():
        xml = members[path]
        rows = _ROW.findall(xml)
        if path == part:
            keep = rows[:1] + kept
        elif name == "PCNDetails":
            keep = rows[:1] + [r for r in rows[1:] if first(r) in pcns]
        else:
            keep = rows
        members[path] = _renumbered(xml, rows, keep)
    if "xl/sharedStrings.xml" in members:
        _keep_used_strings(members, list(target.values()))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return n


_SHARED_CELL = re.compile(rb'(<c [^>]*t="s"[^>]*>\s*<v>)(\d+)(</v>)')


def _keep_used_strings(members: dict[str, bytes], sheets: list[str]) -> None:
    """Drop the shared strings no kept cell uses (the national table is most of a reader's work)."""
    sst = members["xl/sharedStrings.xml"]
    items = re.findall(rb"<si\b.*?</si>", sst, re.S)
    used = sorted({int(m.group(2)) for path in sheets for m in _SHARED_CELL.finditer(members[path])})
    new = {old: i for i, old in enumerate(used)}
    for path in sheets:
        members[path] = _SHARED_CELL.sub(lambda m: m.group(1) + str(new[int(m.group(2))]).encode() + m.group(3),
                                         members[path])
    head = sst[:sst.index(items[0])] if items else sst
    head = re.sub(rb'count="\d+"', f'count="{len(used)}"'.encode(), head)
    head = re.sub(rb'uniqueCount="\d+"', f'uniqueCount="{len(used)}"'.encode(), head)
    members["xl/sharedStrings.xml"] = head + b"".join(items[i] for i in used) + b"</sst>"


def _column_of(xml: bytes, strings: list[str], header: bytes) -> bytes:
    row = _ROW.search(xml).group(0)
    for ref, attrs, body in re.findall(rb'<c r="([A-Z]+)1"([^>]*?)>(.*?)</c>', row, re.S):
        v = re.search(rb"<v>(.*?)</v>", body)
        if v and b't="s"' in attrs and strings[int(v.group(1))].encode() == header:
            return ref
    raise KeyError(header)


def _cell(row: bytes, col: bytes, strings: list[str]) -> str:
    m = re.search(rb'<c r="' + col + rb'\d+"([^>]*?)>(.*?)</c>', row, re.S)
    if not m:
        return ""
    v = re.search(rb"<v>(.*?)</v>", m.group(2))
    text = v.group(1).decode() if v else ""
    return strings[int(text)] if b't="s"' in m.group(1) and text else text


def _renumbered(xml: bytes, rows: list[bytes], keep: list[bytes]) -> bytes:
    out = []
    for i, row in enumerate(keep, start=1):
        row = re.sub(rb'(<row\b[^>]*?\br=")\d+"', rb"\g<1>" + str(i).encode() + b'"', row, count=1)
        out.append(re.sub(rb'(<c r="[A-Z]+)\d+"', rb"\g<1>" + str(i).encode() + b'"', row))
    start = xml.index(rows[0]) if rows else 0
    end = xml.index(rows[-1]) + len(rows[-1]) if rows else 0
    body = xml[:start] + b"".join(out) + xml[end:]
    return re.sub(rb'(<dimension ref="A1:[A-Z]+)\d+"', rb"\g<1>" + str(max(len(keep), 1)).encode() + b'"', body)


def _codepoint(src: Path, dest: Path, postcodes: set[str], lads: set[str]) -> int:
    """The area files of the practices' postcodes, keeping the postcodes of the LADs and of the practices."""
    wanted = {p.replace(" ", "").upper() for p in postcodes}

    def keep(t: pd.DataFrame) -> pd.Series:
        return t[8].isin(lads) | t[0].str.replace(" ", "", regex=False).str.upper().isin(wanted)

    areas = {re.match(r"[A-Z]+", p).group(0).lower() for p in wanted if p}
    n = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name = info.filename
            data = zin.read(name)
            if name.lower().startswith("data/csv/") and name.lower().endswith(".csv"):
                if Path(name).stem.lower() not in areas:
                    continue
                lines = _kept_lines(data, keep, header=False, usecols=[0, 8], name=name)
                data = b"".join(lines)
                n += len(lines)
            zout.writestr(info, data)
    return n


def _lsoas(root: Path, lads: Iterable[str]) -> tuple[set[str], set[str]]:
    """LSOA 2011 and 2021 codes of the LADs, closed over the 2011↔2021 lookup so no pair is cut."""
    lk = pd.read_csv(root / SOURCES["lsoa11_lsoa21"].relpath, dtype=str)
    mine = lk["ltla22_code"].isin(set(lads))
    s11, s21 = set(lk.loc[mine, "lsoa11_code"]), set(lk.loc[mine, "lsoa21_code"])
    while True:
        more11 = set(lk.loc[lk["lsoa21_code"].isin(s21), "lsoa11_code"])
        more21 = set(lk.loc[lk["lsoa11_code"].isin(s11), "lsoa21_code"])
        if more11 <= s11 and more21 <= s21:
            return s11, s21
        s11 |= more11
        s21 |= more21


def _registrations(src: Path, dest: Path, s11: set[str]) -> set[str]:
    """Keep the practices that register most of their patients in the LSOAs, and their rows in those LSOAs."""
    raw, gz = _open_text(src)
    kept: set[str] = set()

    def keep(r: pd.DataFrame) -> pd.Series:
        n = pd.to_numeric(r["NUMBER_OF_PATIENTS"])
        here = r["LSOA_CODE"].isin(s11)
        share = n.where(here, 0).groupby(r["PRACTICE_CODE"]).sum() / n.groupby(r["PRACTICE_CODE"]).sum()
        kept.update(share.index[share >= PRACTICE_SHARE])
        return r["PRACTICE_CODE"].isin(kept) & here

    _write(dest, _kept_lines(raw, keep, header=True, usecols=["PRACTICE_CODE", "LSOA_CODE", "NUMBER_OF_PATIENTS"],
                             name=src.name), gz)
    return kept


def _zipped_csv(src: Path, dest: Path, keep: Callable[[pd.DataFrame], pd.Series], usecols: list[str]) -> int:
    """The CSV member of a published zip with only the rows ``keep`` accepts, in a zip of the same member name."""
    with zipfile.ZipFile(src) as zin:
        info = next(i for i in zin.infolist() if i.filename.lower().endswith(".csv"))
        raw = zin.read(info)
    lines = _kept_lines(raw, keep, header=True, usecols=usecols, name=src.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(info.filename, b"".join(lines))
    return len(lines) - 1


def _month_files(src: Path, dest: Path, practices: set[str]) -> dict[str, int]:
    """Every registration month's practice map and quin-age file (geo.months), for the kept practices."""
    counts: dict[str, int] = {}
    for path in sorted((src / "gp").glob("gp-reg-pat-prac-map_*.zip")):
        counts[f"month:{path.name}"] = _zipped_csv(path, dest / "gp" / path.name,
                                                   lambda t: t["PRACTICE_CODE"].isin(practices), ["PRACTICE_CODE"])
    for path in sorted((src / "gp").glob("gp-reg-pat-prac-quin-age_*.zip")):
        counts[f"month:{path.name}"] = _zipped_csv(
            path, dest / "gp" / path.name, lambda t: t["ORG_TYPE"].eq("GP") & t["ORG_CODE"].isin(practices),
            ["ORG_TYPE", "ORG_CODE"])
    return counts


def write_extracts(src: Path, dest: Path, lads: Iterable[str] = DEFAULT_LADS) -> dict[str, int]:
    """Write extracts of every catalogued file found in ``src`` into ``dest`` (same relative paths).

    Parameters
    ----------
    src
        The real data folder (``../shared/data``).
    dest
        Folder to fill; point ``CORE20_DATA`` at it.
    lads
        LAD 2022 codes of the areas to keep.

    Returns
    -------
    dict
        Rows (features, members; for the registrations, practices) written per source key.
    """
    lads = set(lads)
    s11, s21 = _lsoas(src, lads)
    path = {k: src / s.relpath for k, s in SOURCES.items() if (src / s.relpath).is_file()}
    out = {k: dest / SOURCES[k].relpath for k in path}
    practices = _registrations(path["gp_reg_lsoa"], out["gp_reg_lsoa"], s11)
    counts: dict[str, int] = {"gp_reg_lsoa": len(practices)}

    lsoa11_cols = ["LSOA code (2011)", "lsoa11_code", "LSOA Code", "LSOA11CD"]
    lsoa21_cols = ["LSOA code (2021)", "lsoa21_code", "geography code"]
    for key in path:
        s, d = path[key], out[key]
        if key in ("imd2019", "lsoa11_icb22", "mye2020", "ruc11", "oa11_lookup"):
            counts[key] = _by_column(s, d, lsoa11_cols, s11)
        elif key in ("imd2025", "lsoa21_icb24", "lsoa21_lad24", "ruc21", "ts021", "ts011", "ts038", "ts052",
                     "ts044", "ts054", "age6"):
            counts[key] = _by_column(s, d, lsoa21_cols, s21)
        elif key == "lsoa11_lsoa21":
            counts[key] = _by_column(s, d, ["lsoa11_code"], s11)
        elif key == "lsoa21_boundaries":
            counts[key] = _gpkg(s, d, "lsoa21_code", s21)
        elif key == "lsoa11_boundaries":
            counts[key] = _gpkg(s, d, "lsoa11_code", s11)
        elif key == "gp_reg_lsoa":
            continue  # written first: the practices follow from it
        elif key in ("gp_reg_map", "qof_2223", "qof_2122", "qof_2021", "qof_2425", "qof_geo_2223", "hyp_undiagnosed",
                     "hyp_diagnosed", "qof_2122_dm"):
            counts[key] = _by_column(s, d, ["PRACTICE_CODE", "OrganisationCode"], practices)
        elif key in ("epraccur", "epraccur_2026"):
            counts[key] = _filter_csv(s, d, lambda t: t[0].isin(practices), header=False, usecols=[0])
        elif key in ("epcn", "epcn_2024"):
            counts[key] = _epcn(s, d, practices)
        elif key == "sicbl26":
            counts[key] = _filter_csv(s, d, lambda t: pd.Series(True, index=t.index))
    # MSOAs of the kept LSOAs 2021 (an LSOA is named after its MSOA plus a letter), for single years of age
    names21 = pd.read_csv(out["lsoa21_lad24"], dtype=str)["lsoa21_name"]
    if "ts007_msoa" in path:
        counts["ts007_msoa"] = _by_column(path["ts007_msoa"], out["ts007_msoa"], ["geography"],
                                          set(names21.str[:-1]))
    if "icb_boundaries" in path:
        icbs = set(pd.read_csv(out["lsoa11_icb22"], dtype=str)["icb22_code"])
        counts["icb_boundaries"] = _gpkg(path["icb_boundaries"], out["icb_boundaries"], "icb22_code", icbs)
    if "codepoint" in path:
        postcodes = pd.read_csv(out["gp_reg_map"], dtype=str, keep_default_na=False)["PRACTICE_POSTCODE"]
        lad24 = pd.read_csv(out["lsoa21_lad24"], dtype=str)["ltla24_code"]
        counts["codepoint"] = _codepoint(path["codepoint"], out["codepoint"], set(postcodes), set(lad24) | set(lads))
    counts.update(_month_files(src, dest, practices))
    missing = sorted(set(path) - set(counts))
    if missing:
        raise RuntimeError(f"no extract rule for {missing}: the national file would be read instead")
    return counts

