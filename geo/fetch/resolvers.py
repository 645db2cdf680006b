"""Find the newest edition of each publisher's files on its own page (or API): :func:`resolve_latest`."""

from __future__ import annotations

import os
import re
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import PurePosixPath

from geo.fetch.http import _FetchError, _get_body, _pause

#: The publishers' own pages (and ODS's report API) the ``--latest`` resolvers read. ``CORE20_URL_<NAME>`` (name
#: upper-cased, e.g. ``CORE20_URL_GP_REG_PAGE``) overrides one, as ``CORE20_URL_<KEY>`` does a catalogued file.
LANDING_PAGES: dict[str, str] = {
    "gp_reg_page": "https://digital.nhs.uk/data-and-information/publications/statistical/"
                   "patients-registered-at-a-gp-practice",
    "qof_page": "https://digital.nhs.uk/data-and-information/publications/statistical/"
                "quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data",
    "ods_api": "https://www.odsdatasearchandexport.nhs.uk/api/getReport",
}
#: The resolvers, in the order they run, and the landing page each reads.
RESOLVERS: dict[str, str] = {"gp_registrations": "gp_reg_page", "qof": "qof_page", "ods": "ods_api"}
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_MONTH_SLUG = re.compile(r"/(" + "|".join(_MONTH_NAMES) + r")-(\d{4})/?$")
_YEAR_SLUG = re.compile(r"/(\d{4})-(\d{2})/?$")
_MONTH_PAGES = 6  # month pages read for the newest practice map and quin-age (a placeholder page is skipped)
_LSOA_PAGES = 9  # month pages read back for the newest LSOA-level file (published each quarter)
_YEAR_PAGES = 3  # QOF year pages read for the newest raw-data zip
_PAGE_LIMIT = 10_000_000  # bytes of a landing page read at most
#: Which file of a month page is which kind (``geo.months.KINDS``), by its name.
_GP_FILES = {
    "map": re.compile(r"^gp-reg-pat-prac-map[\w.-]*\.(zip|csv)$"),
    "quin_age": re.compile(r"^gp-reg-pat-prac-quin-age[\w.-]*\.(zip|csv)$"),
    "lsoa": re.compile(r"^gp-reg-pat-prac-lsoa(?![\w.-]*-(?:fe)?male\.csv$)[\w.-]*\.(zip|csv)$"),
}
#: The manifest's name of each kind of newer edition (``<name>@<edition>``).
_MANIFEST_NAME = {"map": "gp_reg_map", "quin_age": "gp_reg_quin_age", "lsoa": "gp_reg_lsoa", "qof": "qof_prevalence",
                  "epraccur": "epraccur", "epcn": "epcn"}
_QOF_ZIP = re.compile(r"^qof[ _-]?(?:20)?(\d{2})-?(\d{2})(?!\d)[^/]*\.zip$")


@dataclass(frozen=True)
class Release:
    """One file of the newest edition a resolver found on its publisher's page.

    Attributes
    ----------
    resolver
        ``gp_registrations``, ``qof`` or ``ods``.
    kind
        ``map``, ``quin_age``, ``lsoa`` (a registration month's files, :data:`geo.months.KINDS`), ``qof``,
        ``epraccur`` or ``epcn``.
    edition
        ``YYYY-MM`` (a registration month; for the ODS reports, made on request, the month of the request) or
        ``YYYY-YY`` (a QOF year).
    title
        The edition in words, e.g. ``July 2026`` or ``QOF 2024-25``.
    url
        The file to download (for ``epcn`` the first of its two reports).
    relpath
        Where it is saved in the raw-data folder (the names :func:`geo.months.discover` finds).
    page
        The page (or API) it was found on.
    parts
        ``(member, url)`` of reports saved together in one zip (the ODS ``epcn`` and ``epcncorepartnerdetails``).
    """

    resolver: str
    kind: str
    edition: str
    title: str
    url: str
    relpath: str
    page: str
    parts: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """The manifest key: the kind and the edition, e.g. ``gp_reg_map@2026-07`` or ``qof_prevalence@2024-25``."""
        return f"{_MANIFEST_NAME[self.kind]}@{self.edition}"


@dataclass(frozen=True)
class Resolved:
    """What one resolver found: the newest edition's files, or the one-line reason it could not tell.

    Attributes
    ----------
    resolver
        Its name (a key of :data:`RESOLVERS`).
    page
        The landing page or API it read.
    editions
        The files of the newest edition (empty on failure).
    problem
        None, or what went wrong, naming the page.
    notes
        Things worth saying that are not failures (a month page skipped, no LSOA-level file lately…).
    """

    resolver: str
    page: str
    editions: tuple[Release, ...] = ()
    problem: str | None = None
    notes: tuple[str, ...] = ()


def landing_url(name: str) -> str:
    """Return the URL of a landing page of :data:`LANDING_PAGES`, honouring ``CORE20_URL_<NAME>``."""
    return os.environ.get(f"CORE20_URL_{name.upper()}", LANDING_PAGES[name])


def resolve_latest(names: list[str] | None = None, *, timeout: float = 60, retries: int = 2,
                   deadline: float = 300.0, today: datetime | None = None) -> list[Resolved]:
    """Read each publisher's own page (or API) and name the files of its newest edition.

    Parameters
    ----------
    names
        Resolvers to run (keys of :data:`RESOLVERS`); all if None.
    timeout
        Seconds to wait for a server to connect or send more data.
    retries
        Extra attempts at a page after a failure that might be transient.
    deadline
        Seconds allowed for each resolver's pages in all.
    today
        The date an ODS report is made on (now, UTC, if None).

    Returns
    -------
    list[Resolved]
        One per resolver. An unreachable publisher or a page of another shape gives ``problem`` (one line naming
        the page); it never raises.

    Raises
    ------
    ValueError
        If a name is not a resolver.
    """
    names = _resolver_names(names)
    out = []
    for name in names:
        page = landing_url(RESOLVERS[name])
        ends = time.monotonic() + deadline
        try:
            if name == "gp_registrations":
                out.append(_resolve_gp(page, timeout, retries, ends, today or datetime.now(UTC)))
            elif name == "qof":
                out.append(_resolve_qof(page, timeout, retries, ends))
            else:
                out.append(_resolve_ods(page, today or datetime.now(UTC)))
        except _FetchError as exc:
            out.append(Resolved(name, page, problem=str(exc)))
    return out


def _resolver_names(names: list[str] | None) -> list[str]:
    if not names:
        return list(RESOLVERS)
    unknown = [n for n in names if n not in RESOLVERS]
    if unknown:
        raise ValueError(f"unknown resolver(s) {', '.join(unknown)}; known: {', '.join(RESOLVERS)}")
    return list(dict.fromkeys(names))


class _Links(HTMLParser):
    """Collects the ``href`` of every ``<a>`` of a page, in order, but those of its upcoming publications.

    A digital.nhs.uk series page lists its next publications, not yet out, as links too, in an element marked
    ``data-uipath="ps.series.publications-list.upcoming"`` (the site's series template); they are passed over.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self._skip: tuple[str, int] | None = None  # (tag, depth) of the upcoming list being passed over

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip is not None:
            if tag == self._skip[0]:
                self._skip = (tag, self._skip[1] + 1)
            return
        if any(k == "data-uipath" and v and "upcoming" in v for k, v in attrs):
            self._skip = (tag, 1)
        elif tag == "a":
            self.hrefs += [v.strip() for k, v in attrs if k == "href" and v and v.strip()]

    def handle_endtag(self, tag: str) -> None:
        if self._skip is not None and tag == self._skip[0]:
            self._skip = None if self._skip[1] == 1 else (tag, self._skip[1] - 1)


def _page_links(url: str, timeout: float, retries: int, ends: float) -> list[str]:
    """The absolute URLs a page links to, read with retries; an unreachable page is a :class:`_FetchError`."""
    attempt = 0
    while True:
        try:
            body = _get_body(url, timeout, ends, limit=_PAGE_LIMIT)
            break
        except _FetchError as exc:
            if exc.retry and attempt < retries and time.monotonic() < ends:
                _pause(attempt)
                attempt += 1
                continue
            if str(exc).startswith("HTTP "):  # the server answered: the page is missing or failing
                raise _FetchError(f"the publisher answered {exc} for {url}") from None
            raise _FetchError(f"could not reach the publisher: {exc} — {url}") from None
    parser = _Links()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except Exception as exc:  # html.parser is lenient; anything it still raises is a page of another kind
        raise _FetchError(f"{url} is not an HTML page ({type(exc).__name__}: {exc})") from None
    return [urllib.parse.urljoin(url, h) for h in parser.hrefs]


def _below(links: list[str], page: str, slug: re.Pattern[str]) -> dict[tuple[int, int], str]:
    """Links to pages just below ``page`` whose last part matches ``slug``, by the two numbers it gives."""
    base = urllib.parse.urlsplit(page).path.rstrip("/")
    found: dict[tuple[int, int], str] = {}
    for link in links:
        path = urllib.parse.urlsplit(link).path
        if not path.startswith(base + "/"):
            continue
        m = slug.search(path[len(base):])
        if m is None or m.start() != 0:
            continue
        a, b = m.groups()
        key = (int(b), _MONTH_NAMES.index(a) + 1) if a in _MONTH_NAMES else (int(a), int(b))
        found.setdefault(key, urllib.parse.urldefrag(link).url)
    return found


def _file_name(url: str) -> str:
    return PurePosixPath(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name.lower()


def _gp_files(links: list[str]) -> dict[str, str]:
    """The map, quin-age and LSOA-level file links of a month page (LSOA 2021 preferred, then the zip)."""
    out: dict[str, str] = {}
    for kind, pattern in _GP_FILES.items():
        hits = [u for u in dict.fromkeys(links) if pattern.match(_file_name(u))]
        if kind == "lsoa":
            hits.sort(key=lambda u: ("2021" not in _file_name(u), "2011" in _file_name(u),
                                     not _file_name(u).endswith(".zip")))
        if hits:
            out[kind] = hits[0]
    return out


def _resolve_gp(page: str, timeout: float, retries: int, ends: float, today: datetime) -> Resolved:
    """The newest month's practice map and quin-age, and the newest LSOA-level file, from the series page."""
    from geo.months import month_relpath, month_title

    months = _below(_page_links(page, timeout, retries, ends), page, _MONTH_SLUG)
    months = {k: v for k, v in months.items() if k <= (today.year, today.month)}  # no month to come
    if not months:
        raise _FetchError(f"no link to a month's publication (…/patients-registered-at-a-gp-practice/<month>-<year>)"
                          f" on {page}")
    chosen: dict[str, tuple[str, str, str]] = {}  # kind -> (month, url, month page)
    notes: list[str] = []
    for i, (y, m) in enumerate(sorted(months, reverse=True)[:_LSOA_PAGES]):
        if ("map" in chosen and "lsoa" in chosen) or (i >= _MONTH_PAGES and "map" not in chosen):
            break
        month, url = f"{y}-{m:02d}", months[(y, m)]
        try:
            files = _gp_files(_page_links(url, timeout, retries, ends))
        except _FetchError as exc:
            notes.append(f"{month_title(month)} skipped: {exc}")
            continue
        if "map" not in chosen:
            if "map" in files and "quin_age" in files:
                for kind in ("map", "quin_age"):
                    chosen[kind] = (month, files[kind], url)
            else:
                notes.append(f"{month_title(month)} skipped: its page has no practice map and quin-age links yet")
                continue
        if "lsoa" not in chosen and "lsoa" in files:
            chosen["lsoa"] = (month, files["lsoa"], url)
    if "map" not in chosen:
        raise _FetchError(f"none of the newest {_MONTH_PAGES} month pages linked from {page} has a practice map "
                          "(gp-reg-pat-prac-map) and a quin-age file (gp-reg-pat-prac-quin-age); "
                          + "; ".join(notes))
    if "lsoa" not in chosen:
        notes.append(f"no LSOA-level file (gp-reg-pat-prac-lsoa…) on the newest {_LSOA_PAGES} month pages")
    editions = []
    for kind, (month, url, where) in chosen.items():
        served = _file_name(url)
        ext = ".csv.gz" if kind == "lsoa" else ".csv" if served.endswith(".csv") else ".zip"
        editions.append(Release("gp_registrations", kind, month, month_title(month), url,
                                month_relpath(kind, month, ext), where))
    return Resolved("gp_registrations", page, tuple(editions), notes=tuple(notes))


def _resolve_qof(page: str, timeout: float, retries: int, ends: float) -> Resolved:
    """The newest year's raw-data zip (``QOF2425.zip``…) from QOF's series page."""
    years = _below(_page_links(page, timeout, retries, ends), page, _YEAR_SLUG)
    years = {k: v for k, v in years.items() if (k[0] + 1) % 100 == k[1]}  # 2024-25, not a date
    if not years:
        raise _FetchError(f"no link to a year's publication (…/<yyyy>-<yy>) on {page}")
    notes: list[str] = []
    for y, _ in sorted(years, reverse=True)[:_YEAR_PAGES]:
        url = years[(y, (y + 1) % 100)]
        label = f"{y}-{(y + 1) % 100:02d}"
        try:
            links = _page_links(url, timeout, retries, ends)
        except _FetchError as exc:
            notes.append(f"QOF {label} skipped: {exc}")
            continue
        for link in dict.fromkeys(links):
            m = _QOF_ZIP.match(_file_name(link))
            if m and int(m.group(1)) == y % 100 and int(m.group(2)) == (y + 1) % 100:
                relpath = f"gp/qof/QOF_{label}_PREVALENCE_{m.group(1)}{m.group(2)}.csv.gz"
                return Resolved("qof", page, (Release("qof", "qof", label, f"QOF {label}", link, relpath, url),),
                                notes=tuple(notes))
        notes.append(f"QOF {label} skipped: its page has no raw-data zip (QOF{y % 100:02d}{(y + 1) % 100:02d}.zip)")
    raise _FetchError(f"none of the newest {_YEAR_PAGES} year pages linked from {page} has a raw-data zip (QOFyyzz"
                      ".zip); " + "; ".join(notes))


def _resolve_ods(api: str, today: datetime) -> Resolved:
    """ODS Data Search and Export makes its reports on request: today's epraccur and ePCN."""
    from geo.months import month_title

    month = today.strftime("%Y-%m")

    def report(name: str) -> str:
        return f"{api}{'&' if '?' in api else '?'}report={name}"

    parts = (("epcn.csv", report("epcn")), ("epcncorepartnerdetails.csv", report("epcncorepartnerdetails")))
    return Resolved("ods", api, (
        Release("ods", "epraccur", month, month_title(month), report("epraccur"), f"gp/epraccur_{month}.csv.gz", api),
        Release("ods", "epcn", month, month_title(month), parts[0][1], f"gp/ePCN_{month}.zip", api, parts),
    ))
