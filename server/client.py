"""Runner client: a typed Python wrapper over the cancelmatch.v1 stubs (plain arguments).

    with Client("127.0.0.1:50051", env="prod", signing_key=key) as c:
        c.register_run(run_id=new_run_id(), app_id="app", function_id="send-reminder",
                       started_at=ms, trigger={"name": "tasks/reminder.created", "data": {...}},
                       cancel_on=[{"event": "tasks/reminder.deleted", "match": "data.reminderId"}])
        decisions = c.publish([{"name": "tasks/reminder.deleted", "data": {...}}]).decisions
        for d in c.watch(): ...; c.ack([d.decision_id])

Event ``data`` is given as a dict and sent as JSON text; responses are the protobuf
messages (typed through the generated .pyi stubs). Run ids are ULIDs: :func:`new_run_id`
mints one (the time part is the run's start, so ids sort by start time).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, cast

import grpc

from ._proto import cancelmatch_pb2 as pb
from ._proto import cancelmatch_pb2_grpc as pb_grpc
from ._ulid import new_ulid

_R = TypeVar("_R")
_USAGES = {"cancel_if": pb.USAGE_CANCEL_IF, "match": pb.USAGE_MATCH, "bulk_if": pb.USAGE_BULK_IF}


def event_message(event: Mapping[str, Any]) -> pb.Event:
    """``{"name", "id"?, "ts"?, "data"?}`` -> pb.Event (data as JSON text)."""
    return pb.Event(id=event.get("id", ""), name=event["name"], ts=event.get("ts", 0),
                    data_json=json.dumps(event.get("data", {})))


def rule_message(rule: Mapping[str, str]) -> pb.CancelRule:
    """``{"event", "match"?, "if"?, "timeout"?}`` (Inngest's cancelOn shape) -> pb.CancelRule."""
    return pb.CancelRule(event=rule["event"], match=rule.get("match", ""),
                         expression=rule.get("if", ""), timeout=rule.get("timeout", ""))


Rules = Iterable[Mapping[str, str]]


def new_run_id(started_at_ms: int | None = None) -> str:
    """A fresh ULID for a run (or an event); its time part is ``started_at_ms`` (now when
    None), so the run's id sorts with its start time."""
    return new_ulid(started_at_ms)


class DecisionStream:
    """What :meth:`Client.watch` returns: the decisions as they come; ``cancel()`` (from any
    thread) ends the iteration cleanly instead of raising ``RpcError(CANCELLED)``."""

    def __init__(self, call: Any) -> None:
        self._call = call
        self._cancelled = threading.Event()

    def __iter__(self) -> Iterator[pb.Decision]:
        return self

    def __next__(self) -> pb.Decision:
        try:
            return cast(pb.Decision, next(self._call))
        except grpc.RpcError as exc:
            if self._cancelled.is_set() and exc.code() == grpc.StatusCode.CANCELLED:
                raise StopIteration from None
            raise

    def cancel(self) -> bool:
        """End the stream; the reading thread sees the iteration stop."""
        self._cancelled.set()
        return bool(self._call.cancel())


class Client:
    def __init__(self, target: str, *, env: str = "", signing_key: str | None = None,
                 timeout: float = 30.0, channel: grpc.Channel | None = None) -> None:
        self.env = env
        self.timeout = timeout
        self._channel = channel or grpc.insecure_channel(target)
        self._md = (("authorization", f"Bearer {signing_key}"),) if signing_key else ()
        # The generated stubs carry no annotations; the methods below give the types.
        self.runner: Any = pb_grpc.RunnerStub(self._channel)  # type: ignore[no-untyped-call]
        self.expressions: Any = pb_grpc.ExpressionsStub(  # type: ignore[no-untyped-call]
            self._channel)
        self.cancellations: Any = pb_grpc.CancellationsStub(  # type: ignore[no-untyped-call]
            self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any, returns: type[_R]) -> _R:
        return cast(_R, method(request, timeout=self.timeout, metadata=self._md))

    # ------------------------------------------------------------------ runner

    def run_request(self, *, run_id: str, app_id: str, function_id: str, started_at: int,
                    trigger: Mapping[str, Any],
                    cancel_on: Iterable[Mapping[str, str]] = ()) -> pb.RegisterRunRequest:
        return pb.RegisterRunRequest(
            env=self.env, app_id=app_id, function_id=function_id, run_id=run_id,
            run_started_at=started_at, trigger=event_message(trigger),
            cancel_on=[rule_message(r) for r in cancel_on])

    def register_run(self, **run: Any) -> pb.RegisterRunResponse:
        """Keyword arguments as :meth:`run_request`."""
        req = self.run_request(**run)
        return self._call(self.runner.RegisterRun, req, pb.RegisterRunResponse)

    def register_runs(self, runs: Iterable[Mapping[str, Any]]) -> pb.RegisterRunsResponse:
        req = pb.RegisterRunsRequest(runs=[self.run_request(**r) for r in runs])
        return self._call(self.runner.RegisterRuns, req, pb.RegisterRunsResponse)

    def finish_run(self, run_id: str) -> pb.FinishRunResponse:
        req = pb.FinishRunRequest(env=self.env, run_id=run_id)
        return self._call(self.runner.FinishRun, req, pb.FinishRunResponse)

    def publish(self, events: Iterable[Mapping[str, Any]]) -> pb.PublishEventsResponse:
        req = pb.PublishEventsRequest(env=self.env, events=[event_message(e) for e in events])
        return self._call(self.runner.PublishEvents, req, pb.PublishEventsResponse)

    def watch(self) -> DecisionStream:
        """Unacknowledged decisions, then new ones; ``.cancel()`` on the result ends it."""
        return DecisionStream(self.runner.WatchDecisions(
            pb.WatchDecisionsRequest(env=self.env), metadata=self._md))

    def ack(self, decision_ids: Iterable[str]) -> int:
        req = pb.AckDecisionsRequest(env=self.env, decision_ids=list(decision_ids))
        return int(self._call(self.runner.AckDecisions, req, pb.AckDecisionsResponse).acked)

    def sync_functions(self, app_id: str,
                       functions: Mapping[str, Rules] | Iterable[tuple[str, Rules]]
                       ) -> pb.SyncFunctionsResponse:
        """``{function id: cancelOn rules}``, or (id, rules) pairs (a repeated id is then
        reported by the server instead of silently collapsing)."""
        pairs = functions.items() if isinstance(functions, Mapping) else functions
        req = pb.SyncFunctionsRequest(env=self.env, app_id=app_id, functions=[
            pb.FunctionConfig(function_id=fid, cancel_on=[rule_message(r) for r in rules])
            for fid, rules in pairs])
        return self._call(self.runner.SyncFunctions, req, pb.SyncFunctionsResponse)

    # ------------------------------------------------------------------ expressions

    def validate(self, expression: str, usage: str = "cancel_if") -> pb.ValidateResponse:
        req = pb.ValidateRequest(expression=expression, usage=_USAGES[usage])
        return self._call(self.expressions.Validate, req, pb.ValidateResponse)

    def explain(self, rule: Mapping[str, str],
                trigger: Mapping[str, Any] | None = None) -> pb.ExplainResponse:
        req = pb.ExplainRequest(rule=rule_message(rule))
        if trigger is not None:
            req.trigger.CopyFrom(event_message(trigger))
        return self._call(self.expressions.Explain, req, pb.ExplainResponse)

    def evaluate(self, expression: str, event: Any = None, async_: Any = None
                 ) -> pb.EvaluateResponse:
        req = pb.EvaluateRequest(expression=expression,
                                 event_json=json.dumps(event) if event is not None else "",
                                 async_json=json.dumps(async_) if async_ is not None else "")
        return self._call(self.expressions.Evaluate, req, pb.EvaluateResponse)

    # ------------------------------------------------------------------ cancellations

    def create_cancellation(self, *, app_id: str, function_id: str, started_before: int,
                            started_after: int | None = None, condition: str = ""
                            ) -> pb.Cancellation:
        req = pb.CreateCancellationRequest(env=self.env, app_id=app_id, function_id=function_id,
                                           started_before=started_before, expression=condition)
        if started_after is not None:
            req.started_after = started_after
        return self._call(self.cancellations.CreateCancellation, req, pb.Cancellation)

    def list_cancellations(self) -> list[pb.Cancellation]:
        resp = self._call(self.cancellations.ListCancellations,
                          pb.ListCancellationsRequest(env=self.env), pb.ListCancellationsResponse)
        return list(resp.cancellations)

    def delete_cancellation(self, cancellation_id: str) -> None:
        self._call(self.cancellations.DeleteCancellation,
                   pb.DeleteCancellationRequest(env=self.env, id=cancellation_id),
                   pb.DeleteCancellationResponse)
