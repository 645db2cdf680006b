"""ONS Open Geography Portal: LSOA boundaries, ICB boundaries and the LSOA lookups."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import Problems, ValidationError
from geo.codes import GB_LSOA, GB_OA, ICB, LSOA
from geo.readers._common import (
    check_codes,
    finish,
    pick_columns,
    read_csv_text,
    require_rows,
)

__all__ = [
    "read_boundaries",
    "read_icb_boundaries",
    "read_lsoa11_lsoa21",
    "read_lsoa21_lad",
    "read_lsoa_icb",
    "read_oa11_lookup",
    "read_onspd",
    "read_ruc",
]


def _read_geo(path: Path) -> gpd.GeoDataFrame:
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if suffix.endswith((".geojson", ".json")):
            text = path.read_text(encoding="utf-8-sig")
            data = json.loads(text)
            # ArcGIS FeatureServer pages arrive as a list of FeatureCollections
            if isinstance(data, list):
                feats = [f for page in data for f in page.get("features", [])]
                data = {"type": "FeatureCollection", "features": feats}
            gdf = gpd.GeoDataFrame.from_features(data.get("features", []))
            crs = (data.get("crs") or {}).get("properties", {}).get("name", "")
            if "27700" in crs:
                gdf = gdf.set_crs(27700)
            elif "4326" in crs or "CRS84" in crs:
                gdf = gdf.set_crs(4326)
            return gdf
        return gpd.read_file(path, engine="pyogrio", use_arrow=True)
    except (ValueError, json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ValidationError(path, [_problem(f"cannot be read as a boundary file: {exc}")]) from None
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise ValidationError(path, [_problem(f"cannot be read as a boundary file: {exc}")]) from None


def _problem(message: str):
    from geo._errors import Problem

    return Problem("(file)", message)


def read_boundaries(path: str | Path, *, vintage: int, england_only: bool = True) -> gpd.GeoDataFrame:
    """Read LSOA boundaries (GeoPackage, GeoJSON or paged ArcGIS GeoJSON) in EPSG:4326.

    Parameters
    ----------
    path
        ONS LSOA boundaries, December 2011 or December 2021 (BSC or BGC), in any CRS.
    vintage
        2011 or 2021; picks the code and name columns (``LSOA21CD`` / ``lsoa21_code`` and so on).
    england_only
        Keep only ``E01`` codes.

    Returns
    -------
    geopandas.GeoDataFrame
        ``lsoa_code``, ``lsoa_name``, ``geometry`` (valid, EPSG:4326).

    Notes
    -----
    A file with no CRS is taken as EPSG:4326 when its coordinates are longitudes and latitudes, and as
    EPSG:27700 when they look like British National Grid metres; any other CRS is reprojected.
    Invalid polygons are repaired with ``make_valid``; empty or missing geometries are errors.
    """
    path = Path(path)
    yy = str(vintage)[2:]
    problems = Problems(path)
    gdf = _read_geo(path)
    spec = {
        "lsoa_code": [f"lsoa{yy}_code", f"LSOA{yy}CD", "lsoa_code", "code"],
        "lsoa_name": [f"lsoa{yy}_name", f"LSOA{yy}NM", "lsoa_name", "name"],
    }
    attrs = pick_columns(pd.DataFrame(gdf.drop(columns="geometry", errors="ignore")), spec, problems,
                         optional=["lsoa_name"])
    if "geometry" not in gdf or gdf.geometry is None:
        problems.add("geometry", "the file has no geometry")
        problems.raise_if_any()
    geom = gdf.geometry
    if england_only and "lsoa_code" in attrs:
        keep = attrs["lsoa_code"].astype(str).str.strip().str.upper().str.startswith("E")
        attrs, geom = attrs[keep.values], geom[keep.values]
    attrs = attrs.reset_index(drop=True)
    geom = geom.reset_index(drop=True)
    check_codes(attrs, "lsoa_code", problems, pattern=LSOA)
    require_rows(attrs, problems)
    missing = geom.isna() | geom.is_empty
    if missing.any():
        problems.add("geometry", f"{int(missing.sum())} missing or empty geometries",
                     list(np.flatnonzero(missing.values)[:5] + 2),
                     attrs.loc[missing.values, "lsoa_code"].head(3).tolist() if "lsoa_code" in attrs else [])
    problems.raise_if_any()
    crs = gdf.crs
    if crs is None:
        maxx = geom.total_bounds[2]
        crs = 27700 if maxx > 1000 else 4326  # lon/lat never exceed 180; BNG eastings are metres
    out = gpd.GeoDataFrame(attrs, geometry=geom.values, crs=crs)
    if out.crs.to_epsg() != 4326:
        out = out.to_crs(4326)
    bad = ~out.geometry.is_valid
    if bad.any():
        out.loc[bad, "geometry"] = shapely.make_valid(out.geometry[bad].values, method="structure")
    out["geometry"] = _polygonal(out.geometry)
    if "lsoa_name" not in out:
        out["lsoa_name"] = out["lsoa_code"]
    return finish(problems, out[["lsoa_code", "lsoa_name", "geometry"]])


def _polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Drop any stray lines or points that make_valid can leave inside a collection."""
    types = geoms.geom_type
    if types.isin(["Polygon", "MultiPolygon"]).all():
        return geoms
    fixed = []
    for g in geoms:
        if g.geom_type == "GeometryCollection":
            parts = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
            g = shapely.union_all(parts) if parts else g
        fixed.append(g)
    return gpd.GeoSeries(fixed, index=geoms.index, crs=geoms.crs)


def read_lsoa11_lsoa21(path: str | Path) -> pd.DataFrame:
    """Read the ONS LSOA (2011) to LSOA (2021) lookup with its change codes.

    Returns
    -------
    pandas.DataFrame
        ``lsoa11_code``, ``lsoa11_name``, ``lsoa21_code``, ``lsoa21_name``, ``change_code`` (U, S, M or X),
        ``lad_code``, ``lad_name`` (LAD 2022).
    """
    problems = Problems(path)
    raw = read_csv_text(path)
    spec = {
        "lsoa11_code": ["lsoa11_code", "LSOA11CD"],
        "lsoa11_name": ["lsoa11_name", "LSOA11NM"],
        "lsoa21_code": ["lsoa21_code", "LSOA21CD"],
        "lsoa21_name": ["lsoa21_name", "LSOA21NM"],
        "change_code": ["change_code", "CHGIND"],
        "lad_code": ["ltla22_code", "LAD22CD"],
        "lad_name": ["ltla22_name", "LAD22NM"],
    }
    df = pick_columns(raw, spec, problems, optional=["lsoa11_name", "lsoa21_name", "lad_code", "lad_name"])
    require_rows(df, problems)
    check_codes(df, "lsoa11_code", problems, unique=False)
    check_codes(df, "lsoa21_code", problems, unique=False)
    if "change_code" in df:
        df["change_code"] = df["change_code"].str.strip().str.upper()
        bad = ~df["change_code"].isin(["U", "S", "M", "X"])
        if bad.any():
            problems.add("change_code", "change codes must be U, S, M or X",
                         list(np.flatnonzero(bad)[:5] + 2), df.loc[bad, "change_code"].head(3).tolist())
    if {"lsoa11_code", "lsoa21_code"} <= set(df.columns):
        dup = df.duplicated(["lsoa11_code", "lsoa21_code"])
        if dup.any():
            problems.add("lsoa11_code", "duplicated LSOA 2011 → 2021 pairs", list(np.flatnonzero(dup)[:5] + 2))
    return finish(problems, df)


def read_lsoa_icb(path: str | Path, *, vintage: int) -> pd.DataFrame:
    """Read an ONS LSOA → Sub-ICB location → ICB lookup (LSOA 2011 July 2022, or LSOA 2021 April 2024).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``lsoa_name``, ``sicbl_code``, ``sicbl_code_nhs``, ``sicbl_name``, ``icb_code``
        (ONS ``E54…``), ``icb_code_nhs`` (``Q…``), ``icb_name`` and, where present, ``lad_code``, ``lad_name``.
    """
    yy = str(vintage)[2:]
    problems = Problems(path)
    raw = read_csv_text(path)
    spec = {
        "lsoa_code": [f"lsoa{yy}_code", f"LSOA{yy}CD"],
        "lsoa_name": [f"lsoa{yy}_name", f"LSOA{yy}NM"],
        "sicbl_code": ["sicbl22_code", "sicbl24_code", "SICBL22CD", "SICBL24CD"],
        "sicbl_code_nhs": ["sicbl22_code_h", "sicbl24_code_nhs", "SICBL22CDH", "SICBL24CDH"],
        "sicbl_name": ["sicbl22_name", "sicbl24_name", "SICBL22NM", "SICBL24NM"],
        "icb_code": ["icb22_code", "icb24_code", "ICB22CD", "ICB24CD"],
        "icb_code_nhs": ["icb22_code_h", "icb24_code_nhs", "ICB22CDH", "ICB24CDH"],
        "icb_name": ["icb22_name", "icb24_name", "ICB22NM", "ICB24NM"],
        "lad_code": ["ltla22_code", "LAD22CD", "LAD24CD"],
        "lad_name": ["ltla22_name", "LAD22NM", "LAD24NM"],
    }
    df = pick_columns(raw, spec, problems, optional=["lsoa_name", "sicbl_code_nhs", "sicbl_name",
                                                       "icb_code_nhs", "lad_code", "lad_name"])
    require_rows(df, problems)
    check_codes(df, "lsoa_code", problems)
    check_codes(df, "icb_code", problems, pattern=None, unique=False, what="ICB code")
    return finish(problems, df)


def read_lsoa21_lad(path: str | Path) -> pd.DataFrame:
    """Read the ONS LSOA (2021) → electoral ward → local authority (best fit) lookup.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``lsoa_name``, ``ward_code``, ``ward_name``, ``lad_code``, ``lad_name``.
    """
    problems = Problems(path)
    raw = read_csv_text(path)
    spec = {
        "lsoa_code": ["lsoa21_code", "LSOA21CD"],
        "lsoa_name": ["lsoa21_name", "LSOA21NM"],
        "ward_code": ["ward24_code", "WD24CD"],
        "ward_name": ["ward24_name", "WD24NM"],
        "lad_code": ["ltla24_code", "LAD24CD"],
        "lad_name": ["ltla24_name", "LAD24NM"],
    }
    df = pick_columns(raw, spec, problems, optional=["ward_code", "ward_name"])
    require_rows(df, problems)
    check_codes(df, "lsoa_code", problems)
    return finish(problems, df)


def read_ruc(path: str | Path, *, vintage: int) -> pd.DataFrame:
    """Read the ONS rural–urban classification of LSOAs (2011 or 2021).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``ruc_code``, ``ruc_name``, ``urban_rural`` ("Urban" or "Rural").
    """
    yy = str(vintage)[2:]
    problems = Problems(path)
    raw = read_csv_text(path)
    spec = {
        "lsoa_code": [f"lsoa{yy}_code", f"LSOA{yy}CD"],
        "ruc_code": [f"ruc{yy}_code", f"RUC{yy}CD"],
        "ruc_name": ["classification", f"RUC{yy}NM", f"RUC{yy}"],
        "urban_rural": ["ruc", "Urban_rural_flag"],
    }
    df = pick_columns(raw, spec, problems, optional=["ruc_name"])
    require_rows(df, problems)
    check_codes(df, "lsoa_code", problems)
    if "urban_rural" in df:
        df["urban_rural"] = df["urban_rural"].str.strip().str.title()
    return finish(problems, df)


def read_icb_boundaries(path: str | Path) -> gpd.GeoDataFrame:
    """Read ONS Integrated Care Board boundaries (GeoPackage, GeoJSON or paged ArcGIS GeoJSON) in EPSG:4326.

    Returns
    -------
    geopandas.GeoDataFrame
        ``icb_code`` (ONS ``E54…``), ``icb_name``, ``geometry`` (valid).
    """
    path = Path(path)
    problems = Problems(path)
    gdf = _read_geo(path)
    spec = {"icb_code": ["icb22_code", "ICB22CD", "icb24_code", "ICB24CD", "icb23_code", "ICB23CD"],
            "icb_name": ["icb22_name", "ICB22NM", "icb24_name", "ICB24NM", "icb23_name", "ICB23NM"]}
    attrs = pick_columns(pd.DataFrame(gdf.drop(columns="geometry", errors="ignore")), spec, problems)
    check_codes(attrs, "icb_code", problems, pattern=ICB, what="ICB code")
    require_rows(attrs, problems)
    problems.raise_if_any()
    crs = gdf.crs or (27700 if gdf.geometry.total_bounds[2] > 1000 else 4326)
    out = gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=gdf.geometry.values, crs=crs).to_crs(4326)
    bad = ~out.geometry.is_valid
    if bad.any():
        out.loc[bad, "geometry"] = shapely.make_valid(out.geometry[bad].values, method="structure")
    return out


def read_oa11_lookup(path: str | Path) -> pd.DataFrame:
    """Read the ONS output area (2011) lookup to LSOA, MSOA, local authority and region.

    Returns
    -------
    pandas.DataFrame
        ``oa_code``, ``lsoa_code``, ``lsoa_name``, ``msoa_code``, ``msoa_name``, ``lad_code``, ``lad_name``,
        ``region_code``, ``region_name`` (whichever the file holds beyond the first two).
    """
    problems = Problems(path)
    raw = read_csv_text(path)
    spec = {"oa_code": ["OA11CD", "oa11_code"], "lsoa_code": ["LSOA11CD", "lsoa11_code"],
            "lsoa_name": ["LSOA11NM"], "msoa_code": ["MSOA11CD"], "msoa_name": ["MSOA11NM"],
            "lad_code": ["LAD17CD", "LAD11CD", "LAD20CD"], "lad_name": ["LAD17NM", "LAD11NM", "LAD20NM"],
            "region_code": ["RGN11CD"], "region_name": ["RGN11NM"]}
    df = pick_columns(raw, spec, problems, optional=[k for k in spec if k not in ("oa_code", "lsoa_code")])
    require_rows(df, problems)
    # the UK-wide edition also carries Scottish output areas and data zones (S00…, S01…)
    check_codes(df, "oa_code", problems, pattern=GB_OA, what="OA code")
    check_codes(df, "lsoa_code", problems, pattern=GB_LSOA, unique=False)
    return finish(problems, df)


#: ONSPD headers: the long-standing lower-case names first, then the upper-case names of later releases.
_ONSPD_SPEC = {
    "postcode": ["pcds", "pcd", "pcd7", "pcd8", "pcd2"],
    "doterm": ["doterm"],
    "usertype": ["usertype", "usrtypind"],
    "easting": ["oseast1m", "east1m"],
    "northing": ["osnrth1m", "north1m"],
    "country_code": ["ctry", "ctry25cd", "ctry24cd", "ctry12cd"],
    "lsoa21_code": ["lsoa21", "lsoa21cd"],
}


def read_onspd(path: str | Path) -> pd.DataFrame:
    """Read the ONS Postcode Directory (ONSPD) as published: the zip (``Data/ONSPD_<MON>_<YYYY>_UK.csv``) or its CSV.

    Only the columns the atlas needs are parsed, so the full directory (about 2.7 million rows) reads quickly.

    Returns
    -------
    pandas.DataFrame
        ``postcode`` (normalised, one space), ``lsoa21_code`` (LSOA 2021; empty where ONSPD has none),
        ``terminated`` (``doterm`` is filled), ``large_user`` (``usertype`` 1), ``easting``, ``northing``
        (EPSG:27700 metres; missing where ONSPD has no grid reference) and ``country_code``.

    Raises
    ------
    ValidationError
        Naming the file and column when a required column is missing, a postcode is blank, an LSOA 2021 code
        is malformed or the user type is neither 0 nor 1.
    """
    import io
    import zipfile

    from geo.readers._common import norm
    from geo.readers.os import normalise_postcode

    path = Path(path)
    problems = Problems(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".csv")
                         and "onspd" in n.lower().rsplit("/", 1)[-1] and "/multi_csv/" not in n.lower()]
                if not names:
                    raise ValidationError(path, [_problem("the zip holds no Data/ONSPD_*.csv file")])
                raw = zf.read(max(names, key=lambda n: zf.getinfo(n).file_size))
        else:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                import gzip

                raw = gzip.decompress(raw)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValidationError(path, [_problem(f"cannot be read as the ONS Postcode Directory ({exc})")]) from None
    header = pd.read_csv(io.BytesIO(raw), nrows=0, encoding="latin-1")
    picked = pick_columns(header, _ONSPD_SPEC, problems, optional=["easting", "northing", "country_code", "doterm"])
    problems.raise_if_any()
    normed = {norm(c): c for c in header.columns}
    cols = {}
    for canon in picked.columns:  # the first alias present, as pick_columns chose it
        orig = next(normed[norm(a)] for a in _ONSPD_SPEC[canon] if norm(a) in normed)
        cols[orig] = canon
    raw_df = pd.read_csv(io.BytesIO(raw), usecols=list(cols), dtype=str, keep_default_na=False, encoding="latin-1")
    df = raw_df.rename(columns=cols)
    blank = df["postcode"].str.strip().eq("")
    if blank.any():
        problems.add("pcds", f"{int(blank.sum())} blank postcodes", rows=_first_rows(blank))
    ut = df["usertype"].str.strip()
    bad_ut = ~ut.isin(["0", "1"])
    if bad_ut.any():
        problems.add("usertype", "user type must be 0 (small user) or 1 (large user)", rows=_first_rows(bad_ut),
                     examples=tuple(ut[bad_ut].head(3)))
    lsoa = df["lsoa21_code"].str.strip()
    bad_lsoa = ~(lsoa.eq("") | lsoa.str.match(LSOA.pattern) | lsoa.str.match(r"^[LMNSW]\d{8}$|^[A-Z]99999999$"))
    if bad_lsoa.any():
        problems.add("lsoa21", "not an LSOA 2021 code", rows=_first_rows(bad_lsoa),
                     examples=tuple(lsoa[bad_lsoa].head(3)))
    problems.raise_if_any()
    out = pd.DataFrame({
        "postcode": normalise_postcode(df["postcode"]),
        "lsoa21_code": lsoa.where(lsoa.str.match(LSOA.pattern), ""),
        "terminated": df["doterm"].str.strip().ne("") if "doterm" in df else False,
        "large_user": ut.eq("1"),
    })
    for c in ("easting", "northing"):
        out[c] = pd.to_numeric(df[c], errors="coerce") if c in df else np.nan
    out["country_code"] = df.get("country_code", "")
    return out.reset_index(drop=True)


def _first_rows(mask: pd.Series) -> tuple[int, ...]:
    return tuple(int(i) + 2 for i in np.flatnonzero(mask.to_numpy())[:3])  # spreadsheet rows (header = 1)


def read_sicbl_icb(path: str | Path) -> pd.DataFrame:
    """Read an ONS Sub-ICB location → ICB → NHS England region lookup (no LSOAs), e.g. April 2026.

    Returns
    -------
    pandas.DataFrame
        ``sicbl_code`` (ONS ``E38…``), ``sicbl_code_nhs``, ``sicbl_name``, ``icb_code`` (ONS ``E54…``),
        ``icb_code_nhs``, ``icb_name``, ``region_code``, ``region_name``; one row per Sub-ICB location.
    """
    problems = Problems(path)
    raw = read_csv_text(path)
    yy = next((m.group(1) for c in raw.columns if (m := re.match(r"(?i)SICBL(\d\d)CD$", str(c).strip()))), "26")
    spec = {"sicbl_code": [f"SICBL{yy}CD"], "sicbl_code_nhs": [f"SICBL{yy}CDH"], "sicbl_name": [f"SICBL{yy}NM"],
            "icb_code": [f"ICB{yy}CD"], "icb_code_nhs": [f"ICB{yy}CDH"], "icb_name": [f"ICB{yy}NM"],
            "region_code": [f"NHSER{yy}CD"], "region_name": [f"NHSER{yy}NM"]}
    df = pick_columns(raw, spec, problems, optional=["region_code", "region_name"])
    require_rows(df, problems)
    check_codes(df, "sicbl_code_nhs", problems, pattern=None, what="Sub-ICB location code")
    check_codes(df, "icb_code", problems, pattern=ICB, unique=False, what="ICB code")
    for c in df.columns:
        df[c] = df[c].astype(str).str.strip()
    return finish(problems, df.reset_index(drop=True))
