"""Durability: the embedded SQLite store of functions, runs, listeners, decisions, cancellations.

Journal mode WAL lets readers run beside the single writer, and a commit is one append to
the WAL. ``synchronous=FULL`` (the default) fsyncs the WAL at every commit, so a call that
returned survives power loss as well as ``kill -9``; ``NORMAL`` survives any process crash
(the WAL is in the OS page cache) but may lose the last commits on power loss — it is
offered for benchmarks and throwaway deployments, and batches amortise FULL's fsync anyway.

The store is not thread-safe on its own: the engine serialises every call under its lock.
Times are epoch milliseconds. Runs, listeners, decisions and cancellations are keyed by
environment first, so every query is scoped to one tenant by construction.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._model import Cancellation, Decision, Event, Rule

SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    env TEXT NOT NULL, app_id TEXT NOT NULL, function_id TEXT NOT NULL,
    rules_json TEXT NOT NULL, synced_at INTEGER NOT NULL,
    PRIMARY KEY (env, app_id, function_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    env TEXT NOT NULL, run_id TEXT NOT NULL,
    app_id TEXT NOT NULL, function_id TEXT NOT NULL, started_at INTEGER NOT NULL,
    trigger_id TEXT NOT NULL, trigger_name TEXT NOT NULL, trigger_ts INTEGER NOT NULL,
    trigger_data TEXT NOT NULL, rules_json TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status TEXT NOT NULL, registered_at INTEGER NOT NULL, ended_at INTEGER,
    PRIMARY KEY (env, run_id)
);
-- Bulk cancellations read one function's pending runs by start time and nothing else.
CREATE INDEX IF NOT EXISTS runs_pending_by_function
    ON runs (env, app_id, function_id, started_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS listeners (
    env TEXT NOT NULL, run_id TEXT NOT NULL, rule_index INTEGER NOT NULL,
    event_name TEXT NOT NULL, expression TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (env, run_id, rule_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS listeners_by_expiry ON listeners (expires_at);
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, decision_id TEXT NOT NULL UNIQUE,
    env TEXT NOT NULL, run_id TEXT NOT NULL, app_id TEXT NOT NULL, function_id TEXT NOT NULL,
    cause TEXT NOT NULL, rule_index INTEGER NOT NULL, event_id TEXT NOT NULL,
    event_name TEXT NOT NULL, cancellation_id TEXT NOT NULL, decided_at INTEGER NOT NULL,
    event_json TEXT NOT NULL, acked_at INTEGER
);
CREATE INDEX IF NOT EXISTS decisions_unacked ON decisions (env, seq) WHERE acked_at IS NULL;
CREATE INDEX IF NOT EXISTS decisions_by_run ON decisions (env, run_id);
-- Retention: the periodic purge finds old acknowledged decisions and ended runs directly.
CREATE INDEX IF NOT EXISTS decisions_acked ON decisions (acked_at) WHERE acked_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_ended ON runs (ended_at) WHERE status != 'pending';
CREATE TABLE IF NOT EXISTS cancellations (
    id TEXT PRIMARY KEY, env TEXT NOT NULL, app_id TEXT NOT NULL, function_id TEXT NOT NULL,
    started_after INTEGER, started_before INTEGER NOT NULL, condition TEXT NOT NULL,
    created_at INTEGER NOT NULL, runs_cancelled INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cancellations_by_function
    ON cancellations (env, app_id, function_id);
"""

_DECISION_COLUMNS = (
    "decision_id, env, run_id, app_id, function_id, cause, rule_index, event_id, event_name, "
    "cancellation_id, decided_at, event_json"
)


class Store:
    """One SQLite database file; every write happens inside :meth:`transaction`."""

    SYNCHRONOUS_MODES = ("FULL", "NORMAL")

    def __init__(self, path: Path | str, synchronous: str = "FULL") -> None:
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
        self._depth = 0
        self.path = path

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit when the outermost block exits normally, roll back when it raises."""
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

    # ------------------------------------------------------------------ functions

    def upsert_function(self, env: str, app_id: str, function_id: str, rules: Iterable[Rule],
                        now: int) -> None:
        rules_json = json.dumps([r.to_json() for r in rules])
        self._db.execute(
            "INSERT INTO functions VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET rules_json = excluded.rules_json, synced_at = excluded.synced_at",
            (env, app_id, function_id, rules_json, now),
        )

    def function_rules(self, env: str, app_id: str, function_id: str) -> tuple[Rule, ...] | None:
        row = self._db.execute(
            "SELECT rules_json FROM functions WHERE env = ? AND app_id = ? AND function_id = ?",
            (env, app_id, function_id),
        ).fetchone()
        return None if row is None else tuple(Rule.from_json(r) for r in json.loads(row[0]))

    def function_known(self, env: str, app_id: str, function_id: str) -> bool:
        """Synced, or named by at least one registered run."""
        if self.function_rules(env, app_id, function_id) is not None:
            return True
        row = self._db.execute(
            "SELECT 1 FROM runs WHERE env = ? AND app_id = ? AND function_id = ? LIMIT 1",
            (env, app_id, function_id),
        ).fetchone()
        return row is not None

    # ------------------------------------------------------------------ runs and listeners

    def get_run(self, env: str, run_id: str) -> dict[str, Any] | None:
        cur = self._db.execute("SELECT * FROM runs WHERE env = ? AND run_id = ?", (env, run_id))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    def insert_run(self, env: str, app_id: str, function_id: str, run_id: str, started_at: int,
                   trigger: Event, rules: tuple[Rule, ...], fingerprint: str, status: str,
                   now: int) -> None:
        self._db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (env, run_id, app_id, function_id, started_at, trigger.id, trigger.name, trigger.ts,
             trigger.data_json, _rules_json(rules), fingerprint, status,
             now, now if status != "pending" else None),
        )

    def set_run_status(self, env: str, run_id: str, status: str, now: int) -> None:
        self._db.execute(
            "UPDATE runs SET status = ?, ended_at = ? WHERE env = ? AND run_id = ?",
            (status, now, env, run_id),
        )

    def insert_listeners(self, rows: Iterable[tuple[str, str, int, str, str, int]]) -> None:
        """Rows of (env, run_id, rule_index, event_name, expression, expires_at)."""
        self._db.executemany("INSERT OR REPLACE INTO listeners VALUES (?, ?, ?, ?, ?, ?)", rows)

    def delete_listeners_of_run(self, env: str, run_id: str) -> int:
        cur = self._db.execute("DELETE FROM listeners WHERE env = ? AND run_id = ?", (env, run_id))
        return cur.rowcount

    def listeners_of_run(self, env: str, run_id: str) -> list[tuple[int, str, str, int]]:
        """(rule_index, event_name, expression, expires_at) of a run's stored listeners."""
        return self._db.execute(
            "SELECT rule_index, event_name, expression, expires_at FROM listeners "
            "WHERE env = ? AND run_id = ? ORDER BY rule_index", (env, run_id),
        ).fetchall()

    def delete_expired_listeners(self, now: int) -> int:
        return self._db.execute("DELETE FROM listeners WHERE expires_at < ?", (now,)).rowcount

    def pending_listeners(self) -> Iterator[tuple[Any, ...]]:
        """Every listener of a pending run, with what the index needs to re-add it:
        (env, run_id, rule_index, event_name, expression, expires_at, started_at,
        trigger_id, trigger_name, trigger_ts, trigger_data)."""
        return self._db.execute(
            "SELECT l.env, l.run_id, l.rule_index, l.event_name, l.expression, l.expires_at, "
            "r.started_at, r.trigger_id, r.trigger_name, r.trigger_ts, r.trigger_data "
            "FROM listeners l JOIN runs r ON r.env = l.env AND r.run_id = l.run_id "
            "WHERE r.status = 'pending'"
        )

    def pending_runs_of_function(self, env: str, app_id: str, function_id: str,
                                 started_after: int | None,
                                 started_before: int) -> list[dict[str, Any]]:
        """Pending runs of one function started within the bounds (inclusive); uses the
        partial index ``runs_pending_by_function``, never other functions' rows."""
        cur = self._db.execute(
            "SELECT * FROM runs WHERE env = ? AND app_id = ? AND function_id = ? "
            "AND status = 'pending' AND started_at >= ? AND started_at <= ? ORDER BY started_at",
            (env, app_id, function_id, started_after if started_after is not None else -(2**62),
             started_before),
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def query_plan(self, sql: str, params: tuple[Any, ...]) -> str:
        """SQLite's plan for ``sql`` (tests assert index use)."""
        return " | ".join(r[-1] for r in self._db.execute("EXPLAIN QUERY PLAN " + sql, params))

    # ------------------------------------------------------------------ decisions

    def insert_decision(self, d: Decision) -> None:
        self._db.execute(
            f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES ({', '.join('?' * 12)})",
            (d.decision_id, d.env, d.run_id, d.app_id, d.function_id, d.cause, d.rule_index,
             d.event_id, d.event_name, d.cancellation_id, d.decided_at,
             json.dumps(d.function_cancelled_event)),
        )

    def decision_for_run(self, env: str, run_id: str) -> Decision | None:
        row = self._db.execute(
            f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE env = ? AND run_id = ? "
            "ORDER BY seq LIMIT 1", (env, run_id),
        ).fetchone()
        return None if row is None else _decision(row)

    def unacked_decisions(self, env: str) -> list[Decision]:
        rows = self._db.execute(
            f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE env = ? AND acked_at IS NULL "
            "ORDER BY seq", (env,),
        ).fetchall()
        return [_decision(r) for r in rows]

    def unacked_page(self, env: str, after_seq: int, limit: int) -> list[tuple[int, Decision]]:
        """Up to ``limit`` unacknowledged decisions after ``after_seq``, as (seq, decision)."""
        rows = self._db.execute(
            f"SELECT seq, {_DECISION_COLUMNS} FROM decisions WHERE env = ? AND acked_at IS NULL "
            "AND seq > ? ORDER BY seq LIMIT ?", (env, after_seq, limit),
        ).fetchall()
        return [(r[0], _decision(r[1:])) for r in rows]

    def ack_decisions(self, env: str, decision_ids: list[str], now: int) -> int:
        marks = ",".join("?" * len(decision_ids))
        cur = self._db.execute(
            f"UPDATE decisions SET acked_at = ? WHERE env = ? AND acked_at IS NULL "
            f"AND decision_id IN ({marks})", (now, env, *decision_ids),
        )
        return cur.rowcount

    def purge_ended(self, before: int) -> tuple[int, int]:
        """Delete acknowledged decisions acked before ``before`` and runs that ended before
        it and have no unacknowledged decision; returns (decisions, runs) deleted."""
        decisions = self._db.execute(
            "DELETE FROM decisions WHERE acked_at IS NOT NULL AND acked_at < ?", (before,)
        ).rowcount
        runs = self._db.execute(
            "DELETE FROM runs WHERE status != 'pending' AND ended_at < ? AND NOT EXISTS ("
            "SELECT 1 FROM decisions d WHERE d.env = runs.env AND d.run_id = runs.run_id "
            "AND d.acked_at IS NULL)", (before,)
        ).rowcount
        return decisions, runs

    # ------------------------------------------------------------------ cancellations

    def insert_cancellation(self, c: Cancellation) -> None:
        self._db.execute(
            "INSERT INTO cancellations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (c.id, c.env, c.app_id, c.function_id, c.started_after, c.started_before,
             c.condition, c.created_at, c.runs_cancelled),
        )

    def cancellations(self, env: str, app_id: str | None = None,
                      function_id: str | None = None) -> list[Cancellation]:
        sql = "SELECT * FROM cancellations WHERE env = ?"
        params: list[Any] = [env]
        if app_id is not None:
            sql += " AND app_id = ? AND function_id = ?"
            params += [app_id, function_id]
        rows = self._db.execute(sql + " ORDER BY created_at, id", params).fetchall()
        return [Cancellation(*r) for r in rows]

    def delete_cancellation(self, env: str, cancellation_id: str) -> bool:
        cur = self._db.execute(
            "DELETE FROM cancellations WHERE env = ? AND id = ?", (env, cancellation_id)
        )
        return cur.rowcount > 0

    # ------------------------------------------------------------------ metrics

    def count(self, table: str, where: str = "1") -> int:
        assert table in ("functions", "runs", "listeners", "decisions", "cancellations")
        return int(self._db.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0])


@functools.lru_cache(maxsize=1024)
def _rules_json(rules: tuple[Rule, ...]) -> str:
    """Cached: every run of a function stores the same rules."""
    return json.dumps([r.to_json() for r in rules])


def _decision(row: tuple[Any, ...]) -> Decision:
    (decision_id, env, run_id, app_id, function_id, cause, rule_index, event_id, event_name,
     cancellation_id, decided_at, event_json) = row
    return Decision(decision_id, env, run_id, app_id, function_id, cause, rule_index, event_id,
                    event_name, cancellation_id, decided_at, json.loads(event_json))
