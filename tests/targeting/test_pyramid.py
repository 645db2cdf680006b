"""A PCN's registered population pyramid (July 2026 quin-age) and its footprint's Census 2021 residents by age.

Expected figures are read here with pandas straight from the published files: NHS England's
``gp-reg-pat-prac-quin-age_2026-07.zip`` (its own PCN rows, which NHS England sums from the practices) and ONS
Census 2021 "Age (6 categories)" per LSOA 2021 (``census2021_age6_lsoa21_ew.csv.gz``).
"""

import zipfile

import numpy as np
import pandas as pd
import pytest

from targeting.pyramid import NoQuinAgeError, pyramid_for_output, pyramid_table, registered_bands, resident_bands
from targeting.scope import make_scope

PCN = "U37316"  # Bradford City 4 PCN, NHS West Yorkshire ICB: 48,289 registered patients in July 2026


def _quin(folder):
    with zipfile.ZipFile(folder / "gp" / "gp-reg-pat-prac-quin-age_2026-07.zip") as z:
        name = next(n for n in z.namelist() if n.endswith(".csv"))
        with z.open(name) as f:
            q = pd.read_csv(f, dtype=str)
    q["NUMBER_OF_PATIENTS"] = q["NUMBER_OF_PATIENTS"].astype(int)
    return q


def _band_code(label: str) -> str:
    return label.replace("–", "_")


@pytest.fixture
def july_2026(small_cli):
    from geo.atlas import load

    return load(progress=False, registrations="2026-07")


def test_bands_sum_to_the_july_2026_list_size_and_match_nhs_englands_pcn_rows(july_2026, data_dir):
    q = _quin(data_dir)  # the published file, with NHS England's own PCN rows (the extract keeps practices only)
    pcn_rows = q[(q["ORG_TYPE"] == "PCN") & (q["ORG_CODE"] == PCN)]
    t = registered_bands(july_2026, PCN)
    total = int(pcn_rows.loc[(pcn_rows["SEX"] == "ALL") & (pcn_rows["AGE_GROUP_5"] == "ALL"),
                             "NUMBER_OF_PATIENTS"].iloc[0])
    assert total == 48_289
    assert t["patients"].sum() == total == t.attrs["list_size"]
    assert t.attrs["practices"] == 5 and t.attrs["extract_date"] == "2026-07-01"
    by_sex = t.groupby("sex")["patients"].sum()
    assert by_sex.to_dict() == {"female": 23_595, "male": 24_694}
    for r in t.itertuples():  # every band and sex, as NHS England published it for the PCN
        published = pcn_rows.loc[(pcn_rows["SEX"] == r.sex.upper()) & (pcn_rows["AGE_GROUP_5"] == _band_code(r.band)),
                                 "NUMBER_OF_PATIENTS"]
        assert r.patients == int(published.iloc[0]), (r.band, r.sex)
    assert t.loc[(t["band"] == "0–4") & (t["sex"] == "male"), "patients"].item() == 1_747
    assert t["pct"].sum() == pytest.approx(100)
    assert t["band"].iloc[0] == "0–4" and t["band"].iloc[-1] == "95+" and len(t) == 40
    assert "July 2026" in t.attrs["source"] and "gp-reg-pat-prac-quin-age" in t.attrs["source"]


def test_a_month_without_a_quin_age_file_says_so(small_atlas):
    # the July 2022 NHS has an LSOA-level file but no registered patients by age
    with pytest.raises(NoQuinAgeError, match=r"July 2022.*quin-age"):
        registered_bands(small_atlas, PCN)


def test_residents_of_the_footprint_keep_the_census_bands(july_2026, small_data):
    from targeting.footprints import pcn_footprints

    t = resident_bands(make_scope(july_2026, kind="pcn", code=PCN))
    fp = pcn_footprints(july_2026.edition_on(2021))
    lsoas = set(fp.loc[fp["pcn_code"] == PCN, "lsoa_code"])
    a6 = pd.read_csv(small_data / "census" / "census2021_age6_lsoa21_ew.csv.gz")
    a6 = a6[a6["lsoa21_code"].isin(lsoas)]
    col = {c.split(": ")[-1]: c for c in a6.columns}
    assert t.attrs["lsoas"] == len(a6) > 0
    assert t["residents"].sum() == a6[col["Total (sum of the 6 categories)"]].sum() == t.attrs["residents"]
    by = t.set_index("band")["residents"]
    # 5-year bands that tile a Census band add up to it (whole numbers by largest remainder: within one a band)
    for census, bands in (("Aged 25 to 34 years", ["25–29", "30–34"]),
                          ("Aged 50 to 64 years", ["50–54", "55–59", "60–64"]),
                          ("Aged 65 years and over", ["65–69", "70–74", "75–79", "80–84", "85–89", "90–94", "95+"])):
        assert abs(by[bands].sum() - a6[col[census]].sum()) <= len(bands), census
    assert "Census 2021" in t.attrs["source"] and "indicative" in t.attrs["source"]


@pytest.fixture(scope="module")
def national_2026(data_dir):
    from geo.atlas import load

    return load(progress=False, geometry=False, registrations="2026-07")


@pytest.mark.slow
def test_counts_of_one_to_seven_are_withheld_in_what_is_shown(national_2026, data_dir):
    q = _quin(data_dir)
    gp = q[(q["ORG_TYPE"] == "PCN") & q["SEX"].isin(["FEMALE", "MALE"]) & (q["AGE_GROUP_5"] != "ALL")]
    small = gp[gp["NUMBER_OF_PATIENTS"].between(1, 7) & gp["ORG_CODE"].isin(national_2026.pcns["pcn_code"])]
    assert len(small), "some PCN has a band of 1-7 patients"
    r = small.sort_values(["ORG_CODE", "SEX", "AGE_GROUP_5"]).iloc[0]
    t = pyramid_table(make_scope(national_2026, kind="pcn", code=r["ORG_CODE"]))
    shown = pyramid_for_output(t)
    i = t.index[t["band"] == r["AGE_GROUP_5"].replace("_", "–")][0]
    sex = r["SEX"].lower()
    assert t.at[i, sex] == r["NUMBER_OF_PATIENTS"]
    assert shown.at[i, sex] == "*" and shown.at[i, f"{sex}_pct"] == "*"
    big = t["female"].idxmax()
    assert shown.at[big, "female"] == 5 * np.floor(t.at[big, "female"] / 5 + 0.5)


@pytest.mark.slow
def test_bradford_city_4_pyramid_on_the_national_atlas(national_2026, data_dir):
    atlas = national_2026
    t = pyramid_table(make_scope(atlas, kind="pcn", code=PCN))
    assert t["registered"].sum() == 48_289 == int(atlas.pcns.set_index("pcn_code").at[PCN, "list_size"])
    q = _quin(data_dir)
    eng = q[(q["ORG_TYPE"] == "GP") & q["SEX"].isin(["FEMALE", "MALE"]) & (q["AGE_GROUP_5"] != "ALL")]
    assert eng["NUMBER_OF_PATIENTS"].sum() == 63_436_508
    eng_f04 = eng.loc[(eng["SEX"] == "FEMALE") & (eng["AGE_GROUP_5"] == "0_4"), "NUMBER_OF_PATIENTS"].sum()
    assert t.at[0, "england_female_pct"] == pytest.approx(100 * eng_f04 / 63_436_508)
    # Bradford City 4 is young: 0-14s are 22.7% of its patients, 14.9% of England's
    young = t.loc[t["band"].isin(["0–4", "5–9", "10–14"])]
    assert young["registered_pct"].sum() == pytest.approx(100 * (3_344 + 3_667 + 3_958) / 48_289)
    assert young[["england_female_pct", "england_male_pct"]].to_numpy().sum() < 16
    assert t.attrs["lsoas"] == 19 and t["residents"].sum() == t.attrs["residents"] == 38_633
