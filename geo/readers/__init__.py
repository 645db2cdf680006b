"""Readers for each publisher's official formats.

Every reader takes the path of a file as published (CSV, gzipped CSV, a zip holding the CSV, xlsx,
GeoPackage or GeoJSON), checks its schema, code formats and counts, and returns a DataFrame with the
tool's canonical column names. Problems are collected and raised together as one
:class:`geo._errors.ValidationError` naming the file, the column and the first offending rows.
"""

import importlib
from typing import Any

from geo._errors import ValidationError

# Each reader is imported on first use, so a command that reads only the cached atlas does not pay for
# geopandas, openpyxl and the rest at start-up.
_WHERE = {
    "read_age6": "census", "read_census_table": "census", "read_mye_single_year": "census",
    "read_ts007_msoa": "census", "read_ts021": "census", "read_iod": "iod", "read_epcn": "nhs",
    "read_epcn_history": "nhs", "read_epraccur": "nhs", "read_gp_registrations": "nhs",
    "read_hypertension_estimates": "nhs",
    "read_practice_map": "nhs", "read_qof_dm_achievement": "nhs", "read_qof_prevalence": "nhs",
    "read_quin_age": "nhs", "read_sicbl_icb": "ons", "unknown_lsoa_patients": "nhs",
    "read_boundaries": "ons",
    "read_icb_boundaries": "ons", "read_lsoa11_lsoa21": "ons", "read_lsoa21_lad": "ons", "read_lsoa_icb": "ons",
    "read_oa11_lookup": "ons", "read_onspd": "ons", "read_ruc": "ons", "read_codepoint": "os",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"geo.readers.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'geo.readers' has no attribute '{name}'")


__all__ = [
    "ValidationError",
    "read_age6",
    "read_boundaries",
    "read_census_table",
    "read_codepoint",
    "read_epcn",
    "read_epcn_history",
    "read_epraccur",
    "read_gp_registrations",
    "read_hypertension_estimates",
    "read_icb_boundaries",
    "read_iod",
    "read_lsoa11_lsoa21",
    "read_lsoa21_lad",
    "read_lsoa_icb",
    "read_mye_single_year",
    "read_oa11_lookup",
    "read_onspd",
    "read_practice_map",
    "read_qof_dm_achievement",
    "read_qof_prevalence",
    "read_quin_age",
    "read_ruc",
    "read_sicbl_icb",
    "read_ts007_msoa",
    "read_ts021",
    "unknown_lsoa_patients",
]
