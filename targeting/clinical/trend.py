"""One QOF register's crude recorded prevalence over every QOF year in the atlas."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from targeting.clinical._common import (
    _QOF_PAGE,
    TREND_COLUMNS,
    _icb_practices,
    _qof_file,
    _span,
    _unit,
    _wilson,
    practice_map_label,
    qof_years,
)

if TYPE_CHECKING:
    from targeting.scope import Scope


def _pooled(rows: pd.DataFrame, codes: pd.Index | None) -> tuple[float, float, int]:
    """Summed register and list of the practices ``codes`` (all rows if None) with a row, and how many had one."""
    sub = rows if codes is None else rows.reindex(codes).dropna(subset=["register"])
    return float(sub["register"].sum()), float(sub["list_size"].sum()), len(sub)


def _pct(x: float, n: float) -> float:
    return 100 * x / n if n > 0 else np.nan


def qof_trend(scope: Scope, register: str) -> pd.DataFrame:
    r"""One QOF register's recorded prevalence in every year from the first to the last QOF year in the atlas.

    Parameters
    ----------
    scope : targeting.scope.Scope
        What the rows describe: its area (a practice, a PCN or an ICB; None: England) in the atlas of a
        registration month (its ``qof`` table: QOF 2020-21, 2021-22, 2022-23 and 2024-25 with the bundled data).
    register : str
        QOF group code, e.g. ``HYP``, ``MH``, ``COPD``, ``DM`` (``qof_`` prefix and case ignored).

    Returns
    -------
    pandas.DataFrame
        One row per year, oldest first, with the :data:`TREND_COLUMNS`: ``register`` and ``list_size`` summed over
        the practices with a row that year (``practices`` of ``member_practices``), ``value`` the crude recorded
        prevalence in % (not age-adjusted: no adjusted measure exists by year) with Wilson 95% ``lower`` and
        ``upper`` limits, ``icb_value`` (a PCN's or practice's ICB,
        same practices every year) and ``england_value`` (every practice in that year's file), ``status``
        (``available``, ``no data`` or ``not bundled``), ``source`` (publisher, QOF year, file and the practice
        map used) and ``note``. A year between the first and the last that the data does not hold (QOF 2023-24)
        is a row with no value, status ``not bundled`` and the note "not bundled: QOF 2023-24 is not in the
        data": never interpolated. ``attrs`` holds ``level``, ``code``, ``name``, ``group_code`` and
        ``practice_map``.

    Raises
    ------
    LookupError
        If the register is in no QOF year of the atlas.
    ValueError
        If the scope's area is not a practice, a PCN or an ICB (e.g. a local authority).

    Notes
    -----
    :math:`p = \sum_k R_k / \sum_k N_k` over the unit's practices, as in :func:`summary`. A PCN's or ICB's
    practices are those of the atlas's practice map (:func:`practice_map_label`) for **every** year: there is no
    geography mapping for QOF 2024-25, and using one map keeps the years comparable. A member practice with no
    row in a year (opened later, or merged) is left out of that year and counted in the note; a practice that
    closed before the map's month is in no PCN, so it counts only in England.
    """
    atlas = scope.atlas
    group = str(register).strip().upper().removeprefix("QOF_")
    q = atlas.qof
    years = qof_years(atlas)
    rows_q = q[q["group_code"] == group]
    if rows_q.empty:
        avail = sorted(q["group_code"].unique())
        raise LookupError(f"No QOF register {register!r} in the data; available: {', '.join(avail)}")
    level = "england" if scope.area is None else scope.area.kind
    label = practice_map_label(atlas)
    if level == "england":
        members = icb_members = None
        out_code, name = "E92000001", "England"
    elif level in ("practice", "pcn", "icb"):
        unit = _unit(scope)
        members = unit.practices
        icb_members = _icb_practices(atlas, unit.icb) if level != "icb" else None
        out_code, name = unit.code, unit.name
    else:
        raise ValueError(f"level must be england, icb, pcn or practice, not {level!r}")
    by_year = {str(y): t.set_index("practice_code") for y, t in rows_q.groupby("qof_year")}
    out = []
    for year in _span(years):
        base = {"qof_year": year, "level": level, "code": out_code, "name": name, "group_code": group,
                "list_type": "", "register": np.nan, "list_size": np.nan, "value": np.nan, "lower": np.nan,
                "upper": np.nan, "icb_value": np.nan, "england_value": np.nan, "practices": 0,
                "member_practices": len(members) if members is not None else np.nan}
        src = _qof_file(year)
        if year not in years:
            out.append({**base, "status": "not bundled",
                        "source": f"{src.publisher if src else 'NHS England'} QOF {year}: not bundled ({_QOF_PAGE})",
                        "note": f"not bundled: QOF {year} is not in the data"})
            continue
        where = f"{src.publisher} QOF {year} prevalence ({src.relpath.rsplit('/', 1)[-1]})" if src else f"QOF {year}"
        if year not in by_year:
            out.append({**base, "status": "no data", "source": where,
                        "note": f"QOF {year} has no {group} register"})
            continue
        t = by_year[year]
        x, n, k = _pooled(t, members)
        lo, hi = _wilson(x, n)
        ex, en, _ = _pooled(t, None)
        ix, i_n, _ = _pooled(t, icb_members) if icb_members is not None else (np.nan, np.nan, 0)
        if level == "england":
            who = "every practice in the file"
        elif level == "practice":
            who = "the practice's own row"
        else:
            who = f"member practices from the practice → PCN map of {label}, the same for every year"
        note = ""
        if members is not None and k < len(members):
            note = (f"{len(members) - k} of {len(members)} member practice(s) have no QOF {year} {group} row "
                    "(opened later, merged or closed)")
        out.append({**base, "list_type": ",".join(sorted(t["list_type"].astype(str).unique())),
                    "register": x if k else np.nan, "list_size": n if k else np.nan, "value": _pct(x, n),
                    "lower": lo, "upper": hi, "icb_value": _pct(ix, i_n) if icb_members is not None else np.nan,
                    "england_value": _pct(ex, en), "practices": k, "status": "available" if k else "no data",
                    "source": f"{where}; {who}; crude recorded prevalence, not age-adjusted", "note": note})
    table = pd.DataFrame(out, columns=list(TREND_COLUMNS))
    table.attrs.update(level=level, code=out_code, name=name, group_code=group, practice_map=label)
    return table
