r"""IoD 2019 → IoD 2025: which neighbourhoods and patients enter or leave Core20, per LSOA, PCN and ICB.

Core20 is national IMD deciles 1–2 of an edition. IoD 2025 (LSOA 2021) replaces IoD 2019 (LSOA 2011) as the
national definition. On the LSOA 2021 geography each neighbourhood has

* its IoD 2025 rank and decile as published, and
* its IoD 2019 rank and decile carried across the ONS LSOA 2011 → 2021 bridge (:mod:`geo.vintage`: a split's
  children inherit the parent's values; a merge or an irregular change takes the best-fitting parent's rank and
  decile), with the ONS change code ``U``, ``S``, ``M`` or ``X`` so bridged values are visible as such;

and falls in one of four classes: ``entered`` (Core20 in 2025, not in 2019), ``left`` (Core20 in 2019, not in
2025), ``stayed in`` or ``stayed out``.

Patients. The PCN and ICB tables take each edition's Core20 patients exactly as the profiles do
(:func:`targeting.profiles.pcn_profiles`): IoD 2019 counts the July 2022 registrations as published on LSOA 2011,
IoD 2025 the same registrations apportioned to LSOA 2021. Entering and leaving are counted on LSOA 2021 (the only
geography with both editions), so

.. math:: C_{2025} = C_{2019} + E - L + B

where :math:`E` and :math:`L` are the patients living in LSOAs that entered and left, and :math:`B`
(``bridge_patients``) is the difference between counting IoD 2019 Core20 on LSOA 2011 and on LSOA 2021 — nonzero
only where LSOAs split, merged or changed irregularly. Every column reconciles to the patient with ``pcns --imd
2019`` and ``pcns --imd 2025``.

Ranks are relative: leaving Core20 means other neighbourhoods overtook this one in the 2025 ranking, not that it
became less deprived in absolute terms; and the indicators changed between editions (MHCLG's guidance).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.editions import EDITIONS
from targeting.areas import area_lsoa_rows, lsoas_in
from targeting.plus import plus_mask
from targeting.profiles import pcn_profiles, practice_profiles
from targeting.stats import wilson_ci
from targeting.store import derived

if TYPE_CHECKING:
    from geo.atlas import Atlas
    from geo.editions import Edition
    from targeting.scope import Scope

__all__ = [
    "CHANGE_CLASSES",
    "CHANGE_LABELS",
    "LSOA_COLUMNS",
    "PCN_COLUMNS",
    "area_change_summary",
    "change_of",
    "change_summary",
    "change_table",
    "describe_change",
    "icb_change",
    "lsoa_change",
    "pcn_change",
]

#: The four classes, in legend order.
CHANGE_CLASSES: tuple[str, ...] = ("entered", "left", "stayed in", "stayed out")

#: Plain-words label of each class (legends, panels).
CHANGE_LABELS: dict[str, str] = {
    "entered": "Entered: newly Core20 under IoD 2025",
    "left": "Left: Core20 under IoD 2019, no longer under IoD 2025",
    "stayed in": "Stayed in Core20 under both editions",
    "stayed out": "Stayed out of Core20 under both editions",
}

#: Columns of :func:`lsoa_change` (and of ``python -m targeting change --level lsoa``).
LSOA_COLUMNS: list[str] = [
    "lsoa_code", "lsoa_name", "lad_name", "icb_code", "lsoa_change_code", "imd2019_rank", "imd2019_decile",
    "imd2025_rank", "imd2025_decile", "core20_2019", "core20_2025", "change", "population", "registered_patients",
]


_PCT = ("pct", "pct_lower", "pct_upper")

#: Columns of :func:`pcn_change` after the PCN's identifiers (and of ``change --level pcn``).
PCN_COLUMNS: list[str] = [
    "registered_patients",
    "patients_known_lsoa_2019", "core20_patients_2019", *[f"core20_{p}_2019" for p in _PCT],
    "patients_known_lsoa_2025", "core20_patients_2025", *[f"core20_{p}_2025" for p in _PCT],
    "difference_pp", "patients_entered", "patients_left", "bridge_patients", "lsoas_entered", "lsoas_left",
    "plus_patients_2019", *[f"plus_{p}_2019" for p in _PCT], "plus_patients_2025", *[f"plus_{p}_2025" for p in _PCT],
    "plus_difference_pp", "plus_patients_entered", "plus_patients_left",
]


def change_of(lsoas: pd.DataFrame) -> pd.Series:
    """The Core20 change class of LSOA 2021 rows carrying both editions' deciles (IoD 2019 bridged).

    Returns
    -------
    pandas.Series of str
        Aligned to ``lsoas.index``, named ``change``: one of :data:`CHANGE_CLASSES`. A missing decile counts as
        not Core20 (every English LSOA 2021 has both).
    """
    c19, c25 = (ed.core20_of(lsoas).to_numpy() for ed in EDITIONS.values())
    cls = np.where(c25 & ~c19, "entered", np.where(c19 & ~c25, "left", np.where(c19, "stayed in", "stayed out")))
    return pd.Series(cls.astype(object), index=lsoas.index, name="change")


@derived
def _national_lsoas(atlas: Atlas) -> pd.DataFrame:
    """Every LSOA 2021 of England with both editions, its change class and its ONS change code."""
    t = atlas.lsoa21
    e19, e25 = atlas.editions
    # one ONS change code per LSOA 2021 in the lookup (U, S, M or X), kept by the atlas with the bridge weights
    code = atlas.lsoa_bridge.drop_duplicates("lsoa21_code").set_index("lsoa21_code")["change_code"]
    return pd.DataFrame({
        "lsoa_code": t["lsoa_code"].to_numpy(), "lsoa_name": t["lsoa_name"].to_numpy(),
        "lad_name": t["lad_name"].to_numpy(), "icb_code": t["icb_code"].to_numpy(),
        "icb_code_nhs": t["icb_code_nhs"].to_numpy(),
        "lsoa_change_code": t["lsoa_code"].map(code).to_numpy(),
        "imd2019_rank": t[e19.rank].astype("Int64").to_numpy(),
        "imd2019_decile": t[e19.decile].astype("Int64").to_numpy(),
        "imd2025_rank": t[e25.rank].astype("Int64").to_numpy(),
        "imd2025_decile": t[e25.decile].astype("Int64").to_numpy(),
        "core20_2019": e19.core20_of(t).to_numpy(), "core20_2025": e25.core20_of(t).to_numpy(),
        "change": change_of(t).to_numpy(),
        "population": t["residents"].astype("Int64").to_numpy(),
        "registered_patients": t["registered_patients"].astype("int64").to_numpy(),
    })


def lsoa_change(scope: Scope) -> pd.DataFrame:
    """One row per LSOA 2021 with its Core20 status under IoD 2019 and IoD 2025 and how it changed.

    Parameters
    ----------
    scope : targeting.scope.Scope
        Its ICB: only that ICB's LSOAs (April 2024 LSOA 2021 → ICB); no area: all of England.

    Returns
    -------
    pandas.DataFrame
        :data:`LSOA_COLUMNS`, in LSOA-code order: ``lsoa_change_code`` is the ONS LSOA 2011 → 2021 change code
        (``U`` unchanged, ``S`` split, ``M`` merged, ``X`` irregular), ``imd2019_*`` the IoD 2019 rank and decile
        carried across that bridge, ``imd2025_*`` as published, ``core20_2019``/``core20_2025`` national deciles
        1–2, ``change`` one of :data:`CHANGE_CLASSES`, ``population`` Census 2021 usual residents and
        ``registered_patients`` July 2022 registrations apportioned to LSOA 2021.
    """
    out = _national_lsoas(scope.atlas)
    if scope.area is not None:
        out = out[out["lsoa_code"].isin(set(lsoas_in(scope.edition_on(2021), str(scope.icb_nhs))["lsoa_code"]))]
    return out[LSOA_COLUMNS].sort_values("lsoa_code").reset_index(drop=True)


def change_summary(lsoas: pd.DataFrame) -> dict[str, int]:
    """Count the LSOAs and residents of each class among some LSOAs of :func:`lsoa_change`.

    Returns
    -------
    dict
        ``lsoas``, ``residents``, and ``<class>_lsoas`` / ``<class>_residents`` for ``entered``, ``left``,
        ``stayed_in``, ``stayed_out``; ``core20_2019_lsoas`` and ``core20_2025_lsoas``.
    """
    res = lsoas["population"].fillna(0).astype("int64")
    out = {"lsoas": len(lsoas), "residents": int(res.sum()),
           "core20_2019_lsoas": int(lsoas["core20_2019"].sum()), "core20_2025_lsoas": int(lsoas["core20_2025"].sum())}
    for c in CHANGE_CLASSES:
        m = (lsoas["change"] == c).to_numpy()
        k = c.replace(" ", "_")
        out[f"{k}_lsoas"] = int(m.sum())
        out[f"{k}_residents"] = int(res[m].sum())
    return out


def area_change_summary(scope: Scope) -> dict[str, int]:
    """Return :func:`change_summary` of the LSOA 2021 of an ICB or a local authority (the scope's area).

    The LSOAs are those of :func:`targeting.areas.area_lsoa_rows` (a local authority may straddle ICBs).
    """
    if scope.area is None:
        raise ValueError("a change summary covers an ICB or a local authority, not all of England")
    codes = set(area_lsoa_rows(scope.atlas, scope.area)["lsoa_code"])
    t = _national_lsoas(scope.atlas)
    return change_summary(t[t["lsoa_code"].isin(codes)])


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def describe_change(summary: dict[str, int]) -> str:
    """The change in words: "12 neighbourhoods (14,210 residents) newly Core20; 5 (6,020) no longer"."""
    e, lft = summary["entered_lsoas"], summary["left_lsoas"]
    return (f"{_plural(e, 'neighbourhood', 'neighbourhoods')} ({summary['entered_residents']:,} residents) newly "
            f"Core20; {lft:,} ({summary['left_residents']:,}) no longer")


@derived
def _unit_counts(atlas: Atlas, key: str) -> pd.DataFrame:
    """Patients entering and leaving Core20 (all and PLUS) per practice attribute ``key``, on LSOA 2021."""
    lsoas = atlas.lsoa21
    reg = atlas.registrations21  # the LSOA 2021 registrations: the geography with both editions
    pos = pd.Index(lsoas["lsoa_code"]).get_indexer(reg["lsoa_code"])
    known = pos >= 0
    reg, pos = reg[known], pos[known]
    change = change_of(lsoas).to_numpy()[pos]
    entered, left = change == "entered", change == "left"
    plus = plus_mask(lsoas, None).to_numpy(dtype=bool)[pos]
    w = reg["patients"].to_numpy(dtype=np.int64)
    unit = reg["practice_code"].map(atlas.practices.set_index("practice_code")[key]).to_numpy()
    frame = pd.DataFrame({"unit": unit, "entered": w * entered, "left": w * left,
                          "plus_entered": w * (entered & plus), "plus_left": w * (left & plus)})
    return frame.dropna(subset=["unit"]).groupby("unit").sum()


def _lsoa_counts(lsoas: pd.DataFrame, unit: pd.Series) -> pd.DataFrame:
    """LSOAs (and residents) entering and leaving Core20 per unit, given each LSOA's unit."""
    frame = pd.DataFrame({"unit": unit.to_numpy(), "entered": lsoas["change"].eq("entered").to_numpy(),
                          "left": lsoas["change"].eq("left").to_numpy()})
    frame["residents_entered"] = lsoas["population"].fillna(0).to_numpy() * frame["entered"]
    frame["residents_left"] = lsoas["population"].fillna(0).to_numpy() * frame["left"]
    return frame.dropna(subset=["unit"]).groupby("unit").sum().astype("int64")


def _rates(out: pd.DataFrame, num: str, den: str, prefix: str) -> None:
    x = out[num].to_numpy(dtype=float)
    n = out[den].to_numpy(dtype=float)
    lo, hi = wilson_ci(x, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[f"{prefix}_pct"] = np.where(n > 0, 100 * x / np.where(n > 0, n, 1), np.nan)
    out[f"{prefix}_pct_lower"] = 100 * np.asarray(lo, dtype=float)
    out[f"{prefix}_pct_upper"] = 100 * np.asarray(hi, dtype=float)


def _assemble(p19: pd.DataFrame, p25: pd.DataFrame, moves: pd.DataFrame, places: pd.DataFrame,
              key: str) -> pd.DataFrame:
    """Join both editions' counts (taken as the profiles give them) with the moves; compute rates and differences."""
    out = pd.DataFrame({key: p25[key].to_numpy(), "registered_patients": p25["registered_patients"].to_numpy()})
    a19 = p19.set_index(key).reindex(out[key])
    a25 = p25.set_index(key).reindex(out[key])
    for yr, a in ((2019, a19), (2025, a25)):
        out[f"patients_known_lsoa_{yr}"] = a["patients_known_lsoa"].to_numpy()
        out[f"core20_patients_{yr}"] = a["core20_patients"].to_numpy()
        out[f"plus_patients_{yr}"] = a["plus_patients"].to_numpy()
        _rates(out, f"core20_patients_{yr}", f"patients_known_lsoa_{yr}", f"core20_{yr}")
        _rates(out, f"plus_patients_{yr}", f"patients_known_lsoa_{yr}", f"plus_{yr}")
    # _rates names the columns core20_2019_pct…; the published names put the edition last
    for what in ("core20", "plus"):
        for yr in (2019, 2025):
            out = out.rename(columns={f"{what}_{yr}_{p}": f"{what}_{p}_{yr}" for p in _PCT})
    m = moves.reindex(out[key]).fillna(0)
    out["difference_pp"] = out["core20_pct_2025"] - out["core20_pct_2019"]
    out["patients_entered"] = m["entered"].to_numpy(dtype=np.int64)
    out["patients_left"] = m["left"].to_numpy(dtype=np.int64)
    # IoD 2019 Core20 on LSOA 2011 (the profiles) minus the same on LSOA 2021 (stayed in + left)
    out["bridge_patients"] = (out["core20_patients_2025"] - out["core20_patients_2019"]
                              - out["patients_entered"] + out["patients_left"])
    pl = places.reindex(out[key]).fillna(0)
    out["lsoas_entered"] = pl["entered"].to_numpy(dtype=np.int64)
    out["lsoas_left"] = pl["left"].to_numpy(dtype=np.int64)
    out["residents_entered"] = pl["residents_entered"].to_numpy(dtype=np.int64)
    out["residents_left"] = pl["residents_left"].to_numpy(dtype=np.int64)
    out["plus_difference_pp"] = out["plus_pct_2025"] - out["plus_pct_2019"]
    out["plus_patients_entered"] = m["plus_entered"].to_numpy(dtype=np.int64)
    out["plus_patients_left"] = m["plus_left"].to_numpy(dtype=np.int64)
    for c in out.columns:
        if c.endswith(("_patients_2019", "_patients_2025")) or c.startswith("patients_known") or c in (
                "registered_patients", "bridge_patients"):
            out[c] = out[c].astype(np.int64)
    return out[[key, *PCN_COLUMNS, "residents_entered", "residents_left"]]


def pcn_change(scope: Scope, *, pcn_codes=None) -> pd.DataFrame:
    r"""Per PCN: Core20 (and PLUS) patients under IoD 2019 and IoD 2025, and who entered or left Core20.

    Parameters
    ----------
    scope : targeting.scope.Scope
        Its ICB: only this ICB's PCNs (the registration month's PCN → ICB); None: every PCN. Its edition and
        PLUS rules are not used: both editions are compared, under the default PLUS rule.
    pcn_codes : iterable of str, optional
        Only these PCNs.

    Returns
    -------
    pandas.DataFrame
        ``pcn_code``, ``pcn_name``, ``icb_code``, ``icb_code_nhs``, ``icb_name`` and :data:`PCN_COLUMNS`, then
        ``residents_entered``, ``residents_left``; in PCN-code order. ``core20_patients_<year>`` and
        ``patients_known_lsoa_<year>`` are those of :func:`targeting.profiles.pcn_profiles` for that edition;
        ``core20_pct_<year>`` has Wilson 95% limits; ``difference_pp`` = 2025 − 2019 in percentage points;
        ``patients_entered`` / ``patients_left`` are the PCN's patients living in LSOAs that entered / left Core20
        (LSOA 2021); ``bridge_patients`` closes the sum (see the module notes); ``lsoas_entered`` / ``lsoas_left``
        (and residents) count the LSOAs of the PCN's *indicative* footprint (:func:`targeting.footprints.
        pcn_footprints`). PLUS is the default rule (it does not change between editions).

    Notes
    -----
    No interval is given for the difference: the same registered patients are classified twice, so the change
    comes from neighbourhoods being reclassified, not from sampling.
    """
    from targeting.footprints import pcn_footprints

    atlas = scope.atlas
    p19, p25 = (pcn_profiles(_default_plus(scope, ed), pcn_codes=pcn_codes) for ed in atlas.editions)
    moves = _unit_counts(atlas, "pcn_code")
    fp = pcn_footprints(scope.edition_on(2021))
    lsoas = _national_lsoas(atlas)
    unit = lsoas["lsoa_code"].map(fp.set_index("lsoa_code")["pcn_code"])
    places = _lsoa_counts(lsoas, unit)
    out = _assemble(p19, p25, moves, places, "pcn_code")
    ids = p25[["pcn_code", "pcn_name", "icb_code", "icb_code_nhs", "icb_name"]].reset_index(drop=True)
    return pd.concat([ids, out.drop(columns=["pcn_code"])], axis=1)


def _default_plus(scope: Scope, edition: Edition) -> Scope:
    """The scope on another edition, under the default PLUS rule (which does not change between editions)."""
    return dataclasses.replace(scope, edition=edition, plus_rules=None, plus_combine="any")


def icb_change(scope: Scope) -> pd.DataFrame:
    """Per ICB: the columns of :func:`pcn_change`, from all practices placed in the ICB and its LSOAs.

    Patients come from every practice placed in the ICB (July 2022; practices outside a PCN included), as the
    profiles' ICB comparators do; ``lsoas_*`` and ``residents_*`` count the ICB's own LSOA 2021 (April 2024).

    Returns
    -------
    pandas.DataFrame
        ``icb_code``, ``icb_code_nhs``, ``icb_name`` and :data:`PCN_COLUMNS`, then ``residents_entered``,
        ``residents_left``; one row per ICB (or the one asked for).
    """
    cols = ["registered_patients", "patients_known_lsoa", "core20_patients", "plus_patients"]
    sums = []
    atlas = scope.atlas
    for ed in atlas.editions:
        pr = practice_profiles(_default_plus(scope.with_area(None), ed))
        pr = pr[pr["icb_code_nhs"].notna()]
        sums.append(pr.groupby("icb_code_nhs")[cols].sum().reset_index())
    moves = _unit_counts(atlas, "icb_code_nhs")
    lsoas = _national_lsoas(atlas)
    places = _lsoa_counts(lsoas, lsoas["icb_code_nhs"])
    out = _assemble(sums[0], sums[1], moves, places, "icb_code_nhs")
    names = atlas.icbs.sort_values("lsoa21_count", na_position="first").drop_duplicates("icb_code_nhs", keep="last")
    names = names.set_index("icb_code_nhs").reindex(out["icb_code_nhs"])
    out.insert(0, "icb_code", names["icb_code"].to_numpy())
    out.insert(2, "icb_name", names["icb_name"].to_numpy())
    if scope.area is not None:
        out = out[out["icb_code_nhs"] == scope.icb_nhs]
    return out.sort_values("icb_code_nhs").reset_index(drop=True)


#: Shown with every change table: files, editions and geographies.
SOURCE = ("IoD 2019 (MHCLG, LSOA 2011, carried to LSOA 2021 by the ONS 2011→2021 lookup) and IoD 2025 (MHCLG, "
          "LSOA 2021); Census 2021 residents (ONS); NHS Digital GP registrations by LSOA and practice→PCN map, "
          "July 2022; PLUS = default rule; OGL v3")


def change_table(scope: Scope, *, level: str = "lsoa") -> pd.DataFrame:
    """The table ``python -m targeting change`` prints and the app downloads, with a ``source`` column.

    Parameters
    ----------
    scope : targeting.scope.Scope
        The ICB (the one its area sits in).
    level : {"lsoa", "pcn", "icb"}
        :func:`lsoa_change`, :func:`pcn_change` or :func:`icb_change` of the ICB.
    """
    if level == "lsoa":
        out = lsoa_change(scope)
    elif level == "pcn":
        out = pcn_change(scope)
    elif level == "icb":
        out = icb_change(scope)
    else:
        raise ValueError(f"level must be lsoa, pcn or icb, not {level!r}")
    return out.assign(source=scope.month.relabel(SOURCE))
