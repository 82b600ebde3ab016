"""Store, embedded: the SQLite schema (tables, and the indexes each query relies on)."""

from __future__ import annotations

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
-- A bucket (env, event name) is loaded into the index on first use, in run order.
CREATE INDEX IF NOT EXISTS listeners_by_bucket
    ON listeners (env, event_name, run_id, rule_index);
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

DECISION_COLUMNS = (
    "decision_id, env, run_id, app_id, function_id, cause, rule_index, event_id, event_name, "
    "cancellation_id, decided_at, event_json"
)
