"""HTTP endpoint: /metrics (Prometheus text), /healthz, and the routes the REST API adds.

A small router over the standard library's ThreadingHTTPServer: a route is
(method, regex) -> handler(HttpRequest) -> HttpResponse. The REST module registers its
``/v1/...`` routes here; auth for them is checked once, in :meth:`HttpApp.dispatch`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .auth import Keyring
from .errors import ServiceError, status_for

log = logging.getLogger("cancelmatch.http")


@dataclass
class HttpRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class HttpResponse:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, obj: Any) -> HttpResponse:
        return cls(status, json.dumps(obj).encode())


Handler = Callable[[HttpRequest], HttpResponse]


class HttpApp:
    """Routes plus the signing key; ``error_body`` shapes error JSON (REST overrides it)."""

    def __init__(self, keyring: Keyring, max_body_bytes: int) -> None:
        self.keyring = keyring
        self.max_body_bytes = max_body_bytes
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self.error_body: Callable[[str, int], Any] = lambda msg, status: {
            "error": msg, "status": status}

    def route(self, method: str, pattern: str, handler: Handler, *, auth: bool = True) -> None:
        self._routes.append((method, re.compile(pattern + r"\Z"), handler, auth))

    def dispatch(self, req: HttpRequest) -> HttpResponse:
        allowed = False
        for method, pattern, handler, needs_auth in self._routes:
            m = pattern.match(req.path)
            if m is None:
                continue
            allowed = True
            if method != req.method:
                continue
            req.params = m.groupdict()
            try:
                if needs_auth:  # the REST API names its environment in X-Inngest-Env
                    self.keyring.authorize(req.headers.get("authorization"),
                                           [req.headers.get("x-inngest-env", "")])
                return handler(req)
            except ServiceError as exc:
                return self.error(status_for(exc)[1], exc.message)
            except Exception:  # noqa: BLE001 - reported as 500, logged with the traceback
                log.exception("internal error in %s %s", req.method, req.path)
                return self.error(500, "internal error")
        if allowed:
            return self.error(405, f"method {req.method} not allowed on {req.path}")
        return self.error(404, f"no route for {req.path}")

    def error(self, status: int, message: str) -> HttpResponse:
        return HttpResponse.json(status, self.error_body(message, status))


def _handler_class(app: HttpApp) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Status line, headers and body are separate writes: with Nagle's algorithm on, the
        # body waited for the client's delayed ACK and every keep-alive answer took 44 ms.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            if length > app.max_body_bytes:
                resp = app.error(413, f"request body is {length} bytes, the limit is "
                                      f"{app.max_body_bytes}")
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                resp = app.dispatch(HttpRequest(self.command, url.path, parse_qs(url.query),
                                                headers, body))
            self.send_response(resp.status)
            self.send_header("content-type", resp.content_type)
            self.send_header("content-length", str(len(resp.body)))
            self.end_headers()
            self.wfile.write(resp.body)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http " + format, *args)

    return _Handler


class HttpServer:
    """A started ThreadingHTTPServer on its own thread; ``port`` is the bound port."""

    def __init__(self, app: HttpApp, host: str, port: int) -> None:
        self.app = app
        self._server = ThreadingHTTPServer((host, port), _handler_class(app))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="cancelmatch-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
