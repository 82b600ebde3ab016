"""Store seam: the one interface the engine sees, and the plain values that cross it.

Every method is one *atomic step* (one SQLite transaction, or one Lua script / one
pipeline of scripts on Redis). The engine is written as a sequence of these steps and
never holds a store transaction open across its own logic (CEL evaluation, matching),
because Redis cannot run CEL inside a transaction. Why that sequence is still correct
when several replicas share one Redis is argued in ``server/README.md`` ("Scale out").

Listener cache. Each replica keeps a ``matcher.ListenerIndex`` per (environment, event
name) *bucket*, filled lazily from the store (:meth:`Store.load_bucket`) and kept up to
date from the bucket's change log (:meth:`Store.sync`), whose positions are opaque
:data:`Cursor` strings. A store that is written by one process only (SQLite) has no log:
its ``sync`` never reports changes, because that process applied them itself.

Late window. Recent events are kept per (environment, event name) by the store
(:meth:`Store.sync` appends them, :meth:`Store.register` refreshes what the registration
reads); :meth:`Store.recent_keyed` answers from memory.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from .._model import Cancellation, CancelOrder, Decision, Event, Rule
from .._window import Entry, KeyOf

Cursor = str
"""A position in one bucket's change log: "everything up to it is applied"."""

LogMoves = dict[str, tuple[Cursor, Cursor]]
"""Per bucket, where a write step found its change log and where it left it. A replica
whose cursor is the first has applied this step's own entries itself and may move to the
second without reading them back (the entries in between are all its own)."""

Probes = list[tuple[tuple[str, ...], tuple[Any, ...]]]


class ListenerRow(NamedTuple):
    """One stored listener of a run: rule index, event name, expression, expiry.
    (A tuple: a bucket load makes a million of them.)"""

    rule_index: int
    event: str
    expression: str
    expires_at: int


@dataclass(frozen=True)
class NewRun:
    """A run to insert, with the listeners that must be stored (not the never-firing ones)."""

    run_id: str
    app_id: str
    function_id: str
    started_at: int
    trigger: Event
    rules: tuple[Rule, ...]
    fingerprint: str
    listeners: tuple[ListenerRow, ...]


@dataclass(frozen=True)
class ExistingRun:
    """What a registration found already stored under its run id."""

    run_id: str
    status: str  # "pending", "cancelled" or "finished"
    fingerprint: str
    listeners: tuple[ListenerRow, ...] = ()
    decision: Decision | None = None


@dataclass(frozen=True)
class Registered:
    """Outcome of :meth:`Store.register`.

    ``conflict`` is the batch index of a run id already stored with another fingerprint;
    then nothing was written. Otherwise ``existing[i]`` is None for a run inserted now.
    ``cancellations`` are the bulk cancellations of every function named in the batch,
    read after the runs were written (the registration-time bulk check needs that order).
    """

    conflict: int | None
    existing: list[ExistingRun | None] = field(default_factory=list)
    cancellations: dict[tuple[str, str], list[Cancellation]] = field(default_factory=dict)
    moves: LogMoves = field(default_factory=dict)


@dataclass(frozen=True)
class Cancelled:
    """A run this step moved from pending to cancelled, and the event names of the
    listeners it had (the buckets a replica drops it from)."""

    decision: Decision
    buckets: tuple[str, ...]


@dataclass(frozen=True)
class CancelStep:
    """Outcome of :meth:`Store.cancel`: the runs it decided (in order) and its log moves."""

    decided: list[Cancelled] = field(default_factory=list)
    moves: LogMoves = field(default_factory=dict)


@dataclass(frozen=True)
class FinishStep:
    """Outcome of :meth:`Store.finish`."""

    found: bool
    removed: int = 0
    buckets: tuple[str, ...] = ()
    moves: LogMoves = field(default_factory=dict)


class BucketRun(NamedTuple):
    """A pending run's listeners in one bucket, with what the index needs to add them."""

    run_id: str
    started_at: int
    trigger: dict[str, Any]
    listeners: tuple[ListenerRow, ...]


@dataclass(frozen=True)
class BucketChanges:
    """A bucket's change log from a cursor towards its head: runs added, run ids removed.
    ``reset``: the bucket is empty and its log gone; drop every listener held for it.
    ``more``: the head is further (one step reads a bounded part); sync again."""

    cursor: Cursor
    added: list[BucketRun] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reset: bool = False
    more: bool = False


@dataclass(frozen=True)
class RecentEvent:
    """A published event for the late window: decoded, and its data as the client sent it."""

    event: dict[str, Any]
    data_json: str


@dataclass(frozen=True)
class StoreStats:
    """Sizes the store reports at scrape time (O(environments) to compute)."""

    unacked_decisions: dict[str, int] = field(default_factory=dict)
    late_window_events: int = 0
    late_window_bytes: int = 0


@dataclass(frozen=True)
class RunChunk:
    """Pending runs of one function, as bulk cancellation reads them."""

    runs: list[tuple[str, int, dict[str, Any]]]  # (run_id, started_at, trigger)


class Store(Protocol):
    """Durable state of cancelmatch. Every method is one atomic step and thread-safe.

    Errors: a store that cannot be reached raises ``server.errors.Unavailable`` and has
    written nothing (each step is all or nothing).
    """

    # -- lifecycle and metrics

    def close(self) -> None: ...

    def pending_listener_count(self) -> int:
        """Unexpired listeners of pending runs, all environments (logged at start)."""

    def stats(self, envs: Collection[str]) -> StoreStats: ...

    # -- functions

    def upsert_functions(self, env: str, app_id: str,
                         functions: Sequence[tuple[str, tuple[Rule, ...]]], now: int) -> None: ...

    def function_rules(self, env: str, app_id: str,
                       function_id: str) -> tuple[Rule, ...] | None: ...

    def function_known(self, env: str, app_id: str, function_id: str) -> bool:
        """Synced, or named by at least one stored run."""

    # -- runs

    def register(self, env: str, runs: Sequence[NewRun], now: int,
                 window: Mapping[str, int]) -> Registered:
        """Insert the new runs and their listeners, all or nothing (see Registered).

        Then, in the same step, bring the late window of each event name in ``window``
        (name → earliest receive time the caller needs) up to date, so that
        :meth:`recent_keyed` afterwards sees every event appended before this step.
        """

    def cancel(self, env: str, orders: Sequence[CancelOrder], now: int) -> CancelStep:
        """Each still-pending run: pending → cancelled, its listeners removed and one
        decision appended, atomically per run. Runs no longer pending are skipped, so
        two replicas (or an event and a bulk cancellation) never decide a run twice."""

    def finish(self, env: str, run_id: str, now: int) -> FinishStep:
        """Only a pending run changes: its listeners go (their count and event names)."""

    def get_run(self, env: str, run_id: str) -> dict[str, Any] | None: ...

    def listeners_of_run(self, env: str, run_id: str) -> list[ListenerRow]: ...

    # -- listener cache and late window

    def sync(self, env: str, events: Sequence[RecentEvent], now: int,
             cursors: Mapping[str, Cursor | None]) -> dict[str, BucketChanges | None]:
        """Append ``events`` to the late window, then read each named bucket's changes
        after its cursor (in that order, in one step). None for a bucket the caller must
        (re)load: it never loaded it (cursor None) and it is not empty, or the log no
        longer reaches back to the cursor."""

    def load_bucket(self, env: str, name: str) -> tuple[Cursor, Iterator[list[BucketRun]]]:
        """A cursor taken first, then the bucket's pending runs in bounded chunks;
        replaying the log from the cursor afterwards makes the copy exact."""

    def recent_keyed(self, env: str, name: str, now: int, since: int,
                     probes: Probes | None, key_of: KeyOf) -> list[Entry]:
        """Window events of ``name`` received at or after ``since``, oldest first; with
        ``probes`` only those carrying one of the probed keys (see RecentEvents)."""

    # -- decisions

    def unacked_after(self, env: str, after: int,
                      limit: int) -> tuple[list[tuple[int, Decision]], int]:
        """Up to ``limit`` unacknowledged decisions with sequence > ``after`` (oldest
        first, as (seq, decision)) and the highest sequence given so far in ``env``."""

    def wait_decisions(self, env: str, after: int, timeout: float) -> None:
        """Return once ``env`` has a decision with sequence > ``after``, or after
        ``timeout`` seconds, whichever is first (decisions of any replica count)."""

    def ack(self, env: str, decision_ids: Sequence[str], now: int) -> int: ...

    def unacked_decisions(self, env: str) -> list[Decision]: ...

    # -- bulk cancellations

    def add_cancellation(self, c: Cancellation) -> bool:
        """Store ``c``; False (and nothing stored) when its function is unknown."""

    def set_runs_cancelled(self, env: str, cancellation_id: str, n: int) -> None: ...

    def cancellations(self, env: str) -> list[Cancellation]: ...

    def delete_cancellation(self, env: str, cancellation_id: str) -> Cancellation | None: ...

    def pending_runs_of_function(self, env: str, app_id: str, function_id: str,
                                 started_after: int | None,
                                 started_before: int) -> Iterator[RunChunk]:
        """Pending runs with ``started_after <= started_at <= started_before``, in
        chunks (each chunk read in its own short step)."""

    # -- maintenance

    def sweep(self, now: int, purge_before: int) -> int:
        """Delete listeners expired before ``now``; purge runs that ended and decisions
        acknowledged before ``purge_before``. Safe to run on every replica at once."""
