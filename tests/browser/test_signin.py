"""Sign-in (issue 21) against a real OpenID Connect provider: ``oidc-provider-mock`` on 127.0.0.1, in a thread.

The app is started as its container starts it (tests/runtime_app.py: the image's command and environment, a
non-root user, a read-only cache) with sign-in switched on by ``CORE20_AUTH_*`` environment variables and one
allowed role. Alice holds the role, Bob does not. Headless Chromium signs in through the provider's own pages.
"""

from __future__ import annotations

import threading
import time

import pytest
from runtime_app import free_port, runtime_app

from tests.browser.conftest import SHOTS, map_frame, run_axe, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the running app reads the national atlas

ROLE = "Core20Plus.User"
ALICE = {"name": "Alice Analyst", "email": "alice@example.nhs.uk", "roles": [ROLE, "Something.Else"]}
BOB = {"name": "Bob <b>Visitor</b>", "email": "bob@example.nhs.uk", "roles": ["Other.Role"]}
PCN_LINK = "/?pcn=U37316"  # Bradford City 4 PCN
COOKIE_SECRET = "test-cookie-secret-" + "x" * 32


@pytest.fixture(scope="module")
def provider():
    """A real OpenID Connect provider (authorisation, token, JWKS, end-session endpoints) on 127.0.0.1."""
    import werkzeug.serving
    from oidc_provider_mock import User, app

    users = [User(sub="alice", claims=ALICE), User(sub="bob", claims=BOB)]
    server = werkzeug.serving.make_server("127.0.0.1", 0, app(user_claims=users, require_nonce=True),
                                          threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def signin_app(provider, atlas):
    from geo.paths import cache_dir

    port = free_port()
    env = {"CORE20_PUBLIC_URL": f"http://127.0.0.1:{port}", "PORT": str(port),
           "CORE20_AUTH_CLIENT_ID": "core20plus", "CORE20_AUTH_CLIENT_SECRET": "a client secret",
           "CORE20_AUTH_SERVER_METADATA_URL": f"{provider}/.well-known/openid-configuration",
           "CORE20_AUTH_COOKIE_SECRET": COOKIE_SECRET, "CORE20_ALLOWED_ROLES": ROLE}
    with runtime_app(cache_dir(), env, port=port, keep=SHOTS / "signin.log") as running:
        assert "sign-in: environment" in running.log_text()
        yield running


def _text(page) -> str:
    return page.evaluate("() => document.body.innerText")


def _sign_in(page, app, who: str) -> None:
    """From the app's sign-in page: the button (by keyboard), then the provider's page, as ``who``."""
    button = page.get_by_role("button", name="Sign in")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/oauth2/authorize**")
    page.get_by_role("button", name=who, exact=True).click()
    page.wait_for_url(f"{app.url}/**")


def _shows_sign_in_only(page) -> None:
    page.get_by_role("heading", name="Sign in to continue").wait_for()
    settle(page, 1500)
    text = _text(page)
    for data in ("Bradford", "Explore Core20PLUS", "NHS as of", "Registered patients"):
        assert data not in text, f"{data!r} is shown before signing in"
    assert page.locator('iframe[title="streamlit_folium.st_folium"]').count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


@pytest.mark.parametrize("link", [PCN_LINK, "/?icb=E54000050", "/outreach?pcn=U37316", "/your_data", "/compare"])
def test_a_link_opened_without_signing_in_is_not_served(signin_app, page, link):
    page.goto(f"{signin_app.url}{link}")
    _shows_sign_in_only(page)
    assert not [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]


def test_signing_in_reaches_the_pcn_link(signin_app, page, snap):
    page.goto(f"{signin_app.url}{PCN_LINK}")
    _shows_sign_in_only(page)
    snap(page, "21_sign_in")
    _sign_in(page, signin_app, "alice")
    # the provider returns to the app's root; the app goes back to the link that was opened
    page.get_by_role("heading", name="PCN: Bradford City 4 PCN").wait_for()
    assert "pcn=U37316" in page.url
    map_frame(page)
    settle(page)
    sidebar = page.get_by_test_id("stSidebar")
    assert "Signed in as Alice Analyst (alice@example.nhs.uk)" in sidebar.inner_text()
    assert sidebar.get_by_role("button", name="Sign out").is_visible()
    assert sidebar.locator("a[href^='mailto:']").count() == 0
    snap(page, "21_signed_in_pcn")
    # another page in the same browser is open too, with no second sign-in
    page.goto(f"{signin_app.url}/compare")
    page.get_by_role("heading", name="Compare places").first.wait_for()


def test_a_user_without_the_allowed_role_is_refused(signin_app, page, snap, axe_source):
    page.goto(f"{signin_app.url}{PCN_LINK}")
    _sign_in(page, signin_app, "bob")
    page.get_by_role("heading", name="You do not have access to Core20PLUS targeting").wait_for()
    settle(page, 1500)
    text = _text(page)
    assert ROLE in text and "Signed in as Bob <b>Visitor</b> (bob@example.nhs.uk)" in text  # as text, not HTML
    assert page.locator("b", has_text="Visitor").count() == 0
    for data in ("Bradford", "Explore Core20PLUS", "NHS as of"):
        assert data not in text
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    snap(page, "21_refused")
    serious = [v for v in run_axe(page, axe_source) if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    # every other link is refused the same way
    page.goto(f"{signin_app.url}/your_data")
    page.get_by_role("heading", name="You do not have access to Core20PLUS targeting").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()  # the provider's own sign-out page
    page.get_by_role("heading", name="Sign in to continue").wait_for()


def test_sign_out_ends_the_session(signin_app, page):
    page.goto(f"{signin_app.url}/your_data")
    _sign_in(page, signin_app, "alice")
    page.get_by_role("heading", name="Your data").wait_for()
    assert "your_data" in page.url
    assert any(c["name"] == "_streamlit_user" for c in page.context.cookies())
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/oauth2/end_session**")  # signed out at the provider too (OpenID end-session)
    page.get_by_role("button", name="End session").click()
    page.get_by_role("heading", name="Sign in to continue").wait_for()
    assert not [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
    for link in (PCN_LINK, "/your_data"):  # the links now ask for sign-in again
        page.goto(f"{signin_app.url}{link}")
        _shows_sign_in_only(page)


def test_the_sign_in_page_has_no_serious_axe_violation(signin_app, page, axe_source):
    page.goto(f"{signin_app.url}{PCN_LINK}")
    _shows_sign_in_only(page)
    serious = [v for v in run_axe(page, axe_source) if v["impact"] in ("serious", "critical")]
    assert not serious, serious


def test_the_identity_cookie_is_signed_and_holds_the_id_tokens_issue_time(signin_app, page, browser):
    """The sign-in age limit (CORE20_SIGN_IN_HOURS) reads ``iat`` from st.user; a forged cookie is not accepted."""
    import json

    from itsdangerous import URLSafeTimedSerializer

    page.goto(f"{signin_app.url}/methods")
    _sign_in(page, signin_app, "alice")
    page.get_by_role("heading", name="Methods & sources").first.wait_for()
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "_streamlit_user"]
    claims = json.loads(URLSafeTimedSerializer(COOKIE_SECRET, salt="_streamlit_user").loads(cookie["value"]))
    assert abs(claims["iat"] - time.time()) < 600 and claims["roles"] == ALICE["roles"]
    # Bob's own claims with the role added, signed with another secret: refused as not signed in
    forged = dict(claims, name="Bob", email="bob@example.nhs.uk", sub="bob")
    value = URLSafeTimedSerializer("not-the-secret-" + "y" * 32, salt="_streamlit_user").dumps(json.dumps(forged))
    ctx = browser.new_context()
    try:
        ctx.add_cookies([{**{k: cookie[k] for k in ("name", "domain", "path")}, "value": value}])
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        pg.goto(f"{signin_app.url}{PCN_LINK}")
        _shows_sign_in_only(pg)
    finally:
        ctx.close()
