"""REST transport: Inngest's bulk-cancellation API and function sync, over the same engine.

Shapes and messages follow Inngest's source (pkg/api/apiv1/cancellation.go): successes
are ``{"data": ..., "metadata": {"fetched_at": ...}}``, errors ``{"error", "data",
"status"}``; a create request's problems are all reported at once, joined by newlines as
Go's ``errors.Join`` does; ``DELETE`` answers ``{"data": {"ok": true}}``, an unknown id 404
"Cancellation not found", a malformed one 400 "Invalid cancellation ID". The environment is
the ``X-Inngest-Env`` header (default "default"). Handlers only decode (the models in
:mod:`server.rest_models` did that already), call the engine and encode, like the gRPC
servicers; :data:`ROUTES` declares them for the HTTP app and the OpenAPI document.
"""

from __future__ import annotations

import uuid

from . import _model
from . import rest_models as m
from ._http_api import ApiRequest, ApiResult, ApiRoute, HttpError
from ._model import Rule
from ._timeouts import format_rfc3339, parse_rfc3339_ms
from ._ulid import is_ulid
from ._validate import DEFAULT_ENV
from .engine import Engine
from .errors import CancellationNotFound

LIST_DEFAULT, LIST_MAX = 100, 1000
"""Cancellations per GET page when ``limit`` is absent, and the most one page holds."""

_FUNCTION_NAMESPACE = uuid.UUID("5b0c1c43-6f1e-4b8e-9d2a-1f5e2c7a9b30")


def _metadata(engine: Engine) -> m.Metadata:
    return m.Metadata(fetched_at=format_rfc3339(engine.clock()))


def _env(req: ApiRequest) -> str:
    return req.env or DEFAULT_ENV


def cancellation(c: _model.Cancellation) -> m.Cancellation:
    """A stored cancellation in Inngest's shape (``if`` left out when there is none)."""
    internal = uuid.uuid5(_FUNCTION_NAMESPACE, f"{c.env}/{c.app_id}/{c.function_id}")
    return m.Cancellation.model_validate({
        "id": c.id, "environment_id": c.env, "function_internal_id": str(internal),
        "app_id": c.app_id, "function_id": c.function_id,
        "started_after": None if c.started_after is None else format_rfc3339(c.started_after),
        "started_before": format_rfc3339(c.started_before), "if": c.condition or None,
        "created_at": format_rfc3339(c.created_at)})


def inngest_problems(body: m.CreateCancellationRequest, now_ms: int) -> list[str]:
    """CreateCancellationBody.Validate() of Inngest's API: every problem, in its order."""
    problems = []
    if not body.app_id:
        problems.append("app_id is required")
    if not body.function_id:
        problems.append("function_id is required")
    before = parse_rfc3339_ms(body.started_before) if body.started_before else None
    after = parse_rfc3339_ms(body.started_after) if body.started_after else None
    if before is None:
        problems.append("started_before is required")
    elif before > now_ms:
        problems.append("started_before must be in the past")
    if after is not None and before is not None and after > before:
        problems.append("started_after must be before started_before")
    return problems


def create_cancellation(engine: Engine, req: ApiRequest) -> ApiResult:
    body: m.CreateCancellationRequest = req.body
    problems = inngest_problems(body, engine.clock())
    if problems:
        raise HttpError(400, "\n".join(problems))
    assert body.app_id and body.function_id and body.started_before  # checked above
    after = parse_rfc3339_ms(body.started_after) if body.started_after else None
    c = engine.bulk.create(req.env, body.app_id, body.function_id, after,
                           parse_rfc3339_ms(body.started_before), body.if_ or "")
    fields = {"env": c.env, "function": f"{c.app_id}/{c.function_id}", "cancellation_id": c.id,
              "runs_cancelled": c.runs_cancelled}
    return ApiResult(m.CancellationResponse(data=cancellation(c), metadata=_metadata(engine)),
                     log=("created bulk cancellation", fields))


def list_cancellations(engine: Engine, req: ApiRequest) -> ApiResult:
    """One page, oldest first; ``cursor`` is the last id of the previous page."""
    query: m.ListCancellationsQuery = req.query
    # As Inngest's list endpoints: absent or 0 means the default, others are clamped.
    limit = min(max(query.limit, 1), LIST_MAX) if query.limit else LIST_DEFAULT
    cursor = ""
    if query.cursor:
        if not is_ulid(query.cursor):
            raise HttpError(400, "Invalid cursor query parameter")
        cursor = query.cursor.upper()
    found = sorted(engine.bulk.list(req.env), key=lambda c: c.id)
    page = [cancellation(c) for c in found if c.id > cursor][:limit]
    return ApiResult(m.CancellationListResponse(data=page, metadata=_metadata(engine)))


def delete_cancellation(engine: Engine, req: ApiRequest) -> ApiResult:
    cancellation_id = req.params["id"]
    if not is_ulid(cancellation_id):
        raise HttpError(400, "Invalid cancellation ID")
    try:
        c = engine.bulk.delete(req.env, cancellation_id)
    except CancellationNotFound:
        raise HttpError(404, "Cancellation not found") from None
    fields = {"env": c.env, "function": f"{c.app_id}/{c.function_id}", "cancellation_id": c.id}
    return ApiResult(m.DeletedResponse(data=m.Deleted(), metadata=_metadata(engine)),
                     log=("deleted bulk cancellation", fields))


def rules(config: m.FunctionConfig) -> tuple[Rule, ...]:
    return tuple(Rule(r.event, r.match or "", r.if_ or "", r.timeout or "")
                 for r in config.cancel_on)


def sync_functions(engine: Engine, req: ApiRequest) -> ApiResult:
    body: m.SyncFunctionsRequest = req.body
    app_id = req.params["app_id"]
    results = engine.sync_functions(req.env, app_id, [(f.id, rules(f)) for f in body.functions])
    data = [m.FunctionSyncResult(function_id=r.function_id, ok=r.ok, errors=list(r.errors),
                                 warnings=list(r.warnings)) for r in results]
    fields = {"env": _env(req), "app_id": app_id, "functions": len(data),
              "rejected": [r.function_id for r in data if not r.ok]}
    return ApiResult(m.SyncResponse(data=data, metadata=_metadata(engine)),
                     log=("synced functions", fields))


_AUTH = {401: "no or a wrong signing key (`Authorization: Bearer <signing key>`)"}
_BODY = {400: "the body is not a valid request; the message names every problem",
         413: "the body is larger than --http-max-body-bytes", **_AUTH}

ROUTES = (
    ApiRoute("POST", "/v1/cancellations", create_cancellation, "CreateCancellation",
             "Create a bulk cancellation", m.CancellationResponse, tag="Cancellations",
             description="Cancels every pending run of the function that started in the "
                         "window and whose trigger satisfies `if`; while it exists, runs "
                         "registered later inside the window are cancelled at registration.",
             body=m.CreateCancellationRequest, invalid_body="Invalid cancellation request",
             errors={**_BODY, 404: "function not found: neither synced nor named by a "
                                   "registered run"}),
    ApiRoute("GET", "/v1/cancellations", list_cancellations, "ListCancellations",
             "List cancellations", m.CancellationListResponse, tag="Cancellations",
             description="The environment's cancellations, oldest first, a page at a time.",
             query=m.ListCancellationsQuery,
             errors={400: "Invalid cursor or limit query parameter", **_AUTH}),
    ApiRoute("DELETE", "/v1/cancellations/{id}", delete_cancellation, "DeleteCancellation",
             "Delete a cancellation", m.DeletedResponse, tag="Cancellations",
             description="Runs registered from now on are no longer cancelled by it; runs it "
                         "already cancelled stay cancelled.",
             errors={400: "Invalid cancellation ID", 404: "Cancellation not found", **_AUTH}),
    ApiRoute("POST", "/v1/apps/{app_id}/functions", sync_functions, "SyncFunctions",
             "Sync an app's functions and their cancel rules", m.SyncResponse, tag="Functions",
             description="Validates each function's `cancelOn` rules like an Inngest app "
                         "sync and stores the valid ones (functions not listed are kept). "
                         "Runs may then be registered by function id alone, and bulk "
                         "cancellations may name the function.",
             body=m.SyncFunctionsRequest, invalid_body="Invalid sync request", errors=_BODY),
)
