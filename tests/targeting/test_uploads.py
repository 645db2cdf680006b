import re

import numpy as np
import pandas as pd
import pytest

from targeting import uploads
from targeting.scope import make_scope
from targeting.suppression import SuppressionRule


def _csv(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def bsol(atlas):
    return atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"]


@pytest.fixture(scope="module")
def each_bsol(each_atlas):
    return each_atlas, each_atlas.lsoa21[each_atlas.lsoa21["icb_code_nhs"] == "QHL"]


@pytest.mark.slow
def test_example_file_reads_every_birmingham_lsoa_and_lists_the_bad_rows(atlas):
    u = uploads.read_upload(uploads.example_csv(make_scope(atlas, kind="icb", code="QHL")), atlas, filename="ex.csv")
    assert (u.level, u.geography) == ("lsoa", "LSOA 2021")
    assert len(u.data) == 793  # every LSOA 2021 of Birmingham and Solihull
    assert u.columns == {"code": "lsoa_code", "numerator": "health_checks", "denominator": "eligible"}
    assert list(u.invalid["row"]) == [795, 796]
    assert "not an LSOA code" in u.invalid["reason"].iloc[0]
    assert "repeats row 2" in u.invalid["reason"].iloc[1]
    assert "more than denominator" in u.invalid["reason"].iloc[1]
    icbs = uploads.upload_icbs(u, atlas)
    assert icbs.iloc[0].to_dict() == {"icb_code_nhs": "QHL", "rows": 793,
                                      "icb_name": "NHS Birmingham and Solihull Integrated Care Board"}


@pytest.mark.slow
def test_every_invalid_row_has_its_reason(atlas, bsol):
    codes = list(bsol["lsoa_code"].iloc[:3])
    rows = ["LSOA21CD,Numerator,Denominator",
            f"{codes[0]},10,20",           # ok (line 2)
            "W01000001,1,2",               # Welsh
            "E01999999,1,2",               # well-formed, unknown
            "ABC,1,2",                     # malformed
            ",1,2",                        # empty code
            f"{codes[0]},1,2",             # repeat
            f"{codes[1]},x,2",             # not a number
            f"{codes[2]},-1,2",            # negative
            "E01000001,2.5,4",             # fractional (City of London 001A)
            "E01000002,1,0",               # denominator 0
            "E01000003,9,4",               # numerator > denominator
            "",                            # blank line: not a row
            "E01000005,3,4"]               # ok
    u = uploads.read_upload(_csv(rows), atlas, filename="mine.csv")
    assert list(u.data["code"]) == [codes[0], "E01000005"]
    assert list(u.data["row"]) == [2, 14]
    reasons = dict(zip(u.invalid["row"], u.invalid["reason"], strict=True))
    assert len(reasons) == 10  # nothing silently dropped: 12 data rows, 2 valid, 10 listed
    assert "Welsh" in reasons[3]
    assert "not a LSOA 2021 code" in reasons[4]
    assert "not an LSOA code" in reasons[5]
    assert "is empty" in reasons[6]
    assert "repeats row 2" in reasons[7]
    assert "numerator (Numerator) is not a number" in reasons[8]
    assert "negative" in reasons[9]
    assert "not a whole number" in reasons[10]
    assert "denominator (Denominator) is 0" in reasons[11]
    assert "numerator (Numerator) is more than denominator (Denominator)" in reasons[12]
    # issue 13: a reason is shown and downloaded unsuppressed, so it never repeats a count (9, 4, 2.5, 1, -1)
    for row, reason in reasons.items():
        tokens = set(re.findall(r"-?\d+(?:\.\d+)?", reason))
        assert not tokens & {"9", "4", "2.5", "-1", "1"}, (row, reason)


def test_lsoa_2011_codes_are_recognised_and_need_imd_2019(each_atlas):
    only11 = sorted(set(each_atlas.lsoa11["lsoa_code"]) - set(each_atlas.lsoa21["lsoa_code"]))[:50]
    u = uploads.read_upload(_csv(["lsoa11cd,num,den", *[f"{c},3,10" for c in only11]]), each_atlas)
    assert u.geography == "LSOA 2011" and len(u.data) == len(only11) > 0  # 50 in the national atlas
    with pytest.raises(ValueError, match="IMD 2019"):
        uploads.core20_gap(u, make_scope(each_atlas, imd=2025))
    gap = uploads.core20_gap(u, make_scope(each_atlas, imd=2019))
    core = each_atlas.lsoa11.set_index("lsoa_code").loc[only11, "imd19_core20"]
    assert gap.loc[0, "units"] == int(core.sum())
    # deciles of an LSOA 2011 file are IoD 2019's, the edition on LSOA 2011, whatever the scope's edition
    dec = uploads.decile_table(u, make_scope(each_atlas, imd=2025)).set_index("decile")
    deciles = each_atlas.lsoa11.set_index("lsoa_code").loc[only11, "imd19_decile"]
    assert dec["denominator"].to_dict() == {d: 10 * int((deciles == d).sum()) for d in range(1, 11)}


@pytest.mark.parametrize("which, icb", [pytest.param("atlas", "QHL", marks=pytest.mark.slow), ("small_atlas", "QWO")])
def test_practice_level_upload(request, which, icb):
    each_atlas = request.getfixturevalue(which)
    prac = each_atlas.practices[each_atlas.practices["icb_code_nhs"] == icb].sort_values("practice_code").head(60)
    n = len(prac)  # 60 in the national atlas, Bradford's in the small one
    rows = ["practice_code,numerator,denominator", *[f"{c},{50 + i},{200}" for i, c in
                                                      enumerate(prac["practice_code"])], "Z99999,1,2"]
    u = uploads.read_upload(_csv(rows), each_atlas)
    assert u.level == "practice" and len(u.data) == n > 10
    assert "not a GP practice (July 2022) code" in u.invalid["reason"].iloc[0]
    gap = uploads.core20_gap(u, make_scope(each_atlas))
    assert gap.loc[0, "units"] + gap.loc[1, "units"] == n
    assert gap.loc[0, "units"] > 0  # Birmingham and Bradford have practices in England's most deprived fifth
    assert "most deprived fifth" in gap.loc[0, "group_definition"]


def test_core20_gap_matches_newcombe(each_bsol):
    atlas, bsol = each_bsol
    core = bsol[bsol["imd25_core20"]]["lsoa_code"].iloc[0]
    rest = bsol[~bsol["imd25_core20"]]["lsoa_code"].iloc[0]
    # Newcombe (1998) table II example (e): 56/70 vs 48/80, method 10 interval 0.0524 to 0.3339
    u = uploads.read_upload(_csv(["lsoa_code,numerator,denominator", f"{core},56,70", f"{rest},48,80"]), atlas)
    gap = uploads.core20_gap(u, make_scope(atlas)).set_index("group")
    assert gap.loc["Core20", "rate"] == pytest.approx(80.0)
    assert gap.loc["Rest", "rate"] == pytest.approx(60.0)
    g = gap.loc["Gap (Core20 − rest)"]
    assert g["rate"] == pytest.approx(20.0)
    assert g["lower"] == pytest.approx(5.24, abs=0.01)
    assert g["upper"] == pytest.approx(33.39, abs=0.01)


@pytest.mark.slow
def test_core20_gap_on_the_example_sums_real_core20_lsoas(atlas, bsol):
    scope = make_scope(atlas, kind="icb", code="QHL")
    u = uploads.read_upload(uploads.example_csv(scope), atlas)
    gap = uploads.core20_gap(u, scope).set_index("group")
    flags = bsol.set_index("lsoa_code")["imd25_core20"].reindex(u.data["code"]).to_numpy()
    assert gap.loc["Core20", "units"] == int(flags.sum())
    assert gap.loc["Core20", "numerator"] == u.data.loc[flags, "numerator"].sum()
    assert gap.loc["All", "denominator"] == u.data["denominator"].sum()
    for grp in ("Core20", "Rest", "All"):
        assert gap.loc[grp, "lower"] < gap.loc[grp, "rate"] < gap.loc[grp, "upper"]
    # the example draws uptake at 40% in Core20 and 50% elsewhere
    g = gap.loc["Gap (Core20 − rest)"]
    assert g["lower"] < -7 and g["upper"] < 0
    dec = uploads.decile_table(u, scope)
    assert dec["denominator"].sum() == u.data["denominator"].sum()
    assert list(dec["decile"]) == list(range(1, 11))


def test_suppression_on_screen_and_in_downloads(each_bsol):
    atlas, bsol = each_bsol
    core = bsol[bsol["imd25_core20"]]["lsoa_code"].iloc[:2].tolist()
    rest = bsol[~bsol["imd25_core20"]]["lsoa_code"].iloc[0]
    u = uploads.read_upload(_csv(["lsoa_code,numerator,denominator", f"{core[0]},3,5", f"{core[1]},1,2",
                                  f"{rest},123,456"]), atlas)
    rows = uploads.suppressed(u.data)
    assert list(rows["numerator"]) == ["*", "*", 125]
    assert list(rows["denominator"]) == ["*", "*", 455]
    assert rows["rate"].iloc[0] == "*" and rows["rate"].iloc[2] == pytest.approx(27.0)
    gap = uploads.suppressed(uploads.core20_gap(u, make_scope(atlas))).set_index("group")
    assert gap.loc["Core20", "numerator"] == "*" and gap.loc["Core20", "rate"] == "*"
    assert gap.loc["Gap (Core20 − rest)", "rate"] == "*"  # the gap would reveal the withheld Core20 rate
    off = uploads.suppressed(u.data, rule=SuppressionRule(enabled=False))
    assert list(off["numerator"]) == [3, 1, 123]


def test_file_level_problems_raise_clear_errors(each_atlas):
    with pytest.raises(uploads.UploadError, match="larger than"):
        uploads.read_upload(b"lsoa_code,numerator,denominator\n" + b"E01000001,1,2\n" * 100, each_atlas, max_bytes=100)
    with pytest.raises(uploads.UploadError, match="Columns in the file: code, value"):
        uploads.read_upload(b"code,value\nE01000001,1\n", each_atlas, filename="f.csv")
    with pytest.raises(uploads.UploadError, match="Excel"):
        uploads.read_upload(b"PK\x03\x04rest-of-a-zip", each_atlas)
    with pytest.raises(uploads.UploadError, match="empty"):
        uploads.read_upload(b"", each_atlas)
    with pytest.raises(uploads.UploadError, match="no data rows"):
        uploads.read_upload(b"lsoa_code,numerator,denominator\n", each_atlas)


@pytest.mark.slow
def test_semicolons_bom_and_chosen_columns(atlas):
    data = "\ufeffArea;Got;Offered\nE01000001;4;10\nE01000005;20;30\n".encode()
    assert uploads.csv_columns(data) == ["Area", "Got", "Offered"]
    u = uploads.read_upload(data, atlas, code_column="Area", numerator_column="Got", denominator_column="Offered")
    assert list(u.data["code"]) == ["E01000001", "E01000005"]
    assert np.allclose(u.data["rate"], [40.0, 200 / 3])
    assert isinstance(u.data, pd.DataFrame) and u.invalid.empty


def _sized(size: int, codes: list[str], n: int = 60_000) -> bytes:
    """A CSV of ``n`` rows of LSOA codes (``codes`` in turn: each after its first is a repeat), numerators and
    denominators, padded by a note column (under 1,000 characters a field) to exactly ``size`` bytes."""
    head = b"lsoa_code,numerator,denominator,note\n"
    rows = [f"{codes[i % len(codes)]},{5 + i % 7},{40 + i % 11},".encode() for i in range(n)]
    n = len(rows)
    room = size - len(head) - sum(len(r) + 1 for r in rows)
    assert room >= 0
    pad, extra = divmod(room, n)
    body = b"".join(r + b"x" * (pad + (1 if i < extra else 0)) + b"\n" for i, r in enumerate(rows))
    data = head + body
    assert len(data) == size
    return data


def test_one_upload_limit_everywhere_a_file_over_it_is_refused_by_name_and_one_under_is_read(each_atlas):
    import tomllib
    from pathlib import Path

    from targeting import fingertips, plus
    from targeting._limits import MAX_BYTES, MAX_UPLOAD_MB

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB == 50  # what the upload box says
    assert uploads.MAX_BYTES == fingertips.MAX_BYTES == plus.MAX_LIST_BYTES == MAX_BYTES == 50_000_000
    codes = sorted(each_atlas.lsoa21["lsoa_code"])[:400]
    under = _sized(MAX_BYTES, codes)
    u = uploads.read_upload(under, each_atlas, filename="uptake_2026.csv")
    assert len(u.data) == 400 and u.level == "lsoa" and len(u.invalid) == 59_600  # the repeats, each listed
    over = under + b"\n"  # one byte over
    with pytest.raises(uploads.UploadError) as exc:
        uploads.read_upload(over, each_atlas, filename="uptake_2026.csv")
    assert str(exc.value).startswith("uptake_2026.csv: 50.0 MB is larger than the 50 MB limit.")
    with pytest.raises(uploads.UploadError, match=r"^uptake_2026\.csv: 50\.0 MB is larger than the 50 MB limit"):
        uploads.csv_columns(over, filename="uptake_2026.csv")
    import io

    from geo._errors import ValidationError

    with pytest.raises(ValidationError) as exc:
        fingertips.read_fingertips(over, filename="fingertips_export.csv")
    assert "fingertips_export.csv" in str(exc.value) and "larger than the 50 MB limit" in str(exc.value)
    got, problems = plus.read_lsoa_list(io.BytesIO(over), each_atlas)
    assert got == [] and "larger than 50 MB" in problems[0].message
    got, problems = plus.read_lsoa_list(io.BytesIO(under), each_atlas)
    assert len(got) == 400 and not any("larger" in p.message for p in problems)  # read (repeats listed)
