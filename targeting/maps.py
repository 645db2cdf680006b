"""Map layers of an area's LSOAs: what each layer shows, its colour classes and legend, and the area to draw.

A :class:`MapLayer` holds one value and one colour class per LSOA with the legend that explains them; the
standard layers (IMD deciles of both editions, Core20, PLUS, Core20 change, each Census 2021 ethnic group, the
registration and detection gaps) are built here. Turning layers into a page is :mod:`targeting.render`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo.editions import EDITIONS, Edition
from geo.months import RegistrationMonth
from targeting.render.layer import MapLayer, fmt_value
from targeting.render.palette import CHANGE_4, CORE20, FLAG_OFF, FLAG_ON, OKABE_ITO, PUOR_5, VIRIDIS_10, YLGNBU_5

if TYPE_CHECKING:
    import geopandas as gpd

    from targeting.scope import Scope

__all__ = [
    "ETHNIC_GROUPS",
    "MapLayer",
    "area_layers",
    "area_lsoas",
    "category_layer",
    "core20_change_layer",
    "flag_layer",
    "lsoa_detail",
    "national_gaps",
    "quantile_breaks",
    "standard_layers",
    "value_layer",
]

def _imd_source(ed: Edition) -> tuple[str, str]:
    """Source and vintage of an edition's values on the LSOA 2021 map."""
    how = "" if ed.lsoa_vintage == 2021 else ", carried to LSOA 2021 (split LSOAs inherit their parent's value)"
    return ed.source, f"{ed.title} on {ed.lsoa_label}{how}"
_CENSUS = ("Census 2021 TS021 ethnic group, ONS", "Census 2021 (March 2021), usual residents")

#: Census 2021 TS021 groups mapped as shares of usual residents: column suffix → label (broad groups first).
ETHNIC_GROUPS: dict[str, str] = {
    "minority": "All ethnic minority groups (all but White)",
    "asian": "Asian, Asian British or Asian Welsh", "black": "Black, Black British, Caribbean or African",
    "mixed": "Mixed or multiple ethnic groups", "white": "White", "other": "Other ethnic group",
    "bangladeshi": "Bangladeshi", "chinese": "Chinese", "indian": "Indian", "pakistani": "Pakistani",
    "other_asian": "Other Asian", "african": "African", "caribbean": "Caribbean", "other_black": "Other Black",
    "white_and_asian": "White and Asian", "white_and_black_african": "White and Black African",
    "white_and_black_caribbean": "White and Black Caribbean", "other_mixed": "Other Mixed",
    "white_british": "White: English, Welsh, Scottish, Northern Irish or British", "irish": "White: Irish",
    "gypsy_irish_traveller": "White: Gypsy or Irish Traveller", "roma": "White: Roma",
    "other_white": "White: Other White", "arab": "Arab", "any_other": "Any other ethnic group",
}


# --------------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------------
def value_layer(
    key: str,
    label: str,
    values: pd.Series | np.ndarray,
    *,
    units: str,
    source: str,
    vintage: str,
    group: str = "Other",
    k: int = 5,
    diverging: bool = False,
    decimals: int = 1,
    note: str = "",
) -> MapLayer:
    """Classify a numeric value per LSOA into colour-blind-safe classes (quantiles, as :mod:`mapclassify`).

    Parameters
    ----------
    key, label, group
        Layer identifier, menu label and menu group.
    values
        One value per LSOA in the order of the map's LSOA frame; NaN for no data.
    units, source, vintage
        Legend text.
    k
        Number of classes (at most 5).
    diverging
        Values either side of zero (e.g. a gap): classes are cut on quantiles of the absolute value on each side
        of zero and drawn with ColorBrewer PuOr, orange below zero and purple above.
    decimals, note
        Tooltip precision and a caveat shown under the legend.

    Notes
    -----
    Sequential layers use the breaks of ``mapclassify.Quantiles`` (:func:`quantile_breaks`; equal numbers of LSOAs
    per class, so a skewed share such as
    one ethnic group still shows its spread); tied breaks are merged so no class is empty. Class labels give the
    value range of each class.
    """
    v = np.asarray(values, dtype=float)
    classes = np.full(len(v), -1, dtype=int)
    ok = ~np.isnan(v)
    if diverging:
        palette: tuple[str, ...] = PUOR_5
        labels = ["below zero", "below zero", "0", "above zero", "above zero"]
        neg, pos = ok & (v < 0), ok & (v > 0)
        classes[ok & (v == 0)] = 2
        if neg.any():
            cut = float(np.median(-v[neg]))
            classes[neg] = np.where(-v[neg] > cut, 0, 1)
            labels[0], labels[1] = f"below −{fmt_value(cut, decimals)}", f"−{fmt_value(cut, decimals)} to 0"
        if pos.any():
            cut = float(np.median(v[pos]))
            classes[pos] = np.where(v[pos] > cut, 4, 3)
            labels[3], labels[4] = f"0 to {fmt_value(cut, decimals)}", f"above {fmt_value(cut, decimals)}"
        return MapLayer(key, label, group, v, classes, palette, tuple(labels), units, source, vintage, decimals, note)
    finite = v[ok]
    if finite.size == 0:
        return MapLayer(key, label, group, v, classes, YLGNBU_5, (), units, source, vintage, decimals, note)
    kk = int(min(k, 5, max(1, np.unique(finite).size)))
    # heavily tied values (e.g. 0% in most LSOAs) give fewer classes
    bins = quantile_breaks(finite, kk) if kk > 1 else np.array([finite.max()])
    cls = np.searchsorted(bins, finite, side="left")
    classes[ok] = np.minimum(cls, len(bins) - 1)
    palette = YLGNBU_5 if len(bins) == 5 else tuple(YLGNBU_5[i] for i in np.linspace(0, 4, len(bins)).round()
                                                    .astype(int))
    lows = [float(finite.min()), *bins[:-1]]
    labels = []
    for i, (lo, hi) in enumerate(zip(lows, bins, strict=True)):
        a, b = fmt_value(lo, decimals), fmt_value(hi, decimals)
        labels.append(b if a == b else f"{a} – {b}" if i == 0 else f"over {a} – {b}")
    labels = tuple(labels)
    return MapLayer(key, label, group, v, classes, palette, labels, units, source, vintage, decimals, note)


def quantile_breaks(values: np.ndarray, k: int) -> np.ndarray:
    """The upper break of each quantile class, tied breaks merged: ``mapclassify.Quantiles(values, k).bins``.

    The same percentiles and the same interpolation as mapclassify (``scipy.stats.scoreatpercentile``, "fraction"),
    to the last bit, without importing mapclassify and scipy, which take seconds to import on a cold command line.
    """
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    a = np.sort(np.asarray(values, dtype=float))
    pos = p / 100.0 * (len(a) - 1)
    i = pos.astype(int)
    w_lo, w_hi = (i + 1) - pos, pos - i
    upper = a[np.minimum(i + 1, len(a) - 1)]
    return np.unique(np.where(i == pos, a[i], (a[i] * w_lo + upper * w_hi) / (w_lo + w_hi)))


def flag_layer(key: str, label: str, flags: pd.Series | np.ndarray, *, yes: str, no: str, source: str,
               vintage: str, group: str = "Other", colour: str = FLAG_ON, note: str = "") -> MapLayer:
    """A yes/no layer (e.g. PLUS neighbourhoods): ``colour`` where true, pale grey where false, grey if missing."""
    f = pd.Series(flags).astype("boolean").to_numpy(dtype=float, na_value=np.nan)
    classes = np.where(np.isnan(f), -1, np.nan_to_num(f)).astype(int)
    return MapLayer(key, label, group, f, classes, (FLAG_OFF, colour), (no, yes), "", source,
                    vintage, 0, note, {"flag": True})


def category_layer(key: str, label: str, categories: pd.Series | np.ndarray, *, order: Sequence[str],
                   source: str, vintage: str, group: str = "Other", palette: Sequence[str] = OKABE_ITO,
                   note: str = "") -> MapLayer:
    """A layer of named categories (e.g. a plan's status or connector), coloured with Okabe-Ito by ``order``."""
    cats = pd.Series(categories).astype(object)
    index = {c: i for i, c in enumerate(order)}
    classes = np.array([index.get(c, -1) if pd.notna(c) else -1 for c in cats], dtype=int)
    pal = tuple(palette[i % len(palette)] for i in range(len(order)))
    return MapLayer(key, label, group, classes.astype(float), classes, pal, tuple(str(o) for o in order), "",
                    source, vintage, 0, note, {"flag": True})


def _decile_layer(lsoas: pd.DataFrame, ed: Edition) -> MapLayer:
    d = lsoas[ed.decile].to_numpy(dtype=float)
    classes = np.where(np.isnan(d), -1, np.nan_to_num(d, nan=1).astype(int) - 1)
    labels = ("1 most deprived 10%", "2", "3", "4", "5", "6", "7", "8", "9", "10 least deprived 10%")
    src, vintage = _imd_source(ed)
    return MapLayer(ed.layer_key, f"IMD {ed.year} national decile", "Deprivation and PLUS", d, classes, VIRIDIS_10,
                    labels, "national decile (1 = most deprived)", src, vintage, 0,
                    "Deciles are national: deciles 1–2 are Core20.")




def core20_change_layer(lsoas: pd.DataFrame) -> MapLayer:
    """Core20 change from IoD 2019 to IoD 2025 in four classes, with patterns as well as colours.

    Entered (newly Core20) is striped vermilion, left (no longer Core20) dotted blue, stayed in dark blue-purple,
    stayed out pale grey; the tooltip and legend name each class in words.
    """
    from targeting.change import CHANGE_CLASSES, CHANGE_LABELS, change_of

    index = {c: i for i, c in enumerate(CHANGE_CLASSES)}
    cls = change_of(lsoas).map(index).to_numpy(dtype=int)
    return MapLayer("core20_change", "Core20 change 2019 → 2025", "Deprivation and PLUS", cls.astype(float), cls,
                    CHANGE_4,
                    tuple(CHANGE_LABELS[c] + (" (striped)" if i == 0 else " (dotted)" if i == 1 else "")
                          for i, c in enumerate(CHANGE_CLASSES)), "",
                    " and ".join(ed.source for ed in EDITIONS.values()),
                    "IoD 2019 on LSOA 2011 carried to LSOA 2021 (ONS change codes); IoD 2025 on LSOA 2021", 0,
                    "Ranks are relative: leaving Core20 means other areas overtook this one in 2025, not that it "
                    "became less deprived; the indicators also changed between editions.",
                    {"flag": True, "patterns": ("stripes", "dots", None, None)})


def standard_layers(lsoas: pd.DataFrame) -> list[MapLayer]:
    """The layers every map has: IMD 2025 and IMD 2019 deciles and the Census 2021 share of each ethnic group.

    Parameters
    ----------
    lsoas
        Rows of the atlas ``lsoa21`` table (the map geography).
    """
    layers = [_decile_layer(lsoas, ed) for ed in reversed(EDITIONS.values())]  # the newest first
    note = ("Census 2021 self-described ethnicity of usual residents. Low numbers are not low need; GP-recorded "
            "ethnicity is poorer and variable. Shown beside deprivation, not instead of it.")
    for suffix, name in ETHNIC_GROUPS.items():
        col = f"pct_{suffix}"
        if col in lsoas.columns:
            layers.append(value_layer(f"eth_{suffix}", f"{name} (% of residents)", lsoas[col],
                                      units="% of usual residents", source=_CENSUS[0], vintage=_CENSUS[1],
                                      group="Ethnic group (Census 2021)", note=note))
    return layers


def area_layers(scope: Scope, lsoas: pd.DataFrame, *, gaps: bool = True, register: str = "HYP",
                gap_tables: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> list[MapLayer]:
    """Every layer of the Explore map for an area: deprivation, PLUS, ethnic groups and the two gaps.

    Parameters
    ----------
    scope
        The IMD edition of Core20 (the decile layers of both editions are always there) and the PLUS rules
        (:func:`targeting.plus.evaluate_plus`).
    lsoas
        The area's ``lsoa21`` rows (from :func:`area_lsoas`).
    gaps
        Add the registration gap and the detection gap of ``register`` (national tables, slower the first time).
    register
        QOF register of the detection gap (default hypertension).
    gap_tables
        The national registration gap (LSOA 2021) and detection gap of ``register`` if already computed (see
        :func:`gap_tables`), so maps of many areas compute them once.
    """
    from targeting.plus import describe_rules, evaluate_plus

    layers = standard_layers(lsoas)
    plus_rules, plus_combine, ed = scope.plus_rules, scope.plus_combine, scope.edition
    plus = evaluate_plus(lsoas, plus_rules, combine=plus_combine)
    layers.insert(2, flag_layer(
        "core20", f"Core20 (IMD {ed.year} national deciles 1–2)", lsoas[ed.core20].to_numpy(), yes="Core20",
        no="not Core20", source=_imd_source(ed)[0], vintage=_imd_source(ed)[1], group="Deprivation and PLUS",
        colour=CORE20, note="The most deprived 20% of England's LSOAs nationally, never re-ranked locally."))
    words = describe_rules(plus_rules, combine=plus_combine)
    layers.insert(3, flag_layer(
        "plus", "PLUS neighbourhoods", plus["plus"].to_numpy(), yes=f"PLUS: {words}", no="not PLUS",
        source=_CENSUS[0], vintage=_CENSUS[1], group="Deprivation and PLUS",
        note="PLUS groups are chosen locally; a PLUS flag marks where a community lives, not a verdict on it."))
    layers.insert(4, core20_change_layer(lsoas))
    if gaps:
        layers.extend(_gap_layers(lsoas, register, gap_tables or national_gaps(scope, register),
                                  month=scope.month))
    return layers


def national_gaps(scope: Scope, register: str = "HYP") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The national tables the gap layers show: the registration gap by LSOA 2021 and the detection gap."""
    from targeting.gaps import lsoa_detection_gap, registration_gap

    return (registration_gap(scope.atlas, vintage=2021).set_index("lsoa_code"),
            lsoa_detection_gap(scope.edition_on(2021), register=register).set_index("lsoa_code"))


def _gap_layers(lsoas: pd.DataFrame, register: str, tables: tuple[pd.DataFrame, pd.DataFrame], *,
                month: RegistrationMonth) -> list[MapLayer]:
    out = []
    codes = lsoas["lsoa_code"]
    reg = tables[0].reindex(codes)
    out.append(value_layer(
        "reg_gap", "Registration gap: registered patients vs residents", (reg["relative_ratio"].to_numpy() - 1) * 100,
        units="% above (+) or below (−) the registered patients the national ratio predicts from Census residents",
        source=month.relabel("NHS Digital patients registered at a GP practice (July 2022) and ONS Census 2021"),
        vintage=month.relabel("July 2022 registrations, March 2021 residents"), group="Gaps", diverging=True,
        decimals=0,
        note="Lists are inflated (people who moved or died stay registered for a while); below zero can mean "
             "people living here who are not registered."))
    det = tables[1].reindex(codes)
    out.append(value_layer(
        f"det_gap_{register.lower()}", f"Detection gap: expected minus recorded ({register})",
        det["expected_undiagnosed"].to_numpy(), units="people (estimated, shared out by where patients live)",
        source="QOF 2022-23 registers (NHS Digital) against expected prevalence (PHE 2016 estimates for HYP)",
        vintage=month.relabel("QOF 2022-23; registrations July 2022"), group="Gaps", decimals=0,
        note="A modelled estimate per practice, apportioned to LSOAs by where its patients live."))
    return out


def lsoa_detail(scope: Scope, code: str, *, top: int = 5) -> dict[str, Any]:
    """What the details panel shows for one LSOA 2021: its figures and the practices most of its patients use.

    Its PLUS reasons follow the scope's PLUS rules, evaluated over the LSOAs the scope's map draws (its ICB, or
    its local authority; England without an area), as the map's PLUS layer is: a "top N%" rule ranks the LSOA
    among them, never alone.

    Returns
    -------
    dict
        ``row`` (the atlas row as a Series, without geometry), ``plus_reasons`` (str), ``ethnic`` (DataFrame of
        the largest Census 2021 groups: ``group``, ``pct``), ``practices`` (DataFrame: ``practice_code``,
        ``practice_name``, ``pcn_name``, ``patients``, ``share_pct`` of the LSOA's registered patients).

    Raises
    ------
    LookupError
        If the code is not an LSOA 2021 in England.
    """
    from targeting.plus import evaluate_plus

    atlas = scope.atlas
    t = atlas.lsoa21
    hit = t[t["lsoa_code"] == str(code).strip().upper()]
    if hit.empty:
        raise LookupError(f"'{code}' is not an LSOA 2021 code in England (e.g. E01033620)")
    row = pd.Series(hit.drop(columns=["geometry", "geometry_web"], errors="ignore").iloc[0])
    pool = _drawn_rows(scope)
    pool = pool if hit["lsoa_code"].iloc[0] in set(pool["lsoa_code"]) else t  # not on the map: among England's
    plus = evaluate_plus(pool, scope.plus_rules, combine=scope.plus_combine)
    plus = plus[(pool["lsoa_code"] == hit["lsoa_code"].iloc[0]).to_numpy()]
    detailed = [k for k in ETHNIC_GROUPS if k not in ("minority", "asian", "black", "mixed", "white", "other")]
    eth = pd.DataFrame({"group": [ETHNIC_GROUPS[k] for k in detailed],
                        "pct": [round(float(row[f"pct_{k}"]), 1) for k in detailed]})
    eth = eth.sort_values("pct", ascending=False)
    reg = atlas.registrations21
    reg = reg[reg["lsoa_code"] == row["lsoa_code"]].nlargest(top, "patients")
    prac = reg.merge(atlas.practices[["practice_code", "practice_name", "pcn_name"]], on="practice_code",
                     how="left")
    total = max(int(row["registered_patients"]), 1)
    prac = prac.assign(share_pct=(prac["patients"] / total * 100).round(1))
    return {"row": row, "plus_reasons": str(plus["plus_reasons"].iloc[0]), "ethnic": eth.head(top).reset_index(
        drop=True), "practices": prac[["practice_code", "practice_name", "pcn_name", "patients", "share_pct"]]}


# --------------------------------------------------------------------------------------------
# areas
# --------------------------------------------------------------------------------------------
def _drawn_rows(scope: Scope) -> pd.DataFrame:
    """The LSOA 2021 rows a scope's map draws: a local authority's own, else its ICB's (England: all)."""
    t, area = scope.atlas.lsoa21, scope.area
    if area is None:
        return t
    if area.kind == "lad":
        return t[t["lad_code"] == area.code]
    return t[t["icb_code_nhs"] == area.icb_code_nhs]


def area_lsoas(scope: Scope) -> tuple[gpd.GeoDataFrame, list[list[float]] | None, str]:
    """The LSOA 2021 rows to draw for an area, the bounds to zoom to and the area's name.

    Parameters
    ----------
    scope
        Its area: an ICB, a local authority (``lad``), a PCN or a practice.

    Returns
    -------
    lsoas, bounds, name
        An ICB or local authority draws its own LSOAs. A PCN or practice draws the LSOAs of its ICB and zooms to
        where most of its registered patients live (the LSOAs holding the first 80% of its patients, July 2022).

    """
    atlas, area = scope.atlas, scope.area
    if area is None:
        raise ValueError("a map is drawn for an area, not all of England")
    kind = area.kind
    lsoas = _drawn_rows(scope)
    if kind in ("icb", "lad"):
        return lsoas, None, area.name
    if kind == "pcn":
        practices = atlas.practices.loc[atlas.practices["pcn_code"] == area.code, "practice_code"]
    else:
        practices = pd.Series([area.code])
    t = atlas.lsoa21
    reg = atlas.registrations21
    reg = reg[reg["practice_code"].isin(set(practices))].groupby("lsoa_code")["patients"].sum()
    reg = reg.sort_values(ascending=False, kind="stable")  # ties in LSOA code order
    keep = reg.index[(reg.cumsum() / max(reg.sum(), 1)).shift(fill_value=0) < 0.8]
    focus = t[t["lsoa_code"].isin(keep)]
    bounds = None
    if not focus.empty:
        x0, y0, x1, y1 = focus["geometry_web"].total_bounds
        bounds = [[float(y0), float(x0)], [float(y1), float(x1)]]
    return lsoas, bounds, area.name
