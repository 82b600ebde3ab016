"""gRPC transport in-process: status mapping, auth, health, reflection, limits."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from server._proto import cancelmatch_pb2 as pb
from server._ulid import new_ulid
from server.client import Client
from server.config import Config
from server.grpc_server import Service, build_server

KEY = "signkey-prod-0123456789abcdef"
RULES = [{"event": "tasks/reminder.deleted", "match": "data.reminderId"}]


def _start(tmp_path: Path, **cfg: object) -> Service:
    return build_server(Config(data_dir=tmp_path, grpc_port=0, http_port=0, grace_s=1,
                               **cfg))  # type: ignore[arg-type]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = _start(tmp_path, max_message_bytes=512 * 1024)
    yield svc
    svc.stop()


def _run(client: Client, reminder: str = "r1", **extra: object) -> pb.RegisterRunResponse:
    now = time.time_ns() // 1_000_000
    args = {"run_id": new_ulid(), "app_id": "reminders", "function_id": "send-reminder",
            "started_at": now - 1000, "cancel_on": RULES,
            "trigger": {"name": "tasks/reminder.created", "id": new_ulid(),
                        "data": {"reminderId": reminder}}}
    return client.register_run(**{**args, **extra})


def _healthy(target: str) -> bool:
    with grpc.insecure_channel(target) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""))
    return resp.status == health_pb2.HealthCheckResponse.SERVING


def _code(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()  # type: ignore[operator]
    return err.value.code(), err.value.details()


def test_register_publish_watch_ack(service: Service) -> None:
    with Client(service.target, env="prod") as c:
        res = _run(c)
        assert res.status == pb.RUN_STATUS_REGISTERED
        out = c.publish([{"name": "tasks/reminder.deleted", "data": {"reminderId": "r1"}}])
        (d,) = out.decisions
        assert d.run_id == res.run_id and d.cause == pb.CAUSE_EVENT
        assert json.loads(d.function_cancelled_event_json)["id"] == res.run_id
        stream = c.watch()
        assert next(stream).decision_id == d.decision_id
        stream.cancel()
        assert c.ack([d.decision_id]) == 1


@pytest.mark.parametrize(("mutate", "code", "details"), [
    ({"run_id": "not-a-ulid"}, grpc.StatusCode.INVALID_ARGUMENT,
     "run_id: invalid ULID 'not-a-ulid'"),
    ({"cancel_on": [{"event": "x/y", "if": "async.data.x ==="}]},
     grpc.StatusCode.INVALID_ARGUMENT, "cancel_on[0].if: invalid expression: ERROR: <input>:1:"),
    ({"cancel_on": [{"event": "x/y", "match": "data.x"}] * 6}, grpc.StatusCode.INVALID_ARGUMENT,
     "This function exceeds the max number of cancellation events: 5"),
    ({"trigger": {"name": "t/x", "data": [1]}}, grpc.StatusCode.INVALID_ARGUMENT,
     "trigger.data: event data must be a JSON object, got list"),
    ({"trigger": {"name": "t/x", "data": {"b": "x" * 300_000}}},
     grpc.StatusCode.RESOURCE_EXHAUSTED, "trigger.data: event data is"),
])
def test_bad_registrations_are_precise(service: Service, mutate: dict, code: grpc.StatusCode,
                                       details: str) -> None:
    with Client(service.target) as c:
        got = _code(lambda: _run(c, **mutate))
    assert got[0] == code and got[1].startswith(details), got
    assert _healthy(service.target)


def test_unknown_enum_and_missing_usage(service: Service) -> None:
    with Client(service.target) as c:
        stub = c.expressions
        assert _code(lambda: stub.Validate(pb.ValidateRequest(expression="1", usage=42))) == (
            grpc.StatusCode.INVALID_ARGUMENT, "usage: unknown enum value 42")
        code, details = _code(lambda: stub.Validate(pb.ValidateRequest(expression="1")))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("usage is required")


def test_validate_reports_positions(service: Service) -> None:
    with Client(service.target) as c:
        bad = c.validate("event.data.userId ==", "cancel_if")
        assert not bad.valid and bad.errors[0].line == 1 and bad.errors[0].column == 21
        assert bad.errors[0].rendered.startswith("ERROR: <input>:1:21:")
        ok = c.validate("event.data.userId == 'u' && async.data.amount > 100", "cancel_if")
        assert ok.valid and "async.data.amount" in ok.paths
        assert not c.validate("async.data.x == 1", "bulk_if").valid
        assert c.validate("", "cancel_if").warnings


def test_message_over_the_transport_limit(service: Service) -> None:
    with Client(service.target) as c:
        big = [{"name": "e/x", "data": {"pad": "x" * 100_000}}] * 6
        code, _ = _code(lambda: c.publish(big))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _healthy(service.target)


def test_too_many_events_per_batch(tmp_path: Path) -> None:
    svc = _start(tmp_path, max_events_per_batch=2)
    try:
        with Client(svc.target) as c:
            code, details = _code(lambda: c.publish([{"name": "e/x"}] * 3))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert details == "events: 3 events, the limit is 2"
    finally:
        svc.stop()


def test_auth_required_when_key_configured(tmp_path: Path) -> None:
    svc = _start(tmp_path, signing_key=KEY)
    try:
        with Client(svc.target) as anon:
            assert _code(lambda: _run(anon))[0] == grpc.StatusCode.UNAUTHENTICATED
            assert _code(lambda: next(anon.watch()))[0] == grpc.StatusCode.UNAUTHENTICATED
        with Client(svc.target, signing_key="signkey-prod-wrong") as wrong:
            assert _code(lambda: _run(wrong)) == (grpc.StatusCode.UNAUTHENTICATED,
                                                  "invalid signing key")
        with Client(svc.target, signing_key=KEY) as ok:
            assert _run(ok).status == pb.RUN_STATUS_REGISTERED
        with Client(svc.target, signing_key="0123456789abcdef") as bare:
            assert _run(bare).status == pb.RUN_STATUS_REGISTERED
        assert _healthy(svc.target)  # health stays open for probes
    finally:
        svc.stop()


def test_reflection_lists_every_service(service: Service) -> None:
    with grpc.insecure_channel(service.target) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        (resp,) = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for s in resp.list_services_response.service}
    assert {"cancelmatch.v1.Runner", "cancelmatch.v1.Expressions",
            "cancelmatch.v1.Cancellations", "grpc.health.v1.Health"} <= names
    with grpc.insecure_channel(service.target) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        (resp,) = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="cancelmatch.v1.Runner")]))
    assert len(resp.file_descriptor_response.file_descriptor_proto) == 1  # what grpcurl reads


def test_stop_marks_not_serving(tmp_path: Path) -> None:
    svc = _start(tmp_path)
    svc.stop()
    req = health_pb2.HealthCheckRequest(service="")
    assert svc.health.Check(req, None).status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_evaluate_and_explain(service: Service) -> None:
    with Client(service.target) as c:
        out = c.evaluate("async.data.amount > 100", async_={"data": {"amount": 150}})
        assert (out.result_json, out.type, out.error) == ("true", "bool", "")
        err = c.evaluate("async.data.missing > 1", async_={"data": {}})
        assert err.error and not err.result_json
        ex = c.explain(RULES[0], {"name": "tasks/reminder.created", "data": {"reminderId": "r1"}})
        assert ex.status == "stored" and ex.expression


def test_background_sweeper_removes_expired_listeners(tmp_path: Path) -> None:
    svc = _start(tmp_path, sweep_interval_s=0.05)
    try:
        with Client(svc.target) as c:
            rules = [{**RULES[0], "timeout": "1ms"}]
            assert _run(c, cancel_on=rules).listeners[0].status == "stored"
        deadline = time.monotonic() + 60  # liveness bound only
        while svc.engine.store.count("listeners") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.engine.store.count("listeners") == 0 and len(svc.engine.index) == 0
    finally:
        svc.stop()


def test_watch_ends_cleanly_when_cancelled_from_another_thread(service: Service) -> None:
    import threading

    seen: list[str] = []
    failure: list[BaseException] = []
    first = threading.Event()
    with Client(service.target, env="prod") as c:
        _run(c, "r1")
        c.publish([{"name": "tasks/reminder.deleted", "data": {"reminderId": "r1"}}])
        stream = c.watch()

        def read() -> None:
            try:
                for d in stream:  # blocks after the first one, until cancel()
                    seen.append(d.run_id)
                    first.set()
            except BaseException as exc:  # noqa: BLE001 - the defect this test guards
                failure.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        assert first.wait(30)
        stream.cancel()
        reader.join(timeout=30)
    assert not reader.is_alive() and failure == [] and len(seen) == 1


def test_new_run_id_is_accepted_and_sorts_by_start() -> None:
    from server.client import new_run_id

    early, late = new_run_id(1_700_000_000_000), new_run_id(1_700_000_000_001)
    assert early < late and len(early) == 26
