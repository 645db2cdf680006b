"""Find areas by what a person types: an ICB by ONS code, NHS code or name; a PCN, practice or local authority."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from geo.atlas import Atlas

__all__ = ["Area", "AreaNotFound", "display_name", "lsoas_in", "resolve_icb", "resolve_pcn", "search"]


class AreaNotFound(LookupError):  # noqa: N818 - reads better in messages and callers
    """No area matches what was typed (the message suggests close matches)."""


@dataclass(frozen=True)
class Area:
    """An area a user chose: its kind (icb, pcn, practice, lad), code, name and ICB."""

    kind: str
    code: str
    name: str
    icb_code: str | None = None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


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
        low = t.lower().replace(" integrated care board", "").replace(" icb", "").removeprefix("nhs ").strip()
        names = icbs["icb_name"].str.lower().str.replace(" integrated care board", "", regex=False) \
            .str.removeprefix("nhs ")
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
    import difflib

    short = icbs["icb_name"].str.replace(" Integrated Care Board", "", regex=False).str.removeprefix("NHS ")
    close = difflib.get_close_matches(t.lower(), [n.lower() for n in short], n=2, cutoff=0.6)
    hint = (" Did you mean " + " or ".join(f"'{short[short.str.lower() == c].iloc[0]}'" for c in close) + "?"
            if close else "")
    raise AreaNotFound(f"No ICB matches '{t}'.{hint} Use an ONS code (E54…), an NHS code (Q…) or part of the name, "
                       f"e.g. E54000055, QHL or 'Birmingham and Solihull'.")


def lsoas_in(atlas: Atlas, icb: pd.Series, *, imd: int) -> pd.DataFrame:
    """Return the LSOAs of an ICB on the geography of an IMD edition (LSOA 2011 for 2019, 2021 for 2025).

    LSOA 2011 are assigned by the ONS July 2022 lookup and LSOA 2021 by the April 2024 lookup; an ICB whose
    ONS code changed between them (Surrey Heartlands, Sussex in 2023) is matched by its NHS code.
    """
    table = atlas.lsoas(imd)
    return table[table["icb_code_nhs"] == icb["icb_code_nhs"]]


def resolve_pcn(atlas: Atlas, text: str) -> str:
    """Return a PCN code for a PCN code or a unique part of a PCN's name ('Bradford City 4' → 'U37316').

    Raises
    ------
    AreaNotFound
        When nothing matches, or several PCNs do (their names and codes are listed).
    """
    t = _clean(text)
    pcns = atlas.pcns
    if t.upper() in set(pcns["pcn_code"]):
        return t.upper()
    names = pcns["pcn_name"].fillna("").str.lower()
    hit = pcns[names == t.lower()]
    if hit.empty:
        hit = pcns[names.str.contains(re.escape(t.lower()), regex=True)] if t else hit
    if len(hit) == 1:
        return str(hit["pcn_code"].iloc[0])
    if len(hit) > 1:
        listed = "; ".join(f"{display_name(n)} ({c})" for c, n in zip(hit["pcn_code"], hit["pcn_name"], strict=True))
        raise AreaNotFound(f"'{t}' matches {len(hit)} PCNs: {listed[:400]}")
    raise AreaNotFound(f"No PCN matches '{t}' (PCN codes look like U37316; July 2022 practice → PCN map).")


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
