"""Late listeners: a bounded window of recent events per (environment, event name).

An event can reach us after its run started but before the runner registered the run's
listeners (Inngest's open race: a cancel sent right after the trigger is missed). Every
new listener is tested against the window's events, so such an event still cancels.
Bounded twice: by age (``window_ms`` of server receive time) and by count per key.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

Entry = tuple[int, int, dict[str, Any]]  # (received_at ms, arrival sequence, event)


class RecentEvents:
    def __init__(self, window_ms: int, max_events: int) -> None:
        self.window_ms = window_ms
        self.max_events = max_events
        self._by_key: dict[tuple[str, str], deque[Entry]] = {}
        self._seq = itertools.count()

    def add(self, env: str, event: dict[str, Any], now: int) -> None:
        """Complexity: O(1) amortised (expired entries are dropped from the left)."""
        if self.window_ms <= 0:
            return
        key = (env, event["name"])
        entries = self._by_key.get(key)
        if entries is None:
            entries = self._by_key[key] = deque(maxlen=self.max_events)
        entries.append((now, next(self._seq), event))
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
        if since is None:
            return list(entries)
        out = []
        for entry in reversed(entries):
            if entry[0] < since:
                break
            out.append(entry)
        out.reverse()
        return out

    def _trim(self, key: tuple[str, str], entries: deque[Entry], now: int) -> None:
        cutoff = now - self.window_ms
        while entries and entries[0][0] < cutoff:
            entries.popleft()
        if not entries:
            del self._by_key[key]

    def __len__(self) -> int:
        return sum(len(e) for e in self._by_key.values())
