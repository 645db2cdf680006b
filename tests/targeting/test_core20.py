import numpy as np
import pandas as pd
import pytest

from geo.editions import Edition
from targeting.areas import lsoas_in, resolve_icb
from targeting.core20 import core20, local_quintile, population_quantiles, population_quintiles


@pytest.mark.slow
def test_core20_2019_holds_19_93_pct_of_mid2015_population(atlas):
    l11 = atlas.lsoa11
    flag = core20(l11, edition=Edition.of(2019))
    assert flag.dtype == bool and flag.index.equals(l11.index)
    assert int(flag.sum()) == 6568  # deciles 1-2 of 32,844 LSOAs (MANIFEST spot check)
    share = l11.loc[flag, "pop_mid2015"].sum() / l11["pop_mid2015"].sum()
    assert round(100 * share, 2) == 19.93


@pytest.mark.slow
def test_jaywick_is_core20_in_both_editions(atlas):
    for imd in (2019, 2025):
        lsoas = atlas.edition(imd).lsoas
        row = lsoas[lsoas["lsoa_code"] == "E01021988"]
        assert bool(core20(row, edition=Edition.of(imd)).iloc[0])


def test_core20_2025_is_national_deciles_one_and_two(each_atlas):
    l21 = each_atlas.lsoa21
    flag = core20(l21, edition=Edition.of(2025))
    # ranks 1..33,755: deciles 1-2 are the 6,751 most deprived LSOAs (3,375/3,376 per decile)
    assert flag.sum() == (l21["imd25_decile"] <= 2).sum()
    assert l21.loc[flag, "imd25_rank"].max() < l21.loc[~flag, "imd25_rank"].min()


@pytest.mark.slow
def test_core20_is_not_reranked_within_an_area(atlas):
    # Surrey Heartlands is affluent: within it, few LSOAs are national Core20, whatever the subset
    icb = resolve_icb(atlas, "E54000063")  # Surrey Heartlands (LSOA 2021 code)
    sub = lsoas_in(atlas.edition(2025), icb["icb_code_nhs"])
    flag = core20(sub, edition=Edition.of(2025))
    assert flag.equals(atlas.lsoa21.loc[sub.index, "imd25_core20"].rename("core20"))
    assert flag.mean() < 0.02
    # ...but a local quintile 1 always exists, and it is not Core20
    q = local_quintile(sub, edition=Edition.of(2025))
    assert q.name == "local_quintile"
    assert (q == 1).sum() > 50
    assert (~flag[q == 1]).mean() > 0.9


@pytest.mark.slow
def test_local_quintiles_each_hold_a_fifth_of_residents(atlas):
    icb = resolve_icb(atlas, "QHL")  # Birmingham and Solihull
    sub = lsoas_in(atlas.edition(2025), icb["icb_code_nhs"])
    q = local_quintile(sub, edition=Edition.of(2025))
    shares = sub["residents"].groupby(q).sum() / sub["residents"].sum()
    assert list(shares.index) == [1, 2, 3, 4, 5]
    assert np.allclose(shares, 0.2, atol=0.005)
    # quintile 1 is the most deprived: it holds the ICB's highest score
    assert q.loc[sub["imd25_score"].idxmax()] == 1
    assert q.loc[sub["imd25_score"].idxmin()] == 5


def test_population_quintiles_cut_on_population_not_counts():
    # one big unit holds 60% of the population: it spans quintiles 1-3, so its midpoint (0.3) puts it in 2
    values = [10, 9, 8, 7, 6]
    weights = [60, 10, 10, 10, 10]
    assert population_quintiles(values, weights).tolist() == [2, 4, 4, 5, 5]
    # equal weights, ten units: two per quintile, highest values first
    q = population_quintiles(np.arange(10, 0, -1), np.ones(10))
    assert q.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert population_quintiles(np.arange(10), np.ones(10), descending=False).tolist() == q.tolist()


def test_population_quantiles_keep_ties_together_and_flag_missing():
    q = population_quantiles([5, 5, 5, 1, np.nan], [1, 1, 1, 1, 1], 2)
    assert q.tolist() == [1, 1, 1, 2, 0]
    assert population_quantiles([], [], 5).tolist() == []
    with pytest.raises(ValueError, match="same length"):
        population_quantiles([1, 2], [1])
    with pytest.raises(ValueError, match=">= 0"):
        population_quantiles([1, 2], [1, -1])


def test_bad_edition_and_missing_columns_are_clear():
    with pytest.raises(ValueError, match="2019 or 2025"):
        Edition.of(2015)
    with pytest.raises(ValueError, match="imd19_decile"):
        core20(pd.DataFrame({"lsoa_code": ["E01000001"]}), edition=Edition.of(2019))
