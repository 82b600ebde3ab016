"""Bulk cancellations: window, `if` over the trigger, registration-time cancels, errors.

Each test runs once per store (SQLite, Redis, Redis Cluster)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from server_support import T0, Clock, make_engine, run_request

from server.engine import Engine
from server.errors import CancellationNotFound, FunctionNotFound, InvalidArgument
from server.store import SQLiteStore

USER_IF = "event.data.userId == 'user_123'"


@pytest.fixture
def engine(engine_factory: Callable[..., Engine]) -> Engine:
    return engine_factory()


def _runs(engine: Engine) -> dict[str, str]:
    """r1, r2 (user_123), r3 (user_456), o1 (user_123, other function); -> reminder: run id."""
    out = {}
    for i, (rem, user, fn) in enumerate([("r1", "user_123", "send-reminder"),
                                         ("r2", "user_123", "send-reminder"),
                                         ("r3", "user_456", "send-reminder"),
                                         ("o1", "user_123", "other")]):
        res = engine.register_run(run_request(rem, user=user, function_id=fn,
                                              started_at=T0 - 10_000 + i))
        out[rem] = res.run_id
    return out


def test_bulk_cancels_matching_runs_of_that_function_only(engine: Engine) -> None:
    runs = _runs(engine)
    c = engine.bulk.create("prod", "reminders", "send-reminder", None, T0, USER_IF)
    assert c.runs_cancelled == 2 and (c.kind, c.cause) == ("bulk_run", "API")
    decided = {d.run_id: d for d in engine.store.unacked_decisions("prod")}
    assert set(decided) == {runs["r1"], runs["r2"]}
    assert {d.cause for d in decided.values()} == {"bulk"}
    assert {d.cancellation_id for d in decided.values()} == {c.id}
    assert engine.bulk.list("prod") == [c]


def test_bulk_window_bounds_are_inclusive(engine: Engine) -> None:
    runs = _runs(engine)
    c = engine.bulk.create("prod", "reminders", "send-reminder", T0 - 10_000 + 1,
                           T0 - 10_000 + 2, "")
    assert c.runs_cancelled == 2
    assert {d.run_id for d in engine.store.unacked_decisions("prod")} == {runs["r2"], runs["r3"]}


def test_runs_registered_later_inside_the_window_are_cancelled(engine: Engine) -> None:
    _runs(engine)
    c = engine.bulk.create("prod", "reminders", "send-reminder", T0 - 60_000, T0 - 1, USER_IF)
    late = engine.register_run(run_request("r4", started_at=T0 - 30_000))
    assert late.status == "cancelled" and late.decision is not None
    assert (late.decision.cause, late.decision.cancellation_id) == ("bulk", c.id)
    other_user = engine.register_run(run_request("r5", user="u9", started_at=T0 - 30_000))
    outside = engine.register_run(run_request("r6", started_at=T0))
    assert (other_user.status, outside.status) == ("registered", "registered")
    engine.bulk.delete("prod", c.id)
    assert engine.register_run(run_request("r7", started_at=T0 - 30_000)).status == "registered"


def test_bulk_query_reads_only_that_functions_runs(tmp_path: Path, clock: Clock) -> None:
    engine = make_engine(tmp_path / "db.sqlite3", clock)
    assert isinstance(engine.store, SQLiteStore)
    plan = engine.store.query_plan(
        "SELECT run_id FROM runs WHERE env = ? AND app_id = ? AND function_id = ? "
        "AND status = 'pending' AND (started_at, run_id) > (?, ?) AND started_at <= ? "
        "ORDER BY started_at, run_id LIMIT ?", ("prod", "a", "f", 0, "", 1, 1000))
    assert "USING INDEX runs_pending_by_function" in plan
    engine.close()


def test_bulk_reads_runs_in_chunks_and_cancels_them_all(engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """More pending runs than one chunk (many with the same start time): every covered
    run is cancelled exactly once, none is skipped at a chunk boundary."""
    monkeypatch.setattr(type(engine.store), "CHUNK", 7)
    started = [T0 - 10_000 + (i % 3) for i in range(40)]
    runs = engine.register_runs([run_request(f"r{i}", started_at=s)
                                 for i, s in enumerate(started)])
    c = engine.bulk.create("prod", "reminders", "send-reminder", None, T0 - 10_000 + 1, "")
    want = {r.run_id for r, s in zip(runs, started, strict=True) if s <= T0 - 10_000 + 1}
    assert c.runs_cancelled == len(want) == 27
    assert {d.run_id for d in engine.store.unacked_decisions("prod")} == want
    assert engine.bulk.list("prod")[0].runs_cancelled == 27


@pytest.mark.parametrize(("args", "message"), [
    (("", "send-reminder", None, T0 - 1, ""), "app_id is required"),
    (("reminders", "", None, T0 - 1, ""), "function_id is required"),
    (("reminders", "send-reminder", None, 0, ""), "started_before is required"),
    (("reminders", "send-reminder", None, T0 + 1, ""), "started_before must be in the past"),
    (("reminders", "send-reminder", T0 - 1, T0 - 1, ""),
     "started_after must be before started_before"),
    (("reminders", "send-reminder", None, T0 - 1, "async.data.x == 1"), "invalid expression: "),
    (("reminders", "send-reminder", None, T0 - 1, "event.data.x =="), "invalid expression: "),
])
def test_bulk_validation_messages(engine: Engine, args: tuple, message: str) -> None:
    _runs(engine)
    with pytest.raises(InvalidArgument) as err:
        engine.bulk.create("prod", *args)
    assert err.value.message.startswith(message)


def test_unknown_function_and_cancellation_are_not_found(engine: Engine) -> None:
    _runs(engine)
    with pytest.raises(FunctionNotFound, match="function not found"):
        engine.bulk.create("prod", "reminders", "nope", None, T0 - 1, "")
    with pytest.raises(FunctionNotFound):  # another environment does not see the function
        engine.bulk.create("staging", "reminders", "send-reminder", None, T0 - 1, "")
    with pytest.raises(CancellationNotFound):
        engine.bulk.delete("prod", "01HF7YAS0RZGWDK799KMZWGVF5")
