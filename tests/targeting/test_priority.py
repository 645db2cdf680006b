import numpy as np
import pandas as pd
import pytest

from targeting.priority import COMPONENTS, DEFAULT_WEIGHTS, WeightsError, parse_weights, priority_scores
from targeting.scope import make_scope

JAYWICK = "E01021988"  # Tendring 018A: IoD 2025 rank 1 (MANIFEST spot check)
BRADFORD_064A = "E01033693"


def _inputs(atlas):
    from targeting.outreach import outreach_inputs

    bradford = atlas.lsoa21.loc[atlas.lsoa21["lad_name"] == "Bradford", "lsoa_code"]
    jaywick = [JAYWICK] if JAYWICK in set(atlas.lsoa21["lsoa_code"]) else []  # not in the small atlas
    return outreach_inputs(make_scope(atlas), [*bradford, *jaywick])


@pytest.fixture(scope="module")
def inputs(each_atlas):
    return _inputs(each_atlas)


def test_default_weights_are_documented_and_sum_to_one():
    assert set(DEFAULT_WEIGHTS) == set(COMPONENTS)
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)
    assert max(DEFAULT_WEIGHTS, key=DEFAULT_WEIGHTS.get) == "deprivation"


def test_parse_weights_overrides_only_named_components():
    w = parse_weights("deprivation=0.5, plus = 0.3")
    assert w["deprivation"] == 0.5 and w["plus"] == 0.3
    assert w["size"] == DEFAULT_WEIGHTS["size"]
    assert parse_weights({"size": 2}) == {**DEFAULT_WEIGHTS, "size": 2.0}


@pytest.mark.parametrize("bad, words", [
    ("poverty=1", "unknown weight 'poverty'"),
    ("plus=-1", "must be a finite number ≥ 0"),
    ("plus=lots", "is not a number"),
    ("plus", "name=number"),
    ("deprivation=0,plus=0,undiagnosed=0,registration=0,size=0", "at least one weight"),
])
def test_parse_weights_rejects_bad_input_with_a_clear_message(bad, words):
    with pytest.raises(WeightsError, match=words):
        parse_weights(bad)
    assert issubclass(WeightsError, ValueError)


@pytest.mark.slow
def test_jaywick_has_the_full_deprivation_component(atlas):
    inputs = _inputs(atlas)
    s = priority_scores(inputs)
    row = inputs.index[inputs["lsoa_code"] == JAYWICK][0]
    assert inputs.loc[row, "imd_rank"] == 1
    assert s.loc[row, "score_deprivation"] == 1.0
    assert s.loc[row, "why"].startswith("in the most deprived 10% nationally (IMD 2025 decile 1, rank 1 of 33,755)")


def test_points_add_up_to_the_score_and_scores_stay_in_range(inputs):
    s = priority_scores(inputs, "registration=0.3")
    total = s[[f"points_{k}" for k in COMPONENTS]].sum(axis=1)
    assert np.allclose(total, s["priority_score"], atol=0.05)
    assert s["priority_score"].between(0, 100).all()
    for k in COMPONENTS:
        assert s[f"score_{k}"].between(0, 1).all()
    assert sorted(s["priority_rank"]) == list(range(1, len(s) + 1))


def test_deprivation_only_weights_rank_by_national_imd(inputs):
    s = priority_scores(inputs, {k: (1.0 if k == "deprivation" else 0.0) for k in COMPONENTS})
    by_score = inputs.loc[s.sort_values("priority_rank").index, "imd_rank"].to_numpy()
    assert (np.diff(by_score) >= 0).all()


def test_explanation_shows_deprivation_beside_ethnicity_and_undiagnosed_numbers(inputs):
    s = priority_scores(inputs)
    row = inputs.index[inputs["lsoa_code"] == BRADFORD_064A][0]
    why = s.loc[row, "why"]
    pct = round(float(inputs.loc[row, "pct_minority"]))
    und = round(float(inputs.loc[row, "expected_undiagnosed"]))
    assert why.startswith("in the most deprived 10% nationally")
    assert f"{pct}% of residents from ethnic minority communities" in why
    assert f"an estimated {und:,} people with high blood pressure not on a GP register" in why
    assert "BAME" not in " ".join(s["why"])


def test_plus_weight_moves_plus_lsoas_up(inputs):
    low = priority_scores(inputs, "plus=0")
    high = priority_scores(inputs, "plus=2")
    plus = inputs["plus"].astype(bool)
    assert plus.any() and (~plus).any()
    assert high.loc[plus, "priority_rank"].mean() < low.loc[plus, "priority_rank"].mean()


def test_registration_component_counts_only_under_registration():
    frame = pd.DataFrame({"imd_rank": [10, 10, 10], "imd_decile": [1, 1, 1], "imd_lsoas": 33755,
                          "plus": False, "plus_reasons": "", "pct_minority": 10.0, "expected_undiagnosed": 50.0,
                          "registration_ratio": [1.2, 0.75, 0.4], "households": 600})
    s = priority_scores(frame)
    assert s["score_registration"].tolist() == [0.0, 0.5, 1.0]
    assert "fewer patients registered" in s["why"].iloc[2]
    assert "fewer patients registered" not in s["why"].iloc[0]
