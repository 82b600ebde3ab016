"""Errors: the service's domain exceptions and the one table mapping them to gRPC and HTTP.

    ServiceError                      base; ``message`` is what the client sees
    ├── InvalidArgument               400 / INVALID_ARGUMENT (names the field: ``runs[2].run_id``)
    │   ├── InvalidExpression         a CEL compile error (carries the matcher.CompileError)
    │   └── TooManyRules              Inngest's "exceeds the max number of cancellation events"
    ├── PayloadTooLarge               413 / RESOURCE_EXHAUSTED (event data, batch, expression size)
    ├── TooManyStreams                429 / RESOURCE_EXHAUSTED (WatchDecisions streams)
    ├── NotFound                      404 / NOT_FOUND
    │   ├── FunctionNotFound          "function not found" (bulk cancellation, Inngest's wording)
    │   └── CancellationNotFound
    ├── Conflict                      409 / ALREADY_EXISTS (same run id, different registration)
    ├── Unauthenticated               401 / UNAUTHENTICATED
    ├── PermissionDenied              403 / PERMISSION_DENIED (a key of another environment)
    └── Unavailable                   503 / UNAVAILABLE (shutting down)

The engine raises these and nothing grpc-specific; the gRPC interceptor and the REST
handlers both translate with :func:`status_for`, so a status is decided in one place.
"""

from __future__ import annotations

from typing import Any

import grpc


class ServiceError(Exception):
    """Base of every error the service reports to a client on purpose."""

    def __init__(self, message: str) -> None:
        # Messages quote client input; a lone surrogate in it could not be sent as a gRPC
        # status (UTF-8), so it is written as an escape.
        if not message.isascii():
            message = message.encode("utf-8", "backslashreplace").decode()
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.message}


class InvalidArgument(ServiceError):
    """A request field is missing or malformed; the message names the field."""


class InvalidExpression(InvalidArgument):
    """A CEL expression (``if``, ``match``) does not compile; ``field`` says which."""

    def __init__(self, field: str, error: Any) -> None:
        self.field = field
        self.compile_error = error
        prefix = f"{field}: " if field else ""
        super().__init__(f"{prefix}invalid expression: {error}")


class TooManyRules(InvalidArgument):
    """More cancel rules than the configured limit (Inngest: 5)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This function exceeds the max number of cancellation events: {limit}"
        )


class PayloadTooLarge(ServiceError):
    """A size or count limit was exceeded; the message names the limit and the value."""


class TooManyStreams(ServiceError):
    """The server already serves its maximum of concurrent decision streams."""


class NotFound(ServiceError):
    """The named thing does not exist in this environment."""


class FunctionNotFound(NotFound):
    def __init__(self, app_id: str, function_id: str) -> None:
        # Inngest's exact message (the REST API is byte-compatible); the ids stay attributes.
        super().__init__("function not found")
        self.app_id, self.function_id = app_id, function_id


class CancellationNotFound(NotFound):
    def __init__(self, cancellation_id: str) -> None:
        super().__init__(f"cancellation not found: {cancellation_id!r}")


class Conflict(ServiceError):
    """The request contradicts what is already stored (e.g. a run re-registered differently)."""


class Unauthenticated(ServiceError):
    """Missing or wrong signing key."""


class PermissionDenied(ServiceError):
    """A valid signing key, but not one of the environment the request names."""


class Unavailable(ServiceError):
    """The server is shutting down or its store is closed."""


# Every ServiceError subclass must appear here (a test walks __subclasses__ to enforce it).
STATUS: dict[type[ServiceError], tuple[grpc.StatusCode, int]] = {
    ServiceError: (grpc.StatusCode.INTERNAL, 500),
    InvalidArgument: (grpc.StatusCode.INVALID_ARGUMENT, 400),
    InvalidExpression: (grpc.StatusCode.INVALID_ARGUMENT, 400),
    TooManyRules: (grpc.StatusCode.INVALID_ARGUMENT, 400),
    PayloadTooLarge: (grpc.StatusCode.RESOURCE_EXHAUSTED, 413),
    TooManyStreams: (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    NotFound: (grpc.StatusCode.NOT_FOUND, 404),
    FunctionNotFound: (grpc.StatusCode.NOT_FOUND, 404),
    CancellationNotFound: (grpc.StatusCode.NOT_FOUND, 404),
    Conflict: (grpc.StatusCode.ALREADY_EXISTS, 409),
    Unauthenticated: (grpc.StatusCode.UNAUTHENTICATED, 401),
    PermissionDenied: (grpc.StatusCode.PERMISSION_DENIED, 403),
    Unavailable: (grpc.StatusCode.UNAVAILABLE, 503),
}


def status_for(error: ServiceError) -> tuple[grpc.StatusCode, int]:
    """The (gRPC status, HTTP status) of an error: its exact class's entry in STATUS."""
    return STATUS[type(error)]
