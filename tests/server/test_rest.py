"""REST API over real HTTP (curl-equivalent requests): Inngest's shapes and messages, function
sync, pagination, and the OpenAPI document generated from the request/response models."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from server import _openapi
from server import rest_models as m
from server._timeouts import format_rfc3339
from server._ulid import new_ulid
from server.cli import main as cli_main
from server.client import Client
from server.config import Config
from server.grpc_server import Service, build_server
from server.rest import ROUTES

ROOT = Path(__file__).resolve().parents[2]

KEY = "signkey-prod-feedface"
RULES = [{"event": "tasks/reminder.deleted", "match": "data.reminderId"}]



def http_full(svc: Service, method: str, path: str, body: Any = None,
              headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """(status, decoded JSON body, lower-cased headers) of one request."""
    data = body if isinstance(body, bytes) else (
        json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{svc.http_port}{path}", data=data,
                                 method=method, headers={"content-type": "application/json",
                                                         **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read()), {
                k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read()), {
                k.lower(): v for k, v in err.headers.items()}


def http(svc: Service, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, decoded, _ = http_full(svc, method, path, body, headers)
    if status >= 400:  # every error has Inngest's publicerr shape
        assert set(decoded) == {"error", "data", "status"} and decoded["status"] == status
    return status, decoded


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
    assert status == 200 and list(body) == ["data", "metadata"]
    c = body["data"]
    assert list(c) == ["id", "environment_id", "function_internal_id", "app_id", "function_id",
                       "started_after", "started_before", "if", "created_at", "kind", "cause"]
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
    # Inngest's deleteCancellation writes WriteResponse(w, {"ok": true}).
    assert status == 200 and deleted["data"] == {"ok": True} and list(deleted) == [
        "data", "metadata"]
    assert http(service, "GET", "/v1/cancellations")[1]["data"] == []
    assert http(service, "DELETE", f"/v1/cancellations/{c['id']}") == (
        404, {"error": "Cancellation not found", "data": None, "status": 404})


def test_if_is_left_out_when_absent_and_started_after_is_null(service: Service) -> None:
    _register(service)
    status, body = http(service, "POST", "/v1/cancellations",
                        _request(**{"if": None, "started_after": None}))
    assert status == 200 and "if" not in body["data"] and body["data"]["started_after"] is None
    assert body["data"]["function_internal_id"] == http(
        service, "POST", "/v1/cancellations", _request())[1]["data"]["function_internal_id"]


@pytest.mark.parametrize(("changes", "status", "error"), [
    ({"app_id": None}, 400, "app_id is required"),
    ({"function_id": None}, 400, "function_id is required"),
    ({"started_before": None}, 400, "started_before is required"),
    ({"started_before": "2999-01-01T00:00:00Z"}, 400, "started_before must be in the past"),
    ({"started_after": "2000-01-02T00:00:00Z", "started_before": "2000-01-01T00:00:00Z"},
     400, "started_after must be before started_before"),
    ({"app_id": "", "started_before": "2999-01-01T00:00:00Z"}, 400,
     "app_id is required\nstarted_before must be in the past"),
    ({"if": "async.data.x == 1"}, 400, "invalid expression: "),
    ({"if": "event.data.userId =="}, 400, "invalid expression: ERROR: <input>:1:"),
    ({"started_before": "yesterday"}, 400,
     "Invalid cancellation request: started_before: invalid RFC 3339 time 'yesterday'"),
    ({"started_before": 12}, 400, "Invalid cancellation request: started_before must be a "
                                  "string"),
    ({"app_id": 7}, 400, "Invalid cancellation request: app_id must be a string"),
    ({"function_id": "nope"}, 404, "function not found"),
])
def test_validation_errors(service: Service, changes: dict[str, Any], status: int,
                           error: str) -> None:
    _register(service)
    got_status, body = http(service, "POST", "/v1/cancellations", _request(**changes))
    assert (got_status, body["status"]) == (status, status)
    assert body["error"].startswith(error), body


@pytest.mark.parametrize("body", [b"", b"{}"])
def test_an_empty_body_names_every_missing_field(service: Service, body: bytes) -> None:
    # Inngest joins CreateCancellationBody.Validate()'s errors with errors.Join ("\n").
    assert http(service, "POST", "/v1/cancellations", body) == (400, {
        "error": "app_id is required\nfunction_id is required\nstarted_before is required",
        "data": None, "status": 400})


@pytest.mark.parametrize(("body", "error"), [
    (b"{not json", "Invalid cancellation request: invalid JSON at line 1, column 2: Expecting "
                   "property name enclosed in double quotes"),
    (b"\xff\xfe{", "Invalid cancellation request: the body is not UTF-8 text (byte 0)"),
    (b"[1, 2]", "Invalid cancellation request: the request body must be a JSON object"),
])
def test_malformed_bodies(service: Service, body: bytes, error: str) -> None:
    assert http(service, "POST", "/v1/cancellations", body) == (
        400, {"error": error, "data": None, "status": 400})


def test_ids_routes_and_methods(service: Service) -> None:
    assert http(service, "DELETE", f"/v1/cancellations/{new_ulid()}") == (
        404, {"error": "Cancellation not found", "data": None, "status": 404})
    assert http(service, "DELETE", "/v1/cancellations/not-a-ulid") == (
        400, {"error": "Invalid cancellation ID", "data": None, "status": 400})
    status, body, headers = http_full(service, "PUT", "/v1/cancellations")
    assert (status, headers["allow"]) == (405, "GET, HEAD, POST") or \
        (status, sorted(headers["allow"].split(", "))) == (405, ["GET", "HEAD", "POST"])
    assert body["error"].startswith("method PUT is not allowed on /v1/cancellations")
    assert http(service, "GET", "/v1/nothing") == (
        404, {"error": "no route for GET /v1/nothing", "data": None, "status": 404})
    assert http(service, "GET", "/v1/cancellations/")[0] == 404  # no redirect, JSON


def test_list_pages_with_limit_and_cursor(service: Service) -> None:
    _register(service)
    made = [http(service, "POST", "/v1/cancellations", _request())[1]["data"]["id"]
            for _ in range(5)]
    page = http(service, "GET", "/v1/cancellations?limit=2")[1]["data"]
    assert [c["id"] for c in page] == sorted(made)[:2]
    rest = http(service, "GET", f"/v1/cancellations?limit=10&cursor={page[-1]['id']}")[1]["data"]
    assert [c["id"] for c in rest] == sorted(made)[2:]
    lower = page[-1]["id"].lower()  # ULIDs are case-insensitive
    assert http(service, "GET", f"/v1/cancellations?cursor={lower}")[1]["data"] == rest
    assert len(http(service, "GET", "/v1/cancellations?limit=0")[1]["data"]) == 5  # default
    assert len(http(service, "GET", "/v1/cancellations?limit=-3")[1]["data"]) == 1  # clamped
    assert http(service, "GET", "/v1/cancellations?cursor=nope") == (
        400, {"error": "Invalid cursor query parameter", "data": None, "status": 400})
    assert http(service, "GET", "/v1/cancellations?limit=ten") == (
        400, {"error": "Invalid limit query parameter: limit must be an integer",
              "data": None, "status": 400})


def test_environments_are_chosen_by_header(service: Service) -> None:
    _register(service, env="staging")
    assert http(service, "POST", "/v1/cancellations", _request())[0] == 404  # default env
    staging = {"X-Inngest-Env": "staging"}
    status, body = http(service, "POST", "/v1/cancellations", _request(), staging)
    assert status == 200 and body["data"]["environment_id"] == "staging"
    assert http(service, "GET", "/v1/cancellations")[1]["data"] == []
    assert len(http(service, "GET", "/v1/cancellations", headers=staging)[1]["data"]) == 1
    assert http(service, "GET", "/v1/cancellations", headers={"X-Inngest-Env": "a/b"})[0] == 400


def test_signing_key_required_when_configured(tmp_path: Path) -> None:
    svc = build_server(Config(data_dir=tmp_path, grpc_port=0, http_port=0, grace_s=1,
                              signing_key=KEY))
    try:
        status, body, headers = http_full(svc, "GET", "/v1/cancellations")
        assert (status, headers["www-authenticate"]) == (401, 'Bearer realm="cancelmatch"')
        assert body["error"] == "unauthorized: send 'Authorization: Bearer <signing key>'"
        status, _, headers = http_full(svc, "GET", "/v1/cancellations",
                                       headers={"Authorization": "Bearer signkey-prod-wrong"})
        assert (status, headers["www-authenticate"]) == (
            401, 'Bearer realm="cancelmatch", error="invalid_token"')
        ok = http(svc, "GET", "/v1/cancellations", headers={"Authorization": f"Bearer {KEY}"})
        assert ok[0] == 200
        assert http(svc, "GET", "/v1/openapi.json")[0] == 200  # the document stays public
        assert http(svc, "POST", "/v1/apps/a/functions", {"functions": []})[0] == 401
    finally:
        svc.stop()


# ---------------------------------------------------------------------- function sync

SYNC = {"functions": [{"id": "schedule-reminder", "cancelOn": [
    {"event": "tasks/reminder.deleted", "match": "data.reminderId", "timeout": "30d"}]}]}


def test_quick_start_on_a_fresh_server(service: Service) -> None:
    """Sync over REST, then Inngest's own bulk-cancellation curl works on a fresh server."""
    assert http(service, "POST", "/v1/cancellations", _request())[0] == 404
    status, body = http(service, "POST", "/v1/apps/acme-app/functions", SYNC)
    assert status == 200 and body["data"] == [{"function_id": "schedule-reminder", "ok": True,
                                               "errors": [], "warnings": []}]
    assert http(service, "POST", "/v1/cancellations", _request())[0] == 200
    # Runs may now name the synced function alone: its rules come from the sync.
    now = _now()
    with Client(service.target) as c:
        res = c.register_run(run_id=new_ulid(now), app_id="acme-app",
                             function_id="schedule-reminder", started_at=now,
                             trigger={"name": "tasks/reminder.created",
                                      "data": {"reminderId": "r9"}})
        assert [lst.event for lst in res.listeners] == ["tasks/reminder.deleted"]


def test_functions_known_from_registered_runs_can_be_cancelled(service: Service) -> None:
    _register(service)  # never synced: known because a run named it
    assert http(service, "POST", "/v1/cancellations", _request())[0] == 200


@pytest.mark.parametrize(("body", "error"), [
    ({"functions": [{"id": "f", "cancel_on": []}]},
     "Invalid sync request: functions[0].cancel_on is not a known field"),
    ({"functions": [{"cancelOn": [{"match": "data.x"}]}]},
     "Invalid sync request: functions[0].id is required\nfunctions[0].cancelOn[0].event is "
     "required"),
    ({}, "Invalid sync request: functions is required"),
])
def test_bad_sync_bodies_name_the_field(service: Service, body: dict[str, Any],
                                        error: str) -> None:
    assert http(service, "POST", "/v1/apps/a/functions", body) == (
        400, {"error": error, "data": None, "status": 400})


def test_sync_reports_each_function(service: Service) -> None:
    body = {"functions": [SYNC["functions"][0],
                          {"id": "bad", "cancelOn": [{"event": "x/y", "if": "async.x =="}]},
                          {"id": "bad", "cancelOn": []}]}
    status, out = http(service, "POST", "/v1/apps/a/functions", body)
    assert status == 200 and [r["ok"] for r in out["data"]] == [True, False, False]
    assert out["data"][1]["errors"][0].startswith("cancel_on[0].if: invalid expression")
    assert out["data"][2]["errors"] == ["functions[2]: duplicate function id 'bad'"]


# ---------------------------------------------------------------------- OpenAPI

def test_openapi_is_generated_from_the_models_and_committed(
        service: Service, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _openapi.document(ROUTES)
    committed = json.loads((ROOT / "server" / "openapi.json").read_text())
    assert committed == doc, "server/openapi.json is stale: cancelmatch openapi > it"
    assert http(service, "GET", "/v1/openapi.json") == (200, doc)
    assert cli_main(["openapi"]) == 0 and json.loads(capsys.readouterr().out) == doc
    assert doc["openapi"].startswith("3.1")


def test_openapi_documents_every_route_served(service: Service) -> None:
    doc = _openapi.document(ROUTES)
    documented = {(path, method.upper()) for path, item in doc["paths"].items()
                  for method in item}
    assert documented == {("/v1/cancellations", "POST"), ("/v1/cancellations", "GET"),
                          ("/v1/cancellations/{id}", "DELETE"),
                          ("/v1/apps/{app_id}/functions", "POST")}
    for path, method in documented:  # each is served (not 404/405) at its documented path
        url = path.replace("{id}", new_ulid()).replace("{app_id}", "a")
        assert http(service, method, url, {} if method == "POST" else None)[0] not in (404, 405) \
            or path.endswith("{id}")
    create = doc["components"]["schemas"]["CreateCancellationRequest"]
    assert create["required"] == ["app_id", "function_id", "started_before"]
    assert create["properties"]["started_before"]["anyOf"][0]["format"] == "date-time"
    cancellation = doc["components"]["schemas"]["Cancellation"]
    assert "if" in cancellation["properties"] and "if" not in cancellation["required"]


def test_every_response_matches_its_documented_model(service: Service) -> None:
    """The answers parse with the very models the document was generated from."""
    http(service, "POST", "/v1/apps/acme-app/functions", SYNC)
    created = http(service, "POST", "/v1/cancellations", _request())[1]
    m.CancellationResponse.model_validate(created, strict=True)
    m.CancellationListResponse.model_validate(http(service, "GET", "/v1/cancellations")[1])
    m.DeletedResponse.model_validate(
        http(service, "DELETE", f"/v1/cancellations/{created['data']['id']}")[1])
    m.SyncResponse.model_validate(http(service, "POST", "/v1/apps/x/functions", SYNC)[1])
    m.ErrorResponse.model_validate(http(service, "GET", "/nope")[1])


def test_an_unexpected_failure_is_a_json_500_and_logged(
        service: Service, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(env: str) -> list[Any]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service.engine.bulk, "list", broken)
    assert http(service, "GET", "/v1/cancellations") == (
        500, {"error": "internal error: RuntimeError", "data": None, "status": 500})
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors and errors[0].exc_info and "disk on fire" in str(errors[0].exc_info[1])
