"""The national atlas: one join of deprivation, Census 2021, GP registrations and geography, cached.

``build()`` reads every official file through :mod:`geo.readers`, bridges LSOA vintages with
:mod:`geo.vintage` and writes GeoParquet/Parquet files under ``data/cache/atlas/``. It rebuilds only when an
input file's content (sha256), the atlas format or the code that makes it (a hash of ``geo/``) changes. ``load()``
returns an :class:`Atlas` of (Geo)DataFrames of one registration month (:mod:`geo.months`, :mod:`geo.structure`).
The tables are made by :mod:`geo._atlas_tables` and read back from the cache by :mod:`geo._atlas_cache`.

Tables
------
lsoa21
    LSOA 2021 in England (the map geography): names, LAD, Sub-ICB, ICB (April 2024), IMD 2025 and IMD 2019
    (inherited across the bridge), Census 2021 ethnicity counts and shares, households, residents aged
    40–74, disability, overcrowding, rural/urban, registered patients, and two geometries.
lsoa11
    LSOA 2011 in England (for IMD 2019 analyses): the same where it can be carried, ICB (July 2022).
practices, registrations11, registrations21, pcns, icbs, qof, qof_achievement, hypertension
    Practices with locations and list sizes; patients per practice × LSOA (2011 as published, 2021
    apportioned); PCNs; ICB names and codes; QOF registers (2022-23, 2021-22, 2020-21); QOF 2021-22 diabetes
    achievement (DM019, DM020); PHE modelled hypertension prevalence.
postcodes
    Residential English postcode units (OS Code-Point Open) placed in their LSOA 2021, with grid references and
    about how many households each (:mod:`geo.postcodes`); ``build.json`` reports how many were placed and how.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geo import _atlas_tables
from geo._atlas_cache import _MONTH_HISTORY, _month_folder, _read_month_table
from geo.editions import EDITION_YEARS, Edition
from geo.files import (
    DamagedCacheError,
    damaged_files,
    file_lock,
    record_files,
    remove_stale,
    replace_folder,
    staging_folder,
)
from geo.months import RegistrationMonth, base_month, chosen_month, months_built, registration_month
from geo.paths import MissingDataError, cache_dir, find
from geo.sources import SOURCES

if TYPE_CHECKING:  # geopandas is imported where polygons are handled, so a geometry-free load skips it
    import geopandas as gpd

__all__ = ["Atlas", "Edition", "build", "chosen_month", "input_hashes", "load", "months_built",
           "registration_month"]


_TABLES = ("lsoa21", "lsoa11", "practices", "registrations11", "registrations21", "pcns", "icbs", "qof",
           "qof_achievement", "hypertension", "lsoa_bridge", "postcodes")
_INPUTS = ("imd2019", "imd2025", "lsoa21_boundaries", "lsoa11_boundaries", "lsoa11_lsoa21", "lsoa11_icb22",
           "lsoa21_icb24", "lsoa21_lad24", "ruc21", "ts021", "ts011", "ts038", "ts052", "ts044", "ts054",
           "age6", "ts007_msoa", "mye2020", "gp_reg_lsoa", "gp_reg_map", "epcn", "codepoint", "qof_2223",
           "qof_2122", "qof_2021", "qof_2425", "qof_2122_dm", "hyp_undiagnosed", "hyp_diagnosed", "onspd",
           "epraccur", "sicbl26", "epraccur_2026", "epcn_2024")


@dataclass(eq=False)
class Atlas:
    """The loaded national atlas. Every table carries its vintage in ``meta``.

    The atlas owns its IMD editions (:meth:`edition`, :attr:`editions`). State derived from it is kept by
    :mod:`targeting.store`, per atlas, so a new atlas never sees an old one's results.
    """

    lsoa21: gpd.GeoDataFrame
    lsoa11: gpd.GeoDataFrame
    practices: gpd.GeoDataFrame
    registrations11: pd.DataFrame
    registrations21: pd.DataFrame
    pcns: pd.DataFrame
    icbs: pd.DataFrame
    qof: pd.DataFrame
    qof_achievement: pd.DataFrame
    hypertension: pd.DataFrame
    lsoa_bridge: pd.DataFrame
    postcodes: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def edition(self, imd: int | str | Edition) -> Edition:
        """Return an IMD edition (2019 or 2025) bound to this atlas: its columns, LSOA table and registrations.

        Raises
        ------
        ValueError
            If ``imd`` names no edition the atlas carries.
        """
        return Edition.of(imd, self)

    @property
    def editions(self) -> tuple[Edition, ...]:
        """Every IMD edition the atlas carries, bound to it, in :data:`geo.editions.EDITION_YEARS` order.

        Code that treats the editions alike iterates over these instead of naming a year.
        """
        return tuple(self.edition(year) for year in EDITION_YEARS)

    def edition_on(self, lsoa_vintage: int) -> Edition:
        """The edition published on an LSOA geography (2011: IoD 2019; 2021: IoD 2025), bound to the atlas.

        The maps and outreach plans are drawn on LSOA 2021; a file of LSOA 2011 codes can only carry IoD 2019.
        """
        return next(ed for ed in self.editions if ed.lsoa_vintage == lsoa_vintage)

    @property
    def month(self) -> RegistrationMonth:
        """The registration month this atlas describes, and the month its patients' LSOAs come from."""
        r = self.meta.get("registration") if isinstance(self.meta, dict) else None
        if not r:
            base = base_month()
            return RegistrationMonth(base, base)
        return RegistrationMonth(r["month"], r["lsoa_month"])


def input_hashes(keys: tuple[str, ...] = _INPUTS) -> dict[str, dict[str, str]]:
    """Return the path and sha256 of each atlas input; required inputs must exist."""
    out: dict[str, dict[str, str]] = {}
    paths: dict[str, Path] = {}
    for key in keys:
        try:
            paths[key] = find(key)
        except MissingDataError:
            if SOURCES[key].required:
                raise
    if keys == _INPUTS:  # every registration month's files too: a new month rebuilds the atlas
        from geo.months import base_month, discover

        base = base_month()
        for month, files in discover().items():
            if month != base and files.usable:
                for kind in ("map", "quin_age", "lsoa"):
                    if getattr(files, kind) is not None:
                        paths[f"{kind}_{month}"] = getattr(files, kind)
                for kind, path in _atlas_tables._ods_paths(month).items():
                    paths.setdefault(f"{kind}_{month}", path)
        known = {SOURCES[k].edition.replace("QOF ", "") for k in keys if k.startswith("qof_") and k in paths}
        for year, path in _atlas_tables._newer_qof(known).items():
            paths[f"qof_{year}"] = path
    for key, path in paths.items():
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[key] = {"path": str(path), "sha256": h.hexdigest()}
    return out


@functools.cache
def _code_hash() -> str:
    """A sha256 of the code that decides what the atlas holds (``geo/`` but the downloader): an edit rebuilds it."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted([*root.glob("*.py"), *root.glob("readers/*.py")]):
        if path.name not in ("fetch.py", "files.py", "_errors.py"):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _atlas_dir() -> Path:
    return cache_dir() / "atlas"


def _current_meta() -> dict | None:
    meta = _atlas_dir() / "build.json"
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def build(*, force: bool = False, progress: bool = True, expect_national: bool = True) -> Path:
    """Build the national atlas cache if any input changed; return its folder.

    Parameters
    ----------
    force
        Rebuild even if the inputs are unchanged.
    progress
        Print a progress bar on stderr.
    expect_national
        The inputs are the national files, so checks that hold only for the whole of England apply (IoD
        ranks run 1..rows). ``False`` builds a small atlas from extracts of the published files (the test
        suite's fixture, ``tests/small_atlas.py``): such checks are skipped, every other check still applies,
        and ``build.json`` records ``"national": false``.

    Notes
    -----
    The build writes into a temporary folder beside the cache and swaps it in with an atomic rename while
    holding an exclusive lock, so a reader never sees a half-written atlas and two builds cannot interleave.
    """
    import geopandas as gpd

    hashes = input_hashes()
    target = _atlas_dir()
    with file_lock(cache_dir() / ".atlas.lock", waiting="Waiting for another build to finish…"):
        remove_stale(cache_dir(), ".atlas-")  # folders of a build that was killed (we hold the lock)
        meta = _current_meta()
        if (not force and meta and meta.get("code") == _code_hash()
                and meta.get("inputs") == hashes
                and meta.get("national", True) == expect_national):
            damaged = damaged_files(target, meta.get("files"), full=True)
            if not damaged:
                if progress:
                    print(f"Atlas is up to date ({target}).", file=sys.stderr)
                return target
            print(f"Atlas cache damaged, rebuilding: {', '.join(damaged[:5])}"
                  + (f" and {len(damaged) - 5} more" if len(damaged) > 5 else ""), file=sys.stderr)
        t0 = time.perf_counter()
        tables = _atlas_tables._build_tables(_atlas_tables._Progress(progress, 14), national=expect_national)
        months = tables.pop("months", {})
        pc = tables.get("postcodes")
        stats = {"postcodes": dict(pc.attrs.pop("placement", {}))} if pc is not None else {}
        tmp = staging_folder(cache_dir(), ".atlas-")
        try:
            def write(name: str, df: pd.DataFrame) -> None:
                if isinstance(df, gpd.GeoDataFrame):
                    df.to_parquet(tmp / f"{name}.parquet", write_covering_bbox=False)
                else:
                    df.to_parquet(tmp / f"{name}.parquet", index=False)

            jobs = list(tables.items())
            for month, parts in months.items():
                (tmp / "months" / month).mkdir(parents=True)
                jobs += [(f"months/{month}/{name}", df) for name, df in parts.items()]
            with ThreadPoolExecutor(2) as pool:  # Arrow encodes and compresses outside the GIL
                for done in [pool.submit(write, name, df) for name, df in jobs]:
                    done.result()
            meta = {"code": _code_hash(), "national": expect_national, "inputs": hashes,
                    "registrations": _atlas_tables._months_meta(months),
                    "built_seconds": round(time.perf_counter() - t0, 1),
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "counts": {k: len(v) for k, v in tables.items()}, "postcodes": stats.get("postcodes", {})}
            meta["files"] = record_files(tmp, skip=("derived",))
            (tmp / "build.json").write_text(json.dumps(meta, indent=1))
            replace_folder(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        if progress:
            print(_postcode_report(stats.get("postcodes", {})), file=sys.stderr)
            print(f"Atlas built in {time.perf_counter() - t0:.1f}s → {target}", file=sys.stderr)
    return target


def _postcode_report(st: dict) -> str:
    """One paragraph on how the postcodes were placed, for ``build`` to print."""
    if not st:
        return "Postcodes: none placed."
    methods = ", ".join(f"{v:,} {k}" for k, v in st.get("by_method", {}).items())
    left = "; ".join(f"{v:,} left out: {k}" for k, v in st.get("left_out", {}).items() if v)
    return (f"Postcodes: {st['placed']:,} of {st['english']:,} English Code-Point Open postcodes placed in an "
            f"LSOA 2021 "
            f"({st['placed_pct']:.2f}%; {methods}); {st['near_boundary']:,} lie within {st['near_boundary_m']:g} m of "
            f"an LSOA boundary, where generalised boundaries could misplace them; {st['no_coordinates']:,} have no "
            f"grid reference; {st['outside_every_lsoa']:,} fall outside every LSOA"
            + (f"; {left}" if left else "") + f". {st['limits']}")


class _LazyAtlas(Atlas):
    """An atlas without geometry whose tables are read from the cache on first use.

    A command line that answers one question touches a few tables; reading only those is most of a cold start.
    """

    def __getattr__(self, name: str) -> pd.DataFrame:
        folder = self.__dict__.get("_folder")
        month = self.__dict__.get("_month")
        if folder is not None and (name in _TABLES or (name in _MONTH_HISTORY and month is not None)):
            table = _read_month_table(folder, month, name, geometry=False)
            setattr(self, name, table)
            return table
        raise AttributeError(name)


def _load_uncached(folder: Path, *, geometry: bool = True, registrations: str | None = None) -> Atlas:
    build_meta = json.loads((folder / "build.json").read_text())
    damaged = damaged_files(folder, build_meta.get("files"))  # sizes only: a stat per file
    if damaged:
        raise DamagedCacheError(f"The atlas cache at {folder} is damaged: {', '.join(damaged[:3])}"
                                + (f" and {len(damaged) - 3} more" if len(damaged) > 3 else "")
                                + ". Run `python -m targeting build` to rebuild it.")
    rm = registration_month(build_meta, registrations)
    base = (build_meta.get("registrations") or {}).get("base") or rm.month
    month = None if rm.month == base else rm.month
    folder_for_derived = str(folder if month is None else _month_folder(folder, month))
    meta = {**build_meta, "geometry": geometry, "folder": folder_for_derived,
            "registration": {"month": rm.month, "lsoa_month": rm.lsoa_month, "label": rm.label,
                             "statement": rm.statement, "title": rm.title, "base": base}}
    if not geometry:
        lazy = _LazyAtlas.__new__(_LazyAtlas)
        lazy._folder = folder
        lazy._month = month
        lazy.meta = meta
        return lazy
    atlas = Atlas(**{name: _read_month_table(folder, month, name, geometry=True) for name in _TABLES}, meta=meta)
    if month is not None:
        for name in _MONTH_HISTORY:
            setattr(atlas, name, _read_month_table(folder, month, name, geometry=False))
    return atlas


def load(*, build_if_missing: bool = True, progress: bool = True, geometry: bool = True,
         registrations: str | None = None) -> Atlas:
    """Load the atlas, building it first if it is missing or any input changed.

    Parameters
    ----------
    build_if_missing
        Build the atlas when there is none (else raise :class:`MissingDataError`).
    progress
        Show the build's progress bar.
    geometry
        Decode the LSOA polygons and practice points. ``False`` gives plain DataFrames without geometry
        columns, read table by table on first use, for tables and command lines that draw nothing.
    registrations
        The registration month ``YYYY-MM`` whose NHS the atlas describes (practices, PCNs, ICBs, list sizes and
        patients by LSOA; :mod:`geo.structure`). None: ``$CORE20_REGISTRATIONS``, else the newest month built.
        ``atlas.month`` says which month it is and where its patients' LSOAs come from.

    Notes
    -----
    Each call returns a new :class:`Atlas`; keep it for the life of the process (the app holds one in
    ``st.cache_resource``). Treat its tables as read-only.
    """
    meta = _current_meta()
    if meta is None or meta.get("code") != _code_hash():
        if not build_if_missing:
            raise MissingDataError(f"No atlas at {_atlas_dir()}; run `python -m targeting build`.")
        build(progress=progress)
    return _load_uncached(_atlas_dir(), geometry=geometry, registrations=registrations)
