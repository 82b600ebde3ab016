"""Listener cache: one environment's listeners, one ``matcher.ListenerIndex`` per event name.

The store holds the truth; each replica holds a copy of the buckets (event names) it has
needed, loaded lazily (:meth:`TenantCache.warm`) and brought up to date from the store's
change log (:meth:`TenantCache.sync`) before events of that bucket are matched. The
engine applies its own writes here directly as well; replaying them from the log later
is harmless (an add of a present listener is a no-op, so is a removal of an absent one).

One ``TenantCache`` per environment, each with its own lock: one tenant's work never
waits for another's matching or loading. ``ListenerIndex`` is not thread-safe; every
method here expects ``lock`` held by the caller.

Bounds: buckets with listeners are kept (they are the index); empty buckets (names that
were published but have no listeners) are remembered up to ``MAX_EMPTY_BUCKETS``, least
recently used dropped first — a dropped one is simply loaded again when needed.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from typing import Any

import matcher

from .errors import Unavailable
from .store import BucketChanges, BucketRun, Cursor, LogMoves, RecentEvent, Store

log = logging.getLogger("cancelmatch.engine")


class _Bucket:
    __slots__ = ("index", "cursor")

    def __init__(self, cursor: Cursor) -> None:
        self.index = matcher.ListenerIndex()
        self.cursor = cursor


class TenantCache:
    """The listener buckets of one environment on this replica (see the module docstring)."""

    MAX_EMPTY_BUCKETS = 4096
    """Empty buckets remembered (each costs about 1.5 KB); more are forgotten, LRU."""

    RELOAD_ATTEMPTS = 5
    """A bucket whose log outruns its load this many times in a row is reported as
    Unavailable rather than loaded for ever."""

    def __init__(self, env: str, store: Store) -> None:
        self.env = env
        self.store = store
        self.lock = threading.RLock()
        self._buckets: dict[str, _Bucket] = {}
        self._empty: OrderedDict[str, None] = OrderedDict()
        self.size = 0  # listeners held in all buckets (metrics read it without the lock)

    # ------------------------------------------------------------------ loading

    def warm(self, names: Collection[str], now: int) -> None:
        """Load the named buckets this replica has never loaded (one store step for all
        of them, plus one load per bucket that turns out to have listeners)."""
        cold = {n: None for n in names if n not in self._buckets}
        if cold:
            self._apply_all(self.store.sync(self.env, [], now, cold), now)

    def sync(self, events: Sequence[RecentEvent], names: Collection[str], now: int) -> None:
        """Append ``events`` to the late window and catch the named buckets up (cold ones
        are loaded): one store step, whatever the number of events and names."""
        cursors: dict[str, Cursor | None] = {}
        for n in names:
            b = self._buckets.get(n)
            cursors[n] = None if b is None else b.cursor
        self._apply_all(self.store.sync(self.env, events, now, cursors), now)

    def catch_up(self, names: Collection[str], now: int) -> None:
        """Bring loaded buckets up to the log's head (no events appended)."""
        self.sync([], names, now)

    def _apply_all(self, changes: dict[str, BucketChanges | None], now: int) -> None:
        behind: dict[str, Cursor | None] = {}
        for name, ch in changes.items():
            if ch is None:
                self._load(name, now)
            else:
                self._apply(name, ch)
                if ch.more:
                    behind[name] = ch.cursor
        if behind:  # far behind: the rest of the log, one bounded step at a time
            self._apply_all(self.store.sync(self.env, [], now, behind), now)

    def _load(self, name: str, now: int) -> None:
        """(Re)load a bucket: drop the copy, read a cursor and then every pending run,
        then replay the log from that cursor. Installed only once complete."""
        self._drop(name)
        for _ in range(self.RELOAD_ATTEMPTS):
            cursor, chunks = self.store.load_bucket(self.env, name)
            bucket = _Bucket(cursor)
            added = 0
            for chunk in chunks:
                added += self._add_runs(bucket, name, chunk)
                # The index is long-lived: keep the cyclic GC from walking it again and
                # again while it grows (a full collection of a million listeners stalls
                # every thread for a second). O(1); freed objects still go by refcount.
                gc.freeze()
            changes = self.store.sync(self.env, [], now, {name: cursor})[name]
            if changes is not None:
                self._buckets[name] = bucket
                self.size += added
                self._apply_all({name: changes}, now)
                return
        raise Unavailable(f"the listeners of {name!r} in environment {self.env!r} change "
                          "faster than this replica can load them; try again")

    def _apply(self, name: str, ch: BucketChanges) -> None:
        if ch.reset:
            self._drop(name)
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(ch.cursor)
        # A run is added to the log before it is removed, and the store leaves out adds
        # of runs no longer pending: adds first, then removals, gives the log's end state.
        self.size += self._add_runs(bucket, name, ch.added)
        for run_id in ch.removed:
            self.size -= bucket.index.remove_run(run_id)
        bucket.cursor = ch.cursor
        self._note(name, bucket)

    def _add_runs(self, bucket: _Bucket, name: str, runs: list[BucketRun]) -> int:
        added, index, env = 0, bucket.index, self.env
        for run in runs:
            for li in run.listeners:
                try:
                    res = index.add(f"{run.run_id}/{li.rule_index}", event=name,
                                    expression=li.expression, trigger=run.trigger,
                                    run_id=run.run_id, env=env, expires_at=li.expires_at,
                                    run_started_at=run.started_at)
                except matcher.CompileError as exc:
                    log.error("stored listener %s/%s/%d no longer compiles: %s", env,
                              run.run_id, li.rule_index, exc.message)
                    continue
                added += res.status == "stored"
        return added

    def _drop(self, name: str) -> None:
        bucket = self._buckets.pop(name, None)
        self._empty.pop(name, None)
        if bucket is not None:
            self.size -= len(bucket.index)

    def _note(self, name: str, bucket: _Bucket) -> None:
        """Keep the empty-bucket LRU in step with the bucket's size."""
        if len(bucket.index):
            self._empty.pop(name, None)
            return
        self._empty[name] = None
        self._empty.move_to_end(name)
        while len(self._empty) > self.MAX_EMPTY_BUCKETS:
            old, _ = self._empty.popitem(last=False)
            del self._buckets[old]

    # ------------------------------------------------------------------ own writes

    def fast_forward(self, moves: LogMoves, empty: Collection[str] = ()) -> None:
        """After a write step of ours: skip its own log entries where nothing else came
        in between (they are applied here already); otherwise a later sync replays them.

        A log the step created (``before`` = "") is skipped only for buckets that were
        empty here before the step (``empty``): no log means an empty bucket in the store,
        so the copy matched it; a non-empty copy may hold listeners the store dropped."""
        for name, (before, after) in moves.items():
            bucket = self._buckets.get(name)
            if bucket is not None and (bucket.cursor == before if before
                                       else name in empty):
                bucket.cursor = after

    def add(self, name: str, listener_id: str, **kwargs: Any) -> matcher.AddResult:
        """Add one listener to a loaded bucket (the engine's own registration)."""
        bucket = self._buckets[name]
        res = bucket.index.add(listener_id, event=name, env=self.env, **kwargs)
        if res.status == "stored":
            self.size += 1
            self._empty.pop(name, None)
        return res

    def remove(self, name: str, listener_id: str) -> None:
        bucket = self._buckets.get(name)
        if bucket is not None and bucket.index.remove(listener_id):
            self.size -= 1
            self._note(name, bucket)

    def remove_run(self, run_id: str, names: Collection[str]) -> None:
        for name in names:
            bucket = self._buckets.get(name)
            if bucket is not None:
                n = bucket.index.remove_run(run_id)
                if n:
                    self.size -= n
                    self._note(name, bucket)

    def sweep(self, now: int) -> int:
        """Drop listeners that expired before ``now`` (expiry is not logged: every
        replica drops them by time). Returns how many left."""
        swept = 0
        for name, bucket in list(self._buckets.items()):
            n = len(bucket.index.sweep_expired(now))
            if n:
                swept += n
                self._note(name, bucket)
        self.size -= swept
        return swept

    # ------------------------------------------------------------------ reads

    def match(self, event: dict[str, Any]) -> list[matcher.Match]:
        bucket = self._buckets.get(event["name"])
        return [] if bucket is None else bucket.index.match(event, env=self.env)

    def probes(self, name: str, listener_id: str) -> Any:
        bucket = self._buckets.get(name)
        return None if bucket is None else bucket.index.probes(listener_id)

    def test(self, name: str, listener_id: str, event: dict[str, Any]) -> bool:
        bucket = self._buckets.get(name)
        return bucket is not None and bucket.index.test(listener_id, event)

    def loaded(self, name: str) -> bool:
        return name in self._buckets

    def listeners(self, name: str) -> int:
        bucket = self._buckets.get(name)
        return 0 if bucket is None else len(bucket.index)
