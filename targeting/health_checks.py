r"""Health-check figures for outreach: expected new hypertension diagnoses from NHS Health Checks, with a range.

The NHS Health Check is offered every five years to people aged 40–74 without an existing cardiovascular or
related condition (including diagnosed hypertension). For a neighbourhood with :math:`E` residents aged 40–74,

.. math::

    \\text{new diagnoses} = E \\times (1 - d) \\times u \\times r

where :math:`d` is the share of 40–74s not eligible because already diagnosed (on a disease register),
:math:`u` the uptake among those offered a check and :math:`r` the new hypertension diagnoses per check. Every
factor is at most 1, so the figure never exceeds :math:`E`. The range uses the lowest and highest uptake
reported across local authorities. Defaults and their publications are in :data:`DEFAULT_HEALTH_CHECK`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_HEALTH_CHECK", "HealthCheckParams", "health_check_new_hypertension"]


@dataclass(frozen=True)
class HealthCheckParams:
    """Parameters of the expected new hypertension diagnoses from NHS Health Checks.

    Attributes
    ----------
    uptake, uptake_low, uptake_high
        Share of people offered a check who have one (central, lowest, highest).
    detection
        New hypertension diagnoses per check.
    already_diagnosed
        Share of residents aged 40–74 not eligible because they already have a diagnosed condition.
    sources
        The publications the values come from.
    """

    uptake: float = 0.526
    uptake_low: float = 0.251
    uptake_high: float = 0.847
    detection: float = 0.038
    already_diagnosed: float = 0.30
    sources: tuple[str, ...] = (
        "Uptake 52.6% of 9,694,979 people offered a check in 2012–2017 (local authorities 25.1%–84.7%): Patel R, "
        "et al. Evaluation of the uptake and delivery of the NHS Health Check programme in England, using primary "
        "care data from 9.5 million people. BMJ Open 2020;10:e042963",
        "New hypertension 38 per 1,000 checks (7,844 new cases among 214,295 attendees, 2009–2012): Robson J, et "
        "al. The NHS Health Check in England: an evaluation of the first 4 years. BMJ Open 2016;6:e008840",
        "Already diagnosed: 30% of residents aged 40–74 were taken as not eligible (already on a cardiovascular "
        "disease register) in the total eligible population used by Public Health England up to 2015-16 (NHS "
        "Health Check data: total eligible population, healthcheck.nhs.uk)",
    )

    def __post_init__(self) -> None:
        for name in ("uptake", "uptake_low", "uptake_high", "detection", "already_diagnosed"):
            v = getattr(self, name)
            if v is None or not np.isfinite(v) or not 0 <= v <= 1:
                raise ValueError(f"health-check {name.replace('_', ' ')} must be a share between 0 and 1, not {v}")
        if not self.uptake_low <= self.uptake <= self.uptake_high:
            raise ValueError(f"health-check uptake {self.uptake:g} must lie between its low {self.uptake_low:g} "
                             f"and high {self.uptake_high:g}")

    def describe(self) -> dict:
        """The parameters as a plain dict (for settings and exports)."""
        d = asdict(self)
        d["sources"] = list(self.sources)
        return d


DEFAULT_HEALTH_CHECK = HealthCheckParams()


def health_check_new_hypertension(eligible_40_74: pd.Series, params: HealthCheckParams = DEFAULT_HEALTH_CHECK
                                  ) -> pd.DataFrame:
    """Expected new hypertension diagnoses from NHS Health Checks among residents aged 40–74.

    Parameters
    ----------
    eligible_40_74
        Residents aged 40–74 (Census 2021).
    params
        :class:`HealthCheckParams` (default :data:`DEFAULT_HEALTH_CHECK`).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``eligible_40_74``: ``health_check_new_hypertension`` (central) and its ``_low`` and
        ``_high`` (lowest and highest uptake), rounded to 0.1; never above ``eligible_40_74``.
    """
    e = eligible_40_74.astype(float).clip(lower=0)
    base = e * (1 - params.already_diagnosed) * params.detection
    out = pd.DataFrame({
        "health_check_new_hypertension": base * params.uptake,
        "health_check_new_hypertension_low": base * params.uptake_low,
        "health_check_new_hypertension_high": base * params.uptake_high,
    }, index=eligible_40_74.index)
    return out.clip(upper=e, axis=0).round(1)
