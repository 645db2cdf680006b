"""The folium element that draws a payload on a folium map (the app's map); imports folium and jinja2."""

from __future__ import annotations

import jinja2
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin

from targeting.render._files import static_text, template_text

# This template is JavaScript, not HTML: HTML autoescaping would corrupt it (and streamlit-folium adds the
# macros' output to plain strings, which would escape it again). What it inserts is made safe for a <script>
# block in Python: the payload by targeting.render.payload, the scripts are the package's own files.
_ENV = jinja2.Environment(autoescape=False)


class _Raw(Element):
    """Text put into the page as it is.

    branca compiles a macro's output as a template again, so a payload holding ``{{`` (e.g. in an uploaded
    file's name) would be evaluated; this element is never compiled.
    """

    _template = jinja2.Template("{{ this.text }}")

    def __init__(self, text: str):
        super().__init__()
        self.text = text


class LsoaMap(JSCSSMixin, MacroElement):
    """The LSOA layers, overlays, layer menu and legend, drawn from one embedded payload."""

    _template = _ENV.from_string(template_text("map_element.js.j2"))

    def __init__(self, payload: str, js: list[tuple[str, str]], css: list[tuple[str, str]]):
        super().__init__()
        self._name = "LsoaMap"
        self.payload = payload
        self.css = static_text("map.css")
        self.app_js = static_text("map.js").replace("</script", "<\\/script")
        self.default_js = js
        self.default_css = css

    def render(self, **kwargs) -> None:
        """Add the scripts, the stylesheet and the map's script to the page."""
        figure = self.get_root()
        assert isinstance(figure, Figure), "the map element must be in a folium Map"
        for name, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(CssLink(url), name=name)
        mod = self._template.module
        figure.header.add_child(_Raw(str(mod.header(self, kwargs))), name=self.get_name())
        figure.script.add_child(_Raw(str(mod.script(self, kwargs))), name=self.get_name())

