"""Domain core: registrations, events, decisions, acknowledgements and bulk cancellations.

Transport-free: the gRPC servicers and the REST handlers call these methods with plain
Python values (server._model) and translate ServiceError subclasses into statuses.

Consistency. One lock serialises every mutation of the index and the store. Each call
runs in one SQLite transaction (a batch included) through :meth:`Engine._transaction`,
which holds the in-memory side effects until the commit succeeded: index removals of
cancelled or finished runs happen after the commit, index additions are undone on
rollback, and watchers are told only about committed decisions.

Keys. The index is shared by all environments, so its run key is ``"<env>/<run_id>"``
and a listener id is ``"<env>/<run_id>/<rule index>"`` (env names cannot contain '/').
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import matcher

from . import _validate as check
from ._bulk import BulkCancellations
from ._decisions import DecisionHub, make_decision
from ._model import (
    Decision,
    Event,
    FunctionSyncResult,
    ListenerInfo,
    RegisterResult,
    Rule,
    RunRequest,
)
from ._stats import EngineStats
from ._ulid import new_ulid
from ._window import RecentEvents
from .config import Config
from .errors import (
    Conflict,
    InvalidArgument,
    InvalidExpression,
    PayloadTooLarge,
    ServiceError,
    Unavailable,
)
from .metrics import Metrics
from .store import Store

log = logging.getLogger("cancelmatch.engine")


@dataclass
class _Effects:
    """In-memory consequences of one transaction, applied only once it committed."""

    added: list[str] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    decisions: list[Decision] = field(default_factory=list)


@dataclass
class _CheckedRun:
    req: RunRequest
    prefix: str
    trigger: dict[str, Any]
    specs: list[tuple[Rule, str, list[str]]]
    fingerprint: str

    @property
    def key(self) -> str:
        return f"{self.req.env}/{self.req.run_id}"

    def row(self) -> dict[str, Any]:
        """The run as the store returns it (what decisions are built from)."""
        r, t = self.req, self.req.trigger
        return {"env": r.env, "run_id": r.run_id, "app_id": r.app_id,
                "function_id": r.function_id, "trigger_name": t.name, "trigger_id": t.id,
                "trigger_ts": t.ts, "trigger_data": t.data_json or "{}"}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine:
    """The service's state: the listener index, the store and the decision hub."""

    REPLAY_PAGE = 500
    """Decisions read per query when a stream replays its backlog: bounds memory and lock
    hold time however many decisions are waiting."""

    LATE_SKEW_MS = 5_000
    """Clock skew tolerated between a runner's run start times and our receive times when
    picking late-listener candidates: larger finds more, smaller scans fewer events."""

    def __init__(self, config: Config, store: Store, *, clock: Callable[[], int] = _now_ms,
                 metrics: Metrics | None = None, index: Any = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.index = index if index is not None else matcher.ListenerIndex()
        self.hub = DecisionHub()
        self.recent = RecentEvents(config.late_window_ms, config.late_window_max_events)
        self.bulk = BulkCancellations(self)
        self._lock = threading.RLock()
        self._closed = False
        self.metrics.bind_engine(self.stats)
        self.restored = self._rebuild()

    # ------------------------------------------------------------------ lifecycle

    def _rebuild(self) -> int:
        """Re-add every unexpired listener of a pending run from the store."""
        now, restored = self.clock(), 0
        last: tuple[str, str, dict[str, Any]] = ("", "", {})
        for (env, run_id, i, name, expr, expires, started, tid, tname, tts,
             tdata) in self.store.pending_listeners():
            if expires < now:
                continue
            if last[:2] != (env, run_id):
                if not check.stored_json_loads(tdata, f"run {env}/{run_id} trigger", self.config):
                    continue
                data = matcher.loads_json(tdata)
                last = (env, run_id, {"name": tname, "id": tid, "ts": tts, "data": data})
            key = f"{env}/{run_id}"
            try:
                self.index.add(f"{key}/{i}", event=name, expression=expr, trigger=last[2],
                               run_id=key, env=env, expires_at=expires, run_started_at=started)
            except matcher.CompileError as exc:
                log.error("stored listener %s/%d no longer compiles: %s", key, i, exc.message)
                continue
            restored += 1
        return restored

    def close(self) -> None:
        """Wake every watcher and close the store; later calls raise Unavailable."""
        with self._lock:
            self._closed = True
            self.hub.close()
            self.store.close()

    @contextmanager
    def _transaction(self) -> Iterator[_Effects]:
        fx = _Effects()
        with self._lock:
            if self._closed:
                raise Unavailable("the server is shutting down")
            try:
                with self.store.transaction():
                    yield fx
            except BaseException:
                for key in fx.added:
                    self.index.remove_run(key)
                raise
            for key in fx.removed:
                self.index.remove_run(key)
        for d in fx.decisions:
            self.metrics.decision_made(d.env, d.cause)
        self.hub.publish(fx.decisions)

    def cancel(self, run: dict[str, Any], cause: str, fx: _Effects, **why: Any) -> Decision:
        """Cancel a stored pending run inside the current transaction: its status, its
        listeners (all of them, in the same step) and a durable decision."""
        now = self.clock()
        d = make_decision(run, cause=cause, now=now, **why)
        self.store.set_run_status(run["env"], run["run_id"], "cancelled", now)
        self.store.delete_listeners_of_run(run["env"], run["run_id"])
        self.store.insert_decision(d)
        fx.removed.add(f"{run['env']}/{run['run_id']}")
        fx.decisions.append(d)
        return d

    def stats(self) -> EngineStats:
        """Live sizes for the metrics (read at scrape time). O(listeners) for now: the
        per-environment index is the store seam's job (issue 10)."""
        with self._lock:
            pending: dict[str, int] = {}
            for lid in self.index:
                env = lid.partition("/")[0]
                pending[env] = pending.get(env, 0) + 1
            return EngineStats(pending_listeners=pending,
                               watchers={"": self.hub.watchers()},
                               late_window_events=len(self.recent))

    # ------------------------------------------------------------------ registration

    def register_run(self, req: RunRequest) -> RegisterResult:
        return self.register_runs([req], prefix="")[0]

    def register_runs(self, reqs: list[RunRequest], prefix: str = "runs") -> list[RegisterResult]:
        """Register runs in one transaction (all or nothing); validation happens first."""
        if len(reqs) > self.config.max_runs_per_batch:
            raise PayloadTooLarge(
                f"{prefix}: {len(reqs)} runs, the limit is {self.config.max_runs_per_batch}"
            )
        checked = [self._check_run(r, f"{prefix}[{i}]." if prefix else "")
                   for i, r in enumerate(reqs)]
        with self._transaction() as fx:
            results = [self._register(c, fx) for c in checked]
        registered: dict[str, int] = {}
        for c, res in zip(checked, results, strict=True):
            registered[c.req.env] = registered.get(c.req.env, 0) + (res.status == "registered")
        for env, n in registered.items():
            self.metrics.runs_registered(env, n)
        return results

    def _check_run(self, req: RunRequest, p: str) -> _CheckedRun:
        env = check.env_name(req.env, f"{p}env")
        run_id = check.ulid(req.run_id, f"{p}run_id")
        check.required(req.app_id, f"{p}app_id")
        check.required(req.function_id, f"{p}function_id")
        check.epoch_ms(req.started_at, f"{p}run_started_at", required=True)
        t = req.trigger
        check.event_fields(t, f"{p}trigger.")
        data = check.event_data(t.data_json, f"{p}trigger.data", self.config)
        trigger = Event(t.id or f"trigger-{run_id}", t.name, t.ts or req.started_at,
                        t.data_json or "{}")
        req = RunRequest(env, req.app_id, req.function_id, run_id, req.started_at, trigger,
                         tuple(req.rules))
        compiled = check.rules(req.rules, f"{p}cancel_on", self.config)
        specs = [(r, e, w) for r, (e, w) in zip(req.rules, compiled, strict=True)]
        fingerprint = check.fingerprint(req.app_id, req.function_id, str(req.started_at),
                                        trigger.id, trigger.name, trigger.data_json,
                                        repr(req.rules))
        return _CheckedRun(req, p, check.event_dict(trigger, data), specs, fingerprint)

    def _register(self, c: _CheckedRun, fx: _Effects) -> RegisterResult:
        r = c.req
        existing = self.store.get_run(r.env, r.run_id)
        if existing is not None:
            return self._existing(existing, c)
        specs = c.specs or self._function_specs(c)
        rules = tuple(s[0] for s in specs)
        self.store.insert_run(r.env, r.app_id, r.function_id, r.run_id, r.started_at, r.trigger,
                              rules, c.fingerprint, "pending", self.clock())
        warnings = [w for s in specs for w in s[2]]
        bulk = self.bulk.at_registration(c.row(), c.trigger, r.started_at, fx)
        if bulk is not None:
            return RegisterResult(r.run_id, "cancelled", [], warnings, bulk)
        listeners = self._add_listeners(c, specs, fx)
        late = self._late_match(c, listeners)
        if late is not None:
            i, event = late
            d = self.cancel(c.row(), "event", fx, rule_index=i, event_id=event["id"],
                            event_name=event["name"])
            return RegisterResult(r.run_id, "cancelled", listeners, warnings, d)
        return RegisterResult(r.run_id, "registered", listeners, warnings)

    def _existing(self, row: dict[str, Any], c: _CheckedRun) -> RegisterResult:
        env, run_id = row["env"], row["run_id"]
        if row["status"] == "cancelled":
            return RegisterResult(run_id, "cancelled",
                                  decision=self.store.decision_for_run(env, run_id))
        if row["fingerprint"] != c.fingerprint:
            raise Conflict(f"{c.prefix}run_id: run {run_id} is already registered with a "
                           "different function, start time, trigger or rules")
        if row["status"] == "finished":
            return RegisterResult(run_id, "finished")
        listeners = [ListenerInfo(f"{run_id}/{i}", i, name, "stored", "", expr, expires)
                     for i, name, expr, expires in self.store.listeners_of_run(env, run_id)]
        return RegisterResult(run_id, "already_registered", listeners)

    def _function_specs(self, c: _CheckedRun) -> list[tuple[Rule, str, list[str]]]:
        r = c.req
        rules = self.store.function_rules(r.env, r.app_id, r.function_id) or ()
        compiled = check.rules(rules, f"{c.prefix}function {r.function_id!r} cancel_on",
                               self.config)
        return [(rule, e, w) for rule, (e, w) in zip(rules, compiled, strict=True)]

    def _add_listeners(self, c: _CheckedRun, specs: list[tuple[Rule, str, list[str]]],
                       fx: _Effects) -> list[ListenerInfo]:
        r, key = c.req, c.key
        fx.added.append(key)
        infos, rows = [], []
        for i, (rule, expression, _) in enumerate(specs):
            expires = check.expiry(rule.timeout, r.started_at, self.config,
                                   f"{c.prefix}cancel_on[{i}].timeout")
            if (never := check.expired_reason(expires, r.started_at, self.clock())) is not None:
                infos.append(ListenerInfo(f"{r.run_id}/{i}", i, rule.event, "never_fires",
                                          never, "", expires))
                continue
            try:
                res = self.index.add(f"{key}/{i}", event=rule.event, expression=expression,
                                     trigger=c.trigger, run_id=key, env=r.env,
                                     expires_at=expires, run_started_at=r.started_at)
            except matcher.CompileError as exc:
                raise InvalidExpression(f"{c.prefix}cancel_on[{i}]", exc) from None
            status = "never_fires" if res.status == "never_fires" else "stored"
            # The residual's text is left out: rendering it costs more than the whole
            # registration. Explain shows it.
            infos.append(ListenerInfo(f"{r.run_id}/{i}", i, rule.event, status,
                                      res.reason or "", "", expires))
            if status == "stored":
                rows.append((r.env, r.run_id, i, rule.event, expression, expires))
        self.store.insert_listeners(rows)
        return infos

    def _late_match(self, c: _CheckedRun,
                    listeners: list[ListenerInfo]) -> tuple[int, dict[str, Any]] | None:
        """The earliest-arrived recent event that one of the new listeners matches.

        Only events we received since shortly before the run started can be newer than
        it; LATE_SKEW_MS allows for the runner's clock being ahead of ours.
        """
        now, best = self.clock(), None
        since = c.req.started_at - self.LATE_SKEW_MS
        for info in listeners:
            if info.status != "stored":
                continue
            lid = f"{c.key}/{info.rule_index}"
            probes = self.index.probes(lid)
            if probes is None:  # not filed by hash: every recent event of the name
                recent = self.recent.recent(c.req.env, info.event, now, since)
            else:  # only the recent events that carry one of its keys
                recent = self.recent.recent_keyed(c.req.env, info.event, now, since, probes,
                                                  self.index.event_key)
            for _, seq, event in recent:
                if best is not None and seq >= best[0]:
                    break
                if event["ts"] >= c.req.started_at and self.index.test(lid, event):
                    best = (seq, info.rule_index, event)
                    break
        return None if best is None else (best[1], best[2])

    def finish_run(self, env: str, run_id: str) -> tuple[bool, int]:
        """(found, listeners removed). A cancelled run stays cancelled."""
        env = check.env_name(env)
        run_id = check.ulid(run_id, "run_id")
        with self._transaction() as fx:
            row = self.store.get_run(env, run_id)
            if row is None:
                return False, 0
            if row["status"] != "pending":
                return True, 0
            removed = self.store.delete_listeners_of_run(env, run_id)
            self.store.set_run_status(env, run_id, "finished", self.clock())
            fx.removed.add(f"{env}/{run_id}")
        return True, removed

    # ------------------------------------------------------------------ events and decisions

    def publish_events(self, env: str, events: list[Event]) -> tuple[list[str], list[Decision]]:
        """Match each event (in order) and cancel each matched run at most once."""
        env = check.env_name(env)
        if len(events) > self.config.max_events_per_batch:
            raise PayloadTooLarge(f"events: {len(events)} events, the limit is "
                                  f"{self.config.max_events_per_batch}")
        now = self.clock()
        decoded = []
        for i, e in enumerate(events):
            check.event_fields(e, f"events[{i}].")
            data = check.event_data(e.data_json, f"events[{i}].data", self.config)
            decoded.append(check.event_dict(Event(e.id or new_ulid(now), e.name, e.ts or now),
                                            data))
        with self._transaction() as fx:
            for event in decoded:
                self._match_one(env, event, fx, now)
        self.metrics.events_published(env, len(decoded))
        return [e["id"] for e in decoded], fx.decisions

    def _match_one(self, env: str, event: dict[str, Any], fx: _Effects, now: int) -> None:
        started = time.perf_counter()
        matches = self.index.match(event, env=env)
        self.metrics.observe_match(time.perf_counter() - started)
        self.recent.add(env, event, now)
        for m in matches:
            if m.run_id in fx.removed:
                continue  # already cancelled by an earlier event of this batch
            run_env, _, run_id = m.run_id.partition("/")
            row = self.store.get_run(run_env, run_id)
            if row is None or row["status"] != "pending":
                continue
            rule_index = int(m.listener_id.rsplit("/", 1)[1])
            self.cancel(row, "event", fx, rule_index=rule_index, event_id=event["id"],
                        event_name=event["name"])

    def ack_decisions(self, env: str, decision_ids: list[str]) -> int:
        env = check.env_name(env)
        check.at_most(len(decision_ids), "decision_ids", self.config.max_ids_per_call, "ids")
        ids = [check.ulid(d, f"decision_ids[{i}]") for i, d in enumerate(decision_ids)]
        if not ids:
            return 0
        with self._transaction():
            return self.store.ack_decisions(env, ids, self.clock())

    def watch(self, env: str, is_active: Callable[[], bool] = lambda: True,
              poll_s: float = 0.25) -> Iterator[Decision]:
        """Every unacknowledged decision of ``env`` (oldest first), then new ones as they
        are committed, until ``is_active()`` turns false or the engine closes."""
        env = check.env_name(env)
        # Subscribe before the replay: nothing committed in between is lost.
        q = self.hub.subscribe(env, self.config.max_watchers)
        try:
            replayed: set[str] = set()
            for d in self._replay(env):
                replayed.add(d.decision_id)
                yield d
            while True:
                try:
                    item = q.get(timeout=poll_s)
                except queue.Empty:
                    if not is_active():
                        return
                    continue
                if item is None:  # CLOSED: the hub is shutting down
                    return
                if item.decision_id not in replayed:
                    yield item
        finally:
            self.hub.unsubscribe(env, q)

    def _replay(self, env: str) -> Iterator[Decision]:
        """The env's unacknowledged decisions, oldest first, read a page at a time (the
        lock is not held while the caller sends them)."""
        after = 0
        while True:
            with self._lock:
                if self._closed:
                    raise Unavailable("the server is shutting down")
                page = self.store.unacked_page(env, after, self.REPLAY_PAGE)
            for _, d in page:
                yield d
            if len(page) < self.REPLAY_PAGE:
                return
            after = page[-1][0]

    # ------------------------------------------------------------------ functions

    def sync_functions(self, env: str, app_id: str,
                       functions: list[tuple[str, tuple[Rule, ...]]]) -> list[FunctionSyncResult]:
        """Validate each function like an Inngest app sync; store the valid ones."""
        env = check.env_name(env)
        check.required(app_id, "app_id")
        check.at_most(len(functions), "functions", self.config.max_functions_per_sync, "functions")
        results, seen = [], set()
        for i, (function_id, rules) in enumerate(functions):
            errors, warnings = [], []
            try:
                check.required(function_id, f"functions[{i}].function_id")
                if function_id in seen:
                    raise InvalidArgument(f"functions[{i}]: duplicate function id {function_id!r}")
                warnings = [w for _, ws in check.rules(rules, "cancel_on", self.config) for w in ws]
            except ServiceError as exc:
                errors.append(exc.message)
            seen.add(function_id)
            results.append(FunctionSyncResult(function_id, not errors, errors, warnings))
        with self._transaction():
            for (function_id, rules), res in zip(functions, results, strict=True):
                if res.ok:
                    self.store.upsert_function(env, app_id, function_id, rules, self.clock())
        return results

    # ------------------------------------------------------------------ maintenance

    def sweep(self, now: int | None = None) -> int:
        """Remove listeners that expired before ``now``; returns how many left the index."""
        now = self.clock() if now is None else now
        with self._transaction():
            swept = self.index.sweep_expired(now)
            self.store.delete_expired_listeners(now)
            self.store.purge_ended(now - self.config.retention_ms)
        return len(swept)
