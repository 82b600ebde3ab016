"""gRPC codec: protobuf messages to the domain model and back (no logic beyond shape).

Unknown enum values (proto3 keeps them as plain ints) are rejected here with the field
name, so the engine never sees them.
"""

from __future__ import annotations

import json
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
                          status=li.status, reason=li.reason, residual=li.residual,
                          expires_at=li.expires_at)
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


def validation(v: Any) -> pb.ValidateResponse:
    out = pb.ValidateResponse(valid=v.valid, warnings=v.warnings, paths=v.paths)
    for e in v.errors:
        out.errors.add(message=e["message"], line=e["line"], column=e["column"],
                       offset=e["offset"], rendered=e["rendered"])
    return out
