"""A transparent priority score per LSOA for outreach: weighted components, each explained in words and numbers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["COMPONENTS", "DEFAULT_WEIGHTS", "ORDERS", "WeightsError", "parse_weights", "priority_order",
           "priority_scores"]

#: How target LSOAs are put in order: deprivation first (the default) or the user's weighted score.
ORDERS = ("deprivation", "score")

#: Components of the priority score, in the order they are shown.
COMPONENTS = ("deprivation", "plus", "undiagnosed", "registration", "size")

#: Default weights. Deprivation leads because Core20 is defined by it; PLUS membership and the estimated
#: undiagnosed hypertension (the clinical area connectors and health checks act on) come next; the registration
#: gap (a signal of people outside general practice) and the size of the neighbourhood break ties.
DEFAULT_WEIGHTS: dict[str, float] = {
    "deprivation": 0.40,
    "plus": 0.20,
    "undiagnosed": 0.20,
    "registration": 0.10,
    "size": 0.10,
}

#: A relative registration ratio this far below 1 scores the full registration component.
_REGISTRATION_FULL_AT = 0.5


class WeightsError(ValueError):
    """Weights that are unknown, negative, not numbers, or all zero."""


def parse_weights(text: str | Mapping[str, float] | None) -> dict[str, float]:
    """Read user weights (``"deprivation=0.5,plus=0.3"`` or a mapping) over :data:`DEFAULT_WEIGHTS`.

    Components that are not named keep their default weight; weights need not add up to 1 (the score divides
    by their sum).

    Raises
    ------
    WeightsError
        Naming the offending item when a component is unknown, a weight is not a number or is negative,
        or every weight is zero.
    """
    weights = dict(DEFAULT_WEIGHTS)
    if text is None:
        return weights
    if isinstance(text, Mapping):
        items = [(str(k), v) for k, v in text.items()]
    else:
        items = []
        for part in str(text).split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise WeightsError(f"weight '{part.strip()}' is not of the form name=number "
                                     f"(components: {', '.join(COMPONENTS)})")
            k, v = part.split("=", 1)
            items.append((k, v))
    seen: set[str] = set()
    for k, v in items:
        key = k.strip().lower()
        if key not in COMPONENTS:
            raise WeightsError(f"unknown weight '{k.strip()}'; components are {', '.join(COMPONENTS)}")
        if key in seen:
            raise WeightsError(f"weight '{key}' is given twice; give each component once")
        seen.add(key)
        try:
            value = float(v)
        except (TypeError, ValueError):
            raise WeightsError(f"weight {key}='{v}' is not a number") from None
        if not np.isfinite(value) or value < 0:
            raise WeightsError(f"weight {key}={v} must be a finite number ≥ 0")
        weights[key] = value
    if sum(weights.values()) <= 0:
        raise WeightsError("at least one weight must be above 0")
    return weights


def _fmt_int(x: float) -> str:
    return f"{round(float(x)):,}"


def _scaled(values: pd.Series) -> pd.Series:
    v = values.astype(float).fillna(0.0).clip(lower=0.0)
    top = float(v.max()) if len(v) else 0.0
    return v / top if top > 0 else v * 0.0


def priority_scores(lsoas: pd.DataFrame, weights: Mapping[str, float] | str | None = None) -> pd.DataFrame:
    r"""Score LSOAs for outreach from transparent components, with each score explained.

    Parameters
    ----------
    lsoas
        One row per LSOA of the area being planned, with ``imd_rank``, ``imd_decile``, ``imd_lsoas`` (how many
        LSOAs the national ranking has), ``plus`` (bool), ``plus_reasons``, ``pct_minority`` (%),
        ``expected_undiagnosed`` (with ``expected_undiagnosed_lower``/``_upper`` when known),
        ``registration_ratio`` (registered patients living there ÷ Census residents, relative to England),
        ``households`` and, to name the edition in the explanation, ``imd_edition`` (the year, as
        :func:`targeting.outreach.outreach_inputs` gives it).
    weights
        Overrides of :data:`DEFAULT_WEIGHTS` (mapping or ``"k=v,..."``).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``lsoas.index``: ``score_<component>`` (0–1), ``points_<component>`` (its share of the
        0–100 score), ``priority_score`` (0–100), ``priority_rank`` (1 = highest in the area) and ``why`` (the
        components in plain words).

    Notes
    -----
    Each component :math:`c_k \in [0, 1]`:

    * deprivation :math:`= 1 - (r - 1)/(N - 1)` from the **national** IMD rank :math:`r` of :math:`N` LSOAs
      (1 for the most deprived LSOA in England, never re-ranked locally);
    * plus :math:`= 1` if the LSOA meets the area's PLUS rules, else 0;
    * undiagnosed = estimated people with hypertension not on a register (expected − recorded)
      ÷ the largest such estimate in the area;
    * registration :math:`= \min(1, \max(0, (1 - g)/0.5))` where :math:`g` is the relative registration
      ratio, so fewer registered patients than residents (relative to England) scores up to 1 at half;
    * size = households ÷ the largest household count in the area.

    The score is :math:`100 \sum_k w_k c_k / \sum_k w_k`; ``points_k`` is the term :math:`100 w_k c_k / \sum w`.
    Undiagnosed and size are scaled within the area planned, so scores compare LSOAs within one plan only.
    """
    w = parse_weights(weights)
    total_w = sum(w.values())
    n = lsoas["imd_lsoas"].astype(float)
    comp = pd.DataFrame(index=lsoas.index)
    comp["score_deprivation"] = (1.0 - (lsoas["imd_rank"].astype(float) - 1.0) / (n - 1.0)).clip(0, 1)
    comp["score_plus"] = lsoas["plus"].astype(bool).astype(float)
    comp["score_undiagnosed"] = _scaled(lsoas["expected_undiagnosed"])
    ratio = lsoas["registration_ratio"].astype(float)
    comp["score_registration"] = ((1.0 - ratio) / _REGISTRATION_FULL_AT).clip(0, 1).fillna(0.0)
    comp["score_size"] = _scaled(lsoas["households"])
    for k in COMPONENTS:
        comp[f"points_{k}"] = 100.0 * w[k] * comp[f"score_{k}"] / total_w
    raw = comp[[f"points_{k}" for k in COMPONENTS]].sum(axis=1)
    # Rank on the unrounded score; equal scores go to the more deprived LSOA first.
    order = np.lexsort((lsoas["imd_rank"].to_numpy(), -raw.to_numpy()))
    rank = np.empty(len(raw), dtype="int64")
    rank[order] = np.arange(1, len(raw) + 1)
    comp["priority_score"] = raw.round(2)
    for k in COMPONENTS:
        comp[f"score_{k}"] = comp[f"score_{k}"].round(4)
        comp[f"points_{k}"] = comp[f"points_{k}"].round(2)
    comp["priority_rank"] = rank
    comp["why"] = _explain(lsoas, comp)
    return comp


def _deprivation_words(decile: int, rank: int, n: int, imd: object) -> str:
    if decile == 1:
        head = "in the most deprived 10% nationally"
    elif decile == 2:
        head = "in the most deprived 20% nationally (Core20)"
    elif decile <= 5:
        head = f"in the most deprived {decile * 10}% nationally"
    else:
        head = f"in the least deprived {(11 - decile) * 10}% nationally"
    edition = f"IMD {int(imd)}" if pd.notna(imd) else "IMD"  # type: ignore[call-overload]
    return f"{head} ({edition} decile {decile}, rank {rank:,} of {n:,})"


def _explain(lsoas: pd.DataFrame, comp: pd.DataFrame) -> pd.Series:
    out = []
    for idx, row in lsoas.iterrows():
        parts = [_deprivation_words(int(row["imd_decile"]), int(row["imd_rank"]), int(row["imd_lsoas"]),
                                    row.get("imd_edition"))]
        pct = row.get("pct_minority")
        if pd.notna(pct):
            parts.append(f"{round(float(pct))}% of residents from ethnic minority communities")
        if bool(row["plus"]):
            reasons = str(row.get("plus_reasons") or "").strip()
            parts.append(f"PLUS: {reasons}" if reasons else "meets the area's PLUS rules")
        und = row.get("expected_undiagnosed")
        if pd.notna(und):
            lo, hi = row.get("expected_undiagnosed_lower"), row.get("expected_undiagnosed_upper")
            rng = f" (95% range {_fmt_int(lo)}–{_fmt_int(hi)})" if pd.notna(lo) and pd.notna(hi) else ""
            parts.append(f"an estimated {_fmt_int(und)} people with high blood pressure not on a GP register{rng}")
        ratio = row.get("registration_ratio")
        if pd.notna(ratio) and ratio < 0.95:
            parts.append(f"about {round((1 - float(ratio)) * 100)}% fewer patients registered as living here than "
                         "residents, relative to England")
        parts.append(f"{_fmt_int(row['households'])} households")
        c = comp.loc[idx]
        parts.append(f"score {c['priority_score']:.1f} of 100 = " + " + ".join(
            f"{k} {c[f'points_{k}']:.1f}" for k in COMPONENTS))
        out.append("; ".join(parts))
    return pd.Series(out, index=lsoas.index, dtype=object)


def priority_order(lsoas: pd.DataFrame, *, by: str = "deprivation") -> pd.DataFrame:
    r"""Put LSOAs in the order outreach reaches them: deprivation first (default) or by weighted score.

    Parameters
    ----------
    lsoas
        ``lsoa_code``, ``core20``, ``plus``, ``target``, ``imd_rank``, ``imd_score`` (optional) and, for
        ``by="score"``, ``priority_score``.
    by
        ``"deprivation"``: Core20 LSOAs first, then PLUS LSOAs that are not Core20, then other targets (a
        score cut), then the rest; within each tier by national IMD rank (1 = most deprived), the IMD score
        breaking ties (higher first; equal ranks occur for LSOAs that inherit a 2011 parent's IMD 2019 rank
        across the vintage bridge), then PLUS first. ``"score"``: by the weighted priority score, the IMD rank
        breaking ties, targets before the rest.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``lsoas.index``: ``tier`` (1–4 for deprivation; 1 for every target and 4 for the rest when
        ordering by score) and ``priority_rank`` (1 = first).
    """
    if by not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {by!r}")
    core = lsoas["core20"].astype(bool).to_numpy()
    plus = lsoas["plus"].astype(bool).to_numpy()
    target = lsoas["target"].astype(bool).to_numpy() if "target" in lsoas else core | plus
    rank = lsoas["imd_rank"].astype(float).to_numpy()
    score = lsoas["imd_score"].astype(float).fillna(0.0).to_numpy() if "imd_score" in lsoas else np.zeros(len(rank))
    codes = lsoas["lsoa_code"].astype(str).to_numpy()
    if by == "deprivation":
        tier = np.where(core & target, 1, np.where(plus & target, 2, np.where(target, 3, 4)))
        keys = (codes, ~plus, -score, rank, tier)
    else:
        tier = np.where(target, 1, 4)
        keys = (codes, rank, -lsoas["priority_score"].astype(float).to_numpy(), tier)
    order = np.lexsort(keys)
    out = np.empty(len(order), dtype="int64")
    out[order] = np.arange(1, len(order) + 1)
    return pd.DataFrame({"tier": tier.astype("int64"), "priority_rank": out}, index=lsoas.index)
