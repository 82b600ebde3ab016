"""Hostile input against a real ``cancelmatch serve`` process (issue 9 items 1, 5, 6, 7, 9).

Each request here used to answer INTERNAL / 500 or poison later calls. The process must
answer each with a client error naming the field, log no internal error, and stay healthy
through a restart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_support import ROOT
from test_rest import http

from server._proto import cancelmatch_pb2 as pb
from server._proto import cancelmatch_pb2_grpc as pb_grpc
from server._ulid import new_ulid
from server.client import Client

pytestmark = pytest.mark.e2e
DEEP = "[" * 10_000 + "]" * 10_000
PROD = "signkey-prod-" + "ab" * 32
STAGING = "signkey-test-" + "cd" * 32


def _now() -> int:
    return time.time_ns() // 1_000_000


def _status(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details()


def _http(port: int, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, Any]:
    return http(SimpleNamespace(http_port=port), method, path, body, headers)  # type: ignore[arg-type]


def _run(**changes: Any) -> dict[str, Any]:
    started = _now() - 1000
    run = {"run_id": new_ulid(started), "app_id": "app", "function_id": "fn",
           "started_at": started, "trigger": {"name": "t/created", "data": {"id": "x"}},
           "cancel_on": [{"event": "t/deleted", "match": "data.id"}]}
    return {**run, **changes}


def _healthy(target: str) -> bool:
    with grpc.insecure_channel(target) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=30)
    return resp.status == health_pb2.HealthCheckResponse.SERVING


def test_hostile_requests_get_client_errors_and_the_process_stays_healthy(
        server_factory: Any) -> None:
    srv = server_factory("--sqlite-synchronous", "NORMAL")
    inv = grpc.StatusCode.INVALID_ARGUMENT
    with Client(srv.target, env="prod") as c:
        good = c.register_run(**_run())
    with grpc.insecure_channel(srv.target) as ch:
        runner = pb_grpc.RunnerStub(ch)  # type: ignore[no-untyped-call]
        exprs = pb_grpc.ExpressionsStub(ch)  # type: ignore[no-untyped-call]
        bulk = pb_grpc.CancellationsStub(ch)  # type: ignore[no-untyped-call]
        started = _now() - 1000

        def run(**changes: Any) -> pb.RegisterRunRequest:
            fields = {"env": "prod", "app_id": "app", "function_id": "fn",
                      "run_id": new_ulid(started), "run_started_at": started,
                      "trigger": pb.Event(name="t/created", data_json='{"id": "y"}'),
                      "cancel_on": [pb.CancelRule(event="t/deleted", match="data.id")]}
            return pb.RegisterRunRequest(**{**fields, **changes})

        # item 1: JSON nesting, over every gRPC entry point that takes JSON
        deep = pb.Event(name="t/deleted", data_json=DEEP)
        for call, message in [
            (lambda: runner.RegisterRun(run(trigger=deep), timeout=30), "trigger.data: "),
            (lambda: runner.RegisterRuns(pb.RegisterRunsRequest(runs=[run(), run(trigger=deep)]),
                                         timeout=30), "runs[1].trigger.data: "),
            (lambda: runner.PublishEvents(pb.PublishEventsRequest(env="prod", events=[deep]),
                                          timeout=30), "events[0].data: "),
            (lambda: exprs.Evaluate(pb.EvaluateRequest(expression="true", event_json=DEEP),
                                    timeout=30), "event: "),
            (lambda: exprs.Explain(pb.ExplainRequest(rule=pb.CancelRule(event="e"),
                                                     trigger=deep), timeout=30), "trigger.data: "),
        ]:
            assert _status(call) == (inv, message + "JSON nests 10000 levels deep, the limit is 64")
        # item 5: times
        for call, message in [
            (lambda: runner.RegisterRun(run(run_started_at=2**63 - 1), timeout=30),
             "run_started_at: 9223372036854775807 is out of range"),
            (lambda: runner.RegisterRun(run(cancel_on=[pb.CancelRule(
                event="e", timeout="9" * 30 + "d")]), timeout=30),
             "cancel_on[0].timeout: duration"),
            (lambda: bulk.CreateCancellation(pb.CreateCancellationRequest(
                env="prod", app_id="app", function_id="fn", started_before=-(2**63)), timeout=30),
             "started_before: -9223372036854775808 is out of range"),
        ]:
            code, details = _status(call)
            assert code == inv and details.startswith(message), details
        # item 7: a list the store could not take
        assert _status(lambda: runner.AckDecisions(pb.AckDecisionsRequest(
            env="prod", decision_ids=["01HF7YAT005Y0CV97J0WQWCA05"] * 260_000), timeout=30)) == (
            grpc.StatusCode.RESOURCE_EXHAUSTED, "decision_ids: 260000 ids, the limit is 10000")
    with grpc.insecure_channel(srv.target) as ch:  # item 6: bytes protobuf refuses
        raw = ch.unary_unary("/cancelmatch.v1.Runner/PublishEvents")
        code, details = _status(lambda: raw(b"\x0a\x03\xed\xa0\x80", timeout=30))
        assert code == inv and details.startswith("request: not a valid protobuf message")
    port = srv.http_port
    status, err = _http(port, "POST", "/v1/cancellations", ('{"app_id": ' + DEEP + "}").encode())
    assert (status, err["error"]) == (
        400, "Invalid cancellation request: JSON nests 10001 levels deep, the limit is 64")
    for field in ("app_id", "if"):
        body = {"app_id": "app", "function_id": "fn", "started_before": "2024-01-01T00:00:00Z",
                field: "x\ud800"}
        status, err = _http(port, "POST", "/v1/cancellations", json.dumps(body).encode())
        assert status == 400 and err["error"].startswith(f"{field}: a lone surrogate")
    for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00Z"):
        body = {"app_id": "app", "function_id": "fn", "started_before": when}
        status, err = _http(port, "POST", "/v1/cancellations", json.dumps(body).encode())
        assert status == 400 and "started_before: " in err["error"], err
    assert _http(port, "GET", "/v1/cancellations")[0] == 200
    assert not [e for e in srv.log_lines() if "internal error" in e.get("msg", "")]
    assert srv.terminate() == 0
    srv.start()  # restart: nothing poisoned was stored
    assert _healthy(srv.target) and _http(srv.http_port, "GET", "/v1/cancellations")[0] == 200
    with Client(srv.target, env="prod") as c:
        (d,) = c.publish([{"name": "t/deleted", "data": {"id": "x"}}]).decisions
        assert d.run_id == good.run_id


def test_per_environment_keys_over_grpc_and_rest(server_factory: Any) -> None:
    srv = server_factory("--signing-keys", f"prod={PROD},staging={STAGING}")
    with Client(srv.target, env="staging", signing_key=PROD) as wrong:
        assert _status(lambda: wrong.register_run(**_run()))[0] == \
            grpc.StatusCode.PERMISSION_DENIED
    with Client(srv.target, env="prod", signing_key=PROD) as right:
        assert right.register_run(**_run()).status == pb.RUN_STATUS_REGISTERED
    with grpc.insecure_channel(srv.target) as ch:
        stub = pb_grpc.RunnerStub(ch)  # type: ignore[no-untyped-call]
        assert _status(lambda: stub.FinishRun(pb.FinishRunRequest(env="prod", run_id=new_ulid()),
                                              timeout=30))[0] == grpc.StatusCode.UNAUTHENTICATED
    headers = {"Authorization": f"Bearer {PROD}"}
    assert _http(srv.http_port, "GET", "/v1/cancellations",
                 headers={**headers, "X-Inngest-Env": "staging"})[0] == 403
    assert _http(srv.http_port, "GET", "/v1/cancellations",
                 headers={**headers, "X-Inngest-Env": "prod"})[0] == 200
    log = srv.log_path.read_text()
    assert PROD[13:] not in log and STAGING[13:] not in log
    assert "environments_with_own_key" in log


@pytest.mark.parametrize("variable", ["CANCELMATCH_SIGNING_KEY", "CANCELMATCH_SIGNING_KEYS"])
def test_an_empty_key_variable_is_refused_not_local_mode(tmp_path: Path, variable: str) -> None:
    """The CLI reads an empty environment variable as unset: a secret that did not reach
    the deployment started the server in local mode, every call accepted."""
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--grpc-port", "0", "--http-port", "0",
         "--data-dir", str(tmp_path)], env={**os.environ, variable: ""},
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"cancelmatch serve: error: {variable} is set but empty: give a key, or unset it for "
        "local mode (no authentication) (see 'cancelmatch serve --help')"]


def test_empty_signing_key_is_refused_at_start_up(tmp_path: Path) -> None:
    """Before, ``--signing-key \"\"`` left gRPC open while REST asked for a header."""
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--grpc-port", "0", "--http-port", "0",
         "--data-dir", str(tmp_path), "--signing-key", ""],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "cancelmatch serve: error: --signing-key is empty: give a key, or leave it out "
        "entirely for local mode (no authentication) (see 'cancelmatch serve --help')"]


def test_the_http_socket_lets_asyncio_disable_nagle() -> None:
    """asyncio sets TCP_NODELAY only on sockets created with proto IPPROTO_TCP; with proto
    0 every keep-alive REST answer (headers, then body) waited 44 ms for the client's
    delayed ACK (found by the fuzz suite's request rate; 0.3 ms with the fix)."""
    import socket

    from server.http_server import listen

    sock = listen("127.0.0.1", 0, 8)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
