"""Bounded caches shared by threads: insertion with oldest-first eviction, lock-free.

The server evaluates and registers for several environments at once, so the module-level
caches of compiled rules, plans, regular expressions and zones are read and written from
many threads. ``d.pop(next(iter(d)))`` is not safe there: two threads may pick the same
oldest key (KeyError) or one may insert while the other iterates (RuntimeError), and the
error would surface in a registration or an evaluation that did nothing wrong.
:func:`put_bounded` tolerates both. Reads stay plain ``dict.get`` (atomic under the GIL).
Every such cache registers its size and bound here (:func:`cache_sizes`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

_SIZES: dict[str, tuple[Callable[[], int], Callable[[], int]]] = {}


def register(name: str, entries: Callable[[], int], bound: Callable[[], int]) -> None:
    """Make a module-level cache visible to :func:`cache_sizes` (called at import)."""
    _SIZES[name] = (entries, bound)


def cache_sizes() -> dict[str, tuple[int, int]]:
    """``{cache: (entries, bound)}`` for every process-wide cache of the matcher: what a
    service exports as metrics, so a flood of distinct rules or patterns shows."""
    return {name: (entries(), bound()) for name, (entries, bound) in sorted(_SIZES.items())}


def put_bounded(cache: dict[K, V], key: K, value: V, limit: int) -> None:
    """``cache[key] = value``, evicting the oldest entries first so the size stays within
    ``limit`` (plus, for an instant, one entry per thread inserting at the same time)."""
    while len(cache) >= limit and key not in cache:
        try:
            del cache[next(iter(cache))]
        except (KeyError, RuntimeError, StopIteration):
            continue  # another thread evicted or inserted meanwhile: look again
    cache[key] = value
