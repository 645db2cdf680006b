"""Practice detection gaps shared out to the LSOAs their patients live in (for the outreach planner)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from targeting.gaps._common import (
    GapInputError,
    _known_practices,
    _known_registrations,
    _latest_qof,
    _registers,
)
from targeting.gaps.detection import _cached

if TYPE_CHECKING:
    from geo.editions import Edition

def _apportion(ed: Edition, values: pd.DataFrame, lsoa_weight: np.ndarray | None = None) -> pd.DataFrame:
    """Share each practice's values over English LSOAs by where its patients (known LSOA) live.

    ``lsoa_weight`` (one per LSOA of the vintage) multiplies the patient counts before the shares are taken.
    """
    reg = _known_registrations(ed)
    pidx, lidx = reg["_practice"].to_numpy(), reg["_lsoa"].to_numpy()
    n = reg["patients"].to_numpy(float)
    if lsoa_weight is not None:
        n = n * lsoa_weight[lidx]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nan_to_num(n / np.bincount(pidx, weights=n)[pidx])
    lsoas = ed.lsoas["lsoa_code"]
    # values per practice, aligned to the registration rows through the practice index (fast, no string join)
    names = pd.Index(_known_practices(ed))
    v = values.drop_duplicates("practice_code").set_index("practice_code").reindex(names)
    cols = {c: np.bincount(lidx, weights=np.nan_to_num(v[c].to_numpy(float))[pidx] * share, minlength=len(lsoas))
            for c in v.columns}
    return pd.DataFrame({"lsoa_code": lsoas.to_numpy(), **cols})


def lsoa_detection_gap(edition: Edition, *, register: str = "HYP", age_weighted: bool = False) -> pd.DataFrame:
    r"""People likely undiagnosed per LSOA: each practice's gap shared out by where its patients live.

    Parameters
    ----------
    edition
        The IMD edition bound to the atlas: 2025 gives LSOA 2021 (``registrations21``), 2019 LSOA 2011
        (``registrations11``).
    register
        QOF group code (see :data:`REGISTERS`).
    age_weighted
        Weight each LSOA's patients by its share of residents aged 40–74 (Census 2021 on LSOA 2021, ONS
        mid-2020 on LSOA 2011), so a practice's gap leans towards its older neighbourhoods, where most
        undiagnosed hypertension, diabetes and COPD is. Default False: by patients alone.

    Returns
    -------
    pandas.DataFrame
        One row per English LSOA of the vintage: ``lsoa_code``, ``expected_undiagnosed``,
        ``expected_undiagnosed_lower``, ``expected_undiagnosed_upper``.

    Notes
    -----
    With :math:`G_p = \max(0, E_p - O_p)` the practice gap (a practice recording more people than expected
    contributes none) and :math:`n_{pl}` its patients living in LSOA :math:`l` (known English LSOAs only),

    .. math:: G_l = \sum_p G_p \, n_{pl} / \sum_{l'} n_{pl'} ,

    so :math:`\sum_l G_l = \sum_p G_p` over practices with registrations. Limits are apportioned the same way
    (clipped at 0), i.e. treated as fully correlated across practices: a conservative interval. The patients'
    age is not known per LSOA, so by default an LSOA gets its share of the whole list; with ``age_weighted``
    :math:`n_{pl}` becomes :math:`n_{pl} a_l`, :math:`a_l` the LSOA's share of residents aged 40–74 (the total
    is still conserved).
    """
    code = _registers([register])[0]
    long = _cached(edition)
    g = long[(long["register"] == code) & long["expected"].notna()]
    vals = pd.DataFrame({
        "practice_code": g["practice_code"],
        "expected_undiagnosed": g["undiagnosed"].clip(lower=0),
        "expected_undiagnosed_lower": g["undiagnosed_lower"].clip(lower=0),
        "expected_undiagnosed_upper": g["undiagnosed_upper"].clip(lower=0),
    })
    weight = None
    if age_weighted:
        t = edition.lsoas
        total = t["age_total_2021"] if "age_total_2021" in t.columns else t["pop_mid2020"]
        weight = (t["aged_40_74"] / total.where(total > 0)).fillna(0).to_numpy(float)
    return _apportion(edition, vals, weight)


def lsoa_register_counts(edition: Edition, register: str) -> pd.DataFrame:
    r"""Patients on a QOF register (2022-23) per LSOA, shared out by where each practice's patients live.

    Parameters
    ----------
    edition
        The IMD edition bound to the atlas: 2025 gives LSOA 2021, 2019 LSOA 2011.
    register
        QOF group code, e.g. ``"MH"`` (severe mental illness) or ``"LD"`` (learning disability).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``register_patients`` (estimated, not whole numbers) for every English LSOA.

    Notes
    -----
    :math:`R_l = \sum_p R_p \, n_{pl} / \sum_{l'} n_{pl'}`: the register is assumed to be spread over a
    practice's patients in proportion to where they live (no within-practice variation is known).
    """
    code = str(register).strip().upper()
    qof, _ = _latest_qof(edition.atlas)
    reg = qof[qof["group_code"] == code]
    if reg.empty:
        raise GapInputError(f"QOF register '{register}' is not in the atlas; choose from "
                            f"{', '.join(sorted(qof['group_code'].unique()))}")
    vals = reg.drop_duplicates("practice_code")[["practice_code", "register"]].rename(
        columns={"register": "register_patients"})
    vals["register_patients"] = vals["register_patients"].astype(float)
    return _apportion(edition, vals)


