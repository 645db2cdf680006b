"""What every gap model shares: registers, sources, the edition check and registrations on known LSOAs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from targeting.stats import Z95  # noqa: F401 - re-exported for the gap models
from targeting.store import derived

if TYPE_CHECKING:
    from geo.atlas import Atlas
    from geo.editions import Edition

#: PCN code NHS Digital gives practices not in any PCN ("Unallocated"); never treated as a PCN here.
UNALLOCATED_PCN = "U"


class GapInputError(ValueError):
    """A gap was asked for with an argument the data cannot answer (unknown code, register or edition)."""


@dataclass(frozen=True)
class Register:
    """A QOF register supported by the detection gap."""

    code: str
    name: str
    model: str  # "phe2016" (modelled prevalence) or "isr" (indirect standardisation, national regression)


#: Every register the detection gap supports, in display order. QOF group codes.
REGISTERS: dict[str, Register] = {r.code: r for r in (
    Register("HYP", "Hypertension", "phe2016"),
    Register("MH", "Severe mental illness (schizophrenia, bipolar disorder, other psychoses)", "isr"),
    Register("DM", "Diabetes (aged 17+)", "isr"),
    Register("AST", "Asthma (aged 6+)", "isr"),
    Register("COPD", "Chronic obstructive pulmonary disease", "isr"),
    Register("LD", "Learning disability", "isr"),
    Register("CHD", "Coronary heart disease", "isr"),
    Register("AF", "Atrial fibrillation", "isr"),
    Register("HF", "Heart failure", "isr"),
    Register("STIA", "Stroke and transient ischaemic attack", "isr"),
    Register("CKD", "Chronic kidney disease stages 3a-5 (aged 18+)", "isr"),
    Register("DEM", "Dementia", "isr"),
    Register("EP", "Epilepsy (aged 18+)", "isr"),
)}

#: Registers returned by default: the Core20PLUS5 clinical areas a PCN acts on.
CORE_REGISTERS: tuple[str, ...] = ("HYP", "MH", "DM", "AST", "COPD", "LD")

#: Source and vintage line for each gap, to print beside every figure and export.
SOURCES: dict[str, str] = {
    "detection": "Recorded: QOF 2022-23 disease registers (NHS England). Expected: hypertension from PHE 2016 modelled "
                 "prevalence by practice; other registers indirectly standardised on a national regression over "
                 "QOF 2022-23 list ages, IMD deciles (IoD 2019 or 2025) and Census 2021 ethnic group of the LSOAs "
                 "patients live in (GP registrations July 2022). Method: docs/methods.md.",
    "registration": "Census 2021 usual residents (ONS) and patients registered at a GP practice by LSOA, July 2022 "
                    "(NHS Digital), LSOA 2021 (registrations apportioned from LSOA 2011).",
    "reach": "GP registrations by LSOA, July 2022, and practice → PCN map of the same month (NHS Digital); "
             "Core20 = national IMD deciles 1–2 (IoD 2019 or 2025).",
    "access": "Practice locations (ODS postcode, OS Code-Point Open, July 2022 practices, main sites only); "
              "LSOA population-weighted centroids from postcode units; straight-line distance, EPSG:27700.",
}

_ETHNIC = ("pct_asian", "pct_black", "pct_mixed", "pct_other")
_AGE_TYPES = ("TOTAL", "06OV", "16OV", "18OV", "50OV")
_MIN_FIT_LIST = 1000  # practices with a smaller list are predicted but do not fit the national model

_VALUE_COLS = ("recorded", "expected", "undiagnosed", "undiagnosed_lower", "undiagnosed_upper", "ratio",
               "ratio_lower", "ratio_upper", "denominator")


# --------------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------------
def _registers(registers: list[str] | tuple[str, ...] | None) -> list[str]:
    if registers is None:
        return list(CORE_REGISTERS)
    out = [str(r).strip().upper() for r in registers]
    bad = [r for r in out if r not in REGISTERS]
    if bad:
        raise GapInputError(f"unsupported QOF register(s) {bad}; choose from {', '.join(REGISTERS)}")
    return out


def _known_registrations(ed: Edition) -> pd.DataFrame:
    """Registrations (practice × LSOA) of the edition's vintage, English LSOAs of that vintage only.

    ``_lsoa`` is the row position in ``ed.lsoas``; ``_practice`` indexes :func:`_known_practices`.
    """
    return _known(ed)[0]


def _known_practices(ed: Edition) -> np.ndarray:
    """Practice code of each ``_practice`` index of :func:`_known_registrations`."""
    return _known(ed)[1]


@derived
def _known(ed: Edition) -> tuple[pd.DataFrame, np.ndarray]:
    reg = ed.registrations
    lsoas = pd.Index(ed.lsoas["lsoa_code"])
    codes = lsoas.get_indexer(reg["lsoa_code"])
    keep = (codes >= 0) & (reg["patients"].to_numpy() > 0)
    out = reg.loc[keep, ["practice_code", "lsoa_code", "patients"]].reset_index(drop=True)
    out["_lsoa"] = codes[keep]  # row position in ed.lsoas
    out["_practice"], names = pd.factorize(out["practice_code"])
    return out, np.asarray(names, dtype=object)


#: The QOF year the gaps are modelled on, as their sources say (the newest bundled year, QOF 2024-25, is read by
#: targeting.clinical); an atlas without it uses its latest year.
GAP_QOF_YEAR = "2022-23"


def _latest_qof(atlas: Atlas) -> tuple[pd.DataFrame, str]:
    q = atlas.qof
    if q.empty:
        raise GapInputError("the atlas has no QOF prevalence table (qof); rebuild it with the QOF files present")
    year = GAP_QOF_YEAR if (q["qof_year"] == GAP_QOF_YEAR).any() else str(q["qof_year"].max())
    return q[q["qof_year"] == year], year
