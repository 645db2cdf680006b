"""An outreach plan's files, built once for the app's downloads and the command line alike.

:func:`plan_files` builds them, each naming its area and settings; :func:`write_plan` writes them into a folder
as a unit (:func:`geo.files.write_folder`): a failed run leaves the folder as it was, and a file of an
earlier plan that this plan does not write (``scenario.csv``) is removed rather than left beside files it does
not describe.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.files import write_folder
from targeting.publish.csv import table_csv

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PLAN_FILES", "plan_files", "plan_settings_text", "write_plan"]

#: Every file an outreach plan can write, in order.
PLAN_FILES = ("targets.csv", "rounds.csv", "rounds.geojson", "patches.geojson", "visit_sheets.html", "scenario.csv")


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
    return write_folder(out, plan_files(plan, scenario, basemap=basemap), known=PLAN_FILES)
