"""Sign-in for a hosted copy of the app: Streamlit's own ``st.login`` / ``st.user`` (OpenID Connect).

Off unless an ``[auth]`` section is configured (``.streamlit/secrets.toml``, ``~/.streamlit/secrets.toml``, or the
file ``deploy/entrypoint.py`` writes from ``CORE20_AUTH_*`` environment variables): a laptop's
``python streamlit_app.py`` renders nothing here and runs exactly as before.

When it is on, :func:`gate` runs before the navigation, so every page and every link into the app (``/?icb=…``,
``/outreach``…) shows the sign-in page first, and the link opened is kept in the tab's ``sessionStorage`` to be
returned to after signing in. An optional list of allowed roles (``CORE20_ALLOWED_ROLES``, or ``allowed_roles`` in a
``[core20]`` section of the secrets) is checked against the ``roles`` claim of the ID token (Microsoft Entra ID App
Roles); a user with none of them gets a refusal page and a sign-out. A sign-in older than ``CORE20_SIGN_IN_HOURS``
(default 12; the ID token's ``iat``) is asked for again, so roles taken away in the provider stop working then, not
when Streamlit's 30-day identity cookie ends. Nothing a provider sends is rendered as HTML.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

ROLES_ENV = "CORE20_ALLOWED_ROLES"
HOURS_ENV = "CORE20_SIGN_IN_HOURS"
DEFAULT_HOURS = 12.0
_RETURNED = "_c20_returned"  # session_state: the return to that link was offered in this session

# Keep the address the user opened (path and query; sessionStorage "c20-next", with the time) for after the round
# trip through the provider, which always comes back to the app's root. Only this tab's own address is stored.
_REMEMBER_JS = """<script>
try {
  sessionStorage.setItem("c20-next", JSON.stringify(
    {to: window.location.pathname + window.location.search, at: Date.now()}));
} catch (e) {}
</script>"""
# After signing in: go back to that address, once, if it was kept in the last 10 minutes, is a path of this same
# site, and the tab is at the app's root (where the provider returns) rather than at a link of its own.
_RETURN_JS = """<script>
try {
  const saved = JSON.parse(sessionStorage.getItem("c20-next") || "null");
  sessionStorage.removeItem("c20-next");
  const keys = Array.from(new URLSearchParams(window.location.search).keys());
  const atRoot = window.location.pathname.endsWith("/")
    && keys.every((k) => k === "registrations" || k === "imd");
  const next = saved && typeof saved.to === "string" ? saved.to : "";
  const fresh = saved && typeof saved.at === "number" && Date.now() - saved.at < 600000;
  if (atRoot && fresh && next.startsWith("/") && !next.startsWith("//") && !next.includes(String.fromCharCode(92))
      && next !== window.location.pathname + window.location.search) {
    window.location.replace(window.location.origin + next);
  }
} catch (e) {}
</script>"""


def auth_settings() -> Mapping[str, Any] | None:
    """The ``[auth]`` section of the app's secrets, or None when sign-in is off (no secrets file or no section)."""
    if not st.secrets.load_if_toml_exists():
        return None
    section = st.secrets.get("auth")
    return section if isinstance(section, Mapping) and len(section) else None


def provider_name(section: Mapping[str, Any]) -> str | None:
    """The provider ``st.login`` is given: None for settings directly in ``[auth]``, else the first named one.

    Parameters
    ----------
    section
        The ``[auth]`` section: ``client_id`` in it, or in a sub-section such as ``[auth.microsoft]``.
    """
    if "client_id" in section:
        return None
    for name, value in section.items():
        if isinstance(value, Mapping) and "client_id" in value:
            return str(name)
    return None


def _setting(env: str, key: str) -> Any:
    """``$env`` if set, else ``key`` of the secrets' ``[core20]`` section, else None."""
    value: Any = os.environ.get(env, "")
    if str(value).strip():
        return value
    core = st.secrets.get("core20") if st.secrets.load_if_toml_exists() else None
    return core.get(key) if isinstance(core, Mapping) else None


def allowed_roles() -> list[str]:
    """The roles let in: ``$CORE20_ALLOWED_ROLES`` (comma-separated), else ``[core20] allowed_roles``; [] for all.

    An empty list lets every signed-in account in (the provider, e.g. an Entra app registration with "assignment
    required", then decides who can sign in at all).
    """
    raw = _setting(ROLES_ENV, "allowed_roles") or ""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return [str(r).strip() for r in items if str(r).strip()]


def sign_in_hours() -> float:
    """How long a sign-in lasts before the app asks again (``$CORE20_SIGN_IN_HOURS`` or ``[core20]
    sign_in_hours``; default 12). Streamlit's identity cookie lasts 30 days; this bounds how long roles taken
    away in the provider keep working (a fresh sign-in brings the current roles).
    """
    raw = _setting(HOURS_ENV, "sign_in_hours")
    try:
        hours = float(raw) if raw is not None else DEFAULT_HOURS
    except (TypeError, ValueError):
        hours = DEFAULT_HOURS
    return hours if hours > 0 else DEFAULT_HOURS


def sign_in_expired(user: Mapping[str, Any], hours: float, now: float | None = None) -> bool:
    """True when the ID token's ``iat`` (issued at, seconds) is more than ``hours`` ago, or is missing."""
    iat = user.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        return True
    return (time.time() if now is None else now) - float(iat) > hours * 3600


def user_roles(user: Mapping[str, Any]) -> list[str]:
    """The ``roles`` claim of a signed-in user (a list in Entra ID tokens; a single string is accepted too)."""
    roles = user.get("roles")
    if roles is None:
        return []
    if isinstance(roles, str):
        return [roles]
    return [str(r) for r in roles]


def user_label(user: Mapping[str, Any]) -> str:
    """Who is signed in, as shown: the name, with the e-mail or username when there is one beside it."""
    name = str(user.get("name") or "").strip()
    login = str(user.get("email") or user.get("preferred_username") or user.get("upn") or "").strip()
    if name and login and login != name:
        return f"{name} ({login})"
    return name or login or str(user.get("sub") or "a signed-in user")


def _md(text: object) -> str:
    from app_pages._shared import plain_md

    return plain_md(text)


def _sign_in_page(section: Mapping[str, Any], *, expired: bool = False) -> None:
    st.html(_REMEMBER_JS, unsafe_allow_javascript=True)
    st.title("Core20PLUS targeting")
    st.subheader("Sign in again to continue" if expired else "Sign in to continue")
    if expired:
        st.info(f"Your sign-in is more than {sign_in_hours():g} hours old.")
    st.write("This copy of the tool is run by your organisation. Sign in with your organisation's account "
             "(Microsoft Entra ID, or NHSmail through it) to use it; the link you opened is shown once you are "
             "signed in.")
    if st.button("Sign in", type="primary", key="c20_sign_in"):
        st.login(provider_name(section))
    st.caption("Signing in tells the app your name, e-mail address and roles, for this session only: they are "
               "kept in a signed cookie in your browser, never on the server.")


def _refused_page(roles: list[str]) -> None:
    st.title("You do not have access to Core20PLUS targeting")
    st.error(_md(f"Your account has none of the roles this copy of the tool is open to: {', '.join(roles)}."),
             icon="🚫")
    st.text(f"Signed in as {user_label(st.user)}")  # plain text: never Markdown, HTML or a mailto: link
    st.write("Ask your ICB's IT service desk to give your account one of these roles (an App Role of the tool's "
             "app registration in Microsoft Entra ID), then sign in again. No data has been shown.")
    if st.button("Sign out", type="primary", key="c20_sign_out_refused"):
        st.logout()


def gate() -> None:
    """Stop the run with the sign-in page, or the refusal page, unless sign-in is off or the user is let in.

    Call it before ``st.navigation``: then no page, and no link into the app, is served to anyone signed out.
    """
    section = auth_settings()
    if section is None:
        return
    if not st.user.is_logged_in:
        _sign_in_page(section)
        st.stop()
    if sign_in_expired(st.user, sign_in_hours()):
        _sign_in_page(section, expired=True)
        st.stop()
    roles = allowed_roles()
    if roles and not set(user_roles(st.user)) & set(roles):
        _refused_page(roles)
        st.stop()
    if not st.session_state.get(_RETURNED):
        st.session_state[_RETURNED] = True
        st.html(_RETURN_JS, unsafe_allow_javascript=True)


def signed_in_sidebar() -> None:
    """Who is signed in, and a sign-out button, in the sidebar of every page (nothing when sign-in is off)."""
    if auth_settings() is None or not st.user.is_logged_in:
        return
    st.sidebar.text(f"Signed in as {user_label(st.user)}")  # plain text: never Markdown, HTML or a mailto: link
    if st.sidebar.button("Sign out", key="c20_sign_out"):
        st.logout()
