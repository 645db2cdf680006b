"""Confidence intervals and inequality measures following OHID / PHE Fingertips conventions.

Every method here is implemented from its published statistical definition, as used by the
Fingertips public-health profiles and documented for the R package PHEindicatormethods
(UKHSA / OHID).  No code from that package has been used; its published test data (inputs
with expected outputs) is used to check this package in ``tests/targeting/test_stats.py``.

One module per method, as in PHEindicatormethods:

:mod:`.proportions` — wilson_ci
    Wilson score interval for a proportion (``phe_proportion``, ``wilson_lower/upper``).
:mod:`.rates` — byar_ci, rate_ci
    Byar's approximation for a Poisson count, exact below 10 (``byars_lower/upper``); crude rate with Byar /
    exact limits (``phe_rate``).
:mod:`.dsr` — dobson_ci, ESP2013
    Directly standardised rate with Dobson limits (``phe_dsr``).
:mod:`.sii` — sii, sii_by, SIIResult
    Slope and relative index of inequality with simulated limits (``phe_sii``).
:mod:`.funnel` — funnel_limits, ratio_funnel_limits
    Funnel-plot control limits for proportions and for ratios observed ÷ expected.
:mod:`.overdispersion` — overdispersion, ratio_overdispersion
    Spiegelhalter's over-dispersion factor from winsorised z-scores.
:mod:`.comparisons` — significance, compare_proportion
    Fingertips-style "higher / lower / similar" flags against a comparator.

Conventions
-----------
``confidence`` may be given as a fraction (0.95) or a percentage (95).  Inputs may be
scalars, numpy arrays or pandas Series; a Series in gives a Series (same index) out.
Missing inputs (NaN) give NaN outputs; impossible inputs (negative counts, numerators above
denominators) raise ``ValueError``.
"""

from targeting.stats._common import Z95, Z_95_SE
from targeting.stats.comparisons import compare_proportion, significance
from targeting.stats.dsr import ESP2013, dobson_ci
from targeting.stats.funnel import funnel_limits, ratio_funnel_limits
from targeting.stats.overdispersion import overdispersion, ratio_overdispersion
from targeting.stats.proportions import wilson_ci
from targeting.stats.rates import byar_ci, rate_ci
from targeting.stats.sii import SIIResult, sii, sii_by

__all__ = [
    "ESP2013",
    "Z95",
    "Z_95_SE",
    "SIIResult",
    "byar_ci",
    "compare_proportion",
    "dobson_ci",
    "funnel_limits",
    "overdispersion",
    "rate_ci",
    "ratio_funnel_limits",
    "ratio_overdispersion",
    "significance",
    "sii",
    "sii_by",
    "wilson_ci",
]
