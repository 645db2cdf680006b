"""Hostile strings in a user's upload and in official names are shown as text, never run, in a real browser."""

import copy
from pathlib import Path

import pytest

from targeting.scope import make_scope

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas

XSS = '<img src=x onerror="window.__xss=(window.__xss||0)+1"><script>window.__xss=(window.__xss||0)+1</script>'


def _no_script_ran(page) -> None:
    for frame in page.frames:
        assert frame.evaluate("() => window.__xss === undefined"), f"injected script ran in {frame.url}"


@pytest.fixture
def offline_page(browser):
    """A page for files opened from disk: every network request is refused, dialogs are recorded."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "about:"))
              else r.abort())
    pg = ctx.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    ctx.close()


def test_hostile_upload_is_shown_as_text(app_url, page, snap, atlas, tmp_path):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"].head(60)
    rows = [f'lsoa_code,numerator,denominator,"{XSS.replace(chr(34), chr(39))}"']
    rows += [f"{c},{20 + i % 9},{60 + i % 7},x" for i, c in enumerate(t["lsoa_code"])]
    rows += [f'"{XSS}",1,2,x', f'E01008881,"{XSS}",2,x']
    f = tmp_path / "uptake <b>bold<img src=x onerror=alert(1)>.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.goto(f"{app_url}/your_data")
    page.locator('input[type="file"]').set_input_files(str(f))
    page.get_by_text("could not be used").first.wait_for()
    page.wait_for_timeout(2500)  # let the map frame and tables render
    snap(page, "09_hostile_upload")
    _no_script_ran(page)
    assert dialogs == []
    assert page.locator("img[src='x']").count() == 0
    for frame in page.frames:
        assert frame.locator("img[src='x']").count() == 0


def test_a_markdown_image_in_the_label_fetches_nothing(app_url, page, atlas, tmp_path):
    """Issue 13: a Markdown image in the label made the browser fetch its URL."""
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"].head(30)
    f = tmp_path / "uptake.csv"
    f.write_text("lsoa_code,numerator,denominator\n" + "".join(f"{c},20,60\n" for c in t["lsoa_code"]))
    page.goto(f"{app_url}/your_data")
    page.locator('input[type="file"]').set_input_files(str(f))
    page.get_by_text("30 rows").first.wait_for()
    box = page.get_by_label("What the rate measures")
    box.fill("![x](http://label.example/x.png) <img src=x>")
    box.press("Enter")
    page.get_by_text("http://label.example/x.png").first.wait_for()  # shown as text
    page.wait_for_timeout(2500)
    assert not [u for u in page.blocked if "label.example" in u]
    for frame in page.frames:
        assert frame.locator("img[src='x'], img[src*='label.example']").count() == 0


def test_hostile_official_names_in_a_map(atlas, offline_page, tmp_path):
    from targeting import maps
    from targeting.render.page import standalone_html
    from targeting.render.payload import map_payload

    lsoas, bounds, _ = maps.area_lsoas(make_scope(atlas, kind="lad", code="E07000076"))  # Tendring, with Jaywick
    lsoas = lsoas.copy()
    lsoas["lsoa_name"] = XSS
    lsoas["lad_name"] = XSS
    x0, y0, x1, y1 = lsoas["geometry_web"].total_bounds
    pr = atlas.practices.dropna(subset=["lat"])
    pr = pr[pr["lon"].between(x0, x1) & pr["lat"].between(y0, y1)].copy()
    pr["practice_name"] = XSS
    pr["pcn_name"] = XSS
    payload = map_payload(lsoas, maps.standard_layers(lsoas), practices=pr, bounds=bounds,
                               show=("core20", "practices"))
    html = standalone_html(payload, title=XSS)
    path = tmp_path / "map.html"
    path.write_text(html, encoding="utf-8")
    pg = offline_page
    pg.goto(path.as_uri())
    pg.wait_for_selector("path.leaflet-interactive")
    shown = []
    paths = pg.locator("path.leaflet-interactive")
    n = min(paths.count(), 12)
    for i in range(n):  # real mouse moves, so Leaflet opens each tooltip as a person would see it
        box = paths.nth(i).bounding_box()
        if box and box["width"] > 2 and box["height"] > 2:
            pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            pg.wait_for_timeout(50)
            shown.append(pg.evaluate("() => [...document.querySelectorAll('.leaflet-tooltip')]"
                                     ".map(e => e.textContent).join(' ')"))
    icons = pg.locator(".leaflet-marker-icon:not(.marker-cluster)")
    for i in range(min(icons.count(), 5)):
        box = icons.nth(i).bounding_box()
        if not box or not (0 < box["x"] < 1190 and 0 < box["y"] < 890):
            continue
        pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        pg.wait_for_timeout(50)
        shown.append(pg.evaluate("() => [...document.querySelectorAll('.leaflet-tooltip')]"
                                 ".map(e => e.textContent).join(' ')"))
    shown = " ".join(shown)
    assert n > 0
    assert "<img src=x" in shown  # the name is displayed, as text
    _no_script_ran(pg)
    assert pg.dialogs == []
    assert pg.locator("img[src='x']").count() == 0


def test_hostile_names_in_visit_sheets(atlas, offline_page, tmp_path):
    from targeting.outreach import plan_outreach
    from targeting.render.visit_sheets import visit_sheets_html

    plan = copy.deepcopy(plan_outreach(make_scope(atlas, kind="pcn", code="U37316"), connectors=3))
    plan.lsoas["lsoa_name"] = XSS
    plan.lsoas["why"] = XSS
    html = visit_sheets_html(plan)
    path = tmp_path / "visit_sheets.html"
    path.write_text(html, encoding="utf-8")
    pg = offline_page
    pg.goto(path.as_uri())
    pg.wait_for_load_state("load")
    assert "<img src=x" in pg.evaluate("() => document.body.innerText")
    _no_script_ran(pg)
    assert pg.dialogs == [] and pg.locator("img[src='x']").count() == 0
    pg.screenshot(path=str(Path(__file__).parent / "screenshots" / "10_hostile_visit_sheets.png"), full_page=False)



def test_two_sessions_do_not_see_each_others_upload(app_url, browser, atlas, tmp_path):
    t = atlas.lsoa21[atlas.lsoa21["icb_code_nhs"] == "QHL"].head(50)
    f = tmp_path / "session_a_private.csv"
    f.write_text("lsoa_code,numerator,denominator\n" + "\n".join(f"{c},{10 + i % 5},{40 + i % 9}" for i, c in
                                                                    enumerate(t["lsoa_code"])) + "\n")
    a = browser.new_context()
    b = browser.new_context()
    try:
        pa, pb = a.new_page(), b.new_page()
        pa.set_default_timeout(120_000)
        pb.set_default_timeout(120_000)
        pa.goto(f"{app_url}/your_data")
        pa.locator('input[type="file"]').set_input_files(str(f))
        pa.get_by_text("50 rows").first.wait_for()
        assert pa.get_by_text("session_a_private.csv").count() > 0
        pb.goto(f"{app_url}/your_data")
        pb.locator('input[type="file"]').wait_for(state="attached")
        pb.wait_for_timeout(2000)
        body = pb.evaluate("() => document.body.innerText")
        assert "session_a_private" not in body
        assert "50 rows" not in body
    finally:
        a.close()
        b.close()
