"""The panel figures agree with what ``pcns``/``practices`` print, on real PCNs and practices."""

import pytest

from targeting.gaps import pcn_gaps, practice_gaps
from targeting.panels import GAP_COLUMNS, gap_table
from targeting.scope import make_scope

pytestmark = pytest.mark.slow  # national gaps on the national atlas


def test_pcn_gaps_match_pcns_and_sit_beside_icb_and_england(atlas):
    t = gap_table(make_scope(atlas, kind="pcn", code="U06092")).set_index("measure")  # Greenwood PCN, West Yorkshire
    assert list(t.reset_index().columns) == list(GAP_COLUMNS)
    g = pcn_gaps(atlas.edition(2025), ["U06092"]).iloc[0]
    und = t.loc["Hypertension: people not on a register (expected − recorded)"]
    assert (und["value"], und["lower"], und["upper"]) == pytest.approx(
        (g["hyp_undiagnosed"], g["hyp_undiagnosed_lower"], g["hyp_undiagnosed_upper"]))
    assert und["value"] == pytest.approx(6960.387, abs=0.01)  # as `pcns --icb QWO` prints it
    hyp = t.loc["Recorded ÷ expected: hypertension"]
    assert hyp["value"] == pytest.approx(7728 / 14688.387, abs=1e-6)
    # ICB and England pool every practice with data
    every = practice_gaps(atlas.edition(2025))
    wy = every[every["practice_code"].isin(atlas.practices.loc[atlas.practices["icb_code_nhs"] == "QWO",
                                                                "practice_code"])].dropna(subset=["hyp_expected"])
    assert hyp["icb"] == pytest.approx(wy["hyp_recorded"].sum() / wy["hyp_expected"].sum())
    ok = every.dropna(subset=["hyp_expected", "hyp_recorded"])
    assert hyp["england"] == pytest.approx(ok["hyp_recorded"].sum() / ok["hyp_expected"].sum())
    smi = t.loc["Recorded ÷ expected: severe mental illness"]
    assert smi["upper"] < smi["icb"] and smi["vs_icb"] == "lower"
    for measure in ("Registration gap of the indicative footprint", "Core20 reach index",
                    "Median distance from its Core20 LSOAs to a member practice"):
        assert measure in t.index
    assert t.loc["Core20 reach index", "icb"] == 1.0


def test_practice_gaps_for_kensington_partnership(atlas):
    t = gap_table(make_scope(atlas, kind="practice", code="B83052")).set_index("measure")
    g = practice_gaps(atlas.edition(2025), ["B83052"]).iloc[0]
    assert t.loc["Recorded ÷ expected: diabetes", "value"] == pytest.approx(g["dm_ratio"])
    assert "Core20 reach index" not in t.index  # a PCN measure
    with pytest.raises(LookupError):
        gap_table(make_scope(atlas, kind="practice", code="Z99999"))
    with pytest.raises(ValueError):
        gap_table(make_scope(atlas))
