
"""Property tests on the real atlas: a Core20 flag never depends on the area chosen."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.editions import Edition
from targeting.core20 import core20


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(imd=st.sampled_from([2019, 2025]), seed=st.integers(0, 2**32 - 1), frac=st.floats(0.001, 1.0),
       by=st.sampled_from(["random", "icb_code_nhs", "lad_code"]))
def test_core20_flag_is_the_same_in_any_area(each_atlas, imd, seed, frac, by):
    table = each_atlas.edition(imd).lsoas
    national = core20(table, edition=Edition.of(imd))
    rng = np.random.default_rng(seed)
    if by == "random":
        sub = table.sample(frac=frac, random_state=rng)
    else:
        groups = table[by].dropna().unique()
        pick = rng.choice(groups, size=max(1, int(len(groups) * frac)), replace=False)
        sub = table[table[by].isin(pick)]
    local = core20(sub, edition=Edition.of(imd))
    assert (local == national.loc[sub.index]).all()
    # and it is always the published national deciles 1-2, never a local re-ranking
    assert (local == (sub[f"imd{str(imd)[2:]}_decile"] <= 2)).all()


@pytest.mark.slow
def test_an_area_can_have_no_core20_or_only_core20(atlas):
    t = atlas.lsoa21
    wokingham = t[t["lad_name"] == "Wokingham"]
    # local re-ranking would wrongly invent a "most deprived 20%"
    assert not core20(wokingham, edition=Edition.of(2025)).any()
    jaywick = t[t["lsoa_code"] == "E01021988"]
    assert core20(jaywick, edition=Edition.of(2025)).all()
