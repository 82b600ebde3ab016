"""gRPC codec: protobuf messages to the domain model and back (no logic beyond shape).

Unknown enum values (proto3 keeps them as plain ints) are rejected here with the field
name, so the engine never sees them. Bytes that are not a valid message (truncated, wrong
wire type, invalid UTF-8 in a string field) would make grpc answer INTERNAL "Exception
deserializing request!"; :func:`tolerant` turns them into a value that :func:`decoded`
reports as INVALID_ARGUMENT instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._model import (
    Cancellation,
    Decision,
    Event,
    FunctionSyncResult,
    RegisterResult,
    Rule,
    RunRequest,
)
from ._proto import cancelmatch_pb2 as pb
from .errors import InvalidArgument

CAUSES = {"event": pb.CAUSE_EVENT, "bulk": pb.CAUSE_BULK}
RUN_STATUSES = {
    "registered": pb.RUN_STATUS_REGISTERED,
    "already_registered": pb.RUN_STATUS_ALREADY_REGISTERED,
    "cancelled": pb.RUN_STATUS_CANCELLED,
    "finished": pb.RUN_STATUS_FINISHED,
}
USAGES: dict[int, str] = {
    pb.USAGE_CANCEL_IF: "cancel_if", pb.USAGE_MATCH: "match", pb.USAGE_BULK_IF: "bulk_if",
}


@dataclass(frozen=True)
class Undecodable:
    """Stands in for a request whose bytes did not parse (see :func:`tolerant`)."""

    error: str


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """``deserializer``, returning :class:`Undecodable` instead of raising."""
    if deserializer is None or getattr(deserializer, "tolerant", False):
        return deserializer
    inner = deserializer

    def decode(data: bytes) -> Any:
        try:
            return inner(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the client's input
            return Undecodable(f"{type(exc).__name__}: {exc}")

    decode.tolerant = True  # type: ignore[attr-defined]
    return decode


def decoded(request: Any) -> Any:
    """``request``, or InvalidArgument if its bytes did not parse."""
    if isinstance(request, Undecodable):
        raise InvalidArgument(f"request: not a valid protobuf message for this method "
                              f"({printable(request.error)[:200]})")
    return request


def printable(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udXXX``: what protobuf (UTF-8) can carry."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode()


def usage(value: int, field: str = "usage") -> str:
    if value in USAGES:
        return USAGES[value]
    if value == pb.USAGE_UNSPECIFIED:
        raise InvalidArgument(f"{field} is required: USAGE_CANCEL_IF, USAGE_MATCH or USAGE_BULK_IF")
    raise InvalidArgument(f"{field}: unknown enum value {value}")


def event(msg: pb.Event) -> Event:
    return Event(msg.id, msg.name, msg.ts, msg.data_json)


def rule(msg: pb.CancelRule) -> Rule:
    return Rule(msg.event, msg.match, msg.expression, msg.timeout)


def run_request(msg: pb.RegisterRunRequest) -> RunRequest:
    return RunRequest(msg.env, msg.app_id, msg.function_id, msg.run_id, msg.run_started_at,
                      event(msg.trigger), tuple(rule(r) for r in msg.cancel_on))


def decision(d: Decision) -> pb.Decision:
    return pb.Decision(
        decision_id=d.decision_id, env=d.env, run_id=d.run_id, app_id=d.app_id,
        function_id=d.function_id, cause=CAUSES[d.cause], rule_index=d.rule_index,
        event_id=d.event_id, event_name=d.event_name, cancellation_id=d.cancellation_id,
        decided_at=d.decided_at,
        function_cancelled_event_json=json.dumps(d.function_cancelled_event),
    )


def register_result(r: RegisterResult) -> pb.RegisterRunResponse:
    out = pb.RegisterRunResponse(run_id=r.run_id, status=RUN_STATUSES[r.status],
                                 warnings=r.warnings)
    for li in r.listeners:
        out.listeners.add(listener_id=li.listener_id, rule_index=li.rule_index, event=li.event,
                          status=li.status, reason=printable(li.reason),
                          residual=printable(li.residual), expires_at=li.expires_at)
    if r.decision is not None:
        out.decision.CopyFrom(decision(r.decision))
    return out


def cancellation(c: Cancellation) -> pb.Cancellation:
    msg = pb.Cancellation(id=c.id, env=c.env, app_id=c.app_id, function_id=c.function_id,
                          started_before=c.started_before, expression=c.condition,
                          created_at=c.created_at, kind=c.kind, cause=c.cause,
                          runs_cancelled=c.runs_cancelled)
    if c.started_after is not None:
        msg.started_after = c.started_after
    return msg


def sync_result(r: FunctionSyncResult) -> pb.FunctionSyncResult:
    return pb.FunctionSyncResult(function_id=r.function_id, ok=r.ok, errors=r.errors,
                                 warnings=r.warnings)


def explain(out: dict[str, Any]) -> pb.ExplainResponse:
    return pb.ExplainResponse(
        expression=out["expression"], residual=printable(out["residual"]), status=out["status"],
        reason=printable(out["reason"]), access=[printable(a) for a in out["access"]],
        explain_json=json.dumps(out["explain"], default=str))


def evaluation(out: dict[str, Any], result_json: str) -> pb.EvaluateResponse:
    return pb.EvaluateResponse(result_json=result_json, type=out["type"],
                               error=printable(out["error"]))


def validation(v: Any) -> pb.ValidateResponse:
    out = pb.ValidateResponse(valid=v.valid, warnings=v.warnings, paths=v.paths)
    for e in v.errors:
        out.errors.add(message=e["message"], line=e["line"], column=e["column"],
                       offset=e["offset"], rendered=e["rendered"])
    return out
