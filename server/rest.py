"""REST transport: Inngest's bulk-cancellation API (`/v1/cancellations`) over the same engine.

Byte-compatible with Inngest's public API: bodies and times are JSON with RFC 3339 strings,
successes are wrapped as ``{"data": ..., "metadata": {"fetched_at": ...}}`` and errors are
``{"error": "...", "status": N}`` with Inngest's validation messages. The environment is
chosen by the ``X-Inngest-Env`` header (as Inngest selects branch environments), default
"default". The handlers only decode, call BulkCancellations and encode, like the gRPC
servicers. The OpenAPI document is ``server/openapi.json``, served at ``/v1/openapi.json``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from . import _validate as check
from ._model import Cancellation
from ._timeouts import format_rfc3339, parse_rfc3339_ms
from .config import Config
from .engine import Engine
from .errors import InvalidArgument
from .http_server import HttpApp, HttpRequest, HttpResponse

ENV_HEADER = "x-inngest-env"
_ID = r"(?P<id>[^/]+)"


def cancellation_json(c: Cancellation) -> dict[str, Any]:
    """The cancellation object in Inngest's shape."""
    return {
        "id": c.id,
        "environment_id": c.env,
        "app_id": c.app_id,
        "function_id": c.function_id,
        "started_after": None if c.started_after is None else format_rfc3339(c.started_after),
        "started_before": format_rfc3339(c.started_before),
        "if": c.condition or None,
        "created_at": format_rfc3339(c.created_at),
        "kind": c.kind,
        "cause": c.cause,
    }


def _time(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidArgument(f"{name} must be an RFC 3339 time string")
    try:
        return parse_rfc3339_ms(value)
    except ValueError as exc:
        raise InvalidArgument(f"{name}: {exc}") from None


def _body(req: HttpRequest, config: Config) -> dict[str, Any]:
    body = check.json_body(req.body, config)
    if not isinstance(body, dict):
        raise InvalidArgument("the request body must be a JSON object")
    for name in ("app_id", "function_id", "if"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise InvalidArgument(f"{name} must be a string")
    return body


class CancellationsApi:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _wrap(self, status: int, data: Any) -> HttpResponse:
        fetched_at = format_rfc3339(self.engine.clock())
        return HttpResponse.json(status, {"data": data, "metadata": {"fetched_at": fetched_at}})

    @staticmethod
    def _env(req: HttpRequest) -> str:
        return req.headers.get(ENV_HEADER, "")

    def create(self, req: HttpRequest) -> HttpResponse:
        body = _body(req, self.engine.config)
        c = self.engine.bulk.create(
            self._env(req), body.get("app_id") or "", body.get("function_id") or "",
            _time(body, "started_after"), _time(body, "started_before"), body.get("if") or "")
        return self._wrap(200, cancellation_json(c))

    def list(self, req: HttpRequest) -> HttpResponse:
        found = self.engine.bulk.list(self._env(req))
        return self._wrap(200, [cancellation_json(c) for c in found])

    def delete(self, req: HttpRequest) -> HttpResponse:
        c = self.engine.bulk.delete(self._env(req), req.params["id"])
        return self._wrap(200, cancellation_json(c))


def openapi_document() -> dict[str, Any]:
    text = resources.files("server").joinpath("openapi.json").read_text()
    return dict(json.loads(text))


def install(app: HttpApp, engine: Engine) -> None:
    """Add the /v1 routes to the HTTP app (called by grpc_server.build_server)."""
    api = CancellationsApi(engine)
    app.route("POST", "/v1/cancellations", api.create)
    app.route("GET", "/v1/cancellations", api.list)
    app.route("DELETE", f"/v1/cancellations/{_ID}", api.delete)
    doc = json.dumps(openapi_document()).encode()
    app.route("GET", "/v1/openapi.json", lambda req: HttpResponse(200, doc), auth=False)
