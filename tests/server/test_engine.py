"""Engine (domain core): registration semantics, decisions, acks, late listeners, envs.

Every test runs once per store (SQLite, Redis, Redis Cluster): the parity claim."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from server_support import T0, Clock, deleted, run_request

import matcher
from server._model import Event, Rule
from server._ulid import is_ulid, ulid_time_ms
from server.engine import Engine
from server.errors import (
    Conflict,
    InvalidArgument,
    InvalidExpression,
    PayloadTooLarge,
    TooManyRules,
    TooManyStreams,
)

DAY = 86_400_000


@pytest.fixture
def engine(engine_factory: Callable[..., Engine]) -> Engine:
    return engine_factory()


def test_event_cancels_exactly_its_run_and_decision_is_complete(engine: Engine) -> None:
    runs = {r: engine.register_run(run_request(r)) for r in ("r1", "r2", "r3")}
    assert {res.status for res in runs.values()} == {"registered"}
    req = run_request("r9")
    _, decisions = engine.publish_events("prod", [deleted("r2")])
    assert [d.run_id for d in decisions] == [runs["r2"].run_id]
    d = decisions[0]
    assert (d.env, d.app_id, d.function_id, d.cause, d.rule_index) == (
        "prod", req.app_id, req.function_id, "event", 0)
    assert d.event_name == "tasks/reminder.deleted" and d.decided_at == T0
    event = d.function_cancelled_event
    assert event["name"] == "inngest/function.cancelled" and event["id"] == d.run_id
    assert event["data"]["run_id"] == d.run_id
    assert event["data"]["function_id"] == "send-reminder"
    assert event["data"]["event"]["data"] == {"reminderId": "r2", "userId": "user_123"}
    assert event["data"]["error"] == {"error": "function cancelled",
                                      "message": "function cancelled", "name": "Error"}
    assert len(engine.index) == 2


def test_first_matching_event_wins_and_other_listeners_go(engine: Engine) -> None:
    rules = (Rule("tasks/reminder.deleted", match="data.reminderId"),
             Rule("tasks/reminder.updated", match="data.reminderId"))
    res = engine.register_run(run_request("r1", rules=rules))
    updated = Event("", "tasks/reminder.updated", T0, json.dumps({"reminderId": "r1"}))
    _, decisions = engine.publish_events("prod", [deleted("r1"), updated, deleted("r1")])
    assert [(d.run_id, d.rule_index) for d in decisions] == [(res.run_id, 0)]
    assert len(engine.index) == 0
    assert engine.store.listeners_of_run("prod", res.run_id) == []
    assert engine.publish_events("prod", [updated])[1] == []


def test_one_event_cancels_every_matching_run(engine: Engine) -> None:
    a = engine.register_run(run_request("shared"))
    b = engine.register_run(run_request("shared"))
    _, decisions = engine.publish_events("prod", [deleted("shared")])
    assert sorted(d.run_id for d in decisions) == sorted([a.run_id, b.run_id])


def test_acknowledged_decisions_leave_the_unacked_set(engine: Engine) -> None:
    engine.register_run(run_request("r1"))
    _, (d,) = engine.publish_events("prod", [deleted("r1")])
    assert [x.decision_id for x in engine.store.unacked_decisions("prod")] == [d.decision_id]
    assert engine.ack_decisions("prod", [d.decision_id]) == 1
    assert engine.ack_decisions("prod", [d.decision_id]) == 0
    assert engine.store.unacked_decisions("prod") == []


def test_register_is_idempotent(engine: Engine) -> None:
    req = run_request("r1")
    assert engine.register_run(req).status == "registered"
    again = engine.register_run(req)
    assert again.status == "already_registered"
    assert [li.listener_id for li in again.listeners] == [f"{req.run_id}/0"]
    assert len(engine.index) == 1


def test_same_run_id_with_other_rules_is_a_conflict(engine: Engine) -> None:
    req = run_request("r1")
    engine.register_run(req)
    other = run_request("r1", run_id=req.run_id, rules=(Rule("x/y", match="data.a"),))
    with pytest.raises(Conflict, match="run_id: run .* already registered"):
        engine.register_run(other)


def test_registering_a_cancelled_run_answers_cancelled(engine: Engine) -> None:
    req = run_request("r1")
    engine.register_run(req)
    _, (d,) = engine.publish_events("prod", [deleted("r1")])
    again = engine.register_run(req)
    assert again.status == "cancelled" and again.decision == d
    assert len(engine.index) == 0


def test_more_than_five_rules_uses_inngests_message(engine: Engine) -> None:
    rules = tuple(Rule(f"e/{i}", match="data.id") for i in range(6))
    with pytest.raises(TooManyRules) as err:
        engine.register_run(run_request(rules=rules))
    assert err.value.message == "This function exceeds the max number of cancellation events: 5"


@pytest.mark.parametrize(("timeout", "expires"), [
    ("", T0 - 1000 + 365 * DAY),
    ("30s", T0 - 1000 + 30_000),
    ("1h30m", T0 - 1000 + 5_400_000),
    ("2d", T0 - 1000 + 2 * DAY),
    ("1w", T0 - 1000 + 7 * DAY),
    ("2030-01-01T00:00:00Z", 1_893_456_000_000),
])
def test_timeouts(engine: Engine, timeout: str, expires: int) -> None:
    rules = (Rule("tasks/reminder.deleted", match="data.reminderId", timeout=timeout),)
    (listener,) = engine.register_run(run_request(rules=rules)).listeners
    assert listener.expires_at == expires


@pytest.mark.parametrize("timeout", ["soon", "1y", "30", "2030-01-01"])
def test_invalid_timeout_names_the_field(engine: Engine, timeout: str) -> None:
    rules = (Rule("tasks/reminder.deleted", match="data.reminderId", timeout=timeout),)
    with pytest.raises(InvalidArgument, match=r"^cancel_on\[0\]\.timeout: invalid timeout"):
        engine.register_run(run_request(rules=rules))


def test_expired_listener_does_not_cancel_and_is_swept(engine: Engine, clock: Clock) -> None:
    rules = (Rule("tasks/reminder.deleted", match="data.reminderId", timeout="1s"),)
    engine.register_run(run_request(rules=rules, started_at=T0))
    assert engine.publish_events("prod", [deleted("r1", ts=T0 + 5000)])[1] == []
    clock.now = T0 + 5000
    assert engine.sweep() == 1
    assert len(engine.index) == 0 and engine.store.pending_listener_count() == 0


def test_rule_without_match_or_if_warns_and_cancels_on_any_event(engine: Engine) -> None:
    res = engine.register_run(run_request(rules=(Rule("tasks/reminder.deleted"),)))
    assert res.warnings == ["cancel_on[0]: neither match nor if is set: the rule cancels the "
                            "run on every 'tasks/reminder.deleted' event"]
    assert len(engine.publish_events("prod", [deleted("anything")])[1]) == 1


def test_match_and_if_are_combined(engine: Engine) -> None:
    rules = (Rule("tasks/reminder.deleted", match="data.reminderId",
                  condition="async.data.force == true"),)
    engine.register_run(run_request("r1", rules=rules))
    plain = deleted("r1")
    forced = Event("", plain.name, T0, json.dumps({"reminderId": "r1", "force": True}))
    other = Event("", plain.name, T0, json.dumps({"reminderId": "r2", "force": True}))
    assert engine.publish_events("prod", [plain, other])[1] == []
    assert len(engine.publish_events("prod", [forced])[1]) == 1


def test_malformed_if_is_a_positioned_error(engine: Engine) -> None:
    rules = (Rule("tasks/reminder.deleted", condition="async.data.x =="),)
    with pytest.raises(InvalidExpression) as err:
        engine.register_run(run_request(rules=rules))
    assert err.value.field == "cancel_on[0].if"
    assert err.value.compile_error.column == 16
    assert "^" in err.value.message


def test_late_listener_is_cancelled_by_an_earlier_event(engine: Engine, clock: Clock) -> None:
    engine.publish_events("prod", [deleted("r1", ts=T0)])  # before the run registered
    res = engine.register_run(run_request("r1", started_at=T0 - 10))
    assert res.status == "cancelled" and res.decision is not None
    assert res.decision.cause == "event" and res.decision.rule_index == 0
    assert len(engine.index) == 0


def test_late_window_ignores_events_before_run_start_and_old_events(
        engine: Engine, clock: Clock) -> None:
    engine.publish_events("prod", [deleted("r1", ts=T0 - 5000)])
    assert engine.register_run(run_request("r1", started_at=T0 - 10)).status == "registered"
    engine.publish_events("prod", [deleted("r2", ts=T0)])
    clock.now = T0 + 31_000  # outside the 30 s window
    assert engine.register_run(run_request("r2", started_at=T0 - 10)).status == "registered"


def test_late_listener_after_a_burst_tests_only_events_with_its_key(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of events of the cancel name must not make each registration test every one
    of them: a `match:` listener looks up the recent events carrying its key."""
    engine.publish_events("prod", [deleted(f"other{i}", ts=T0) for i in range(500)])
    engine.publish_events("prod", [deleted("r1", ts=T0)])
    tested: list[str] = []
    real_test = matcher.ListenerIndex.test
    monkeypatch.setattr(matcher.ListenerIndex, "test",
                        lambda self, lid, event, *a: tested.append(event["data"]["reminderId"])
                        or real_test(self, lid, event, *a))
    res = engine.register_run(run_request("r1", started_at=T0 - 10))
    assert res.status == "cancelled"
    assert engine.register_run(run_request("r2", started_at=T0 - 10)).status == "registered"
    assert tested == ["r1"]


def test_finished_run_is_not_cancelled(engine: Engine) -> None:
    req = run_request("r1")
    res = engine.register_run(req)
    assert engine.finish_run("prod", res.run_id) == (True, 1)
    assert engine.publish_events("prod", [deleted("r1")])[1] == []
    assert engine.finish_run("prod", res.run_id) == (True, 0)
    assert engine.register_run(req).status == "finished"


def test_environments_are_isolated(engine: Engine) -> None:
    res = engine.register_run(run_request("r1", env="prod"))
    assert engine.publish_events("staging", [deleted("r1")])[1] == []
    assert engine.finish_run("staging", res.run_id) == (False, 0)
    assert list(engine.store.unacked_decisions("staging")) == []
    (d,) = engine.publish_events("prod", [deleted("r1")])[1]
    assert engine.ack_decisions("staging", [d.decision_id]) == 0


def test_batch_registration_is_all_or_nothing(engine: Engine) -> None:
    first = engine.register_run(run_request("r1"))
    good = run_request("r2")
    clash = run_request("r1", run_id=first.run_id, rules=(Rule("x/y", match="data.a"),))
    with pytest.raises(Conflict, match=r"^runs\[1\]\.run_id"):
        engine.register_runs([good, clash])
    assert engine.store.get_run("prod", good.run_id) is None
    assert len(engine.index) == 1
    bad = run_request("r3", run_id="not-a-ulid")
    with pytest.raises(InvalidArgument, match=r"^runs\[1\]\.run_id: invalid ULID 'not-a-ulid'"):
        engine.register_runs([good, bad])


@pytest.mark.parametrize(("data", "message"), [
    ("[1, 2]", "trigger.data: event data must be a JSON object, got list"),
    ("null", "trigger.data: event data must be a JSON object, got null"),
    ("{", "trigger.data: invalid JSON"),
])
def test_event_data_must_be_an_object(engine: Engine, data: str, message: str) -> None:
    req = run_request()
    req = type(req)(req.env, req.app_id, req.function_id, req.run_id, req.started_at,
                    Event(req.trigger.id, req.trigger.name, req.trigger.ts, data), req.rules)
    with pytest.raises(InvalidArgument, match="^" + message.replace("[", r"\[")):
        engine.register_run(req)


def test_oversized_event_is_rejected_with_the_limit(engine: Engine) -> None:
    big = Event("", "tasks/reminder.deleted", T0, json.dumps({"blob": "x" * 300_000}))
    with pytest.raises(PayloadTooLarge, match=r"^events\[0\]\.data: event data is \d+ bytes, "
                                              r"the limit is 262144"):
        engine.publish_events("prod", [big])


def test_sync_functions_reports_per_function_errors(engine: Engine) -> None:
    results = engine.sync_functions("prod", "reminders", [
        ("send-reminder", (Rule("tasks/reminder.deleted", match="data.reminderId"),)),
        ("broken", (Rule("tasks/reminder.deleted", condition="async.data.x ==="),)),
        ("too-many", tuple(Rule(f"e/{i}") for i in range(6))),
    ])
    assert [(r.function_id, r.ok) for r in results] == [
        ("send-reminder", True), ("broken", False), ("too-many", False)]
    assert "cancel_on[0].if: invalid expression" in results[1].errors[0]
    assert results[2].errors == [
        "This function exceeds the max number of cancellation events: 5"]
    # A run may name the synced function instead of repeating its rules.
    res = engine.register_run(run_request("r1", rules=()))
    assert [li.event for li in res.listeners] == ["tasks/reminder.deleted"]
    assert len(engine.publish_events("prod", [deleted("r1")])[1]) == 1


def test_watch_replays_unacked_then_streams_new(engine: Engine) -> None:
    engine.register_run(run_request("r1"))
    engine.register_run(run_request("r2"))
    (d1,) = engine.publish_events("prod", [deleted("r1")])[1]
    stream = engine.watch("prod")
    assert next(stream) == d1
    (d2,) = engine.publish_events("prod", [deleted("r2")])[1]
    assert next(stream) == d2
    stream.close()
    replay = engine.watch("prod", is_active=lambda: False)
    assert [d.decision_id for d in replay] == [d1.decision_id, d2.decision_id]


def test_restart_keeps_listeners_and_unacked(engine_factory: Callable[..., Engine]) -> None:
    eng = engine_factory()
    eng.register_run(run_request("r1"))
    kept = eng.register_run(run_request("r2"))
    (d,) = eng.publish_events("prod", [deleted("r1")])[1]
    eng.close()
    eng = engine_factory()
    assert eng.restored == 1 and len(eng.index) == 0  # buckets load on first use
    assert [x.decision_id for x in eng.store.unacked_decisions("prod")] == [d.decision_id]
    (d2,) = eng.publish_events("prod", [deleted("r2")])[1]
    assert d2.run_id == kept.run_id and len(eng.index) == 0


def test_retention_purges_ended_runs_and_acked_decisions(
        engine_factory: Callable[..., Engine], clock: Clock) -> None:
    eng = engine_factory(retention_ms=DAY)
    acked, unacked, finished = (run_request(r) for r in ("r1", "r2", "r3"))
    for req in (acked, unacked, finished):
        eng.register_run(req)
    d1, _ = eng.publish_events("prod", [deleted("r1"), deleted("r2")])[1]
    eng.ack_decisions("prod", [d1.decision_id])
    eng.finish_run("prod", finished.run_id)
    stored = [eng.store.get_run("prod", r.run_id) for r in (acked, unacked, finished)]
    clock.now = T0 + DAY - 1
    eng.sweep()
    assert [eng.store.get_run("prod", r.run_id) for r in (acked, unacked, finished)] == stored
    clock.now = T0 + DAY + 1
    eng.sweep()
    # The run with an unacknowledged decision stays until the runner has heard of it.
    assert [eng.store.get_run("prod", r.run_id) is not None
            for r in (acked, unacked, finished)] == [False, True, False]
    assert [d.run_id for d in eng.store.unacked_decisions("prod")] == [unacked.run_id]


def test_decision_streams_are_capped(engine_factory: Callable[..., Engine]) -> None:
    eng = engine_factory(max_watchers=1, max_watchers_per_env=1)
    first = eng.watch("prod", is_active=lambda: False)
    assert list(first) == []
    held = eng.watch("prod")
    eng.register_run(run_request("r1"))
    eng.publish_events("prod", [deleted("r1")])
    next(held)  # subscribed now
    with pytest.raises(TooManyStreams, match="already 1 WatchDecisions streams open"):
        next(eng.watch("staging"))
    held.close()
    assert list(eng.watch("staging", is_active=lambda: False)) == []


def test_replay_pages_through_a_large_backlog(engine: Engine) -> None:
    engine.REPLAY_PAGE = 3  # instance override: pages of 3 over 7 decisions
    for i in range(7):
        engine.register_run(run_request(f"r{i}"))
    decided = engine.publish_events("prod", [deleted(f"r{i}") for i in range(7)])[1]
    engine.ack_decisions("prod", [decided[1].decision_id])
    replay = list(engine.watch("prod", is_active=lambda: False))
    assert [d.decision_id for d in replay] == [d.decision_id for i, d in enumerate(decided)
                                               if i != 1]


def test_trigger_without_id_gets_a_ulid_that_a_retry_keeps(engine: Engine) -> None:
    req = run_request("r1")
    req = type(req)(req.env, req.app_id, req.function_id, req.run_id, req.started_at,
                    Event("", req.trigger.name, req.trigger.ts, req.trigger.data_json),
                    req.rules)
    assert engine.register_run(req).status == "registered"
    assert engine.register_run(req).status == "already_registered"  # same fingerprint
    (d,) = engine.publish_events("prod", [deleted("r1")])[1]
    trigger_id = d.function_cancelled_event["data"]["event"]["id"]
    assert is_ulid(trigger_id) and ulid_time_ms(trigger_id) == req.started_at
    assert engine.register_run(req).decision == d


def test_watch_pulls_from_the_store_so_acks_made_meanwhile_are_honoured(engine: Engine) -> None:
    """Issue 9 item 8: a stream keeps no queue of its own. Decisions made while it is not
    read wait in the store, and those acknowledged meanwhile are not sent any more."""
    runs = [engine.register_run(run_request(f"r{i}")) for i in range(10)]
    stream = engine.watch("prod")
    (d0,) = engine.publish_events("prod", [deleted("r0")])[1]
    assert next(stream) == d0
    later = engine.publish_events("prod", [deleted(f"r{i}") for i in range(1, 10)])[1]
    assert engine.ack_decisions("prod", [d.decision_id for d in later[:5]]) == 5
    assert [next(stream).run_id for _ in range(4)] == [r.run_id for r in runs[6:]]
    stream.close()


def test_streams_are_capped_per_environment(engine_factory: Callable[..., Engine]) -> None:
    eng = engine_factory(max_watchers=3, max_watchers_per_env=2)
    held = [eng.watch("prod", poll_s=0.01) for _ in range(2)]
    for s in held:
        eng.register_run(run_request("x"))
        eng.publish_events("prod", [deleted("x")])
        next(s)
    with pytest.raises(TooManyStreams, match="2 WatchDecisions streams open for environment "
                                             "'prod'"):
        next(eng.watch("prod"))
    assert list(eng.watch("staging", is_active=lambda: False)) == []  # not locked out
    assert eng.stats().watchers == {"prod": 2}
    for s in held:
        s.close()
    assert eng.stats().watchers == {}


@pytest.mark.parametrize(("changes", "message"), [
    ({"max_watchers": 32, "workers": 32}, r"--max-watchers \(32\) must be below --workers"),
    ({"max_watchers_per_env": 17}, r"--max-watchers-per-env \(17\) must be between 1 and "),
    ({"store": "mysql://x"}, r"--store 'mysql://x': expected sqlite, redis://"),
    ({"max_json_depth": 129}, r"--max-json-depth must be at most 128, got 129"),
])
def test_config_check_rejects_settings_that_cannot_work(changes: dict[str, object],
                                                        message: str) -> None:
    from server.config import Config

    with pytest.raises(ValueError, match=message):
        Config().replace(**changes).check()


def test_a_busy_environment_does_not_hold_another_one(engine: Engine,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 9 item 3: while one tenant's publish is busy matching (here: blocked), another
    tenant's calls go through — there is no global lock over the index."""
    engine.register_run(run_request("r1", env="slow"))
    engine.register_run(run_request("r1", env="fast"))
    inside, release = threading.Event(), threading.Event()
    real_match = matcher.ListenerIndex.match

    def match(self: matcher.ListenerIndex, event: dict[str, Any], env: str = "default") -> Any:
        if env == "slow":
            inside.set()
            release.wait(60)
        return real_match(self, event, env)

    monkeypatch.setattr(matcher.ListenerIndex, "match", match)
    slow = threading.Thread(target=engine.publish_events, args=("slow", [deleted("r1")]))
    slow.start()
    try:
        assert inside.wait(30)
        done: list[Any] = []
        fast = threading.Thread(target=lambda: done.append(
            engine.publish_events("fast", [deleted("r1")])[1]))
        fast.start()
        fast.join(30)  # a liveness bound: the busy tenant is still blocked meanwhile
        assert not fast.is_alive() and len(done[0]) == 1
        assert engine.register_run(run_request("r2", env="fast")).status == "registered"
    finally:
        release.set()
        slow.join(30)


def test_stats_are_per_environment_and_cheap(engine: Engine) -> None:
    engine.register_run(run_request("r1", env="prod"))
    engine.register_run(run_request("r2", env="prod"))
    engine.register_run(run_request("r1", env="staging"))
    engine.publish_events("staging", [deleted("r1"), deleted("other")])
    stats = engine.stats()
    assert stats.pending_listeners == {"prod": 2, "staging": 0}
    assert stats.unacked_decisions.get("staging") == 1 and not stats.unacked_decisions.get("prod")
    assert stats.late_window_events == 2 and stats.late_window_bytes > 0
