"""Leaflet and Leaflet.markercluster for offline maps: copied for the app, or inlined into a standalone page.

They come from the PyPI packages ``xstatic-leaflet`` and ``xstatic-leaflet-markercluster``.
:func:`install_static_assets` copies them into the app's ``static/`` folder, which Streamlit serves at
``/app/static/``; :func:`inline_leaflet` returns them as ``<style>``/``<script>`` blocks, so a saved map opens
with no internet. No element of a map points at a CDN.
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

__all__ = ["ASSET_URL", "asset_links", "inline_leaflet", "install_static_assets"]

#: Where Streamlit serves the vendored assets (``server.enableStaticServing``; files in ``static/vendor``).
ASSET_URL = "/app/static/vendor"

_XSTATIC = {"leaflet": "xstatic.pkg.leaflet", "markercluster": "xstatic.pkg.leaflet_markercluster"}
_ASSETS = {
    "leaflet": ["leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png", "images/marker-icon.png",
                "images/marker-icon-2x.png", "images/marker-shadow.png"],
    "markercluster": ["leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"],
}


def _asset_source(pkg: str) -> Path:
    import importlib

    try:
        mod = importlib.import_module(_XSTATIC[pkg])
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise ImportError(f"the PyPI package '{_XSTATIC[pkg].replace('.pkg.', '-').replace('.', '-')}' is needed "
                          f"for offline maps: pip install -e .") from exc
    return Path(mod.BASE_DIR)


def install_static_assets(static_dir: str | Path) -> Path:
    """Copy Leaflet and Leaflet.markercluster from their installed PyPI packages into ``static_dir/vendor``.

    Files already there with the same size are left alone, so this is cheap to call at every app start.
    Returns the ``vendor`` folder.
    """
    vendor = Path(static_dir) / "vendor"
    for pkg, files in _ASSETS.items():
        src = _asset_source(pkg)
        for rel in files:
            s, d = src / rel, vendor / pkg / rel
            if d.exists() and d.stat().st_size == s.stat().st_size:
                continue
            d.parent.mkdir(parents=True, exist_ok=True)
            tmp = d.with_name(d.name + ".tmp")
            shutil.copyfile(s, tmp)
            tmp.replace(d)
    return vendor


def asset_links(base: str, cluster: bool) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, URL) of the scripts and stylesheets a map served by the app needs, under ``base``."""
    js = [("leaflet", f"{base}/leaflet/leaflet.js")]
    css = [("leaflet_css", f"{base}/leaflet/leaflet.css")]
    if cluster:
        js.append(("markerclusterjs", f"{base}/markercluster/leaflet.markercluster.js"))
        css += [("markerclustercss", f"{base}/markercluster/MarkerCluster.css"),
                ("markerclusterdefaultcss", f"{base}/markercluster/MarkerCluster.Default.css")]
    return js, css


def _inline_css(pkg: str, name: str) -> str:
    src = _asset_source(pkg)
    text = (src / name).read_text(encoding="utf-8")

    def data_uri(m: re.Match) -> str:
        p = src / m.group(1)
        if not p.exists():
            return m.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, text)


def inline_leaflet(cluster: bool) -> str:
    """Leaflet (and Leaflet.markercluster if ``cluster``) as inline ``<style>`` and ``<script>`` blocks."""
    parts = [("leaflet", "leaflet.js", ["leaflet.css"])]
    if cluster:
        parts.append(("markercluster", "leaflet.markercluster.js", ["MarkerCluster.css", "MarkerCluster.Default.css"]))
    head = []
    for pkg, js, css in parts:
        head += [f"<style>{_inline_css(pkg, c)}</style>" for c in css]
        code = (_asset_source(pkg) / js).read_text(encoding="utf-8").replace("</script", "<\\/script")
        head.append(f"<script>{code}</script>")
    return "\n".join(head)
