"""Malformed uploads, each with the behaviour it must get: a clear message naming the file, or rows listed with
their reasons. Nothing crashes and nothing is silently dropped."""

import pytest

from targeting import uploads

HEAD = "lsoa_code,numerator,denominator\n"


def _code(atlas) -> str:
    """An LSOA 2021 of Birmingham and Solihull ICB in this atlas (E01008881, Birmingham, in the national one)."""
    codes = atlas.lsoa21["lsoa_code"]
    return "E01008881" if (codes == "E01008881").any() else codes[atlas.lsoa21["icb_code_nhs"] == "QHL"].iloc[0]


def _ok_rows(atlas, n=5):
    codes = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"]["lsoa_code"].head(n)
    return "".join(f"{c},{3 + i},{10 + i}\n" for i, c in enumerate(codes))


def test_a_200_mb_upload_is_refused_before_parsing(each_atlas):
    big = HEAD.encode() + f"{_code(each_atlas)},1,2\n".encode() * (200_000_000 // 14)
    assert len(big) > 199_000_000
    with pytest.raises(uploads.UploadError, match="larger than") as err:
        uploads.read_upload(big, each_atlas, filename="huge.csv")
    assert "huge.csv" in str(err.value)


def test_too_many_rows(each_atlas):
    data = HEAD + f"{_code(each_atlas)},1,2\n" * 30
    with pytest.raises(uploads.UploadError, match="rows"):
        uploads.read_upload(data.encode(), each_atlas, filename="many.csv", max_rows=10)


@pytest.mark.parametrize("case,transform,expect_rows", [
    ("cp1252", lambda t: (t.replace("lsoa_code", "lsoa_code") + "E01000001,1,2\n").encode("cp1252"), None),
    ("utf8-bom", lambda t: b"\xef\xbb\xbf" + t.encode(), None),
    ("semicolons", lambda t: t.replace(",", ";").encode(), None),
    ("crlf", lambda t: t.replace("\n", "\r\n").encode(), None),
    ("cr-only", lambda t: t.replace("\n", "\r").encode(), None),  # Excel's "CSV (Macintosh)"
    ("utf16-crlf", lambda t: t.replace("\n", "\r\n").encode("utf-16"), None),
    ("utf16-cr", lambda t: t.replace("\n", "\r").encode("utf-16"), None),
    ("quoted", lambda t: "\n".join(",".join(f'"{x}"' for x in ln.split(",")) for ln in t.splitlines()).encode(),
     None),
])
def test_encodings_and_delimiters_are_read(each_atlas, case, transform, expect_rows):
    from targeting.fingertips import is_fingertips

    text = HEAD + _ok_rows(each_atlas)
    assert not is_fingertips(transform(text))  # the page asks this first, of every file
    assert uploads.csv_columns(transform(text))[:3] == ["lsoa_code", "numerator", "denominator"]
    u = uploads.read_upload(transform(text), each_atlas, filename=f"{case}.csv")
    assert len(u.data) >= 4


def test_a_huge_header_field_is_one_clear_message(each_atlas):
    data = ("x" * 500_000 + ",numerator\n1,2\n").encode()
    with pytest.raises(uploads.UploadError, match="header row cannot be read") as err:
        uploads.csv_columns(data, filename="wide.csv")
    assert "wide.csv" in str(err.value)
    with pytest.raises(uploads.UploadError, match="more than 1000 characters"):
        uploads.read_upload(data, each_atlas, filename="wide.csv")


@pytest.mark.parametrize("line,numerator,reason", [
    ('E01008881,"1,234",2000', 1234, None),            # a thousands separator is read (documented correction)
    ("e01008881 ,1,2", 1, None),                        # lower case and spaces are tidied, not rejected
    ("E01008881,1e3,2000", None, "numerator (numerator) is not a plain count"),  # a count is digits (#24)
    ("<script>alert(1)</script>,1,2", None, "is not an LSOA code"),
    ("E01008881,NaN,2", None, "numerator (numerator) is not a number"),
    ("E01008881,inf,2", None, "numerator (numerator) is not a number"),
])
def test_awkward_values(each_atlas, line, numerator, reason):
    line = line.replace("E01008881", _code(each_atlas)).replace("e01008881", _code(each_atlas).lower())
    u = uploads.read_upload((HEAD + line + "\n").encode(), each_atlas, filename="awkward.csv")
    if reason is None:
        assert u.invalid.empty and u.data["numerator"].tolist() == [numerator]
    else:
        assert u.data.empty and len(u.invalid) == 1  # never dropped: listed with its reason and row
        assert reason in u.invalid["reason"].iloc[0] and u.invalid["row"].iloc[0] == 2


def test_duplicated_header_is_named(each_atlas):
    data = f"lsoa_code,numerator,numerator,denominator\n{_code(each_atlas)},1,1,2\n"
    try:
        u = uploads.read_upload(data.encode(), each_atlas, filename="dup.csv")
    except uploads.UploadError as exc:
        assert "numerator" in str(exc)
    else:
        assert len(u.data) + len(u.invalid) == 1


def test_header_only_and_blank_lines(each_atlas):
    with pytest.raises(uploads.UploadError, match="no data rows"):
        uploads.read_upload(b"lsoa_code,numerator,denominator\n\n\n", each_atlas, filename="blank.csv")


def test_columns_found_by_a_word_in_their_name(each_atlas):
    data = f"LSOA21CD,checks_done,eligible_people\n{_code(each_atlas)},4,10\n"
    u = uploads.read_upload(data.encode(), each_atlas, filename="words.csv")
    assert (u.columns["numerator"], u.columns["denominator"]) == ("checks_done", "eligible_people")
    assert u.data["rate"].tolist() == [40.0]


# ------------------------------------------------------------------------ issue 24, item 6 (smaller defects)


@pytest.mark.parametrize("value", ["1e308", "1_000", "\u0661\u0662", "\uff11\uff12", "12e0", "1,00",
                                   "99999999999999999999"])
def test_a_count_is_plain_ascii_digits(each_atlas, value):
    """1e308, 1_000 and Arabic-Indic (or full-width) digits are refused with the row named, never summed to inf."""
    code = _code(each_atlas)
    data = HEAD + f'{code},"{value}",2000\n' + _ok_rows(each_atlas, 2)
    u = uploads.read_upload(data.encode(), each_atlas, filename="digits.csv")
    assert len(u.invalid) == 1 and u.invalid["row"].iloc[0] == 2, u.invalid
    assert "numerator (numerator)" in u.invalid["reason"].iloc[0]
    assert value not in u.invalid["reason"].iloc[0]  # a reason never repeats the value
    assert u.data["numerator"].sum() < 1e6


def test_thousands_commas_and_plain_counts_are_still_read(each_atlas):
    code = _code(each_atlas)
    u = uploads.read_upload((HEAD + f'{code},"1,234","12,345"\n').encode(), each_atlas, filename="ok.csv")
    assert u.invalid.empty and u.data[["numerator", "denominator"]].values.tolist() == [[1234, 12345]]


def test_an_arabic_indic_lsoa_code_is_not_an_lsoa_code(each_atlas):
    fake = "E01" + "".join(chr(0x0660 + int(d)) for d in _code(each_atlas)[3:])
    u = uploads.read_upload((HEAD + f"{fake},1,2\n").encode(), each_atlas, filename="code.csv")
    assert u.data.empty and "is not an LSOA code" in u.invalid["reason"].iloc[0]


def test_a_broken_quote_is_reported_with_its_row_and_column(each_atlas):
    """A quote opened and never closed swallows the rows after it: the row is listed, naming the lines swallowed."""
    rows = _ok_rows(each_atlas, 25).splitlines()
    code = rows[0].split(",")[0]
    broken = f'{code},"3,10\n' + "\n".join(rows[1:22]) + '\n"\n' + "\n".join(rows[22:]) + "\n"
    u = uploads.read_upload((HEAD + broken).encode(), each_atlas, filename="quote.csv")
    assert len(u.invalid) == 1, u.invalid
    bad = u.invalid.iloc[0]
    assert bad["row"] == 2
    assert "column 2 (numerator) opens a quote that is closed only on line 24" in bad["reason"]
    assert "lines 3–24 were read into this one field" in bad["reason"]
    # the rows after the closing quote keep their own line numbers
    assert u.data["row"].tolist() == [25, 26, 27]


def test_column_names_in_reasons_are_shown_plainly(each_atlas):
    code = _code(each_atlas)
    data = f"lsoa_code,numerator,denominator\x1b[2J\n{code},5,0\n{code},9,3\n".encode()
    u = uploads.read_upload(data, each_atlas, filename="esc.csv",
                            denominator_column="denominator\x1b[2J")
    reasons = " ".join(u.invalid["reason"])
    assert "\x1b" not in reasons and "\\x1b" in reasons
