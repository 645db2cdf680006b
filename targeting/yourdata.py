"""Your data as one use case: the tables the page shows and offers for download, and ``yourdata`` writes.

The app (``app_pages/your_data.py``) and the command ``python -m targeting yourdata`` both call
:func:`your_data_tables` and write the same files (:meth:`YourDataTables.files`), so what a user downloads and
what a batch run writes are byte for byte the same. Every count passes through :mod:`targeting.suppression`:
the rows, the Core20 / Rest / All totals and the grand total are protected together
(:func:`targeting.suppression.publish_grouped`), and every rate, limit and the gap are computed from the
published counts (:func:`targeting.suppression.published_rates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo._errors import plain
from geo.files import csv_text, output_folder
from targeting.suppression import DEFAULT_RULE, SuppressionRule, publish_grouped, published_rates
from targeting.uploads import Upload, _groups

__all__ = ["FILES", "GAP_LABEL", "YourDataTables", "write_your_data", "your_data_tables"]

#: The files a Your data run writes (and the page offers), in order.
FILES = ("your_data_suppressed.csv", "core20_gap.csv", "invalid_rows.csv")
#: What a Fingertips export adds: the indicator for the ICB's PCNs and the ICB, suppressed.
FINGERTIPS_FILE = "fingertips_pcns.csv"
GAP_LABEL = "Gap (Core20 − rest)"


@dataclass(frozen=True)
class YourDataTables:
    """What Your data shows and downloads, suppressed.

    Attributes
    ----------
    rows
        One row per valid upload row: ``code``, ``name``, ``group`` (Core20 or Rest), published ``numerator``
        and ``denominator``, ``rate`` (%), ``geography``, ``source``.
    gap
        ``Core20``, ``Rest``, ``All`` and the gap: ``units``, ``numerator``, ``denominator``, ``rate``,
        ``lower``, ``upper`` (%, Wilson; the gap in percentage points, Newcombe), ``group_definition``,
        ``source``.
    invalid
        Every row not used: ``row``, ``code``, ``reason``, ``source``.
    source
        The upload, the area definition and the rule, as one line (also in every table's ``source``).
    rule
        The small-number rule applied.
    """

    rows: pd.DataFrame
    gap: pd.DataFrame
    invalid: pd.DataFrame
    source: str
    rule: SuppressionRule

    def files(self) -> dict[str, bytes]:
        """File name → CSV bytes (formula cells escaped) for every table, in :data:`FILES` order."""
        tables = {"your_data_suppressed.csv": self.rows, "core20_gap.csv": self.gap,
                  "invalid_rows.csv": self.invalid}
        return {name: csv_text(tables[name]).encode("utf-8") for name in FILES}

    def gap_withheld(self) -> bool:
        """True when the Core20 or Rest rate is withheld (so the gap is too)."""
        return bool(self.gap["rate"].astype(str).eq(self.rule.symbol).any())


def _newcombe(r: pd.DataFrame) -> tuple[float, float, float]:
    """The gap Core20 − Rest and its Newcombe (method 10) limits from Wilson limits, all in %."""
    c, s = r.loc["Core20"], r.loc["Rest"]
    diff = c["rate"] - s["rate"]
    lo = diff - np.hypot(c["rate"] - c["lower"], s["upper"] - s["rate"])
    hi = diff + np.hypot(c["upper"] - c["rate"], s["rate"] - s["lower"])
    return float(diff), float(lo), float(hi)


def your_data_tables(upload: Upload, atlas: Any, *, imd: int = 2025,
                     rule: SuppressionRule = DEFAULT_RULE) -> YourDataTables:
    r"""Suppressed tables of an upload: its rows, Core20 against the rest, and the rows that could not be used.

    Parameters
    ----------
    upload
        From :func:`targeting.uploads.read_upload`.
    atlas
        The loaded atlas.
    imd
        IMD edition of Core20 (LSOA 2011 files need 2019).
    rule
        Small-number rule (default NHS Digital: 1–7 withheld, others rounded to 5).

    Returns
    -------
    YourDataTables

    Raises
    ------
    ValueError
        If the IMD edition does not fit the upload's geography.

    Notes
    -----
    Core20 is as in :func:`targeting.uploads.core20_gap`. Rates :math:`p = x/n` and their Wilson limits use the
    published :math:`x` and :math:`n`; the gap :math:`p_1 - p_2` uses Newcombe's hybrid score limits on them.
    Where the Core20 or Rest count is withheld, so are its rate, its limits and the gap.
    """
    d = upload.data
    core = _groups(upload, atlas, imd) if len(d) else pd.Series(dtype=bool)
    group = pd.Series(np.where(core.to_numpy(dtype=bool), "Core20", "Rest"), index=d.index)
    what = (f"LSOAs in national IMD {imd} deciles 1–2" if upload.level == "lsoa"
            else f"practices serving the most deprived fifth of registered patients (IMD {imd})")
    source = (f"your upload {plain(upload.filename, 80)} ({upload.geography}); Core20 = {what}; "
              f"small-number rule: {rule.describe()}; IMD {imd} (MHCLG)")
    rows_pub, totals = publish_grouped(d[["code", "name", "numerator", "denominator"]], group,
                                       labels=("Core20", "Rest"), total_label="All", rule=rule)
    rows = rows_pub.assign(group=group.to_numpy())
    rows["rate"] = published_rates(rows["numerator"], rows["denominator"], rule, confidence=None)["rate"]
    rows = rows[["code", "name", "group", "numerator", "denominator", "rate"]].assign(
        geography=upload.geography, source=source).reset_index(drop=True)

    rates = published_rates(totals["numerator"], totals["denominator"], rule)
    gap = pd.concat([totals, rates], axis=1).reset_index()
    exact = published_rates(totals["numerator"], totals["denominator"], rule, decimals=12)
    both = exact.loc[["Core20", "Rest"]]
    if both.isin([rule.symbol]).any().any():
        g_rate = g_lo = g_hi = rule.symbol
    elif both.isna().any().any():
        g_rate = g_lo = g_hi = None
    else:
        g_rate, g_lo, g_hi = (round(v, 1) + 0.0 for v in _newcombe(both.astype(float)))
    gap_row = {"group": GAP_LABEL, "units": None, "numerator": None, "denominator": None,
               "rate": g_rate, "lower": g_lo, "upper": g_hi}
    records = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()}
               for rec in gap.to_dict("records")]
    gap = pd.DataFrame([*records, gap_row], dtype=object)  # concat would turn whole-number columns into floats
    gap["group_definition"] = [what, "all other rows", "all valid rows", "percentage points"]
    gap["source"] = source
    invalid = upload.invalid.assign(source=source)
    return YourDataTables(rows, gap, invalid, source, rule)


def fingertips_pcn_table(ind: Any, atlas: Any, icb_nhs: str, *, rule: SuppressionRule = DEFAULT_RULE) -> pd.DataFrame:
    """A Fingertips indicator for an ICB's PCNs and the ICB, suppressed, with its ``source`` (shown and downloaded).

    See :func:`targeting.fingertips.pcn_values`; counts and the rates from small numbers pass ``rule``.
    """
    from targeting.fingertips import pcn_values
    from targeting.uploads import suppressed

    shown = suppressed(pcn_values(ind, atlas, icb_nhs), rule=rule, numerator="count", denominator="denominator",
                       rates=("value", "lower", "upper"))
    return shown.assign(source=ind.source)


def write_your_data(tables: YourDataTables | None, out: str | Path, *,
                    fingertips: pd.DataFrame | None = None) -> list[Path]:
    """Write every table into the folder ``out`` as a unit (:func:`geo.files.output_folder`); return the paths.

    ``fingertips`` (:func:`fingertips_pcn_table`) is written as :data:`FINGERTIPS_FILE`; ``tables`` may then be
    None (an indicator with no counts has no Core20 comparison). Files of an earlier run (:data:`FILES`) that this
    run does not write are removed; other files are left.
    """
    out = Path(out)
    files = dict(tables.files()) if tables is not None else {}
    if fingertips is not None:
        files[FINGERTIPS_FILE] = csv_text(fingertips).encode("utf-8")
    with output_folder(out, known=(*FILES, FINGERTIPS_FILE)) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return [out / name for name in files]
