"""geo/codes.py: real codes match their own pattern and no other; near misses match none."""

import pandas as pd
import pytest

from geo import codes

REAL = {
    "E01021988": {"LSOA", "ENGLISH_LSOA", "GB_LSOA"},  # Jaywick, Tendring: the most deprived LSOA in England
    "W01000001": {"LSOA", "GB_LSOA"},
    "S01006506": {"GB_LSOA"},  # a Scottish data zone
    "E00000001": {"GB_OA"},
    "E02000001": {"MSOA"},
    "E54000054": {"ICB"},  # West Yorkshire
    "B83052": {"PRACTICE", "PRACTICE_OR_PCN", "ODS"},  # a Bradford practice
    "U37316": {"PCN", "PRACTICE_OR_PCN", "ODS"},
    "QWO": set(),  # West Yorkshire's NHS code: looked up, never matched by shape
}
NEAR_MISSES = [
    "E0102198",  # a digit short
    "E010219880",  # a digit over
    "e01021988",  # lower case: callers upper-case first
    " E01021988",
    "E01021988 ",
    "E01021988\n",
    "E01٠٢١٩٨٨",  # Arabic-Indic digits
    "E01０２１９８８",  # full-width digits
    "E11021988",
    "X01021988",
    "E5400005",
    "E540000544",
    "B8305",
    "B830521",
    "B8305２",
    "83052B",
    "U3731",
    "",
]


@pytest.mark.parametrize("code", sorted(REAL))
def test_a_real_code_matches_its_patterns_only(code):
    matched = {name for name in codes.__all__ if getattr(codes, name).fullmatch(code)}
    assert matched == REAL[code]


@pytest.mark.parametrize("code", NEAR_MISSES)
def test_a_near_miss_matches_no_area_code(code):
    hits = [name for name in codes.__all__ if name != "ODS" and getattr(codes, name).fullmatch(code)]
    assert hits == []


def test_ods_takes_five_or_six_capitals_or_digits():
    assert codes.ODS.fullmatch("Y02345") and codes.ODS.fullmatch("A1234")
    assert not codes.ODS.fullmatch("b83052") and not codes.ODS.fullmatch("B8305٢") and not codes.ODS.match("B83")


def test_match_fullmatch_and_str_match_agree_on_stripped_codes():
    values = ["E01021988", "E0102198X", "E01021988X", "XE01021988", "E01٠٢١٩٨٨"]
    for dtype in (object, "str"):
        s = pd.Series(values, dtype=dtype)
        assert s.str.match(codes.LSOA).tolist() == [bool(codes.LSOA.match(v)) for v in values] \
            == [bool(codes.LSOA.fullmatch(v)) for v in values] == [True, False, False, False, False]


def test_the_readers_use_the_shared_patterns():
    from geo.readers._common import check_codes

    assert check_codes.__kwdefaults__["pattern"] is codes.LSOA
