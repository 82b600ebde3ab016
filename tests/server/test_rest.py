"""REST bulk-cancellation API over real HTTP (curl-equivalent requests) and its OpenAPI."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server._timeouts import format_rfc3339
from server._ulid import new_ulid
from server.client import Client
from server.config import Config
from server.grpc_server import Service, build_server
from server.rest import openapi_document

KEY = "signkey-prod-feedface"
RULES = [{"event": "tasks/reminder.deleted", "match": "data.reminderId"}]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = build_server(Config(data_dir=tmp_path, grpc_port=0, http_port=0, grace_s=1))
    yield svc
    svc.stop()


def http(svc: Service, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else (
        json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{svc.http_port}{path}", data=data,
                                 method=method, headers={"content-type": "application/json",
                                                         **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def _now() -> int:
    return time.time_ns() // 1_000_000


def _register(svc: Service, env: str = "", users: tuple[str, ...] = ("user_123",)) -> list[str]:
    ids = []
    with Client(svc.target, env=env) as c:
        for i, user in enumerate(users):
            started = _now() - 10_000 + i
            run_id = new_ulid(started)
            c.register_run(run_id=run_id, app_id="acme-app", function_id="schedule-reminder",
                           started_at=started, cancel_on=RULES,
                           trigger={"name": "tasks/reminder.created", "id": new_ulid(started),
                                    "data": {"reminderId": f"r{i}", "userId": user}})
            ids.append(run_id)
    return ids


def _request(**changes: Any) -> dict[str, Any]:
    body = {"app_id": "acme-app", "function_id": "schedule-reminder",
            "started_after": format_rfc3339(_now() - 60_000),
            "started_before": format_rfc3339(_now() - 1),
            "if": "event.data.userId == 'user_123'"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_create_list_delete_round_trip(service: Service) -> None:
    runs = _register(service, users=("user_123", "user_456", "user_123"))
    status, body = http(service, "POST", "/v1/cancellations", _request())
    assert status == 200 and set(body) == {"data", "metadata"}
    c = body["data"]
    assert set(c) == {"id", "environment_id", "app_id", "function_id", "started_after",
                      "started_before", "if", "created_at", "kind", "cause"}
    assert (c["kind"], c["cause"], c["environment_id"]) == ("bulk_run", "API", "default")
    assert c["if"] == "event.data.userId == 'user_123'" and c["created_at"].endswith("Z")
    assert body["metadata"]["fetched_at"].endswith("Z")
    with Client(service.target) as client:
        stream = client.watch()
        cancelled = {next(stream).run_id for _ in range(2)}
        stream.cancel()
    assert cancelled == {runs[0], runs[2]}
    assert http(service, "GET", "/v1/cancellations")[1]["data"] == [c]
    status, deleted = http(service, "DELETE", f"/v1/cancellations/{c['id']}")
    assert status == 200 and deleted["data"] == c
    assert http(service, "GET", "/v1/cancellations")[1]["data"] == []


@pytest.mark.parametrize(("changes", "status", "error"), [
    ({"app_id": None}, 400, "app_id is required"),
    ({"function_id": None}, 400, "function_id is required"),
    ({"started_before": None}, 400, "started_before is required"),
    ({"started_before": "2999-01-01T00:00:00Z"}, 400, "started_before must be in the past"),
    ({"started_after": "2000-01-02T00:00:00Z", "started_before": "2000-01-01T00:00:00Z"},
     400, "started_after must be before started_before"),
    ({"if": "async.data.x == 1"}, 400, "invalid expression: "),
    ({"if": "event.data.userId =="}, 400, "invalid expression: ERROR: <input>:1:"),
    ({"started_before": "yesterday"}, 400, "started_before: invalid RFC 3339 time 'yesterday'"),
    ({"started_before": 12}, 400, "started_before must be an RFC 3339 time string"),
    ({"app_id": 7}, 400, "app_id must be a string"),
    ({"function_id": "nope"}, 404, "function not found"),
])
def test_validation_errors(service: Service, changes: dict[str, Any], status: int,
                           error: str) -> None:
    _register(service)
    got_status, body = http(service, "POST", "/v1/cancellations", _request(**changes))
    assert (got_status, body["status"]) == (status, status)
    assert body["error"].startswith(error), body
    assert set(body) == {"error", "status"}


@pytest.mark.parametrize(("body", "error"), [
    (b"{not json", "invalid JSON body"),
    (b"[1, 2]", "the request body must be a JSON object"),
])
def test_malformed_bodies(service: Service, body: bytes, error: str) -> None:
    status, resp = http(service, "POST", "/v1/cancellations", body)
    assert status == 400 and resp["error"].startswith(error)


def test_not_found_and_method_errors(service: Service) -> None:
    assert http(service, "DELETE", f"/v1/cancellations/{new_ulid()}")[0] == 404
    assert http(service, "DELETE", "/v1/cancellations/not-a-ulid") == (
        400, {"error": "id: invalid ULID 'not-a-ulid': expected 26 Crockford base32 characters",
              "status": 400})
    assert http(service, "PUT", "/v1/cancellations")[0] == 405
    assert http(service, "GET", "/v1/nothing")[0] == 404


def test_environments_are_chosen_by_header(service: Service) -> None:
    _register(service, env="staging")
    assert http(service, "POST", "/v1/cancellations", _request())[0] == 404  # default env
    staging = {"X-Inngest-Env": "staging"}
    status, body = http(service, "POST", "/v1/cancellations", _request(), staging)
    assert status == 200 and body["data"]["environment_id"] == "staging"
    assert http(service, "GET", "/v1/cancellations")[1]["data"] == []
    assert len(http(service, "GET", "/v1/cancellations", headers=staging)[1]["data"]) == 1


def test_signing_key_required_when_configured(tmp_path: Path) -> None:
    svc = build_server(Config(data_dir=tmp_path, grpc_port=0, http_port=0, grace_s=1,
                              signing_key=KEY))
    try:
        assert http(svc, "GET", "/v1/cancellations")[0] == 401
        assert http(svc, "GET", "/v1/cancellations",
                    headers={"Authorization": "Bearer signkey-prod-wrong"})[0] == 401
        ok = http(svc, "GET", "/v1/cancellations", headers={"Authorization": f"Bearer {KEY}"})
        assert ok[0] == 200
        assert http(svc, "GET", "/v1/openapi.json")[0] == 200  # the document stays public
    finally:
        svc.stop()


def test_openapi_documents_every_route(service: Service) -> None:
    doc = openapi_document()
    assert doc["openapi"].startswith("3.")
    ops = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    assert ops == {("/v1/cancellations", "POST"), ("/v1/cancellations", "GET"),
                   ("/v1/cancellations/{id}", "DELETE")}
    assert http(service, "GET", "/v1/openapi.json") == (200, doc)
    schema = doc["components"]["schemas"]["Cancellation"]
    assert set(schema["required"]) == set(schema["properties"])
