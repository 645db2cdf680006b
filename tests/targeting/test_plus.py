import io
import math

import pandas as pd
import pytest

from targeting.areas import lsoas_in, resolve_icb
from targeting.plus import (
    DEFAULT_PLUS_RULES,
    ENGLAND_MINORITY_PCT,
    ETHNIC_GROUPS,
    AllOf,
    AnyOf,
    CensusMeasureRule,
    EthnicGroupRule,
    LsoaListRule,
    RuralRule,
    describe_rules,
    evaluate_plus,
    plus_mask,
    read_lsoa_list,
)


@pytest.mark.slow
def test_england_minority_share_matches_census(atlas):
    l21 = atlas.lsoa21
    assert l21["residents"].sum() == 56_490_108
    assert abs(100 * l21["eth_minority"].sum() / l21["residents"].sum() - ENGLAND_MINORITY_PCT) < 0.005
    (rule,) = DEFAULT_PLUS_RULES
    assert rule.group == "minority" and rule.threshold_pct == ENGLAND_MINORITY_PCT


def test_every_group_key_is_an_atlas_column(each_atlas):
    assert len(ETHNIC_GROUPS) == 19 + 5 + 1
    for g in ETHNIC_GROUPS:
        assert f"eth_{g}" in each_atlas.lsoa21.columns and f"eth_{g}" in each_atlas.lsoa11.columns


@pytest.mark.slow
def test_reasons_name_the_share_and_the_threshold(atlas):
    l21 = atlas.lsoa21
    out = evaluate_plus(l21, [EthnicGroupRule("minority", threshold_pct=30)])
    assert out.index.equals(l21.index) and out["plus"].dtype == bool
    leicester = out[l21["lsoa_code"] == "E01013744"].iloc[0]  # Leicester 018B: 1,850 of 1,865 residents
    assert leicester["plus"]
    assert leicester["plus_reasons"] == "99% ethnic minority communities (≥ 30%)"
    jaywick = out[l21["lsoa_code"] == "E01021988"].iloc[0]  # 4.7% ethnic minority communities
    assert not jaywick["plus"] and jaywick["plus_reasons"] == ""
    expected = (100 * l21["eth_minority"] / l21["residents"] >= 30).sum()
    assert out["plus"].sum() == expected


@pytest.mark.slow
def test_detailed_group_gypsy_irish_traveller(atlas):
    l21 = atlas.lsoa21
    out = evaluate_plus(l21, EthnicGroupRule("gypsy_irish_traveller", threshold_pct=10))
    hits = l21.loc[out["plus"], "lsoa_code"].tolist()
    assert "E01004869" in hits  # Bolton 015B: 247 of 2,186 residents (11.3%)
    assert len(hits) == 2
    reason = out.loc[l21["lsoa_code"] == "E01004869", "plus_reasons"].iloc[0]
    assert reason == "11% Gypsy or Irish Traveller (≥ 10%)"


def test_small_shares_keep_a_decimal(each_atlas):
    l21 = each_atlas.lsoa21
    out = evaluate_plus(l21, EthnicGroupRule("roma", threshold_pct=1))
    some = out.loc[out["plus"], "plus_reasons"]
    assert len(some) > 0
    assert all(r.endswith("Roma (≥ 1%)") for r in some)
    low = some[some.str.match(r"^\d\.\d% ")]
    assert len(low) > 0  # e.g. "1.4% Roma (≥ 1%)", not "1% Roma"


def test_top_pct_ranks_within_the_area(each_atlas):
    icb = resolve_icb(each_atlas, "QHL")
    sub = lsoas_in(each_atlas.edition(2025), icb["icb_code_nhs"])
    rule = EthnicGroupRule("bangladeshi", top_pct=10)
    flag = plus_mask(sub, rule)
    assert flag.sum() >= math.ceil(0.1 * len(sub))
    share = 100 * sub["eth_bangladeshi"] / sub["residents"]
    assert share[flag].min() >= share[~flag].max()
    # the same rule over England flags a different (national) top 10%
    national = plus_mask(each_atlas.lsoa21, rule)
    assert national.loc[sub.index].sum() != flag.sum()


@pytest.mark.slow
def test_census_measures_and_rural(atlas):
    l21 = atlas.lsoa21
    dis = evaluate_plus(l21, CensusMeasureRule("disability", threshold_pct=30))
    assert dis["plus"].sum() == (100 * l21["disabled"] / l21["residents"] >= 30).sum() > 0
    assert dis.loc[dis["plus"], "plus_reasons"].str.contains("residents disabled under the Equality Act").all()
    crowd = plus_mask(l21, CensusMeasureRule("overcrowding", top_pct=5))
    assert abs(crowd.sum() - math.ceil(0.05 * len(l21))) < 50
    rural = evaluate_plus(l21, RuralRule("Rural"))
    assert rural["plus"].sum() == 5554  # ONS RUC 2021: 5,554 rural LSOAs in England
    assert rural.loc[rural["plus"], "plus_reasons"].str.startswith("rural: ").all()
    for m in ("hh_deprived_2plus", "caravan_hh", "social_rented_hh"):
        assert plus_mask(l21, CensusMeasureRule(m, threshold_pct=50)).dtype == bool


def test_census_measures_need_lsoa_2021(each_atlas):
    with pytest.raises(ValueError, match="LSOA 2021"):
        evaluate_plus(each_atlas.lsoa11, CensusMeasureRule("disabled", threshold_pct=20))
    with pytest.raises(ValueError, match="LSOA 2021"):
        plus_mask(each_atlas.lsoa11, RuralRule("Urban"))


def test_and_or_combine_and_list_every_reason(each_atlas):
    l21 = each_atlas.lsoa21
    a = EthnicGroupRule("minority", threshold_pct=50)
    b = CensusMeasureRule("overcrowded_hh", threshold_pct=20)
    ma, mb = plus_mask(l21, a), plus_mask(l21, b)
    both = evaluate_plus(l21, [a, b], combine="all")
    either = evaluate_plus(l21, AnyOf([a, b]))
    assert both["plus"].equals(ma & mb) and either["plus"].equals(ma | mb)
    r = both.loc[both["plus"], "plus_reasons"].iloc[0]
    assert "ethnic minority communities (≥ 50%)" in r and " and " in r and "overcrowded households (≥ 20%)" in r
    r_any = either.loc[ma & ~mb, "plus_reasons"].iloc[0]
    assert "overcrowded" not in r_any
    nested = evaluate_plus(l21, AnyOf([AllOf([a, b]), RuralRule()]))
    assert nested["plus"].equals((ma & mb) | (l21["urban_rural"] == "Rural"))
    assert describe_rules([a, b], combine="all") == f"{a.label} AND {b.label}"
    assert evaluate_plus(l21, [])["plus"].sum() == 0


def test_subset_keeps_its_index(each_atlas):
    sub = each_atlas.lsoa21.iloc[100:110]
    out = evaluate_plus(sub)
    assert out.index.equals(sub.index)


def test_rules_reject_bad_arguments():
    with pytest.raises(ValueError, match="exactly one"):
        EthnicGroupRule("minority")
    with pytest.raises(ValueError, match="exactly one"):
        EthnicGroupRule("minority", threshold_pct=10, top_pct=5)
    with pytest.raises(ValueError, match="Unknown ethnic group"):
        EthnicGroupRule("bame", threshold_pct=10)
    with pytest.raises(ValueError, match="between 0 and 100"):
        CensusMeasureRule("disabled", threshold_pct=120)
    with pytest.raises(ValueError, match="Unknown Census measure"):
        CensusMeasureRule("income", threshold_pct=10)
    with pytest.raises(ValueError, match="Rural"):
        RuralRule("coastal")
    with pytest.raises(ValueError, match="combine"):
        evaluate_plus(pd.DataFrame({"lsoa_code": []}), [RuralRule(), RuralRule("Urban")], combine="xor")
    assert EthnicGroupRule("eth_Roma", top_pct=5).group == "roma"


@pytest.mark.slow
def test_read_lsoa_list_reports_every_unused_row(atlas):
    text = (
        "LSOA21CD,note\n"
        "E01021988,Jaywick\n"  # row 2: valid in both vintages
        "E01000010,split in 2021\n"  # row 3: LSOA 2011 only
        "W01000001,Wales\n"  # row 4
        "hostel,not a code\n"  # row 5
        "E01999999,unknown\n"  # row 6
        "e01021988 ,duplicate\n"  # row 7
        "E01034473,2021 child\n"  # row 8: LSOA 2021 only
    )
    codes, problems = read_lsoa_list(io.StringIO(text), atlas)
    assert codes == ["E01021988", "E01000010", "E01034473"]
    by_msg = {p.message.split(" ")[0]: p for p in problems}
    assert {p.rows for p in problems} == {(4,), (5,), (6,), (7,)}
    assert "Welsh" in by_msg and by_msg["Welsh"].rows == (4,)
    assert all(p.column == "LSOA21CD" for p in problems)
    rendered = " | ".join(p.render() for p in problems)
    assert "'hostel'" in rendered and "E01999999" in rendered


def test_read_lsoa_list_without_header_and_empty(tmp_path):
    f = tmp_path / "list.csv"
    f.write_text("E01021988\nE01013744\n", encoding="utf-8")
    codes, problems = read_lsoa_list(f, lsoa11=["E01021988"], lsoa21=["E01021988", "E01013744"])
    assert codes == ["E01021988", "E01013744"] and problems == []
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    codes, problems = read_lsoa_list(empty, lsoa11=[], lsoa21=[])
    assert codes == [] and "no LSOA codes" in problems[0].message
    codes, problems = read_lsoa_list(tmp_path / "missing.csv", lsoa11=[], lsoa21=[])
    assert codes == [] and "cannot read" in problems[0].message


@pytest.mark.slow
def test_lsoa_list_rule_crosses_the_vintage_bridge(atlas):
    rule = LsoaListRule.across_vintages(("E01000010", "E01021988"), atlas.lsoa_bridge, label="outreach sites")
    l21 = atlas.lsoa21
    hits = set(l21.loc[plus_mask(l21, rule), "lsoa_code"])
    # E01000010 (LSOA 2011) split into E01034473 and E01034474 in 2021
    assert hits == {"E01034473", "E01034474", "E01021988"}
    l11 = atlas.lsoa11
    back = set(l11.loc[plus_mask(l11, LsoaListRule.across_vintages(("E01034473",), atlas.lsoa_bridge)),
                       "lsoa_code"])
    assert back == {"E01000010"}
    out = evaluate_plus(l21, rule)
    assert set(out.loc[out["plus"], "plus_reasons"]) == {"outreach sites"}
