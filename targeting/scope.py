"""The scope of a question: the area, the IMD edition, the registration month and the PLUS rules, resolved once.

The edge (the command line, the app, precompute) makes a :class:`Scope` with :func:`make_scope`; the domain takes
it and never resolves a code or picks an edition again. Its :attr:`Scope.key` identifies it in every cache.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from geo.atlas import Atlas
    from geo.editions import Edition
    from geo.months import RegistrationMonth
    from targeting.areas import Area

__all__ = ["Scope", "make_scope"]


@dataclass(frozen=True, eq=False)
class Scope:
    """One question's area, edition, month and PLUS rules.

    Attributes
    ----------
    atlas
        The atlas of the registration month (:attr:`month`).
    edition
        The IMD edition, bound to :attr:`atlas`.
    area
        The area asked about, resolved (None: all of England).
    plus_rules, plus_combine
        The PLUS rules (None: :data:`targeting.plus.DEFAULT_PLUS_RULES`) and how several combine (``any``/``all``).
    """

    atlas: Atlas
    edition: Edition
    area: Area | None = None
    plus_rules: Any = None
    plus_combine: str = "any"

    @property
    def month(self) -> RegistrationMonth:
        """The registration month: practices, PCNs, ICBs and list sizes."""
        return self.atlas.month

    @property
    def imd(self) -> int:
        """The edition's year, as outputs print it."""
        return self.edition.year

    @property
    def icb_nhs(self) -> str | None:
        """NHS code (Q…) of the ICB the area sits in (None: England)."""
        return None if self.area is None else self.area.icb_code_nhs

    @property
    def icb_lsoas(self) -> pd.DataFrame:
        """The LSOAs of the ICB the area sits in (England: every LSOA), on the edition's LSOA geography."""
        if self.area is None:
            return self.edition.lsoas
        from targeting.areas import lsoas_in

        return lsoas_in(self.edition, str(self.area.icb_code_nhs))

    @property
    def editions(self) -> tuple[Edition, ...]:
        """Every edition the atlas carries, bound to it (for measures that compare editions)."""
        return self.atlas.editions

    def edition_on(self, lsoa_vintage: int) -> Edition:
        """The edition published on an LSOA geography (2011: IoD 2019; 2021: IoD 2025), bound to the atlas.

        The maps draw LSOA 2021, and a file of LSOA 2011 codes can only carry IoD 2019.
        """
        return self.atlas.edition_on(lsoa_vintage)

    def with_area(self, area: Area | None) -> Scope:
        """The same question about another (already resolved) area."""
        return dataclasses.replace(self, area=area)

    def with_edition(self, edition: Edition) -> Scope:
        """The same question on another edition the atlas carries."""
        return dataclasses.replace(self, edition=edition)

    def rebound(self, atlas: Atlas) -> Scope:
        """The same question on another load of the same atlas build (e.g. with its polygons).

        Raises
        ------
        ValueError
            If ``atlas`` describes another registration month: the question's month is resolved once.
        """
        if atlas.month != self.month:
            raise ValueError(f"the scope is of {self.month.title}, the atlas of {atlas.month.title}")
        return dataclasses.replace(self, atlas=atlas, edition=atlas.edition(self.edition))

    @functools.cached_property
    def key(self) -> str:  # cached: the app hashes every cached call's scope by it, on every rerun
        """A stable hash of everything the scope holds: the atlas build, month, edition, area and PLUS rules."""
        from targeting.plus import describe_rules

        meta = self.atlas.meta if isinstance(self.atlas.meta, dict) else {}
        area = None if self.area is None else dataclasses.astuple(self.area)
        what = {"atlas": [meta.get("code"), meta.get("built_at"), meta.get("folder")], "month": self.month.month,
                "lsoa_month": self.month.lsoa_month, "imd": self.edition.year, "area": area,
                "plus": [describe_rules(self.plus_rules, combine=self.plus_combine), repr(self.plus_rules)]}
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


def make_scope(atlas: Atlas, *, imd: int | str | Edition = 2025, kind: str | None = None, code: str | None = None,
               area: Area | None = None, plus_rules: Any = None, plus_combine: str = "any") -> Scope:
    """Resolve what a person asked for, once: the edge's one way to make a :class:`Scope`.

    Parameters
    ----------
    atlas
        The atlas of the registration month.
    imd
        The IMD edition (2019 or 2025).
    kind, code
        The area's kind (``icb``, ``lad``, ``pcn``, ``practice``) and its code or a unique part of its name; None
        for all of England.
    area
        An area already resolved (by :func:`targeting.areas.resolve_area` in this month), instead of
        ``kind`` and ``code``.
    plus_rules, plus_combine
        The PLUS rules and how they combine.

    Raises
    ------
    targeting.areas.AreaNotFound
        When the code matches no area, or several.
    ValueError
        When ``imd`` names no edition the atlas carries.
    """
    from targeting.areas import resolve_area

    edition = atlas.edition(imd)
    if area is None and kind is not None and code is not None:
        area = resolve_area(atlas, kind, code)
    return Scope(atlas, edition, area, plus_rules, plus_combine)
