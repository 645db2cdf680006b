"""The map page: a folium map for the app (drawn by streamlit-folium) and a standalone HTML file for ``map``.

Both draw one payload (:func:`targeting.render.payload.map_payload`) with the same script,
``static/map.js`` (``c20Map(map, payload)``), and the same stylesheet, ``static/map.css``. The app's map links
Leaflet from the app's own static files; the standalone page inlines Leaflet, so it opens from disk with no
internet.

The standalone page is filled from ``templates/map_page.html`` by plain substitution rather than jinja2, so the
``map`` command imports neither folium nor jinja2. What goes in is safe by construction: the title is
HTML-escaped, the payload is JSON made safe for a ``<script>`` block, and the scripts are the package's own files.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from targeting.render._files import static_text, template_text
from targeting.render.assets import ASSET_URL, asset_links, inline_leaflet

if TYPE_CHECKING:
    import folium

__all__ = ["build_map", "standalone_html"]

_SLOT = re.compile(r"<!--c20:(\w+)-->")


def _has_practices(payload: str) -> bool:
    return '"practices":' in payload


def build_map(
    payload: str, *, basemap: bool = False, asset_url: str = ASSET_URL, height: int | str = 620
) -> folium.Map:
    """A folium map drawing a payload, with every script and stylesheet served by the app itself.

    Parameters
    ----------
    payload
        From :func:`targeting.render.payload.map_payload`.
    basemap
        Add OpenStreetMap tiles underneath (needs internet; the map draws fully without them).
    asset_url
        URL prefix of the vendored Leaflet files (see :func:`targeting.render.assets.install_static_assets`).
    height
        Map height in pixels (or a CSS length such as ``"100%"``).
    """
    import folium

    from targeting.render._element import LsoaMap

    m = folium.Map(location=[52.5, -1.5], zoom_start=7, tiles=None, control_scale=True, height=height,
                   prefer_canvas=False)
    js, css = asset_links(asset_url, _has_practices(payload))
    # folium's own defaults point at CDNs (jQuery, Bootstrap, awesome-markers); none are needed here.
    m.default_js = js[:1]
    m.default_css = css[:1]
    if basemap:
        folium.TileLayer("OpenStreetMap", attr="© OpenStreetMap contributors", name="Basemap").add_to(m)
    LsoaMap(payload, js, css).add_to(m)
    return m


def standalone_html(payload: str, *, title: str = "Core20PLUS map", basemap: bool = False) -> str:
    """The whole map as one HTML file with Leaflet inlined: it opens from disk with no internet.

    Parameters
    ----------
    payload
        From :func:`targeting.render.payload.map_payload`.
    title
        The page title (escaped).
    basemap
        Add OpenStreetMap tiles underneath (they need internet; the map draws fully without them).
    """
    values = {"title": html.escape(title), "leaflet": inline_leaflet(_has_practices(payload)),
              "css": static_text("map.css"), "js": static_text("map.js").replace("</script", "<\\/script"),
              "basemap": "true" if basemap else "false", "payload": payload}
    # one pass, so nothing substituted is scanned again for slots
    return _SLOT.sub(lambda m: values[m.group(1)], template_text("map_page.html"))
