"""Identifiers: ULID generation and validation (run, event, decision, cancellation ids).

A ULID is 26 Crockford base32 characters: 48 bits of epoch milliseconds then 80 random
bits. The first character is at most '7' because 26 * 5 = 130 bits carry only 128.
"""

from __future__ import annotations

import hashlib
import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two digits per 10-bit chunk: 13 table lookups render the 130 bits (ids are made on
# every registration and decision, and a per-digit loop cost ~30 us).
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)
_ULID_RE = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", re.IGNORECASE)


def new_ulid(ms: int | None = None) -> str:
    """A fresh ULID for time ``ms`` (epoch milliseconds; now when None)."""
    if ms is None:
        ms = time.time_ns() // 1_000_000
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in range(120, -1, -10)])


def is_ulid(text: str) -> bool:
    """Whether ``text`` is a syntactically valid ULID (case-insensitive, as the spec allows)."""
    return bool(_ULID_RE.fullmatch(text))


def ulid_time_ms(text: str) -> int:
    """The millisecond timestamp encoded in a valid ULID."""
    value = 0
    for ch in text[:10].upper():
        value = value * 32 + _ALPHABET.index(ch)
    return value


def derived_ulid(ms: int, seed: str) -> str:
    """A ULID for time ``ms`` whose 80 random bits are a hash of ``seed``: the same seed
    gives the same id on every call and every replica (a trigger id made up for a run
    must not change when the registration is retried)."""
    value = (max(ms, 0) & (2**48 - 1)) << 80 | int.from_bytes(
        hashlib.sha256(seed.encode()).digest()[:10], "big")
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(120, -1, -10)])
