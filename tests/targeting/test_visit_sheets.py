import copy
import re

import pytest

from targeting.outreach import plan_outreach, scenario
from targeting.render.visit_sheets import svg_map, visit_sheets_html
from targeting.scope import make_scope

BRADFORD_PCN = "U37316"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def plan(each_atlas):
    return plan_outreach(make_scope(each_atlas, kind="pcn", code=BRADFORD_PCN), connectors=3, capacity=300, months=6)


def test_one_a4_page_per_connector_and_month_with_map_postcodes_and_reasons(plan):
    html = visit_sheets_html(plan)
    assert "@page { size: A4" in html and "page-break-after: always" in html
    pages = re.findall(r'<section class="sheet round">(.*?)</section>', html, flags=re.S)
    rounds = plan.rounds_table()
    months = rounds.groupby(["connector", "month"], sort=True)
    assert len(pages) == months.ngroups == 18  # 3 connectors × 6 months, every month has work
    for page, ((c, m), stops) in zip(pages, months, strict=True):
        assert page.lstrip().startswith(f"<h2>Connector {c} · month {m} ")
        # The postcodes are listed in walking order, with about how many households each.
        stops = stops.sort_values("stop")
        positions = [page.index(f"<b>{pc}</b>") for pc in stops["postcode"]]
        assert positions == sorted(positions)
        assert page.count("about ") >= len(stops)
        # An offline map: LSOA outlines, a numbered point per stop, a scale bar and a north arrow.
        assert "<svg" in page and page.count('r="8"') == len(stops) and "<path" in page
        assert 'aria-label="north arrow"' in page and (" m</text>" in page or " km</text>" in page)
        # Why each neighbourhood was chosen, in words, deprivation beside ethnicity.
        assert "in the most deprived" in page and "ethnic minority communities" in page


def test_a_street_basemap_only_when_chosen(plan):
    assert "tile.openstreetmap.org" not in visit_sheets_html(plan)
    with_tiles = visit_sheets_html(plan, basemap="OpenStreetMap", connector=1)
    assert '<image href="https://tile.openstreetmap.org/' in with_tiles
    assert "OpenStreetMap contributors" in with_tiles
    assert with_tiles.count('<section class="sheet round">') == 6
    with pytest.raises(ValueError, match="basemap"):
        visit_sheets_html(plan, basemap="http://evil.example/{z}/{x}/{y}.png")


def test_sheets_state_sources_vintages_and_the_reminder(plan):
    html = visit_sheets_html(plan)
    for words in ("English Indices of Deprivation 2025", "Census 2021", "July 2022", "QOF 2022-23",
                  "Open Government Licence v3.0", "Contains OS data", "not a verdict", "indicative"):
        assert words in html, words
    assert "BAME" not in html


def test_waiting_core20_neighbourhoods_are_listed_with_their_reason(plan):
    html = visit_sheets_html(plan)
    waiting = plan.lsoas[(plan.lsoas["status"] != "planned") & plan.lsoas["core20"]]
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
    # Escaped exactly once, by the autoescaping templates (the SVG maps included): never twice.
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&amp;lt;" not in html and "&amp;#" not in html


def test_the_map_needs_no_internet(plan):
    html = visit_sheets_html(plan)
    assert not re.search(r'(src|href)="https?://', html)
    assert "<link" not in html and "<script" not in html


def test_svg_map_of_nothing_is_empty(plan):
    assert svg_map(plan.lsoas.iloc[:0]) == ""
    one = svg_map(plan.lsoas.iloc[:1], title="<b>")
    assert one.startswith("<svg") and "<title>&lt;b&gt;</title>" in one
    quoted = svg_map(plan.lsoas.iloc[:1], title='"><img src=x onerror=alert(1)>')
    assert "<title>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</title>" in quoted and "<img" not in quoted
