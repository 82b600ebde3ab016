"""Store, embedded: one SQLite file of functions, runs, listeners, decisions, cancellations.

Journal mode WAL lets readers run beside the single writer, and a commit is one append to
the WAL. ``synchronous=FULL`` (the default) fsyncs the WAL at every commit, so a call that
returned survives power loss as well as ``kill -9``; ``NORMAL`` survives any process crash
(the WAL is in the OS page cache) but may lose the last commits on power loss — it is
offered for benchmarks and throwaway deployments, and batches amortise FULL's fsync anyway.

One process owns the file (it is the single-node store), so there is no change log: the
engine of that process applies every change to its index itself, and ``sync`` only ever
says "nothing new". The late window is memory only (it does not survive a restart).

Threads: one connection, one lock; every public method holds the lock for one short
transaction (bulk reads are chunked), so no environment waits long behind another.
Times are epoch milliseconds; every row is keyed by environment first.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._decisions import make_decision
from .._model import Cancellation, CancelOrder, Decision, Rule
from .._ulid import new_ulid
from .._window import Entry, KeyOf, RecentEvents
from ._interface import (
    BucketChanges,
    BucketRun,
    Cancelled,
    CancelStep,
    Cursor,
    ExistingRun,
    FinishStep,
    ListenerRow,
    NewRun,
    Probes,
    RecentEvent,
    Registered,
    RunChunk,
    StoreStats,
)
from ._sqlite_schema import DECISION_COLUMNS, SCHEMA
from ._triggers import decode_trigger


class _Conflict(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


class SQLiteStore:
    """One SQLite database file (see the module docstring)."""

    SYNCHRONOUS_MODES = ("FULL", "NORMAL")

    CHUNK = 1000
    """Rows read per step by bucket loads, bulk cancellations and sweeps: bounds how long
    one environment's big read holds the store lock (a few milliseconds)."""

    def __init__(self, path: Path | str, synchronous: str = "FULL",
                 window: RecentEvents | None = None) -> None:
        if synchronous.upper() not in self.SYNCHRONOUS_MODES:
            raise ValueError(f"sqlite synchronous must be FULL or NORMAL, not {synchronous!r}")
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is one transaction.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute("PRAGMA foreign_keys=OFF")
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._depth = 0
        self._closed = False
        self.path = path
        self.window = window if window is not None else RecentEvents(30_000, 10_000)
        self._head = int(self._db.execute(
            "SELECT coalesce(max(seq), 0) FROM decisions").fetchone()[0])
        self._unacked: dict[str, int] = dict(self._db.execute(
            "SELECT env, count(*) FROM decisions WHERE acked_at IS NULL GROUP BY env"))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._changed.notify_all()
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit when the outermost block exits normally, roll back when it raises."""
        with self._lock:
            if self._depth == 0:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("COMMIT")

    def _one(self, sql: str, params: Iterable[Any]) -> Any:
        return self._db.execute(sql, tuple(params)).fetchone()

    def _row(self, sql: str, params: Iterable[Any]) -> dict[str, Any] | None:
        cur = self._db.execute(sql, tuple(params))
        row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row,
                                                  strict=True))

    # ------------------------------------------------------------------ metrics

    def pending_listener_count(self) -> int:
        with self._lock:
            return int(self._one(
                "SELECT count(*) FROM listeners l JOIN runs r ON r.env = l.env "
                "AND r.run_id = l.run_id WHERE r.status = 'pending'", ())[0])

    def stats(self, envs: Collection[str]) -> StoreStats:
        with self._lock:
            return StoreStats(dict(self._unacked), self.window.events, self.window.bytes)

    def count(self, table: str, where: str = "1") -> int:
        assert table in ("functions", "runs", "listeners", "decisions", "cancellations")
        with self._lock:
            return int(self._one(f"SELECT count(*) FROM {table} WHERE {where}", ())[0])

    def query_plan(self, sql: str, params: tuple[Any, ...]) -> str:
        """SQLite's plan for ``sql`` (tests assert index use)."""
        with self._lock:
            return " | ".join(r[-1] for r in self._db.execute("EXPLAIN QUERY PLAN " + sql,
                                                                params))

    # ------------------------------------------------------------------ functions

    def upsert_functions(self, env: str, app_id: str,
                         functions: Sequence[tuple[str, tuple[Rule, ...]]], now: int) -> None:
        with self.transaction():
            for function_id, rules in functions:
                self._db.execute(
                    "INSERT INTO functions VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                    "SET rules_json = excluded.rules_json, synced_at = excluded.synced_at",
                    (env, app_id, function_id, _rules_json(rules), now))

    def function_rules(self, env: str, app_id: str, function_id: str) -> tuple[Rule, ...] | None:
        with self._lock:
            row = self._one("SELECT rules_json FROM functions WHERE env = ? AND app_id = ? "
                            "AND function_id = ?", (env, app_id, function_id))
        return None if row is None else tuple(Rule.from_json(r) for r in json.loads(row[0]))

    def function_known(self, env: str, app_id: str, function_id: str) -> bool:
        with self._lock:
            return self._function_known(env, app_id, function_id)

    def _function_known(self, env: str, app_id: str, function_id: str) -> bool:
        key = (env, app_id, function_id)
        return (self._one("SELECT 1 FROM functions WHERE env = ? AND app_id = ? "
                          "AND function_id = ?", key) is not None
                or self._one("SELECT 1 FROM runs WHERE env = ? AND app_id = ? "
                             "AND function_id = ? LIMIT 1", key) is not None)

    # ------------------------------------------------------------------ runs

    def get_run(self, env: str, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._row("SELECT * FROM runs WHERE env = ? AND run_id = ?", (env, run_id))

    def listeners_of_run(self, env: str, run_id: str) -> list[ListenerRow]:
        with self._lock:
            return [ListenerRow(*r) for r in self._db.execute(
                "SELECT rule_index, event_name, expression, expires_at FROM listeners "
                "WHERE env = ? AND run_id = ? ORDER BY rule_index", (env, run_id))]

    def register(self, env: str, runs: Sequence[NewRun], now: int,
                 window: Mapping[str, int]) -> Registered:
        try:
            with self.transaction():
                existing = [self._register_one(env, i, r, now) for i, r in enumerate(runs)]
                functions = {(r.app_id, r.function_id) for r in runs}
                cancellations = {f: self._cancellations(env, *f) for f in sorted(functions)}
        except _Conflict as exc:
            return Registered(exc.index)
        return Registered(None, existing, cancellations)

    def _register_one(self, env: str, i: int, r: NewRun, now: int) -> ExistingRun | None:
        row = self._row("SELECT * FROM runs WHERE env = ? AND run_id = ?", (env, r.run_id))
        if row is not None:
            # A cancelled run answers with its decision whatever was sent this time.
            if row["fingerprint"] != r.fingerprint and row["status"] != "cancelled":
                raise _Conflict(i)
            return self._existing(env, row)
        t = r.trigger
        self._db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, NULL)",
            (env, r.run_id, r.app_id, r.function_id, r.started_at, t.id, t.name, t.ts,
             t.data_json, _rules_json(r.rules), r.fingerprint, now))
        self._db.executemany(
            "INSERT INTO listeners VALUES (?, ?, ?, ?, ?, ?)",
            [(env, r.run_id, li.rule_index, li.event, li.expression, li.expires_at)
             for li in r.listeners])
        return None

    def _existing(self, env: str, row: dict[str, Any]) -> ExistingRun:
        run_id = row["run_id"]
        decision = None
        if row["status"] == "cancelled":
            found = self._one(f"SELECT {DECISION_COLUMNS} FROM decisions WHERE env = ? "
                              "AND run_id = ? ORDER BY seq LIMIT 1", (env, run_id))
            decision = None if found is None else _decision(found)
        listeners = tuple(ListenerRow(*r) for r in self._db.execute(
            "SELECT rule_index, event_name, expression, expires_at FROM listeners "
            "WHERE env = ? AND run_id = ? ORDER BY rule_index", (env, run_id)))
        return ExistingRun(run_id, row["status"], row["fingerprint"], listeners, decision)

    def _end(self, env: str, run_id: str, status: str, now: int) -> tuple[int, tuple[str, ...]]:
        # No DISTINCT: with it the planner prefers the bucket index and scans the env.
        names = tuple(dict.fromkeys(n for (n,) in self._db.execute(
            "SELECT event_name FROM listeners WHERE env = ? AND run_id = ?", (env, run_id))))
        removed = self._db.execute("DELETE FROM listeners WHERE env = ? AND run_id = ?",
                                   (env, run_id)).rowcount
        self._db.execute("UPDATE runs SET status = ?, ended_at = ? WHERE env = ? AND run_id = ?",
                         (status, now, env, run_id))
        return removed, names

    def cancel(self, env: str, orders: Sequence[CancelOrder], now: int) -> CancelStep:
        out: list[Cancelled] = []
        with self._lock:
            head = self._head
            with self.transaction():
                for o in orders:
                    row = self._row("SELECT * FROM runs WHERE env = ? AND run_id = ?",
                                    (env, o.run_id))
                    if row is None or row["status"] != "pending":
                        continue
                    _, names = self._end(env, o.run_id, "cancelled", now)
                    d = make_decision(row, o, decision_id=new_ulid(now), decided_at=now)
                    head = self._insert_decision(d)
                    out.append(Cancelled(d, names))
            if out:  # committed: now watchers may see them
                self._head = head
                self._unacked[env] = self._unacked.get(env, 0) + len(out)
                self._changed.notify_all()
        return CancelStep(out)

    def _insert_decision(self, d: Decision) -> int:
        cur = self._db.execute(
            f"INSERT INTO decisions ({DECISION_COLUMNS}) VALUES ({', '.join('?' * 12)})",
            (d.decision_id, d.env, d.run_id, d.app_id, d.function_id, d.cause, d.rule_index,
             d.event_id, d.event_name, d.cancellation_id, d.decided_at,
             json.dumps(d.function_cancelled_event)))
        return int(cur.lastrowid or 0)

    def finish(self, env: str, run_id: str, now: int) -> FinishStep:
        with self.transaction():
            row = self._one("SELECT status FROM runs WHERE env = ? AND run_id = ?",
                            (env, run_id))
            if row is None or row[0] != "pending":
                return FinishStep(row is not None)
            removed, names = self._end(env, run_id, "finished", now)
        return FinishStep(True, removed, names)

    # ------------------------------------------------------------------ listener cache

    def sync(self, env: str, events: Sequence[RecentEvent], now: int,
             cursors: Mapping[str, Cursor | None]) -> dict[str, BucketChanges | None]:
        with self._lock:
            for e in events:
                self.window.add(env, e.event, now, len(e.data_json))
            out: dict[str, BucketChanges | None] = {}
            for name, cursor in cursors.items():
                if cursor is None and self._one(
                        "SELECT 1 FROM listeners WHERE env = ? AND event_name = ? LIMIT 1",
                        (env, name)) is not None:
                    out[name] = None
                else:
                    out[name] = BucketChanges("")
            return out

    def load_bucket(self, env: str, name: str) -> tuple[Cursor, Iterator[list[BucketRun]]]:
        return "", self._bucket_chunks(env, name)

    def _bucket_chunks(self, env: str, name: str) -> Iterator[list[BucketRun]]:
        after = ("", -1)
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT l.run_id, l.rule_index, l.expression, l.expires_at, r.started_at, "
                    "r.trigger_id, r.trigger_name, r.trigger_ts, r.trigger_data "
                    "FROM listeners l JOIN runs r ON r.env = l.env AND r.run_id = l.run_id "
                    "WHERE l.env = ? AND l.event_name = ? AND r.status = 'pending' "
                    "AND (l.run_id, l.rule_index) > (?, ?) "
                    "ORDER BY l.run_id, l.rule_index LIMIT ?",
                    (env, name, *after, self.CHUNK)).fetchall()
            if not rows:
                return
            yield _group_runs(name, rows)
            after = (rows[-1][0], rows[-1][1])

    def recent_keyed(self, env: str, name: str, now: int, since: int,
                     probes: Probes | None, key_of: KeyOf) -> list[Entry]:
        with self._lock:
            return self.window.lookup(env, name, now, since, probes, key_of)

    # ------------------------------------------------------------------ decisions

    def unacked_after(self, env: str, after: int,
                      limit: int) -> tuple[list[tuple[int, Decision]], int]:
        with self._lock:
            head = self._head
            rows = self._db.execute(
                f"SELECT seq, {DECISION_COLUMNS} FROM decisions WHERE env = ? "
                "AND acked_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
                (env, after, limit)).fetchall()
        return [(r[0], _decision(r[1:])) for r in rows], head

    def wait_decisions(self, env: str, after: int, timeout: float) -> None:
        # One sequence for every environment: a wake-up may be for another one, and the
        # caller then finds nothing new and waits again (cheap, and never misses one).
        with self._changed:
            self._changed.wait_for(lambda: self._head > after or self._closed, timeout)

    def unacked_decisions(self, env: str) -> list[Decision]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {DECISION_COLUMNS} FROM decisions WHERE env = ? AND acked_at IS NULL "
                "ORDER BY seq", (env,)).fetchall()
        return [_decision(r) for r in rows]

    def ack(self, env: str, decision_ids: Sequence[str], now: int) -> int:
        marks = ",".join("?" * len(decision_ids))
        with self._lock:
            with self.transaction():
                n = int(self._db.execute(
                    f"UPDATE decisions SET acked_at = ? WHERE env = ? AND acked_at IS NULL "
                    f"AND decision_id IN ({marks})", (now, env, *decision_ids)).rowcount)
            if n:
                self._unacked[env] = self._unacked.get(env, 0) - n
        return n

    # ------------------------------------------------------------------ bulk cancellations

    def add_cancellation(self, c: Cancellation) -> bool:
        with self.transaction():
            if not self._function_known(c.env, c.app_id, c.function_id):
                return False
            self._db.execute(
                "INSERT INTO cancellations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (c.id, c.env, c.app_id, c.function_id, c.started_after, c.started_before,
                 c.condition, c.created_at, c.runs_cancelled))
        return True

    def set_runs_cancelled(self, env: str, cancellation_id: str, n: int) -> None:
        with self.transaction():
            self._db.execute("UPDATE cancellations SET runs_cancelled = ? WHERE env = ? "
                             "AND id = ?", (n, env, cancellation_id))

    def _cancellations(self, env: str, app_id: str | None = None,
                       function_id: str | None = None) -> list[Cancellation]:
        sql = "SELECT * FROM cancellations WHERE env = ?"
        params: list[Any] = [env]
        if app_id is not None:
            sql += " AND app_id = ? AND function_id = ?"
            params += [app_id, function_id]
        rows = self._db.execute(sql + " ORDER BY created_at, id", params).fetchall()
        return [Cancellation(*r) for r in rows]

    def cancellations(self, env: str) -> list[Cancellation]:
        with self._lock:
            return self._cancellations(env)

    def delete_cancellation(self, env: str, cancellation_id: str) -> Cancellation | None:
        with self.transaction():
            found = [c for c in self._cancellations(env) if c.id == cancellation_id]
            if found:
                self._db.execute("DELETE FROM cancellations WHERE env = ? AND id = ?",
                                 (env, cancellation_id))
        return found[0] if found else None

    def pending_runs_of_function(self, env: str, app_id: str, function_id: str,
                                 started_after: int | None,
                                 started_before: int) -> Iterator[RunChunk]:
        """Uses the partial index ``runs_pending_by_function``: other functions' rows are
        never read. Keyset pages of CHUNK runs, each under the lock on its own."""
        after = (started_after if started_after is not None else -(2**62), "")
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT run_id, started_at, trigger_id, trigger_name, trigger_ts, "
                    "trigger_data FROM runs WHERE env = ? AND app_id = ? AND function_id = ? "
                    "AND status = 'pending' AND (started_at, run_id) > (?, ?) "
                    "AND started_at <= ? ORDER BY started_at, run_id LIMIT ?",
                    (env, app_id, function_id, *after, started_before, self.CHUNK)).fetchall()
            if not rows:
                return
            chunk = [(r[0], r[1], decode_trigger(r[0], *r[2:])) for r in rows]
            yield RunChunk([(run, started, t) for run, started, t in chunk if t is not None])
            after = (rows[-1][1], rows[-1][0])

    # ------------------------------------------------------------------ maintenance

    def sweep(self, now: int, purge_before: int) -> int:
        swept = 0
        while True:
            with self.transaction():
                n = self._db.execute(
                    "DELETE FROM listeners WHERE (env, run_id, rule_index) IN (SELECT env, "
                    "run_id, rule_index FROM listeners WHERE expires_at < ? LIMIT ?)",
                    (now, self.CHUNK)).rowcount
            swept += n
            if n < self.CHUNK:
                break
        with self.transaction():
            self._db.execute("DELETE FROM decisions WHERE acked_at IS NOT NULL AND acked_at < ?",
                             (purge_before,))
            self._db.execute(
                "DELETE FROM runs WHERE status != 'pending' AND ended_at < ? AND NOT EXISTS ("
                "SELECT 1 FROM decisions d WHERE d.env = runs.env AND d.run_id = runs.run_id "
                "AND d.acked_at IS NULL)", (purge_before,))
        return swept


def _group_runs(name: str, rows: list[tuple[Any, ...]]) -> list[BucketRun]:
    """Rows ordered by (run, rule index) → one BucketRun per run."""
    out: list[BucketRun] = []
    skipped = ""
    for run_id, i, expression, expires, started, tid, tname, tts, tdata in rows:
        row = ListenerRow(i, name, expression, expires)
        if run_id == skipped:
            continue
        if out and out[-1].run_id == run_id:
            last = out[-1]
            out[-1] = BucketRun(run_id, last.started_at, last.trigger, (*last.listeners, row))
        elif (trigger := decode_trigger(run_id, tid, tname, tts, tdata)) is None:
            skipped = run_id
        else:
            out.append(BucketRun(run_id, started, trigger, (row,)))
    return out


@functools.lru_cache(maxsize=1024)
def _rules_json(rules: tuple[Rule, ...]) -> str:
    """Cached: every run of a function stores the same rules."""
    return json.dumps([r.to_json() for r in rules])


def _decision(row: tuple[Any, ...]) -> Decision:
    (decision_id, env, run_id, app_id, function_id, cause, rule_index, event_id, event_name,
     cancellation_id, decided_at, event_json) = row
    return Decision(decision_id, env, run_id, app_id, function_id, cause, rule_index, event_id,
                    event_name, cancellation_id, decided_at, json.loads(event_json))
