"""The publishing rules of the profile tables (``pcns``, ``practices``) and of ``compare``.

Counts derived from a user's own LSOA list are suppressed (:mod:`targeting.suppression`), and every figure that
could give a suppressed count back is withheld or rounded with it; each profile table then carries its source.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from targeting.publish.csv import tidy_numbers, write_table

if TYPE_CHECKING:
    import pandas as pd

    from geo.editions import Edition

__all__ = ["profile_source", "profiles_csv", "suppress_comparison", "suppress_profiles"]


def profile_source(ed: Edition, plus_rules: Any = None, month: Any = None) -> str:
    """The source line of a profile table; ``month`` (a :class:`geo.months.RegistrationMonth`) names its months."""
    from targeting.plus import describe_rules

    text = (f"NHS Digital GP registrations by LSOA and practice→PCN map, July 2022 ({ed.lsoa_label}); "
            f"{ed.title} (MHCLG); "
            f"Census 2021 (ONS); PLUS = {describe_rules(plus_rules)}; OGL v3")
    return month.relabel(text) if month is not None else text


def suppress_profiles(table: pd.DataFrame, user_data: bool) -> pd.DataFrame:
    """Apply the default small-number rule to counts derived from a user's own LSOA list.

    Parameters
    ----------
    table : pandas.DataFrame
        Profiles of PCNs or practices (:func:`targeting.precompute.finished_profiles`).
    user_data : bool
        Whether PLUS came from the user's list; if not, ``table`` is returned as it is.

    Returns
    -------
    pandas.DataFrame
        The table with PLUS counts rounded or withheld (``*``), their rates from the published counts, the flags
        of withheld rates withheld and the reference rates to 1 decimal.
    """
    if not user_data:
        return table
    from targeting.suppression import suppress_rate_columns

    # the rates come from the published (rounded) count: a rate from the exact count, printed beside a count
    # rounded to 5, would give the exact count back (rate × patients)
    out = suppress_rate_columns(table, "plus_patients", "patients_known_lsoa",
                                ("plus_pct", "plus_pct_lower", "plus_pct_upper"))
    out = _to_1_decimal(tidy_numbers(out), ("plus_pct_icb", "plus_pct_england"))
    return _hide_flags(out, "plus_pct", ("plus_vs_icb", "plus_vs_england"))


def suppress_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Apply the default small-number rule to a ``compare`` table of PLUS from a user's own LSOA list.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`targeting.compare.compare_pcns` with ``metric="plus_pct"``.

    Returns
    -------
    pandas.DataFrame
        The table with counts rounded or withheld, the values and flags of withheld counts withheld and the
        figures around the ICB (its value, England's, the funnel) to 1 decimal.
    """
    from targeting.suppression import suppress_rate_columns

    table = suppress_rate_columns(table, "numerator", "denominator", ("value", "lower", "upper"))
    table = _hide_flags(table, "value", ("vs_icb", "vs_england", "funnel"))
    return _to_1_decimal(table, ("icb_value", "england_value", "funnel_lower_95", "funnel_upper_95",
                                 "funnel_lower_998", "funnel_upper_998", "overdispersion"))


def _hide_flags(table: pd.DataFrame, value: str, flags: tuple[str, ...]) -> pd.DataFrame:
    """Withhold the comparison flags of rows whose ``value`` is withheld: a flag hints at the figure it compares."""
    hidden = table[value].astype(str).eq("*")
    for c in flags:
        if c in table:
            table[c] = table[c].astype(object).where(~hidden, "*")
    return table


def _to_1_decimal(table: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Round reference rates to 1 decimal, as the published rates are.

    An exact ICB rate (or a funnel around it), less the PCNs' published counts, would narrow a hidden count.
    """
    import pandas as pd

    for c in columns:
        if c in table:
            table[c] = pd.to_numeric(table[c], errors="coerce").round(1)
    return table


def profiles_csv(table: pd.DataFrame, edition: Edition, rules: Any = None, *, month: Any = None) -> str:
    """The profiles as ``pcns`` and ``practices`` print them: suppressed if from the user's list, with the source.

    Parameters
    ----------
    table : pandas.DataFrame
        Profiles of PCNs or practices (:func:`targeting.precompute.finished_profiles`); its name columns and
        ``source`` are set in place.
    edition : geo.editions.Edition
        IMD edition, named in the source.
    rules : tuple, optional
        PLUS rules from the user's LSOA list (their counts are suppressed); None for the default PLUS.
    month : geo.months.RegistrationMonth, optional
        The registration month the source names.

    Returns
    -------
    str
        The CSV text (:func:`targeting.publish.write_table`).
    """
    from targeting.areas import display_name

    table = suppress_profiles(table, rules is not None)
    for col in ("pcn_name", "practice_name"):  # the names the app shows, not NHS Digital's upper case
        if col in table:
            table[col] = table[col].map(lambda v: display_name(v) if isinstance(v, str) else v)
    table["source"] = profile_source(edition, rules, month)
    out = io.StringIO()
    write_table(table, out=out)
    return out.getvalue()
