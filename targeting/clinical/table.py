"""The Core20PLUS5 clinical-area summary of a practice, PCN or ICB: its rows assembled in one table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from targeting.clinical._common import (
    AREAS,
    BRING_YOUR_OWN,
    BYOD,
    CAVEAT,
    COLUMNS,
    NO_STAGING,
    STAGING_URL,
    _Gradient,
    _qof_year,
    _row,
    _unit,
    practice_map_label,
)
from targeting.clinical.adjusted import _gap_rows
from targeting.clinical.registers import _dm_rows, _qof_rows
from targeting.clinical.user_data import _fingertips_rows
from targeting.stats import significance

if TYPE_CHECKING:
    from targeting.scope import Scope


def summary(scope: Scope, *, fingertips: list | tuple = (), seed: int = 20240401, qof_year: str | None = None,
            rule: Any = None) -> pd.DataFrame:
    r"""The Core20PLUS5 clinical-area summary of a practice, a PCN or an ICB.

    Parameters
    ----------
    scope : targeting.scope.Scope
        The practice, PCN or ICB (its area) in the atlas of a registration month, and the IMD edition of the
        practices' deprivation groups (SII) and of the indirect standardisation.
    fingertips : sequence of targeting.fingertips.FingertipsIndicator
        Indicators from Fingertips exports (:func:`targeting.fingertips.select`). Each goes into the area its name
        belongs to (or ``indicator.area`` if set) and replaces the "bring your own data" row it answers.
    seed : int
        Seed of the SII simulations, so results are reproducible.
    qof_year : str, optional
        QOF year of the register rows, e.g. ``"2022-23"`` (also ``2022/23`` or ``2223``); default the newest in
        the atlas (QOF 2024-25 with the bundled data). A year not in the data (QOF 2023-24) is a LookupError.
    rule : targeting.suppression.SuppressionRule, optional
        Small-number rule for figures from a user's file (default NHS Digital's): their ``published`` value and
        limits are those the Your data page publishes (:func:`targeting.yourdata.fingertips_tables`).

    Returns
    -------
    pandas.DataFrame
        One row per area and measure, areas in :data:`AREAS` order and, within an area, the adjusted measure
        (recorded ÷ expected) first, then the crude recorded prevalence, counts, other figures, a user's indicators
        and data to bring; under early cancer diagnosis the statement that the tool holds no staging data
        (:data:`NO_STAGING`) comes first. Columns: the :data:`COLUMNS` (``value``, limits and
        comparators in the measure's unit: % for proportions, a ratio for recorded ÷ expected, people for counts;
        ``sii`` in percentage points), then ``area_key``, ``group``, ``unit``, ``numerator``, ``denominator`` (the
        summed register and list, or count and denominator), ``note``, ``user_data`` (built from a user's file:
        suppress before showing, see :func:`for_output`), ``where`` (where to get the data, for rows to bring),
        ``short`` (a short name of the measure) and ``kind`` (``adjusted``, ``crude``, ``count``,
        ``no staging data`` or empty).
        ``attrs`` holds ``level``, ``code``, ``name``, ``icb_name``, ``icb_code``, ``imd``, ``caveat``,
        ``unplaced`` (uploaded indicators that fit no area), ``qof_year`` (of the register rows), ``gap_qof_year``
        (of the detection gaps) and ``practice_map`` (the month of the practice → PCN map, e.g. ``"July 2022"``).

    Notes
    -----
    Recorded prevalence :math:`p = \sum_k R_k / \sum_k N_k` over the unit's practices (the atlas's practice → PCN
    map, whatever the QOF year) with Wilson 95% limits; the ICB and England values pool all their practices the
    same way. A register can exceed its list in QOF (e.g. a practice whose list moved during the year); such a
    pooled rate gets no limits.
    Flags: the interval wholly above (``higher``) or below (``lower``) the comparator, else ``similar``.

    Raises
    ------
    ValueError
        If the scope's area is not a practice, a PCN or an ICB.
    LookupError
        If ``qof_year`` is not in the data.
    """
    atlas = scope.atlas
    year = _qof_year(atlas, qof_year)
    unit = _unit(scope)
    grad = _Gradient(scope, unit.icb, seed)
    gaps = _gap_rows(scope.edition, unit)
    rows = _qof_rows(atlas, unit, grad, year) + gaps + _dm_rows(atlas, unit, grad)
    from targeting.fingertips import clinical_area

    placed = [i for i in fingertips if (getattr(i, "area", None) or clinical_area(i.name)) in AREAS]
    rows += _fingertips_rows(scope, unit, grad, placed, rule)
    answered = [(getattr(i, "area", None) or clinical_area(i.name), i.name.lower()) for i in placed]
    for b in BRING_YOUR_OWN:
        if any(a == b.area and any(w in name for w in b.words) for a, name in answered):
            continue
        staging = b.url == STAGING_URL
        rows.append(_row(b.area, b.measure, b.publication, "", status=BYOD, where=b.url, unit="",
                         kind="no staging data" if staging else "",
                         note=f"{NO_STAGING} Get it from {b.url}." if staging else
                         f"Not held by the tool: get it from {b.publication} ({b.url}) and upload the "
                         "Fingertips export (practice level) where there is one."))
    out = pd.DataFrame(rows)
    order = {k: i for i, k in enumerate(AREAS)}
    out["_a"] = out["area_key"].map(order)
    # within an area: what the tool cannot show about early cancer diagnosis first, then the adjusted measure,
    # the crude one, counts, other figures, a user's indicators, and data to bring
    out["_s"] = out["kind"].map(_ORDER).fillna(4)
    out.loc[out["user_data"].astype(bool), "_s"] = 5
    out.loc[(out["status"] == BYOD) & (out["kind"] != "no staging data"), "_s"] = 6
    out = out.sort_values(["_a", "_s"], kind="stable").drop(columns=["_a", "_s"]).reset_index(drop=True)
    out["vs_icb"] = significance(out["lower"], out["upper"], out["icb_value"])
    out["vs_england"] = significance(out["lower"], out["upper"], out["england_value"])
    out.loc[out["status"] == BYOD, ["vs_icb", "vs_england"]] = ""
    out = out[[*COLUMNS, "area_key", "group", "unit", "numerator", "denominator", "note", "user_data", "where",
               "short", "published", "published_icb", "kind"]]
    out.attrs.update(level=unit.level, code=unit.code, name=unit.name, icb_name=str(unit.icb.icb_name),
                     icb_code=str(unit.icb.icb_code_nhs), caveat=CAVEAT, imd=scope.imd,
                     unplaced=[i.label for i in fingertips if i not in placed], qof_year=year,
                     gap_qof_year=str(gaps[0]["period"]) if gaps else "", practice_map=practice_map_label(atlas),
                     rule=rule)
    return out


#: Order of the rows of an area by their ``kind`` (anything else: 4).
_ORDER = {"no staging data": 0, "adjusted": 1, "crude": 2, "count": 3}
