"""HTTP application: the Starlette app behind the HTTP port (REST API, /metrics, /healthz).

Starlette routes and answers; every answer is JSON, errors included (404, 405 with
``Allow``, 401 with ``WWW-Authenticate: Bearer``, 413, 500), in Inngest's error shape
(:class:`server.rest_models.ErrorResponse`). Each REST route is served from its
:class:`server._http_api.ApiRoute` declaration: authenticate, read the body as a stream
that stops at ``--http-max-body-bytes`` (a chunked body or a lying ``Content-Length`` never
buffers more than the limit), validate it with the route's model, run the handler in a
worker thread (the engine blocks), encode the result. The observer layer around the app
counts and times every request and writes its log line. The transport (timeouts, malformed
requests, the connection cap) is :mod:`server.http_server`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import _openapi
from ._http_api import ApiRequest, ApiRoute, HttpError
from .auth import authorized
from .config import Config
from .engine import Engine
from .errors import ServiceError, status_for
from .metrics import Metrics
from .rest import ROUTES
from .rest_models import ErrorResponse, Health, describe, parse_json

log = logging.getLogger("cancelmatch.http")

ENV_HEADER = "x-inngest-env"
REASON = "cancelmatch.reason"
"""Scope key: why a request was refused (for its log line)."""
CHANGED = "cancelmatch.changed"
"""Scope key: (message, fields) of a request that changed state (for its log line)."""
UNMATCHED = "<unmatched>"
"""The route label of a request that matched no route (bounds the metric's series)."""
JSON = "application/json"


def error_response(scope: Scope, status: int, message: str,
                   headers: dict[str, str] | None = None,
                   data: dict[str, Any] | None = None) -> Response:
    """The JSON error answer; 408/413/503 also close the connection (the rest of the
    request is not read)."""
    scope[REASON] = message
    out = dict(headers or {})
    if status in (408, 413, 503):
        out["connection"] = "close"
    body = ErrorResponse(error=message, data=data, status=status).model_dump_json()
    return Response(body, status, headers=out, media_type=JSON)


def json_response(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(by_alias=True), status, media_type=JSON)


class _Endpoint:
    """Serves one ApiRoute: auth, bounded body, validation, handler in a thread, encoding."""

    def __init__(self, route: ApiRoute, engine: Engine, config: Config) -> None:
        self.route, self.engine, self.config = route, engine, config

    async def handle(self, request: Request) -> Response:
        scope = request.scope
        try:
            self._authorize(request)
            api = ApiRequest(request.headers.get(ENV_HEADER, ""), dict(request.path_params),
                             self._query(request), await self._body(request))
            result = await run_in_threadpool(self.route.handler, self.engine, api)
        except HttpError as exc:
            return error_response(scope, exc.status, exc.message, exc.headers, exc.data)
        except ServiceError as exc:
            return error_response(scope, status_for(exc)[1], exc.message)
        except ClientDisconnect:
            return error_response(scope, 400, "the client closed the connection mid-request")
        if result.log is not None:
            scope[CHANGED] = result.log
        return json_response(result.body, result.status)

    def _authorize(self, request: Request) -> None:
        if not self.route.auth:
            return
        header = request.headers.get("authorization")
        if authorized(header, self.config.signing_key):
            return
        challenge = 'Bearer realm="cancelmatch"'
        if header:  # RFC 6750 section 3.1: a credential was sent and is not valid
            raise HttpError(401, "invalid signing key",
                            headers={"www-authenticate": challenge + ', error="invalid_token"'})
        raise HttpError(401, "unauthorized: send 'Authorization: Bearer <signing key>'",
                        headers={"www-authenticate": challenge})

    def _query(self, request: Request) -> Any:
        if self.route.query is None:
            return None
        try:
            return self.route.query.model_validate(dict(request.query_params))
        except ValidationError as exc:
            name = str(exc.errors()[0]["loc"][0])
            raise HttpError(400, f"Invalid {name} query parameter: {describe(exc)}") from None

    async def _body(self, request: Request) -> Any:
        if self.route.body is None:
            return None
        raw = await read_body(request, self.config.http_max_body_bytes)
        try:
            # An empty body is an empty object: the answer then names every missing field.
            return self.route.body.model_validate(parse_json(raw) if raw.strip() else {})
        except ValidationError as exc:
            raise HttpError(400, f"{self.route.invalid_body}: {describe(exc)}") from None
        except ValueError as exc:
            raise HttpError(400, f"{self.route.invalid_body}: {exc}") from None


def _by_method(endpoints: dict[str, _Endpoint]) -> Callable[[Request], Any]:
    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method].handle(request)
    return dispatch


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read as a stream and abandoned (413) as soon as it exceeds ``limit``: never
    more than ``limit`` bytes are held, whatever the headers claimed."""
    declared = request.headers.get("content-length")  # h11 admits only digits here
    if declared is not None and int(declared) > limit:
        raise HttpError(413, f"request body is {declared} bytes, the limit is {limit} "
                             "(--http-max-body-bytes)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HttpError(413, f"request body is over the limit of {limit} bytes "
                                 "(--http-max-body-bytes)")
    return bytes(body)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 404:
        message = f"no route for {request.method} {path}"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"method {request.method} is not allowed on {path} (allowed: {allowed})"
    else:
        message = str(exc.detail)
    return error_response(request.scope, exc.status_code, message, dict(exc.headers or {}))


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("internal error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request.scope, 500, f"internal error: {type(exc).__name__}")


class Observer:
    """Counts and times every request (method, route template, status) and logs it: info
    for a call that changed state or was refused, debug for the rest."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception:  # noqa: BLE001 - answered (500) and logged by _internal_error
            pass
        finally:
            self.report(scope, status, time.perf_counter() - started)

    def report(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", UNMATCHED)
        self.metrics.http_request(scope["method"], template, status, seconds)
        headers = dict(scope.get("headers") or ())
        fields: dict[str, Any] = {
            "transport": "http", "method": scope["method"][:16], "path": scope["path"][:200],
            "route": template, "status": status, "duration_ms": round(seconds * 1e3, 3)}
        env = headers.get(ENV_HEADER.encode(), b"").decode("latin-1")[:64]
        changed = scope.get(CHANGED)
        if changed is not None:
            message, summary = changed
            log.info(message, extra={**fields, **summary})
        elif status >= 400:
            log.info("rejected", extra={**fields, "env": env or None,
                                        "reason": scope.get(REASON, HTTPStatus(status).phrase)})
        else:
            log.debug("request", extra=fields)


def transport_rejected(metrics: Metrics) -> Callable[[int, str], None]:
    """What the HTTP server calls for a request it refused before the app saw it (malformed,
    too slow, over the connection cap): counted and logged like any refused request."""

    def rejected(status: int, reason: str) -> None:
        metrics.http_request("OTHER", UNMATCHED, status, 0.0)
        log.info("rejected", extra={"transport": "http", "status": status, "reason": reason})

    return rejected


def build_app(config: Config, engine: Engine, metrics: Metrics) -> Observer:
    """The whole HTTP application (REST routes, /metrics, /healthz, /v1/openapi.json)."""
    document = json.dumps(_openapi.document(ROUTES))

    async def metrics_page(request: Request) -> Response:
        body, content_type = metrics.render(request.headers.get("accept"))
        return Response(body, 200, headers={"content-type": content_type})

    async def health(request: Request) -> Response:
        return json_response(Health())

    async def openapi(request: Request) -> Response:
        return Response(document, 200, media_type=JSON)

    routes = [Route("/metrics", metrics_page, methods=["GET"]),
              Route("/healthz", health, methods=["GET"]),
              Route("/v1/openapi.json", openapi, methods=["GET"])]
    by_path: dict[str, dict[str, _Endpoint]] = {}
    for r in ROUTES:
        by_path.setdefault(r.path, {})[r.method] = _Endpoint(r, engine, config)
    # One Starlette route per path, so a 405 lists every method the path has in Allow.
    routes += [Route(path, _by_method(endpoints), methods=list(endpoints))
               for path, endpoints in by_path.items()]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error,
                                                       Exception: _internal_error})
    app.router.redirect_slashes = False  # /v1/cancellations/ is a 404, not a redirect
    return Observer(app, metrics)
