"""Core20PLUS targeting: the Streamlit app. Navigation only; every page is widgets over ``geo`` and ``targeting``.

``streamlit run streamlit_app.py`` starts it. ``python streamlit_app.py [streamlit options]`` starts it too, after
warming up what the first visitor would otherwise wait for (imports, the atlas's tables, the precomputed maps),
so a link opened in a freshly started app answers at once.
"""

import os
import sys
import threading
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).parent


def _offline_assets() -> Path:
    # Leaflet comes from installed PyPI packages, copied where Streamlit's static serving finds it.
    from targeting.render.assets import install_static_assets

    return install_static_assets(ROOT / "static")


def _serve() -> None:
    """Warm up, then run the Streamlit server in this process (its sessions share what was warmed)."""
    from streamlit.web import bootstrap

    sys.path.insert(0, str(ROOT))
    from app_pages._shared import warm_up

    _offline_assets()
    warm_up()
    os.environ["CORE20_WARMED"] = "1"  # the sessions' runs of this script need not warm up again
    flags = {}
    args = sys.argv[1:]
    for i, a in enumerate(args):  # --server.port 8611 or --server.port=8611
        if a.startswith("--") and "." in a:
            key, _, value = a[2:].partition("=")
            value = value if value else args[i + 1]
            flags[key.replace(".", "_")] = {"true": True, "false": False}.get(value.lower(),
                                                                           int(value) if value.isdigit() else value)
    bootstrap.load_config_options(flag_options=flags)
    bootstrap.run(str(Path(__file__).resolve()), False, [], flags)


# `python streamlit_app.py`: this file run as a program, not by Streamlit (which sets argv[0] to it too, but with
# a runtime) nor by streamlit.testing's AppTest
if __name__ == "__main__" and not st.runtime.exists() and Path(sys.argv[0]).resolve() == Path(__file__).resolve():
    _serve()
    sys.exit(0)

# An emoji icon becomes an inline favicon; a :material/...: icon would be fetched from Google Fonts (not offline).
st.set_page_config(page_title="Core20PLUS targeting", page_icon="🗺️", layout="wide")


@st.cache_resource(show_spinner=False)
def _started() -> bool:
    _offline_assets()
    from app_pages._sessions import free_ended_sessions

    free_ended_sessions()  # a closed tab's upload and downloads go when its session can no longer resume
    from app_pages._shared import warm_up

    # under `streamlit run`, the first run warms up in the background so later pages find it done
    if not os.environ.get("CORE20_WARMED"):
        threading.Thread(target=warm_up, name="c20-warm-up", daemon=True).start()
    return True


_started()

# WCAG 2.2 AA: captions dark enough for 4.5:1 on white, and a focus ring on every control reached by keyboard.
st.markdown("""<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {
  color: #505050 !important; opacity: 1 !important; }
input::placeholder, textarea::placeholder { color: #6b6b6b !important; opacity: 1 !important; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible,
[role="button"]:focus-visible, [role="combobox"]:focus-visible, [role="slider"]:focus-visible,
[role="tab"]:focus-visible, [role="radio"]:focus-visible, [role="checkbox"]:focus-visible,
[role="switch"]:focus-visible, summary:focus-visible, [tabindex]:focus-visible, iframe:focus-visible {
  outline: 3px solid #0b0c0c !important; outline-offset: 2px !important; box-shadow: 0 0 0 5px #ffdd00 !important; }
label:has(input:focus-visible) { outline: 3px solid #0b0c0c; outline-offset: 2px; box-shadow: 0 0 0 5px #ffdd00; }
</style>""", unsafe_allow_html=True)

# Sign-in, when an [auth] section is configured (off by default): nothing below runs for anyone signed out or
# refused, so no page and no link into the app (/?icb=…) is served to them. See app_pages/_auth.py, docs/deploy.md.
from app_pages._auth import gate, signed_in_sidebar  # noqa: E402

gate()

# The start page is the default ("/"). A link into the app's root with an area in it (/?pcn=U37316, /?icb=…, as
# shared before the start page existed) opens Explore, as it always has: Explore is then the default page and the
# start page moves to /start. A link to a page by name (/explore?pcn=…, /outreach?icb=…) keeps Explore at /explore:
# a default page has no path of its own, so /explore would be "Page not found".
from urllib.parse import urlsplit  # noqa: E402

from app_pages._shared import area_from_url  # noqa: E402

_PATHS = ("start", "explore", "outreach", "compare", "core20plus5", "your_data", "methods")
_named = urlsplit(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1] in _PATHS
to_explore = area_from_url() is not None and not _named
pages = [
    st.Page("app_pages/home.py", title="Start", url_path="start", default=not to_explore),
    st.Page("app_pages/explore.py", title="Explore", url_path="explore", default=to_explore),
    st.Page("app_pages/outreach.py", title="Plan outreach", url_path="outreach"),
    st.Page("app_pages/compare.py", title="Compare places", url_path="compare"),
    st.Page("app_pages/core20plus5.py", title="Core20PLUS5", url_path="core20plus5"),
    st.Page("app_pages/your_data.py", title="Your data", url_path="your_data"),
    st.Page("app_pages/methods.py", title="Methods & sources", url_path="methods"),
]
nav = st.navigation(pages)
from app_pages._shared import month_picker  # noqa: E402 - after set_page_config, like every page's own imports

month_picker()  # the registration month, in the sidebar of every page and in the URL (?registrations=2026-07)
signed_in_sidebar()  # who is signed in, and a sign-out (when sign-in is on)
nav.run()
