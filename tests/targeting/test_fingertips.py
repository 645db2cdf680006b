"""Fingertips "Export data" CSVs read as published.

The fixtures are built here, in the published Fingertips export layout (the header below, copied from the export
format), with real GP practice and PCN codes taken from the atlas (July 2022 practice → PCN map) and plausible
values of our own: they are NOT real Fingertips figures. Counts are drawn at random around a coverage of 70%.
"""

import csv

import numpy as np
import pytest
from _fingertips_fixture import PUBLISHED_HEADER, _line, export_csv

from geo._errors import ValidationError
from targeting import fingertips as ft


def test_the_published_header_is_the_one_read():
    assert list(ft.HEADER) == PUBLISHED_HEADER


def test_export_is_read_and_pcn_and_icb_aggregates_sum_counts(each_atlas):
    text = export_csv(each_atlas)
    assert ft.is_fingertips(text.encode("utf-8"))
    export = ft.read_fingertips(text.encode("utf-8"), filename="bowel.csv")
    ch = ft.choices(export)
    assert ch["indicator"] == ["91720: Cancer screening coverage: bowel cancer"]
    assert ch["period"] == ["2022"] and ch["sex"] == ["Persons"] and ch["age"] == ["60-74 yrs"]
    ind = ft.select(export)
    members = each_atlas.practices.loc[each_atlas.practices["pcn_code"] == "U37316", "practice_code"]
    assert len(ind.practices) == (each_atlas.practices["icb_code_nhs"] == "QWO").sum()
    assert ind.pcns.empty and ind.england["value"] == 70.3
    assert ind.has_counts and ind.proportion and ind.multiplier == 100 and ind.unit == "%"
    agg = ft.aggregate(ind, members, pcn_code="U37316")
    p = ind.practices.set_index("code").loc[list(members)]
    assert agg["method"] == "sum of practices" and agg["practices"] == len(members) == 9
    assert agg["count"] == p["count"].sum() and agg["denominator"] == p["denominator"].sum()
    assert agg["value"] == pytest.approx(100 * p["count"].sum() / p["denominator"].sum())
    assert agg["lower"] < agg["value"] < agg["upper"]
    icb = ft.aggregate(ind, each_atlas.practices.loc[each_atlas.practices["icb_code_nhs"] == "QWO", "practice_code"])
    assert icb["denominator"] == ind.practices["denominator"].sum()
    assert ft.clinical_area(ind.name) == "cancer"


def test_practices_are_recognised_by_code_not_by_area_type_spelling(each_atlas):
    text = export_csv(each_atlas).replace(",GPs,", ",GP practice,")
    ind = ft.select(ft.read_fingertips(text))
    assert len(ind.practices) == (each_atlas.practices["icb_code_nhs"] == "QWO").sum()


def test_a_published_pcn_row_is_used_and_no_counts_means_no_aggregate(each_atlas):
    ind = ft.select(ft.read_fingertips(export_csv(each_atlas, counts=False, pcn_row=("U37316", 61.5))))
    assert not ind.has_counts and not ind.proportion and len(ind.pcns) == 1
    members = each_atlas.practices.loc[each_atlas.practices["pcn_code"] == "U37316", "practice_code"]
    got = ft.aggregate(ind, members, pcn_code="U37316")
    assert got["method"] == "published PCN row" and got["value"] == 61.5
    p = each_atlas.practices
    qwo = p[(p["icb_code_nhs"] == "QWO") & (p["pcn_code"] != "U37316")]
    other_pcn = sorted(set(qwo["pcn_code"]) - {"U"})[0]
    other = qwo.loc[qwo["pcn_code"] == other_pcn, "practice_code"]
    none = ft.aggregate(ind, other, pcn_code=other_pcn)
    assert none["method"] == "not possible" and np.isnan(none["value"]) and "not possible" in none["note"]
    with pytest.raises(ValueError, match="no Count and Denominator"):
        ft.to_upload(ind, each_atlas)


def test_choices_pick_indicator_period_sex_age_and_category(each_atlas):
    flu = ("30314", "Flu vaccination coverage: at risk individuals")
    extra = [_line("B83052", "KENSINGTON PARTNERSHIP", "GPs", 50.0, 50, 100, period="2021"),
             _line("B83052", "KENSINGTON PARTNERSHIP", "GPs", 40.0, 40, 100, sex="Female"),
             _line("B83052", "KENSINGTON PARTNERSHIP", "GPs", 45.0, 90, 200, indicator=flu, age="6 months-64 yrs")]
    export = ft.read_fingertips(export_csv(each_atlas, extra=extra))
    ch = ft.choices(export)
    assert ch["period"][0] == "2022" and "2021" in ch["period"] and ch["sex"][0] == "Persons"
    assert len(ch["indicator"]) == 2
    old = ft.select(export, period="2021")
    assert list(old.practices["code"]) == ["B83052"] and old.practices["value"].iloc[0] == 50.0
    fem = ft.select(export, sex="Female")
    assert fem.practices["value"].iloc[0] == 40.0
    f = ft.select(export, indicator="30314")
    assert f.name == flu[1] and f.age == "6 months-64 yrs" and ft.clinical_area(f.name) == "respiratory"
    with pytest.raises(ValidationError, match="'2019' is not in the file"):
        ft.select(export, period="2019")


def test_to_upload_maps_the_practices_for_your_data(each_atlas):
    ind = ft.select(ft.read_fingertips(export_csv(each_atlas)))
    up = ft.to_upload(ind, each_atlas)
    assert up.level == "practice" and len(up.data) == len(ind.practices) and up.invalid.empty
    assert (up.data["rate"] - ind.practices.set_index("code").loc[up.data["code"], "value"].to_numpy()).abs().max() \
        < 1e-3
    from targeting.area_maps import upload_map_payload
    from targeting.scope import make_scope

    payload = upload_map_payload(make_scope(each_atlas, kind="icb", code="QWO"), up, label="Bowel screening")
    assert "B83052" in payload


def test_a_malformed_export_names_file_field_and_row(each_atlas):
    text = export_csv(each_atlas)
    lines = text.splitlines()
    cells = next(csv.reader([lines[3]]))
    cells[PUBLISHED_HEADER.index("Value")] = "seventy"
    lines[3] = ",".join(f'"{c}"' for c in cells)
    with pytest.raises(ValidationError) as exc:
        ft.read_fingertips("\n".join(lines), filename="bowel_broken.csv")
    msg = str(exc.value)
    assert "bowel_broken.csv" in msg and "'Value'" in msg and "rows 4" in msg and "seventy" in msg

    no_value = "\n".join(",".join(c for c in ln.split(",")[:12]) for ln in lines[:3])
    with pytest.raises(ValidationError, match=r"missing field.*'Value'"):
        ft.read_fingertips(no_value, filename="cut.csv")
    neg = text.replace(lines[2].split(",")[17] + "," + lines[2].split(",")[18], "-5,100", 1)
    with pytest.raises(ValidationError, match="'Count': 1 negative"):
        ft.read_fingertips(neg, filename="neg.csv")
    assert not ft.is_fingertips(b"lsoa_code,numerator,denominator\nE01000001,1,2\n")


def test_clinical_area_slots():
    assert ft.clinical_area("Cancer screening coverage: cervical cancer (aged 25 to 49 years old)") == "cancer"
    assert ft.clinical_area("Percentage of patients with SMI who received a physical health check") == "smi"
    assert ft.clinical_area("Hospital admissions for asthma (under 19 years)") == "asthma"
    assert ft.clinical_area("Flu vaccine uptake (%) in those aged 65 and over") == "respiratory"
    assert ft.clinical_area("Smiles all round") is None
    assert ft.clinical_area("Life expectancy at birth") is None
    assert ft.clinical_area("Low birth weight of term babies") == "maternity"
