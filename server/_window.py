"""Late listeners: a bounded window of recent events per (environment, event name).

An event can reach us after its run started but before the runner registered the run's
listeners (Inngest's open race: a cancel sent right after the trigger is missed). Every
new listener is tested against the window's events, so such an event still cancels.

Bounds. Per name: ``window_ms`` of receive time and ``max_events``. Globally (all
environments and names together): ``max_total_events`` and ``max_total_bytes``; past
either, whole names are evicted, least recently appended first. Names nobody appends to
any more leave too: every add also looks at the least recently appended name and drops
it once its newest event is older than the window, so untouched names cannot pile up.
``bytes`` is an estimate of the memory an event holds here (its data JSON text, name and
id, plus :attr:`RecentEvents.ENTRY_OVERHEAD`), not an exact measurement.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

Entry = tuple[int, int, dict[str, Any]]  # (received_at ms, arrival sequence, event)

KeyOf = Callable[[dict[str, Any], tuple[str, ...]], Any]


class _Name:
    """The window of one (env, name): entries and their sizes, oldest first."""

    __slots__ = ("entries", "sizes", "bytes", "tables")

    def __init__(self) -> None:
        self.entries: deque[Entry] = deque()
        self.sizes: deque[int] = deque()
        self.bytes = 0
        # path → event key → entries of that key, oldest first (built on demand)
        self.tables: dict[tuple[str, ...], dict[Any, deque[Entry]]] = {}


class RecentEvents:
    """Recent events per (env, name), plus hash tables over them built on demand.

    A listener filed by hash (``match: data.x``) can only be fired by window events that
    carry its key, so ``recent_keyed`` looks those up instead of testing every event of
    the name: during a burst of thousands of events a registration stays O(matches), not
    O(window). A table for a path is built the first time a listener asks for it and then
    maintained on every add and expiry. Not thread-safe: the owner serialises calls.
    """

    ENTRY_OVERHEAD = 650
    """Bytes charged per event on top of its data text: the tuple, the decoded dicts and
    the deque slots (tracemalloc, CPython 3.11: 635-680 for data of 25 to 2,000 bytes)."""

    NAME_OVERHEAD = 1850
    """Bytes charged per (env, name) held: its deques, OrderedDict entry and key tuple
    (tracemalloc: about 1,860)."""

    def __init__(self, window_ms: int, max_events: int, max_total_events: int = 100_000,
                 max_total_bytes: int = 64 << 20) -> None:
        self.window_ms = window_ms
        self.max_events = max_events
        self.max_total_events = max_total_events
        self.max_total_bytes = max_total_bytes
        # Least recently appended first: eviction takes from the front.
        self._names: OrderedDict[tuple[str, str], _Name] = OrderedDict()
        self._key_of: KeyOf | None = None
        self._seq = itertools.count()
        self.events = 0
        self.bytes = 0

    def add(self, env: str, event: dict[str, Any], now: int, size: int = 0) -> None:
        """Append ``event`` received at ``now``; ``size`` is its data JSON text length.

        Complexity: O(1 + P) amortised for P keyed paths of that name.
        """
        if self.window_ms <= 0:
            return
        key = (env, event["name"])
        slot = self._names.get(key)
        if slot is None:
            slot = self._names[key] = _Name()
            self.bytes += self.NAME_OVERHEAD
        else:
            self._names.move_to_end(key)
        entry = (now, next(self._seq), event)
        cost = size + len(event["name"]) + len(event.get("id") or "") + self.ENTRY_OVERHEAD
        slot.entries.append(entry)
        slot.sizes.append(cost)
        slot.bytes += cost
        self.events += 1
        self.bytes += cost
        for path, table in slot.tables.items():
            self._file(table, path, entry)
        if len(slot.entries) > self.max_events:
            self._drop_oldest(slot)
        self._trim(key, slot, now)
        self._evict(now)

    def recent(self, env: str, name: str, now: int, since: int | None = None) -> list[Entry]:
        """The window's events of that name received at or after ``since`` (all when
        None), oldest arrival first.

        Complexity: O(k) for the k entries returned — the scan starts at the newest entry
        and stops at the first one received before ``since``.
        """
        slot = self._live((env, name), now)
        return [] if slot is None else _since(slot.entries, since)

    def recent_keyed(self, env: str, name: str, now: int, since: int | None,
                     probes: list[tuple[tuple[str, ...], tuple[Any, ...]]],
                     key_of: KeyOf) -> list[Entry]:
        """Like ``recent`` but only events whose key at some probe path is one of its keys
        (see ``ListenerIndex.probes``). Complexity: O(P + m) for m entries returned, after a
        one-off O(k) build the first time a path is probed."""
        slot = self._live((env, name), now)
        if slot is None:
            return []
        self._key_of = key_of
        found: dict[int, Entry] = {}
        for path, keys in probes:
            table = slot.tables.get(path)
            if table is None:
                table = slot.tables[path] = {}
                for entry in slot.entries:
                    self._file(table, path, entry)
            for k in keys:
                for entry in _since(table.get(k, ()), since):
                    found[entry[1]] = entry
        return [found[seq] for seq in sorted(found)]

    def lookup(self, env: str, name: str, now: int, since: int | None,
               probes: list[tuple[tuple[str, ...], tuple[Any, ...]]] | None,
               key_of: KeyOf) -> list[Entry]:
        """``recent_keyed`` when the listener has probes, else ``recent``."""
        if probes is None:
            return self.recent(env, name, now, since)
        return self.recent_keyed(env, name, now, since, probes, key_of)

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def _live(self, key: tuple[str, str], now: int) -> _Name | None:
        slot = self._names.get(key)
        if slot is not None:
            self._trim(key, slot, now)
        return self._names.get(key)

    def _file(self, table: dict[Any, deque[Entry]], path: tuple[str, ...], entry: Entry) -> None:
        assert self._key_of is not None
        k = self._key_of(entry[2], path)
        if k is not None:
            table.setdefault(k, deque()).append(entry)

    def _drop_oldest(self, slot: _Name) -> None:
        entry = slot.entries.popleft()
        cost = slot.sizes.popleft()
        slot.bytes -= cost
        self.events -= 1
        self.bytes -= cost
        if not slot.tables:
            return
        assert self._key_of is not None
        for path, table in slot.tables.items():
            k = self._key_of(entry[2], path)
            if k is None:
                continue
            bucket = table[k]
            bucket.popleft()  # FIFO on both sides: the oldest entry of its key
            if not bucket:
                del table[k]

    def _trim(self, key: tuple[str, str], slot: _Name, now: int) -> None:
        cutoff = now - self.window_ms
        entries = slot.entries
        while entries and entries[0][0] < cutoff:
            self._drop_oldest(slot)
        if not entries:
            del self._names[key]
            self._release(slot)

    def _evict(self, now: int) -> None:
        """Global bounds: drop stale names, then whole names while over a cap."""
        cutoff = now - self.window_ms
        names = self._names
        while names:
            key, slot = next(iter(names.items()))
            stale = slot.entries[-1][0] < cutoff
            over = self.events > self.max_total_events or self.bytes > self.max_total_bytes
            if not (stale or over):
                return
            if len(names) == 1:  # one name over the caps: shed its oldest events
                while slot.entries and (self.events > self.max_total_events
                                        or self.bytes > self.max_total_bytes or stale):
                    self._drop_oldest(slot)
                    stale = bool(slot.entries) and slot.entries[-1][0] < cutoff
                if not slot.entries:
                    del names[key]
                    self._release(slot)
                return
            del names[key]
            self._release(slot)

    def _release(self, slot: _Name) -> None:
        self.events -= len(slot.entries)
        self.bytes -= slot.bytes + self.NAME_OVERHEAD
        slot.entries.clear()

    def __len__(self) -> int:
        return self.events


def _since(entries: Any, since: int | None) -> list[Entry]:
    if since is None:
        return list(entries)
    out = []
    for entry in reversed(entries):
        if entry[0] < since:
            break
        out.append(entry)
    out.reverse()
    return out
