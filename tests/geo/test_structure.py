"""The NHS of a registration month (July 2026): practices, PCNs, ICBs, list sizes and patients by LSOA.

Figures are recounted from the published files in the data folder with plain pandas, not through the tool.
"""

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from geo.structure import UNPLACED, scale_registrations
from targeting.areas import AreaNotFound, resolve_area, resolve_icb
from targeting.cli import main
from targeting.scope import make_scope

JULY_2026 = "2026-07"


def _zip_csv(path) -> pd.DataFrame:
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.lower().endswith(".csv"))
        return pd.read_csv(io.BytesIO(z.read(name)), dtype=str, keep_default_na=False)


def _lists(folder) -> pd.Series:
    q = _zip_csv(folder / "gp" / "gp-reg-pat-prac-quin-age_2026-07.zip")
    q = q[(q["ORG_TYPE"] == "GP") & (q["SEX"] == "ALL") & (q["AGE_GROUP_5"] == "ALL")]
    return q.set_index("ORG_CODE")["NUMBER_OF_PATIENTS"].astype(int)


# ---- the method, on cases the real data cannot show -------------------------------------------------------------
def test_shares_scale_to_the_list_size_by_largest_remainder():
    reg = pd.DataFrame({"practice_code": ["A00001"] * 3 + ["B00002"],
                        "lsoa_code": ["NO2011", "E01000002", "E01000001", "E01000009"],
                        "patients": [10, 1, 3, 5]})
    out, unplaced = scale_registrations(reg, pd.Series({"A00001": 9, "B00002": 0, "C00003": 40}))
    a = out[out["practice_code"] == "A00001"].set_index("lsoa_code")["patients"]
    # quotas 6.75 and 2.25 of 9 over the known LSOAs only: floors 6 and 2, the one left to the larger remainder
    assert a.to_dict() == {"E01000001": 7, "E01000002": 2}
    assert unplaced == ["B00002", "C00003"]  # no known LSOA rows: kept whole under UNPLACED, never dropped
    assert out[out["practice_code"] == "C00003"][["lsoa_code", "patients"]].values.tolist() == [[UNPLACED, 40]]
    assert "B00002" not in set(out["practice_code"])  # a list of 0 has no patients to place
    assert out.groupby("practice_code")["patients"].sum().to_dict() == {"A00001": 9, "C00003": 40}


# ---- the small atlas (extracts of the real files) --------------------------------------------------------------
@pytest.fixture(scope="module")
def small26(small_atlas, small_env):
    from geo.atlas import load

    with pytest.MonkeyPatch.context() as mp:
        for k, v in small_env.items():
            mp.setenv(k, v)
        return load(progress=False, geometry=False, registrations=JULY_2026)


def test_practices_pcns_and_list_sizes_come_from_the_month(small26, small_data):
    m = _zip_csv(small_data / "gp" / "gp-reg-pat-prac-map_2026-07.zip").set_index("PRACTICE_CODE")
    pr = small26.practices.set_index("practice_code")
    assert set(pr.index) == set(m.index)
    assert (pr["pcn_code"].fillna("U") == m["PCN_CODE"].reindex(pr.index)).all()
    assert (pr["list_size"] == _lists(small_data).reindex(pr.index)).all()
    assert small26.month.label == "July 2026 with July 2022 LSOA shares"


def test_each_practice_keeps_its_july_2022_shares_scaled_to_its_july_2026_list(small26, small_atlas, small_data):
    lists = _lists(small_data)
    for reg in (small26.registrations11, small26.registrations21):
        assert (reg.groupby("practice_code")["patients"].sum() == lists.reindex(
            reg["practice_code"].unique()).to_numpy()).all()
    raw = pd.read_csv(small_data / "gp" / "gp_reg_pat_prac_lsoa_all_2022-07.csv.gz", dtype={"NUMBER_OF_PATIENTS": int})
    raw = raw[raw["LSOA_CODE"].str.match(r"^[EW]01\d{6}$")]
    code = small26.practices.sort_values("list_size").iloc[-1]["practice_code"]
    then = raw[raw["PRACTICE_CODE"] == code].set_index("LSOA_CODE")["NUMBER_OF_PATIENTS"]
    now = small26.registrations11.query("practice_code == @code").set_index("lsoa_code")["patients"]
    quota = then * lists[code] / then.sum()
    assert set(now.index) <= set(then.index)
    assert (now.reindex(then.index).fillna(0) - quota).abs().max() < 1  # whole numbers within one of the quota


def test_pcn_registered_patients_are_the_sum_of_list_sizes(small26, small_data):
    from targeting.profiles import pcn_profiles

    t = pcn_profiles(make_scope(small26, kind="icb", code="QWO")).set_index("pcn_code")
    pr = small26.practices
    expect = pr[pr["pcn_code"].isin(t.index)].groupby("pcn_code")["list_size"].sum()
    assert (t["registered_patients"] == expect.reindex(t.index)).all()
    assert (t["registered_40_74"] <= t["registered_patients"]).all() and (t["residents_40_74_est"] > 0).all()


def test_july_2022_is_still_there_unchanged(small_atlas, small_env):
    from geo.atlas import load

    with pytest.MonkeyPatch.context() as mp:
        for k, v in small_env.items():
            mp.setenv(k, v)
        old = load(progress=False, geometry=False, registrations="2022-07")
    assert old.month.label == "July 2022"
    pd.testing.assert_frame_equal(old.practices, pd.DataFrame(small_atlas.practices.drop(columns="geometry")))
    pd.testing.assert_frame_equal(old.lsoa21, pd.DataFrame(small_atlas.lsoa21.drop(
        columns=[c for c in small_atlas.lsoa21.columns if c.startswith("geometry")])))
    assert "registered_40_74" not in old.practices


def test_the_command_line_takes_the_month(capsys, small_cli):
    assert main(["pcns", "--icb", "QWO", "--no-gaps", "--registrations", JULY_2026]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert out["source"].str.contains("July 2026 with July 2022 LSOA shares").all()
    assert main(["pcns", "--icb", "QWO", "--registrations", "2023-01"]) == 2
    assert "this atlas holds July 2022 (2022-07), July 2026 (2026-07)" in capsys.readouterr().err


# ---- the national atlas -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nhs26(data_dir):
    from geo.atlas import load

    return load(progress=False, geometry=False, registrations=JULY_2026)


@pytest.mark.slow
def test_central_east_lists_exactly_the_pcns_of_the_july_2026_map(capsys, nhs26, data_dir):
    m = _zip_csv(data_dir / "gp" / "gp-reg-pat-prac-map_2026-07.zip")
    lists = _lists(data_dir)
    mine = m[(m["ONS_ICB_CODE"] == "E54000065") & (m["PCN_CODE"] != "U")]
    assert main(["pcns", "--icb", "E54000065", "--registrations", JULY_2026]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("pcn_code")
    assert set(out.index) == set(mine["PCN_CODE"]) and len(out) == 77
    expect = mine.assign(n=mine["PRACTICE_CODE"].map(lists)).groupby("PCN_CODE")["n"].sum()
    assert (out["registered_patients"] == expect.reindex(out.index)).all()
    assert resolve_icb(nhs26, "Central East")["icb_code"] == "E54000065"


@pytest.mark.slow
def test_england_in_july_2026(nhs26, data_dir):
    assert len(nhs26.icbs) == 36 and set(nhs26.lsoa21["icb_code"]) == set(nhs26.icbs["icb_code"])
    assert {f"E540000{n}" for n in range(65, 72)} <= set(nhs26.icbs["icb_code"])
    assert int(nhs26.practices["list_size"].sum()) == 63_436_508 == int(_lists(data_dir).sum())
    assert int(nhs26.registrations21["patients"].sum()) == 63_436_508  # nobody dropped by the LSOA shares
    unplaced = nhs26.practices.loc[~nhs26.practices["lsoa_placed"], "practice_code"]
    assert sorted(unplaced) == ["Y07040", "Y07697", "Y07819", "Y08371", "Y08411"]  # no July 2022 LSOA rows
    assert set(nhs26.registrations21.query("practice_code in @unplaced")["lsoa_code"]) == {"UNPLACED"}


@pytest.mark.slow
def test_frimley_is_divided_by_local_authority(nhs26, data_dir):
    from geo.readers.os import normalise_postcode

    d = nhs26.divided.set_index("lad_name")
    assert int(d["lsoas"].sum()) == 455 and set(d["old_sicbl_code_nhs"]) == {"D4U1Y"}
    assert (d.loc["Slough", "sicbl_code_nhs"], d.loc["Surrey Heath", "sicbl_code_nhs"],
            d.loc["Rushmoor", "sicbl_code_nhs"]) == ("U2G6B", "92A", "D9Y0V")
    # the same vote recounted from the raw files: practices whose Code-Point Open postcode is in the authority
    m = _zip_csv(data_dir / "gp" / "gp-reg-pat-prac-map_2026-07.zip")
    with zipfile.ZipFile(data_dir / "postcodes" / "codepo_gb_2025-04.zip") as z:
        sl = pd.read_csv(io.BytesIO(z.read(next(n for n in z.namelist() if n.lower().endswith("/sl.csv")))),
                         header=None, dtype=str)
    lad = dict(zip(normalise_postcode(sl[0]), sl[8], strict=True))
    m["lad"] = normalise_postcode(m["PRACTICE_POSTCODE"]).map(lad)
    slough = m[m["lad"] == "E06000039"]
    votes = slough.assign(n=slough["PRACTICE_CODE"].map(_lists(data_dir))).groupby("SUB_ICB_LOCATION_CODE")["n"].sum()
    assert votes.idxmax() == "U2G6B"
    for icb, lad_name, n in (("E54000070", "Slough", 84), ("E54000069", "Surrey Heath", 55)):
        rows = nhs26.lsoa21[nhs26.lsoa21["lad_name"] == lad_name]
        assert len(rows) == n and (rows["icb_code"] == icb).all()
    derived = nhs26.lsoa21["nhs_source"].eq("derived by local authority")
    assert int(derived.sum()) == 455


@pytest.mark.slow
def test_old_codes_say_what_they_became(nhs26):
    with pytest.raises(AreaNotFound, match=r"Frimley ICB \(E54000034\) no longer exists: in April 2026 it was "
                                           r"divided between .*E54000070.*E54000067.*E54000069"):
        resolve_icb(nhs26, "E54000034")
    with pytest.raises(AreaNotFound, match=r"\(E54000024\) no longer exists: in April 2026 it became part of NHS "
                                           r"Central East ICB \(E54000065\)"):
        resolve_icb(nhs26, "E54000024")
    with pytest.raises(AreaNotFound, match=r"PCN U00567 .* is not in the July 2026 practice map. Of its 4 practices "
                                           r"of July 2022: 2 in Panacea PCN \(U93843\)"):
        resolve_area(nhs26, "pcn", "U00567")
    # a PCN the July 2022 map never had, closed since per the ODS ePCN of October 2024
    with pytest.raises(AreaNotFound, match=r"PCN U04503 \(Milltown Alliance; closed on 2 July 2024 per ODS ePCN\) is "
                                           r"not in the July 2026 practice map. Of its \d+ practices? last recorded"):
        resolve_area(nhs26, "pcn", "U04503")


@pytest.mark.slow
def test_a_pcn_across_two_icbs_goes_where_most_of_its_patients_are(nhs26, data_dir):
    # Coast and Country PCN: 2 Devon practices (18,347 patients) and 2 Cornwall ones (17,446) in July 2026
    m = _zip_csv(data_dir / "gp" / "gp-reg-pat-prac-map_2026-07.zip")
    mine = m[m["PCN_CODE"] == "U41591"].assign(n=lambda d: d["PRACTICE_CODE"].map(_lists(data_dir)))
    by_icb = mine.groupby("ONS_ICB_CODE")["n"].sum()
    assert by_icb.to_dict() == {"E54000036": 17_446, "E54000037": 18_347}
    assert nhs26.pcns.set_index("pcn_code").loc["U41591", "icb_code"] == "E54000037"  # Devon


@pytest.mark.slow
def test_an_icb_of_another_month_says_which(nhs26):
    from geo.atlas import load

    old = load(progress=False, geometry=False, registrations="2022-07")
    with pytest.raises(AreaNotFound, match=r"NHS Central East ICB \(E54000065\) is an ICB of July 2026, not of "
                                           r"July 2022. Use --registrations 2026-07"):
        resolve_icb(old, "E54000065")


@pytest.mark.slow
def test_the_lsoa_table_of_july_2026(capsys, nhs26):
    assert main(["lsoas", "--icb", "E54000070", "--registrations", JULY_2026]) == 0
    t = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert (t["lad_name"] == "Slough").sum() == 84 and (t["icb_code"] == "E54000070").all()
    assert t["source"].str.contains("practices and list sizes July 2026; where patients live: July 2022 shares").all()
    assert np.isclose(t["registered_patients"].sum(),
                      nhs26.lsoa21.loc[nhs26.lsoa21["icb_code"] == "E54000070", "registered_patients"].sum())
