"""Identifiers: ULIDs for runs, events, decisions and cancellations, made by python-ulid.

A ULID is 26 Crockford base32 characters: 48 bits of epoch milliseconds then 80 random
bits. These helpers fix the few choices the service makes on top of the library: ids from
a given millisecond (registration and decisions carry their own time), ids whose random
part is derived from a seed (a trigger id made up for a run must be the same on every
retry and replica), and validation that never raises.
"""

from __future__ import annotations

import hashlib
import os
import time

from ulid import ULID

_MAX_MS = 2**48 - 1


def _render(ms: int, tail: bytes) -> str:
    return str(ULID.from_bytes(ms.to_bytes(6, "big") + tail))


def new_ulid(ms: int | None = None) -> str:
    """A fresh ULID for time ``ms`` (epoch milliseconds; now when None). A time outside
    what 48 bits hold (before 1970, after 10889) is clamped to the nearest end: ids are
    also made for inputs that are then refused for their time, and must not fail first."""
    if ms is None:
        ms = time.time_ns() // 1_000_000
    return _render(min(max(ms, 0), _MAX_MS), os.urandom(10))


def is_ulid(text: str) -> bool:
    """Whether ``text`` is a valid ULID (case-insensitive, as the spec allows)."""
    if len(text) != 26 or not text.isascii():
        return False
    try:
        ULID.from_str(text)
    except ValueError:
        return False
    return True


def ulid_time_ms(text: str) -> int:
    """The millisecond timestamp encoded in a valid ULID."""
    return ULID.from_str(text).milliseconds


def derived_ulid(ms: int, seed: str) -> str:
    """A ULID for time ``ms`` whose 80 random bits are a hash of ``seed``: the same seed
    gives the same id on every call and every replica."""
    return _render(max(ms, 0) & _MAX_MS, hashlib.sha256(seed.encode()).digest()[:10])
