"""Expression tools (Validate / Explain / Evaluate core) and never-firing registrations."""

from __future__ import annotations

import json

import pytest
from server_support import T0, deleted, run_request

from server import expressions
from server._model import Event, Rule
from server.engine import Engine
from server.errors import InvalidArgument, InvalidExpression, PayloadTooLarge


@pytest.mark.parametrize(("expression", "usage", "valid"), [
    ("data.reminderId", "match", True),
    ("data.", "match", False),
    ("event.data.userId == 'u' && async.data.amount > 100", "cancel_if", True),
    ("event.data.userId == 'u'", "bulk_if", True),
    ("async.data.amount > 100", "bulk_if", False),
    ("event.data.x ==", "cancel_if", False),
    ("nope(1)", "cancel_if", False),
])
def test_validate(expression: str, usage: str, valid: bool) -> None:
    v = expressions.validate(expression, usage)
    assert v.valid is valid
    if not valid:
        (err,) = v.errors
        assert err["line"] >= 1 and err["column"] >= 1 and "^" in err["rendered"]


def test_validate_warnings_and_paths() -> None:
    v = expressions.validate("event.data.a == 1", "cancel_if")
    assert v.paths == ["event.data.a"] and "never reads async" in v.warnings[0]
    assert "every event" in expressions.validate("", "cancel_if").warnings[0]
    with pytest.raises(InvalidArgument, match="usage: unknown value 'x'"):
        expressions.validate("1", "x")


def test_explain_shows_interpolated_residual_and_access() -> None:
    out = expressions.explain(Rule("tasks/reminder.deleted", match="data.reminderId"),
                              {"name": "t", "id": "1", "ts": 0, "data": {"reminderId": "r1"}})
    assert out["status"] == "stored" and '"r1"' in out["residual"]
    assert out["access"] and "hash" in out["access"][0]
    with pytest.raises(InvalidExpression, match=r"^rule\[0\]\.if: invalid expression"):
        expressions.explain(Rule("x/y", condition="async.a =="))


def test_evaluate_values_and_errors() -> None:
    out = expressions.evaluate("async.data.n * 2", async_json='{"data": {"n": 21}}')
    assert out == {"result": 42, "type": "int", "error": ""}
    err = expressions.evaluate("async.data.n / 0", async_json='{"data": {"n": 1}}')
    assert err["result"] is None and "divide by zero" in err["error"]
    with pytest.raises(InvalidArgument, match="^async: event data must be a JSON object"):
        expressions.evaluate("1", async_json="[1]")
    with pytest.raises(PayloadTooLarge, match="^expression: expression is"):
        expressions.evaluate("1 + " * 5000 + "1")


def test_listener_that_can_never_fire_is_reported_not_stored(engine: Engine) -> None:
    rules = (Rule("tasks/reminder.deleted", condition="event.data.userId == 'someone else'"),)
    res = engine.register_run(run_request("r1", rules=rules))
    (listener,) = res.listeners
    assert listener.status == "never_fires" and listener.reason
    assert len(engine.index) == 0 and engine.store.count("listeners") == 0
    assert engine.publish_events("prod", [deleted("r1")])[1] == []


def test_exact_integers_survive_to_the_decision(engine: Engine) -> None:
    big = 9007199254740993  # 2**53 + 1: a double would round it
    rules = (Rule("orders/cancelled", match="data.orderId"),)
    req = run_request(rules=rules)
    req = type(req)(req.env, req.app_id, req.function_id, req.run_id, req.started_at,
                    Event(req.trigger.id, "orders/created", req.started_at,
                          json.dumps({"orderId": big})), rules)
    engine.register_run(req)
    near = Event("", "orders/cancelled", T0, json.dumps({"orderId": big - 1}))
    assert engine.publish_events("prod", [near])[1] == []
    exact = Event("", "orders/cancelled", T0, json.dumps({"orderId": big}))
    (d,) = engine.publish_events("prod", [exact])[1]
    assert d.function_cancelled_event["data"]["event"]["data"]["orderId"] == big
