"""SQLite store: transactions, persistence across reopen, decision acks, pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest

from server._model import Cancellation, Decision, Event, Rule
from server.store import Store


def _decision(i: int, env: str = "prod") -> Decision:
    return Decision(f"01HF7YAS0RZGWDK799KMZWGV{i:02d}", env, f"run{i}", "app", "fn", "event", 0,
                    "ev", "x/y", "", 1, {"name": "inngest/function.cancelled", "id": f"run{i}"})


def _insert_run(store: Store, run_id: str, fn: str = "fn", started: int = 10) -> None:
    store.insert_run("prod", "app", fn, run_id, started, Event("t", "x/created", 1, '{"a": 1}'),
                     (Rule("x/deleted", "data.a"),), "fp", "pending", 1)


def test_rollback_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with pytest.raises(RuntimeError), store.transaction():
        _insert_run(store, "r1")
        raise RuntimeError("boom")
    assert store.get_run("prod", "r1") is None
    store.close()


def test_nested_transactions_commit_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with store.transaction():
        with store.transaction():
            _insert_run(store, "r1")
        _insert_run(store, "r2")
    store.close()
    reopened = Store(tmp_path / "s.db")
    assert reopened.count("runs") == 2
    reopened.close()


def test_wal_and_synchronous_modes(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", "FULL")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()
    with pytest.raises(ValueError, match="FULL or NORMAL"):
        Store(tmp_path / "t.db", "OFF")


def test_decisions_ack_and_env_scope(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with store.transaction():
        for i in range(3):
            store.insert_decision(_decision(i))
        store.insert_decision(_decision(9, env="staging"))
    assert [d.run_id for d in store.unacked_decisions("prod")] == ["run0", "run1", "run2"]
    with store.transaction():
        assert store.ack_decisions("prod", [_decision(1).decision_id,
                                            _decision(9).decision_id], 5) == 1
    assert [d.run_id for d in store.unacked_decisions("prod")] == ["run0", "run2"]
    assert [d.run_id for d in store.unacked_decisions("staging")] == ["run9"]
    assert store.unacked_decisions("prod")[0] == _decision(0)
    store.close()


def test_pending_runs_of_function_by_window(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with store.transaction():
        for i, fn in enumerate(["fn", "fn", "other", "fn"]):
            _insert_run(store, f"r{i}", fn, started=10 + i)
        store.set_run_status("prod", "r3", "finished", 20)
    rows = store.pending_runs_of_function("prod", "app", "fn", None, 100)
    assert [r["run_id"] for r in rows] == ["r0", "r1"]
    assert [r["run_id"] for r in store.pending_runs_of_function("prod", "app", "fn", 11, 11)] \
        == ["r1"]
    store.close()


def test_cancellations_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    c = Cancellation("01HF7YAS0RZGWDK799KMZWGVF5", "prod", "app", "fn", None, 5, "", 6, 2)
    with store.transaction():
        store.insert_cancellation(c)
    assert store.cancellations("prod") == [c]
    assert store.cancellations("prod", "app", "other") == []
    assert store.cancellations("staging") == []
    with store.transaction():
        assert store.delete_cancellation("prod", c.id)
        assert not store.delete_cancellation("prod", c.id)
    store.close()
