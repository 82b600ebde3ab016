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


# ------------------------------------------------------------------ rules that can never fire
# (issue 8: validate said OK and RegisterRun said stored for all of these)

NEVER_FIRE = [
    ("async.data.count + 1", "a rule must be a bool expression, but this one is int"),
    ('async.data.email.matches("([a-z")', "invalid regular expression '([a-z'"),
    ("async.data.l.exists(x, async.data.l.exists(y, async.data.l.exists(z, x == y)))",
     "the rule's estimated cost is 7,172,014 units, over the limit of 50,000"),
]


@pytest.mark.parametrize(("expression", "message"), NEVER_FIRE)
def test_validate_refuses_a_rule_that_can_never_fire(expression: str, message: str) -> None:
    v = expressions.validate(expression, "cancel_if")
    (err,) = v.errors
    assert not v.valid and message in err["message"] and "^" in err["rendered"]


@pytest.mark.parametrize(("expression", "message"), NEVER_FIRE)
def test_registration_refuses_it_naming_the_field(engine: Engine, expression: str,
                                                  message: str) -> None:
    rules = (Rule("tasks/reminder.deleted", condition=expression),)
    with pytest.raises(InvalidExpression) as info:
        engine.register_run(run_request("r1", rules=rules))
    assert str(info.value).startswith("cancel_on[0].if: invalid expression")
    assert message in str(info.value)
    assert engine.store.count("runs") == 0


def test_registration_returns_the_rule_warnings(engine: Engine) -> None:
    rules = (Rule("tasks/reminder.deleted", match="data.reminderId",
                  condition='async.data.amount > "100"'),)
    res = engine.register_run(run_request("r1", rules=rules))
    (warning,) = res.warnings
    assert warning.startswith('cancel_on[0].if: async.data.amount > "100" compares '
                              "async.data.amount with a string")
    assert res.status == "registered"


def test_validate_warns_about_types_and_about_event_sizes() -> None:
    v = expressions.validate("async.data.items.exists(i, i.qty > '2')", "cancel_if")
    assert v.valid and len(v.warnings) == 2
    assert "compares i.qty with a string" in v.warnings[0]
    assert "more than about 6,400 elements" in v.warnings[1]


def test_bulk_condition_that_can_never_be_a_bool_is_refused() -> None:
    v = expressions.validate("size(event.data.items)", "bulk_if")
    assert not v.valid and "must be a bool expression" in v.errors[0]["message"]


def test_explain_without_a_trigger_says_what_the_plan_depends_on() -> None:
    out = expressions.explain(Rule("tasks/reminder.deleted", match="data.reminderId"))
    # It used to explain an empty made-up trigger: "never_fires" for every match rule.
    assert out["status"] == "stored" and out["access"] == [
        "hash async.data.reminderId == event.data.reminderId"]
    (dependence,) = out["explain"]["depends_on"]
    assert dependence["value"] == "event.data.reminderId"
    assert {"when": ["missing"], "access": ["never fires"]} in dependence["plans"]
    assert "depends_on" in out["reason"]


def test_explain_without_a_trigger_of_a_rule_that_never_fires() -> None:
    out = expressions.explain(Rule("x/y", condition="async.data.a == 1 && false"))
    assert out["status"] == "never_fires" and out["reason"] == ""


def test_evaluate_reports_an_exhausted_budget_as_an_error() -> None:
    doubling = "['ab'].map(a0, " + "".join(
        f"[a{i} + a{i}].map(a{i + 1}, " for i in range(40)) + "size(a40) > 0" + ")" * 41
    out = expressions.evaluate(doubling)
    assert out["result"] is None and "exceeded its cost budget of 50000 units" in out["error"]
