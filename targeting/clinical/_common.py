"""What the clinical-area summary and trend share.

The areas, the publications to bring, the QOF registers, the practice, PCN or ICB asked about, its QOF year and
the deprivation gradient of its ICB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.areas import Area
from targeting.stats import wilson_ci

if TYPE_CHECKING:
    from targeting.scope import Scope

#: The columns of the summary as the command line prints it, in order.
COLUMNS: tuple[str, ...] = ("area", "measure", "source", "period", "value", "lower", "upper", "icb_value",
                            "england_value", "vs_icb", "vs_england", "sii", "sii_lower", "sii_upper", "status")

#: The columns of :func:`qof_trend`, in order.
TREND_COLUMNS: tuple[str, ...] = ("qof_year", "level", "code", "name", "group_code", "list_type", "register",
                                  "list_size", "value", "lower", "upper", "icb_value", "england_value", "practices",
                                  "member_practices", "status", "source", "note")

#: Fewest practices with data in the ICB for an SII (PHE recommends at least 5 quantiles; 10 practices give 5).
MIN_SII_PRACTICES = 10

#: Said beside every recorded prevalence.
CAVEAT = ("Recorded prevalence is not true prevalence: it counts people diagnosed and coded on a GP register, so a "
          "low figure can mean under-diagnosis rather than less illness.")

#: Said wherever an age-adjusted measure is asked for: why there is no indirectly standardised ratio on the
#: practices' registered 5-year age bands.
NO_AGE_RATES = ("No indirectly standardised ratio on the practices' registered 5-year age bands (NHS England, "
                "Patients Registered at a GP Practice, July 2026): that needs each register's national prevalence "
                "by age band, and QOF publishes none (only each practice's register and list size, all ages "
                "together). Where the tool adjusts, it divides the recorded count by an expected count from a model "
                "instead (recorded ÷ expected).")

#: Where stage at diagnosis is published (the NDRS Rapid Cancer Registration Data dashboards page).
STAGING_URL = "https://digital.nhs.uk/ndrs/data/data-outputs/cancer-data-hub/rapid-cancer-registration-data-dashboards"

#: Said first under early cancer diagnosis: the tool holds no staging data, and where to get it.
NO_STAGING = ("The tool holds no cancer staging data, so it cannot show early diagnosis (cancers found at stage 1 or "
              "2). The QOF cancer register counts people ever diagnosed with cancer, not the stage at which it was "
              "found. Stage at diagnosis is published by NHS England's National Disease Registration Service "
              "(NDRS): the Rapid Cancer Registration Data dashboards (early-stage proportion, monthly, for ICBs and "
              "cancer alliances) and the official statistics \"Case-mix adjusted percentage of cancers diagnosed at "
              "stages 1 and 2 in England\" (by ICB). Neither is published for a practice or PCN.")

AVAILABLE = "available"
BYOD = "bring your own data"


@dataclass(frozen=True)
class ClinicalArea:
    """A Core20PLUS5 clinical area: its key, name, who it is for and what NHS England asks."""

    key: str
    name: str
    group: str  # "adults", "children and young people" or "PLUS group"
    aim: str


#: The clinical areas in display order.
AREAS: dict[str, ClinicalArea] = {a.key: a for a in (
    ClinicalArea("maternity", "Maternity", "adults",
                 "continuity of carer for ethnic minority women and the most deprived"),
    ClinicalArea("smi", "Severe mental illness", "adults", "annual physical health checks for people with SMI"),
    ClinicalArea("respiratory", "Chronic respiratory disease", "adults",
                 "COPD: flu, COVID and pneumococcal vaccination uptake"),
    ClinicalArea("cancer", "Early cancer diagnosis", "adults", "75% of cancers diagnosed at stage 1 or 2 by 2028"),
    ClinicalArea("hypertension", "Hypertension", "adults", "case-finding and optimal management (blood pressure "
                                                          "treated to target), with lipid management"),
    ClinicalArea("asthma", "Asthma", "children and young people", "less reliance on reliever medication, fewer "
                                                                   "attacks"),
    ClinicalArea("diabetes", "Diabetes", "children and young people", "more children and young people with type 2 "
                                                                       "diabetes receiving annual health checks"),
    ClinicalArea("epilepsy", "Epilepsy", "children and young people", "access to epilepsy specialist nurses"),
    ClinicalArea("oral_health", "Oral health", "children and young people", "fewer tooth extractions in hospital "
                                                                             "for children under 10"),
    ClinicalArea("cyp_mental_health", "Mental health", "children and young people",
                 "more children and young people from deprived and ethnic minority communities accessing services"),
    ClinicalArea("learning_disability", "Learning disability", "PLUS group",
                 "annual health checks for people aged 14+ with a learning disability"),
)}


@dataclass(frozen=True)
class _Byod:
    area: str
    measure: str
    publication: str
    url: str
    words: tuple[str, ...]  # an uploaded indicator whose name holds one of these replaces the row


#: Measures the tool does not hold, with the official publication that does.
BRING_YOUR_OWN: tuple[_Byod, ...] = (
    _Byod("maternity", "Continuity of carer, bookings and outcomes for ethnic minority and deprived women",
          "maternity data: NHS England Maternity Services Monthly Statistics (MSDS); Fingertips Child and Maternal "
          "Health profile", "https://fingertips.phe.org.uk/profile/child-health-profiles",
          ("matern", "pregnan", "antenatal", "booking", "birth weight", "births", "delivery", "breastfe",
           "postnatal")),
    _Byod("smi", "Physical health checks for people with severe mental illness (% of register)",
          "NHS England SMI physical health checks: Physical health checks for people with severe mental illness "
          "(quarterly, by sub-ICB)",
          "https://www.england.nhs.uk/statistics/statistical-work-areas/serious-mental-illness-smi/",
          ("physical health check", "severe mental", "serious mental", "smi")),
    _Byod("respiratory", "Flu vaccination uptake (65+, at-risk groups including COPD)",
          "Fingertips flu vaccination: UKHSA seasonal influenza vaccine uptake by GP practice",
          "https://fingertips.phe.org.uk/", ("flu", "influenza", "pneumococcal", "vaccin")),
    _Byod("cancer", "Cancer screening coverage (breast, cervical, bowel) by practice",
          "Fingertips cancer screening coverage by practice (Cancer Services profile)",
          "https://fingertips.phe.org.uk/profile/cancerservices", ("screening",)),
    _Byod("cancer", "Cancers diagnosed at stage 1 or 2 (early diagnosis): no staging data in the tool",
          "NHS England National Disease Registration Service (NDRS): Rapid Cancer Registration Data dashboards "
          "(early-stage proportion by ICB and cancer alliance) and \"Case-mix adjusted percentage of cancers "
          "diagnosed at stages 1 and 2 in England\" (official statistics, by ICB)", STAGING_URL, ("stage",)),
    _Byod("hypertension", "Hypertension treated to target (QOF HYP008/HYP009 achievement, CVDPREVENT)",
          "QOF achievement (NHS England) or CVDPREVENT audit by practice", "https://www.cvdprevent.nhs.uk/",
          ("treated to target", "blood pressure", "hyp008", "hyp009")),
    _Byod("asthma", "Children's asthma: hospital admissions (under 19s)",
          "Fingertips Child and Maternal Health profile", "https://fingertips.phe.org.uk/profile/child-health-profiles",
          ("asthma",)),
    _Byod("diabetes", "Children and young people with diabetes: care processes and HbA1c",
          "National Paediatric Diabetes Audit (RCPCH)", "https://www.rcpch.ac.uk/work-we-do/quality-improvement-"
          "patient-safety/national-paediatric-diabetes-audit", ("paediatric", "children", "young people", "npda")),
    _Byod("epilepsy", "Children and young people with epilepsy: specialist nurse access",
          "Epilepsy12 national audit (RCPCH)", "https://www.rcpch.ac.uk/work-we-do/clinical-audits/epilepsy12",
          ("epilep",)),
    _Byod("oral_health", "Tooth decay in 5-year-olds; hospital tooth extractions under 10",
          "OHID National Dental Epidemiology Programme; Fingertips Oral Health profile",
          "https://fingertips.phe.org.uk/profile/oral-health", ("dental", "tooth", "teeth", "decay", "oral")),
    _Byod("cyp_mental_health", "Children and young people accessing NHS mental health services",
          "NHS England Mental Health Services Monthly Statistics (MHSDS)",
          "https://digital.nhs.uk/data-and-information/publications/statistical/mental-health-services-monthly-"
          "statistics", ("mental health", "self-harm", "self harm", "emotional")),
    _Byod("learning_disability", "Learning disability annual health checks (aged 14+)",
          "NHS England / NHS Digital: Learning Disabilities Health Check Scheme",
          "https://digital.nhs.uk/data-and-information/publications/statistical/learning-disabilities-health-check-"
          "scheme", ("learning disab", "health check")),
)

# QOF register → (area, what the register counts and the list it is a share of)
_QOF: tuple[tuple[str, str, str], ...] = (
    ("MH", "smi", "Severe mental illness register (schizophrenia, bipolar disorder, other psychoses), all ages"),
    ("COPD", "respiratory", "COPD register, all ages"),
    ("CAN", "cancer", "Cancer register (people diagnosed since April 2003, all ages; not stage at diagnosis)"),
    ("HYP", "hypertension", "Hypertension register, all ages"),
    ("AST", "asthma", "Asthma register, aged 6+ (not children only)"),
    ("DM", "diabetes", "Diabetes register, aged 17+ (adults: QOF does not count children's diabetes)"),
    ("EP", "epilepsy", "Epilepsy register, aged 18+ (adults: QOF does not count children's epilepsy)"),
    ("LD", "learning_disability", "Learning disability register, all ages"),
)
#: The QOF registers the summary and :func:`qof_trend` describe: group code → what the register counts.
QOF_REGISTERS: dict[str, str] = {group: what for group, _, what in _QOF}

_LIST_AGES = {"TOTAL": "of all ages", "06OV": "aged 6+", "16OV": "aged 16+", "17OV": "aged 17+", "18OV": "aged 18+",
              "50OV": "aged 50+"}
_QOF_PAGE = ("https://digital.nhs.uk/data-and-information/publications/statistical/"
             "quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data")

#: How the expected count of recorded ÷ expected is adjusted: [other registers, hypertension].
ADJUSTMENT = ("adjusted for age, deprivation and ethnic mix: indirect standardisation on a national regression",
              "age-adjusted: expected from PHE 2016 modelled prevalence of each practice's adults")
#: The same, in a few words: [other registers, hypertension].
ADJUSTED_SHORT = ("adjusted for age, deprivation, ethnic mix", "age-adjusted")


@dataclass(frozen=True)
class _Unit:
    level: str  # practice, pcn or icb
    code: str
    name: str
    icb: Area  # the ICB the unit sits in
    practices: pd.Index  # member practice codes (the atlas's practice map)


def _unit(scope: Scope) -> _Unit:
    """The practice, PCN or ICB of the scope, its ICB and its member practices."""
    area = scope.area
    if area is None or area.kind not in ("practice", "pcn", "icb"):
        raise ValueError("give exactly one of practice, pcn or icb")
    icb = Area("icb", str(area.icb_code), str(area.icb_name), area.icb_code, area.icb_code_nhs, area.icb_name)
    prac = scope.atlas.practices
    if area.kind == "pcn":
        members = prac.loc[prac["pcn_code"] == area.code, "practice_code"]
    elif area.kind == "icb":
        members = prac.loc[prac["icb_code_nhs"] == area.icb_code_nhs, "practice_code"]
    else:
        members = pd.Series([area.code])
    code = str(area.icb_code_nhs) if area.kind == "icb" else area.code
    return _Unit(area.kind, code, area.name, icb, pd.Index(members))


def _icb_practices(atlas: Any, icb: Area) -> pd.Index:
    prac = atlas.practices
    return pd.Index(prac.loc[prac["icb_code_nhs"] == icb.icb_code_nhs, "practice_code"])


def practice_map_label(atlas: Any) -> str:
    """The month of the practice → PCN → ICB map the atlas describes, e.g. ``"July 2022"``.

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas: the month it was loaded for (``meta["registration"]["title"]``), else a
        ``meta["registrations"]["label"]``.

    Returns
    -------
    str
        The month in words; ``"July 2022"`` (the bundled map) for an atlas that does not say.
    """
    for key, field in (("registration", "title"), ("registrations", "label")):
        reg = atlas.meta.get(key)
        if isinstance(reg, dict) and reg.get(field):
            return str(reg[field])
    return "July 2022"


def qof_years(atlas: Any) -> list[str]:
    """The QOF years in the atlas's ``qof`` table, oldest first (e.g. ``["2020-21", …, "2024-25"]``).

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas.

    Returns
    -------
    list of str
        Financial years as ``YYYY-YY``; empty if the atlas holds no QOF file.
    """
    return sorted(str(y) for y in atlas.qof["qof_year"].unique())


_YEAR = re.compile(r"^(?:QOF\s*)?(20\d{2})\s*[-/]?\s*(?:20)?(\d{2})$", re.I)


def _qof_year(atlas: Any, text: str | None) -> str:
    """The QOF year asked for (``2024-25``, ``2024/25``, ``2425`` or ``QOF 2024-25``), default the newest."""
    years = qof_years(atlas)
    if not years:
        raise LookupError("the atlas holds no QOF prevalence file; add one and rebuild")
    if text is None or not str(text).strip():
        return years[-1]
    t = str(text).strip()
    m = _YEAR.match(t) or re.match(r"^(\d{2})(\d{2})$", t)
    year = f"{int(m.group(1)) % 100 + 2000 if len(m.group(1)) == 2 else m.group(1)}-{m.group(2)}" if m else t
    if year not in years:
        why = " (not bundled)" if m else ""
        raise LookupError(f"QOF year {t!r} is not in the data{why}; available: {', '.join(years)}")
    return year


def _span(years: list[str]) -> list[str]:
    """Every financial year from the first to the last of ``years`` (``YYYY-YY``), gaps included."""
    first, last = int(years[0][:4]), int(years[-1][:4])
    return [f"{y}-{(y + 1) % 100:02d}" for y in range(first, last + 1)]


def _qof_file(year: str) -> Any:
    """The catalogued QOF prevalence file of ``year`` (a :class:`geo.sources.Source`), or None."""
    from geo.sources import SOURCES

    return next((s for s in SOURCES.values() if s.key.startswith("qof_") and "PREVALENCE" in s.relpath
                 and s.edition == f"QOF {year}"), None)


def _qof_source(atlas: Any, year: str) -> str:
    src = _qof_file(year)
    label = practice_map_label(atlas)
    m = re.search(r"(\d{4})$", label)  # NHS Digital published the maps until it joined NHS England in 2023
    who = "NHS Digital" if m and int(m.group(1)) < 2023 else "NHS England"
    return (f"{src.publisher if src else 'NHS England'} QOF {year} prevalence (registers and list sizes); "
            f"practice → PCN map {label} ({who})")


def _row(area: str, measure: str, source: str, period: str, **kw: Any) -> dict[str, Any]:
    out = {"area_key": area, "area": AREAS[area].name, "group": AREAS[area].group, "measure": measure,
           "source": source, "period": period, "value": np.nan, "lower": np.nan, "upper": np.nan,
           "icb_value": np.nan, "england_value": np.nan, "sii": np.nan, "sii_lower": np.nan, "sii_upper": np.nan,
           "status": AVAILABLE, "unit": "%", "numerator": np.nan, "denominator": np.nan, "note": "",
           "user_data": False, "where": "", "short": measure.split(":")[0], "published": None,
           "published_icb": np.nan, "kind": ""}
    out.update(kw)
    return out


class _Gradient:
    """The ICB's practices in deprivation groups (once per summary), and the SII of a proportion across them."""

    def __init__(self, scope: Scope, icb: Area, seed: int):
        from targeting.gradient import deprivation_groups
        from targeting.profiles import practice_profiles

        prof = practice_profiles(scope.with_area(icb))
        self.codes = pd.Index(prof["practice_code"])
        self.groups, self.k = deprivation_groups(prof)
        self.seed = seed

    def sii(self, num: pd.Series, den: pd.Series) -> dict[str, float]:
        """SII (percentage points) of Σnum/Σden across the groups; NaN with too few practices with data."""
        from targeting.gradient import proportion_sii

        n = num.reindex(self.codes).fillna(0)
        d = den.reindex(self.codes).fillna(0)
        nan = {"sii": np.nan, "sii_lower": np.nan, "sii_upper": np.nan}
        if int((d > 0).sum()) < MIN_SII_PRACTICES:
            return nan
        res = proportion_sii(n, d, self.groups, self.k, self.seed)
        if res.get("sii") is None or not np.isfinite(res.get("sii", np.nan)):
            return nan
        return {k: float(res[k]) for k in nan}


def _wilson(x: float, n: float) -> tuple[float, float]:
    """Wilson 95% limits in %; NaN where the register exceeds the list (QOF allows it; Wilson does not)."""
    if not n > 0:
        return np.nan, np.nan
    lo, hi = wilson_ci(x, n, strict=False)
    return 100 * float(lo), 100 * float(hi)
