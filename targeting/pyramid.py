r"""A PCN's registered population pyramid, beside the residents of its indicative footprint.

* **Registered patients**: NHS England's "Patients registered at a GP practice" quin-age file of the registration
  month (``gp-reg-pat-prac-quin-age``; July 2026 here): each member practice's patients by sex and 5-year age band
  (0–4 … 90–94, 95+), summed over the PCN's practices in the month's practice map. The bands of a practice sum
  exactly to its list size, so a PCN's bands sum to its registered patients. England's bands (every practice) are
  the comparator.
* **Residents of the footprint**: Census 2021 (census day 21 March 2021) usual residents of the LSOAs 2021 of the
  PCN's indicative footprint (:func:`targeting.footprints.pcn_footprints`), persons only: ONS publishes LSOA
  ages in 6 bands (0–15, 16–24, 25–34, 35–49, 50–64, 65+), which are split into 5-year bands with the single years
  of age of the LSOA's MSOA (TS007), as the atlas splits them for residents aged 40–74. No sex split of residents
  by age is bundled at LSOA, so the residents are compared with the registered patients by age alone.

The footprint is indicative: the LSOAs where the PCN holds most registered residents, not a boundary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from targeting.store import derived

if TYPE_CHECKING:
    from targeting.scope import Scope

__all__ = ["BANDS", "NoQuinAgeError", "england_bands", "pyramid_for_output", "pyramid_table", "registered_bands",
           "resident_bands"]

#: The 5-year bands of the quin-age file, youngest first: (file code, label, first age, last age or None).
BANDS: tuple[tuple[str, str, int, int | None], ...] = (
    *((f"{a}_{a + 4}", f"{a}–{a + 4}", a, a + 4) for a in range(0, 95, 5)), ("95+", "95+", 95, None))

_SEXES = ("FEMALE", "MALE")


class NoQuinAgeError(LookupError):
    """The registration month has no quin-age file (registered patients by age)."""


def _quin_age_path(atlas: Any) -> Any:
    from geo.months import discover

    files = discover().get(atlas.month.month)
    if files is None or files.quin_age is None:
        raise NoQuinAgeError(f"No registered patients by age for {atlas.month.title}: its quin-age file "
                             "(gp-reg-pat-prac-quin-age) is not in the data")
    return files.quin_age


@derived
def _practice_bands(atlas: Any) -> pd.DataFrame:
    """Every practice's patients by sex and band in the month: ``practice_code, sex, band, patients``."""
    from geo.readers._common import read_csv_text

    path = _quin_age_path(atlas)
    raw = read_csv_text(path, prefer=["quin-age", "quin"])
    cols = {c.strip().upper(): c for c in raw.columns}
    org, sex, age = (raw[cols[k]].astype(str).str.strip().str.upper() for k in ("ORG_TYPE", "SEX", "AGE_GROUP_5"))
    keep = org.eq("GP") & sex.isin(_SEXES) & age.isin([b[0].upper() for b in BANDS])
    out = pd.DataFrame({"practice_code": raw.loc[keep, cols["ORG_CODE"]].astype(str).str.strip().to_numpy(),
                        "sex": sex[keep].str.lower().to_numpy(), "band": age[keep].to_numpy(),
                        "patients": pd.to_numeric(raw.loc[keep, cols["NUMBER_OF_PATIENTS"]]).to_numpy("int64")})
    date = raw[cols["EXTRACT_DATE"]].iloc[0] if "EXTRACT_DATE" in cols and len(raw) else ""
    out.attrs.update(path=str(path), extract_date=str(date))
    return out


def _frame(counts: pd.DataFrame) -> pd.DataFrame:
    """One row per band and sex, youngest first, females then males, with ``pct`` of the whole total."""
    labels = {b[0].upper(): (i, b[1]) for i, b in enumerate(BANDS)}
    g = counts.groupby(["band", "sex"])["patients"].sum()
    rows = []
    for code, (i, label) in sorted(labels.items(), key=lambda kv: kv[1][0]):
        for sex in ("female", "male"):
            rows.append({"band": label, "band_order": i, "sex": sex, "patients": int(g.get((code, sex), 0))})
    out = pd.DataFrame(rows)
    total = out["patients"].sum()
    out["pct"] = 100 * out["patients"] / total if total else np.nan
    return out


def _source(atlas: Any, practices: str) -> str:
    return (f"NHS England, Patients registered at a GP practice, {atlas.month.title}: patients by sex and 5-year age "
            f"band (gp-reg-pat-prac-quin-age), {practices}")


def registered_bands(atlas: Any, pcn: str) -> pd.DataFrame:
    """A PCN's registered patients by sex and 5-year age band in the registration month.

    Parameters
    ----------
    atlas : geo.atlas.Atlas
        The national atlas of a month with a quin-age file (July 2026 here).
    pcn : str
        PCN code.

    Returns
    -------
    pandas.DataFrame
        One row per band and sex (``band`` "0–4" … "95+", ``band_order``, ``sex`` female/male), ``patients`` and
        ``pct`` (% of the PCN's registered patients). ``attrs``: ``pcn``, ``list_size`` (the PCN's registered
        patients in the atlas), ``practices``, ``extract_date``, ``source``.

    Raises
    ------
    LookupError
        If the PCN is not in the month's practice map, or the month has no quin-age file.
    """
    code = str(pcn).strip().upper()
    pr = atlas.practices
    members = pr.loc[pr["pcn_code"] == code, "practice_code"]
    if members.empty:
        raise LookupError(atlas.month.relabel(f"PCN {code} is not in the practice → PCN map of July 2022"))
    bands = _practice_bands(atlas)
    out = _frame(bands[bands["practice_code"].isin(set(members))])
    out.attrs.update(pcn=code, list_size=int(pr.loc[pr["pcn_code"] == code, "list_size"].sum()),
                     practices=len(members), extract_date=bands.attrs.get("extract_date", ""),
                     source=_source(atlas, f"the PCN's {len(members)} member practices summed"))
    return out


def england_bands(atlas: Any) -> pd.DataFrame:
    """England's registered patients by sex and 5-year band (every practice in the quin-age file).

    Returns
    -------
    pandas.DataFrame
        As :func:`registered_bands`.
    """
    bands = _practice_bands(atlas)
    out = _frame(bands)
    out.attrs.update(source=_source(atlas, "every practice in England"),
                     extract_date=bands.attrs.get("extract_date", ""))
    return out


def _largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers summing to ``total``, each the floor of its value plus one for the largest remainders."""
    floor = np.floor(values).astype("int64")
    left = int(total - floor.sum())
    if left > 0:
        order = np.argsort(-(values - floor), kind="stable")[:left]
        floor[order] += 1
    return floor


_AGE6 = (("age_0_15", 0, 15), ("age_16_24", 16, 24), ("age_25_34", 25, 34), ("age_35_49", 35, 49),
         ("age_50_64", 50, 64), ("age_65_plus", 65, 100))


@derived
def _lsoa_bands(atlas: Any) -> pd.DataFrame:
    """Census 2021 residents of every LSOA 2021 by 5-year band (fractional): index ``lsoa_code``."""
    from geo import readers
    from geo.paths import find

    a6 = readers.read_age6(find("age6")).set_index("lsoa_code")
    ms = readers.read_ts007_msoa(find("ts007_msoa"))
    names = readers.read_lsoa21_lad(find("lsoa21_lad24")).set_index("lsoa_code")["lsoa_name"]
    single = ms.set_index("msoa_name")[[f"age_{a}" for a in range(101)]].astype(float)
    single = single[~single.index.duplicated()]
    msoa = names.reindex(a6.index).str[:-1]
    years = single.reindex(msoa.to_numpy()).to_numpy()  # LSOA × single year, its MSOA's counts (NaN if unmatched)
    est = np.zeros((len(a6), 101))
    for col, lo, hi in _AGE6:
        part = years[:, lo:hi + 1]
        tot = np.nansum(part, axis=1, keepdims=True)
        share = np.where(tot > 0, np.nan_to_num(part) / np.where(tot > 0, tot, 1), 1 / (hi - lo + 1))
        est[:, lo:hi + 1] = a6[col].to_numpy(dtype=float)[:, None] * share
    cols = {b[1]: est[:, b[2]:(b[3] if b[3] is not None else 100) + 1].sum(axis=1) for b in BANDS}
    out = pd.DataFrame(cols, index=a6.index)
    out["age_total"] = a6["age_total"].to_numpy(dtype=float)
    return out


def resident_bands(scope: Scope) -> pd.DataFrame:
    r"""Census 2021 usual residents of a PCN's indicative footprint by 5-year age band (persons).

    Parameters
    ----------
    scope : targeting.scope.Scope
        The PCN, in the atlas of a registration month (its footprint is on LSOA 2021 whatever the edition).

    Returns
    -------
    pandas.DataFrame
        One row per band: ``band``, ``band_order``, ``residents`` (whole numbers summing exactly to the footprint's
        Census 2021 residents) and ``pct``. ``attrs``: ``pcn``, ``lsoas`` (footprint LSOAs 2021), ``residents``,
        ``source``.

    Notes
    -----
    For LSOA :math:`l` with Census count :math:`C_{l,b}` in 6-category band :math:`b` and its MSOA's single-year
    counts :math:`m_a`, residents aged :math:`a \in b` are :math:`C_{l,b}\,m_a / \sum_{a' \in b} m_{a'}` (equal
    shares where the MSOA has none); 5-year bands sum these over the footprint, made whole by largest remainder.
    """
    from targeting.footprints import FOOTPRINT_LABEL, pcn_footprints

    atlas, code = scope.atlas, _pcn_of(scope)
    fp = pcn_footprints(scope.edition_on(2021))
    lsoas = pd.Index(fp.loc[fp["pcn_code"] == code, "lsoa_code"])
    per_lsoa = _lsoa_bands(atlas)
    sub = per_lsoa.reindex(lsoas).dropna(how="all")
    labels = [b[1] for b in BANDS]
    total = round(float(sub["age_total"].sum()))
    whole = _largest_remainder(sub[labels].sum().to_numpy(), total) if len(sub) else np.zeros(len(labels), "int64")
    out = pd.DataFrame({"band": labels, "band_order": range(len(labels)), "residents": whole})
    out["pct"] = 100 * out["residents"] / total if total else np.nan
    out.attrs.update(pcn=code, lsoas=len(sub), residents=total, source=(
        f"ONS Census 2021 (21 March 2021) usual residents by age (6 categories) per LSOA 2021, split into 5-year "
        f"bands with the single years of age of each LSOA's MSOA (TS007); persons, no sex split at LSOA; "
        f"{len(sub)} LSOAs of the {FOOTPRINT_LABEL.replace('(July 2022)', f'({atlas.month.label})')}"))
    return out


def _pcn_of(scope: Scope) -> str:
    if scope.area is None or scope.area.kind != "pcn":
        raise ValueError("a population pyramid is drawn for a PCN")
    return scope.area.code


def pyramid_table(scope: Scope) -> pd.DataFrame:
    """Registered patients (by sex) and footprint residents (persons) side by side, one row per 5-year band.

    Parameters
    ----------
    scope : targeting.scope.Scope
        The PCN, in the atlas of a month with a quin-age file.

    Returns
    -------
    pandas.DataFrame
        ``band``, ``female``, ``male``, ``registered`` (patients), ``female_pct``, ``male_pct`` (% of the PCN's
        registered patients), ``england_female_pct``, ``england_male_pct`` (% of England's), ``registered_pct``
        (persons), ``residents`` and ``residents_pct`` (Census 2021 residents of the indicative footprint).
        ``attrs`` merges those of :func:`registered_bands` and :func:`resident_bands` (``residents_source``).
    """
    atlas = scope.atlas
    reg = registered_bands(atlas, _pcn_of(scope))
    eng = england_bands(atlas)
    res = resident_bands(scope)
    w = reg.pivot(index="band_order", columns="sex", values="patients")
    e = eng.pivot(index="band_order", columns="sex", values="pct")
    total = reg["patients"].sum()
    out = pd.DataFrame({"band": [b[1] for b in BANDS], "female": w["female"].to_numpy(),
                        "male": w["male"].to_numpy()})
    out["registered"] = out["female"] + out["male"]
    out["female_pct"] = 100 * out["female"] / total if total else np.nan
    out["male_pct"] = 100 * out["male"] / total if total else np.nan
    out["england_female_pct"] = e["female"].to_numpy()
    out["england_male_pct"] = e["male"].to_numpy()
    out["registered_pct"] = 100 * out["registered"] / total if total else np.nan
    out["residents"] = res["residents"].to_numpy()
    out["residents_pct"] = res["pct"].to_numpy()
    out.attrs.update(reg.attrs)
    out.attrs.update(residents=res.attrs["residents"], lsoas=res.attrs["lsoas"], residents_source=res.attrs["source"],
                     england_source=eng.attrs["source"])
    return out


def pyramid_for_output(table: pd.DataFrame, rule: Any = None) -> pd.DataFrame:
    """The pyramid table as shown and downloaded: counts through the small-number rule, shares withheld on them.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`pyramid_table`.
    rule : targeting.suppression.SuppressionRule, optional
        Default :data:`targeting.suppression.DEFAULT_RULE` (1–7 withheld as ``*``, other counts rounded to 5).

    Returns
    -------
    pandas.DataFrame
        ``female``, ``male``, ``registered`` and ``residents`` rounded (or ``*``); each ``…_pct`` withheld where
        its count is 1–7, else rounded to 2 decimals. England's shares are of 63 million patients and kept.
    """
    from targeting.suppression import DEFAULT_RULE, suppress_counts, suppress_rates

    rule = rule or DEFAULT_RULE
    out = table.copy()
    for count, pct in (("female", "female_pct"), ("male", "male_pct"), ("registered", "registered_pct"),
                       ("residents", "residents_pct")):
        out[pct] = suppress_rates(table[pct].round(2), table[count], None, rule)
        out[count] = suppress_counts(table[count], rule)
    for c in ("england_female_pct", "england_male_pct"):
        out[c] = table[c].round(2)
    return out
