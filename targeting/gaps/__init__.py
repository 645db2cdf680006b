"""Gaps a PCN or ICB can act on: detection, registration, Core20 reach and distance to a practice.

Every gap has a documented model (``docs/methods.md``) and states its limits. Detection, registration and reach
carry 95% intervals; access is a measured (straight-line) distance, not an estimate, so it has none.

* :func:`practice_gaps`, :func:`pcn_gaps`: **detection gap** per QOF register, recorded (QOF 2022-23) against
  expected. Hypertension: PHE 2016 modelled prevalence (diagnosed + undiagnosed, adults 16+) × the practice's
  QOF list aged 16+. Other registers: indirect standardisation with a national Poisson regression on the
  practice's age structure (QOF list types), the IMD deciles and ethnic mix of the LSOAs its patients live in.
* :func:`lsoa_detection_gap`, :func:`lsoa_register_counts`: the practice figures apportioned to the LSOAs its
  patients live in (for the outreach planner).
* :func:`registration_gap`: Census 2021 usual residents against patients registered as living in the LSOA,
  relative to the national ratio, with limits allowing for the between-LSOA spread (random effects).
* :func:`core20_reach`: each PCN's share of the ICB's Core20 patients against its share of patients.
* :func:`access`: straight-line distance (EPSG:27700) from each Core20 LSOA's population-weighted centroid to
  the nearest practice, and to the nearest practice of the PCN holding most of its patients.

One module per model: :mod:`.detection`, :mod:`.lsoa`, :mod:`.registration`, :mod:`.reach`, :mod:`.access`.
"""



from targeting.gaps._common import (
    CORE_REGISTERS,
    REGISTERS,
    SOURCES,
    UNALLOCATED_PCN,
    GapInputError,
    Register,
)
from targeting.gaps.access import access
from targeting.gaps.detection import detection_model, pcn_gaps, practice_gaps
from targeting.gaps.lsoa import lsoa_detection_gap, lsoa_register_counts
from targeting.gaps.reach import core20_reach
from targeting.gaps.registration import registration_gap

__all__ = [
    "CORE_REGISTERS",
    "REGISTERS",
    "SOURCES",
    "UNALLOCATED_PCN",
    "GapInputError",
    "Register",
    "access",
    "core20_reach",
    "detection_model",
    "lsoa_detection_gap",
    "lsoa_register_counts",
    "pcn_gaps",
    "practice_gaps",
    "registration_gap",
]
