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
from . import _codec as codec
from .auth import Grant, Keyring, request_envs
from .errors import ServiceError, status_for
from .metrics import Metrics

log = logging.getLogger("cancelmatch.grpc")

# Health checks and reflection stay open so probes and grpcurl work without the key.
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

Behaviour = Callable[[Any, grpc.ServicerContext], Any]


def _rewrap(handler: grpc.RpcMethodHandler[Any, Any],
            wrap: Callable[[Behaviour, bool], Behaviour]) -> grpc.RpcMethodHandler[Any, Any]:
    kw = {"request_deserializer": codec.tolerant(handler.request_deserializer),
          "response_serializer": handler.response_serializer}
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(wrap(handler.unary_unary, False), **kw)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(wrap(handler.unary_stream, True), **kw)
    return handler  # no client-streaming methods in cancelmatch.v1


class AuthInterceptor(grpc.ServerInterceptor):
    """``authorization: Bearer <signing key>`` on every call except health/reflection;
    the key must be one of the environment(s) the request names (server.auth)."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None or details.method.startswith(OPEN_PREFIXES):
            return handler
        rule: ServiceError | Grant
        try:
            rule = self._keyring.grant(dict(details.invocation_metadata).get("authorization"))
        except ServiceError as exc:
            rule = exc
        if isinstance(rule, Grant) and rule.everywhere:
            return handler
        return _rewrap(handler, lambda fn, streaming: _checked(fn, streaming, rule))


def _checked(fn: Behaviour, streaming: bool, rule: ServiceError | Grant) -> Behaviour:
    """``fn`` behind a refusal (``rule`` an error) or an environment check (a Grant)."""
    def check(request: Any, context: grpc.ServicerContext) -> None:
        try:
            if isinstance(rule, ServiceError):
                raise rule
            rule.check(request_envs(request))
        except ServiceError as exc:
            context.abort(status_for(exc)[0], exc.message)

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        check(request, context)
        return fn(request, context)

    def stream(request: Any, context: grpc.ServicerContext) -> Any:
        check(request, context)
        yield from fn(request, context)

    return stream if streaming else unary


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
            return fn(codec.decoded(request), context)
        except Exception as exc:  # noqa: BLE001 - mapped, never swallowed
            _abort(context, exc, name)

    def stream(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            yield from fn(codec.decoded(request), context)
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
