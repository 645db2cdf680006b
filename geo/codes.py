r"""The shapes of the codes the tool reads: LSOAs, output areas, MSOAs, ICBs, GP practices and PCNs.

One compiled pattern per kind of code, so every reader (of an official file or of a user's own) checks a code
the same way. Each is anchored (``^…$``) and takes ASCII digits only (``[0-9]``: ``\d`` would also take ``١`` or
``０``, which no code holds), so ``pattern.match``, ``pattern.fullmatch`` and ``Series.str.match`` accept the
same stripped codes. (``$`` also matches before a final newline: every caller strips a code first.)
"""

from __future__ import annotations

import re

__all__ = ["ENGLISH_LSOA", "GB_LSOA", "GB_OA", "ICB", "LSOA", "MSOA", "ODS", "PCN", "PRACTICE", "PRACTICE_OR_PCN"]

#: An LSOA 2011 or 2021 code in England (``E01``) or Wales (``W01``): both editions share the shape.
LSOA = re.compile(r"^[EW]01[0-9]{6}$")
#: An LSOA code in England.
ENGLISH_LSOA = re.compile(r"^E01[0-9]{6}$")
#: An LSOA code or a Scottish data zone (``S01``), as the UK-wide output area lookup writes them.
GB_LSOA = re.compile(r"^[EWS]01[0-9]{6}$")
#: A 2011 output area in England, Wales or Scotland.
GB_OA = re.compile(r"^[EWS]00[0-9]{6}$")
#: An MSOA code in England or Wales.
MSOA = re.compile(r"^[EW]02[0-9]{6}$")
#: An ICB's ONS code (``E54…``); its NHS code (``Q…``) is looked up, never matched by shape.
ICB = re.compile(r"^E54[0-9]{6}$")
#: A GP practice's ODS code: a letter other than U and five digits (``B83052``).
PRACTICE = re.compile(r"^[A-TV-Z][0-9]{5}$")
#: A PCN's ODS code: U and five digits (``U37316``).
PCN = re.compile(r"^U[0-9]{5}$")
#: A letter and five digits: a GP practice or a PCN (what a user's file of practice codes is checked against).
PRACTICE_OR_PCN = re.compile(r"^[A-Z][0-9]{5}$")
#: Any ODS organisation code as NHS files write it: five or six capital letters or digits.
ODS = re.compile(r"^[A-Z0-9]{5,6}$")
