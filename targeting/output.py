"""The files the tool writes, built once for the app's downloads and the command line alike.

:func:`table_csv` is how every table becomes CSV (whole-number floats as integers, booleans as true/false,
formula cells escaped by :func:`geo.files.csv_text`). :func:`plan_files` builds an outreach plan's files, each
naming its area and settings, and :func:`write_plan` writes them into a folder as a unit
(:func:`geo.files.output_folder`): a failed run leaves the folder as it was, and a file of an earlier plan that
this plan does not write (``scenario.csv``) is removed rather than left beside files it does not describe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.files import csv_text, output_folder

__all__ = ["PLAN_FILES", "plan_files", "plan_settings_text", "table_csv", "tidy_numbers", "write_plan"]

#: Every file an outreach plan can write, in order.
PLAN_FILES = ("targets.csv", "rounds.csv", "rounds.geojson", "patches.geojson", "visit_sheets.html", "scenario.csv")


def tidy_numbers(df: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Whole-number float columns become integers (counts), other floats are rounded for reading."""
    if not len(df.columns):
        return df.copy()
    cols = {}
    for i in range(len(df.columns)):
        col = df.iloc[:, i]
        if pd.api.types.is_float_dtype(col) and not isinstance(col.dtype, pd.SparseDtype):
            v = col.to_numpy(dtype=float, na_value=np.nan)
            finite = v[~np.isnan(v)]
            if finite.size and (finite % 1 == 0).all() and np.abs(finite).max() < 2**53:
                col = col.astype("Int64")
            else:
                col = col.round(decimals)
        cols[i] = col
    frame = pd.concat(cols, axis=1)  # one frame, not a column set at a time
    frame.columns = df.columns
    frame.attrs = dict(df.attrs)
    return frame


def table_csv(df: pd.DataFrame, *, decimals: dict[str, int] | None = None) -> str:
    """CSV text of a table: tidy numbers, booleans as ``true``/``false``, formula cells escaped.

    ``decimals`` rounds the named columns to their own number of places (e.g. 6 for coordinates) instead of
    the 3 of :func:`tidy_numbers`; they stay numbers.
    """
    frame = tidy_numbers(df)
    for c, places in (decimals or {}).items():
        frame[c] = pd.to_numeric(df[c], errors="coerce").astype(float).round(places).to_numpy()
    for c in frame.columns:
        if frame[c].dtype == bool:
            frame[c] = frame[c].map({True: "true", False: "false"})
    return csv_text(frame)


def plan_settings_text(plan: Any) -> str:
    """A plan's settings in one line (written into every table of the plan)."""
    s = plan.settings
    weights = ",".join(f"{k}={v:g}" for k, v in s["weights"].items())
    cut = f"; score cut {s['score_cut']:g}" if s.get("score_cut") is not None else ""
    order = "deprivation first" if s.get("order") == "deprivation" else f"weights {weights}"
    return (f"{s.get('mode', 'campaign')}: {s['connectors']} connector(s), {s['capacity_per_month']:g} households "
            f"per connector per month, {s['months']:g} months"
            + (f" from {s['start']}" if s.get("start") else "") + f"; order {order}; IMD {s['imd']}{cut}; "
            f"PLUS = {s['plus_rules']}" + (f"; registrations: {s['registrations']}" if s.get("registrations") else ""))


def plan_files(plan: Any, scenario: pd.DataFrame | None = None, *, basemap: str | None = None) -> dict[str, bytes]:
    """File name → bytes of an outreach plan: targets, rounds, patches, visit sheets and (if given) the scenario.

    Each table carries ``area`` and ``settings`` columns (except ``rounds.csv``, whose columns are fixed:
    :data:`targeting.outreach.ROUND_COLUMNS`), the GeoJSON its ``name`` and ``settings``, and the visit sheets
    their heading, so a file read on its own still says what it describes. ``basemap`` (a key of
    :data:`targeting.render.visit_sheets.BASEMAPS`) draws street tiles under the sheets' maps; ``None`` keeps them
    offline.
    """
    from targeting.render.visit_sheets import visit_sheets_html

    area, settings = plan.area["label"], plan_settings_text(plan)
    files = {"targets.csv": table_csv(plan.targets_table().assign(area=area, settings=settings)),
             "rounds.csv": table_csv(plan.rounds_table(), decimals={"lat": 6, "lon": 6}),
             "rounds.geojson": plan.rounds_geojson() + "\n",
             "patches.geojson": plan.patches_geojson() + "\n",
             "visit_sheets.html": visit_sheets_html(plan, scenario=scenario, basemap=basemap)}
    if scenario is not None:
        files["scenario.csv"] = table_csv(scenario.assign(area=area, settings=settings))
    return {k: v.encode("utf-8") for k, v in files.items()}


def write_plan(plan: Any, out: str | Path, scenario: pd.DataFrame | None = None, *,
               basemap: str | None = None) -> list[Path]:
    """Write :func:`plan_files` into the folder ``out`` as a unit; return the paths written."""
    out = Path(out)
    files = plan_files(plan, scenario, basemap=basemap)
    with output_folder(out, known=PLAN_FILES) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return [out / name for name in files]
