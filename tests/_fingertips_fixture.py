"""A Fingertips "Export data" CSV built for the tests, in the published layout.

The header is the one Fingertips writes (copied from the export format); practice and PCN codes are real ones
from the atlas (July 2022 practice → PCN map); the values are plausible values of our own, NOT real Fingertips
figures: counts are drawn at random around a coverage of 70%.
"""

import csv
import io

import numpy as np

PUBLISHED_HEADER = [
    "Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name", "Area Type", "Sex",
    "Age", "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit", "Upper CI 95.0 limit",
    "Lower CI 99.8 limit", "Upper CI 99.8 limit", "Count", "Denominator", "Value note", "Recent Trend",
    "Compared to England value or percentiles", "Compared to Region value or percentiles", "Time period Sortable",
    "New data", "Compared to goal",
]
INDICATOR = ("91720", "Cancer screening coverage: bowel cancer")


def _line(code, name, area_type, value, count, den, *, indicator=INDICATOR, period="2022", sex="Persons",
          age="60-74 yrs", parent=("", "")):
    from targeting.stats import wilson_ci

    lo = hi = ""
    if count != "" and den:
        lo, hi = (round(100 * v, 4) for v in wilson_ci(count, den))
    return [indicator[0], indicator[1], parent[0], parent[1], code, name, area_type, sex, age, "", "", period,
            value, lo, hi, "", "", count, den, "", "", "", "", f"{period}0000", "", ""]


def export_csv(atlas, *, icb="QWO", counts=True, pcn_row=None, seed=7, extra=()) -> str:
    """A practice-level export for every practice of an ICB, England row included (values of our own)."""
    rng = np.random.default_rng(seed)
    prac = atlas.practices[atlas.practices["icb_code_nhs"] == icb].sort_values("practice_code")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(PUBLISHED_HEADER)
    w.writerow(_line("E92000001", "England", "England", 70.3, 4_000_000, 5_690_000))
    for code, name, pcn, pname in zip(prac["practice_code"], prac["practice_name"], prac["pcn_code"],
                                      prac["pcn_name"], strict=True):
        den = int(rng.integers(300, 2500))
        cnt = int(rng.binomial(den, 0.70))
        w.writerow(_line(code, name, "GPs", round(100 * cnt / den, 4), cnt if counts else "",
                         den if counts else "", parent=(pcn, pname)))
    if pcn_row:
        w.writerow(_line(pcn_row[0], "A PCN", "PCNs", pcn_row[1], "", ""))
    for row in extra:
        w.writerow(row)
    return out.getvalue()
