"""HTTP API declarations: one route of the REST API, what its handler gets and returns.

A route is declared once (method, path, handler, the models of its query, body and
response, the errors it answers); ``server.http_app`` serves it from that declaration and
``server._openapi`` documents it from the same one. Handlers are plain functions (run in a
worker thread) that decode nothing themselves: they receive validated models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


class HttpError(Exception):
    """An error answer with its own status and message (Inngest's wording where the REST
    API differs from the domain error's message)."""

    def __init__(self, status: int, message: str, data: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.data = status, message, data
        self.headers = headers or {}


@dataclass(frozen=True)
class ApiRequest:
    env: str
    """The ``X-Inngest-Env`` header ("" when absent: the default environment)."""
    params: dict[str, str]
    query: Any = None
    body: Any = None


@dataclass
class ApiResult:
    body: BaseModel
    status: int = 200
    log: tuple[str, dict[str, Any]] | None = None
    """(message, fields) when the call changed state: logged at info with the request."""


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    handler: Callable[[Any, ApiRequest], ApiResult]
    """Called with the engine and the decoded request, in a worker thread."""
    operation_id: str
    summary: str
    response: type[BaseModel]
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: dict[int, str] = field(default_factory=dict)
    """Status -> when it is answered (documentation)."""
    invalid_body: str = "Invalid request"
    """Prefix of the message for a body that is not valid JSON or has a wrong type."""
    auth: bool = True
    tag: str = ""
