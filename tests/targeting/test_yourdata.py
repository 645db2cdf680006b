"""Your data as one use case: the page's tables and the ``yourdata`` command (issue 13)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from targeting import uploads
from targeting.cli import main
from targeting.publish import your_data_files
from targeting.scope import make_scope
from targeting.suppression import DEFAULT_RULE, ROUND1_RULE
from targeting.yourdata import FILES, GAP_LABEL, your_data_tables


@pytest.fixture(scope="module")
def issue_file(atlas) -> bytes:
    """Issue 13's upload on real BSOL LSOAs: one Core20 LSOA 3/40, nine 0/40, ten non-Core20 LSOAs 12/60."""
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"]
    core = t.loc[t["imd25_core20"].astype(bool), "lsoa_code"].iloc[:10].tolist()
    rest = t.loc[~t["imd25_core20"].astype(bool), "lsoa_code"].iloc[:10].tolist()
    lines = ["lsoa_code,numerator,denominator", f"{core[0]},3,40", *[f"{c},0,40" for c in core[1:]],
             *[f"{c},12,60" for c in rest]]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.slow
@pytest.mark.parametrize("rule", [DEFAULT_RULE, ROUND1_RULE])
def test_issue13_core20_cannot_be_recovered_from_rest_and_all(atlas, issue_file, rule):
    u = uploads.read_upload(issue_file, atlas, filename="issue13.csv")
    assert len(u.data) == 20
    t = your_data_tables(u, make_scope(atlas, imd=2025), rule=rule)
    g = t.gap.set_index("group")
    assert g.loc["Core20", "numerator"] == "*"
    # before: Rest showed 120/600 at 20.0% and All 125/1000 at 12.3%, so Core20 = 123 − 120 = 3
    assert g.loc["Rest", "numerator"] == "*" and g.loc["Rest", "rate"] == "*" and g.loc["Rest", "lower"] == "*"
    assert g.loc[GAP_LABEL, "rate"] == "*"
    all_x, all_n = g.loc["All", "numerator"], g.loc["All", "denominator"]
    assert all_n == 1000
    assert all_x == (125 if rule is DEFAULT_RULE else 123)
    # the shown rate is the published count over the published denominator, so it reveals nothing more
    assert g.loc["All", "rate"] == round(all_x / all_n * 100, 1)
    # and the rows cannot be added up to give Rest: at least one Rest row is withheld too
    rows = t.rows
    assert (rows.loc[rows["group"] == "Rest", "numerator"] == "*").sum() >= 1
    # each row's rate comes from its published counts
    shown = rows[rows["numerator"] != "*"]
    assert (shown["rate"] == (shown["numerator"] / shown["denominator"] * 100).astype(float).round(1)).all()


@pytest.mark.slow
def test_cli_writes_the_pages_files(atlas, issue_file, tmp_path, capsys):
    f = tmp_path / "issue13.csv"
    f.write_bytes(issue_file)
    out = tmp_path / "out"
    out.mkdir()
    (out / "my_notes.txt").write_text("mine")
    assert main(["yourdata", "--file", str(f), "--rule", "round1", "--out", str(out)]) == 0
    u = uploads.read_upload(issue_file, atlas, filename="issue13.csv")
    # what the page offers
    expected = your_data_files(your_data_tables(u, make_scope(atlas, imd=2025), rule=ROUND1_RULE))
    # round to 1 is a weak rule (issue 24): its files say so in their names
    assert list(expected) == ["your_data_unsuppressed.csv", "core20_gap_unsuppressed.csv", "invalid_rows.csv"]
    for name in expected:
        assert (out / name).read_bytes() == expected[name]
    assert not any((out / name).exists() for name in FILES[:2])
    assert (out / "my_notes.txt").read_text() == "mine"  # never touches the user's own files
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary folder left
    gap = pd.read_csv(out / "core20_gap_unsuppressed.csv", dtype=str)
    # every file names its upload and settings
    assert gap["source"].str.contains("issue13.csv").all() and gap["source"].str.contains("nearest").sum() == 0
    assert gap["source"].str.contains("shown exactly").all()
    assert gap["source"].str.contains("UNSUPPRESSED").all()
    err = capsys.readouterr().err
    assert "wrote" in err and "warning: this rule is not safe to publish" in err


@pytest.mark.slow
def test_cli_bad_inputs_are_one_line_and_exit_2(atlas, tmp_path, capsys):
    code = main(["yourdata", "--file", "/dev/zero", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: /dev/zero is not a regular file") and len(err.splitlines()) == 1
    big = tmp_path / "big.csv"
    big.write_text("lsoa_code,numerator,denominator\n" + "E" * 500_000 + ",1,2\n")
    code = main(["yourdata", "--file", str(big), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "row 2 holds a field of more than 1000 characters" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    mid = tmp_path / "mid.csv"
    mid.write_text("lsoa_code,numerator,denominator\nE01009488,1,2\n" + "E01009489,1," + "9" * 5000 + "\n")
    code = main(["yourdata", "--file", str(mid), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "row 3, column 3 holds 5,000 characters" in err
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    ok = tmp_path / "ok.csv"
    ok.write_text("lsoa_code,numerator,denominator\nE01009488,10,20\n")
    code = main(["yourdata", "--file", str(ok), "--out", str(a_file)])
    err = capsys.readouterr().err
    assert code == 2 and "is a file, not a folder" in err


@pytest.mark.slow
def test_downloads_escape_formula_cells(atlas):
    data = (b"lsoa_code,numerator,denominator\n"
            b"=HYPERLINK(\"http://x\"),1,2\n+1,1,2\n-2,1,2\n@SUM(A1),1,2\nE01009488,10,20\n")
    u = uploads.read_upload(data, atlas, filename="=evil.csv")
    files = your_data_files(your_data_tables(u, make_scope(atlas)))
    invalid = pd.read_csv(io.BytesIO(files["invalid_rows.csv"]), dtype=str, keep_default_na=False)
    assert len(invalid) == 4
    for cell in [*invalid["code"], *invalid["reason"], *invalid["source"]]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert set(invalid["code"]) == {"'=HYPERLINK(\"HTTP://X\")", "'+1", "'-2", "'@SUM(A1)"}


@pytest.mark.slow
def test_utf16_upload_and_missing_columns_are_read_or_named(atlas):
    text = "lsoa_code,numerator,denominator\nE01009488,10,20\n"
    assert uploads.csv_columns(text.encode("utf-16")) == ["lsoa_code", "numerator", "denominator"]
    u = uploads.read_upload(text.encode("utf-16"), atlas, filename="u16.csv")
    assert list(u.data["code"]) == ["E01009488"]
    with pytest.raises(uploads.UploadError, match=r"cannot find a denominator column.*Columns in the file: "
                                                  r"lsoa_code, numerator\."):
        uploads.read_upload(b"lsoa_code,numerator\nE01009488,1\n", atlas, filename="two.csv")
    with pytest.raises(uploads.UploadError, match=r"\\x1b\[31m"):
        uploads.read_upload(b"code\x1b[31m,x\nE01009488,1\n", atlas, filename="ansi.csv")


@pytest.mark.slow
def test_cli_reads_a_fingertips_export_as_the_page_does(atlas, tmp_path, capsys):
    """The fixture is built from the published header with real West Yorkshire practices and values of our own."""
    from _fingertips_fixture import _line, export_csv

    from geo.files import csv_text
    from targeting.fingertips import read_fingertips, select
    from targeting.yourdata import FINGERTIPS_FILE, fingertips_pcn_table

    prac = atlas.practices[atlas.practices["icb_code_nhs"] == "QWO"].sort_values("practice_code").head(5)
    older = [_line(c, "x", "GPs", 50.0, 500, 1000, period="2021") for c in prac["practice_code"]]
    text = export_csv(atlas, icb="QWO", extra=older)
    f = tmp_path / "fingertips.csv"
    f.write_text(text)
    for argv, period in (([], "2022"), (["--period", "2021"], "2021")):
        out = tmp_path / f"out{period}"
        assert main(["yourdata", "--file", str(f), "--out", str(out), *argv]) == 0
        ind = select(read_fingertips(text.encode(), filename="fingertips.csv"), period=period)
        pcns = fingertips_pcn_table(ind, make_scope(atlas, kind="icb", code="QWO"))
        assert (out / FINGERTIPS_FILE).read_bytes() == csv_text(pcns).encode()
        rows = pd.read_csv(out / "your_data_suppressed.csv", dtype=str)
        assert len(rows) == (len(prac) if period == "2021" else (atlas.practices["icb_code_nhs"] == "QWO").sum())
        assert "Fingertips export" in capsys.readouterr().err
    pcns = pd.read_csv(tmp_path / "out2022" / FINGERTIPS_FILE)
    assert (pcns["pcn_code"] == "QWO").sum() == 1 and pcns["method"].notna().all()
