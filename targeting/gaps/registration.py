"""Registration gap: Census 2021 usual residents against patients registered as living in each LSOA."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from targeting.gaps._common import Z95, GapInputError
from targeting.stats import byar_ci

if TYPE_CHECKING:
    from geo.atlas import Atlas

def registration_gap(atlas: Atlas, *, vintage: int = 2021, overdispersion: bool = True) -> pd.DataFrame:
    r"""Census 2021 usual residents against patients registered as living in each LSOA.

    Parameters
    ----------
    atlas
        The loaded atlas.
    vintage
        2021 (LSOA 2021, Census 2021 residents as published) or 2011 (LSOA 2011, residents apportioned).
    overdispersion
        True (default): limits allow for the between-LSOA spread of the ratio that Poisson variation does not
        explain (random effects, :math:`\tau^2`). False: Byar limits on the registered count only.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code, residents, registered_patients, ratio, national_ratio, relative_ratio, lower, upper,
        flag``. ``flag`` is True where the upper 95% limit of ``relative_ratio`` is below 1: fewer patients
        registered than residents would predict, a possible unregistered population.

    Notes
    -----
    :math:`r_l = R_l / P_l` (registered / residents); the national ratio
    :math:`\bar r = \sum_l R_l / \sum_l P_l` over English LSOAs (patients with an unknown or Welsh LSOA
    are left out). Lists are inflated (people who moved away or died stay registered for a while), so
    :math:`\bar r > 1`. :math:`\mathrm{RR}_l = r_l / \bar r = R_l / E_l` with :math:`E_l = P_l \bar r`.
    On the log scale :math:`y_l = \ln \mathrm{RR}_l`, :math:`v_l = 1/R_l` (Poisson), and
    :math:`\tau^2` is the DerSimonian–Laird estimate from :math:`y` winsorised at the 10th and 90th
    percentiles (Spiegelhalter 2005, funnel plots with overdispersion). Limits:
    :math:`\exp(y_l \pm 1.96\sqrt{v_l + \tau^2})`.
    """
    if vintage not in (2011, 2021):
        raise GapInputError(f"vintage must be 2021 (LSOA 2021) or 2011 (LSOA 2011); got {vintage!r}")
    t = atlas.lsoa21 if vintage == 2021 else atlas.lsoa11
    res = t["residents"].to_numpy(float)
    reg = t["registered_patients"].to_numpy(float)
    national = reg.sum() / res.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = res * national
        rr = reg / expected
    if overdispersion:
        obs = np.maximum(reg, 0.5)
        y = np.log(obs / expected)
        v = 1 / obs
        ok = np.isfinite(y)
        tau2 = _dersimonian_laird(y[ok], v[ok])
        half = Z95 * np.sqrt(v + tau2)
        lower, upper = np.exp(y - half), np.exp(y + half)
        lower = np.where(reg == 0, 0.0, lower)
    else:
        lo, hi = byar_ci(reg)
        with np.errstate(divide="ignore", invalid="ignore"):
            lower, upper = np.asarray(lo) / expected, np.asarray(hi) / expected
    return pd.DataFrame({
        "lsoa_code": t["lsoa_code"].to_numpy(), "residents": t["residents"].to_numpy(),
        "registered_patients": t["registered_patients"].to_numpy(), "ratio": reg / res,
        "national_ratio": national, "relative_ratio": rr, "lower": lower, "upper": upper,
        "flag": upper < 1,
    })


def _dersimonian_laird(y: np.ndarray, v: np.ndarray) -> float:
    """Between-area variance of ``y`` beyond the within-area variances ``v`` (winsorised 10%/90%)."""
    lo, hi = np.quantile(y, [0.1, 0.9])
    yw = np.clip(y, lo, hi)
    w = 1 / v
    mean = (w * yw).sum() / w.sum()
    q = (w * (yw - mean) ** 2).sum()
    k = len(y)
    denom = w.sum() - (w**2).sum() / w.sum()
    return float(max(0.0, (q - (k - 1)) / denom))


# --------------------------------------------------------------------------------------------------
