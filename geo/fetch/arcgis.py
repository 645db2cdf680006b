"""ArcGIS FeatureServer layers, queried page by page and written as a GeoPackage or a gzipped CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path, PurePosixPath
from typing import Any

from geo.fetch.formats import _gzip_writer
from geo.fetch.http import _FetchError, _get_json
from geo.fetch.manifest import _Job, _TempFiles
from geo.fetch.report import _Report
from geo.sources import Source

_ARCGIS_PAGE_SIZE = 2000  # ArcGIS servers cap pages at their maxRecordCount anyway
_ARCGIS_MAX_PAGES = 10_000


def _fetch_arcgis(src: Source | _Job, url: str, temps: _TempFiles, timeout: float, report: _Report,
                  ends: float | None = None) -> Path:
    """Query a FeatureServer layer page by page and write it in the catalogue's form."""
    features = _arcgis_features(src.key, url.rstrip("/"), timeout, report, ends)
    out = temps.new()
    relpath = src.relpath.lower()
    if relpath.endswith(".gpkg"):
        _write_gpkg(features, out, PurePosixPath(src.relpath).stem)
    elif relpath.endswith(".csv.gz"):
        _write_csv_gz([f.get("properties") or {} for f in features], out)
    else:
        raise _FetchError(f"cannot write an ArcGIS layer as {PurePosixPath(src.relpath).name}")
    return out


def _arcgis_features(key: str, base: str, timeout: float, report: _Report,
                     ends: float | None = None) -> list[dict[str, Any]]:
    """Return every feature of the layer at ``base``, following ``exceededTransferLimit``."""
    try:
        total: int | None = int(_get_json(f"{base}/query?where=1%3D1&returnCountOnly=true&f=json",
                                          timeout, ends)["count"])
    except (_FetchError, KeyError, TypeError, ValueError):
        total = None  # the count only feeds the progress bar and a final check
    features: list[dict[str, Any]] = []
    for _ in range(_ARCGIS_MAX_PAGES):
        page = _get_json(
            f"{base}/query?where=1%3D1&outFields=*&f=geojson"
            f"&resultOffset={len(features)}&resultRecordCount={_ARCGIS_PAGE_SIZE}",
            timeout, ends,
        )
        if not isinstance(page, dict):
            raise _FetchError("the layer query did not return a GeoJSON object", retry=True)
        got = page.get("features") or []
        features.extend(got)
        report(key, len(features), total, "features")
        props = page.get("properties") if isinstance(page.get("properties"), dict) else {}
        more = bool(page.get("exceededTransferLimit") or props.get("exceededTransferLimit"))
        if not got or (not more and len(got) < _ARCGIS_PAGE_SIZE):
            break
    else:
        raise _FetchError(f"still more features after {_ARCGIS_MAX_PAGES:,} pages")
    if not features:
        raise _FetchError("the layer returned no features")
    if total is not None and len(features) != total:
        raise _FetchError(f"got {len(features):,} of {total:,} features", retry=True)
    return features


def _write_gpkg(features: list[dict[str, Any]], out: Path, layer: str) -> None:
    """Write GeoJSON features as a one-layer GeoPackage in EPSG:4326 and check it reads back."""
    import geopandas as gpd
    import pyogrio

    gdf = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    if gdf.geometry.isna().all():
        raise _FetchError("the layer's features have no geometry")
    gdf.to_file(out, driver="GPKG", layer=layer, engine="pyogrio")
    written = pyogrio.read_info(out, layer=layer)["features"]
    if written != len(features):
        raise _FetchError(f"the GeoPackage holds {written:,} of {len(features):,} features")


def _write_csv_gz(rows: list[dict[str, Any]], out: Path) -> None:
    """Write attribute rows as a gzipped CSV, columns in first-seen order, nulls empty."""
    fields: dict[str, None] = {}
    for row in rows:
        fields.update(dict.fromkeys(row))
    with _gzip_writer(out) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        writer = csv.DictWriter(text, fieldnames=list(fields), restval="")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
