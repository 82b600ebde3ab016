"""Late listeners: a bounded window of recent events per (environment, event name).

An event can reach us after its run started but before the runner registered the run's
listeners (Inngest's open race: a cancel sent right after the trigger is missed). Every
new listener is tested against the window's events, so such an event still cancels.
Bounded twice: by age (``window_ms`` of server receive time) and by count per key.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

Entry = tuple[int, int, dict[str, Any]]  # (received_at ms, arrival sequence, event)


KeyOf = Callable[[dict[str, Any], tuple[str, ...]], Any]


class RecentEvents:
    """Recent events per (env, name), plus hash tables over them built on demand.

    A listener filed by hash (``match: data.x``) can only be fired by window events that
    carry its key, so ``recent_keyed`` looks those up instead of testing every event of
    the name: during a burst of thousands of events a registration stays O(matches), not
    O(window). A table for a path is built the first time a listener asks for it and then
    maintained on every add and expiry.
    """

    def __init__(self, window_ms: int, max_events: int) -> None:
        self.window_ms = window_ms
        self.max_events = max_events
        self._by_key: dict[tuple[str, str], deque[Entry]] = {}
        # (env, name) → path → event key → entries of that key, oldest first
        self._tables: dict[tuple[str, str], dict[tuple[str, ...], dict[Any, deque[Entry]]]] = {}
        self._key_of: KeyOf | None = None
        self._seq = itertools.count()

    def add(self, env: str, event: dict[str, Any], now: int) -> None:
        """Complexity: O(1 + P) amortised for P keyed paths of that name."""
        if self.window_ms <= 0:
            return
        key = (env, event["name"])
        entries = self._by_key.get(key)
        if entries is None:
            entries = self._by_key[key] = deque()
        entry = (now, next(self._seq), event)
        entries.append(entry)
        tables = self._tables.get(key)
        if tables:
            for path, table in tables.items():
                self._file(table, path, entry)
        if len(entries) > self.max_events:
            self._drop_oldest(key, entries)
        self._trim(key, entries, now)

    def recent(self, env: str, name: str, now: int, since: int | None = None) -> list[Entry]:
        """The window's events of that name received at or after ``since`` (all when
        None), oldest arrival first.

        Complexity: O(k) for the k entries returned — the scan starts at the newest entry
        and stops at the first one received before ``since``, so a busy event name costs
        a registration only the events that arrived since its run started.
        """
        entries = self._by_key.get((env, name))
        if not entries:
            return []
        self._trim((env, name), entries, now)
        return _since(entries, since)

    def recent_keyed(self, env: str, name: str, now: int, since: int | None,
                     probes: list[tuple[tuple[str, ...], tuple[Any, ...]]],
                     key_of: KeyOf) -> list[Entry]:
        """Like ``recent`` but only events whose key at some probe path is one of its keys
        (see ``ListenerIndex.probes``). Complexity: O(P + m) for m entries returned, after a
        one-off O(k) build the first time a path is probed."""
        key = (env, name)
        entries = self._by_key.get(key)
        if not entries:
            return []
        self._trim(key, entries, now)
        if key not in self._by_key:
            return []
        self._key_of = key_of
        tables = self._tables.setdefault(key, {})
        found: dict[int, Entry] = {}
        for path, keys in probes:
            table = tables.get(path)
            if table is None:
                table = tables[path] = {}
                for entry in entries:
                    self._file(table, path, entry)
            for k in keys:
                for entry in _since(table.get(k, ()), since):
                    found[entry[1]] = entry
        return [found[seq] for seq in sorted(found)]

    def _file(self, table: dict[Any, deque[Entry]], path: tuple[str, ...], entry: Entry) -> None:
        assert self._key_of is not None
        k = self._key_of(entry[2], path)
        if k is not None:
            table.setdefault(k, deque()).append(entry)

    def _drop_oldest(self, key: tuple[str, str], entries: deque[Entry]) -> None:
        entry = entries.popleft()
        tables = self._tables.get(key)
        if not tables:
            return
        assert self._key_of is not None
        for path, table in tables.items():
            k = self._key_of(entry[2], path)
            if k is None:
                continue
            bucket = table[k]
            bucket.popleft()  # FIFO on both sides: the oldest entry of its key
            if not bucket:
                del table[k]

    def _trim(self, key: tuple[str, str], entries: deque[Entry], now: int) -> None:
        cutoff = now - self.window_ms
        while entries and entries[0][0] < cutoff:
            self._drop_oldest(key, entries)
        if not entries:
            del self._by_key[key]
            self._tables.pop(key, None)

    def __len__(self) -> int:
        return sum(len(e) for e in self._by_key.values())


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
