"""Outreach plans for Core20PLUS connectors and health checks: targets, patches, connectors and scenarios.

A plan covers one area (a PCN's *indicative* footprint or an ICB) on LSOA 2021. Each LSOA gets a transparent
priority score (:mod:`targeting.priority`); target LSOAs (Core20, PLUS, or above a score cut) are grouped into
chains of neighbouring LSOAs (patches); their residential postcodes are put in walking order and cut into rounds
of about the capacity in households (:mod:`targeting.rounds`): a connector's month (``campaign``) or a worker's
standing neighbourhood (``caseload``). Health-check numbers (residents aged 40–74, hypertension in adults 16+
not on a GP register and PHE's modelled undiagnosed component beside it, expected new hypertension diagnoses from
NHS Health Checks, SMI and learning-disability registers) are carried per LSOA, patch and connector.

One module per step: :mod:`.inputs` gathers the area's LSOAs and postcodes, :mod:`.plan` makes the
:class:`OutreachPlan`, :mod:`.tables` its tables and files, :mod:`.scenario` the scenario table.
"""

from targeting.outreach.inputs import outreach_inputs
from targeting.outreach.plan import (
    DEFAULT_CAPACITY,
    DEFAULT_CONNECTORS,
    DEFAULT_MONTHS,
    MAX_CAPACITY,
    MAX_CONNECTORS,
    MAX_MONTHS,
    MIN_CAPACITY,
    OutreachPlan,
    check_settings,
    plan_outreach,
)
from targeting.outreach.scenario import scenario, scenario_around
from targeting.outreach.tables import ROUND_COLUMNS, TARGET_COLUMNS

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_CONNECTORS",
    "DEFAULT_MONTHS",
    "MAX_CAPACITY",
    "MAX_CONNECTORS",
    "MAX_MONTHS",
    "MIN_CAPACITY",
    "ROUND_COLUMNS",
    "TARGET_COLUMNS",
    "OutreachPlan",
    "check_settings",
    "outreach_inputs",
    "plan_outreach",
    "scenario",
    "scenario_around",
]
