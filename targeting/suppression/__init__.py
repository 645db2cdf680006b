"""Small-number suppression for anything exported from the tool.

Default rule: NHS Digital's statistical disclosure control for sub-national figures

* counts of 1 to 7 are shown as ``*``;
* every other count is rounded to the nearest 5 (0 stays 0);
* rates and percentages are withheld (``*``) when their numerator, or their denominator,
  is 1 to 7.

The rule is a :class:`SuppressionRule`, so another publisher's rule can be applied instead,
e.g. GP Patient Survey style ``SuppressionRule(low=1, high=9, round_to=1)`` (fewer than 10
respondents withheld, no rounding). Counts here may be fractional (apportioned from one
geography to another); a fractional count is suppressed when it lies strictly between
``low - 1`` and ``high + 1``, so 0.4 or 7.6 people are hidden too.

A table that shows parts with their total needs more than primary suppression: a single
hidden part equals the total minus the visible parts. :func:`suppress_with_totals` adds
secondary suppression for one row or column of parts and its total; :func:`protect_linked`
does it for any set of cells tied by sums (rows within groups within a grand total, across
several tables published together), and :func:`publish_grouped` applies it to a table of rows
and its group totals (Your data's rows and its Core20 / Rest / All table).

Rates shown beside suppressed or rounded counts are computed from the *published* counts
(:func:`published_rates`), never from the exact ones: a rate from exact counts multiplied by a
rounded denominator gives the hidden count back.

Everything a session publishes is one model: for a Fingertips export the practice rows, the Core20 / Rest /
All totals and the PCN and ICB sums are cells of one :func:`protect_linked` call
(:func:`publish_linked`, used by :func:`targeting.yourdata.fingertips_tables`), so no table can be subtracted
from another to give a withheld count back. An exact feasibility audit in the tests
(``tests/_disclosure_audit.py``, ``scipy.optimize.milp``) checks that every withheld cell keeps at least three
feasible values.

A rule that cannot protect what it withholds (shown counts not rounded, a withheld range short of 1-7, or no
suppression) is *weak* (:meth:`SuppressionRule.weakness`): it may be used, with a warning, and its files are named
``…_unsuppressed.csv`` with the reason in their ``source`` column. No rule protects two overlapping releases from
being subtracted one from the other (docs/methods.md, section 7).

Every table, chart, tooltip, command-line output and download of figures derived from a user's
own data passes through this package.

:mod:`.rules` holds :class:`SuppressionRule` and the named rules; :mod:`.tables` applies a rule to counts, rates,
a table and one set of parts with its total; :mod:`.linked` protects and publishes cells tied by sums; :mod:`.rates`
computes rates from the published counts.
"""

from targeting.suppression.linked import protect_linked, publish_grouped, publish_linked
from targeting.suppression.rates import published_rates, suppress_rate_columns
from targeting.suppression.rules import DEFAULT_RULE, ROUND1_RULE, RULES, SuppressionRule
from targeting.suppression.tables import suppress_counts, suppress_frame, suppress_rates, suppress_with_totals

__all__ = [
    "DEFAULT_RULE",
    "ROUND1_RULE",
    "RULES",
    "SuppressionRule",
    "protect_linked",
    "publish_grouped",
    "publish_linked",
    "published_rates",
    "suppress_counts",
    "suppress_frame",
    "suppress_rate_columns",
    "suppress_rates",
    "suppress_with_totals",
]
