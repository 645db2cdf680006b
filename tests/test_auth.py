"""The sign-in gate (app_pages/_auth.py) in streamlit.testing's AppTest: off by default, and what each user sees.

The browser tests (tests/browser/test_signin.py) run it against a real OpenID Connect provider; these check every
branch quickly, with the user seeded as ``st.user``.
"""

from __future__ import annotations

import time

import pytest

AUTH = {"redirect_uri": "https://core20.example.nhs.uk/oauth2callback", "cookie_secret": "c" * 40,
        "client_id": "cid", "client_secret": "secret",
        "server_metadata_url": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration"}
ROLE = "Core20Plus.User"
CONTENT = "The tool's pages would be here."


def _page():
    import streamlit as st

    from app_pages._auth import gate, signed_in_sidebar

    gate()
    signed_in_sidebar()
    st.write("The tool's pages would be here.")


def _run(secrets=None, user=None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page, default_timeout=30)
    if secrets:
        at.secrets.update(secrets)
    if user is not None:
        at.user = user
    return at.run()


def _texts(at) -> str:
    parts = [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.text, *at.error, *at.info, *at.caption)]
    parts += [e.value for e in (*at.sidebar.text, *at.sidebar.markdown)]
    return "\n".join(str(p) for p in parts)


def _alice(**claims):
    return {"is_logged_in": True, "name": "Alice Analyst", "email": "alice@example.nhs.uk", "roles": [ROLE],
            "iat": int(time.time()) - 60, **claims}


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv("CORE20_ALLOWED_ROLES", raising=False)
    monkeypatch.delenv("CORE20_SIGN_IN_HOURS", raising=False)


def test_without_an_auth_section_the_gate_adds_nothing():
    at = _run()
    assert not at.exception
    assert CONTENT in _texts(at)
    assert len(at.button) == 0 and len(at.sidebar.button) == 0 and len(at.title) == 0
    assert len(at.get("html")) == 0 and len(at.sidebar.text) == 0


def test_signed_out_sees_only_the_sign_in_page():
    at = _run({"auth": AUTH}, {"is_logged_in": False})
    assert not at.exception
    assert CONTENT not in _texts(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert at.title[0].value == "Core20PLUS targeting" and at.subheader[0].value == "Sign in to continue"
    (html,) = at.get("html")
    assert "sessionStorage.setItem" in html.proto.body  # the link opened is kept for after signing in


def test_a_user_with_an_allowed_role_gets_in_and_sees_who_is_signed_in(monkeypatch):
    monkeypatch.setenv("CORE20_ALLOWED_ROLES", f"Other, {ROLE}")
    at = _run({"auth": AUTH}, _alice())
    assert not at.exception
    assert CONTENT in _texts(at)
    assert [t.value for t in at.sidebar.text] == ["Signed in as Alice Analyst (alice@example.nhs.uk)"]
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    (html,) = at.get("html")
    assert "sessionStorage.getItem" in html.proto.body  # back to the link opened before signing in
    at.run()  # once per session only
    assert len(at.get("html")) == 0


@pytest.mark.parametrize("roles", [["Other.Role"], [], None, "Other.Role"])
def test_a_user_without_an_allowed_role_is_refused(roles):
    user = _alice(roles=roles, name="Bob <b>Visitor</b>", email="bob@example.nhs.uk")
    if roles is None:
        del user["roles"]
    at = _run({"auth": AUTH, "core20": {"allowed_roles": [ROLE]}}, user)
    assert not at.exception
    text = _texts(at)
    assert CONTENT not in text
    assert at.title[0].value == "You do not have access to Core20PLUS targeting"
    assert "Signed in as Bob <b>Visitor</b> (bob@example.nhs.uk)" in [t.value for t in at.text]  # plain text
    assert ROLE.replace(".", "\\.") in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"] and len(at.sidebar.button) == 0


def test_without_allowed_roles_every_signed_in_account_gets_in():
    at = _run({"auth": AUTH}, _alice(roles=None))
    assert CONTENT in _texts(at)


@pytest.mark.parametrize("age_hours", [13, None])  # hours, not a time stamp: pytest-xdist's workers collect alike
def test_an_old_or_undated_sign_in_is_asked_for_again(age_hours):
    at = _run({"auth": AUTH}, _alice(iat=None if age_hours is None else int(time.time()) - age_hours * 3600))
    assert CONTENT not in _texts(at)
    assert at.subheader[0].value == "Sign in again to continue"
    assert [b.label for b in at.button] == ["Sign in"]


def test_the_sign_in_age_is_a_setting(monkeypatch):
    monkeypatch.setenv("CORE20_SIGN_IN_HOURS", "24")
    assert CONTENT in _texts(_run({"auth": AUTH}, _alice(iat=int(time.time()) - 13 * 3600)))
    monkeypatch.delenv("CORE20_SIGN_IN_HOURS")
    at = _run({"auth": AUTH, "core20": {"sign_in_hours": 0.5}}, _alice(iat=int(time.time()) - 3600))
    assert at.subheader[0].value == "Sign in again to continue"


def test_helpers():
    from app_pages._auth import provider_name, sign_in_expired, user_label, user_roles

    assert provider_name(AUTH) is None
    assert provider_name({"redirect_uri": "x", "microsoft": {"client_id": "c"}}) == "microsoft"
    assert user_roles({"roles": "A"}) == ["A"] and user_roles({}) == []
    assert user_roles({"roles": ["A", 2]}) == ["A", "2"]
    assert user_label({"name": "N", "email": "e@x"}) == "N (e@x)"
    assert user_label({"preferred_username": "u@x"}) == "u@x" and user_label({"sub": "s"}) == "s"
    assert not sign_in_expired({"iat": 1000}, 1, now=1000 + 3599)
    assert sign_in_expired({"iat": 1000}, 1, now=1000 + 3601)
    assert sign_in_expired({"iat": "1000"}, 1, now=1000) and sign_in_expired({"iat": True}, 1, now=0)


def test_the_pages_scripts_parse(tmp_path):
    """The two scripts the gate puts in the page (keep the link opened; go back to it) are valid JavaScript."""
    import shutil
    import subprocess

    from app_pages._auth import _REMEMBER_JS, _RETURN_JS

    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed (it comes with npm) to check the scripts")
    for name, html in (("remember", _REMEMBER_JS), ("return", _RETURN_JS)):
        assert html.startswith("<script>") and html.endswith("</script>")
        js = tmp_path / f"{name}.js"
        js.write_text(html.removeprefix("<script>").removesuffix("</script>"))
        out = subprocess.run([node, "--check", str(js)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
