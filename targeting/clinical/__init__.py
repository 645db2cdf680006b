r"""The "5" of Core20PLUS5: where a practice, PCN or ICB stands on each clinical area, in one table.

One row per clinical area and measure (:data:`AREAS`: five for adults, five for children and young people, and
learning disability as a PLUS group), from the data the tool holds. Within an area the **adjusted measure comes
first** and the crude one after it, labelled "crude":

* the detection gap of :mod:`targeting.gaps` (on its own QOF year, 2022-23): **recorded ÷ expected**. For
  hypertension the expected count is PHE's 2016 modelled prevalence of each practice's adults (16+), which allows
  for the practice's population, its age included ("age-adjusted"); for the other registers it is an indirect
  standardisation on a national regression over the practice's broad age bands (QOF list types), deprivation and
  ethnic mix. An indirectly standardised ratio on the practices' registered 5-year age bands (the July 2026
  ``gp-reg-pat-prac-quin-age`` file) would need each register's national prevalence by age band, and QOF
  publishes none (:data:`NO_AGE_RATES` says so wherever it matters). Hypertension also has two counts side by
  side: the people **not on a register** against PHE's modelled prevalence (expected − recorded) and **PHE's own
  undiagnosed component** (:func:`hypertension_undiagnosed`);
* QOF registers and **crude recorded** prevalence (HYP, MH, COPD, AST, DM, EP, CAN, LD) with Wilson 95% limits:
  people on a GP register ÷ the practice list of the register's age base, for the newest QOF year in the atlas
  (QOF 2024-25 with the bundled data; ``qof_year`` chooses another). Crude: not adjusted for age, so a young
  population shows a low figure. Recorded prevalence is not true prevalence either: it counts people diagnosed and
  coded, so a low figure may mean under-diagnosis, not less illness;
* QOF 2021-22 diabetes achievement DM019 (blood pressure ≤ 140/80) and DM020 (HbA1c ≤ 58 mmol/mol);
* indicators a user brings as Fingertips exports (:mod:`targeting.fingertips`), slotted into their area.

**Early cancer diagnosis** leads with :data:`NO_STAGING`: the tool holds no staging data (the QOF cancer register
counts people ever diagnosed, not the stage at which their cancer was found), and it names where stage at diagnosis
is published (NHS England's National Disease Registration Service).

Each row is compared with its ICB and England (``higher``/``lower``/``similar``: neutral, since whether higher
is better depends on the measure) and carries the **Core20 gradient**: the slope index of inequality (SII)
across the ICB's practices grouped by the deprivation of where their patients live (deciles of the ICB's
registered population, quintiles under 30 practices; :func:`targeting.compare.compare_pcns` does the same),
where the measure is a proportion and the ICB has at least :data:`MIN_SII_PRACTICES` practices with data.
A positive SII means higher in less deprived practices.

A PCN's or ICB's practices are those of the atlas's practice map (:func:`practice_map_label` names its month), for
every QOF year: no QOF year after 2022-23 has a geography mapping of its own.

:func:`qof_trend` gives one register over every QOF year from the first to the last in the atlas, per practice, PCN,
ICB or England; a year that is not in the data (QOF 2023-24) is a row with no value, never interpolated.

Measures the tool does not hold are rows with status ``bring your own data`` naming the official publication
that holds them (cancer screening coverage and flu vaccination on Fingertips, NHS England's SMI physical health
checks, maternity statistics, …).

One module per concern: :mod:`.registers` (QOF registers, crude prevalence, diabetes achievement),
:mod:`.adjusted` (recorded ÷ expected), :mod:`.hypertension` (PHE's modelled counts), :mod:`.user_data` (a user's
Fingertips indicators and their output), :mod:`.trend` (:func:`qof_trend`) and :mod:`.table` (:func:`summary`).
"""

from targeting.clinical._common import (
    ADJUSTMENT,
    AREAS,
    BRING_YOUR_OWN,
    CAVEAT,
    COLUMNS,
    MIN_SII_PRACTICES,
    NO_AGE_RATES,
    NO_STAGING,
    QOF_REGISTERS,
    STAGING_URL,
    TREND_COLUMNS,
    ClinicalArea,
    practice_map_label,
    qof_years,
)
from targeting.clinical.hypertension import hypertension_undiagnosed, lsoa_hypertension_undiagnosed
from targeting.clinical.table import summary
from targeting.clinical.trend import qof_trend
from targeting.clinical.user_data import for_output

__all__ = [
    "ADJUSTMENT",
    "AREAS",
    "BRING_YOUR_OWN",
    "CAVEAT",
    "COLUMNS",
    "MIN_SII_PRACTICES",
    "NO_AGE_RATES",
    "NO_STAGING",
    "QOF_REGISTERS",
    "STAGING_URL",
    "TREND_COLUMNS",
    "ClinicalArea",
    "for_output",
    "hypertension_undiagnosed",
    "lsoa_hypertension_undiagnosed",
    "practice_map_label",
    "qof_trend",
    "qof_years",
    "summary",
]
