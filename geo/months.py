"""Registration months: which month's NHS structure the tool describes, and which files hold it.

NHS England publishes "Patients Registered at a GP Practice" every month: a practice → PCN → Sub-ICB → ICB map,
list sizes by age (``quin-age``) and, less often bundled, patients per practice × LSOA. A *registration month* is
a month with a practice map and list sizes (its quin-age file, or an LSOA-level file of the same month). Its
patients are placed in LSOAs by the newest LSOA-level file: each practice's shares there, scaled to its list size
in the month (:mod:`geo.atlas`). :class:`RegistrationMonth` names both months, so every figure can state them.

Files are found by name in each data folder (``$CORE20_DATA``, ``data/raw/``, ``../shared/data``), the first
folder holding a month's file winning, as :func:`geo.paths.find` does for catalogued files:

* ``gp/gp-reg-pat-prac-map_YYYY-MM.csv`` or ``.zip`` — the practice map;
* ``gp/gp-reg-pat-prac-quin-age_YYYY-MM.zip`` (or ``.csv``, ``.csv.gz``) — list sizes by 5-year age band;
* ``gp/gp_reg_pat_prac_lsoa_all_YYYY-MM.csv.gz`` (or ``.csv``, ``.zip``) — patients per practice × LSOA.

``python -m targeting fetch --latest`` writes the newest month's files under these names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "KINDS",
    "WRITTEN_FOR",
    "MonthFiles",
    "RegistrationMonth",
    "base_month",
    "built_meta",
    "chosen_month",
    "dated_files",
    "default_month",
    "discover",
    "month_relpath",
    "month_title",
    "months_built",
    "newest_dated",
    "parse_month",
    "registration_month",
    "select",
    "usable_months",
]

#: The month the tool's source lines and messages name, replaced by each atlas's own
#: (:meth:`RegistrationMonth.relabel`).
WRITTEN_FOR = "July 2022"

#: The registration files' publisher in the texts, and the name it has published under since February 2023.
_PUBLISHER = (("NHS Digital GP registrations", "NHS England GP registrations"),
              ("NHS Digital registrations", "NHS England registrations"),
              ("NHS Digital patients registered", "NHS England patients registered"),
              ("NHS Digital Patients Registered", "NHS England Patients Registered"))

#: The month chosen for this process by the command line (``--registrations``); see :func:`select`.
_selected: str | None = None


def select(month: str | None) -> None:
    """Choose the registration month for the rest of this process (the command line's ``--registrations``).

    None goes back to the default (``$CORE20_REGISTRATIONS``, else the newest month). The app never calls this:
    each of its sessions passes its month explicitly.
    """
    global _selected
    _selected = None if month is None else parse_month(month)

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")

#: The kinds of monthly file, with their name stem and the extensions accepted (most preferred first).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "map": ("gp/gp-reg-pat-prac-map_", (".zip", ".csv", ".csv.gz")),
    "quin_age": ("gp/gp-reg-pat-prac-quin-age_", (".zip", ".csv.gz", ".csv")),
    "lsoa": ("gp/gp_reg_pat_prac_lsoa_all_", (".csv.gz", ".zip", ".csv")),
}


def parse_month(text: str) -> str:
    """Return ``text`` as a month ``YYYY-MM``.

    Raises
    ------
    ValueError
        Naming what was given and the form expected.
    """
    t = str(text).strip()
    m = _MONTH_RE.match(t)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise ValueError(f"registration month must be YYYY-MM (e.g. 2026-07), not {t[:40]!r}")
    return t


def month_title(month: str) -> str:
    """``"2026-07"`` → ``"July 2026"``."""
    y, m = parse_month(month).split("-")
    return f"{_MONTHS[int(m) - 1]} {y}"


def month_relpath(kind: str, month: str, ext: str | None = None) -> str:
    """Where a monthly file of ``kind`` (``map``, ``quin_age``, ``lsoa``) lives inside a data folder."""
    stem, exts = KINDS[kind]
    return f"{stem}{parse_month(month)}{ext or exts[0]}"


@dataclass(frozen=True)
class MonthFiles:
    """The files found for one month: ``map``, ``quin_age`` and ``lsoa`` (None where absent)."""

    month: str
    map: Path | None = None
    quin_age: Path | None = None
    lsoa: Path | None = None

    @property
    def usable(self) -> bool:
        """A practice map and list sizes: the month's quin-age file or its own LSOA-level file."""
        return self.map is not None and (self.quin_age is not None or self.lsoa is not None)


def _roots() -> list[Path]:
    from geo.paths import data_roots

    return data_roots()


def discover() -> dict[str, MonthFiles]:
    """Every month with at least one monthly file in the data folders, oldest first.

    The catalogued registrations (``gp_reg_lsoa`` and ``gp_reg_map``, which ``CORE20_FILE_GP_REG_LSOA`` and
    ``CORE20_FILE_GP_REG_MAP`` may point elsewhere) are always the base month's files.
    """
    found: dict[str, dict[str, Path]] = {}
    for kind, (stem, exts) in KINDS.items():
        named = re.compile(rf"^{re.escape(Path(stem).name)}(\d{{4}}-\d{{2}})({'|'.join(map(re.escape, exts))})$")
        for month, path in _named(str(Path(stem).parent), named).items():
            found.setdefault(month, {})[kind] = path
    base = base_month()
    base_files = found.setdefault(base, {})
    from geo.paths import MissingDataError, find

    for kind, key in (("lsoa", "gp_reg_lsoa"), ("map", "gp_reg_map")):
        try:
            base_files[kind] = find(key)
        except MissingDataError:
            base_files.pop(kind, None)
    return {m: MonthFiles(m, **found[m]) for m in sorted(found)}


#: Dated files that ``fetch --latest`` saves besides the months' own: epraccur, ePCN and QOF prevalence years.
DATED = {
    "epraccur": re.compile(r"^epraccur_(\d{4}-\d{2})\.csv(\.gz)?$"),
    "epcn": re.compile(r"^ePCN_(\d{4}-\d{2})\.(xlsx|zip)$"),
    "qof": re.compile(r"^QOF_(\d{4}-\d{2})_PREVALENCE_\d{4}(_v\d+)?\.csv(\.gz)?$"),
}
_DATED_FOLDERS = {"epraccur": "gp", "epcn": "gp", "qof": "gp/qof"}


def dated_files(kind: str) -> dict[str, Path]:
    """Files of ``kind`` (``epraccur``, ``epcn``, ``qof``) in the data folders by their date or year, oldest first.

    ``epraccur_2026-02.csv.gz`` → ``{"2026-02": path}``; ``QOF_2024-25_PREVALENCE_2425.csv.gz`` →
    ``{"2024-25": path}``. The first data folder holding a date wins.
    """
    return dict(sorted(_named(_DATED_FOLDERS[kind], DATED[kind]).items()))


def _named(folder: str, pattern: re.Pattern[str]) -> dict[str, Path]:
    """``{date: path}`` of the files in ``folder`` of each data folder whose name ``pattern`` matches.

    The pattern's first group is the date; the first data folder holding a date wins, as :func:`geo.paths.find`
    does for a catalogued file.
    """
    found: dict[str, Path] = {}
    for root in _roots():
        where = root / folder
        if not where.is_dir():
            continue
        for path in sorted(where.iterdir()):
            m = pattern.match(path.name)
            if m and path.is_file():
                found.setdefault(m.group(1), path)
    return found


def newest_dated(kind: str, *, until: str | None = None) -> Path | None:
    """The newest file of ``kind`` (at or before ``until``, ``YYYY-MM``, when given), or None."""
    files = {d: p for d, p in dated_files(kind).items() if until is None or d <= until}
    return files[max(files)] if files else None


def base_month() -> str:
    """The month of the catalogued LSOA-level registrations (the atlas's own registrations).

    Read from the file's name (``…_YYYY-MM…``) and otherwise from the catalogue's edition.
    """
    from geo.paths import MissingDataError, find
    from geo.sources import SOURCES

    try:
        m = re.search(r"(\d{4}-\d{2})", find("gp_reg_lsoa").name)
        if m and _MONTH_RE.match(m.group(1)):
            return m.group(1)
    except MissingDataError:
        pass
    name, year = SOURCES["gp_reg_lsoa"].edition.split()
    return f"{year}-{_MONTHS.index(name) + 1:02d}"


def usable_months(files: dict[str, MonthFiles] | None = None) -> list[str]:
    """The months the tool can describe (a practice map and list sizes), oldest first; the base month always."""
    files = discover() if files is None else files
    base = base_month()
    return sorted({m for m, f in files.items() if f.usable} | {base})


def default_month(available: list[str] | None = None) -> str:
    """The month used when none is given: :func:`select`'s, ``$CORE20_REGISTRATIONS``, else the newest month."""
    available = usable_months() if available is None else available
    if _selected:
        return _selected
    env = os.environ.get("CORE20_REGISTRATIONS", "").strip()
    if env:
        return parse_month(env)
    return available[-1]


@dataclass(frozen=True)
class RegistrationMonth:
    """The registration month an atlas describes, and the month its patients' LSOAs come from.

    Attributes
    ----------
    month
        ``YYYY-MM`` of the practice → PCN → ICB structure and the list sizes.
    lsoa_month
        ``YYYY-MM`` of the LSOA-level registrations whose shares place the patients (the same month when the
        month has its own LSOA-level file).
    """

    month: str
    lsoa_month: str

    @property
    def title(self) -> str:
        """E.g. ``July 2026``."""
        return month_title(self.month)

    @property
    def lsoa_title(self) -> str:
        """E.g. ``July 2022``."""
        return month_title(self.lsoa_month)

    @property
    def scaled(self) -> bool:
        """Whether patients are placed by another month's shares."""
        return self.month != self.lsoa_month

    @property
    def label(self) -> str:
        """The month for a source line: ``July 2022``, or ``July 2026 with July 2022 LSOA shares``."""
        return f"{self.title} with {self.lsoa_title} LSOA shares" if self.scaled else self.title

    def relabel(self, text: str) -> str:
        """``text`` with the month it was written for (:data:`WRITTEN_FOR`) replaced by :attr:`label`.

        Source lines and messages are written once, naming July 2022; this makes them state this atlas's months
        (unchanged for July 2022 itself, so its outputs stay byte for byte what they were).
        """
        if self.label == WRITTEN_FOR:
            return text
        text = text.replace(WRITTEN_FOR, self.label)
        if self.month >= "2023-02":  # NHS Digital became part of NHS England on 1 February 2023
            for was, now in _PUBLISHER:
                text = text.replace(was, now)
        return text

    @property
    def statement(self) -> str:
        """Both months in words, e.g. ``practices and list sizes July 2026; where patients live: July 2022 shares``."""
        if not self.scaled:
            return f"practices, list sizes and where patients live: {self.title}"
        return f"practices and list sizes {self.title}; where patients live: {self.lsoa_title} shares"


def built_meta() -> dict:
    """The built atlas's ``build.json`` (``{}`` when there is none or it cannot be read); json only, no pandas."""
    import json

    from geo.paths import cache_dir

    try:
        return json.loads((cache_dir() / "atlas" / "build.json").read_text())
    except (OSError, ValueError):
        return {}


def registration_month(meta: dict, month: str | None = None) -> RegistrationMonth:
    """The :class:`RegistrationMonth` an atlas build offers for ``month`` (None: the default month).

    Raises
    ------
    ValueError
        If the build holds no such month (the message lists those it holds).
    """
    reg = meta.get("registrations") or {}
    base = reg.get("base") or base_month()
    held = {base: base, **{m: v.get("lsoa_month", base) for m, v in reg.get("months", {}).items()}}
    available = sorted(held)
    chosen = parse_month(month) if month else default_month(available)
    if chosen not in held:
        raise ValueError(f"No registrations for {month_title(chosen)} ({chosen}): this atlas holds "
                         f"{', '.join(f'{month_title(m)} ({m})' for m in available)}. A month needs its practice map "
                         "and its quin-age list sizes (`python -m targeting fetch --latest`), then `build`.")
    return RegistrationMonth(chosen, held[chosen])


def months_built() -> tuple[list[str], str]:
    """The registration months the built atlas holds (oldest first) and the default one."""
    meta = built_meta()
    reg = meta.get("registrations") or {}
    default = registration_month(meta).month
    return sorted({reg.get("base") or default, *reg.get("months", {})}), default


def chosen_month(month: str | None = None) -> str:
    """The registration month a command or page means by ``month`` (None: the default) in the built atlas.

    Raises
    ------
    ValueError
        If the atlas holds no such month.
    """
    return registration_month(built_meta(), month).month
