"""Strings SQLite cannot take (issue 9 item 6): NUL and lone surrogates in any text field.

Over REST a JSON escape such as ``"\\ud800"`` puts a lone surrogate into ``app_id`` or ``if``;
SQLite (UTF-8) then raised UnicodeEncodeError and the client saw 500. gRPC cannot carry one
(protobuf refuses invalid UTF-8 on the wire; that refusal is now INVALID_ARGUMENT, not
INTERNAL), but the engine is shared by both transports, so it checks every field itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from server_support import T0, Clock, deleted, make_engine, run_request

from server._model import Event, Rule, RunRequest
from server.engine import Engine
from server.errors import InvalidArgument, ServiceError

BAD = [("\ud800", "a lone surrogate '\\ud800'"), ("\udfff", "a lone surrogate '\\udfff'"),
       ("\x00", "NUL")]


def _run(**changes: Any) -> RunRequest:
    req = run_request("r1")
    trigger = {k[8:]: changes.pop(k) for k in list(changes) if k.startswith("trigger_")}
    if trigger:
        changes["trigger"] = Event(**{**req.trigger.__dict__, **trigger})
    rule = {k[5:]: changes.pop(k) for k in list(changes) if k.startswith("rule_")}
    if rule:
        changes["rules"] = (Rule(**{"event": "tasks/reminder.deleted", **rule}),)
    return RunRequest(**{**req.__dict__, **changes})


FIELDS = {
    "app_id": lambda bad: _run(app_id=f"app{bad}"),
    "function_id": lambda bad: _run(function_id=f"fn{bad}"),
    "trigger.name": lambda bad: _run(trigger_name=f"t{bad}"),
    "trigger.id": lambda bad: _run(trigger_id=f"id{bad}"),
    "cancel_on[0].event": lambda bad: _run(rule_event=f"e{bad}"),
    "cancel_on[0].if": lambda bad: _run(rule_condition=f"async.data.x == '{bad}'"),
    "cancel_on[0].match": lambda bad: _run(rule_match=f"data.x{bad}"),
    "cancel_on[0].timeout": lambda bad: _run(rule_timeout=f"1d{bad}"),
}


@pytest.mark.parametrize("field", sorted(FIELDS))
@pytest.mark.parametrize(("bad", "what"), BAD)
def test_registration_text_fields_refuse_nul_and_lone_surrogates(
        engine: Engine, field: str, bad: str, what: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        engine.register_run(FIELDS[field](bad))
    assert err.value.message.startswith(f"{field}: {what} at character ")
    assert engine.store.count("runs") == 0


@pytest.mark.parametrize(("bad", "what"), BAD)
def test_bulk_cancellation_fields_refuse_them(engine: Engine, bad: str, what: str) -> None:
    engine.register_run(run_request("r1"))
    for field, args in [("app_id", (f"a{bad}", "send-reminder", "")),
                        ("function_id", ("reminders", f"f{bad}", "")),
                        ("if", ("reminders", "send-reminder", f"event.data.x == '{bad}'"))]:
        with pytest.raises(InvalidArgument, match=f"^{field}: "):
            engine.bulk.create("prod", args[0], args[1], None, T0 - 1, args[2])


@pytest.mark.parametrize(("bad", "what"), BAD)
def test_events_and_functions_refuse_them(engine: Engine, bad: str, what: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^events\[0\]\.name: "):
        engine.publish_events("prod", [Event("", f"n{bad}", T0)])
    with pytest.raises(InvalidArgument, match=r"^events\[0\]\.id: "):
        engine.publish_events("prod", [Event(f"i{bad}", "n", T0)])
    (res,) = engine.sync_functions("prod", "app", [(f"f{bad}", ())])
    assert not res.ok and res.errors[0].startswith("functions[0].function_id: ")


def test_escaped_surrogates_inside_event_data_are_data(engine: Engine) -> None:
    """JSON data may carry ``\\ud800`` escapes (JS JSON.stringify of a cut string does):
    the text itself is ASCII, and every answer built from it escapes them again."""
    res = engine.register_run(_run(trigger_data_json=json.dumps({"reminderId": "\ud800"})))
    assert res.status == "registered"
    _, (d,) = engine.publish_events(
        "prod", [Event("", "tasks/reminder.deleted", T0, json.dumps({"reminderId": "\ud800"}))])
    assert json.dumps(d.function_cancelled_event).isascii()
    assert ServiceError("x \ud800").message == "x \\ud800"


@given(st.sampled_from(sorted(FIELDS)), st.text(min_size=1, max_size=8),
       st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]),
       st.integers(min_value=0, max_value=8))
def test_a_bad_character_anywhere_is_refused_by_name(field: str, text: str, bad: str,
                                                     at: int) -> None:
    """For all texts with one NUL or lone surrogate inserted anywhere, in any field: an
    InvalidArgument naming that field, never an encoding error from below."""
    engine = make_engine(":memory:", Clock())
    try:
        value = text[:at] + bad + text[at:]
        with pytest.raises(InvalidArgument) as err:
            engine.register_run(FIELDS[field](value))
        assert err.value.message.startswith(f"{field}: ")
    finally:
        engine.close()


def test_publish_still_works_after_refusals(engine: Engine) -> None:
    res = engine.register_run(run_request("r1"))
    with pytest.raises(InvalidArgument):
        engine.publish_events("prod", [Event("", "n\ud800", T0)])
    assert [d.run_id for d in engine.publish_events("prod", [deleted("r1")])[1]] == [res.run_id]
