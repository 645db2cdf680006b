"""Readers for each publisher's official formats.

Every reader takes the path of a file as published (CSV, gzipped CSV, a zip holding the CSV, xlsx,
GeoPackage or GeoJSON), checks its schema, code formats and counts, and returns a DataFrame with the
tool's canonical column names. Problems are collected and raised together as one
:class:`geo._errors.ValidationError` naming the file, the column and the first offending rows.
"""

from geo._errors import ValidationError
from geo.readers.census import (
    read_age6,
    read_census_table,
    read_mye_single_year,
    read_ts007_msoa,
    read_ts021,
)
from geo.readers.iod import read_iod
from geo.readers.nhs import (
    read_epcn,
    read_epraccur,
    read_gp_registrations,
    read_hypertension_estimates,
    read_practice_map,
    read_qof_prevalence,
)
from geo.readers.ons import (
    read_boundaries,
    read_icb_boundaries,
    read_lsoa11_lsoa21,
    read_lsoa21_lad,
    read_lsoa_icb,
    read_oa11_lookup,
    read_ruc,
)
from geo.readers.os import read_codepoint

__all__ = [
    "ValidationError",
    "read_age6",
    "read_boundaries",
    "read_census_table",
    "read_codepoint",
    "read_epcn",
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
    "read_practice_map",
    "read_qof_prevalence",
    "read_ruc",
    "read_ts007_msoa",
    "read_ts021",
]
