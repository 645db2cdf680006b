"""PLUS: the population groups an ICS chooses locally, as rules over LSOAs that can be combined.

A rule looks at each LSOA and says whether it meets it, and in plain words why ("41% ethnic minority
communities (≥ 19%)"). Rules:

* :class:`EthnicGroupRule` — share of any Census 2021 TS021 ethnic group (19 detailed groups, 5 broad groups, or
  ``minority`` = every group except the broad White group) at or above a threshold, or in the top N% of the area;
* :class:`CensusMeasureRule` — another Census 2021 share: disability, household deprivation, overcrowding,
  caravans or other temporary structures, social renting;
* :class:`RuralRule` — rural or urban (ONS Rural Urban Classification 2021);
* :class:`LsoaListRule` — a user's own list of LSOAs (coastal areas, Traveller sites, hostels…) read and
  checked by :func:`read_lsoa_list`;
* :class:`AnyOf` / :class:`AllOf` — OR / AND of any of these, nested as deep as needed.

:func:`evaluate_plus` gives every LSOA a ``plus`` flag and the ``plus_reasons`` it meets. "Top N%" ranks within
the LSOAs passed in, so it depends on the area chosen; thresholds do not.

Ethnicity is shown beside deprivation everywhere in the tool; a PLUS flag marks where a community lives, not a
property of the community. Low recorded numbers are not low need.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import pandas as pd

from geo._errors import Problem
from geo.codes import LSOA
from targeting._limits import MAX_BYTES as _LIMIT
from targeting.intake import FileProblemsError, read_code_column

__all__ = [
    "CENSUS_MEASURES",
    "DEFAULT_PLUS_RULES",
    "ENGLAND_MINORITY_PCT",
    "ETHNIC_GROUPS",
    "AllOf",
    "AnyOf",
    "CensusMeasureRule",
    "EthnicGroupRule",
    "LsoaListRule",
    "MissingColumnError",
    "Rule",
    "RuralRule",
    "describe_rules",
    "evaluate_plus",
    "plus_mask",
    "read_lsoa_list",
]

#: Census 2021 TS021 groups carried by the atlas (``eth_<key>`` counts), with the words shown to users.
ETHNIC_GROUPS: dict[str, str] = {
    "minority": "ethnic minority communities",
    "asian": "Asian, Asian British or Asian Welsh",
    "black": "Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Mixed or Multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
    "bangladeshi": "Bangladeshi",
    "chinese": "Chinese",
    "indian": "Indian",
    "pakistani": "Pakistani",
    "other_asian": "Other Asian",
    "african": "African",
    "caribbean": "Caribbean",
    "other_black": "Other Black",
    "white_and_asian": "Mixed White and Asian",
    "white_and_black_african": "Mixed White and Black African",
    "white_and_black_caribbean": "Mixed White and Black Caribbean",
    "other_mixed": "Other Mixed or Multiple",
    "white_british": "White English, Welsh, Scottish, Northern Irish or British",
    "irish": "White Irish",
    "gypsy_irish_traveller": "Gypsy or Irish Traveller",
    "roma": "Roma",
    "other_white": "Other White",
    "arab": "Arab",
    "any_other": "Any other ethnic group",
}

#: Census 2021 measures: key → (numerator column, denominator column, words). Aliases in ``_MEASURE_ALIASES``.
CENSUS_MEASURES: dict[str, tuple[str, str, str]] = {
    "disabled": ("disabled", "residents", "residents disabled under the Equality Act"),
    "hh_deprived_2plus": ("hh_deprived_2plus", "households", "households deprived in 2 or more dimensions"),
    "overcrowded_hh": ("overcrowded_hh", "households", "overcrowded households"),
    "caravan_hh": ("caravan_hh", "households", "households in a caravan or other mobile or temporary structure"),
    "social_rented_hh": ("social_rented_hh", "households", "households renting socially"),
}
_MEASURE_ALIASES = {
    "disability": "disabled", "household_deprivation": "hh_deprived_2plus", "deprived_households": "hh_deprived_2plus",
    "overcrowding": "overcrowded_hh", "overcrowded": "overcrowded_hh", "caravan": "caravan_hh",
    "social_renting": "social_rented_hh", "social_rented": "social_rented_hh",
}

#: England's share of residents from ethnic minority communities (all TS021 groups except the broad White group),
#: Census 2021: 10,706,486 of 56,490,108 usual residents = 18.95%. (Counting White minorities — White Irish,
#: Gypsy or Irish Traveller, Roma, Other White — as well would give 26.5%.)
ENGLAND_MINORITY_PCT = 18.95

class Rule(Protocol):
    """What every PLUS rule provides."""

    @property
    def label(self) -> str:
        """Short plain-words description of the rule."""

    def mask(self, lsoas: pd.DataFrame) -> pd.Series:
        """Boolean Series aligned to ``lsoas.index``: LSOAs meeting the rule."""

    def reasons(self, lsoas: pd.DataFrame, met: pd.Series) -> pd.Series:
        """Plain-words reason per LSOA where ``met`` is True, "" elsewhere."""


# ------------------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------------------
class MissingColumnError(ValueError):
    """A rule needs an LSOA column the table lacks (e.g. a Census 2021 measure on LSOA 2011)."""


def _need(lsoas: pd.DataFrame, cols: Iterable[str], rule: str) -> None:
    missing = [c for c in cols if c not in lsoas.columns]
    if missing:
        raise MissingColumnError(
            f"The PLUS rule '{rule}' needs the LSOA column(s) {', '.join(missing)}, which this table lacks. "
            f"Census 2021 measures and the rural-urban class are on LSOA 2021: use IMD 2025 for this rule.")


def _fmt_pct(values: pd.Series) -> pd.Series:
    """Percentages as text: whole numbers from 10%, one decimal below (so 0.4% Roma is not shown as 0%)."""
    v = values.astype(float)
    big = v.round(0).map("{:.0f}".format)
    small = v.round(1).map("{:.1f}".format)
    return big.where(v >= 9.95, small) + "%"


def _check_cut(threshold_pct: float | None, top_pct: float | None, what: str) -> None:
    if (threshold_pct is None) == (top_pct is None):
        raise ValueError(f"{what}: give exactly one of threshold_pct (e.g. 30 for ≥ 30%) or top_pct "
                         f"(e.g. 10 for the top 10% of the area's LSOAs)")
    if threshold_pct is not None and not 0 <= float(threshold_pct) <= 100:
        raise ValueError(f"{what}: threshold_pct must be between 0 and 100, not {threshold_pct!r}")
    if top_pct is not None and not 0 < float(top_pct) <= 100:
        raise ValueError(f"{what}: top_pct must be above 0 and at most 100, not {top_pct!r}")


def _cut(share: pd.Series, threshold_pct: float | None, top_pct: float | None) -> pd.Series:
    """Share (0–100) at or above the threshold, or within the top N% of the LSOAs given (ties included)."""
    if threshold_pct is not None:
        return (share >= float(threshold_pct)).fillna(False).astype(bool)
    valid = share.notna()
    k = math.ceil(float(top_pct) / 100 * int(valid.sum()))  # type: ignore[arg-type]
    if k == 0:
        return pd.Series(False, index=share.index)
    rank = share.rank(method="min", ascending=False)
    return (rank <= k).fillna(False).astype(bool)


def _cut_words(threshold_pct: float | None, top_pct: float | None) -> str:
    if threshold_pct is not None:
        return f"(≥ {float(threshold_pct):g}%)"
    return f"(top {float(top_pct):g}% of the area's LSOAs)"  # type: ignore[arg-type]


def _share(lsoas: pd.DataFrame, num: str, den: str) -> pd.Series:
    n = lsoas[num].astype(float)
    d = lsoas[den].astype(float)
    return (100 * n / d.where(d > 0)).rename(num)


# ------------------------------------------------------------------------------------------------------------------
# rules
# ------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EthnicGroupRule:
    """LSOAs where a Census 2021 ethnic group's share of residents is at or above a threshold, or in the top N%.

    Parameters
    ----------
    group : str
        A key of :data:`ETHNIC_GROUPS`: one of the 19 detailed groups (``bangladeshi``, ``roma``,
        ``gypsy_irish_traveller``, ``caribbean``…), 5 broad groups (``asian``, ``black``, ``mixed``, ``white``,
        ``other``) or ``minority`` (every group except the broad White group).
    threshold_pct : float, optional
        Share of usual residents, in percent.
    top_pct : float, optional
        Instead of a threshold: the top N% of the area's LSOAs by this share (ties included).
    """

    group: str
    threshold_pct: float | None = None
    top_pct: float | None = None

    def __post_init__(self) -> None:
        """Validate the group and the cut."""
        key = str(self.group).strip().lower().removeprefix("eth_").removeprefix("pct_")
        if key not in ETHNIC_GROUPS:
            raise ValueError(f"Unknown ethnic group {self.group!r}; use one of: {', '.join(ETHNIC_GROUPS)}")
        object.__setattr__(self, "group", key)
        _check_cut(self.threshold_pct, self.top_pct, f"ethnic group rule '{key}'")

    @property
    def label(self) -> str:
        """Plain words, e.g. ``ethnic minority communities (≥ 19%)``."""
        return f"{ETHNIC_GROUPS[self.group]} {_cut_words(self.threshold_pct, self.top_pct)}"

    def share(self, lsoas: pd.DataFrame) -> pd.Series:
        """The group's share of usual residents (Census 2021), in percent."""
        _need(lsoas, [f"eth_{self.group}", "residents"], self.label)
        return _share(lsoas, f"eth_{self.group}", "residents")

    def mask(self, lsoas: pd.DataFrame) -> pd.Series:
        """LSOAs meeting the rule."""
        return _cut(self.share(lsoas), self.threshold_pct, self.top_pct)

    def reasons(self, lsoas: pd.DataFrame, met: pd.Series) -> pd.Series:
        """E.g. ``41% ethnic minority communities (≥ 19%)`` where met."""
        text = _fmt_pct(self.share(lsoas)) + f" {self.label}"
        return text.where(met, "")


@dataclass(frozen=True)
class CensusMeasureRule:
    """LSOAs where a Census 2021 share (see :data:`CENSUS_MEASURES`) is at or above a threshold, or in the top N%.

    Parameters
    ----------
    measure : str
        ``disabled`` (of residents), ``hh_deprived_2plus``, ``overcrowded_hh``, ``caravan_hh`` or
        ``social_rented_hh`` (of households); aliases such as ``disability``, ``household_deprivation``,
        ``overcrowding``, ``caravan``, ``social_renting`` are accepted.
    threshold_pct, top_pct : float, optional
        Exactly one, as in :class:`EthnicGroupRule`.
    """

    measure: str
    threshold_pct: float | None = None
    top_pct: float | None = None

    def __post_init__(self) -> None:
        """Validate the measure and the cut."""
        key = str(self.measure).strip().lower()
        key = _MEASURE_ALIASES.get(key, key)
        if key not in CENSUS_MEASURES:
            raise ValueError(f"Unknown Census measure {self.measure!r}; use one of: "
                             f"{', '.join([*CENSUS_MEASURES, *_MEASURE_ALIASES])}")
        object.__setattr__(self, "measure", key)
        _check_cut(self.threshold_pct, self.top_pct, f"Census measure rule '{key}'")

    @property
    def label(self) -> str:
        """Plain words, e.g. ``overcrowded households (≥ 10%)``."""
        return f"{CENSUS_MEASURES[self.measure][2]} {_cut_words(self.threshold_pct, self.top_pct)}"

    def share(self, lsoas: pd.DataFrame) -> pd.Series:
        """The measure as a percentage of its denominator."""
        num, den, _ = CENSUS_MEASURES[self.measure]
        _need(lsoas, [num, den], self.label)
        return _share(lsoas, num, den)

    def mask(self, lsoas: pd.DataFrame) -> pd.Series:
        """LSOAs meeting the rule."""
        return _cut(self.share(lsoas), self.threshold_pct, self.top_pct)

    def reasons(self, lsoas: pd.DataFrame, met: pd.Series) -> pd.Series:
        """E.g. ``12% overcrowded households (≥ 10%)`` where met."""
        return (_fmt_pct(self.share(lsoas)) + f" {self.label}").where(met, "")


@dataclass(frozen=True)
class RuralRule:
    """LSOAs classed Rural (or Urban) by the ONS Rural Urban Classification 2021."""

    kind: str = "Rural"

    def __post_init__(self) -> None:
        """Validate the kind."""
        k = str(self.kind).strip().capitalize()
        if k not in ("Rural", "Urban"):
            raise ValueError(f"RuralRule kind must be 'Rural' or 'Urban', not {self.kind!r}")
        object.__setattr__(self, "kind", k)

    @property
    def label(self) -> str:
        """``rural (ONS RUC 2021)`` or ``urban (ONS RUC 2021)``."""
        return f"{self.kind.lower()} (ONS RUC 2021)"

    def mask(self, lsoas: pd.DataFrame) -> pd.Series:
        """LSOAs of that kind."""
        _need(lsoas, ["urban_rural"], self.label)
        return lsoas["urban_rural"].eq(self.kind).astype(bool)

    def reasons(self, lsoas: pd.DataFrame, met: pd.Series) -> pd.Series:
        """E.g. ``rural: Smaller rural: Further from a major town or city`` where met."""
        if "ruc_name" in lsoas.columns:
            text = f"{self.kind.lower()}: " + lsoas["ruc_name"].fillna("").astype(str)
        else:
            text = pd.Series(self.label, index=lsoas.index)
        return text.where(met, "")


@dataclass(frozen=True)
class LsoaListRule:
    """LSOAs on a user's own list (read with :func:`read_lsoa_list`).

    Codes may be LSOA 2011 or 2021. Built with :meth:`across_vintages`, a code is also carried across the ONS
    2011↔2021 lookup (a 2011 code that split gives its 2021 children, a 2021 code its 2011 parents), so the rule
    meets the same places on either geography and nothing is silently dropped.
    """

    codes: tuple[str, ...]
    label: str = "on your LSOA list"
    linked: tuple[str, ...] = ()  # the codes' successors and predecessors across the vintage lookup
    _set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Normalise the codes."""
        codes = tuple(dict.fromkeys(str(c).strip().upper() for c in self.codes if str(c).strip()))
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "linked", tuple(sorted(set(self.linked) - set(codes))))
        object.__setattr__(self, "_set", frozenset(codes) | frozenset(self.linked))
        if not str(self.label).strip():
            object.__setattr__(self, "label", "on your LSOA list")

    @classmethod
    def across_vintages(cls, codes: Iterable[str], bridge: pd.DataFrame, *,
                        label: str = "on your LSOA list") -> LsoaListRule:
        """A list rule whose codes are carried across the LSOA 2011↔2021 lookup (``atlas.lsoa_bridge``)."""
        codes = tuple(str(c).strip().upper() for c in codes)
        s = set(codes)
        linked = set(bridge.loc[bridge["lsoa11_code"].isin(s), "lsoa21_code"]) | \
            set(bridge.loc[bridge["lsoa21_code"].isin(s), "lsoa11_code"])
        return cls(codes, label=label, linked=tuple(linked))

    def mask(self, lsoas: pd.DataFrame) -> pd.Series:
        """LSOAs on the list (directly or across the vintage lookup)."""
        _need(lsoas, ["lsoa_code"], self.label)
        return lsoas["lsoa_code"].isin(self._set).astype(bool)

    def reasons(self, lsoas: pd.DataFrame, met: pd.Series) -> pd.Series:
        """The list's label where met."""
        return pd.Series(self.label, index=lsoas.index).where(met, "")


@dataclass(frozen=True)
class AnyOf:
    """Met when any of the rules is met (OR); the reasons list every rule met."""

    rules: tuple
    label_text: str | None = None

    def __post_init__(self) -> None:
        """Store the rules as a tuple."""
        object.__setattr__(self, "rules", tuple(self.rules))
        if not self.rules:
            raise ValueError("AnyOf needs at least one rule")

    @property
    def label(self) -> str:
        """``(a OR b)``."""
        return self.label_text or "(" + " OR ".join(r.label for r in self.rules) + ")"

    def mask(self, lsoas: pd.DataFrame) -> pd.Series:
        """LSOAs meeting any rule."""
        out = pd.Series(False, index=lsoas.index)
        for r in self.rules:
            out |= r.mask(lsoas)
        return out

    def reasons(self, lsoas: pd.DataFrame, met: pd.Series) -> pd.Series:
        """Reasons of every member rule met, joined with ``; ``."""
        return _join([r.reasons(lsoas, r.mask(lsoas) & met) for r in self.rules], lsoas.index)


@dataclass(frozen=True)
class AllOf:
    """Met when every rule is met (AND); the reasons list them all."""

    rules: tuple
    label_text: str | None = None

    def __post_init__(self) -> None:
        """Store the rules as a tuple."""
        object.__setattr__(self, "rules", tuple(self.rules))
        if not self.rules:
            raise ValueError("AllOf needs at least one rule")

    @property
    def label(self) -> str:
        """``(a AND b)``."""
        return self.label_text or "(" + " AND ".join(r.label for r in self.rules) + ")"

    def mask(self, lsoas: pd.DataFrame) -> pd.Series:
        """LSOAs meeting every rule."""
        out = pd.Series(True, index=lsoas.index)
        for r in self.rules:
            out &= r.mask(lsoas)
        return out

    def reasons(self, lsoas: pd.DataFrame, met: pd.Series) -> pd.Series:
        """Reasons of every member rule, joined with `` and ``, where all are met."""
        parts = [r.reasons(lsoas, met) for r in self.rules]
        return _join(parts, lsoas.index, sep=" and ")


def _join(parts: list[pd.Series], index: pd.Index, sep: str = "; ") -> pd.Series:
    if not parts:
        return pd.Series("", index=index)
    frame = pd.concat(parts, axis=1).fillna("")
    arr = frame.to_numpy(dtype=object)
    joined = [sep.join(x for x in row if x) for row in arr]
    return pd.Series(joined, index=index, dtype=object)


#: The default PLUS group: LSOAs where ethnic minority communities' share of residents is at least England's
#: (Census 2021, 18.95%; see :data:`ENGLAND_MINORITY_PCT`). Every London ICS names ethnic minority communities as
#: a PLUS group; each ICS should set its own rules.
DEFAULT_PLUS_RULES: tuple = (EthnicGroupRule("minority", threshold_pct=ENGLAND_MINORITY_PCT),)


def _as_rule(rules, combine: str):
    if rules is None:
        rules = DEFAULT_PLUS_RULES
    if hasattr(rules, "mask"):
        return rules
    rules = tuple(rules)
    if combine not in ("any", "all"):
        raise ValueError(f"combine must be 'any' or 'all', not {combine!r}")
    if not rules:
        return None
    if len(rules) == 1:
        return rules[0]
    return AnyOf(rules) if combine == "any" else AllOf(rules)


def plus_mask(lsoas: pd.DataFrame, rules=None, *, combine: str = "any") -> pd.Series:
    """Only the ``plus`` flag of :func:`evaluate_plus` (faster: no reasons built)."""
    rule = _as_rule(rules, combine)
    if rule is None:
        return pd.Series(False, index=lsoas.index, name="plus")
    return rule.mask(lsoas).astype(bool).rename("plus")


def evaluate_plus(lsoas: pd.DataFrame, rules=None, *, combine: str = "any") -> pd.DataFrame:
    r"""Evaluate PLUS rules on LSOAs: which LSOAs are PLUS, and why.

    Parameters
    ----------
    lsoas : pandas.DataFrame
        Atlas LSOA rows (``lsoa21`` for every rule; ``lsoa11`` carries ethnicity and households but not the other
        Census 2021 measures nor the rural-urban class).
    rules : rule or sequence of rules, optional
        :class:`EthnicGroupRule`, :class:`CensusMeasureRule`, :class:`RuralRule`, :class:`LsoaListRule`,
        :class:`AnyOf`, :class:`AllOf`. Default :data:`DEFAULT_PLUS_RULES`. An empty sequence flags nothing.
    combine : {"any", "all"}, default "any"
        How a sequence of rules combines (OR / AND). Use :class:`AnyOf` / :class:`AllOf` to nest.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``lsoas.index``: ``plus`` (bool) and ``plus_reasons`` (str, e.g.
        ``"41% ethnic minority communities (≥ 19%); on your LSOA list"``; "" when not PLUS).

    Raises
    ------
    ValueError
        If a rule needs a column the table lacks, or ``combine`` is not ``any``/``all``.

    Notes
    -----
    Shares are Census 2021 counts over their denominators (usual residents, or households), times 100. A top-N%
    rule flags LSOAs whose share ranks within the first :math:`\lceil N\,n/100 \rceil` of the :math:`n` LSOAs
    passed in (ties share the lower rank, so all tied LSOAs are included).
    """
    rule = _as_rule(rules, combine)
    if rule is None:
        return pd.DataFrame({"plus": False, "plus_reasons": ""}, index=lsoas.index)
    met = rule.mask(lsoas).astype(bool)
    reasons = rule.reasons(lsoas, met).where(met, "")
    return pd.DataFrame({"plus": met, "plus_reasons": reasons.astype(object)}, index=lsoas.index)


def describe_rules(rules=None, *, combine: str = "any") -> str:
    """One line of plain words describing the rules (for captions and exports)."""
    rule = _as_rule(rules, combine)
    if rule is None:
        return "no PLUS rule"
    label = rule.label
    return label[1:-1] if isinstance(rule, AnyOf | AllOf) and label.startswith("(") else label


# ------------------------------------------------------------------------------------------------------------------
# a user's list of LSOAs
# ------------------------------------------------------------------------------------------------------------------
#: Largest LSOA list read (bytes): the one limit on a user's file (targeting._limits); every LSOA code in
#: England, one a line, is about 0.4 MB.
MAX_LIST_BYTES = _LIMIT


def read_lsoa_list(
    path_or_buffer: str | Path | IO[str] | IO[bytes],
    atlas: Any = None,
    *,
    lsoa11: Iterable[str] | None = None,
    lsoa21: Iterable[str] | None = None,
) -> tuple[list[str], list[Problem]]:
    """Read a CSV of LSOA codes (one a row, or a column named like ``lsoa_code``/``LSOA21CD``) and check each code.

    Parameters
    ----------
    path_or_buffer : path or file-like
        The user's CSV. A header row is optional; the column is the one named ``lsoa…``/``code``, else the first.
    atlas : geo.atlas.Atlas, optional
        Gives the known English LSOA 2011 and 2021 codes.
    lsoa11, lsoa21 : iterable of str, optional
        Known English LSOA 2011 / 2021 codes, instead of the atlas's.

    Returns
    -------
    codes : list of str
        Valid English LSOA codes of either vintage, upper-cased, first appearance order, duplicates removed.
    problems : list of geo._errors.Problem
        Every code not used and why, with 1-based data row numbers: not an LSOA code, Welsh (``W01``; the tool
        covers England), or an ``E01`` code of neither vintage; plus duplicates and an empty file. Nothing is
        dropped silently.
    """
    try:
        listed = read_code_column(path_or_buffer, limit=MAX_LIST_BYTES)
    except FileProblemsError as exc:
        return [], exc.problems
    if lsoa11 is None or lsoa21 is None:
        if atlas is None:
            raise ValueError("read_lsoa_list needs the atlas (or lsoa11 and lsoa21) to check the codes")
        lsoa11 = atlas.lsoa11["lsoa_code"] if lsoa11 is None else lsoa11
        lsoa21 = atlas.lsoa21["lsoa_code"] if lsoa21 is None else lsoa21
    s11, s21 = frozenset(lsoa11), frozenset(lsoa21)
    codes: list[str] = []
    seen: dict[str, int] = {}
    bad: dict[str, list[tuple[int, str]]] = {"format": [], "wales": [], "unknown": [], "dup": [], "blank": []}
    for rowno, raw_v, has_text in listed.cells:
        v = raw_v.upper()
        if not v:
            if has_text:
                bad["blank"].append((rowno, ""))
            continue
        if not LSOA.match(v):
            bad["format"].append((rowno, raw_v))
        elif v.startswith("W"):
            bad["wales"].append((rowno, raw_v))
        elif v not in s11 and v not in s21:
            bad["unknown"].append((rowno, raw_v))
        elif v in seen:
            bad["dup"].append((rowno, raw_v))
        else:
            seen[v] = rowno
            codes.append(v)
    msgs = {
        "format": "not an LSOA code (expected E01 followed by 6 digits)",
        "wales": "Welsh LSOA code: the tool covers England only, so it is not used",
        "unknown": "E01 code that is neither an LSOA 2011 nor an LSOA 2021 code in England; not used",
        "dup": "listed more than once; counted once",
        "blank": "no code in the LSOA column",
    }
    problems = [Problem(listed.column, msgs[key], tuple(r for r, _ in items), tuple(v for _, v in items if v)[:3])
                for key, items in bad.items() if items]
    if not codes and not problems:
        problems.append(Problem(listed.column, f"{listed.name} has no LSOA codes"))
    return codes, problems
