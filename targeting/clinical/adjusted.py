"""Recorded ÷ expected (the detection gap of :mod:`targeting.gaps`): the adjusted measure of each register."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.clinical._common import _QOF, ADJUSTED_SHORT, ADJUSTMENT, NO_AGE_RATES, _icb_practices, _row, _Unit
from targeting.clinical.hypertension import _hypertension_counts
from targeting.store import derived

if TYPE_CHECKING:
    from geo.editions import Edition


def _gap_table(ed: Edition, codes: pd.Index, label: str) -> pd.Series:
    """pcn_gaps for any group of practices: one row of summed recorded and expected counts with limits."""
    from targeting.gaps import pcn_gaps

    members = pd.DataFrame({"practice_code": list(codes), "pcn_code": label})
    return pcn_gaps(ed, [label], registers=[g for g, *_ in _QOF if g != "CAN"], membership=members).iloc[0]


@derived
def _england_gaps(ed: Edition) -> pd.Series:
    """England's summed detection figures (every practice)."""
    return _gap_table(ed, pd.Index(ed.atlas.practices["practice_code"]), "ENGLAND")


def _gap_rows(ed: Edition, unit: _Unit) -> list[dict[str, Any]]:
    from targeting.gaps import REGISTERS
    from targeting.gaps import SOURCES as GAP_SOURCES
    from targeting.gaps._common import _latest_qof

    atlas = ed.atlas
    year = _latest_qof(atlas)[1]  # the QOF year the gaps are modelled on

    mine = _gap_table(ed, unit.practices, "UNIT")
    icb = _gap_table(ed, _icb_practices(atlas, unit.icb), "ICB") if unit.level != "icb" else None
    eng = _england_gaps(ed)
    rows = []
    for group, area, _ in _QOF:
        if group not in REGISTERS:
            continue
        r = group.lower()
        v, lo, hi = (float(mine[f"{r}_ratio{s}"]) for s in ("", "_lower", "_upper"))
        rows.append(_row(area, f"{REGISTERS[group].name}: recorded ÷ expected ({ADJUSTMENT[group == 'HYP']}; ratio)",
                         GAP_SOURCES["detection"], year, value=v, lower=lo, upper=hi, unit="ratio",
                         icb_value=float(icb[f"{r}_ratio"]) if icb is not None else np.nan,
                         england_value=float(eng[f"{r}_ratio"]), numerator=float(mine[f"{r}_recorded"]),
                         denominator=float(mine[f"{r}_expected"]), kind="adjusted",
                         short=f"QOF {group} recorded ÷ expected ({ADJUSTED_SHORT[group == 'HYP']})",
                         note="1 = as many people on the register as expected for the population; below 1: fewer, "
                              "a possible detection gap. Not a proportion, so no SII. "
                              + ("" if group == "HYP" else NO_AGE_RATES)))
        if group == "HYP":
            rows.extend(_hypertension_counts(atlas, unit, mine, year))
    return rows
