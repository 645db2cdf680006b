"""IoD 2019 → 2025 Core20 change, checked against the raw IoD files and the profiles on the real data."""

import io
from contextlib import redirect_stdout

import pandas as pd
import pytest

from targeting.change import (
    CHANGE_CLASSES,
    LSOA_COLUMNS,
    PCN_COLUMNS,
    area_change_summary,
    change_summary,
    change_table,
    describe_change,
    icb_change,
    lsoa_change,
    pcn_change,
)
from targeting.cli import main
from targeting.scope import make_scope

DECILE = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
RANK = "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"


@pytest.fixture(scope="module")
def raw(data_dir):
    """The raw IoD 2019 (LSOA 2011) and IoD 2025 (LSOA 2021) files and the ONS lookup, read with plain pandas."""
    i19 = pd.read_csv(data_dir / "imd" / "imd2019_lsoa11_file7_assembled.csv.gz",
                      usecols=["LSOA code (2011)", RANK, DECILE])
    i25 = pd.read_csv(data_dir / "imd" / "imd2025_lsoa21_ranks_scores_deciles.csv.gz",
                      usecols=["LSOA code (2021)", RANK, DECILE])
    lk = pd.read_csv(data_dir / "lookups" / "lsoa11_lsoa21_lad22_ew.csv.gz",
                     usecols=["lsoa11_code", "lsoa21_code", "change_code"])
    return i19, i25, lk


@pytest.fixture(scope="module")
def national(atlas):
    return lsoa_change(make_scope(atlas))


def _run(argv: list[str]) -> pd.DataFrame:
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(argv) == 0
    return pd.read_csv(io.StringIO(buf.getvalue()))


@pytest.mark.slow
def test_england_unchanged_lsoas_entering_and_leaving_match_the_raw_files(national, raw):
    i19, i25, lk = raw
    u = lk[(lk["change_code"] == "U") & lk["lsoa21_code"].str.startswith("E")]
    d19 = u["lsoa11_code"].map(i19.set_index("LSOA code (2011)")[DECILE])
    d25 = u["lsoa21_code"].map(i25.set_index("LSOA code (2021)")[DECILE])
    assert d19.notna().all() and d25.notna().all()
    entered = int(((d25 <= 2) & (d19 > 2)).sum())
    left = int(((d19 <= 2) & (d25 > 2)).sum())
    stayed_in = int(((d19 <= 2) & (d25 <= 2)).sum())
    t = national[national["lsoa_change_code"] == "U"]
    assert len(t) == len(u)
    counts = t["change"].value_counts()
    assert (counts["entered"], counts["left"], counts["stayed in"]) == (entered, left, stayed_in)
    assert (entered, left) == (802, 717)  # England, LSOAs whose code did not change


@pytest.mark.slow
def test_every_england_lsoa_has_the_ons_change_code_and_both_ranks(national, raw):
    i19, i25, lk = raw
    en = lk[lk["lsoa21_code"].str.startswith("E")].drop_duplicates("lsoa21_code").set_index("lsoa21_code")
    assert len(national) == len(en) == 33_755
    assert national["lsoa_change_code"].to_numpy().tolist() == \
        en["change_code"].reindex(national["lsoa_code"]).to_numpy().tolist()
    assert national["lsoa_change_code"].value_counts().to_dict() == {"U": 31_810, "S": 1_842, "M": 97, "X": 6}
    published = i25.set_index("LSOA code (2021)").reindex(national["lsoa_code"])
    assert (national["imd2025_rank"].to_numpy() == published[RANK].to_numpy()).all()
    assert (national["imd2025_decile"].to_numpy() == published[DECILE].to_numpy()).all()
    # a split's children inherit the parent's IoD 2019 rank
    s = lk[lk["change_code"] == "S"].merge(i19, left_on="lsoa11_code", right_on="LSOA code (2011)")
    got = national.set_index("lsoa_code").loc[s["lsoa21_code"], "imd2019_rank"].to_numpy()
    assert (got == s[RANK].to_numpy()).all()
    assert set(national["change"]) == set(CHANGE_CLASSES)
    assert list(national.columns) == LSOA_COLUMNS


@pytest.mark.slow
def test_jaywick_stays_in_core20(national):
    j = national.set_index("lsoa_code").loc["E01021988"]
    assert j["lad_name"] == "Tendring"
    assert (j["imd2019_rank"], j["imd2025_rank"]) == (1, 1)  # most deprived LSOA in England in both editions
    assert j["change"] == "stayed in" and j["lsoa_change_code"] == "U"


@pytest.fixture(scope="module")
def bsol_pcns():
    return _run(["change", "--icb", "E54000055", "--level", "pcn"])


@pytest.mark.slow
@pytest.mark.parametrize("imd", [2019, 2025])
def test_bsol_pcn_table_reconciles_with_pcns_to_the_patient(bsol_pcns, imd):
    prof = _run(["pcns", "--icb", "QHL", "--imd", str(imd), "--no-gaps"]).set_index("pcn_code")
    t = bsol_pcns.set_index("pcn_code")
    assert len(t) == len(prof) > 20
    assert list(t.index) == sorted(prof.index)  # the change table is in PCN-code order, `pcns` most deprived first
    prof = prof.loc[t.index]
    for ours, theirs in ((f"core20_patients_{imd}", "core20_patients"),
                         (f"patients_known_lsoa_{imd}", "patients_known_lsoa"),
                         (f"plus_patients_{imd}", "plus_patients"), ("registered_patients", "registered_patients")):
        assert (t[ours] == prof[theirs]).all(), ours
    for ours, theirs in ((f"core20_pct_{imd}", "core20_pct"), (f"core20_pct_lower_{imd}", "core20_pct_lower"),
                         (f"core20_pct_upper_{imd}", "core20_pct_upper"), (f"plus_pct_{imd}", "plus_pct")):
        assert (t[ours] - prof[theirs]).abs().max() <= 1e-3, ours  # both printed to 3 decimals


@pytest.mark.slow
def test_bsol_patients_entering_and_leaving_against_the_raw_files(bsol_pcns, raw, data_dir):
    """Patients entering and leaving Core20, per PCN, recounted from the raw GP, IoD and ONS files.

    In an LSOA whose code did not change (U) the published LSOA 2011 registrations count as they are; the
    tool's figure must hold those exactly and may add at most the patients of the other (split, merged or
    irregular) LSOAs of the PCN.
    """
    i19, i25, lk = raw
    reg = pd.read_csv(data_dir / "gp" / "gp_reg_pat_prac_lsoa_all_2022-07.csv.gz",
                      usecols=["PRACTICE_CODE", "LSOA_CODE", "NUMBER_OF_PATIENTS"])
    pcn_of = pd.read_csv(data_dir / "gp" / "gp-reg-pat-prac-map_2022-07.csv").set_index("PRACTICE_CODE")["PCN_CODE"]
    t = bsol_pcns.set_index("pcn_code")
    reg = reg.assign(pcn=reg["PRACTICE_CODE"].map(pcn_of))
    reg = reg[reg["pcn"].isin(t.index)]
    same = lk[lk["change_code"] == "U"].set_index("lsoa11_code")["lsoa21_code"]
    u = reg[reg["LSOA_CODE"].isin(same.index)]
    c19 = u["LSOA_CODE"].map(i19.set_index("LSOA code (2011)")[DECILE]) <= 2
    c25 = u["LSOA_CODE"].map(same).map(i25.set_index("LSOA code (2021)")[DECILE]) <= 2
    other = reg[~reg["LSOA_CODE"].isin(same.index) & reg["LSOA_CODE"].str.startswith("E")]
    slack = other.groupby("pcn")["NUMBER_OF_PATIENTS"].sum().reindex(t.index, fill_value=0)
    for got, moved in (("patients_entered", ~c19 & c25), ("patients_left", c19 & ~c25)):
        raw_u = u[moved].groupby("pcn")["NUMBER_OF_PATIENTS"].sum().reindex(t.index, fill_value=0)
        assert (t[got] >= raw_u).all() and (t[got] <= raw_u + slack).all(), got
        assert raw_u.sum() > 10_000  # Birmingham and Solihull: thousands of patients move each way
    assert ((t["difference_pp"] - (t["core20_pct_2025"] - t["core20_pct_2019"])).abs() < 2e-3).all()
    assert (bsol_pcns["plus_patients_entered"] <= bsol_pcns["patients_entered"]).all()
    assert list(bsol_pcns.columns[5:-3]) == PCN_COLUMNS


@pytest.mark.slow
def test_bridge_patients_come_only_from_merged_or_irregular_lsoas(atlas, national):
    """``bridge_patients`` is nonzero only for a PCN with patients in an LSOA that merged or changed irregularly."""
    mx = set(national.loc[national["lsoa_change_code"].isin(["M", "X"]), "lsoa_code"])
    reg = atlas.registrations21
    pcn_of = atlas.practices.set_index("practice_code")["pcn_code"]
    in_mx = reg[reg["lsoa_code"].isin(mx)]
    has_mx = set(in_mx["practice_code"].map(pcn_of).dropna())
    nonzero = 0
    for icb in ("QHL", "QMF", "QKK", "QWE"):  # Birmingham and Solihull; North East, South East, South West London
        t = pcn_change(make_scope(atlas, kind="icb", code=icb))
        bridged = set(t.loc[t["bridge_patients"] != 0, "pcn_code"])
        assert bridged <= has_mx, icb
        nonzero += len(bridged)
    assert nonzero > 0


@pytest.mark.slow
def test_bsol_icb_row_counts_its_own_lsoas(atlas):
    row = icb_change(make_scope(atlas, kind="icb", code="QHL")).iloc[0]
    lsoas = lsoa_change(make_scope(atlas, kind="icb", code="QHL"))
    s = change_summary(lsoas)
    assert len(lsoas) == 793
    assert (row["lsoas_entered"], row["lsoas_left"]) == (s["entered_lsoas"], s["left_lsoas"]) == (12, 26)
    assert row["residents_entered"] == s["entered_residents"]
    assert area_change_summary(make_scope(atlas, kind="icb", code="QHL")) == s
    assert row["core20_patients_2025"] == row["core20_patients_2019"] + row["patients_entered"] \
        - row["patients_left"] + row["bridge_patients"]
    # Birmingham and Solihull's practices are the PCNs' practices plus any outside a PCN
    pcns = pcn_change(make_scope(atlas, kind="icb", code="QHL"))
    assert pcns["core20_patients_2025"].sum() <= row["core20_patients_2025"]


@pytest.mark.slow
def test_england_totals_add_up(atlas, national):
    icbs = icb_change(make_scope(atlas))
    assert icbs["lsoas_entered"].sum() == (national["change"] == "entered").sum()
    assert icbs["lsoas_left"].sum() == (national["change"] == "left").sum()
    assert icbs["icb_code_nhs"].nunique() == 42


def test_change_in_words():
    s = {"entered_lsoas": 12, "entered_residents": 14_210, "left_lsoas": 5, "left_residents": 6_020}
    assert describe_change(s) == "12 neighbourhoods (14,210 residents) newly Core20; 5 (6,020) no longer"
    s = {"entered_lsoas": 1, "entered_residents": 1_500, "left_lsoas": 0, "left_residents": 0}
    assert describe_change(s) == "1 neighbourhood (1,500 residents) newly Core20; 0 (0) no longer"


def test_empty_area_summary():
    empty = pd.DataFrame(columns=LSOA_COLUMNS)
    s = change_summary(empty)
    assert s["lsoas"] == 0 and s["entered_lsoas"] == 0 and s["residents"] == 0


@pytest.mark.slow
def test_cli_lsoa_level_and_bad_input(atlas, capsys):
    t = _run(["change", "--icb", "Birmingham and Solihull"])
    assert list(t.columns) == [*LSOA_COLUMNS, "source"]
    assert len(t) == 793 and t["source"].str.contains("IoD 2025").all()
    assert main(["change", "--icb", "Atlantis"]) == 2
    assert "No ICB matches 'Atlantis'" in capsys.readouterr().err
    with pytest.raises(ValueError):
        change_table(make_scope(atlas, kind="icb", code="QHL"), level="region")


@pytest.mark.slow
def test_a_local_authority_counts_all_its_lsoas(atlas, national):
    tendring = national[national["lad_name"] == "Tendring"]
    s = area_change_summary(make_scope(atlas, kind="lad", code="Tendring"))
    assert s["lsoas"] == len(tendring) and s["stayed_in_lsoas"] == int((tendring["change"] == "stayed in").sum())
    assert s["stayed_in_lsoas"] >= 1  # Jaywick


@pytest.mark.parametrize("imd", [2019, 2025])
def test_change_tables_reconcile_on_the_small_atlas(small_cli, imd):
    # the reconciliations above, on Bradford (West Yorkshire ICB in the small atlas): the PCN table gives each
    # edition's patients exactly as `pcns` does, the moves close the sum, and the ICB row counts its own LSOAs
    t = _run(["change", "--icb", "QWO", "--level", "pcn"]).set_index("pcn_code")
    prof = _run(["pcns", "--icb", "QWO", "--imd", str(imd), "--no-gaps"]).set_index("pcn_code")
    assert list(t.index) == sorted(prof.index) and "U37316" in t.index
    prof = prof.loc[t.index]
    for ours, theirs in ((f"core20_patients_{imd}", "core20_patients"),
                         (f"patients_known_lsoa_{imd}", "patients_known_lsoa"), ("registered_patients",
                                                                                 "registered_patients")):
        assert (t[ours] == prof[theirs]).all(), ours
    assert (t["core20_patients_2025"] == t["core20_patients_2019"] + t["patients_entered"] - t["patients_left"]
            + t["bridge_patients"]).all()
    lsoas = lsoa_change(make_scope(small_cli, kind="icb", code="QWO"))
    assert set(lsoas["change"]) <= set(CHANGE_CLASSES) and len(lsoas) == (small_cli.lsoa21["icb_code_nhs"]
                                                                          == "QWO").sum()
    row = icb_change(make_scope(small_cli, kind="icb", code="QWO")).iloc[0]
    s = change_summary(lsoas)
    assert (row["lsoas_entered"], row["lsoas_left"]) == (s["entered_lsoas"], s["left_lsoas"])
