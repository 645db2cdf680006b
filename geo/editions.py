"""IMD editions as a type: each edition's year, LSOA vintage, column names, sources and the Core20 rule, once.

The atlas owns its editions (:meth:`geo.atlas.Atlas.edition`); domain code asks the edition for its columns and
tables and never branches on the year.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

__all__ = ["CORE20_MAX_DECILE", "EDITIONS", "EDITION_YEARS", "Edition", "core20_rule", "edition_year"]

#: Core20 is national IMD deciles 1–2: the most deprived 20% of LSOAs (DOMAIN.md).
CORE20_MAX_DECILE = 2

#: The IMD editions the atlas carries.
EDITION_YEARS: tuple[int, ...] = (2019, 2025)

_SPEC: dict[int, dict[str, Any]] = {
    2019: {"prefix": "imd19", "lsoa_vintage": 2011, "icb_vintage": "July 2022",
           "source": "English Indices of Deprivation 2019, MHCLG", "title": "IoD 2019"},
    2025: {"prefix": "imd25", "lsoa_vintage": 2021, "icb_vintage": "April 2024",
           "source": "English Indices of Deprivation 2025, MHCLG", "title": "IoD 2025"},
}


class _AtlasTables(Protocol):
    """The tables an edition reads from its atlas (a :class:`geo.atlas.Atlas`, which this module does not import)."""

    @property
    def lsoa11(self) -> pd.DataFrame: ...

    @property
    def lsoa21(self) -> pd.DataFrame: ...

    @property
    def registrations11(self) -> pd.DataFrame: ...

    @property
    def registrations21(self) -> pd.DataFrame: ...


def core20_rule(decile: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
    """Return True where a national IMD decile is in Core20 (deciles 1–2); missing deciles are not Core20."""
    return decile <= CORE20_MAX_DECILE


def edition_year(imd: int | str | Edition) -> int:
    """Return the year of an IMD edition given as ``2019``, ``"2025"`` or an :class:`Edition`.

    Raises
    ------
    ValueError
        If it names no edition the atlas carries.
    """
    if isinstance(imd, Edition):
        return imd.year
    try:
        year = int(str(imd).strip())
    except ValueError:
        year = None
    if year not in _SPEC:
        raise ValueError(f"IMD edition must be 2019 or 2025, not {imd!r}")
    return year


@dataclass(frozen=True, eq=False)
class Edition:
    """One IMD edition as the atlas holds it.

    Attributes
    ----------
    year
        2019 or 2025.
    lsoa_vintage
        The LSOA geography the edition was published on (2011 or 2021).
    prefix
        The prefix of its columns in the atlas LSOA tables (``imd19``, ``imd25``). IMD 2019 is also carried on
        LSOA 2021 across the vintage bridge, under the same prefix.
    icb_vintage
        The ICB boundaries used with the edition's LSOA vintage.
    source, title
        The publication, in words.
    atlas
        The atlas it is bound to (:meth:`geo.atlas.Atlas.edition`), or None.
    """

    year: int
    lsoa_vintage: int
    prefix: str
    icb_vintage: str
    source: str
    title: str
    atlas: _AtlasTables | None = None

    @classmethod
    def of(cls, imd: int | str | Edition, atlas: _AtlasTables | None = None) -> Edition:
        """Return the edition named by ``imd``, bound to ``atlas`` when given."""
        if isinstance(imd, Edition) and (atlas is None or imd.atlas is atlas):
            return imd
        return cls(year=edition_year(imd), atlas=atlas, **_SPEC[edition_year(imd)])

    # ---- column names -----------------------------------------------------------------------------
    def col(self, what: str) -> str:
        """Column of this edition in an atlas LSOA table, e.g. ``col("rank")`` → ``imd25_rank``."""
        return f"{self.prefix}_{what}"

    @property
    def score(self) -> str:
        """Score column."""
        return self.col("score")

    @property
    def rank(self) -> str:
        """National rank column (1 = most deprived)."""
        return self.col("rank")

    @property
    def decile(self) -> str:
        """National decile column."""
        return self.col("decile")

    @property
    def quintile(self) -> str:
        """National quintile column."""
        return self.col("quintile")

    @property
    def core20(self) -> str:
        """Core20 flag column."""
        return self.col("core20")

    @property
    def layer_key(self) -> str:
        """Key of this edition's decile map layer (``imd19``, ``imd25``)."""
        return self.prefix

    @property
    def lsoa_label(self) -> str:
        """``LSOA 2011`` or ``LSOA 2021``."""
        return f"LSOA {self.lsoa_vintage}"

    @property
    def on_lsoa21(self) -> str:
        """How this edition sits on the LSOA 2021 map geography, in words."""
        return self.lsoa_label if self.lsoa_vintage == 2021 else "LSOA 2011 carried to 2021"

    # ---- the Core20 rule, once ---------------------------------------------------------------------
    def core20_of(self, lsoas: pd.DataFrame) -> pd.Series:
        """Core20 flags of LSOA rows carrying this edition's decile (national deciles 1–2)."""
        return pd.Series(core20_rule(lsoas[self.decile]), index=lsoas.index, name="core20").fillna(False).astype(bool)

    # ---- the atlas tables of this edition ----------------------------------------------------------
    def _bound(self) -> _AtlasTables:
        if self.atlas is None:
            raise ValueError(f"IMD {self.year} is not bound to an atlas; use atlas.edition({self.year})")
        return self.atlas

    @property
    def lsoas(self) -> pd.DataFrame:
        """The atlas LSOA table of the edition's own vintage (``lsoa11`` for 2019, ``lsoa21`` for 2025)."""
        a = self._bound()
        return a.lsoa11 if self.lsoa_vintage == 2011 else a.lsoa21

    @property
    def registrations(self) -> pd.DataFrame:
        """Patients per practice × LSOA on the edition's LSOA vintage."""
        a = self._bound()
        return a.registrations11 if self.lsoa_vintage == 2011 else a.registrations21

    @property
    def lsoa_count(self) -> int:
        """How many LSOAs the edition ranks in England."""
        return int(self.lsoas[self.rank].max())

    def __repr__(self) -> str:
        return f"Edition({self.year}, {self.lsoa_label})"

    def __int__(self) -> int:
        return self.year


#: The editions the atlas carries, unbound, by year: their columns, sources and titles (tables need
#: :attr:`geo.atlas.Atlas.editions` or a :class:`targeting.scope.Scope`'s edition).
EDITIONS: dict[int, Edition] = {year: Edition.of(year) for year in EDITION_YEARS}
