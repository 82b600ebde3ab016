"""gRPC interceptors, one concern each: authentication, error mapping, call logging, metrics.

Each wraps the method handler grpc found, keeping its kind (unary-unary or
unary-stream) and (de)serialisers, so the servicers stay plain methods.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from . import _call_log as call_log
from .auth import authorized
from .errors import ServiceError, status_for
from .metrics import Metrics

log = logging.getLogger("cancelmatch.grpc")

# Health checks and reflection stay open so probes and grpcurl work without the key.
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

Behaviour = Callable[[Any, grpc.ServicerContext], Any]


def _rewrap(handler: grpc.RpcMethodHandler[Any, Any],
            wrap: Callable[[Behaviour, bool], Behaviour]) -> grpc.RpcMethodHandler[Any, Any]:
    kw = {"request_deserializer": handler.request_deserializer,
          "response_serializer": handler.response_serializer}
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(wrap(handler.unary_unary, False), **kw)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(wrap(handler.unary_stream, True), **kw)
    return handler  # no client-streaming methods in cancelmatch.v1


class AuthInterceptor(grpc.ServerInterceptor):
    """``authorization: Bearer <signing key>`` on every call except health/reflection."""

    def __init__(self, signing_key: str) -> None:
        self._key = signing_key

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None or details.method.startswith(OPEN_PREFIXES):
            return handler
        header = dict(details.invocation_metadata).get("authorization")
        if authorized(header, self._key):
            return handler
        message = ("missing authorization: send 'authorization: Bearer <signing key>'"
                   if not header else "invalid signing key")
        return _rewrap(handler, lambda fn, streaming: _deny(message, streaming))


def _deny(message: str, streaming: bool) -> Behaviour:
    def deny(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    def deny_stream(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
        yield  # pragma: no cover - makes this a generator, as the stream handler must be

    return deny_stream if streaming else deny


class ErrorInterceptor(grpc.ServerInterceptor):
    """ServiceError -> its status from errors.STATUS; anything else -> INTERNAL, logged."""

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        return None if handler is None else _rewrap(handler, _map_errors)


def _abort(context: grpc.ServicerContext, exc: Exception, method: str) -> None:
    if isinstance(exc, ServiceError):
        context.abort(status_for(exc)[0], exc.message)
    log.exception("internal error in %s", method)
    context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")


def _map_errors(fn: Behaviour, streaming: bool) -> Behaviour:
    name = getattr(fn, "__qualname__", "call")

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(request, context)
        except Exception as exc:  # noqa: BLE001 - mapped, never swallowed
            _abort(context, exc, name)

    def stream(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            yield from fn(request, context)
        except Exception as exc:  # noqa: BLE001
            _abort(context, exc, name)

    return stream if streaming else unary


@dataclass(frozen=True)
class Outcome:
    """How one call ended, as the observing interceptors see it."""

    method: str
    request: Any
    response: Any
    code: grpc.StatusCode
    details: str
    seconds: float
    streaming: bool


def _ended(context: grpc.ServicerContext, failed: bool) -> tuple[grpc.StatusCode, str]:
    code = context.code()  # type: ignore[attr-defined]  # set by abort(); None when not
    raw = context.details()  # type: ignore[attr-defined]
    details = raw.decode(errors="replace") if isinstance(raw, bytes) else (raw or "")
    if code is None:
        if failed:
            code = grpc.StatusCode.UNKNOWN
        elif not context.is_active():
            code = grpc.StatusCode.CANCELLED  # the client went away before the end
        else:
            code = grpc.StatusCode.OK
    return code, details


def _observed(method: str, report: Callable[[Outcome], None]
              ) -> Callable[[Behaviour, bool], Behaviour]:
    """A wrapper that calls ``report`` once when the call ends, however it ends."""

    def wrap(fn: Behaviour, streaming: bool) -> Behaviour:
        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            started, response = time.perf_counter(), None
            try:
                response = fn(request, context)
                return response
            finally:
                code, details = _ended(context, response is None)
                report(Outcome(method, request, response, code, details,
                               time.perf_counter() - started, False))

        def stream(request: Any, context: grpc.ServicerContext) -> Any:
            started, failed = time.perf_counter(), True
            try:
                yield from fn(request, context)
                failed = False
            finally:
                code, details = _ended(context, failed)
                report(Outcome(method, request, None, code, details,
                               time.perf_counter() - started, True))

        return stream if streaming else unary

    return wrap


class MetricsInterceptor(grpc.ServerInterceptor):
    """Counts every call by (method, code) and times unary calls (a stream's lifetime is
    not a latency)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def _report(self, out: Outcome) -> None:
        self._metrics.grpc_call(out.method.lstrip("/"), out.code.name,
                                None if out.streaming else out.seconds)

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        return _rewrap(handler, _observed(details.method, self._report))


class LoggingInterceptor(grpc.ServerInterceptor):
    """One info line per call that changed state (what it did: env, ids, counts, duration)
    and per rejected call (status and reason); a debug line for every other call."""

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        return _rewrap(handler, _observed(details.method, _log_call))


def _log_call(out: Outcome) -> None:
    if not log.isEnabledFor(logging.INFO):
        return  # nothing would be written: skip building the fields
    fields: dict[str, Any] = {"transport": "grpc", "method": out.method,
                              "duration_ms": round(out.seconds * 1e3, 3)}
    if out.code != grpc.StatusCode.OK:
        fields.update(env=call_log.request_env(out.request), code=out.code.name,
                      reason=out.details)
        quiet = out.streaming and out.code == grpc.StatusCode.CANCELLED  # a watcher left
        log.log(logging.DEBUG if quiet else logging.INFO, "rejected", extra=fields)
        return
    done = call_log.summary(out.method, out.request, out.response)
    if done is None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("call", extra={**fields, "env": call_log.request_env(out.request)})
        return
    message, summary = done
    log.info(message, extra={**fields, **summary})
