"""Find areas by what a person types: an ICB by ONS code, NHS code or name; a PCN, practice or local authority."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from geo.atlas import Atlas

if TYPE_CHECKING:
    from geo.editions import Edition

__all__ = ["AREA_KINDS", "Area", "AreaNotFound", "area_lsoa_rows", "display_name", "former_icb",
           "former_pcn", "lsoas_in", "resolve_area", "resolve_icb", "resolve_pcn", "search"]

#: The kinds of area a person can choose, in the order the app and the command line offer them.
AREA_KINDS: tuple[str, ...] = ("icb", "lad", "pcn", "practice")


class AreaNotFound(LookupError):  # noqa: N818 - reads better in messages and callers
    """No area matches what was typed (the message suggests close matches)."""


@dataclass(frozen=True)
class Area:
    """An area a user chose: its kind (icb, lad, pcn, practice), code, display name and ICB.

    ``icb_code`` is the ONS code (E54…), ``icb_code_nhs`` the NHS code (Q…) and ``icb_name`` the name of the ICB
    the area sits in (for a local authority, the ICB holding most of its LSOAs).
    """

    kind: str
    code: str
    name: str
    icb_code: str | None = None
    icb_code_nhs: str | None = None
    icb_name: str | None = None

    @property
    def label(self) -> str:
        """E.g. ``PCN: Bradford City 4 PCN (U37316)``."""
        kinds = {"icb": "ICB", "lad": "Local authority", "pcn": "PCN", "practice": "Practice"}
        return f"{kinds.get(self.kind, self.kind)}: {self.name} ({self.code})"


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def _plain_icb(text: str) -> str:
    """An ICB's name as people type it: 'NHS Central East Integrated Care Board' or '… ICB' → 'central east'."""
    return str(text).lower().replace(" integrated care board", "").replace(" icb", "").removeprefix("nhs ").strip()


_KEEP_TITLE = {"ST", "DR", "MR", "MRS", "MS", "MT", "RD"}


def display_name(name: str) -> str:
    """Title-case a name NHS files publish in capitals, keeping acronyms.

    'BRADFORD SOUTH PCN' → 'Bradford South PCN'; 'SWB I3 PCN' → 'SWB I3 PCN' (a word with no vowel or with a
    digit is taken as an acronym); "ST JOHN'S SURGERY" → "St John's Surgery". Mixed-case names are left alone.
    """
    name = str(name)
    if not name.isupper():
        return name

    def word(w: str) -> str:
        core = re.sub(r"[^A-Z0-9]", "", w)
        if core in ("PCN", "NHS", "ICB", "GP", "CCG", "UK") or (
                core and core not in _KEEP_TITLE and (not re.search(r"[AEIOUY]", core) or re.search(r"\d", core))):
            return w
        return re.sub(r"'S\b", "'s", w.title())

    return " ".join(word(w) for w in name.split(" "))


def resolve_icb(atlas: Atlas, text: str | pd.Series) -> pd.Series:
    """Return the ICB row (``icb_code``, ``icb_code_nhs``, ``icb_name``) for an ONS code, NHS code or name.

    Raises
    ------
    AreaNotFound
        With the closest names when nothing matches exactly or uniquely.
    """
    if isinstance(text, pd.Series):  # already an ICB row
        return text
    t = _clean(text)
    icbs = atlas.icbs
    u = t.upper()
    hit = icbs[(icbs["icb_code"] == u) | (icbs["icb_code_nhs"] == u)]
    if hit.empty:
        low = _plain_icb(t)
        names = icbs["icb_name"].map(_plain_icb)
        hit = icbs[names == low]
        if hit.empty and low:
            hit = icbs[names.str.contains(re.escape(low), regex=True)]
    if len(hit) > 1 and hit["icb_code_nhs"].nunique() == 1:
        # Surrey Heartlands and Sussex changed ONS code in 2023: one ICB, two rows; prefer the current code
        hit = hit.sort_values("lsoa21_count", na_position="first").tail(1)
    if len(hit) == 1:
        return hit.iloc[0]
    if len(hit) > 1:
        raise AreaNotFound(f"'{t}' matches {len(hit)} ICBs: " + "; ".join(hit["icb_name"].head(5)))
    became = former_icb(atlas, t) or _icb_of_another_month(atlas, t)
    if became:
        raise AreaNotFound(became)
    import difflib

    short = icbs["icb_name"].str.replace(" Integrated Care Board", "", regex=False).str.removeprefix("NHS ")
    close = difflib.get_close_matches(t.lower(), [n.lower() for n in short], n=2, cutoff=0.6)
    hint = (" Did you mean " + " or ".join(f"'{short[short.str.lower() == c].iloc[0]}'" for c in close) + "?"
            if close else "")
    raise AreaNotFound(f"No ICB matches '{t}'.{hint} Use an ONS code (E54…), an NHS code (Q…) or part of the name, "
                       f"e.g. E54000055, QHL or 'Birmingham and Solihull'.")


def _icb_words(name: str, code: str) -> str:
    return f"{str(name).replace(' Integrated Care Board', ' ICB')} ({code})"


def former_icb(atlas: Atlas, text: str) -> str | None:
    """What an ICB that no longer exists in the atlas's registration month became, in one line; None if unknown.

    ``text`` is an earlier ONS code (E54…), NHS code (Q…) or name. The answer comes from where its LSOAs are in
    the month (``atlas.icb_history``): one ICB ("merged into"), or several ("divided between", each with its share
    of the old ICB's LSOAs). ICBs absent from the history (the atlas's own month, or a code never used) give None.
    """
    hist = getattr(atlas, "icb_history", None)
    if hist is None or not len(hist):
        return None
    t = _clean(text)
    u = t.upper()
    hit = hist[(hist["old_code"].str.upper() == u) | (hist["old_code_nhs"].fillna("").str.upper() == u)]
    if hit.empty and len(t) >= 4:
        low = _plain_icb(t)
        names = hist["old_name"].fillna("").str.lower()
        hit = hist[names.str.contains(re.escape(low), regex=True)] if low else hist.iloc[0:0]
    if hit.empty or hit["old_code"].nunique() > 1:
        return None
    hit = hit[hit["share"] >= 0.005]  # LSOAs that only changed vintage across a boundary are not a successor
    first = hit.iloc[0]
    from geo.sources import SOURCES

    when = SOURCES["sicbl26"].edition if "sicbl26" in SOURCES else atlas.month.title
    old = _icb_words(first["old_name"], first["old_code"])
    if len(hit) == 1:
        new = _icb_words(first["new_name"], first["new_code"])
        return (f"{old} no longer exists: in {when} it became part of {new}. Use {first['new_code']} (practices, "
                f"PCNs and ICBs of {atlas.month.title}).")
    parts = [f"{_icb_words(r.new_name, r.new_code)}, {100 * r.share:.0f}% of its LSOAs" for r in hit.itertuples()]
    return (f"{old} no longer exists: in {when} it was divided between " + "; ".join(parts)
            + f". Use one of these (practices, PCNs and ICBs of {atlas.month.title}).")


def _icb_of_another_month(atlas: Atlas, text: str) -> str | None:
    """An ICB code or name that another registration month of the build knows, with the month to choose."""
    from geo.months import built_meta, month_title

    t = _clean(text)
    low = _plain_icb(t)
    for month, info in sorted((built_meta().get("registrations") or {}).get("months", {}).items(), reverse=True):
        if month == atlas.month.month:
            continue
        for code, (nhs, name) in (info.get("icb_names") or {}).items():
            if t.upper() in (code, nhs) or (len(low) >= 4 and low in _plain_icb(name)):
                return (f"{_icb_words(name, code)} is an ICB of {month_title(month)}, not of {atlas.month.title}. "
                        f"Use --registrations {month} (in the app: 'NHS as of' {month_title(month)}).")
    return None


def former_pcn(atlas: Atlas, code: str) -> str | None:
    """Where the practices of a PCN code absent from the atlas's month are now, in one line; None if unknown."""
    hist = getattr(atlas, "pcn_history", None)
    if hist is None or not len(hist):
        return None
    hit = hist[hist["old_code"] == _clean(code).upper()]
    if hit.empty:
        return None
    name = display_name(hit["old_name"].iloc[0])
    base = atlas.meta.get("registrations", {}).get("base") if isinstance(atlas.meta, dict) else None
    from geo.months import month_title

    then = month_title(base) if base else "earlier"
    where = "; ".join(f"{int(r.practices)} in {display_name(r.new_name)} ({r.new_code})" if isinstance(r.new_name, str)
                      else f"{int(r.practices)} not in the {atlas.month.title} map (closed or merged)"
                      for r in hit.itertuples())
    n = int(hit["practices"].sum())
    shut = hit["closed"].dropna() if "closed" in hit else pd.Series(dtype=object)
    when = f"; closed on {shut.iloc[0]} per ODS ePCN" if len(shut) else ""
    members = (f"of {then}" if hit["members_from"].iloc[0] == "map" else "last recorded in ODS ePCN") \
        if "members_from" in hit else f"of {then}"
    return (f"PCN {hit['old_code'].iloc[0]} ({name}{when}) is not in the {atlas.month.title} practice map. Of its "
            f"{n} practice{'s' if n != 1 else ''} {members}: {where}.")


def lsoas_in(edition: Edition, icb_nhs: str) -> pd.DataFrame:
    """Return the LSOAs of an ICB (by NHS code) on the geography of an IMD edition bound to an atlas.

    LSOA 2011 (IoD 2019) are assigned by the ONS July 2022 lookup and LSOA 2021 by the April 2024 lookup; an ICB whose
    ONS code changed between them (Surrey Heartlands, Sussex in 2023) is matched by its NHS code.
    """
    table = edition.lsoas
    return table[table["icb_code_nhs"] == icb_nhs]


def resolve_pcn(atlas: Atlas, text: str) -> str:
    """Return a PCN code for a PCN code or a unique part of a PCN's name ('Bradford City 4' → 'U37316').

    Raises
    ------
    AreaNotFound
        When nothing matches, or several PCNs do (their names and codes are listed).
    """
    return resolve_area(atlas, "pcn", text).code


def _named(table: pd.DataFrame, code_col: str, name_col: str, text: str, what: str, example: str) -> pd.Series:
    """The one row whose code is ``text`` or whose name is or uniquely contains it; else a helpful error."""
    t = _clean(text)
    if not t:
        raise AreaNotFound(f"No {what} given: use a code such as {example} or part of a name.")
    hit = table[table[code_col].astype(str).str.upper() == t.upper()]
    if hit.empty:
        names = table[name_col].fillna("").astype(str).str.lower()
        hit = table[names == t.lower()]
        if hit.empty:
            hit = table[names.str.contains(re.escape(t.lower()), regex=True)]
    if len(hit) == 1:
        return hit.iloc[0]
    if len(hit) > 1:
        listed = "; ".join(f"{display_name(n)} ({c})" for c, n in zip(hit[code_col], hit[name_col], strict=True))
        raise AreaNotFound(f"'{t}' matches {len(hit)} {what}s: {listed[:400]}")
    import difflib

    names = table[name_col].fillna("").astype(str)
    close = difflib.get_close_matches(t.lower(), names.str.lower().tolist(), n=3, cutoff=0.6)
    hint = ""
    if close:
        rows = table[names.str.lower().isin(close)].head(3)
        hint = " Did you mean " + " or ".join(f"{display_name(n)} ({c})" for c, n in
                                              zip(rows[code_col], rows[name_col], strict=True)) + "?"
    raise AreaNotFound(f"No {what} matches '{t}'.{hint} Use a code such as {example} or part of the name.")


def resolve_area(atlas: Atlas, kind: str, text: str) -> Area:
    """Find an ICB, local authority, PCN or practice by code or by (part of) its name.

    Parameters
    ----------
    atlas
        The loaded atlas.
    kind
        ``"icb"``, ``"lad"``, ``"pcn"`` or ``"practice"``.
    text
        A code (ICB: ONS E54… or NHS Q…; local authority: E06–E09…; PCN: U…; practice: ODS code) or a unique
        part of the name.

    Returns
    -------
    Area
        With the ICB it sits in (practices and PCNs: their July 2022 ICB; a local authority: the ICB holding most
        of its LSOAs, April 2024).

    Raises
    ------
    AreaNotFound
        Naming what was typed, listing several matches, or suggesting close names ("did you mean").
    """
    icb_names = atlas.icbs.drop_duplicates("icb_code_nhs", keep="last").set_index("icb_code_nhs")["icb_name"]
    if kind == "icb":
        row = resolve_icb(atlas, text)
        return Area("icb", str(row["icb_code"]), str(row["icb_name"]), str(row["icb_code"]),
                    str(row["icb_code_nhs"]), str(row["icb_name"]))
    if kind == "pcn":
        pcns = atlas.pcns[atlas.pcns["pcn_code"] != "U"]
        try:
            row = _named(pcns, "pcn_code", "pcn_name", text, "PCN", "U37316")
        except AreaNotFound:
            became = former_pcn(atlas, text)
            if became:
                raise AreaNotFound(became) from None
            raise
        return Area("pcn", str(row["pcn_code"]), display_name(row["pcn_name"]), _str(row.get("icb_code")),
                    _str(row.get("icb_code_nhs")), _str(row.get("icb_name")))
    if kind == "practice":
        row = _named(atlas.practices, "practice_code", "practice_name", text, "practice", "B83052")
        return Area("practice", str(row["practice_code"]), display_name(row["practice_name"]),
                    _str(row.get("icb_code")), _str(row.get("icb_code_nhs")), _str(row.get("icb_name")))
    if kind == "lad":
        lads = atlas.lsoa21.groupby(["lad_code", "lad_name"], as_index=False).agg(
            icb_code=("icb_code", lambda s: s.mode().iat[0]), icb_code_nhs=("icb_code_nhs", lambda s: s.mode().iat[0]))
        row = _named(lads, "lad_code", "lad_name", text, "local authority", "E08000025")
        return Area("lad", str(row["lad_code"]), str(row["lad_name"]), str(row["icb_code"]),
                    str(row["icb_code_nhs"]), _str(icb_names.get(row["icb_code_nhs"])))
    raise AreaNotFound(f"Unknown kind of area '{kind}': use one of {', '.join(AREA_KINDS)}.")


def _str(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and v != v) else str(v)


def area_lsoa_rows(atlas: Atlas, area: Area) -> pd.DataFrame:
    """The LSOA 2021 rows of an ICB or local authority (April 2024 ICBs; LAD 2024)."""
    t = atlas.lsoa21
    if area.kind == "lad":
        return t[t["lad_code"] == area.code]
    if area.kind == "icb":
        return t[t["icb_code_nhs"] == area.icb_code_nhs]
    raise ValueError(f"an area summary covers an ICB or a local authority, not a {area.kind}")


def search(atlas: Atlas, text: str, *, limit: int = 20) -> pd.DataFrame:
    """Find ICBs, local authorities, PCNs and practices whose name or code contains the text.

    Returns
    -------
    pandas.DataFrame
        ``kind``, ``code``, ``name``, ``icb_code``, ``label``; exact code matches first, then by kind.
    """
    t = _clean(text).lower()
    if not t:
        return pd.DataFrame(columns=["kind", "code", "name", "icb_code", "label"])
    frames = [
        pd.DataFrame({"kind": "icb", "code": atlas.icbs["icb_code"], "alt": atlas.icbs["icb_code_nhs"],
                      "name": atlas.icbs["icb_name"], "icb_code": atlas.icbs["icb_code"]}),
        pd.DataFrame({"kind": "pcn", "code": atlas.pcns["pcn_code"], "alt": "", "name": atlas.pcns["pcn_name"],
                      "icb_code": atlas.pcns["icb_code"]}),
        pd.DataFrame({"kind": "practice", "code": atlas.practices["practice_code"], "alt": "",
                      "name": atlas.practices["practice_name"], "icb_code": atlas.practices["icb_code"]}),
    ]
    lad = atlas.lsoa21.drop_duplicates("lad_code")
    frames.append(pd.DataFrame({"kind": "lad", "code": lad["lad_code"], "alt": "", "name": lad["lad_name"],
                                "icb_code": lad["icb_code"]}))
    allx = pd.concat(frames, ignore_index=True).fillna({"name": "", "alt": ""})
    code_hit = allx["code"].str.lower().eq(t) | allx["alt"].str.lower().eq(t)
    name_hit = allx["name"].str.lower().str.contains(re.escape(t), regex=True)
    out = allx[code_hit | name_hit].copy()
    if out.empty:
        return pd.DataFrame(columns=["kind", "code", "name", "icb_code", "label"])
    out["_rank"] = (~code_hit[out.index]).astype(int) * 10 + out["kind"].map({"icb": 0, "lad": 1, "pcn": 2,
                                                                               "practice": 3})
    out = out.sort_values(["_rank", "name"]).head(limit)
    kinds = {"icb": "ICB", "lad": "Local authority", "pcn": "PCN", "practice": "Practice"}
    out["label"] = out["kind"].map(kinds) + ": " + out["name"].map(display_name) + " (" + out["code"] + ")"
    return out[["kind", "code", "name", "icb_code", "label"]].reset_index(drop=True)
