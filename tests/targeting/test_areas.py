import pytest

from targeting.areas import AreaNotFound, lsoas_in, resolve_icb, search


@pytest.mark.parametrize("text", ["E54000055", "QHL", "Birmingham and Solihull", "nhs birmingham and solihull icb",
                                  "  birmingham   AND solihull "])
def test_resolve_icb_by_code_or_name(each_atlas, text):
    assert resolve_icb(each_atlas, text)["icb_code"] == "E54000055"


@pytest.mark.slow
@pytest.mark.parametrize("text", ["QXU", "Surrey Heartlands", "E54000052", "E54000063"])
def test_icb_that_changed_ons_code_resolves_by_either(atlas, text):
    row = resolve_icb(atlas, text)
    assert row["icb_code_nhs"] == "QXU"
    # 2011 LSOAs by the July 2022 lookup, 2021 LSOAs by the April 2024 lookup (same ICB, new ONS code)
    assert len(lsoas_in(atlas.edition(2019), row["icb_code_nhs"])) == 618
    assert len(lsoas_in(atlas.edition(2025), row["icb_code_nhs"])) == 624


def test_misspelt_name_gets_a_suggestion(each_atlas):
    with pytest.raises(AreaNotFound, match="Did you mean 'West Yorkshire'"):
        resolve_icb(each_atlas, "West Yorksire")


@pytest.mark.slow
def test_unknown_or_ambiguous(atlas):
    with pytest.raises(AreaNotFound, match="No ICB matches"):
        resolve_icb(atlas, "<script>alert(1)</script>")
    with pytest.raises(AreaNotFound, match="matches"):
        resolve_icb(atlas, "London")


def test_search_finds_each_kind(each_atlas):
    kinds = set(search(each_atlas, "bradford")["kind"])
    assert {"lad", "pcn", "practice"} <= kinds
    top = search(each_atlas, "QHL").iloc[0]
    assert (top["kind"], top["code"]) == ("icb", "E54000055")
    assert search(each_atlas, "").empty
    assert search(each_atlas, ".*(").empty  # regex characters are taken literally


def test_display_name():
    from targeting.areas import display_name

    assert display_name("BRADFORD SOUTH PCN") == "Bradford South PCN"
    assert display_name("ST JOHN'S SURGERY") == "St John's Surgery"
    assert display_name("NHS West Yorkshire ICB") == "NHS West Yorkshire ICB"
    assert display_name("SWB I3 PCN") == "SWB I3 PCN"
    assert display_name("DR KHAN & PARTNERS") == "Dr Khan & Partners"


def test_resolve_pcn_by_code_or_name(each_atlas):
    from targeting.areas import resolve_pcn

    assert resolve_pcn(each_atlas, "u37316") == "U37316"
    assert resolve_pcn(each_atlas, "Bradford City 4") == "U37316"
    with pytest.raises(AreaNotFound, match=r"matches .* PCNs"):
        resolve_pcn(each_atlas, "Bradford City")
    with pytest.raises(AreaNotFound, match="No PCN matches"):
        resolve_pcn(each_atlas, "Atlantis")
