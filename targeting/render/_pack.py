"""Integers as short strings: five bits per character, a sixth bit meaning "more follows" (like Google's polyline).

A number below 32 takes one character, below 1,024 two, below 32,768 three. Signed numbers are zigzagged first
(0, −1, 1, −2… → 0, 1, 2, 3…). The alphabet is letters, digits, ``-`` and ``_``: nothing in it needs escaping
in JSON or HTML. ``c20Unpack`` in ``static/map.js`` reads these strings; :func:`unpack` is the same in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["pack", "pack_values", "unpack", "unpack_values"]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_CODES = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def pack(values: Any, *, signed: bool = False) -> str:
    """Pack integers (non-negative unless ``signed``) into a string."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if signed:
        v = (v << 1) ^ (v >> 63)
    elif len(v) and v.min() < 0:
        raise ValueError("negative value in an unsigned pack")
    if len(v) == 0:
        return ""
    n = np.ones(len(v), dtype=np.int64)
    t = v >> 5
    while (t > 0).any():
        n += t > 0
        t >>= 5
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    out = np.empty(int(n.sum()), dtype=np.uint8)
    for k in range(int(n.max())):
        sel = n > k
        chunk = (v[sel] >> (5 * k)) & 31
        out[start[sel] + k] = chunk | np.where(n[sel] - 1 > k, 32, 0)
    return _CODES[out].tobytes().decode("ascii")


def unpack(text: str, *, signed: bool = False) -> list[int]:
    """The integers of :func:`pack`."""
    out, v, shift = [], 0, 0
    for ch in text:
        c = _INDEX[ch]
        v |= (c & 31) << shift
        shift += 5
        if not c & 32:
            out.append((v >> 1) ^ -(v & 1) if signed else v)
            v, shift = 0, 0
    return out


def pack_values(values: Any, decimals: int) -> str:
    """Numbers rounded to ``decimals`` places, signed, with NaN for no data (``0`` is kept for NaN)."""
    x = np.asarray(values, dtype=float).ravel()
    ok = np.isfinite(x)
    ints = np.zeros(len(x), dtype=np.int64)
    ints[ok] = np.round(x[ok] * 10**decimals).astype(np.int64)
    zz = (ints << 1) ^ (ints >> 63)
    return pack(np.where(ok, zz + 1, 0))


def unpack_values(text: str, decimals: int) -> list[float | None]:
    """The numbers of :func:`pack_values` (``None`` for no data)."""
    out: list[float | None] = []
    for z in unpack(text):
        if z == 0:
            out.append(None)
        else:
            z -= 1
            i = (z >> 1) ^ -(z & 1)
            out.append(i / 10**decimals if decimals else i)
    return out
