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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from targeting.areas import resolve_area, resolve_icb
from targeting.stats import significance, wilson_ci

__all__ = [
    "AREAS",
    "BRING_YOUR_OWN",
    "CAVEAT",
    "COLUMNS",
    "MIN_SII_PRACTICES",
    "NO_AGE_RATES",
    "NO_STAGING",
    "QOF_REGISTERS",
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
_DM_ACH = (("dm019", "DM019: people with diabetes whose last blood pressure is 140/80 mmHg or less (%, aged 17+)"),
           ("dm020", "DM020: people with diabetes whose last HbA1c is 58 mmol/mol or less (%, aged 17+)"))


@dataclass(frozen=True)
class _Unit:
    level: str  # practice, pcn or icb
    code: str
    name: str
    icb: pd.Series  # the ICB row (icb_code, icb_code_nhs, icb_name)
    practices: pd.Index  # member practice codes (the atlas's practice map)


def _unit(atlas: Any, *, practice: str | None, pcn: str | None, icb: str | None) -> _Unit:
    given = [(k, v) for k, v in (("practice", practice), ("pcn", pcn), ("icb", icb)) if v]
    if len(given) != 1:
        raise ValueError("give exactly one of practice, pcn or icb")
    area = resolve_area(atlas, *given[0])
    row = resolve_icb(atlas, area.icb_code_nhs or area.code)
    prac = atlas.practices
    if area.kind == "pcn":
        members = prac.loc[prac["pcn_code"] == area.code, "practice_code"]
    elif area.kind == "icb":
        members = prac.loc[prac["icb_code_nhs"] == row["icb_code_nhs"], "practice_code"]
    else:
        members = pd.Series([area.code])
    code = str(row["icb_code_nhs"]) if area.kind == "icb" else area.code
    return _Unit(area.kind, code, area.name, row, pd.Index(members))


def _icb_practices(atlas: Any, icb: pd.Series) -> pd.Index:
    prac = atlas.practices
    return pd.Index(prac.loc[prac["icb_code_nhs"] == icb["icb_code_nhs"], "practice_code"])


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

    def __init__(self, atlas: Any, icb: pd.Series, imd: int, seed: int):
        from targeting.compare import _practice_deciles
        from targeting.profiles import practice_profiles

        prof = practice_profiles(atlas, imd=imd, icb=icb["icb_code_nhs"])
        self.codes = pd.Index(prof["practice_code"])
        self.groups, self.k = _practice_deciles(prof)
        self.seed = seed
        self.imd = imd

    def sii(self, num: pd.Series, den: pd.Series) -> dict[str, float]:
        """SII (percentage points) of Σnum/Σden across the groups; NaN with too few practices with data."""
        from targeting.compare import _sii

        n = num.reindex(self.codes).fillna(0)
        d = den.reindex(self.codes).fillna(0)
        nan = {"sii": np.nan, "sii_lower": np.nan, "sii_upper": np.nan}
        if int((d > 0).sum()) < MIN_SII_PRACTICES:
            return nan
        res = _sii(n, d, self.groups, self.k, self.seed)
        if res.get("sii") is None or not np.isfinite(res.get("sii", np.nan)):
            return nan
        return {k: float(res[k]) for k in nan}


def _qof_rows(atlas: Any, unit: _Unit, grad: _Gradient, year: str) -> list[dict[str, Any]]:
    from targeting.profiles import qof_prevalence

    source = _qof_source(atlas, year)
    rows = []
    for group, area, what in _QOF:
        try:
            prac = qof_prevalence(atlas, group, year, level="practice").set_index("code")
            eng = qof_prevalence(atlas, group, year, level="england").iloc[0]
        except LookupError:
            rows.append(_row(area, f"{what}: recorded prevalence", f"{source}: not in this data", year,
                             status=BYOD, where=_QOF_PAGE))
            continue
        mine = prac.reindex(unit.practices).dropna(subset=["register"])
        icb_p = prac.reindex(_icb_practices(atlas, unit.icb)).dropna(subset=["register"])
        x, n = float(mine["register"].sum()), float(mine["list_size"].sum())
        lo, hi = _wilson(x, n)
        icb_v = 100 * icb_p["register"].sum() / icb_p["list_size"].sum() if unit.level != "icb" else np.nan
        missing = len(unit.practices) - len(mine)
        note = f"{CAVEAT} {_crude_words(group)}" + (f" {missing} member practice(s) have no QOF {year} data."
                                                   if missing else "")
        ages = _LIST_AGES.get(str(eng["list_type"]), str(eng["list_type"]))
        rows.append(_row(area, f"{what}: crude recorded prevalence (% of patients {ages}; not age-adjusted)",
                         f"{source}; recorded, not true, prevalence", year,
                         value=100 * x / n if n else np.nan, lower=lo, upper=hi, icb_value=icb_v,
                         england_value=float(eng["prevalence_pct"]), numerator=x, denominator=n, note=note,
                         short=f"QOF {group} crude recorded prevalence", kind="crude",
                         **grad.sii(prac["register"], prac["list_size"])))
    return rows


def _crude_words(group: str) -> str:
    """What a crude register prevalence is not, and where the adjusted measure is (or why there is none)."""
    from targeting.gaps import REGISTERS

    words = "Crude: not adjusted for age, so a young population shows a low figure."
    if group == "CAN":
        return f"{words} {NO_STAGING}"
    if group in REGISTERS:
        return f"{words} The adjusted measure is recorded ÷ expected, given first."
    return f"{words} {NO_AGE_RATES}"


def _wilson(x: float, n: float) -> tuple[float, float]:
    """Wilson 95% limits in %; NaN where the register exceeds the list (QOF allows it; Wilson does not)."""
    if not n > 0:
        return np.nan, np.nan
    lo, hi = wilson_ci(x, n, strict=False)
    return 100 * float(lo), 100 * float(hi)


def _gap_table(atlas: Any, codes: pd.Index, label: str, imd: int) -> pd.Series:
    """pcn_gaps for any group of practices: one row of summed recorded and expected counts with limits."""
    from targeting.gaps import pcn_gaps

    members = pd.DataFrame({"practice_code": list(codes), "pcn_code": label})
    return pcn_gaps(atlas, [label], imd=imd, registers=[g for g, *_ in _QOF if g != "CAN"],
                    membership=members).iloc[0]


def _gap_rows(atlas: Any, unit: _Unit, imd: int) -> list[dict[str, Any]]:
    from targeting.gaps import REGISTERS
    from targeting.gaps import SOURCES as GAP_SOURCES
    from targeting.gaps._common import _latest_qof

    year = _latest_qof(atlas)[1]  # the QOF year the gaps are modelled on

    mine = _gap_table(atlas, unit.practices, "UNIT", imd)
    icb = _gap_table(atlas, _icb_practices(atlas, unit.icb), "ICB", imd) if unit.level != "icb" else None
    eng = _memo_england_gaps(atlas, imd)
    rows = []
    for group, area, _ in _QOF:
        if group not in REGISTERS:
            continue
        r = group.lower()
        v, lo, hi = (float(mine[f"{r}_ratio{s}"]) for s in ("", "_lower", "_upper"))
        rows.append(_row(area, f"{REGISTERS[group].name}: recorded ÷ expected ({ADJUSTMENT[group == 'HYP']}; ratio)",
                         GAP_SOURCES["detection"], year, value=v, lower=lo, upper=hi, unit="ratio",
                         icb_value=float(icb[f"{r}_ratio"]) if icb is not None else np.nan,
                         england_value=float(eng[f"{r}_ratio"]), numerator=float(mine[f"{r}_recorded"]),
                         denominator=float(mine[f"{r}_expected"]), kind="adjusted",
                         short=f"QOF {group} recorded ÷ expected ({ADJUSTED_SHORT[group == 'HYP']})",
                         note="1 = as many people on the register as expected for the population; below 1: fewer, "
                              "a possible detection gap. Not a proportion, so no SII. "
                              + ("" if group == "HYP" else NO_AGE_RATES)))
        if group == "HYP":
            rows.extend(_hypertension_counts(atlas, unit, mine, year))
    return rows


#: How the expected count of recorded ÷ expected is adjusted: [other registers, hypertension].
ADJUSTMENT = ("adjusted for age, deprivation and ethnic mix: indirect standardisation on a national regression",
              "age-adjusted: expected from PHE 2016 modelled prevalence of each practice's adults")
#: The same, in a few words: [other registers, hypertension].
ADJUSTED_SHORT = ("adjusted for age, deprivation, ethnic mix", "age-adjusted")


def _hypertension_counts(atlas: Any, unit: _Unit, gap: pd.Series, year: str) -> list[dict[str, Any]]:
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


def hypertension_undiagnosed(atlas: Any, practice_codes: list[str] | None = None) -> pd.DataFrame:
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
    from targeting.gaps._common import _latest_qof

    def build() -> pd.DataFrame:
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

    table = atlas.memo(("clinical", "hyp_undiagnosed_phe"), build)
    codes = table.index if practice_codes is None else pd.Index([str(c).strip().upper() for c in practice_codes])
    return table.reindex(pd.Index(codes, name="practice_code")).reset_index()


def lsoa_hypertension_undiagnosed(atlas: Any, *, imd: int = 2025, age_weighted: bool = False) -> pd.DataFrame:
    r"""PHE's undiagnosed-hypertension component per LSOA, shared out as the detection gap is.

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas.
    imd : {2019, 2025}
        2025: LSOA 2021; 2019: LSOA 2011.
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

    vals = hypertension_undiagnosed(atlas).dropna(subset=["hyp_undiagnosed_phe"]).drop(columns="adults_16plus")
    weight = None
    if age_weighted:  # the weights of lsoa_detection_gap(age_weighted=True): each LSOA's share aged 40-74
        t = atlas.edition(imd).lsoas
        total = t["age_total_2021"] if "age_total_2021" in t.columns else t["pop_mid2020"]
        weight = (t["aged_40_74"] / total.where(total > 0)).fillna(0).to_numpy(float)
    return _apportion(atlas, vals, imd, weight)


def _memo_england_gaps(atlas: Any, imd: int) -> pd.Series:
    """England's summed detection figures (every practice), once per atlas and edition."""
    return atlas.memo(("clinical", "england_gaps", int(imd)),
                      lambda: _gap_table(atlas, pd.Index(atlas.practices["practice_code"]), "ENGLAND", imd))


def _dm_achievement(atlas: Any) -> pd.DataFrame:
    """Per practice: DM019 and DM020 (0–1) with the 2021-22 diabetes register as the weight (empty if absent)."""
    ach = atlas.qof_achievement
    ach = ach[ach["qof_year"] == "2021-22"].pivot_table(index="practice_code", columns="indicator",
                                                       values="achievement")
    q = atlas.qof
    reg = q[(q["qof_year"] == "2021-22") & (q["group_code"] == "DM")].set_index("practice_code")["register"]
    out = ach.rename(columns=str.lower).join(reg.rename("register"), how="inner")
    return out if {"dm019", "dm020"} <= set(out.columns) else pd.DataFrame()


def _dm_rows(atlas: Any, unit: _Unit, grad: _Gradient) -> list[dict[str, Any]]:
    from geo.sources import SOURCES

    t = atlas.memo(("clinical", "dm_achievement"), lambda: _dm_achievement(atlas))
    if t.empty:
        src = SOURCES["qof_2122_dm"]
        return [_row("diabetes", label, f"{src.publisher} {src.title} ({src.url}): not in the atlas; add the file "
                     "and rebuild", "2021-22", status=BYOD, where=src.page) for _, label in _DM_ACH]
    rows = []
    src = ("NHS Digital QOF 2021-22 achievement by practice (DM019, DM020) and diabetes registers; practice → PCN "
           f"map {practice_map_label(atlas)}. Approximate: the indicators' own denominators are not in the file, so "
           "practices are weighted by their diabetes register")
    for col, label in _DM_ACH:
        ok = t[t[col].notna()]
        num = ok[col] * ok["register"]
        den = ok["register"].astype(float)

        def pooled(codes: pd.Index, num: pd.Series = num, den: pd.Series = den) -> tuple[float, float]:
            return float(num.reindex(codes).sum()), float(den.reindex(codes).sum())

        x, n = pooled(unit.practices)
        ix, i_n = pooled(_icb_practices(atlas, unit.icb))
        lo, hi = _wilson(x, n)
        rows.append(_row("diabetes", label, src, "2021-22", value=100 * x / n if n else np.nan, lower=lo, upper=hi,
                         icb_value=100 * ix / i_n if unit.level != "icb" and i_n else np.nan,
                         england_value=100 * float(num.sum()) / float(den.sum()), numerator=x, denominator=n,
                         note="Limits approximate (diabetes register as the denominator).", short=label.split(":")[0],
                         **grad.sii(num, den)))
    return rows


def _published_fingertips(atlas: Any, unit: _Unit, ind: Any, rule: Any, imd: int) -> tuple[Any, float]:
    """The unit's value and limits, and its ICB's value, as the Your data page publishes them.

    From :func:`targeting.yourdata.fingertips_tables`: the practice, PCN and ICB counts protected together with the
    practice table, values and limits from the published counts. ``(None, nan)`` when the file has no counts (then
    there is nothing of the user's to protect beyond the small-number check of :func:`for_output`).
    """
    from targeting.yourdata import fingertips_tables

    if not ind.has_counts:
        return None, np.nan
    icb_nhs = str(unit.icb["icb_code_nhs"])
    session = fingertips_tables(ind, atlas, icb_nhs, imd=imd, rule=rule)
    pcns = session.pcns.set_index("pcn_code")
    icb_v = pcns.loc[icb_nhs, "value"] if icb_nhs in pcns.index else None
    icb_value = float(icb_v) if isinstance(icb_v, int | float) and icb_v is not None else np.nan
    if unit.level == "practice":
        p = session.practices
        if p is None or unit.code not in p.index:
            return (None, None, None), icb_value
        return tuple(p.loc[unit.code, ["value", "lower", "upper"]]), icb_value
    code = icb_nhs if unit.level == "icb" else unit.code
    if code not in pcns.index:
        return (None, None, None), icb_value
    return tuple(pcns.loc[code, ["value", "lower", "upper"]]), icb_value


def _fingertips_rows(atlas: Any, unit: _Unit, grad: _Gradient, indicators: list, rule: Any = None,
                     imd: int = 2025) -> list[dict[str, Any]]:
    from targeting.fingertips import aggregate, clinical_area
    from targeting.suppression import DEFAULT_RULE

    rule = rule or DEFAULT_RULE
    rows = []
    for ind in indicators:
        area = getattr(ind, "area", None) or clinical_area(ind.name)
        if area not in AREAS:
            continue  # not one of the areas: the caller lists it as unplaced
        published, published_icb = _published_fingertips(atlas, unit, ind, rule, imd)
        icb_codes = _icb_practices(atlas, unit.icb)
        if unit.level == "practice":
            p = ind.practices[ind.practices["code"] == unit.code]
            mine = {"value": np.nan, "lower": np.nan, "upper": np.nan, "count": np.nan, "denominator": np.nan,
                    "note": "the practice has no row in the file"}
            if len(p):
                mine = {**p.iloc[0][["value", "lower", "upper", "count", "denominator"]].astype(float).to_dict(),
                        "note": f"the file's own row (row {int(p['row'].iloc[0])})"}
        else:
            mine = aggregate(ind, unit.practices, pcn_code=unit.code if unit.level == "pcn" else None,
                             icb_code=str(unit.icb["icb_code"]) if unit.level == "icb" else None)
        icb = aggregate(ind, icb_codes, icb_code=str(unit.icb["icb_code"])) if unit.level != "icb" else None
        eng = ind.england or {}
        gradient = {"sii": np.nan, "sii_lower": np.nan, "sii_upper": np.nan}
        if ind.proportion:
            p = ind.practices[ind.practices["value"].notna()].set_index("code")
            # from the user's exact counts: given to 1 decimal, as every published rate beside withheld counts is
            gradient = {k: (round(float(v), 1) if np.isfinite(v) else v)
                        for k, v in grad.sii(p["count"], p["denominator"]).items()}
        note = mine.get("note", "")
        if not eng:
            note += "; the file has no England row"
        rows.append(_row(area, f"{ind.label} ({ind.unit})", ind.source, ind.period, value=mine["value"],
                         lower=mine["lower"], upper=mine["upper"], unit=ind.unit,
                         icb_value=icb["value"] if icb else np.nan, england_value=eng.get("value", np.nan),
                         numerator=mine.get("count", np.nan), denominator=mine.get("denominator", np.nan),
                         note=note.strip("; "), user_data=True, short=ind.name, published=published,
                         published_icb=published_icb, **gradient))
    return rows


def summary(atlas: Any, *, practice: str | None = None, pcn: str | None = None, icb: str | None = None,
            fingertips: list | tuple = (), imd: int = 2025, seed: int = 20240401,
            qof_year: str | None = None, rule: Any = None) -> pd.DataFrame:
    r"""The Core20PLUS5 clinical-area summary of a practice, a PCN or an ICB.

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas.
    practice, pcn, icb : str
        Exactly one: a practice code; a PCN code or unique part of its name; an ICB's ONS code, NHS code or name.
    fingertips : sequence of targeting.fingertips.FingertipsIndicator
        Indicators from Fingertips exports (:func:`targeting.fingertips.select`). Each goes into the area its name
        belongs to (or ``indicator.area`` if set) and replaces the "bring your own data" row it answers.
    imd : {2019, 2025}
        IMD edition of the practices' deprivation groups (SII) and of the indirect standardisation.
    seed : int
        Seed of the SII simulations, so results are reproducible.
    qof_year : str, optional
        QOF year of the register rows, e.g. ``"2022-23"`` (also ``2022/23`` or ``2223``); default the newest in
        the atlas (QOF 2024-25 with the bundled data). A year not in the data (QOF 2023-24) is a LookupError.
    rule : targeting.suppression.SuppressionRule, optional
        Small-number rule for figures from a user's file (default NHS Digital's): their ``published`` value and
        limits are those the Your data page publishes (:func:`targeting.yourdata.fingertips_tables`).

    Returns
    -------
    pandas.DataFrame
        One row per area and measure, areas in :data:`AREAS` order and, within an area, the adjusted measure
        (recorded ÷ expected) first, then the crude recorded prevalence, counts, other figures, a user's indicators
        and data to bring; under early cancer diagnosis the statement that the tool holds no staging data
        (:data:`NO_STAGING`) comes first. Columns: the :data:`COLUMNS` (``value``, limits and
        comparators in the measure's unit: % for proportions, a ratio for recorded ÷ expected, people for counts;
        ``sii`` in percentage points), then ``area_key``, ``group``, ``unit``, ``numerator``, ``denominator`` (the
        summed register and list, or count and denominator), ``note``, ``user_data`` (built from a user's file:
        suppress before showing, see :func:`for_output`), ``where`` (where to get the data, for rows to bring),
        ``short`` (a short name of the measure) and ``kind`` (``adjusted``, ``crude``, ``count``,
        ``no staging data`` or empty).
        ``attrs`` holds ``level``, ``code``, ``name``, ``icb_name``, ``caveat``, ``unplaced`` (uploaded
        indicators that fit no area), ``qof_year`` (of the register rows), ``gap_qof_year`` (of the detection
        gaps) and ``practice_map`` (the month of the practice → PCN map, e.g. ``"July 2022"``).

    Notes
    -----
    Recorded prevalence :math:`p = \sum_k R_k / \sum_k N_k` over the unit's practices (the atlas's practice → PCN
    map, whatever the QOF year) with Wilson 95% limits; the ICB and England values pool all their practices the
    same way. A register can exceed its list in QOF (e.g. a practice whose list moved during the year); such a
    pooled rate gets no limits.
    Flags: the interval wholly above (``higher``) or below (``lower``) the comparator, else ``similar``.
    """
    year = _qof_year(atlas, qof_year)
    unit = _unit(atlas, practice=practice, pcn=pcn, icb=icb)
    grad = _Gradient(atlas, unit.icb, imd, seed)
    gaps = _gap_rows(atlas, unit, imd)
    rows = _qof_rows(atlas, unit, grad, year) + gaps + _dm_rows(atlas, unit, grad)
    from targeting.fingertips import clinical_area

    placed = [i for i in fingertips if (getattr(i, "area", None) or clinical_area(i.name)) in AREAS]
    rows += _fingertips_rows(atlas, unit, grad, placed, rule, imd)
    answered = [(getattr(i, "area", None) or clinical_area(i.name), i.name.lower()) for i in placed]
    for b in BRING_YOUR_OWN:
        if any(a == b.area and any(w in name for w in b.words) for a, name in answered):
            continue
        staging = b.url == STAGING_URL
        rows.append(_row(b.area, b.measure, b.publication, "", status=BYOD, where=b.url, unit="",
                         kind="no staging data" if staging else "",
                         note=f"{NO_STAGING} Get it from {b.url}." if staging else
                         f"Not held by the tool: get it from {b.publication} ({b.url}) and upload the "
                         "Fingertips export (practice level) where there is one."))
    out = pd.DataFrame(rows)
    order = {k: i for i, k in enumerate(AREAS)}
    out["_a"] = out["area_key"].map(order)
    # within an area: what the tool cannot show about early cancer diagnosis first, then the adjusted measure,
    # the crude one, counts, other figures, a user's indicators, and data to bring
    out["_s"] = out["kind"].map(_ORDER).fillna(4)
    out.loc[out["user_data"].astype(bool), "_s"] = 5
    out.loc[(out["status"] == BYOD) & (out["kind"] != "no staging data"), "_s"] = 6
    out = out.sort_values(["_a", "_s"], kind="stable").drop(columns=["_a", "_s"]).reset_index(drop=True)
    out["vs_icb"] = significance(out["lower"], out["upper"], out["icb_value"])
    out["vs_england"] = significance(out["lower"], out["upper"], out["england_value"])
    out.loc[out["status"] == BYOD, ["vs_icb", "vs_england"]] = ""
    out = out[[*COLUMNS, "area_key", "group", "unit", "numerator", "denominator", "note", "user_data", "where",
               "short", "published", "published_icb", "kind"]]
    out.attrs.update(level=unit.level, code=unit.code, name=unit.name, icb_name=str(unit.icb["icb_name"]),
                     icb_code=str(unit.icb["icb_code_nhs"]), caveat=CAVEAT, imd=imd,
                     unplaced=[i.label for i in fingertips if i not in placed], qof_year=year,
                     gap_qof_year=str(gaps[0]["period"]) if gaps else "", practice_map=practice_map_label(atlas),
                     rule=rule)
    return out


#: Order of the rows of an area by their ``kind`` (anything else: 4).
_ORDER = {"no staging data": 0, "adjusted": 1, "crude": 2, "count": 3}


def _pooled(rows: pd.DataFrame, codes: pd.Index | None) -> tuple[float, float, int]:
    """Summed register and list of the practices ``codes`` (all rows if None) with a row, and how many had one."""
    sub = rows if codes is None else rows.reindex(codes).dropna(subset=["register"])
    return float(sub["register"].sum()), float(sub["list_size"].sum()), len(sub)


def _pct(x: float, n: float) -> float:
    return 100 * x / n if n > 0 else np.nan


def qof_trend(atlas: Any, register: str, *, level: str = "england", code: str | None = None) -> pd.DataFrame:
    r"""One QOF register's recorded prevalence in every year from the first to the last QOF year in the atlas.

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas (its ``qof`` table: QOF 2020-21, 2021-22, 2022-23 and 2024-25 with the bundled data).
    register : str
        QOF group code, e.g. ``HYP``, ``MH``, ``COPD``, ``DM`` (``qof_`` prefix and case ignored).
    level : {"england", "icb", "pcn", "practice"}
        What the rows describe.
    code : str, optional
        The practice code, PCN code (or unique part of its name) or ICB (ONS code, NHS code or name); not used
        for England.

    Returns
    -------
    pandas.DataFrame
        One row per year, oldest first, with the :data:`TREND_COLUMNS`: ``register`` and ``list_size`` summed over
        the practices with a row that year (``practices`` of ``member_practices``), ``value`` the crude recorded
        prevalence in % (not age-adjusted: no adjusted measure exists by year) with Wilson 95% ``lower`` and
        ``upper`` limits, ``icb_value`` (a PCN's or practice's ICB,
        same practices every year) and ``england_value`` (every practice in that year's file), ``status``
        (``available``, ``no data`` or ``not bundled``), ``source`` (publisher, QOF year, file and the practice
        map used) and ``note``. A year between the first and the last that the data does not hold (QOF 2023-24)
        is a row with no value, status ``not bundled`` and the note "not bundled: QOF 2023-24 is not in the
        data": never interpolated. ``attrs`` holds ``level``, ``code``, ``name``, ``group_code`` and
        ``practice_map``.

    Raises
    ------
    LookupError
        If the register is in no QOF year of the atlas, or the area is not found.
    ValueError
        If ``level`` is not one of the four, or a practice, PCN or ICB is asked for without ``code``.

    Notes
    -----
    :math:`p = \sum_k R_k / \sum_k N_k` over the unit's practices, as in :func:`summary`. A PCN's or ICB's
    practices are those of the atlas's practice map (:func:`practice_map_label`) for **every** year: there is no
    geography mapping for QOF 2024-25, and using one map keeps the years comparable. A member practice with no
    row in a year (opened later, or merged) is left out of that year and counted in the note; a practice that
    closed before the map's month is in no PCN, so it counts only in England.
    """
    group = str(register).strip().upper().removeprefix("QOF_")
    q = atlas.qof
    years = qof_years(atlas)
    rows_q = q[q["group_code"] == group]
    if rows_q.empty:
        avail = sorted(q["group_code"].unique())
        raise LookupError(f"No QOF register {register!r} in the data; available: {', '.join(avail)}")
    level = str(level).strip().lower()
    label = practice_map_label(atlas)
    if level == "england":
        members = icb_members = None
        out_code, name = "E92000001", "England"
    elif level in ("practice", "pcn", "icb"):
        if not code:
            raise ValueError(f"give the code of the {level} (level={level!r})")
        unit = _unit(atlas, **{"practice": None, "pcn": None, "icb": None, level: code})
        members = unit.practices
        icb_members = _icb_practices(atlas, unit.icb) if level != "icb" else None
        out_code, name = unit.code, unit.name
    else:
        raise ValueError(f"level must be england, icb, pcn or practice, not {level!r}")
    by_year = {str(y): t.set_index("practice_code") for y, t in rows_q.groupby("qof_year")}
    out = []
    for year in _span(years):
        base = {"qof_year": year, "level": level, "code": out_code, "name": name, "group_code": group,
                "list_type": "", "register": np.nan, "list_size": np.nan, "value": np.nan, "lower": np.nan,
                "upper": np.nan, "icb_value": np.nan, "england_value": np.nan, "practices": 0,
                "member_practices": len(members) if members is not None else np.nan}
        src = _qof_file(year)
        if year not in years:
            out.append({**base, "status": "not bundled",
                        "source": f"{src.publisher if src else 'NHS England'} QOF {year}: not bundled ({_QOF_PAGE})",
                        "note": f"not bundled: QOF {year} is not in the data"})
            continue
        where = f"{src.publisher} QOF {year} prevalence ({src.relpath.rsplit('/', 1)[-1]})" if src else f"QOF {year}"
        if year not in by_year:
            out.append({**base, "status": "no data", "source": where,
                        "note": f"QOF {year} has no {group} register"})
            continue
        t = by_year[year]
        x, n, k = _pooled(t, members)
        lo, hi = _wilson(x, n)
        ex, en, _ = _pooled(t, None)
        ix, i_n, _ = _pooled(t, icb_members) if icb_members is not None else (np.nan, np.nan, 0)
        if level == "england":
            who = "every practice in the file"
        elif level == "practice":
            who = "the practice's own row"
        else:
            who = f"member practices from the practice → PCN map of {label}, the same for every year"
        note = ""
        if members is not None and k < len(members):
            note = (f"{len(members) - k} of {len(members)} member practice(s) have no QOF {year} {group} row "
                    "(opened later, merged or closed)")
        out.append({**base, "list_type": ",".join(sorted(t["list_type"].astype(str).unique())),
                    "register": x if k else np.nan, "list_size": n if k else np.nan, "value": _pct(x, n),
                    "lower": lo, "upper": hi, "icb_value": _pct(ix, i_n) if icb_members is not None else np.nan,
                    "england_value": _pct(ex, en), "practices": k, "status": "available" if k else "no data",
                    "source": f"{where}; {who}; crude recorded prevalence, not age-adjusted", "note": note})
    table = pd.DataFrame(out, columns=list(TREND_COLUMNS))
    table.attrs.update(level=level, code=out_code, name=name, group_code=group, practice_map=label)
    return table


def for_output(table: pd.DataFrame, rule: Any = None) -> pd.DataFrame:
    """The summary's :data:`COLUMNS` ready to print or download, with the small-number rule applied to user data.

    A row built from a user's file (``user_data``) with counts shows the value and limits the Your data page
    publishes (``published``: from the practice, PCN and ICB counts protected together with the practice table and
    rounded, one decimal), never the exact ones, and its comparison flags are recomputed from them (against the ICB's
    published value); where they are withheld, so are the flags (``*``). A user row without counts (a file of values
    only) is withheld when its count or denominator is small (default rule: 1–7). The tool's own published figures
    are left as they are. App and command line both write this table.
    """
    from targeting.suppression import DEFAULT_RULE, suppress_rates

    rule = rule or table.attrs.get("rule") or DEFAULT_RULE
    out = table[list(COLUMNS)].copy()
    user = table["user_data"].astype(bool).to_numpy()
    if user.any():
        out[["value", "lower", "upper"]] = out[["value", "lower", "upper"]].astype(float).round(3)
        out = out.astype({c: object for c in ("value", "lower", "upper", "icb_value", "vs_icb", "vs_england")})
        sub = table[user]
        shown = suppress_rates(sub["value"], numerator=sub["numerator"],
                               denominator=sub["denominator"], rule=rule)
        hidden = shown.astype(str).eq(rule.symbol).to_numpy()
        idx = sub.index[hidden]
        out.loc[idx, ["value", "lower", "upper", "vs_icb", "vs_england"]] = rule.symbol
        published = table["published"] if "published" in table.columns else pd.Series(None, index=table.index)
        for i in sub.index:
            pub = published.get(i)
            if pub is None:
                continue  # no counts in the file: the check above is all there is to do
            value, lower, upper = pub
            has_icb = pd.notna(table.at[i, "icb_value"])  # a practice's or PCN's row compares with its ICB
            icb = table.at[i, "published_icb"] if has_icb else np.nan
            if has_icb:
                out.at[i, "icb_value"] = rule.symbol if pd.isna(icb) else float(icb)
            if rule.symbol in (value, lower, upper):
                out.loc[i, ["value", "lower", "upper", "vs_icb", "vs_england"]] = rule.symbol
                continue
            out.loc[i, ["value", "lower", "upper"]] = [value, lower, upper]
            if has_icb:
                out.at[i, "vs_icb"] = rule.symbol if pd.isna(icb) else significance(lower, upper, float(icb))
            out.at[i, "vs_england"] = significance(lower, upper, table.at[i, "england_value"])
    return out
