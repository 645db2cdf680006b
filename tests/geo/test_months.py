"""Registration months: finding each month's files, naming both months, choosing one."""

import pytest

from geo import months
from geo.months import RegistrationMonth, discover, month_title, parse_month, usable_months


@pytest.mark.parametrize("bad", ["2026-7", "2026-13", "26-07", "July 2026", "", "2026-07-01", "1899-01"])
def test_a_month_is_yyyy_mm(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month(bad)


def test_month_title():
    assert month_title("2026-07") == "July 2026"
    assert month_title(" 2022-01 ") == "January 2022"


def test_both_months_are_named():
    today = RegistrationMonth("2026-07", "2022-07")
    assert today.scaled and today.label == "July 2026 with July 2022 LSOA shares"
    assert today.statement == "practices and list sizes July 2026; where patients live: July 2022 shares"
    assert today.relabel("practice → PCN map July 2022") == "practice → PCN map July 2026 with July 2022 LSOA shares"
    then = RegistrationMonth("2022-07", "2022-07")
    assert not then.scaled and then.relabel("map July 2022") == "map July 2022"  # unchanged, byte for byte


def test_discover_reads_each_data_folder_by_name(tmp_path, monkeypatch):
    raw, other = tmp_path / "raw", tmp_path / "other"
    for folder, names in ((raw, ["gp-reg-pat-prac-map_2026-10.zip", "gp-reg-pat-prac-quin-age_2026-10.zip",
                                 "gp-reg-pat-prac-map_2025-01.csv", "gp-reg-pat-prac-map_2026-10.xlsx",
                                 "gp-reg-pat-prac-map_2026-1.zip", "notes.txt"]),
                          (other, ["gp-reg-pat-prac-map_2026-10.zip", "gp-reg-pat-prac-quin-age_2026-10.zip"])):
        (folder / "gp").mkdir(parents=True)
        for n in names:
            (folder / "gp" / n).write_bytes(b"x")
    monkeypatch.setattr(months, "_roots", lambda: [raw, other])
    found = discover()
    assert found["2026-10"].map == raw / "gp" / "gp-reg-pat-prac-map_2026-10.zip"  # the first folder wins
    assert found["2026-10"].usable
    assert not found["2025-01"].usable  # a map without list sizes is not a month the tool can describe
    assert "2026-1" not in found
    assert usable_months(found)[-1] == "2026-10"


def test_the_default_is_the_newest_unless_chosen(monkeypatch):
    monkeypatch.delenv("CORE20_REGISTRATIONS", raising=False)
    assert months.default_month(["2022-07", "2026-07"]) == "2026-07"
    monkeypatch.setenv("CORE20_REGISTRATIONS", "2022-07")
    assert months.default_month(["2022-07", "2026-07"]) == "2022-07"
    months.select("2026-07")
    try:
        assert months.default_month(["2022-07", "2026-07"]) == "2026-07"
    finally:
        months.select(None)


def test_the_bundled_data_has_july_2022_and_july_2026(data_dir, monkeypatch):
    monkeypatch.setenv("CORE20_DATA", str(data_dir))
    found = discover()
    assert months.base_month() == "2022-07"
    assert {"2022-07", "2026-07"} <= set(usable_months(found))
    assert found["2026-07"].quin_age is not None and found["2026-07"].lsoa is None
    assert not found["2022-01"].usable  # a practice map only


def test_dated_files_are_found_by_name(tmp_path, monkeypatch):
    gp = tmp_path / "gp"
    (gp / "qof").mkdir(parents=True)
    for n in ("epraccur_2026-02.csv.gz", "epraccur_2026-11.csv.gz", "epraccur_latest.csv", "ePCN_2024-10.xlsx",
              "ePCN_2026-12.zip"):
        (gp / n).write_bytes(b"x")
    for n in ("QOF_2025-26_PREVALENCE_2526.csv.gz", "QOF_2020-21_PREVALENCE_2021_v2.csv", "QOF_2025-26.zip"):
        (gp / "qof" / n).write_bytes(b"x")
    monkeypatch.setattr(months, "_roots", lambda: [tmp_path])
    assert list(months.dated_files("epraccur")) == ["2026-02", "2026-11"]
    assert months.newest_dated("epraccur", until="2026-07").name == "epraccur_2026-02.csv.gz"
    assert months.newest_dated("epcn").name == "ePCN_2026-12.zip"
    assert list(months.dated_files("qof")) == ["2020-21", "2025-26"]
    assert months.newest_dated("epcn", until="2020-01") is None
