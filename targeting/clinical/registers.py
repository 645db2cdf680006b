"""QOF registers: crude recorded prevalence of each register, and the 2021-22 diabetes achievement rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.clinical._common import (
    _LIST_AGES,
    _QOF,
    _QOF_PAGE,
    BYOD,
    CAVEAT,
    NO_AGE_RATES,
    NO_STAGING,
    _Gradient,
    _icb_practices,
    _qof_source,
    _row,
    _Unit,
    _wilson,
    practice_map_label,
)
from targeting.store import derived

if TYPE_CHECKING:
    from geo.atlas import Atlas

_DM_ACH = (("dm019", "DM019: people with diabetes whose last blood pressure is 140/80 mmHg or less (%, aged 17+)"),
           ("dm020", "DM020: people with diabetes whose last HbA1c is 58 mmol/mol or less (%, aged 17+)"))


def _qof_rows(atlas: Atlas, unit: _Unit, grad: _Gradient, year: str) -> list[dict[str, Any]]:
    from targeting.profiles import qof_prevalence

    source = _qof_source(atlas, year)
    rows = []
    for group, area, what in _QOF:
        try:
            prac = qof_prevalence(atlas, group, year, level="practice").set_index("code")
            eng = qof_prevalence(atlas, group, year, level="england").iloc[0]
        except LookupError:
            rows.append(_row(area, f"{what}: recorded prevalence", f"{source}: not in this data", year,
                             status=BYOD, where=_QOF_PAGE))
            continue
        mine = prac.reindex(unit.practices).dropna(subset=["register"])
        icb_p = prac.reindex(_icb_practices(atlas, unit.icb)).dropna(subset=["register"])
        x, n = float(mine["register"].sum()), float(mine["list_size"].sum())
        lo, hi = _wilson(x, n)
        icb_v = 100 * icb_p["register"].sum() / icb_p["list_size"].sum() if unit.level != "icb" else np.nan
        missing = len(unit.practices) - len(mine)
        note = f"{CAVEAT} {_crude_words(group)}" + (f" {missing} member practice(s) have no QOF {year} data."
                                                   if missing else "")
        ages = _LIST_AGES.get(str(eng["list_type"]), str(eng["list_type"]))
        rows.append(_row(area, f"{what}: crude recorded prevalence (% of patients {ages}; not age-adjusted)",
                         f"{source}; recorded, not true, prevalence", year,
                         value=100 * x / n if n else np.nan, lower=lo, upper=hi, icb_value=icb_v,
                         england_value=float(eng["prevalence_pct"]), numerator=x, denominator=n, note=note,
                         short=f"QOF {group} crude recorded prevalence", kind="crude",
                         **grad.sii(prac["register"], prac["list_size"])))
    return rows


def _crude_words(group: str) -> str:
    """What a crude register prevalence is not, and where the adjusted measure is (or why there is none)."""
    from targeting.gaps import REGISTERS

    words = "Crude: not adjusted for age, so a young population shows a low figure."
    if group == "CAN":
        return f"{words} {NO_STAGING}"
    if group in REGISTERS:
        return f"{words} The adjusted measure is recorded ÷ expected, given first."
    return f"{words} {NO_AGE_RATES}"


@derived
def _dm_achievement(atlas: Atlas) -> pd.DataFrame:
    """Per practice: DM019 and DM020 (0–1) with the 2021-22 diabetes register as the weight (empty if absent)."""
    ach = atlas.qof_achievement
    ach = ach[ach["qof_year"] == "2021-22"].pivot_table(index="practice_code", columns="indicator",
                                                       values="achievement")
    q = atlas.qof
    reg = q[(q["qof_year"] == "2021-22") & (q["group_code"] == "DM")].set_index("practice_code")["register"]
    out = ach.rename(columns=str.lower).join(reg.rename("register"), how="inner")
    return out if {"dm019", "dm020"} <= set(out.columns) else pd.DataFrame()


def _dm_rows(atlas: Atlas, unit: _Unit, grad: _Gradient) -> list[dict[str, Any]]:
    from geo.sources import SOURCES

    t = _dm_achievement(atlas)
    if t.empty:
        src = SOURCES["qof_2122_dm"]
        return [_row("diabetes", label, f"{src.publisher} {src.title} ({src.url}): not in the atlas; add the file "
                     "and rebuild", "2021-22", status=BYOD, where=src.page) for _, label in _DM_ACH]
    rows = []
    src = ("NHS Digital QOF 2021-22 achievement by practice (DM019, DM020) and diabetes registers; practice → PCN "
           f"map {practice_map_label(atlas)}. Approximate: the indicators' own denominators are not in the file, so "
           "practices are weighted by their diabetes register")
    for col, label in _DM_ACH:
        ok = t[t[col].notna()]
        num = ok[col] * ok["register"]
        den = ok["register"].astype(float)

        def pooled(codes: pd.Index, num: pd.Series = num, den: pd.Series = den) -> tuple[float, float]:
            return float(num.reindex(codes).sum()), float(den.reindex(codes).sum())

        x, n = pooled(unit.practices)
        ix, i_n = pooled(_icb_practices(atlas, unit.icb))
        lo, hi = _wilson(x, n)
        rows.append(_row("diabetes", label, src, "2021-22", value=100 * x / n if n else np.nan, lower=lo, upper=hi,
                         icb_value=100 * ix / i_n if unit.level != "icb" and i_n else np.nan,
                         england_value=100 * float(num.sum()) / float(den.sum()), numerator=x, denominator=n,
                         note="Limits approximate (diabetes register as the denominator).", short=label.split(":")[0],
                         **grad.sii(num, den)))
    return rows
