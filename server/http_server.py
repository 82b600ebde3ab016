"""HTTP transport: uvicorn (h11) serving the ASGI app on its own thread, with hard edges.

uvicorn parses HTTP; this module adds what a public port needs and uvicorn leaves out:

* a read timeout: a request must arrive whole (headers and body) within
  ``--http-read-timeout`` of its first byte, or of the connection opening, else 408 and
  the connection is closed (uvicorn arms no timer before the first request, nor while a
  request is arriving, so a stalled sender would hold its connection forever);
* the idle timeout between requests is uvicorn's keep-alive timeout (``--http-idle-timeout``);
* JSON for the answers uvicorn writes itself (400 for a malformed request, e.g. a
  ``Content-Length`` of ``-1`` or ``abc`` or a bad chunk; its 503 is replaced by the cap);
* a connection cap: past ``--http-max-connections`` open connections a request is answered
  503 (JSON) and its connection closed; the listen backlog is ``--http-backlog``.

``HttpServer`` binds the socket itself (so port 0 yields the real port and "address in use"
is raised to the caller), runs ``uvicorn.Server`` on a thread and stops it gracefully.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ._startup import StartupError
from .config import Config
from .rest_models import ErrorResponse

Rejected = Callable[[int, str], None]
"""Told (status, reason) about each request refused before the app saw it."""

STARTUP_LIMIT_S = 30.0
"""How long build_server waits for uvicorn to start serving (a liveness bound)."""


def raw_error(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 JSON error response that closes the connection; written
    directly, whatever state the parser is in."""
    body = ErrorResponse(error=message, status=status).model_dump_json().encode()
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n")
    return head.encode("latin-1") + body


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the read timeout and JSON transport errors. The class
    attributes are set per server by :func:`_protocol_class`."""

    read_timeout_s: float = 10.0
    rejected: Rejected = staticmethod(lambda status, reason: None)
    _read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()  # a new connection owes its first request within the read timeout

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.conn.trailing_data[0]:
            self._disarm()  # idle between requests: uvicorn's keep-alive timer is in charge
        else:
            self._track()  # a pipelined request is already arriving

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _track(self) -> None:
        if self.transport.is_closing():
            self._disarm()
        elif self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self._arm()  # part of a request is here: the rest is owed by the same deadline
        else:
            self._disarm()  # the request is complete: the app's time is not the client's

    def _arm(self) -> None:
        if self._read_timer is None:
            self._read_timer = self.loop.call_later(self.read_timeout_s, self._timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            reason = f"the request did not arrive within {self.read_timeout_s:g} s " \
                     "(--http-read-timeout)"
            self.transport.write(raw_error(408, reason))
            self.rejected(408, reason)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        # uvicorn's reason ("Invalid HTTP request received.") is all h11 leaves us.
        reason = ("malformed HTTP request (request line, headers, Content-Length or chunked "
                  "encoding)")
        self.transport.write(raw_error(400, reason))
        self.rejected(400, reason)
        self.transport.close()


def _protocol_class(read_timeout_s: float, rejected: Rejected) -> type[H11Protocol]:
    return type("CancelmatchH11Protocol", (_Protocol,),
                {"read_timeout_s": read_timeout_s, "rejected": staticmethod(rejected)})


class ConnectionCap:
    """Answers 503 (JSON, connection closed) while more than ``limit`` HTTP connections are
    open; the count includes the asking connection."""

    def __init__(self, app: ASGIApp, limit: int, open_connections: Callable[[], int],
                 rejected: Rejected) -> None:
        self.app, self.limit, self.open_connections = app, limit, open_connections
        self.rejected = rejected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.open_connections() > self.limit:
            reason = (f"too many open connections (the limit is {self.limit}, "
                      "--http-max-connections); retry shortly")
            body = ErrorResponse(error=reason, status=503).model_dump_json().encode()
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            self.rejected(503, reason)
            return
        await self.app(scope, receive, send)


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """A bound, listening TCP socket; OSError (e.g. address in use) names the address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port} (HTTP, --http-port): "
                           f"{(exc.strerror or str(exc)).lower()}") from None
    sock.setblocking(False)
    return sock


class HttpServer:
    """uvicorn serving ``app`` on its own thread; ``port`` is the bound port."""

    def __init__(self, app: ASGIApp, config: Config, rejected: Rejected) -> None:
        sock = listen(config.host, config.http_port, config.http_backlog)
        self.port: int = sock.getsockname()[1]
        capped = ConnectionCap(app, config.http_max_connections, self.open_connections,
                               rejected)
        self._server = uvicorn.Server(uvicorn.Config(
            capped, http=_protocol_class(config.http_read_timeout_s, rejected),
            lifespan="off", log_config=None, access_log=False, server_header=False,
            timeout_keep_alive=max(1, round(config.http_idle_timeout_s)),
            timeout_graceful_shutdown=max(1, round(config.grace_s)),
            backlog=config.http_backlog))
        self._failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(sock,), name="cancelmatch-http",
                                        daemon=True)
        self._thread.start()
        self._wait_started()

    def _run(self, sock: socket.socket) -> None:
        try:
            self._server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._failed.append(exc)
        finally:
            sock.close()

    def _wait_started(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while not self._server.started and self._thread.is_alive() and \
                time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            cause: Any = self._failed[0] if self._failed else None
            raise StartupError(f"the HTTP server did not start: {cause!r}")

    def open_connections(self) -> int:
        return len(self._server.server_state.connections)

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish (bounded by the grace period),
        close the connections; returns when the thread is done."""
        self._server.should_exit = True
        self._thread.join()
