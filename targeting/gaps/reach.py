"""Core20 reach: each PCN's share of the ICB's Core20 patients against its share of patients."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from targeting.gaps._common import UNALLOCATED_PCN, GapInputError, _known_registrations
from targeting.stats import significance, wilson_ci

if TYPE_CHECKING:
    from geo.atlas import Atlas
    from targeting.scope import Scope

def _icb_practices(atlas: Atlas, icb_nhs: str) -> pd.DataFrame:
    p = atlas.practices
    p = p[(p["icb_code_nhs"] == icb_nhs) & p["pcn_code"].notna() & (p["pcn_code"] != UNALLOCATED_PCN)]
    return p


def core20_reach(scope: Scope) -> pd.DataFrame:
    r"""Each PCN's share of the ICB's Core20 patients against its share of the ICB's patients.

    Parameters
    ----------
    scope
        The ICB (the one its area sits in) and the IMD edition of Core20 (national deciles 1–2): 2019 (LSOA 2011)
        or 2025 (LSOA 2021).

    Returns
    -------
    pandas.DataFrame
        One row per PCN with practices in the ICB: ``pcn_code, pcn_name, patients_known_lsoa,
        core20_patients, share_of_patients, share_of_core20, reach_index, reach_lower, reach_upper, flag``
        (``flag``: 'higher' / 'lower' / 'similar', the 95% interval against 1).

    Notes
    -----
    :math:`n_k` = the PCN's patients living in a known English LSOA; :math:`c_k` = those living in the
    ICB's Core20 LSOAs; :math:`N = \sum_k n_k`, :math:`C = \sum_k c_k` over the ICB's PCNs (Core20 residents
    registered outside the ICB are not counted). Reach index
    :math:`I_k = (c_k / C) / (n_k / N) = p_k / P` with :math:`p_k = c_k/n_k`, :math:`P = C/N`, so
    :math:`\sum_k n_k I_k / N = 1`. Limits: Wilson 95% limits of :math:`p_k` divided by :math:`P` (the ICB
    proportion treated as fixed). 1 = the PCN serves Core20 residents in proportion to its size.
    """
    atlas, ed, area = scope.atlas, scope.edition, scope.area
    prac = _icb_practices(atlas, str(scope.icb_nhs))
    core = scope.icb_lsoas
    core = set(core.loc[core[ed.core20].astype(bool), "lsoa_code"])
    reg = _known_registrations(ed)
    reg = reg.merge(prac[["practice_code", "pcn_code"]], on="practice_code", how="inner")
    reg["core"] = reg["patients"].where(reg["lsoa_code"].isin(core), 0)
    g = reg.groupby("pcn_code").agg(patients_known_lsoa=("patients", "sum"), core20_patients=("core", "sum"))
    if g.empty:
        raise GapInputError(f"no practices with registrations in {area.icb_name or area.icb_code}")
    n_tot, c_tot = g["patients_known_lsoa"].sum(), g["core20_patients"].sum()
    g["share_of_patients"] = g["patients_known_lsoa"] / n_tot
    g["share_of_core20"] = g["core20_patients"] / c_tot if c_tot > 0 else np.nan
    big_p = c_tot / n_tot
    lo, hi = wilson_ci(g["core20_patients"].astype(float), g["patients_known_lsoa"].astype(float))
    if c_tot > 0:
        g["reach_index"] = g["share_of_core20"] / g["share_of_patients"]
        g["reach_lower"], g["reach_upper"] = lo / big_p, hi / big_p
        g["flag"] = significance(g["reach_lower"], g["reach_upper"], 1.0)
    else:  # an ICB with no Core20 LSOA: reach is undefined
        g["reach_index"] = g["reach_lower"] = g["reach_upper"] = np.nan
        g["flag"] = "not compared"
    names = atlas.pcns.drop_duplicates("pcn_code").set_index("pcn_code")["pcn_name"]
    g.insert(0, "pcn_name", names.reindex(g.index))
    return g.reset_index()[["pcn_code", "pcn_name", "patients_known_lsoa", "core20_patients", "share_of_patients",
                            "share_of_core20", "reach_index", "reach_lower", "reach_upper", "flag"]]


