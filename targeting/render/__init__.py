"""Rendering: the map page, the printable visit sheets and their assets (HTML templates, JavaScript, CSS).

The domain (``targeting``) computes layers and plans; this subpackage turns them into pages. Templates and
scripts are real files under ``templates/`` and ``static/``, read with :mod:`importlib.resources` and shipped as
package data. Modules here import their heavy libraries (folium, jinja2) only where a page needs them, so a
command that writes a standalone map stays light.
"""
