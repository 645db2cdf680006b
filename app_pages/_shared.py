"""Widgets and caches shared by the pages: the atlas, the one search box, the area in the URL, PLUS controls.

Only widgets and caching live here; every figure is computed by ``geo`` and ``targeting``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from targeting.scope import Scope

AREA_KINDS = ("icb", "pcn", "lad", "practice")
KIND_WORDS = {"icb": "ICB", "pcn": "PCN", "lad": "Local authority", "practice": "Practice"}


def plain_md(text: object) -> str:
    """Text safe inside Streamlit's Markdown (st.error, st.success…): shown as typed, never as Markdown or HTML.

    Every Markdown punctuation character is backslash-escaped and ``<``/``>`` become entities, so a file's
    column called ``![x](http://…)`` cannot make the browser fetch an image, nor ``<b>`` turn bold.
    """
    import re

    from geo._errors import plain

    s = plain(text, 2000, newlines=True)
    s = re.sub(r"([\\`*_{}\[\]()#+\-.!|~:$])", r"\\\1", s)
    return s.replace("<", "&lt;").replace(">", "&gt;")


def nice(name: str) -> str:
    """NHS Digital's upper-case names in title case, keeping acronyms (PCN, GP, NHS, SWB…)."""
    from targeting.areas import display_name

    return display_name(name)


@dataclass(frozen=True)
class Chosen:
    kind: str
    code: str
    name: str
    icb_nhs: str


# --------------------------------------------------------------------------------------------
# the registration month: a sidebar choice kept in the URL (?registrations=2026-07); every cache is keyed by it
# --------------------------------------------------------------------------------------------
MONTH_KEY = "registrations"


@st.cache_data(show_spinner=False, ttl=60)
def months_held() -> tuple[list[str], str]:
    """(the months the built atlas holds, oldest first; the default month)."""
    from geo.months import months_built

    return months_built()


def current_month() -> str:
    """The registration month the pages describe: the sidebar's choice, else the URL's, else the default."""
    held, default = months_held()
    chosen = st.session_state.get(MONTH_KEY) or str(st.query_params.get(MONTH_KEY, "") or "")
    return chosen if chosen in held else default


def month_picker() -> str:
    """The sidebar's registration month, read from and written to the URL; returns ``YYYY-MM``."""
    from geo.months import month_title

    held, default = months_held()
    url = str(st.query_params.get(MONTH_KEY, "") or "")
    if MONTH_KEY not in st.session_state:
        st.session_state[MONTH_KEY] = url if url in held else default
    month = st.sidebar.selectbox(
        "NHS as of (registration month)", held[::-1], key=MONTH_KEY, format_func=month_title,
        help="Practices, PCNs, ICBs and list sizes of this month. Where patients live comes from the newest "
             "GP registrations by LSOA; the source line of every figure names both months.")
    if url and url not in held:
        st.sidebar.warning(f"No registrations for {plain_md(url)}: showing {month_title(month)}.")
    if url != month:
        st.query_params[MONTH_KEY] = month
    said = get_tables().month.statement
    st.sidebar.caption(said[:1].upper() + said[1:] + ".")
    return month


@st.cache_resource(show_spinner="Loading the national atlas…", max_entries=4)
def _atlas(month: str):
    from geo.atlas import load

    return load(progress=False, registrations=month)


@st.cache_resource(show_spinner=False, max_entries=4)
def _tables(month: str):
    from geo.atlas import load

    return load(progress=False, geometry=False, registrations=month)


@st.cache_resource(show_spinner="Preparing the maps of every ICB (once, after a new build)…", max_entries=4)
def _answers(month: str):
    from targeting.precompute import open_answers

    return open_answers(build_if_missing=True, registrations=month)


def get_atlas():
    """The atlas with its polygons (plans and uploads draw from it), of the chosen registration month."""
    return _atlas(current_month())


def get_tables():
    """The atlas without polygons (names, codes, figures; each table read on first use), of the chosen month."""
    return _tables(current_month())


def get_answers():
    """The answers precomputed at build (every ICB's map, default profiles) of the chosen month; made if missing."""
    return _answers(current_month())


def scope(imd: int, kind: str | None = None, code: str | None = None, plus_spec: tuple | None = None, *,
          geometry: bool = False) -> Scope:
    """The page's question, resolved once: the chosen month, an IMD edition, an area and the PLUS choices.

    Raises LookupError for an unknown area. Every cached figure below is keyed by the scope's ``key``.
    """
    return _scope(current_month(), int(imd), kind, code, plus_spec, geometry)


@st.cache_resource(show_spinner=False, max_entries=256)
def _scope(month: str, imd: int, kind: str | None, code: str | None, plus_spec: tuple | None,
           geometry: bool) -> Scope:
    from targeting.scope import make_scope

    rules, combine = plus_rules(plus_spec) if plus_spec is not None else (None, "any")
    area = _area_of(month, kind, code) if kind is not None and code is not None else None
    return make_scope(_atlas(month) if geometry else _tables(month), imd=imd, area=area,
                      plus_rules=None if rules is None else tuple(rules), plus_combine=combine)


def _scope_key(s: Scope) -> str:
    return s.key


#: st.cache_data hashes a Scope by its key
BY_SCOPE = {Scope: _scope_key}


def warm_up() -> None:
    """What the first visitor would otherwise wait for: imports, the atlas's tables and the precomputed answers.

    Run at server start by ``python streamlit_app.py`` (and in the background on a first run under
    ``streamlit run``).
    """
    # folium (streamlit-folium's weight) and the map's template; streamlit_folium itself registers its
    # component only inside a script run, so the first page imports it (then in milliseconds)
    import folium.plugins  # noqa: F401 - the import itself is the work

    # Streamlit's own first-run costs, paid here rather than by the first visitor: the emoji catalogue behind the
    # page icon (a large regex, ~0.4 s), and its once-per-process check for a REPL on the first element
    # (inspect.stack() from a deep server thread, ~0.25 s), which only prints for bare `python` runs
    import streamlit.delta_generator as dg
    import streamlit.emojis  # noqa: F401

    if hasattr(dg, "_use_warning_has_been_displayed"):
        dg._use_warning_has_been_displayed = True

    from geo.months import chosen_month
    from targeting import area_maps  # noqa: F401
    from targeting.render import _element, page  # noqa: F401

    month = chosen_month()
    t = _tables(month)
    for name in ("icbs", "pcns", "practices", "lsoa21"):
        getattr(t, name)
    _answers(month)


def search_areas(text: str) -> pd.DataFrame:
    return _search_areas(current_month(), text)


@st.cache_data(show_spinner=False, max_entries=200)
def _search_areas(month: str, text: str) -> pd.DataFrame:
    from targeting.areas import search

    return search(_tables(month), text, limit=40)


def resolve(kind: str, code: str) -> Chosen:
    """Name and ICB of an area from the URL (raises LookupError for an unknown code)."""
    return _resolve(current_month(), kind, code)


def _resolve(month: str, kind: str, code: str) -> Chosen:
    area = _area_of(month, kind, code)
    return Chosen(area.kind, area.code, area.name, str(area.icb_code_nhs))


@st.cache_resource(show_spinner=False, max_entries=400)
def _area_of(month: str, kind: str, code: str) -> Any:
    """The one resolution of an area the URL or a search gave, per month (the scopes reuse it)."""
    from targeting.areas import resolve_area

    return resolve_area(_tables(month), kind, code)


def area_from_url() -> tuple[str, str] | None:
    for kind in AREA_KINDS:
        value = st.query_params.get(kind)
        if value:
            return kind, str(value)
    return None


def set_area(kind: str, code: str) -> None:
    for k in AREA_KINDS:
        if k in st.query_params and k != kind:
            del st.query_params[k]
    st.query_params[kind] = code


_SEARCHED = "_c20_searched"  # (text, choice) of a search that picked an area, for the page the pick opens


def area_picker(*, key: str = "search", kinds: tuple[str, ...] = AREA_KINDS) -> Chosen | None:
    """The one search box. The chosen area goes into the URL (``?icb=…``, ``?pcn=…``, ``?lad=…``, ``?practice=…``)."""
    carried = st.session_state.pop(_SEARCHED, None)  # a pick on the start page opens Explore: keep the search
    if carried:
        st.session_state[key], st.session_state[f"{key}_pick"] = carried
    text = st.text_input("Find an ICB, local authority, PCN or practice",
                         placeholder="part of a name or a code, e.g. Birmingham, E54000055, QHL, U79433, M85110",
                         key=key)
    if text and text.strip():
        res = search_areas(text.strip())
        res = res[res["kind"].isin(kinds)]
        if res.empty:
            st.warning(f"Nothing matches “{text}”. Try part of the name (e.g. 'Solihull') or a code.")
        else:
            labels = res["label"].tolist()
            pick = st.selectbox(f"{len(res)} match{'es' if len(res) != 1 else ''} — choose one", labels,
                                index=0 if len(res) == 1 else None, placeholder="Choose an area",
                                key=f"{key}_pick")
            if pick is not None:
                row = res[res["label"] == pick].iloc[0]
                if area_from_url() != (row["kind"], row["code"]):
                    set_area(str(row["kind"]), str(row["code"]))
                    st.session_state[_SEARCHED] = (text, pick)
                    st.rerun()
    found = area_from_url()
    if found is None:
        return None
    if found[0] not in kinds:
        st.info(f"This page works on {', '.join(KIND_WORDS[k] for k in kinds)}: search for one above.")
        return None
    try:
        return resolve(*found)
    except LookupError as exc:
        st.error(f"{exc.args[0] if exc.args else exc} Search for the area above instead.")
        return None


# --------------------------------------------------------------------------------------------
# PLUS
# --------------------------------------------------------------------------------------------
def plus_controls(*, key: str = "plus") -> tuple:
    """PLUS rule choices as a hashable spec: (groups, measures, mode, cut, combine)."""
    from targeting.plus import CENSUS_MEASURES, ENGLAND_MINORITY_PCT, ETHNIC_GROUPS

    with st.expander("PLUS groups (chosen locally)", expanded=False):
        groups = st.multiselect("Ethnic groups (Census 2021)", list(ETHNIC_GROUPS), default=["minority"],
                                format_func=lambda k: ETHNIC_GROUPS[k], key=f"{key}_groups")
        measures = st.multiselect("Other Census 2021 measures", list(CENSUS_MEASURES), default=[],
                                  format_func=lambda k: CENSUS_MEASURES[k][2], key=f"{key}_measures")
        mode = st.radio("Cut", ["share", "top"], horizontal=True, key=f"{key}_mode",
                        format_func=lambda m: "share at least" if m == "share" else "top % of the area's LSOAs")
        if mode == "share":
            cut = st.number_input("Share of residents or households (%)", 0.0, 100.0, float(ENGLAND_MINORITY_PCT),
                                  step=1.0, key=f"{key}_share",
                                  help="18.95% is England's share of residents from ethnic minority communities.")
        else:
            cut = st.number_input("Top % of LSOAs", 1.0, 100.0, 20.0, step=5.0, key=f"{key}_top")
        combine = st.radio("Combine", ["any", "all"], horizontal=True, key=f"{key}_combine",
                           format_func=lambda c: "any rule (OR)" if c == "any" else "all rules (AND)")
    return tuple(groups), tuple(measures), mode, float(cut), combine


def plus_rules(spec: tuple) -> tuple[Any, str]:
    from targeting.plus import CensusMeasureRule, EthnicGroupRule

    groups, measures, mode, cut, combine = spec
    kw = {"threshold_pct": cut} if mode == "share" else {"top_pct": cut}
    rules = [EthnicGroupRule(g, **kw) for g in groups] + [CensusMeasureRule(m, **kw) for m in measures]
    return rules, combine


# --------------------------------------------------------------------------------------------
# maps
# --------------------------------------------------------------------------------------------
def area_map_payload(kind: str, code: str, imd: int, plus_spec: tuple, with_gaps: bool = True,
                     initial: str | None = None, connectors: int = 0) -> tuple[str, str]:
    """(payload JSON, area name) of the Explore map for an area, cached per month, area and settings."""
    return _area_map_payload(scope(imd, kind, code, plus_spec), with_gaps, initial, connectors)


@st.cache_data(show_spinner="Preparing the map…", max_entries=32, hash_funcs=BY_SCOPE)
def _area_map_payload(s: Scope, with_gaps: bool, initial: str | None, connectors: int) -> tuple[str, str]:
    from targeting.area_maps import area_map

    made = area_map(s, gaps=with_gaps, initial=initial, connectors=connectors, store=_answers(s.month.month))
    return made.payload, made.name


def source_caption(*parts: str) -> None:
    """The source line under a figure; "July 2022" in it is replaced by the chosen month's own months."""
    month = get_tables().month
    st.caption("Source: " + " · ".join(month.relabel(p) for p in parts))


def _area(**given: str | None) -> tuple[str | None, str | None]:
    """(kind, code) of the one area given by keyword (``icb=…``, ``pcn=…``, ``practice=…``), or (None, None)."""
    return next(((k, v) for k, v in given.items() if v), (None, None))


def pcn_profiles(imd: int, plus_spec: tuple, icb: str | None = None, pcn: str | None = None) -> pd.DataFrame:
    return _pcn_profiles(scope(imd, *_area(pcn=pcn, icb=icb), plus_spec), _is_default_spec(plus_spec))


@st.cache_data(show_spinner="Profiling practices and PCNs…", max_entries=64, hash_funcs=BY_SCOPE)
def _pcn_profiles(s: Scope, default: bool) -> pd.DataFrame:
    from targeting.profiles import pcn_profiles as _pcn

    if default:
        stored = _answers(s.month.month).profiles("pcns", s)
        if stored is not None:
            return stored
    return _pcn(s)


def practice_profiles(imd: int, plus_spec: tuple, pcn: str | None = None, practice: str | None = None,
                      icb: str | None = None) -> pd.DataFrame:
    return _practice_profiles(scope(imd, *_area(practice=practice, pcn=pcn, icb=icb), plus_spec),
                              _is_default_spec(plus_spec))


@st.cache_data(show_spinner="Profiling practices…", max_entries=64, hash_funcs=BY_SCOPE)
def _practice_profiles(s: Scope, default: bool) -> pd.DataFrame:
    from targeting.profiles import practice_profiles as _prac

    if default and s.area is not None and s.area.kind == "pcn":
        stored = _answers(s.month.month).profiles("practices", s)
        if stored is not None:
            return stored
    return _prac(s)


def change_csv(icb: str, level: str) -> tuple[pd.DataFrame, str]:
    """The Core20 change table of an ICB (``targeting.change.change_table``) and the CSV the command line prints."""
    return _change_csv(scope(2025, "icb", icb), level)


@st.cache_data(show_spinner="Comparing IoD 2019 and IoD 2025…", max_entries=32, hash_funcs=BY_SCOPE)
def _change_csv(s: Scope, level: str) -> tuple[pd.DataFrame, str]:
    from targeting.change import change_table
    from targeting.publish import table_csv

    table = change_table(s, level=level)
    return table, table_csv(table)


def _is_default_spec(plus_spec: tuple) -> bool:
    from targeting.plus import DEFAULT_PLUS_RULES

    rules, combine = plus_rules(plus_spec)
    return combine == "any" and tuple(rules) == DEFAULT_PLUS_RULES


def pct_ci(row: pd.Series, col: str) -> str:
    """"41.2% (95% CI 40.8–41.6)" from a profile row."""
    v, lo, hi = row.get(col), row.get(f"{col}_lower"), row.get(f"{col}_upper")
    if v is None or pd.isna(v):
        return "no data"
    return f"{v:.1f}% (95% CI {lo:.1f}–{hi:.1f})"


# --------------------------------------------------------------------------------------------
# settings kept in the page address, so a shared link reopens on them
# --------------------------------------------------------------------------------------------
def edition_radio(label: str, *, key: str, help: str | None = None) -> int:
    """The IMD edition radio, read from and written to the URL (``?imd=2019``)."""
    url = str(st.query_params.get("imd", ""))
    if key not in st.session_state and url in ("2019", "2025"):
        st.session_state[key] = int(url)
    imd = int(st.radio(label, [2025, 2019], horizontal=True, key=key, help=help))
    if url != str(imd):
        st.query_params["imd"] = str(imd)
    return imd


# --------------------------------------------------------------------------------------------
# PCN and practice panels
# --------------------------------------------------------------------------------------------
def _gap_table(kind: str, code: str, imd: int) -> pd.DataFrame:
    return _gap_table_of(scope(imd, kind, code, geometry=True))


@st.cache_data(show_spinner="Measuring the gaps…", max_entries=64, hash_funcs=BY_SCOPE)
def _gap_table_of(s: Scope) -> pd.DataFrame:
    from targeting.panels import gap_table

    return gap_table(s)


def md_cell(text: object) -> str:
    """Text for a Markdown table cell: HTML-escaped, with the pipe escaped."""
    import html

    return html.escape(str(text)).replace("|", "\\|")


def _fmt(v: float, unit: str) -> str:
    if v is None or pd.isna(v):
        return "–"
    if unit.startswith("people") or unit.startswith("metres"):
        return f"{v:,.0f}"
    if unit.startswith("ratio") or unit.startswith("share of"):
        return f"{v:.2f}"
    return f"{v:+.1f}" if unit.startswith("% above") else f"{v:.1f}"


def gap_figures(kind: str, code: str, imd: int) -> None:
    """A PCN's or a practice's gaps as a table: each figure with its 95% interval, the ICB and England."""
    try:
        t = _gap_table(kind, code, imd)
    except (LookupError, ValueError) as exc:
        st.caption(f"Gaps unavailable: {exc}")
        return
    if t.empty:
        st.caption("No gap figures: its practices have no QOF 2022-23 data.")
        return
    def cell(v: float, u: str, vs: str | None = None) -> str:
        return _fmt(v, u) + (f" ({vs})" if vs and vs != "not compared" and pd.notna(v) else "")

    lines = ["| Measure (unit) | Value (95% interval) | ICB | England |", "|:--|--:|--:|--:|"]
    for _, r in t.iterrows():
        ci = f" ({_fmt(r['lower'], r['unit'])} to {_fmt(r['upper'], r['unit'])})" if pd.notna(r["lower"]) else ""
        lines.append(f"| {md_cell(r['measure'])} ({md_cell(r['unit'])}) | **{_fmt(r['value'], r['unit'])}**{ci} | "
                     f"{cell(r['icb'], r['unit'], r['vs_icb'])} | {cell(r['england'], r['unit'], r['vs_england'])} |")
    st.markdown("**Gaps** (figures with 95% intervals, beside the ICB and England; the same figures as "
                f"`python -m targeting {'pcns' if kind == 'pcn' else 'practices'}`)")
    st.markdown("\n".join(lines))  # a real table that wraps: nothing is cut off at any width
    st.caption("In brackets: 'higher'/'lower' when the 95% interval excludes the ICB's or England's value, 'similar' "
               "when it does not. Notes: "
               + " ".join(f"{m}: {n}." for m, n in zip(t["measure"], t["note"], strict=True) if n))
    source_caption("QOF 2022-23 and NHS Digital registrations July 2022", "PHE 2016 hypertension estimates",
                   f"IMD {imd} (MHCLG)", "Census 2021 (ONS)", "Code-Point Open 2025 (OS)")


def footprint_lsoas(pcn: str, imd: int) -> set[str]:
    """The LSOAs of a PCN's indicative footprint (LSOA 2011 for IMD 2019, LSOA 2021 for 2025)."""
    return _footprint_lsoas(scope(imd, geometry=True), pcn)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=BY_SCOPE)
def _footprint_lsoas(s: Scope, pcn: str) -> set[str]:
    from targeting.footprints import pcn_footprints

    fp = pcn_footprints(s.edition)
    return set(fp.loc[fp["pcn_code"] == pcn, "lsoa_code"])


def aged_40_74(r: pd.Series) -> None:
    """Registered patients aged 40–74 (the month's list sizes by age) beside the residents' estimate, if known."""
    if "registered_40_74" not in r or pd.isna(r.get("registered_40_74")):
        return
    st.write(f"Aged 40–74 (NHS Health Check ages): {int(r['registered_40_74']):,} registered "
             f"({get_tables().month.title} list sizes by age); about {int(r['residents_40_74_est']):,} residents "
             "(Census 2021, shared among the practices their neighbours are registered with).")


def practice_panel(code: str, imd: int, spec: tuple) -> None:
    """A practice's panel: patients, Core20 with its interval, PLUS, ethnic mix and its PCN."""
    try:
        prof = practice_profiles(imd, spec, practice=code)
    except LookupError as exc:
        st.error(str(exc.args[0] if exc.args else exc))
        return
    if prof.empty:
        return
    r = prof.iloc[0]
    st.markdown(f"#### {nice(r['practice_name'])} ({code})")
    pcn = f"**{nice(r['pcn_name'])}** ({r['pcn_code']})" if pd.notna(r["pcn_name"]) else "none (not in a PCN)"
    st.write(f"PCN: {pcn} · {r['icb_name']}")
    st.metric(f"Registered patients ({get_tables().month.title})", f"{int(r['registered_patients']):,}")
    aged_40_74(r)
    st.write(f"Living in Core20 LSOAs: {pct_ci(r, 'core20_pct')}; ICB {r['core20_pct_icb']:.1f}%, "
             f"England {r['core20_pct_england']:.1f}%")
    st.write(f"Living in PLUS LSOAs: {pct_ci(r, 'plus_pct')}; ICB {r['plus_pct_icb']:.1f}%, "
             f"England {r['plus_pct_england']:.1f}%")
    st.write(f"Ethnic minority communities (estimated from where patients live): {pct_ci(r, 'pct_minority')}; "
             f"ICB {r['pct_minority_icb']:.1f}%, England {r['pct_minority_england']:.1f}%")
    mix = {"Asian": "pct_asian", "Black": "pct_black", "Mixed": "pct_mixed", "White": "pct_white",
           "Other": "pct_other"}
    st.write("Ethnic mix (estimated): " + ", ".join(f"{k} {r[c]:.1f}%" for k, c in mix.items()))
    st.write(f"IMD {imd} score (registration-weighted): {r['weighted_imd_score']:.1f}; ICB "
             f"{r['weighted_imd_score_icb']:.1f}, England {r['weighted_imd_score_england']:.1f}")
    source_caption(f"NHS Digital registrations July 2022; IMD {imd} (MHCLG); Census 2021 (ONS)")

