"""Hypertension counts: people not on a register against PHE's modelled prevalence, and PHE's undiagnosed component.

PHE's undiagnosed component is given by practice (:func:`hypertension_undiagnosed`) and by LSOA
(:func:`lsoa_hypertension_undiagnosed`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.clinical._common import _row, _Unit
from targeting.store import derived

if TYPE_CHECKING:
    from geo.atlas import Atlas
    from geo.editions import Edition


def _hypertension_counts(atlas: Atlas, unit: _Unit, gap: pd.Series, year: str) -> list[dict[str, Any]]:
    """The two hypertension counts side by side: not on a register (expected − recorded), PHE's undiagnosed."""
    from targeting.gaps import SOURCES as GAP_SOURCES

    phe = hypertension_undiagnosed(atlas, list(unit.practices))
    ok = phe["hyp_undiagnosed_phe"].notna()
    period = f"{year} (model: PHE 2016)"
    return [
        _row("hypertension", "Hypertension: people not on a register against PHE's modelled prevalence (expected − "
             "recorded; count)", GAP_SOURCES["detection"], period, value=float(gap["hyp_undiagnosed"]),
             lower=float(gap["hyp_undiagnosed_lower"]), upper=float(gap["hyp_undiagnosed_upper"]), unit="people",
             short="Hypertension not on a register (estimate)", kind="count",
             note=f"PHE 2016 modelled prevalence (diagnosed + undiagnosed) × QOF {year} list aged 16+, minus the "
                  "QOF register. Not all undiagnosed: it also counts people PHE's survey definition calls diagnosed "
                  "(told by a doctor or nurse) who are not on a QOF register. Counts of different areas are not "
                  "compared."),
        _row("hypertension", "Hypertension: people with undiagnosed hypertension, PHE's undiagnosed component "
             "(count)", f"PHE 2016 hypertension prevalence estimates by practice (undiagnosed, adults 16+) × QOF "
             f"{year} list aged 16+ (NHS England)", period,
             value=float(phe.loc[ok, "hyp_undiagnosed_phe"].sum()) if ok.any() else np.nan,
             lower=float(phe.loc[ok, "hyp_undiagnosed_phe_lower"].sum()) if ok.any() else np.nan,
             upper=float(phe.loc[ok, "hyp_undiagnosed_phe_upper"].sum()) if ok.any() else np.nan,
             unit="people", short="Undiagnosed hypertension, PHE model (estimate)", kind="count",
             numerator=np.nan, denominator=float(phe.loc[ok, "adults_16plus"].sum()) if ok.any() else np.nan,
             note="PHE's modelled % of adults with undiagnosed hypertension (a high reading at one survey visit, no "
                  "diagnosis) × the QOF list aged 16+; limits from PHE's 95% intervals, added up over practices "
                  "(one model: treated as fully correlated). Smaller than the count not on a register beside it. "
                  "Counts of different areas are not compared."
                  + (f" {int((~ok).sum())} member practice(s) have no PHE estimate." if (~ok).any() else "")),
    ]


def hypertension_undiagnosed(atlas: Atlas, practice_codes: list[str] | None = None) -> pd.DataFrame:
    r"""PHE's own undiagnosed-hypertension component per practice: people, with 95% limits.

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas (its ``hypertension`` table: PHE 2016 estimates by practice; its QOF lists).
    practice_codes : list of str, optional
        Practices to return, in order (default: every practice with a PHE estimate and a QOF list aged 16+).

    Returns
    -------
    pandas.DataFrame
        ``practice_code``, ``adults_16plus`` (QOF list aged 16+ of the detection gap's QOF year, 2022-23),
        ``hyp_undiagnosed_phe`` with ``_lower`` and ``_upper``. NaN for a practice without a PHE estimate or list.

    Notes
    -----
    :math:`U_p = u_p / 100 \cdot N_{16,p}`, :math:`u_p` PHE's modelled % of adults with undiagnosed hypertension
    (high blood pressure measured at one survey visit, never diagnosed) and :math:`N_{16,p}` the list aged 16+ that
    the detection gap's expected count uses; the limits put PHE's 95% interval of :math:`u_p` on the same list.
    The detection gap's ``hyp_undiagnosed`` (expected − recorded) is larger: its expected count adds PHE's
    *diagnosed* component, and people told by a doctor or nurse they have high blood pressure are not all on a QOF
    register (England, QOF 2022-23: 7.59 million not on a register against 6.06 million undiagnosed).
    """
    table = _phe_undiagnosed(atlas)
    codes = table.index if practice_codes is None else pd.Index([str(c).strip().upper() for c in practice_codes])
    return table.reindex(pd.Index(codes, name="practice_code")).reset_index()


@derived
def _phe_undiagnosed(atlas: Atlas) -> pd.DataFrame:
    """PHE's undiagnosed component of every practice with an estimate and a QOF list aged 16+ (index: practice)."""
    from targeting.gaps._common import _latest_qof

    qof, _ = _latest_qof(atlas)
    adults = qof[qof["list_type"] == "16OV"].groupby("practice_code")["list_size"].max().astype(float)
    h = atlas.hypertension
    need = ("undiag_estimate_pct", "undiag_lower_pct", "undiag_upper_pct")
    if any(c not in h.columns for c in need):  # an atlas built without the PHE workbooks
        h = pd.DataFrame({"practice_code": pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in need}})
    h = h.drop_duplicates("practice_code").set_index("practice_code")
    codes = adults.index.intersection(h.index)
    n = adults.reindex(codes)
    return pd.DataFrame({"adults_16plus": n,
                         **{f"hyp_undiagnosed_phe{s}": h.loc[codes, f"undiag_{c}_pct"].astype(float) / 100 * n
                            for s, c in (("", "estimate"), ("_lower", "lower"), ("_upper", "upper"))}},
                        index=pd.Index(codes, name="practice_code"))


def lsoa_hypertension_undiagnosed(edition: Edition, *, age_weighted: bool = False) -> pd.DataFrame:
    r"""PHE's undiagnosed-hypertension component per LSOA, shared out as the detection gap is.

    Parameters
    ----------
    edition : geo.editions.Edition
        The IMD edition, bound to the atlas: its LSOA geography (IoD 2025: LSOA 2021; IoD 2019: LSOA 2011).
    age_weighted : bool, default False
        Weight each LSOA's patients by its share of residents aged 40–74, as
        :func:`targeting.gaps.lsoa_detection_gap` does with ``age_weighted=True`` (the outreach planner's choice).

    Returns
    -------
    pandas.DataFrame
        One row per English LSOA of the vintage: ``lsoa_code``, ``hyp_undiagnosed_phe``, ``hyp_undiagnosed_phe_lower``,
        ``hyp_undiagnosed_phe_upper``.

    Notes
    -----
    :math:`U_l = \sum_p U_p \, n_{pl} / \sum_{l'} n_{pl'}` with :math:`U_p` from :func:`hypertension_undiagnosed` and
    :math:`n_{pl}` as in :func:`targeting.gaps.lsoa_detection_gap` (the same weights, so the two counts sit side by
    side on one footing); the total is conserved over practices with registrations.
    """
    from targeting.gaps.lsoa import _apportion

    vals = hypertension_undiagnosed(edition.atlas).dropna(subset=["hyp_undiagnosed_phe"]).drop(columns="adults_16plus")
    weight = None
    if age_weighted:  # the weights of lsoa_detection_gap(age_weighted=True): each LSOA's share aged 40-74
        t = edition.lsoas
        total = t["age_total_2021"] if "age_total_2021" in t.columns else t["pop_mid2020"]
        weight = (t["aged_40_74"] / total.where(total > 0)).fillna(0).to_numpy(float)
    return _apportion(edition, vals, weight)
