"""Core20PLUS targeting: the Streamlit app. Navigation only; every page is widgets over ``geo`` and ``targeting``."""

from pathlib import Path

import streamlit as st

# An emoji icon becomes an inline favicon; a :material/...: icon would be fetched from Google Fonts (not offline).
st.set_page_config(page_title="Core20PLUS targeting", page_icon="🗺️", layout="wide")


@st.cache_resource(show_spinner=False)
def _offline_assets() -> Path:
    # Leaflet comes from installed PyPI packages, copied where Streamlit's static serving finds it.
    from targeting.render.assets import install_static_assets

    return install_static_assets(Path(__file__).parent / "static")


_offline_assets()

pages = [
    st.Page("app_pages/explore.py", title="Explore", default=True),
    st.Page("app_pages/outreach.py", title="Plan outreach", url_path="outreach"),
    st.Page("app_pages/compare.py", title="Compare places", url_path="compare"),
    st.Page("app_pages/core20plus5.py", title="Core20PLUS5", url_path="core20plus5"),
    st.Page("app_pages/your_data.py", title="Your data", url_path="your_data"),
    st.Page("app_pages/methods.py", title="Methods & sources", url_path="methods"),
]
st.navigation(pages).run()
