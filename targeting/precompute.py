"""Answers precomputed at ``build``: every ICB's map and the default PCN and practice profiles, in both editions.

A question with the default settings (the default PLUS rule, gaps included) then costs a file read: an ICB's map
parts are one JSON file (:func:`targeting.area_maps.icb_parts`), a PCN's map is its ICB's map seen from the PCN
(its zoom is stored too), and the profile tables are Parquet files read with a filter on the ICB. Other settings
are computed on demand as before, by the same functions, so a stored answer and a computed one are identical.

The answers live in ``<cache>/answers/`` beside the atlas. They are tied to the atlas build they came from and to
the code that made them (a hash of the ``targeting`` sources): after either changes they are ignored, and made
again by the next ``build`` (or the first command that needs them).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.files import file_lock, remove_stale, replace_folder, staging_folder

if TYPE_CHECKING:  # a command that prints a stored answer imports no pandas
    import pandas as pd

    from targeting.scope import Scope

__all__ = ["Answers", "answers_damage", "build_answers", "finished_profiles", "open_answers"]


def _folder(month: str | None = None) -> Path:
    """The answers of a registration month (None: the month chosen now): ``<cache>/answers/<YYYY-MM>/``."""
    from geo.months import chosen_month
    from geo.paths import cache_dir

    return cache_dir() / "answers" / chosen_month(month)


def _code_hash() -> str:
    from targeting.store import code_hash

    # the code that makes the answers: the domain, the rendering (templates too: the start page's map is stored
    # rendered), and how a table is published: every module of the package, at any depth
    return code_hash("**/*.py", "render/static/*", "render/templates/*")


def _stamp(month: str) -> dict[str, str] | None:
    """What the answers must match: the atlas build (its build.json), the registration month and the code."""
    from geo.paths import cache_dir

    meta = cache_dir() / "atlas" / "build.json"
    if not meta.is_file():
        return None
    return {"atlas": hashlib.sha256(meta.read_bytes()).hexdigest()[:16], "month": month, "code": _code_hash()}


@dataclass
class Answers:
    """Read access to the precomputed answers (see the module's docstring)."""

    folder: Path
    _bounds: dict[str, Any] | None = field(default=None, repr=False)

    def map_parts(self, icb_nhs: str, imd: int) -> dict[str, Any] | None:
        """The parts of an ICB's map with the default settings, or None if it is not stored."""
        path = self.folder / "maps" / f"{icb_nhs}_{imd}.json"
        return _json(path, dict) if path.is_file() else None

    def pcn_bounds(self, pcn_code: str) -> list[list[float]] | None:
        """Where a PCN's map zooms to (where most of its patients live; None: nowhere known).

        Raises
        ------
        KeyError
            If the PCN is not stored.
        """
        if self._bounds is None:
            self._bounds = _json(self.folder / "maps" / "pcn_bounds.json", dict)
        return self._bounds[pcn_code]

    def national(self) -> dict[str, Any] | None:
        """The start page's national map and its table (:func:`targeting.render.national.national_answer`)."""
        path = self.folder / "national.json"
        return _json(path, dict) if path.is_file() else None

    @functools.cached_property
    def index(self) -> dict[str, Any]:
        """ICB codes (ONS and NHS) → NHS code, ICB names, PCN code → (ICB, name); see :func:`_index`."""
        index = _json(self.folder / "index.json", dict)
        if not all(isinstance(index.get(k), dict) for k in ("icb", "icb_name", "pcn")):
            raise _damaged(self.folder / "index.json", "not the index of ICB and PCN codes")
        return index

    def icb_of(self, text: str) -> str | None:
        """The NHS code of the ICB a command was given by its exact ONS or NHS code (None: resolve in full)."""
        return self.index["icb"].get(str(text).strip().upper())

    def pcns_csv(self, icb_nhs: str, imd: int) -> str | None:
        """What ``pcns`` prints for an ICB with the default settings, or None."""
        path = self.folder / f"csv_{imd}.json"
        if not path.is_file():
            return None
        texts = _json(path, dict).get("pcns")
        if not isinstance(texts, dict):
            raise _damaged(path, "no 'pcns' table texts")
        return texts.get(icb_nhs)

    def map_payload(self, kind: str, code: str, imd: int, initial: str | None = None) -> tuple[str, str] | None:
        """(payload, area name) of an ICB's or PCN's map with the default settings, given by exact code.

        The same payload :func:`targeting.area_maps.area_map` makes (it reads the same parts), with nothing
        but json: None when the code is not an exact ICB or PCN code, so the caller resolves it in full.
        """
        from targeting.render.parts import join_parts, view_parts

        if kind == "icb":
            nhs = self.icb_of(code)
            if nhs is None:
                return None
            name = self.index["icb_name"][nhs]
        else:
            hit = self.index["pcn"].get(str(code).strip().upper())
            if hit is None:
                return None
            nhs, name = hit
        parts = self.map_parts(nhs, imd)
        if parts is None:
            return None
        if kind == "pcn":
            code = str(code).strip().upper()
            parts = view_parts(parts, "pcn", code, self.pcn_bounds(code), parts["pcn_practices"].get(code))
        return join_parts(parts, initial), name

    def profiles(self, kind: str, scope: Scope) -> pd.DataFrame | None:
        """A default profile table (``kind`` ``"pcns"`` or ``"practices"``) of an ICB or a PCN, with the gaps.

        Rows and columns are those of :func:`finished_profiles` for the same scope (its PLUS rules the default).
        """
        import pyarrow.parquet as pq

        area = scope.area
        icb_nhs = area.icb_code_nhs if area is not None and area.kind == "icb" else None
        pcn_code = area.code if area is not None and area.kind == "pcn" else None
        path = self.folder / f"{kind}_{scope.imd}.parquet"
        if not path.is_file():
            return None
        filters = ([("icb_code_nhs", "=", icb_nhs)] if icb_nhs else []) + (
            [("pcn_code", "=", pcn_code)] if pcn_code else [])
        try:
            return pq.read_table(path, filters=filters or None).to_pandas().reset_index(drop=True)
        except (OSError, ValueError) as exc:  # pyarrow's errors are one or the other
            raise _damaged(path, exc) from None


def _damaged(path: Path, why: object) -> Exception:
    from geo.files import DamagedCacheError

    return DamagedCacheError(f"{path} cannot be read ({str(why)[:160]}): the precomputed answers are damaged; run "
                             "`python -m targeting build` to make them again.")


def _json(path: Path, kind: type) -> Any:
    """A stored JSON file of the expected kind, or a DamagedCacheError naming it."""
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise _damaged(path, exc) from None
    if not isinstance(value, kind):
        raise _damaged(path, f"a {type(value).__name__}, not a {kind.__name__}")
    return value


def answers_damage(registrations: str | None = None) -> list[str]:
    """The stored answers files of a month that are missing, cut or changed since they were written (sha256)."""
    from geo.files import damaged_files

    try:
        folder = _folder(registrations)
        meta = json.loads((folder / "build.json").read_text())
    except (OSError, ValueError):
        return []
    return damaged_files(folder, meta.get("files"), full=True) if isinstance(meta, dict) else []


def open_answers(*, build_if_missing: bool = False, progress: bool = False,
                 registrations: str | None = None) -> Answers | None:
    """The answers for the current atlas, registration month and code, or None if there are none (or out of date).

    Parameters
    ----------
    registrations
        The registration month (None: the month chosen for this process, see :func:`geo.months.default_month`).
    build_if_missing
        Make them first when they are missing or out of date (takes as long as computing every ICB once).
    progress
        Print what is being made on stderr.
    """
    from geo.paths import MissingDataError

    try:
        folder = _folder(registrations)
    except (ValueError, MissingDataError):
        return None
    month = folder.name
    stamp = _stamp(month)
    meta = folder / "build.json"
    if stamp is not None and meta.is_file():
        from geo.files import damaged_files

        try:
            kept = json.loads(meta.read_text())
            # sizes only (a stat per file): build reads every byte (answers_damage)
            if kept.get("stamp") == stamp and not damaged_files(folder, kept.get("files")):
                return Answers(folder)
        except (OSError, ValueError, AttributeError):
            pass
    if not build_if_missing:
        return None
    build_answers(progress=progress, registrations=month)
    return Answers(folder)


def finished_profiles(scope: Scope, kind: str, *, gaps: bool = True) -> pd.DataFrame:
    """PCN or practice profiles with the gap columns, as ``pcns`` and ``practices`` print them (before the source).

    Parameters
    ----------
    scope
        The area, edition and PLUS rules (see :func:`targeting.profiles.pcn_profiles` and
        :func:`targeting.profiles.practice_profiles`); geometry is not needed.
    kind
        ``"pcns"`` or ``"practices"``.
    gaps
        Add the gap columns (:func:`targeting.gaps.pcn_gaps`, :func:`targeting.gaps.practice_gaps`).
    """
    from targeting.profiles import pcn_profiles, practice_profiles

    if kind == "pcns":
        table, key = pcn_profiles(scope), "pcn_code"
        # as Compare places lists them: most deprived first (registration-weighted IMD score), never by a result
        table = table.sort_values(["weighted_imd_score", "pcn_code"], ascending=[False, True], ignore_index=True)
    else:
        table, key = practice_profiles(scope), "practice_code"
    if gaps and not table.empty:
        from targeting.gaps import pcn_gaps, practice_gaps

        g = (pcn_gaps if key == "pcn_code" else practice_gaps)(scope.edition, list(table[key]))
        table = table.merge(g.drop(columns=[c for c in g.columns if c in table.columns and c != key]),
                            on=key, how="left")
    return table


def _pcn_bounds(atlas: Any) -> dict[str, list[list[float]] | None]:
    """Where each PCN's map zooms to, exactly as :func:`targeting.maps.area_lsoas` computes it, for all at once.

    The LSOAs holding the first 80% of a PCN's registered patients (most patients first, ties by LSOA code) and
    their extent; None where the PCN has no registered patients in an LSOA 2021.
    """
    import pandas as pd
    import shapely


    t = atlas.lsoa21
    box = pd.DataFrame(shapely.bounds(t["geometry_web"].values), index=t["lsoa_code"].to_numpy(),
                       columns=["x0", "y0", "x1", "y1"])
    pcn_of = atlas.practices.set_index("practice_code")["pcn_code"]
    reg = atlas.registrations21
    g = (reg.assign(_pcn=pcn_of.reindex(reg["practice_code"]).to_numpy()).dropna(subset=["_pcn"])
         .groupby(["_pcn", "lsoa_code"])["patients"].sum().reset_index()
         .sort_values(["_pcn", "patients", "lsoa_code"], ascending=[True, False, True]))  # most patients first
    frame = g.rename(columns={"_pcn": "pcn", "lsoa_code": "lsoa", "patients": "p"}).reset_index(drop=True)
    before = frame.groupby("pcn")["p"].cumsum() - frame["p"]  # patients in the LSOAs ranked above
    total = frame.groupby("pcn")["p"].transform("sum").clip(lower=1)
    kept = frame[(before / total < 0.8).to_numpy()]
    b = box.reindex(kept["lsoa"].to_numpy()).assign(pcn=kept["pcn"].to_numpy()).groupby("pcn").agg(
        {"x0": "min", "y0": "min", "x1": "max", "y1": "max"}).dropna()
    known = sorted(set(atlas.pcns["pcn_code"]) - {"U"})
    out: dict[str, list[list[float]] | None] = dict.fromkeys(known)
    for code, r in b.iterrows():
        if code in out:
            out[str(code)] = [[float(r["y0"]), float(r["x0"])], [float(r["y1"]), float(r["x1"])]]
    return out


def _index(atlas: Any, icbs: list[str]) -> dict[str, Any]:
    """Codes a command may be given, each checked against the resolvers: ICB (ONS or NHS) → NHS code, names."""
    from targeting.areas import display_name, resolve_area, resolve_icb

    icb: dict[str, str] = {}
    for row in atlas.icbs.itertuples(index=False):
        for code in (str(row.icb_code), str(row.icb_code_nhs)):
            try:
                nhs = str(resolve_icb(atlas, code)["icb_code_nhs"])
            except LookupError:
                continue
            if nhs in icbs:
                icb[code.upper()] = nhs
    names = {nhs: resolve_area(atlas, "icb", nhs).name for nhs in icbs}
    # what resolve_area gives for a PCN's exact code, read off its row (resolving 1,250 codes one by one takes 7 s)
    pcns = {}
    for row in atlas.pcns.sort_values("pcn_code").itertuples(index=False):
        if row.pcn_code != "U" and row.icb_code_nhs in icbs:  # a PCN of no known ICB (NaN) is left out
            pcns[str(row.pcn_code)] = [str(row.icb_code_nhs), display_name(row.pcn_name)]
    return {"icb": icb, "icb_name": names, "pcn": pcns}


def _csv_texts(table: pd.DataFrame, scope: Scope) -> dict[str, dict[str, str]]:
    """What ``pcns --icb X --imd …`` prints with the default settings, for every ICB.

    ``table`` is :func:`finished_profiles` of every PCN with the default settings.
    """
    from targeting.publish import profiles_csv

    return {"pcns": {str(nhs): profiles_csv(t.reset_index(drop=True), scope.edition, month=scope.month)
                     for nhs, t in table.groupby("icb_code_nhs", sort=True)}}


_JOB: dict[str, Any] = {}  # what the forked workers of build_answers read


def _icb_maps(icb: str) -> tuple[str, dict[int, str]]:
    """An ICB's map parts in both editions, as JSON texts (one worker's job; the LSOA topology is made once)."""
    from targeting.area_maps import icb_parts
    from targeting.render.payload import practices_overlay
    from targeting.render.topology import build_topology
    from targeting.scope import make_scope

    atlas = _JOB["atlas"]
    scopes = {imd: make_scope(atlas, imd=imd, kind="icb", code=icb) for imd in (2025, 2019)}
    topo = build_topology(scopes[2025].icb_lsoas["geometry_web"].values)
    pcns = sorted(set(atlas.pcns.loc[atlas.pcns["icb_code_nhs"] == icb, "pcn_code"]) - {"U"})
    pr = atlas.practices[atlas.practices["pcn_code"].isin(pcns)]
    by_pcn = dict(list(pr.groupby("pcn_code", sort=False)))
    # None for a PCN with no practices
    own = {code: practices_overlay(by_pcn.get(code), month=atlas.month.label) for code in pcns}
    out = {}
    for imd, scope in scopes.items():
        parts = icb_parts(scope, gap_tables=_JOB["gaps"], topology=topo)
        out[imd] = json.dumps({**parts, "pcn_practices": own})
    return icb, out


def build_answers(atlas: Any = None, *, progress: bool = True, registrations: str | None = None) -> Path:
    """Precompute every ICB's map (both editions, default settings) and the default profile tables.

    Of one registration month: the atlas's, else ``registrations`` (None: the month chosen for this process).
    Written into a temporary folder and swapped in with one rename, so a reader never sees half the answers.
    Returns the folder.
    """
    from geo.atlas import load

    t0 = time.perf_counter()
    month = atlas.month.month if atlas is not None else registrations
    if atlas is None or not atlas.meta.get("geometry", True):
        atlas = load(progress=False, registrations=month)
    target = _folder(atlas.month.month)
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.parent / ".answers.lock", waiting="Waiting for another build of the answers to finish…"):
        for folder in (target.parent, target.parent.parent):  # folders of a killed build (we hold the lock),
            remove_stale(folder, ".answers-")  # here, or beside the cache as before answers were kept per month
        _build_answers(atlas, target, t0, progress=progress)
    if progress:
        print(f"Answers precomputed in {time.perf_counter() - t0:.1f}s → {target}", file=sys.stderr)
    return target


def _build_answers(atlas: Any, target: Path, t0: float, *, progress: bool) -> None:
    stamp = _stamp(atlas.month.month)
    tmp = staging_folder(target.parent, ".answers-")
    try:
        (tmp / "maps").mkdir()
        icbs = sorted(set(atlas.lsoa21["icb_code_nhs"].dropna()))
        from targeting.footprints import pcn_footprints
        from targeting.maps import national_gaps
        from targeting.scope import make_scope

        england = {imd: make_scope(atlas, imd=imd) for imd in (2025, 2019)}
        _JOB.update(atlas=atlas, gaps=national_gaps(england[2025]))
        for scope in england.values():
            pcn_footprints(scope.edition)  # made once, before the workers fork
        import multiprocessing

        workers = max(1, min(2, os.cpu_count() or 1))
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            jobs = [pool.submit(_icb_maps, icb) for icb in icbs]
            # the profiles and zooms are made here meanwhile
            for imd, scope in england.items():
                pcns = finished_profiles(scope, "pcns")
                pcns.to_parquet(tmp / f"pcns_{imd}.parquet", index=False)
                (tmp / f"csv_{imd}.json").write_text(json.dumps(_csv_texts(pcns, scope)))
                finished_profiles(scope, "practices").to_parquet(tmp / f"practices_{imd}.parquet", index=False)
            (tmp / "maps" / "pcn_bounds.json").write_text(json.dumps(_pcn_bounds(atlas)))
            (tmp / "index.json").write_text(json.dumps(_index(atlas, icbs)))
            from targeting.national import national_answer

            (tmp / "national.json").write_text(json.dumps(national_answer(england[2025])))  # the start page's map
            for k, job in enumerate(as_completed(jobs), 1):
                icb, texts = job.result()
                for imd, text in texts.items():
                    (tmp / "maps" / f"{icb}_{imd}.json").write_text(text)
                if progress:
                    print(f"\rprecomputing maps: {k}/{len(icbs)} ICBs", end="", file=sys.stderr, flush=True)
        _JOB.clear()
        if progress:
            print("", file=sys.stderr)
        from geo.files import record_files

        (tmp / "build.json").write_text(json.dumps({"stamp": stamp, "seconds": round(time.perf_counter() - t0, 1),
                                                    "files": record_files(tmp)}))
        replace_folder(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
