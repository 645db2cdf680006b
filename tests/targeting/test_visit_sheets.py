import copy
import re

import pytest

from targeting.outreach import plan_outreach, scenario
from targeting.visit_sheets import svg_map, visit_sheets_html

BRADFORD_PCN = "U37316"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def plan(each_atlas):
    return plan_outreach(each_atlas, pcn=BRADFORD_PCN, connectors=3, capacity=300, months=6)


def test_one_a4_section_per_connector_with_map_list_and_reasons(plan):
    html = visit_sheets_html(plan)
    assert "@page { size: A4" in html and "page-break-after: always" in html
    sections = re.findall(r'<section class="sheet">(.*?)</section>', html, flags=re.S)
    per_connector = [s for s in sections if s.lstrip().startswith("<h2>Connector ")]
    assert len(per_connector) == int((plan.connectors["lsoas"] > 0).sum()) == 3
    for k, sec in enumerate(per_connector, start=1):
        mine = plan.lsoas[plan.lsoas["connector"] == k].sort_values("visit_order")
        assert "<svg" in sec and sec.count("<path") >= len(mine)
        # The ordered list follows the visit order and says why, in words.
        positions = [sec.index(code) for code in mine["lsoa_code"]]
        assert positions == sorted(positions)
        assert sec.count("in the most deprived") >= len(mine)
        assert "ethnic minority communities" in sec and "undiagnosed high blood pressure" in sec


def test_sheets_state_sources_vintages_and_the_reminder(plan):
    html = visit_sheets_html(plan)
    for words in ("English Indices of Deprivation 2025", "Census 2021", "July 2022", "QOF 2022-23",
                  "Open Government Licence v3.0", "Contains OS data", "not a verdict", "indicative"):
        assert words in html, words
    assert "BAME" not in html


def test_waiting_core20_neighbourhoods_are_listed_with_their_reason(plan):
    html = visit_sheets_html(plan)
    waiting = plan.lsoas[(plan.lsoas["status"] == "waiting") & plan.lsoas["core20"]]
    assert len(waiting) > 0
    tail = html[html.index("not in this plan yet"):]
    for code in waiting["lsoa_code"]:
        assert code in tail
    assert "beyond capacity" in tail


def test_every_name_is_escaped(plan):
    hostile = copy.deepcopy(plan)
    hostile.lsoas["lsoa_name"] = HOSTILE
    hostile.lsoas["why"] = HOSTILE
    hostile.area = {**hostile.area, "name": HOSTILE, "icb_name": HOSTILE}
    html = visit_sheets_html(hostile, scenario=scenario(plan, connectors=(1,), capacities=(100,), months=(3,)))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # escaped by the autoescaping template


def test_the_map_needs_no_internet(plan):
    html = visit_sheets_html(plan)
    assert not re.search(r'(src|href)="https?://', html)
    assert "<link" not in html and "<script" not in html


def test_svg_map_of_nothing_is_empty(plan):
    assert svg_map(plan.lsoas.iloc[:0]) == ""
    one = svg_map(plan.lsoas.iloc[:1], title="<b>")
    assert one.startswith("<svg") and "<title>&lt;b&gt;</title>" in one
