"""Bounded caches shared by threads: insertion with oldest-first eviction, lock-free.

The server evaluates and registers for several environments at once, so the module-level
caches of compiled rules, plans, regular expressions and zones are read and written from
many threads. ``d.pop(next(iter(d)))`` is not safe there: two threads may pick the same
oldest key (KeyError) or one may insert while the other iterates (RuntimeError), and the
error would surface in a registration or an evaluation that did nothing wrong.
:func:`put_bounded` tolerates both. Reads stay plain ``dict.get`` (atomic under the GIL).
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def put_bounded(cache: dict[K, V], key: K, value: V, limit: int) -> None:
    """``cache[key] = value``, evicting the oldest entries first so the size stays within
    ``limit`` (plus, for an instant, one entry per thread inserting at the same time)."""
    while len(cache) >= limit and key not in cache:
        try:
            del cache[next(iter(cache))]
        except (KeyError, RuntimeError, StopIteration):
            continue  # another thread evicted or inserted meanwhile: look again
    cache[key] = value
