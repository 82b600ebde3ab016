"""Hostile JSON (issue 9 item 1): one nesting limit wherever JSON enters, checked before decoding.

A trigger nesting ~980 deep used to register and then make every PublishEvents batch holding
its cancel event fail with RecursionError; 10,000 deep failed every entry point. Now every
JSON payload is scanned without recursion first (server._jsonscan) and refused with
INVALID_ARGUMENT naming the field and the depth, and whatever is accepted can be stored,
reloaded, matched and encoded into a decision.

Cost of the scan (min of 60 runs on this 2-core machine while other jobs shared it;
CPython 3.11; measured, not asserted): a 1 KiB event 5 us (matcher.loads_json of it: 17 us);
226 KiB of 3,500 small objects (more brackets than the limit: exact depth pass) 2.2 ms
(loads_json 3.1 ms); a 256 KiB string 0.8 ms (loads_json 0.15 ms: the number-hint pass
is the cost); 253 KiB of 120-deep arrays 12 ms (loads_json 24 ms); 186 KiB of floats with
exponents (exact number pass) 0.7 ms (loads_json 7.5 ms).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from server_support import T0, Clock, deleted, make_engine, run_request

from server import expressions
from server._model import Event, Rule, RunRequest
from server.cli import main
from server.config import Config
from server.engine import Engine
from server.errors import InvalidArgument

LIMIT = 64  # the default of Config.max_json_depth
RULES = (Rule("tasks/reminder.deleted", match="data.reminderId"),
         Rule("tasks/reminder.deleted", condition="async.data.x == event.data.x"),
         Rule("tasks/reminder.updated", condition="async.data == event.data"))


def nested(depth: int) -> dict[str, Any]:
    """A data object nesting exactly ``depth`` levels (the object itself is level 1)."""
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = [value]
    return {"reminderId": "r1", "x": value}


def deep_text(depth: int) -> str:
    # Built as text: json.dumps itself recurses and could not produce the deep cases.
    return '{"reminderId": "r1", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def with_trigger(data_json: str, rules: tuple[Rule, ...] = RULES) -> RunRequest:
    req = run_request("r1", rules=rules)
    t = req.trigger
    return RunRequest(req.env, req.app_id, req.function_id, req.run_id, req.started_at,
                      Event(t.id, t.name, t.ts, data_json), req.rules)


def test_the_limit_is_a_setting_with_default_64() -> None:
    assert Config().max_json_depth == LIMIT
    assert Config(max_json_depth=3).max_json_depth == 3


@pytest.mark.parametrize("depth", [LIMIT + 1, 980, 10_000, 130_000])
def test_deep_trigger_is_refused_at_registration(engine: Engine, depth: int) -> None:
    with pytest.raises(InvalidArgument) as err:
        engine.register_runs([with_trigger(deep_text(depth))])
    assert err.value.message == (f"runs[0].trigger.data: JSON nests {depth} levels deep, "
                                 f"the limit is {LIMIT}")
    assert engine.store.count("runs") == 0


@pytest.mark.parametrize("depth", [LIMIT + 1, 980, 10_000])
def test_deep_event_is_refused_by_publish_and_the_batch_names_it(engine: Engine,
                                                                 depth: int) -> None:
    engine.register_run(run_request("r1"))
    bad = Event("", "tasks/reminder.deleted", T0, deep_text(depth))
    with pytest.raises(InvalidArgument, match=rf"^events\[1\]\.data: JSON nests {depth} "):
        engine.publish_events("prod", [deleted("r2"), bad])
    assert engine.publish_events("prod", [deleted("r1")])[1]  # nothing was poisoned


@pytest.mark.parametrize(("field", "args"), [
    ("event", lambda t: ("true", t, "")),
    ("async", lambda t: ("true", "", t)),
])
def test_evaluate_refuses_deep_samples(field: str, args: Any) -> None:
    with pytest.raises(InvalidArgument, match=rf"^{field}: JSON nests 10000 levels deep"):
        expressions.evaluate(*args(deep_text(10_000)), Config())


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": NaN}', "NaN is not a JSON number"),
    ('{"a": -Infinity}', "Infinity is not a JSON number"),
    ('{"a": 1e400}', "number 1e400 is too large for a double"),
    ('{"a": -' + "9" * 400 + "}", "too large for a double"),
    ('{"a": ' + "1" * 200 + "e200}", "too large for a double"),
])
def test_numbers_no_reader_of_a_decision_could_parse_are_refused(
        engine: Engine, text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=f"^runs\\[0\\]\\.trigger\\.data: .*{message}"):
        engine.register_runs([with_trigger(text)])


def test_json_like_strings_are_only_strings(engine: Engine) -> None:
    data = {"reminderId": "r1", "s": "[" * 500 + "NaN Infinity 1e400 " + "9" * 400,
            "t": '\\"[[[['}
    res = engine.register_run(with_trigger(json.dumps(data)))
    assert res.status == "registered"


def test_a_trigger_at_the_limit_survives_match_restart_and_decision(tmp_path: Path) -> None:
    """Everything accepted can be stored, reloaded, matched and encoded."""
    clock, path = Clock(), tmp_path / "db.sqlite3"
    engine = make_engine(path, clock)
    text = json.dumps(nested(LIMIT))
    res = engine.register_run(with_trigger(text))
    assert [li.status for li in res.listeners] == ["stored"] * 3
    engine.close()
    engine = make_engine(path, clock)  # restart: the index is rebuilt from the store
    assert engine.restored == 3
    updated = Event("", "tasks/reminder.updated", T0, text)
    _, decisions = engine.publish_events("prod", [updated])
    (d,) = decisions
    encoded = json.dumps(d.function_cancelled_event)  # what gRPC and REST send
    assert json.loads(encoded)["data"]["event"]["data"] == nested(LIMIT)
    assert expressions.evaluate("async.data == event.data", json.dumps({"data": nested(63)}),
                                json.dumps({"data": nested(63)}), Config())["result"] is True
    engine.close()


def test_a_poison_pill_from_an_older_store_is_skipped_at_start(tmp_path: Path,
                                                               caplog: Any) -> None:
    """A store written before the limit may hold a 980-deep trigger: loading its bucket after
    the restart logs it and leaves it out of the index, so it cannot fail every later
    PublishEvents."""
    clock, path = Clock(), tmp_path / "db.sqlite3"
    engine = make_engine(path, clock)
    good = engine.register_run(run_request("r2"))
    poison = with_trigger(json.dumps({"reminderId": "r1"}))
    engine.register_run(poison)
    with engine.store.transaction():  # what the old code let in
        engine.store._db.execute("UPDATE runs SET trigger_data = ? WHERE run_id = ?",
                                 (deep_text(980), poison.run_id))
    engine.close()
    engine = make_engine(path, clock)
    _, decisions = engine.publish_events("prod", [deleted("r1"), deleted("r2")])
    assert [d.run_id for d in decisions] == [good.run_id]
    assert f"run {poison.run_id} trigger is not loaded: JSON nests 980" in caplog.text
    engine.close()


@pytest.mark.parametrize("argv", [
    ["eval", "true", "--async", '{"data": ' + "[" * 5000 + "]" * 5000 + "}"],
    ["explain", "async.data.x == event.data.x", "--trigger",
     '{"data": ' + "[" * 5000 + "]" * 5000 + "}"],
])
def test_the_expression_cli_refuses_deep_json_instead_of_a_traceback(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().endswith(
        f"{argv[2]}: JSON nests 5001 levels deep, the limit is 64")
