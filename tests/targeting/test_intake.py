"""targeting/intake: one bounded decode, one family of errors, and readers that never use geo.readers."""

import io
import subprocess
import sys

import pytest

from geo._errors import Problem, ValidationError
from targeting import intake, plus

L11 = ["E01021988", "E01013744"]
L21 = ["E01021988", "E01033620"]


def test_decode_reads_utf8_with_a_bom_then_windows_1252():
    assert intake.decode("\ufeffa,é".encode(), "f.csv") == "a,é"
    assert intake.decode("a,é".encode("cp1252"), "f.csv") == "a,é"
    assert intake.decode("a,é".encode("cp1252"), "f.csv", strict=True) == "a,é"
    assert intake.decode("text", "f.csv", strict=True) == "text"


def test_decode_strict_reads_utf16_and_refuses_what_is_not_text():
    assert intake.decode("lsoa_code,n\n".encode("utf-16"), "f.csv", strict=True) == "lsoa_code,n\n"
    assert intake.decode("lsoa_code,n\n".encode("utf-16-le"), "f.csv", strict=True) == "lsoa_code,n\n"
    with pytest.raises(intake.UploadError, match=r"^f\.csv: this looks like an Excel or zip file"):
        intake.decode(b"PK\x03\x04rest", "f.csv", strict=True)
    with pytest.raises(intake.UploadError, match="not a text file"):
        intake.decode(b"a,b\nc,d" + b"\x00" + b"e" * 100, "f.csv", strict=True)
    with pytest.raises(intake.UploadError, match=r"not UTF-8 or Windows-1252"):
        intake.decode(b"a,\x81", "f.csv", strict=True)
    assert intake.decode(b"a,\x81", "f.csv") == "a,\x81"  # an export or a list: Latin-1 reads what is left


def test_read_bounded_stops_one_past_the_limit(tmp_path):
    f = tmp_path / "big.csv"
    f.write_bytes(b"x" * 100)
    assert len(intake.read_bounded(f, 10)) == 11
    assert intake.read_bounded(io.StringIO("abc"), 10) == "abc"


def test_one_family_of_errors():
    assert issubclass(intake.UploadError, intake.IntakeError)
    assert issubclass(intake.FileProblemsError, intake.IntakeError)
    assert issubclass(intake.FileProblemsError, ValidationError)  # shown as a problem in an official file is shown
    problems = [Problem("Count", "1 negative value(s)", (3,), ("-1",))]
    assert str(intake.FileProblemsError("x.csv", problems)) == str(ValidationError("x.csv", problems))


def test_a_list_cell_of_non_ascii_digits_is_not_an_lsoa_code():
    # before geo/codes.py, the list's own \d took Arabic-Indic and full-width digits: such a code was reported as
    # "neither an LSOA 2011 nor an LSOA 2021 code" instead of "not an LSOA code"
    codes, problems = plus.read_lsoa_list(io.StringIO("lsoa_code\nE01021988\nE01٠٢١٩٨٨\nE01０２１９８８\n"),
                                          lsoa11=L11, lsoa21=L21)
    assert codes == ["E01021988"]
    assert [(p.message, p.rows) for p in problems] == [
        ("not an LSOA code (expected E01 followed by 6 digits)", (3, 4))]


def test_a_windows_1252_list_is_read_as_the_uploads_are():
    # the list was read as UTF-8 with every other byte replaced by U+FFFD, so a code it could not use was shown
    # mangled; it is now decoded as every other user file is (UTF-8, else Windows-1252)
    data = "lsoa_code,note\nE01021988,Clacton\nE0102198é,x\n".encode("cp1252")
    codes, problems = plus.read_lsoa_list(io.BytesIO(data), lsoa11=L11, lsoa21=L21)
    assert codes == ["E01021988"]
    assert problems[0].examples == ("E0102198é",)


def test_file_problems_of_a_list_are_returned_not_raised(tmp_path):
    codes, problems = plus.read_lsoa_list(tmp_path, lsoa11=L11, lsoa21=L21)
    assert codes == [] and problems == [Problem("(file)", f"{tmp_path.name} is a folder, not a CSV file")]
    column = intake.read_code_column(io.StringIO("E01021988\n\n,x\n"))
    assert (column.column, column.cells) == ("column 1", [(1, "E01021988", True), (2, "", False), (3, "", True)])


def test_a_practice_code_of_non_ascii_digits_is_no_practice_in_a_fingertips_export():
    from targeting.fingertips import HEADER, read_fingertips

    row = {h: "" for h in HEADER} | {"Indicator ID": "1", "Indicator Name": "x", "Sex": "Persons", "Age": "All",
                                     "Time period": "2023", "Value": "5"}
    lines = [",".join(HEADER)] + [",".join((row | {"Area Code": c}).values()) for c in ("B83052", "B8305٢")]
    export = read_fingertips("\n".join(lines) + "\n")
    assert export.rows["kind"].tolist() == ["practice", "other"]


def test_intake_and_the_domain_readers_never_load_geo_readers():
    code = ("import sys, targeting.intake, targeting.fingertips, targeting.plus, targeting.uploads; "
            "print(sorted(m for m in sys.modules if m.startswith('geo.readers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
