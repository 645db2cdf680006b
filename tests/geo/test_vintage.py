import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.vintage import apportion, bridge_pairs, detect_lsoa_vintage, inherit


def _toy_lookup() -> pd.DataFrame:
    # A splits into A1, A2, A3; B and C merge into BC; D unchanged; E,F ↔ E2,F2 irregular
    return pd.DataFrame({
        "lsoa11_code": ["A", "A", "A", "B", "C", "D", "E", "E", "F"],
        "lsoa21_code": ["A1", "A2", "A3", "BC", "BC", "D", "E2", "F2", "F2"],
        "change_code": ["S", "S", "S", "M", "M", "U", "X", "X", "X"],
    })


POP11 = pd.Series({"A": 3000, "B": 1000, "C": 500, "D": 1500, "E": 1200, "F": 1300})
POP21 = pd.Series({"A1": 1000, "A2": 1500, "A3": 700, "BC": 1600, "D": 1450, "E2": 800, "F2": 1700})


def test_weights_sum_to_one():
    pairs = bridge_pairs(_toy_lookup(), pop11=POP11, pop21=POP21)
    assert np.allclose(pairs.groupby("lsoa11_code")["w_fwd"].sum(), 1)
    assert np.allclose(pairs.groupby("lsoa21_code")["w_back"].sum(), 1)


def test_split_apportioned_by_child_population_and_merge_summed():
    pairs = bridge_pairs(_toy_lookup(), pop11=POP11, pop21=POP21)
    df = pd.DataFrame({"practice_code": ["P1"] * 4, "lsoa_code": ["A", "B", "C", "NO2011"],
                       "patients": [320, 7, 5, 11]})
    out = apportion(df, code="lsoa_code", counts=["patients"], pairs=pairs).set_index("lsoa_code")["patients"]
    assert out["A1"] == 100 and out["A2"] == 150 and out["A3"] == 70
    assert out["BC"] == 12
    assert out["NO2011"] == 11  # unknown LSOAs pass through, so totals are conserved
    assert out.sum() == df["patients"].sum()


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list("ABCDEF")), st.integers(0, 10_000)), min_size=1, max_size=30,
                unique_by=lambda t: t[0]),
       st.sampled_from(["P1", "P2"]))
def test_apportion_conserves_every_total(rows, practice):
    pairs = bridge_pairs(_toy_lookup(), pop11=POP11, pop21=POP21)
    df = pd.DataFrame({"practice_code": practice, "lsoa_code": [r[0] for r in rows],
                       "n": [r[1] for r in rows]})
    fwd = apportion(df, code="lsoa_code", counts=["n"], pairs=pairs)
    assert fwd["n"].sum() == df["n"].sum()
    assert (fwd["n"] >= 0).all() and fwd["n"].dtype.kind == "i"
    back = apportion(fwd, code="lsoa_code", counts=["n"], pairs=pairs, direction="back")
    assert back["n"].sum() == df["n"].sum()


def test_inherit_split_merge_irregular():
    pairs = bridge_pairs(_toy_lookup(), pop11=POP11, pop21=POP21)
    imd = pd.DataFrame({"lsoa_code": list("ABCDEF"), "score": [50.0, 10.0, 40.0, 5.0, 20.0, 30.0],
                        "decile": [1, 8, 2, 10, 5, 3]})
    out = inherit(imd, pairs=pairs, mean=["score"], best=["decile"]).set_index("lsoa_code")
    assert (out.loc[["A1", "A2", "A3"], "score"] == 50.0).all()
    assert out.loc["BC", "score"] == (10 * 1000 + 40 * 500) / 1500  # population-weighted merge
    assert out.loc["BC", "decile"] == 8  # best fit: B supplies most people
    assert out.loc["BC", "bridge"] == "merged"
    assert out.loc["F2", "bridge"] == "irregular (best fit)"
    assert out.loc["F2", "score"] in (20.0, 30.0)


@pytest.mark.slow
def test_detect_vintage_on_real_registrations(data_dir):
    lk = pd.read_csv(data_dir / "lookups/lsoa11_lsoa21_lad22_ew.csv.gz", usecols=["lsoa11_code", "lsoa21_code"])
    reg = pd.read_csv(data_dir / "gp/gp_reg_pat_prac_lsoa_all_2022-07.csv.gz", usecols=["LSOA_CODE"])
    assert detect_lsoa_vintage(reg["LSOA_CODE"], lsoa11=lk["lsoa11_code"], lsoa21=lk["lsoa21_code"]) == 2011
    codes21 = lk.loc[~lk["lsoa21_code"].isin(lk["lsoa11_code"]), "lsoa21_code"]
    assert detect_lsoa_vintage(codes21, lsoa11=lk["lsoa11_code"], lsoa21=lk["lsoa21_code"]) == 2021


def test_the_merge_rule_is_written_once_and_said_alike_everywhere():
    """Issue 23: the README and the Explore caption said a merged LSOA takes "the population-weighted score", the
    Methods page "the best-fitting parent's". Both halves are true (score: weighted mean; rank and decile: best fit,
    as test_inherit_split_merge_irregular shows); every place now says the one sentence, MERGE_RULE."""
    from pathlib import Path

    from geo.vintage import MERGE_RULE

    root = Path(__file__).resolve().parents[2]
    assert "population-weighted mean score" in MERGE_RULE and "rank and decile" in MERGE_RULE
    readme = " ".join((root / "README.md").read_text(encoding="utf-8").split())
    assert MERGE_RULE in readme
    assert "a merge takes the population-weighted score" not in readme
    for page in ("app_pages/methods.py", "app_pages/explore.py"):
        text = (root / page).read_text(encoding="utf-8")
        assert "MERGE_RULE" in text, page
        assert "merged ones take the population-weighted score" not in text, page
