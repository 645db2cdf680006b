"""A user's Fingertips indicators in the summary, and the small-number rule applied to them for output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.clinical._common import AREAS, COLUMNS, _Gradient, _icb_practices, _row, _Unit
from targeting.stats import significance

if TYPE_CHECKING:
    from targeting.scope import Scope


def _published_fingertips(scope: Scope, unit: _Unit, ind: Any, rule: Any) -> tuple[Any, float]:
    """The unit's value and limits, and its ICB's value, as the Your data page publishes them.

    From :func:`targeting.yourdata.fingertips_tables`: the practice, PCN and ICB counts protected together with the
    practice table, values and limits from the published counts. ``(None, nan)`` when the file has no counts (then
    there is nothing of the user's to protect beyond the small-number check of :func:`for_output`).
    """
    from targeting.yourdata import fingertips_tables

    if not ind.has_counts:
        return None, np.nan
    icb_nhs = str(unit.icb.icb_code_nhs)
    session = fingertips_tables(ind, scope.with_area(unit.icb), rule=rule)
    pcns = session.pcns.set_index("pcn_code")
    icb_v = pcns.loc[icb_nhs, "value"] if icb_nhs in pcns.index else None
    icb_value = float(icb_v) if isinstance(icb_v, int | float) and icb_v is not None else np.nan
    if unit.level == "practice":
        p = session.practices
        if p is None or unit.code not in p.index:
            return (None, None, None), icb_value
        return tuple(p.loc[unit.code, ["value", "lower", "upper"]]), icb_value
    code = icb_nhs if unit.level == "icb" else unit.code
    if code not in pcns.index:
        return (None, None, None), icb_value
    return tuple(pcns.loc[code, ["value", "lower", "upper"]]), icb_value


def _fingertips_rows(scope: Scope, unit: _Unit, grad: _Gradient, indicators: list,
                     rule: Any = None) -> list[dict[str, Any]]:
    from targeting.fingertips import aggregate, clinical_area
    from targeting.suppression import DEFAULT_RULE

    rule = rule or DEFAULT_RULE
    rows = []
    for ind in indicators:
        area = getattr(ind, "area", None) or clinical_area(ind.name)
        if area not in AREAS:
            continue  # not one of the areas: the caller lists it as unplaced
        published, published_icb = _published_fingertips(scope, unit, ind, rule)
        icb_codes = _icb_practices(scope.atlas, unit.icb)
        if unit.level == "practice":
            p = ind.practices[ind.practices["code"] == unit.code]
            mine = {"value": np.nan, "lower": np.nan, "upper": np.nan, "count": np.nan, "denominator": np.nan,
                    "note": "the practice has no row in the file"}
            if len(p):
                mine = {**p.iloc[0][["value", "lower", "upper", "count", "denominator"]].astype(float).to_dict(),
                        "note": f"the file's own row (row {int(p['row'].iloc[0])})"}
        else:
            mine = aggregate(ind, unit.practices, pcn_code=unit.code if unit.level == "pcn" else None,
                             icb_code=str(unit.icb.icb_code) if unit.level == "icb" else None)
        icb = aggregate(ind, icb_codes, icb_code=str(unit.icb.icb_code)) if unit.level != "icb" else None
        eng = ind.england or {}
        gradient = {"sii": np.nan, "sii_lower": np.nan, "sii_upper": np.nan}
        if ind.proportion:
            p = ind.practices[ind.practices["value"].notna()].set_index("code")
            # from the user's exact counts: given to 1 decimal, as every published rate beside withheld counts is
            gradient = {k: (round(float(v), 1) if np.isfinite(v) else v)
                        for k, v in grad.sii(p["count"], p["denominator"]).items()}
        note = mine.get("note", "")
        if not eng:
            note += "; the file has no England row"
        rows.append(_row(area, f"{ind.label} ({ind.unit})", ind.source, ind.period, value=mine["value"],
                         lower=mine["lower"], upper=mine["upper"], unit=ind.unit,
                         icb_value=icb["value"] if icb else np.nan, england_value=eng.get("value", np.nan),
                         numerator=mine.get("count", np.nan), denominator=mine.get("denominator", np.nan),
                         note=note.strip("; "), user_data=True, short=ind.name, published=published,
                         published_icb=published_icb, **gradient))
    return rows


def for_output(table: pd.DataFrame, rule: Any = None) -> pd.DataFrame:
    """The summary's :data:`COLUMNS` ready to print or download, with the small-number rule applied to user data.

    A row built from a user's file (``user_data``) with counts shows the value and limits the Your data page
    publishes (``published``: from the practice, PCN and ICB counts protected together with the practice table and
    rounded, one decimal), never the exact ones, and its comparison flags are recomputed from them (against the ICB's
    published value); where they are withheld, so are the flags (``*``). A user row without counts (a file of values
    only) is withheld when its count or denominator is small (default rule: 1–7). The tool's own published figures
    are left as they are. App and command line both write this table.
    """
    from targeting.suppression import DEFAULT_RULE, suppress_rates

    rule = rule or table.attrs.get("rule") or DEFAULT_RULE
    out = table[list(COLUMNS)].copy()
    user = table["user_data"].astype(bool).to_numpy()
    if user.any():
        out[["value", "lower", "upper"]] = out[["value", "lower", "upper"]].astype(float).round(3)
        out = out.astype({c: object for c in ("value", "lower", "upper", "icb_value", "vs_icb", "vs_england")})
        sub = table[user]
        shown = suppress_rates(sub["value"], numerator=sub["numerator"],
                               denominator=sub["denominator"], rule=rule)
        hidden = shown.astype(str).eq(rule.symbol).to_numpy()
        idx = sub.index[hidden]
        out.loc[idx, ["value", "lower", "upper", "vs_icb", "vs_england"]] = rule.symbol
        published = table["published"] if "published" in table.columns else pd.Series(None, index=table.index)
        for i in sub.index:
            pub = published.get(i)
            if pub is None:
                continue  # no counts in the file: the check above is all there is to do
            value, lower, upper = pub
            has_icb = pd.notna(table.at[i, "icb_value"])  # a practice's or PCN's row compares with its ICB
            icb = table.at[i, "published_icb"] if has_icb else np.nan
            if has_icb:
                out.at[i, "icb_value"] = rule.symbol if pd.isna(icb) else float(icb)
            if rule.symbol in (value, lower, upper):
                out.loc[i, ["value", "lower", "upper", "vs_icb", "vs_england"]] = rule.symbol
                continue
            out.loc[i, ["value", "lower", "upper"]] = [value, lower, upper]
            if has_icb:
                out.at[i, "vs_icb"] = rule.symbol if pd.isna(icb) else significance(lower, upper, float(icb))
            out.at[i, "vs_england"] = significance(lower, upper, table.at[i, "england_value"])
    return out
