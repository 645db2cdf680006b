"""The one path every table leaves by, for the command line, the app and the precomputed answers alike.

Suppression (:mod:`targeting.suppression`, with the rules of each table in :mod:`targeting.publish.profiles`)
→ tidy numbers → escaped CSV (:mod:`targeting.publish.csv`) → source column → output folder written as a unit
(:func:`geo.files.write_folder`, :func:`write_plan`, :func:`write_your_data`).
"""

from targeting.publish.csv import table_csv, tidy_numbers, write_table
from targeting.publish.plan import PLAN_FILES, plan_files, plan_settings_text, write_plan
from targeting.publish.profiles import profile_source, profiles_csv, suppress_comparison, suppress_profiles
from targeting.publish.yourdata import write_your_data, your_data_files

__all__ = ["PLAN_FILES", "plan_files", "plan_settings_text", "profile_source", "profiles_csv",
           "suppress_comparison", "suppress_profiles", "table_csv", "tidy_numbers", "write_plan", "write_table",
           "write_your_data", "your_data_files"]
