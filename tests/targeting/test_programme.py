"""Calendar months, connectors' names and the done file of an outreach programme (issue 22)."""

import datetime as dt

import pytest

from targeting.programme import add_months, connector_names, month_words, read_done, start_month


def test_the_start_defaults_to_next_month_and_is_written_yyyy_mm():
    assert start_month(today=dt.date(2026, 12, 7)) == "2027-01"
    assert start_month(today=dt.date(2027, 3, 31)) == "2027-04"
    assert start_month("2027-5") == "2027-05"
    assert add_months("2027-11", 2) == "2028-01" and month_words("2028-01") == "January 2028"
    for bad in ("2027-13", "Jan 2027", "27-01", "1999-12"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            start_month(bad)


def test_names_one_each_distinct_and_cleaned():
    assert connector_names(None, 2) == ["Connector 1", "Connector 2"]
    assert connector_names(None, 1, worker=True) == ["Worker 1"]
    assert connector_names(" Asha ,Ben\x1b[31m", 2) == ["Asha", "Ben [31m"]
    with pytest.raises(ValueError, match="3 name\\(s\\) given for 2"):
        connector_names("A,B,C", 2)
    with pytest.raises(ValueError, match="names must differ: 'asha' appear"):
        connector_names("Asha,asha", 2)
    with pytest.raises(ValueError, match="a name is empty"):
        connector_names("Asha,", 2)
    assert len(connector_names(["x" * 500], 1)[0]) == 60


def test_a_done_file_says_what_was_visited_and_when(tmp_path):
    f = tmp_path / "rounds_done.csv"
    f.write_text("connector,month,stop,postcode,households_est,connector_name,month_start,done\n"
                 "1,1,1,bd3 9aa,20,Asha,2027-01,true\n"
                 "1,1,2,BD3 9AB,15,Asha,2027-01,2027-02-03\n"
                 "1,2,1,BD3 9AD,12,Asha,2027-02,false\n"
                 "2,1,1,BD3 9AE,11,Ben,2027-01,\n")
    d = read_done(f)
    assert d.visited == {"BD3 9AA": 20, "BD3 9AB": 15} and d.households == 35
    assert d.rows == 4 and d.rows_done == 2 and d.last_month == "2027-02"


def test_a_bad_done_file_lists_every_problem_at_once(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("postcode,households_est,done\nBD3 9AA,20,maybe\nBD3 9AB,lots,true\n")
    with pytest.raises(ValueError, match=r"row 2: done 'maybe' is neither.*row 3: households_est 'lots'"):
        read_done(f)
    g = tmp_path / "nodone.csv"
    g.write_text("postcode,households_est\nBD3 9AA,20\n")
    with pytest.raises(ValueError, match="missing: done"):
        read_done(g)
    from targeting._limits import MAX_BYTES

    with pytest.raises(ValueError, match="larger than 50 MB"):
        read_done(b"postcode,households_est,done\n" + b"x" * MAX_BYTES)
