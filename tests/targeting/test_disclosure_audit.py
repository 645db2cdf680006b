"""Issue 24: one disclosure model across every table of a session, checked by an exact feasibility audit.

Everything published in a session (practice rows, PCN and ICB rows, Core20 / Rest / All, LSOA rows, their rates and
limits) becomes integer constraints on the true counts (tests/_disclosure_audit.py), and ``scipy.optimize.milp``
bounds every withheld cell: each must keep at least three feasible values. The Fingertips exports are built from
the published header with real practice codes (tests/_fingertips_fixture.py); the values are our own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _disclosure_audit import Audit
from _fingertips_fixture import export_csv

from targeting import uploads
from targeting.fingertips import pcn_values, read_fingertips, select, to_upload
from targeting.publish import write_your_data, your_data_files
from targeting.scope import make_scope
from targeting.suppression import DEFAULT_RULE, ROUND1_RULE, SuppressionRule
from targeting.yourdata import (
    _rate_cells,
    file_name,
    fingertips_tables,
    your_data_tables,
)

pytestmark = pytest.mark.slow  # the national atlas (loaded in a few seconds); each audit takes well under a second


# --------------------------------------------------------------------------------------------------
# building the audit from what is published
# --------------------------------------------------------------------------------------------------


def _add_your_data(audit: Audit, tables, codes: pd.Series) -> None:
    """The rows and the Core20 / Rest / All table; their rates must be recomputations of the published counts."""
    from targeting.suppression import published_rates

    rows = tables.rows
    assert list(rows["code"]) == list(codes)
    for i, r in rows.iterrows():
        for col in ("numerator", "denominator"):
            audit.cell(f"row {r['code']}", [i], col, r[col])
    g = tables.gap.set_index("group")
    for label in ("Core20", "Rest", "All"):
        idx = np.arange(len(rows)) if label == "All" else np.flatnonzero(rows["group"].eq(label).to_numpy())
        for col in ("numerator", "denominator"):
            audit.cell(label, idx, col, g.loc[label, col])
    again = published_rates(g.loc[["Core20", "Rest", "All"], "numerator"], g.loc[["Core20", "Rest", "All"],
                                                                             "denominator"], tables.rule)
    for col in ("rate", "lower", "upper"):
        assert list(again[col]) == list(g.loc[["Core20", "Rest", "All"], col]), "rates not from published counts"
    again = published_rates(rows["numerator"], rows["denominator"], tables.rule, confidence=None)["rate"]
    assert list(again) == list(rows["rate"])


def _members(atlas, icb: str) -> pd.DataFrame:
    p = atlas.practices
    return p[p["icb_code_nhs"] == icb]


def _add_pcns(audit: Audit, pcns: pd.DataFrame, ind, atlas, icb: str, codes: pd.Series, rule) -> None:
    """The PCN and ICB rows: counts as cells; a value not recomputed from them is a claim on the true counts."""
    pos = pd.Series(np.arange(len(codes)), index=codes.to_numpy())
    m = _members(atlas, icb)
    for _, r in pcns.iterrows():
        who = m if r["pcn_code"] == icb else m[m["pcn_code"] == r["pcn_code"]]
        idx = pos.reindex(who["practice_code"]).dropna().astype(int).to_numpy()
        if r["count"] is None or (isinstance(r["count"], float) and np.isnan(r["count"])) or not idx.size:
            continue
        audit.cell(f"PCN/ICB {r['pcn_code']}", idx, "numerator", r["count"])
        audit.cell(f"PCN/ICB {r['pcn_code']}", idx, "denominator", r["denominator"])
        derived = _rate_cells(r["count"], r["denominator"], ind, rule)[0]
        if r["value"] not in (rule.symbol, None) and derived != r["value"]:
            audit.claim(idx, float(r["value"]), 1, ind.multiplier)  # from the exact counts: it tells more


def _fingertips_audit(session, ind, atlas, icb: str, rule) -> Audit:
    d = session.upload.data.reset_index(drop=True)
    audit = Audit(len(d), rule, proportion=ind.proportion)
    if session.tables is not None:
        _add_your_data(audit, session.tables, d["code"])
    else:
        for i, c in enumerate(d["code"]):
            audit.cell(f"row {c}", [i], "numerator", rule.symbol)  # not published: nothing to read
    _add_pcns(audit, session.pcns, ind, atlas, icb, d["code"], rule)
    assert audit.feasible(d["numerator"], d["denominator"]), "the audit must admit the true counts"
    return audit


def _indicator(atlas, icb: str, *, counts: dict[str, tuple[int, int]] | None = None, seed: int = 7,
               small: bool = False):
    ind = select(read_fingertips(export_csv(atlas, icb=icb, seed=seed).encode(), filename="ft.csv"))
    p = ind.practices
    if small:  # many small counts and denominators, so primary and secondary suppression have work to do
        rng = np.random.default_rng(seed)
        den = rng.integers(0, 40, len(p)).astype(float)
        cnt = rng.binomial(den.astype(int), rng.uniform(0.05, 0.9, len(p))).astype(float)
        p["count"], p["denominator"] = cnt, den
    for code, (x, n) in (counts or {}).items():
        p.loc[p["code"] == code, ["count", "denominator"]] = [float(x), float(n)]
    p["value"] = (100 * p["count"] / p["denominator"].where(p["denominator"] > 0)).fillna(0.0)
    return ind


@pytest.fixture(scope="module")
def two_practice_pcn(atlas):
    """A real PCN of exactly two practices, in the ICB with fewest practices that has one (keeps the audit fast)."""
    p = atlas.practices
    sizes = p[p["pcn_code"] != "U"].groupby("pcn_code").size()
    pcn2 = p[p["pcn_code"].isin(sizes[sizes == 2].index)]
    icb_size = p.groupby("icb_code_nhs").size()
    icb = min(pcn2["icb_code_nhs"].unique(), key=lambda c: icb_size[c])
    pcn = sorted(pcn2.loc[pcn2["icb_code_nhs"] == icb, "pcn_code"].unique())[0]
    codes = sorted(p.loc[p["pcn_code"] == pcn, "practice_code"])
    return icb, pcn, codes


# --------------------------------------------------------------------------------------------------
# the issue's cases
# --------------------------------------------------------------------------------------------------


def _issue_case(atlas, two_practice_pcn):
    """The issue's PCN: practice a 1 of 200 (withheld), practice b 98 of 300 (shown as 100). A third practice of a's
    Core20/Rest group, outside the PCN, has 20 of 40, so the group's secondary suppression takes it, not b."""
    icb, _pcn, (a, b) = two_practice_pcn
    ind = _indicator(atlas, icb, counts={a: (1, 200), b: (98, 300)})
    rows = your_data_tables(to_upload(ind, atlas), make_scope(atlas)).rows.set_index("code")
    same = rows.index[(rows["group"] == rows.loc[a, "group"]) & ~rows.index.isin([a, b])]
    return _indicator(atlas, icb, counts={a: (1, 200), b: (98, 300), same[0]: (20, 40)})


def _old_pcn_table(ind, atlas, icb, rule):
    """The PCN table as it was before issue 24: exact PCN sums, each cell suppressed on its own."""
    pcns = pcn_values(ind, make_scope(atlas, kind="icb", code=icb))
    return uploads.suppressed(pcns, rule=rule, numerator="count", denominator="denominator",
                              rates=("value", "lower", "upper"))


def test_the_audit_finds_the_issues_leak_in_the_old_pcn_table(atlas, two_practice_pcn):
    """One practice 1 of 200 withheld, the other 98 of 300 shown as 100: the old PCN row pinned the PCN to 99."""
    icb, _pcn, (a, b) = two_practice_pcn
    ind = _issue_case(atlas, two_practice_pcn)
    up = to_upload(ind, atlas)
    d = up.data.reset_index(drop=True)
    audit = Audit(len(d), DEFAULT_RULE)
    _add_your_data(audit, your_data_tables(up, make_scope(atlas), rule=DEFAULT_RULE), d["code"])
    _add_pcns(audit, _old_pcn_table(ind, atlas, icb, DEFAULT_RULE), ind, atlas, icb, d["code"], DEFAULT_RULE)
    assert audit.feasible(d["numerator"], d["denominator"])
    assert your_data_tables(up, make_scope(atlas)).rows.set_index("code").loc[b, "numerator"] == 100  # b shown
    leaks = audit.leaks()
    assert (f"row {a}", "numerator") in leaks, leaks
    mn, mx, _ = leaks[(f"row {a}", "numerator")]
    assert mx - mn <= 1  # {0, 1}, or 1 exactly


def test_the_issues_pcn_is_safe_when_every_table_is_protected_together(atlas, two_practice_pcn):
    icb, pcn, (a, b) = two_practice_pcn
    ind = _issue_case(atlas, two_practice_pcn)
    session = fingertips_tables(ind, make_scope(atlas, kind="icb", code=icb), rule=DEFAULT_RULE)
    rows = session.tables.rows.set_index("code")
    assert rows.loc[a, "numerator"] == "*" and rows.loc[b, "numerator"] == "*"  # secondary: b goes with a
    pcn_row = session.pcns.set_index("pcn_code").loc[pcn]
    assert pcn_row["count"] == 100 and pcn_row["value"] == 20.0  # 100 of 500: from the published counts, not 99
    ranges = _fingertips_audit(session, ind, atlas, icb, DEFAULT_RULE).ranges()
    assert ranges and all(n >= 3 for _, _, n in ranges.values()), {k: v for k, v in ranges.items() if v[2] < 3}
    assert ranges[(f"row {a}", "numerator")][1] - ranges[(f"row {a}", "numerator")][0] >= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_fingertips_uploads_keep_three_values_for_every_withheld_cell(atlas, two_practice_pcn, seed):
    icb = two_practice_pcn[0]
    ind = _indicator(atlas, icb, seed=seed, small=True)
    session = fingertips_tables(ind, make_scope(atlas, kind="icb", code=icb), rule=DEFAULT_RULE)
    ranges = _fingertips_audit(session, ind, atlas, icb, DEFAULT_RULE).ranges()
    assert len(ranges) >= 5  # small counts: there is something to audit
    assert all(n >= 3 for _, _, n in ranges.values()), {k: v for k, v in ranges.items() if v[2] < 3}
    # every PCN and ICB value and limit is a recomputation of its published counts
    for _, r in session.pcns.iterrows():
        if r["method"] == "sum of practices":
            assert tuple(r[["value", "lower", "upper"]]) == _rate_cells(r["count"], r["denominator"], ind,
                                                                       DEFAULT_RULE)


def _lsoa_upload(atlas, seed: int, n: int = 60) -> bytes:
    rng = np.random.default_rng(seed)
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"]
    codes = rng.choice(t["lsoa_code"].to_numpy(), n, replace=False)
    den = rng.integers(0, 60, n)
    num = rng.binomial(den, rng.uniform(0.05, 0.9, n))
    lines = ["lsoa_code,numerator,denominator", *[f"{c},{x},{d}" for c, x, d in zip(codes, num, den, strict=True)]]
    return ("\n".join(lines) + "\n").encode()


def _lsoa_audit(atlas, data: bytes, rule) -> Audit:
    up = uploads.read_upload(data, atlas, filename="lsoa.csv")
    d = up.data.reset_index(drop=True)
    audit = Audit(len(d), rule)
    _add_your_data(audit, your_data_tables(up, make_scope(atlas), rule=rule), d["code"])
    assert audit.feasible(d["numerator"], d["denominator"])
    return audit


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_lsoa_uploads_keep_three_values_for_every_withheld_cell(atlas, seed):
    ranges = _lsoa_audit(atlas, _lsoa_upload(atlas, seed), DEFAULT_RULE).ranges()
    assert len(ranges) >= 5
    assert all(n >= 3 for _, _, n in ranges.values()), {k: v for k, v in ranges.items() if v[2] < 3}


def _round1_case(atlas) -> bytes:
    """Two Core20 LSOAs: a denominator of 1 (withheld) and 11 of 11, beside Rest rows: under round to 1 the group
    total 12 and numerator ≤ denominator leave the withheld denominator {0, 1}."""
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"]
    core = t.loc[t["imd25_core20"].astype(bool), "lsoa_code"].iloc[:2].tolist()
    rest = t.loc[~t["imd25_core20"].astype(bool), "lsoa_code"].iloc[:3].tolist()
    lines = ["lsoa_code,numerator,denominator", f"{core[0]},0,1", f"{core[1]},11,11",
             *[f"{c},20,50" for c in rest]]
    return ("\n".join(lines) + "\n").encode()


def test_round_to_1_leaks_and_is_labelled_unsuppressed(atlas, tmp_path):
    data = _round1_case(atlas)
    assert _lsoa_audit(atlas, data, ROUND1_RULE).leaks()  # the audit shows the rule can leak ...
    ranges = _lsoa_audit(atlas, data, DEFAULT_RULE).ranges()  # ... and the default does not, on the same file
    assert ranges and all(n >= 3 for _, _, n in ranges.values())
    # so the weak rule is allowed only with its name on it
    for weak in (ROUND1_RULE, SuppressionRule(low=0, high=0), SuppressionRule(enabled=False),
                 SuppressionRule(low=1, high=5)):
        assert weak.weak and weak.weakness()
        assert file_name("your_data_suppressed.csv", weak) == "your_data_unsuppressed.csv"
        assert weak.describe().startswith("UNSUPPRESSED")
    assert not DEFAULT_RULE.weak and not SuppressionRule(round_to=10).weak
    up = uploads.read_upload(data, atlas, filename="lsoa.csv")
    t = your_data_tables(up, make_scope(atlas), rule=ROUND1_RULE)
    assert list(your_data_files(t)) == ["your_data_unsuppressed.csv", "core20_gap_unsuppressed.csv", "invalid_rows.csv"]
    assert t.rows["source"].str.contains("UNSUPPRESSED, not safe to publish").all()
    out = tmp_path / "out"
    write_your_data(your_data_tables(up, make_scope(atlas)), out)
    write_your_data(t, out)  # a later run under the weak rule replaces the safe files, never sits beside them
    assert sorted(p.name for p in out.iterdir()) == sorted(your_data_files(t))


def test_cli_warns_and_names_the_files_under_round1(atlas, tmp_path, capsys):
    from targeting.cli import main

    f = tmp_path / "lsoa.csv"
    f.write_bytes(_round1_case(atlas))
    assert main(["yourdata", "--file", str(f), "--rule", "round1", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "warning: this rule is not safe to publish" in err
    assert (tmp_path / "o" / "your_data_unsuppressed.csv").exists()
    assert not (tmp_path / "o" / "your_data_suppressed.csv").exists()


def test_clinical_shows_the_published_figures_beside_the_practice_table(atlas, two_practice_pcn):
    """The Core20PLUS5 summary of the issue's PCN and practices: the values Your data publishes, not exact ones."""
    from targeting import clinical
    from targeting.scope import make_scope

    icb, pcn, (a, b) = two_practice_pcn
    ind = _issue_case(atlas, two_practice_pcn)
    session = fingertips_tables(ind, make_scope(atlas, kind="icb", code=icb), rule=DEFAULT_RULE)
    pub = session.pcns.set_index("pcn_code")

    def user_row(kind, code):
        t = clinical.summary(make_scope(atlas, kind=kind, code=code), fingertips=[ind])
        return clinical.for_output(t)[t["user_data"].to_numpy()].iloc[0]

    row = user_row("pcn", pcn)
    assert row["value"] == 20.0 and row["value"] != 19.8  # 100 of 500 published; 99 of 500 exact (the leak)
    assert (row["lower"], row["upper"]) == (pub.loc[pcn, "lower"], pub.loc[pcn, "upper"])
    assert row["icb_value"] == pub.loc[icb, "value"]
    for practice in (a, b):  # a is small, b withheld with it: neither is shown to 3 decimals elsewhere
        r = user_row("practice", practice)
        assert r["value"] == "*" and r["lower"] == "*" and r["vs_icb"] == "*"


def test_a_rate_per_100000_is_protected_with_the_practices_it_sums(atlas, two_practice_pcn):
    """No Core20 table for a rate (only a percentage gets one), but the PCN and ICB rows still come from protected,
    rounded sums: the practices are cells of the model even though they are not written."""
    icb = two_practice_pcn[0]
    ind = _indicator(atlas, icb, seed=5, small=True)
    ind.practices["value"] = 100_000 * ind.practices["count"] / ind.practices["denominator"].where(
        ind.practices["denominator"] > 0)
    ind.practices["value"] = ind.practices["value"].fillna(0.0)
    ind.multiplier, ind.proportion = 100_000.0, False
    session = fingertips_tables(ind, make_scope(atlas, kind="icb", code=icb), rule=DEFAULT_RULE)
    assert session.tables is None and session.upload is not None
    ranges = _fingertips_audit(session, ind, atlas, icb, DEFAULT_RULE).ranges()
    assert all(n >= 3 for _, _, n in ranges.values()), {k: v for k, v in ranges.items() if v[2] < 3}
    shown = session.pcns[session.pcns["value"].map(lambda v: isinstance(v, float))]
    assert len(shown) and all(r["value"] == _rate_cells(r["count"], r["denominator"], ind, DEFAULT_RULE)[0]
                              for _, r in shown.iterrows())


def test_cli_fingertips_under_round1_names_every_file_unsuppressed_and_matches_the_page(atlas, two_practice_pcn,
                                                                                        tmp_path, capsys):
    from geo.files import csv_text
    from targeting.cli import main

    icb = two_practice_pcn[0]
    text = export_csv(atlas, icb=icb)
    f = tmp_path / "ft.csv"
    f.write_text(text)
    assert main(["yourdata", "--file", str(f), "--rule", "round1", "--out", str(tmp_path / "o")]) == 0
    assert "warning: this rule is not safe to publish" in capsys.readouterr().err
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == ["core20_gap_unsuppressed.csv", "fingertips_pcns_unsuppressed.csv", "invalid_rows.csv",
                     "your_data_unsuppressed.csv"]
    ind = select(read_fingertips(text.encode(), filename="ft.csv"))
    scope = make_scope(atlas, kind="icb", code=icb)
    session = fingertips_tables(ind, scope, rule=ROUND1_RULE)  # what the page shows and offers
    assert (tmp_path / "o" / "fingertips_pcns_unsuppressed.csv").read_bytes() == csv_text(session.pcns).encode()
    for name, data in your_data_files(session.tables).items():
        assert (tmp_path / "o" / name).read_bytes() == data
    assert session.pcns["source"].str.contains("UNSUPPRESSED, not safe to publish").all()
