"""The small-number rule (:class:`SuppressionRule`) and the named rules the tool offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from targeting.suppression._cells import _float


@dataclass(frozen=True)
class SuppressionRule:
    """A small-number suppression rule.

    Attributes
    ----------
    low, high : float
        Counts from ``low`` to ``high`` inclusive are suppressed (default 1 to 7, NHS Digital).
        For fractional counts the suppressed range is the open interval
        ``(low - 1, high + 1)``.
    round_to : int
        Counts that are shown are rounded to the nearest multiple of this (default 5; use 1
        for no rounding). Halves round up (away from zero).
    enabled : bool
        If False nothing is suppressed or rounded (for a user's own, unexported view).
    symbol : str
        What a suppressed value shows as (default ``"*"``).
    check_denominator : bool
        Withhold a rate when its denominator, as well as its numerator, is in the suppressed
        range (default True).
    """

    low: float = 1
    high: float = 7
    round_to: int = 5
    enabled: bool = True
    symbol: str = "*"
    check_denominator: bool = True

    def __post_init__(self) -> None:
        """Validate the rule."""
        if self.low < 0 or self.high < self.low:
            raise ValueError("need 0 <= low <= high")
        if self.round_to < 1 or int(self.round_to) != self.round_to:
            raise ValueError("round_to must be a positive integer")

    def is_small(self, values: Any) -> np.ndarray:
        """Boolean mask of values in the suppressed range (NaN is not small)."""
        v = _float(values)
        with np.errstate(invalid="ignore"):
            return (v > self.low - 1) & (v < self.high + 1)

    def describe(self) -> str:
        """The rule in words, for a download's source column or a caption."""
        if not self.enabled:
            return "UNSUPPRESSED: no suppression, every count shown exactly"
        rounding = f"others rounded to the nearest {self.round_to}" if self.round_to > 1 else "others shown exactly"
        weak = self.weakness()
        if weak:
            return (f"UNSUPPRESSED, not safe to publish ({weak}): counts {self.low:g}–{self.high:g} withheld "
                    f"({self.symbol}), {rounding}; rates from the published counts")
        return (f"counts {self.low:g}–{self.high:g} withheld ({self.symbol}) with secondary suppression so none "
                f"can be recovered by subtraction, {rounding}; rates from the published counts")

    def weakness(self) -> str | None:
        """Why the rule cannot protect what it withholds, or None for a rule that can.

        The feasibility audit (``tests/targeting/test_disclosure_audit.py``) recovers withheld cells exactly,
        or to fewer than three values, under these rules: shown counts not rounded (a withheld part is the
        shown total minus the shown parts, and a numerator cannot exceed its denominator), nothing withheld,
        or a withheld range that leaves some of the counts 1–7 shown.

        Returns
        -------
        str or None
            A reason in words (for a warning and a download's ``source`` column), or None.
        """
        if not self.enabled:
            return "no suppression: every count is shown exactly"
        reasons = []
        if self.low > 1 or self.high < 7:
            reasons.append(f"counts outside {self.low:g}–{self.high:g} but within 1–7 are shown")
        if self.round_to == 1:
            reasons.append("shown counts are exact, so withheld counts can be worked out from totals and from "
                           "numerator ≤ denominator")
        return "; ".join(reasons) or None

    @property
    def weak(self) -> bool:
        """True when :meth:`weakness` names a reason: files are then called ``…_unsuppressed.csv``."""
        return self.weakness() is not None

    def round(self, values: Any) -> np.ndarray:
        """Round to the nearest ``round_to`` (halves up); NaN stays NaN."""
        v = _float(values)
        return np.floor(v / self.round_to + 0.5) * self.round_to


#: NHS Digital sub-national rule: 1-7 shown as ``*``, other counts rounded to the nearest 5.
DEFAULT_RULE = SuppressionRule()
#: The same small-number range with no rounding of the counts that are shown.
ROUND1_RULE = SuppressionRule(round_to=1)
#: Rules by the names the command line uses (``--rule``).
RULES = {"nhsd": DEFAULT_RULE, "round1": ROUND1_RULE}
