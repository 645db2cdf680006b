import io

import pandas as pd
import pytest

from targeting.cli import main

ISSUE_COLUMNS = ["pcn_code", "pcn_name", "icb_code", "registered_patients", "patients_known_lsoa", "core20_patients",
                 "core20_pct", "weighted_imd_score"]


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def _data(data_dir):
    return data_dir


@pytest.mark.slow
def test_pcns_prints_one_row_per_pcn_with_gap_columns(capsys, _data):
    code, out, err = _run(capsys, ["pcns", "--icb", "QOP", "--imd", "2019"])
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert set(ISSUE_COLUMNS) <= set(df.columns)
    assert len(df) == 67 and df["pcn_code"].is_unique and (df["imd"] == 2019).all()
    assert {"hyp_undiagnosed", "hyp_undiagnosed_lower", "hyp_undiagnosed_upper"} <= set(df.columns)
    assert df["source"].str.contains("July 2022").all() and df["source"].str.contains("IoD 2019").all()
    assert set(df["core20_vs_england"]) <= {"higher", "lower", "similar", "not compared"}
    assert not df.columns.duplicated().any()


@pytest.mark.slow
def test_pcns_without_gaps_matches_the_api(capsys, atlas):
    from targeting.profiles import pcn_profiles
    from targeting.scope import make_scope

    code, out, _ = _run(capsys, ["pcns", "--icb", "Greater Manchester", "--no-gaps"])
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    api = pcn_profiles(make_scope(atlas, kind="icb", code="QOP")).set_index("pcn_code")
    api = api.loc[df["pcn_code"]].reset_index()
    assert list(df.columns) == [*api.columns, "source"]
    assert (df["core20_pct"] - api["core20_pct"]).abs().max() <= 0.0005  # printed to 3 decimals


@pytest.mark.slow
def test_pcns_most_deprived_first_with_the_apps_names(capsys, atlas):
    from targeting.areas import display_name
    from targeting.compare import compare_pcns
    from targeting.scope import make_scope

    code, out, _ = _run(capsys, ["pcns", "--icb", "QHL", "--no-gaps"])
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert df["weighted_imd_score"].is_monotonic_decreasing
    table, _ = compare_pcns(make_scope(atlas, kind="icb", code="QHL"), metric="core20_pct")
    assert list(df["pcn_code"]) == list(table["pcn_code"])  # the order of Compare places
    east = df.set_index("pcn_code").loc["U79433", "pcn_name"]
    assert east == display_name("BIRMINGHAM EAST CENTRAL PCN") == "Birmingham East Central PCN"
    assert (df["pcn_name"] == df["pcn_name"].map(display_name)).all()
    assert df["pcn_name"].str.contains("[a-z]").sum() >= len(df) - 2  # only acronym names (e.g. "SWB PCN") stay upper


@pytest.mark.slow
def test_practices_by_pcn_and_by_icb(capsys, _data):
    code, out, _ = _run(capsys, ["practices", "--pcn", "U67660", "--no-gaps"])
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert len(df) == 9 and (df["pcn_code"] == "U67660").all()
    assert {"practice_code", "practice_name", "core20_pct", "weighted_imd_score"} <= set(df.columns)
    code, out, _ = _run(capsys, ["practices", "--icb", "QOP"])
    df = pd.read_csv(io.StringIO(out))
    assert code == 0 and len(df) == 424 and "hyp_undiagnosed" in df.columns


@pytest.mark.slow
def test_compare_prints_pcns_and_the_sii(capsys, _data):
    code, out, err = _run(capsys, ["compare", "--icb", "QOP", "--metric", "qof_HYP"])
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert len(df) == 67
    assert df["weighted_imd_score"].is_monotonic_decreasing
    assert {"value", "lower", "upper", "icb_value", "england_value", "funnel_lower_95", "icb_sii"} <= set(df.columns)
    assert "SII" in err and "Greater Manchester" in err


@pytest.mark.slow
def test_bad_input_gives_a_clear_message_not_a_traceback(capsys, _data):
    code, out, err = _run(capsys, ["practices", "--pcn", "U99999", "--no-gaps"])
    assert code == 2 and out == "" and err.startswith("error: ") and "U99999" in err
    code, _, err = _run(capsys, ["compare", "--icb", "QOP", "--metric", "rank"])
    assert code == 2 and "Unknown metric" in err and "Traceback" not in err
    code, _, err = _run(capsys, ["pcns", "--icb", "Atlantis"])
    assert code == 2 and "No ICB matches" in err
    with pytest.raises(SystemExit):
        main(["practices", "--pcn", "U67660", "--icb", "QOP"])  # one or the other


@pytest.mark.slow
def test_user_lsoa_list_drives_plus_with_suppression(capsys, tmp_path, _data):
    f = tmp_path / "sites.csv"
    f.write_text("lsoa_code\nE01004803\nE01004854\nW01000001\nnonsense\n", encoding="utf-8")
    code, out, err = _run(capsys, ["pcns", "--icb", "QOP", "--imd", "2019", "--plus-lsoas", str(f), "--no-gaps"])
    assert code == 0
    assert "W01000001" in err and "row" in err and "nonsense" in err
    df = pd.read_csv(io.StringIO(out), dtype=str)
    plus = df["plus_patients"]
    # counts from a user's list are rounded to 5 or shown as *
    shown = plus[plus != "*"].astype(float)
    assert (shown % 5 == 0).all()
    assert (shown > 0).any()
    assert df["source"].str.contains("sites.csv").all()
    # issue 13: the rate was printed to 3 decimals from the exact count, so rate × patients gave the count back.
    # Now it is the published count over the patients, to one decimal.
    rated = df[(plus != "*") & (df["plus_pct"] != "*") & df["plus_pct"].notna()]
    assert len(rated)
    for _, r in rated.iterrows():
        assert float(r["plus_pct"]) == round(float(r["plus_patients"]) / float(r["patients_known_lsoa"]) * 100, 1)
        assert len(r["plus_pct"].split(".")[-1]) <= 1
    hidden = df[df["plus_pct"] == "*"]
    assert len(hidden) and (hidden["plus_vs_icb"] == "*").all() and (hidden["plus_vs_england"] == "*").all()
    assert all(len(v.split(".")[-1]) <= 1 for v in df["plus_pct_icb"])  # the ICB rate cannot narrow a hidden count
    code, out, _ = _run(capsys, ["compare", "--icb", "QOP", "--metric", "plus_pct", "--plus-lsoas", str(f)])
    cmp = pd.read_csv(io.StringIO(out), dtype=str)
    gone = cmp[cmp["value"] == "*"]
    assert code == 0 and len(gone) and (gone[["vs_icb", "vs_england", "funnel"]] == "*").all().all()
    for c in ("icb_value", "england_value", "funnel_lower_95", "funnel_upper_95"):  # nothing exact around the ICB
        assert all(len(v.split(".")[-1]) <= 1 for v in cmp[c].dropna()), c
    bad = tmp_path / "bad.csv"
    bad.write_text("code\nnot-a-code\n", encoding="utf-8")
    code, out, err = _run(capsys, ["pcns", "--icb", "QOP", "--plus-lsoas", str(bad), "--no-gaps"])
    assert code == 2 and out == "" and "bad.csv" in err


@pytest.mark.slow
def test_codes_from_a_users_list_are_echoed_without_terminal_escapes(capsys, tmp_path, _data):
    f = tmp_path / "sites.csv"
    f.write_text("lsoa_code\nE01004803\n\x1b[2J\x1b[31mEVIL\n", encoding="utf-8")
    code, _, err = _run(capsys, ["pcns", "--icb", "QOP", "--plus-lsoas", str(f), "--no-gaps"])
    assert code == 0 and "\x1b" not in err and "\\x1b[31mEVIL" in err


def test_commands_on_the_small_atlas(capsys, small_cli):
    # the same commands on Bradford (West Yorkshire ICB in the small atlas): tables, gaps and clear errors
    code, out, err = _run(capsys, ["pcns", "--icb", "QWO", "--imd", "2019"])
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert set(ISSUE_COLUMNS) <= set(df.columns) and df["pcn_code"].is_unique and "U37316" in set(df["pcn_code"])
    assert {"hyp_undiagnosed", "hyp_undiagnosed_lower", "hyp_undiagnosed_upper"} <= set(df.columns)
    code, out, _ = _run(capsys, ["practices", "--pcn", "U37316", "--no-gaps"])
    df = pd.read_csv(io.StringIO(out))
    assert code == 0 and (df["pcn_code"] == "U37316").all() and len(df) == (small_cli.practices["pcn_code"]
                                                                             == "U37316").sum()
    code, out, err = _run(capsys, ["compare", "--icb", "QWO", "--metric", "qof_HYP"])
    assert code == 0 and "SII" in err
    assert pd.read_csv(io.StringIO(out))["weighted_imd_score"].is_monotonic_decreasing
    code, out, err = _run(capsys, ["practices", "--pcn", "U99999", "--no-gaps"])
    assert code == 2 and out == "" and err.startswith("error: ") and "U99999" in err
