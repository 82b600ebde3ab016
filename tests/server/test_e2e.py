"""End to end: a real `cancelmatch serve` process on 127.0.0.1, driven over gRPC and HTTP.

The tests that start a server run once on SQLite and once on Redis (``--store redis://``):
the same answers from both stores."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis_support
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_support import ROOT

from server._proto import cancelmatch_pb2 as pb
from server._timeouts import format_rfc3339
from server._ulid import new_ulid
from server.client import Client

pytestmark = pytest.mark.e2e

RULES = [{"event": "tasks/reminder.deleted", "match": "data.reminderId"}]


@pytest.fixture(params=["sqlite", "redis"])
def server_factory(request: pytest.FixtureRequest, server_factory: Any) -> Any:
    """The conftest factory, on the embedded store or on a flushed Redis."""
    if request.param == "sqlite":
        return server_factory
    redis_server = redis_support.shared("redis")
    redis_server.flush()

    def start(*args: str, **kwargs: Any) -> Any:
        return server_factory(*args, "--store", redis_server.url, **kwargs)

    return start


def _now() -> int:
    return time.time_ns() // 1_000_000


def _run(reminder: str, user: str = "user_123", started: int | None = None) -> dict[str, Any]:
    started = started or _now() - 5000
    return {"run_id": new_ulid(started), "app_id": "reminders", "function_id": "send-reminder",
            "started_at": started, "cancel_on": RULES,
            "trigger": {"name": "tasks/reminder.created", "id": new_ulid(started),
                        "ts": started, "data": {"reminderId": reminder, "userId": user}}}


def _deleted(reminder: str) -> dict[str, Any]:
    return {"name": "tasks/reminder.deleted", "data": {"reminderId": reminder}}


def _healthy(target: str) -> bool:
    with grpc.insecure_channel(target) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
    return resp.status == health_pb2.HealthCheckResponse.SERVING


def test_register_publish_decide_ack_reconnect(server_factory: Any) -> None:
    srv = server_factory()
    with Client(srv.target, env="prod") as c:
        runs = [_run(f"r{i}") for i in range(3)]
        assert all(r.status == pb.RUN_STATUS_REGISTERED for r in c.register_runs(runs).results)
        (d1,) = c.publish([_deleted("r0")]).decisions
        assert d1.run_id == runs[0]["run_id"]
        first = c.watch()
        assert next(first).decision_id == d1.decision_id
        first.cancel()  # disconnect without acking
        second = c.watch()
        assert next(second).decision_id == d1.decision_id  # replayed on reconnect
        (d2,) = c.publish([_deleted("r1")]).decisions
        assert next(second).decision_id == d2.decision_id  # streamed live
        second.cancel()
        assert c.ack([d1.decision_id, d2.decision_id]) == 2
        third = c.watch()
        (d3,) = c.publish([_deleted("r2")]).decisions
        assert next(third).decision_id == d3.decision_id  # acked ones are not replayed
        third.cancel()


def test_reminder_scenario_and_bulk(server_factory: Any) -> None:
    srv = server_factory()
    with Client(srv.target, env="prod") as c:
        runs = {rem: _run(rem, user) for rem, user in
                [("rem_1", "user_123"), ("rem_2", "user_123"), ("rem_3", "user_456")]}
        for r in runs.values():
            c.register_run(**r)
        (d,) = c.publish([_deleted("rem_1")]).decisions
        assert d.run_id == runs["rem_1"]["run_id"]
        bulk = c.create_cancellation(app_id="reminders", function_id="send-reminder",
                                     started_before=_now() - 1,
                                     condition="event.data.userId == 'user_123'")
        assert bulk.runs_cancelled == 1
        stream = c.watch()
        got = {next(stream).run_id for _ in range(2)}
        stream.cancel()
        assert got == {runs["rem_1"]["run_id"], runs["rem_2"]["run_id"]}
        assert [x.id for x in c.list_cancellations()] == [bulk.id]
        assert c.publish([_deleted("rem_3")]).decisions[0].run_id == runs["rem_3"]["run_id"]
        code = _error(lambda: c.create_cancellation(app_id="reminders", function_id="nope",
                                                    started_before=_now() - 1))
        assert code == (grpc.StatusCode.NOT_FOUND, "function not found")


def _error(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details()


def test_auth_on(server_factory: Any) -> None:
    key = "signkey-prod-5ecret"
    srv = server_factory("--signing-key", key)
    with Client(srv.target) as anon:
        assert _error(lambda: anon.register_run(**_run("r")))[0] == \
            grpc.StatusCode.UNAUTHENTICATED
    with Client(srv.target, signing_key="signkey-prod-guess") as wrong:
        assert _error(lambda: wrong.publish([_deleted("r")]))[0] == \
            grpc.StatusCode.UNAUTHENTICATED
    with Client(srv.target, signing_key=key) as ok:
        assert ok.register_run(**_run("r")).status == pb.RUN_STATUS_REGISTERED
    assert not any("local mode" in e.get("msg", "") for e in srv.log_lines())


def test_auth_off_is_announced(server_factory: Any) -> None:
    srv = server_factory()
    assert any(e.get("msg", "").startswith("local mode") for e in srv.log_lines())
    with Client(srv.target, signing_key="anything") as c:
        assert c.register_run(**_run("r")).status == pb.RUN_STATUS_REGISTERED


def test_two_environments_are_isolated(server_factory: Any) -> None:
    srv = server_factory()
    with Client(srv.target, env="prod") as prod, Client(srv.target, env="staging") as staging:
        run = _run("r1")
        prod.register_run(**run)
        assert staging.publish([_deleted("r1")]).decisions == []
        (d,) = prod.publish([_deleted("r1")]).decisions
        assert staging.ack([d.decision_id]) == 0
        stream = staging.watch()
        staging_run = _run("r2")
        staging.register_run(**staging_run)
        (sd,) = staging.publish([_deleted("r2")]).decisions
        assert next(stream).run_id == staging_run["run_id"] == sd.run_id  # d never shows here
        stream.cancel()
        assert _error(lambda: staging.create_cancellation(
            app_id="reminders", function_id="other", started_before=_now() - 1))[0] == \
            grpc.StatusCode.NOT_FOUND


def test_graceful_restart_keeps_listeners_and_unacked(server_factory: Any,
                                                      tmp_path: Path) -> None:
    data = tmp_path / "store"
    srv = server_factory(data_dir=data)
    with Client(srv.target, env="prod") as c:
        for rem in ("r1", "r2"):
            c.register_run(**_run(rem))
        (d1,) = c.publish([_deleted("r1")]).decisions
        watching = c.watch()
        next(watching)  # an open stream must not block shutdown
        assert srv.terminate() == 0
        watching.cancel()
    assert srv.wait_for_log("stopped")
    srv2 = server_factory(data_dir=data)
    with Client(srv2.target, env="prod") as c:
        stream = c.watch()
        assert next(stream).decision_id == d1.decision_id
        (d2,) = c.publish([_deleted("r2")]).decisions
        assert next(stream).decision_id == d2.decision_id
        stream.cancel()


def test_kill_9_loses_nothing_acknowledged(server_factory: Any, tmp_path: Path) -> None:
    data = tmp_path / "store"
    srv = server_factory(data_dir=data)
    with Client(srv.target, env="prod") as c:
        runs = [_run(f"r{i}") for i in range(20)]
        c.register_runs(runs)
        decided = c.publish([_deleted(f"r{i}") for i in range(10)]).decisions
        assert len(decided) == 10
        c.ack(d.decision_id for d in decided[:4])
        c.finish_run(runs[19]["run_id"])
    srv.kill9()
    srv2 = server_factory(data_dir=data)
    assert srv2.wait_for_log("listening")["restored_listeners"] == 9
    with Client(srv2.target, env="prod") as c:
        stream = c.watch()
        replay = [next(stream).decision_id for _ in range(6)]
        stream.cancel()
        assert replay == [d.decision_id for d in decided[4:]]
        again = c.publish([_deleted(f"r{i}") for i in range(20)]).decisions
        assert sorted(d.run_id for d in again) == sorted(r["run_id"] for r in runs[10:19])
        assert c.register_run(**runs[0]).status == pb.RUN_STATUS_CANCELLED


def test_bad_inputs_leave_the_server_healthy(server_factory: Any) -> None:
    srv = server_factory("--max-message-bytes", "1048576")
    with Client(srv.target, env="prod") as c:
        cases = [
            (lambda: c.register_run(**{**_run("r"), "cancel_on": [
                {"event": "x/y", "if": "event.data.a == (1"}]}),
             grpc.StatusCode.INVALID_ARGUMENT, "cancel_on[0].if: invalid expression: ERROR"),
            (lambda: c.publish([{"name": "e/x", "data": {"p": "x" * 300_000}}]),
             grpc.StatusCode.RESOURCE_EXHAUSTED, "events[0].data: event data is"),
            (lambda: c.publish([{"name": "e/x", "data": {"p": "x" * 200_000}}] * 6),
             grpc.StatusCode.RESOURCE_EXHAUSTED, ""),
            (lambda: c.publish([{"name": "e/x", "data": "text"}]),
             grpc.StatusCode.INVALID_ARGUMENT,
             "events[0].data: event data must be a JSON object, got str"),
            (lambda: c.register_run(**{**_run("r"), "run_id": "01ARZ3NDEKTSV4RRFFQ69G5FAVX"}),
             grpc.StatusCode.INVALID_ARGUMENT, "run_id: invalid ULID"),
            (lambda: c.expressions.Validate(pb.ValidateRequest(expression="1", usage=7)),
             grpc.StatusCode.INVALID_ARGUMENT, "usage: unknown enum value 7"),
            (lambda: c.ack(["nope"]), grpc.StatusCode.INVALID_ARGUMENT,
             "decision_ids[0]: invalid ULID 'nope'"),
        ]
        for call, code, details in cases:
            got = _error(call)
            assert got[0] == code and got[1].startswith(details), got
            assert _healthy(srv.target)
        assert c.register_run(**_run("ok")).status == pb.RUN_STATUS_REGISTERED


def test_metrics_endpoint(server_factory: Any) -> None:
    srv = server_factory()
    with Client(srv.target, env="prod") as c:
        for rem in ("a", "b", "c"):
            c.register_run(**_run(rem))
        c.publish([_deleted("a"), _deleted("zzz")])
    url = f"http://127.0.0.1:{srv.http_port}/metrics"
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    assert 'cancelmatch_pending_listeners{env="prod"} 2.0\n' in text
    assert 'cancelmatch_events_total{env="prod"} 2.0\n' in text
    assert 'cancelmatch_decisions_total{cause="event",env="prod"} 1.0\n' in text
    assert "cancelmatch_match_latency_seconds_count 2.0\n" in text


def test_demo_command() -> None:
    out = subprocess.run([sys.executable, "-m", "server.cli", "demo"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "rem_001: cancelled" in out.stdout and "rem_003: running" in out.stdout
    assert '"name": "inngest/function.cancelled"' in out.stdout


def test_watch_stream_ends_on_shutdown(server_factory: Any) -> None:
    srv = server_factory()
    ended = threading.Event()
    with Client(srv.target, env="prod") as c:
        stream = c.watch()

        def drain() -> None:
            try:
                for _ in stream:
                    pass
            except grpc.RpcError:
                pass
            ended.set()

        t = threading.Thread(target=drain)
        t.start()
        c.register_run(**_run("r"))
        assert srv.terminate() == 0
        t.join(timeout=60)
        assert ended.is_set()


def test_rest_bulk_cancellation_with_curl_like_requests(server_factory: Any) -> None:
    key = "signkey-prod-c0ffee"
    srv = server_factory("--signing-key", key)
    with Client(srv.target, env="prod", signing_key=key) as c:
        runs = {rem: _run(rem, user) for rem, user in [("a", "user_123"), ("b", "user_9")]}
        for r in runs.values():
            c.register_run(**r)
    body = json.dumps({"app_id": "reminders", "function_id": "send-reminder",
                       "started_before": format_rfc3339(_now() - 1),
                       "if": "event.data.userId == 'user_123'"}).encode()
    url = f"http://127.0.0.1:{srv.http_port}/v1/cancellations"
    headers = {"Content-Type": "application/json", "X-Inngest-Env": "prod"}
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30)
    assert err.value.code == 401
    err.value.close()
    auth = {**headers, "Authorization": f"Bearer {key}"}
    with urllib.request.urlopen(urllib.request.Request(url, body, auth), timeout=30) as resp:
        created = json.loads(resp.read())["data"]
    assert created["kind"] == "bulk_run"
    with Client(srv.target, env="prod", signing_key=key) as c:
        stream = c.watch()
        d = next(stream)
        stream.cancel()
    assert d.run_id == runs["a"]["run_id"] and d.cancellation_id == created["id"]
