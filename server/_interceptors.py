"""gRPC interceptors, one concern each: authentication, error mapping, call logging.

Each wraps the method handler grpc found, keeping its kind (unary-unary or
unary-stream) and (de)serialisers, so the servicers stay plain methods.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import grpc

from . import _codec as codec
from .auth import Grant, Keyring, request_envs
from .errors import ServiceError, status_for

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


class LoggingInterceptor(grpc.ServerInterceptor):
    """One structured debug line per call: method, duration."""

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None or not log.isEnabledFor(logging.DEBUG):
            return handler
        method = details.method

        def wrap(fn: Behaviour, streaming: bool) -> Behaviour:
            if streaming:
                return fn

            def timed(request: Any, context: grpc.ServicerContext) -> Any:
                started = time.perf_counter()
                try:
                    return fn(request, context)
                finally:
                    log.debug("call", extra={"method": method,
                                             "ms": round((time.perf_counter() - started) * 1e3, 3)})
            return timed

        return _rewrap(handler, wrap)
