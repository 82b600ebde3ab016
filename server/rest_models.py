"""REST schemas: the pydantic models that validate REST requests and shape REST responses.

They are the single source of the REST contract: the handlers decode bodies and query
strings with them and build every response through them, and ``server/openapi.json`` is
generated from them (``cancelmatch openapi``; a test fails when the committed file is
stale), so the document cannot drift from what the server accepts and answers.

Shapes follow Inngest's public API source (pkg/api/apiv1): successes are
``{"data": ..., "metadata": {"fetched_at": ...}}``, errors are ``{"error", "data", "status"}``
(publicerr.Error), a cancellation leaves ``if`` out when it has none.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ._timeouts import parse_rfc3339_ms

T = TypeVar("T")


def _rfc3339(text: str) -> str:
    parse_rfc3339_ms(text)  # ValueError names the text and what was expected
    return text


Time = Annotated[str, AfterValidator(_rfc3339),
                 Field(json_schema_extra={"format": "date-time"})]
"""An RFC 3339 time with an offset, e.g. ``2024-01-22T14:22:42.130Z``."""

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class _Request(BaseModel):
    """Our own request bodies refuse unknown fields: a misspelt ``cancelOn`` must not
    quietly sync a function without its rules."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------- cancellations

class CreateCancellationRequest(BaseModel):
    """Inngest's CreateCancellationBody. Every field is optional to the parser so that a
    request missing several fields is told about all of them at once, in Inngest's words;
    unknown fields are ignored, as Go's JSON decoder does."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra={
        "required": ["app_id", "function_id", "started_before"]})

    app_id: str | None = Field(None, description="The app's id as given to the SDK "
                                                 '(`new Inngest({ id: "this-id" })`).')
    function_id: str | None = Field(None, description="The function's id as defined in the SDK.")
    started_after: Time | None = Field(None, description="Cancel runs started at or after this "
                                                         "time.")
    started_before: Time | None = Field(None, description="Cancel runs started at or before this "
                                                          "time; must be in the past.")
    if_: str | None = Field(None, alias="if", description="CEL over `event` (the run's trigger "
                                                          "event); only matching runs are "
                                                          "cancelled.")


class Cancellation(BaseModel):
    """A bulk cancellation, as Inngest returns it."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="ULID of the cancellation.")
    environment_id: str = Field(description="The environment (the `X-Inngest-Env` header).")
    function_internal_id: str = Field(description="A UUID naming the (environment, app, "
                                                  "function); stable across calls.")
    app_id: str
    function_id: str
    started_after: DateTime | None
    started_before: DateTime
    if_: str | None = Field(None, alias="if", exclude_if=lambda v: v is None,
                            description="Left out when the cancellation has no condition.")
    created_at: DateTime
    kind: Literal["bulk_run"] = "bulk_run"
    cause: Literal["API"] = "API"


class ListCancellationsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int | None = Field(None, description="Cancellations per page, 1 to 1000 "
                                                "(default 100; out-of-range values are "
                                                "clamped, as Inngest's list endpoints do).")
    cursor: str | None = Field(None, description="The `id` of the last cancellation of the "
                                                 "previous page: the page starts after it.")


class Deleted(BaseModel):
    ok: Literal[True] = True


# ---------------------------------------------------------------------- functions

class CancelRule(_Request):
    """One `cancelOn` entry, as the SDKs spell it."""

    event: str = Field(description="The event name that cancels the run.")
    match: str | None = Field(None, description="A field compared between the trigger and the "
                                                "cancel event, e.g. `data.reminderId`.")
    if_: str | None = Field(None, alias="if", description="CEL over `event` (trigger) and "
                                                          "`async` (cancel event).")
    timeout: str | None = Field(None, description='How long the rule listens: "30s", "1h30m", '
                                                  '"2d", "1w" or an RFC 3339 time.')


class FunctionConfig(_Request):
    id: str = Field(description="The function's id as defined in the SDK.")
    cancel_on: list[CancelRule] = Field(default_factory=list, alias="cancelOn", max_length=64)


class SyncFunctionsRequest(_Request):
    """An app's functions and their cancel rules (upserted; functions not listed stay)."""

    functions: list[FunctionConfig] = Field(max_length=1000)


class SyncFile(SyncFunctionsRequest):
    """What `cancelmatch sync FILE` reads (JSON or YAML): the request plus the app's id."""

    app_id: str


class FunctionSyncResult(BaseModel):
    function_id: str
    ok: bool
    errors: list[str]
    warnings: list[str]


# ---------------------------------------------------------------------- envelopes

class Metadata(BaseModel):
    fetched_at: DateTime


class Envelope(BaseModel, Generic[T]):
    """Inngest's Response[T]: the data, then when it was read."""

    data: T
    metadata: Metadata


class CancellationResponse(Envelope[Cancellation]):
    pass


class CancellationListResponse(Envelope[list[Cancellation]]):
    pass


class DeletedResponse(Envelope[Deleted]):
    pass


class SyncResponse(Envelope[list[FunctionSyncResult]]):
    pass


class ErrorResponse(BaseModel):
    """Inngest's publicerr.Error: every error of the HTTP endpoint has this shape."""

    error: str = Field(description="What was wrong; several problems are joined by newlines.")
    data: dict[str, Any] | None = None
    status: int


class Health(BaseModel):
    status: Literal["ok"] = "ok"


# ---------------------------------------------------------------------- decoding and errors

def parse_json(raw: bytes | str) -> Any:
    """JSON text -> value; ValueError says where the text is broken. (Bodies are parsed
    here and then validated with ``model_validate``: pydantic's own JSON mode accepts a
    field's name in place of its alias, which would let ``cancel_on`` past ``extra=forbid``.)
    """
    try:
        # RFC 8259 section 8.1: JSON exchanged between systems is UTF-8 (no guessing).
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not UTF-8 text (byte {exc.start})") from None


def describe(exc: ValidationError) -> str:
    """Each problem as ``field.path: what was wrong``, joined by newlines."""
    parts = []
    for e in exc.errors(include_url=False):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
        what = _PHRASES.get(e["type"]) or e["msg"].removeprefix("Value error, ")
        if not where:
            parts.append("the request body must be a JSON object"
                         if e["type"] == "model_type" else what[:1].lower() + what[1:])
        else:
            sep = " " if e["type"] in _PHRASES else ": "
            parts.append(f"{where[1:] if where[0] == '.' else where}{sep}{what}")
    return "\n".join(parts)


_PHRASES = {"missing": "is required", "string_type": "must be a string",
            "list_type": "must be a list", "model_type": "must be an object",
            "extra_forbidden": "is not a known field", "int_type": "must be an integer",
            "int_parsing": "must be an integer", "bool_type": "must be true or false"}
