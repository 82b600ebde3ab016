"""Batch limits the store can take (issue 9 item 7): every list field has a stated limit,
checked before any item is looked at.

Before: ``AckDecisions`` with 260,000 ids answered INTERNAL (SQLite: too many SQL
variables), and SyncFunctions took any number of functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from google.protobuf.descriptor import Descriptor
from server_support import T0, deleted, run_request

from server import _validate as check
from server._model import Rule
from server._proto import cancelmatch_pb2 as pb
from server._ulid import new_ulid
from server.config import Config
from server.engine import Engine
from server.errors import PayloadTooLarge, TooManyRules


def _request_messages() -> list[Descriptor]:
    """Every message reachable from a request of a cancelmatch.v1 method."""
    seen: dict[str, Descriptor] = {}
    todo = [m.input_type for s in pb.DESCRIPTOR.services_by_name.values() for m in s.methods]
    while todo:
        msg = todo.pop()
        if msg.full_name in seen:
            continue
        seen[msg.full_name] = msg
        todo += [f.message_type for f in msg.fields if f.message_type is not None]
    return list(seen.values())


def test_every_request_list_field_has_a_stated_limit() -> None:
    lists = {f"{m.name}.{f.name}" for m in _request_messages() for f in m.fields
             if f.is_repeated}
    assert lists == set(check.LIST_LIMITS)
    settings = {f.name for f in dataclasses.fields(Config)}
    assert set(check.LIST_LIMITS.values()) <= settings


def test_ack_with_260k_ids_is_refused_before_looking_at_them(engine: Engine) -> None:
    with pytest.raises(PayloadTooLarge) as err:
        engine.ack_decisions("prod", ["not even a ulid"] * 260_000)
    assert err.value.message == "decision_ids: 260000 ids, the limit is 10000"


def test_the_store_takes_the_maximum_ack(engine_factory: Callable[..., Engine]) -> None:
    engine = engine_factory()
    engine.register_run(run_request("r1"))
    (d,) = engine.publish_events("prod", [deleted("r1")])[1]
    assert engine.store.unacked_decisions("prod") == [d]
    ids = [new_ulid(T0) for _ in range(Config().max_ids_per_call - 1)] + [d.decision_id]
    assert engine.ack_decisions("prod", ids) == 1
    assert engine.store.unacked_decisions("prod") == []


def test_sync_functions_has_a_limit(engine: Engine) -> None:
    functions = [(f"f{i}", ()) for i in range(Config().max_functions_per_sync + 1)]
    with pytest.raises(PayloadTooLarge, match=r"^functions: 1001 functions, the limit is 1000$"):
        engine.sync_functions("prod", "app", functions)
    assert all(r.ok for r in engine.sync_functions("prod", "app", functions[:-1]))


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda e: e.register_runs([run_request("r")] * 1001), PayloadTooLarge,
     "runs: 1001 runs, the limit is 1000"),
    (lambda e: e.publish_events("prod", [deleted("r")] * 1001), PayloadTooLarge,
     "events: 1001 events, the limit is 1000"),
    (lambda e: e.register_run(run_request("r", rules=(Rule("x"),) * 6)), TooManyRules,
     "This function exceeds the max number of cancellation events: 5"),
])
def test_each_list_limit_names_the_field_the_size_and_the_limit(
        engine: Engine, call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as err:
        call(engine)  # type: ignore[operator]
    assert str(err.value) == message


def test_sync_reports_too_many_rules_per_function(engine: Engine) -> None:
    (res,) = engine.sync_functions("prod", "a", [("f", (Rule("x"),) * 6)])
    assert res.errors == ["This function exceeds the max number of cancellation events: 5"]
