"""Call log content: what each state-changing gRPC call did, as log fields (env, ids, counts).

The logging interceptor writes one info line per call that changed state, named by
:data:`MESSAGES` and carrying the fields :func:`summary` extracts from the request and the
response; every other call is a debug line. Id lists are cut to :data:`MAX_IDS` so one
line stays bounded however large the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._proto import cancelmatch_pb2 as pb
from ._validate import DEFAULT_ENV

MAX_IDS = 10
"""Ids listed per log line; a batch of 1,000 runs logs its count and the first ten."""

Fields = dict[str, Any]


def _ids(values: Iterable[str]) -> list[str]:
    out = []
    for i, v in enumerate(values):
        if i == MAX_IDS:
            out.append("...")
            break
        out.append(v)
    return out


def _statuses(results: Iterable[Any]) -> Fields:
    counts: dict[str, int] = {}
    for r in results:
        name = pb.RunStatus.Name(r.status).removeprefix("RUN_STATUS_").lower()
        counts[name] = counts.get(name, 0) + 1
    return counts


def _register_run(q: Any, r: Any) -> Fields:
    return {"env": q.env, "run_id": q.run_id, "function": f"{q.app_id}/{q.function_id}",
            **_statuses([r]), "listeners": len(r.listeners)}


def _register_runs(q: Any, r: Any) -> Fields:
    envs = sorted({run.env for run in q.runs})
    return {"env": envs[0] if len(envs) == 1 else envs, "runs": len(q.runs),
            **_statuses(r.results), "run_ids": _ids(run.run_id for run in q.runs)}


def _publish(q: Any, r: Any) -> Fields:
    return {"env": q.env, "events": len(q.events), "decisions": len(r.decisions),
            "cancelled_run_ids": _ids(d.run_id for d in r.decisions)}


def _sync(q: Any, r: Any) -> Fields:
    return {"env": q.env, "app_id": q.app_id, "functions": len(q.functions),
            "rejected": [x.function_id for x in r.results if not x.ok]}


def _create(q: Any, r: Any) -> Fields:
    return {"env": q.env, "function": f"{q.app_id}/{q.function_id}", "cancellation_id": r.id,
            "runs_cancelled": r.runs_cancelled}


MESSAGES: dict[str, tuple[str, Callable[[Any, Any], Fields]]] = {
    "RegisterRun": ("registered run", _register_run),
    "RegisterRuns": ("registered runs", _register_runs),
    "FinishRun": ("finished run", lambda q, r: {
        "env": q.env, "run_id": q.run_id, "found": r.found,
        "listeners_removed": r.listeners_removed}),
    "PublishEvents": ("published events", _publish),
    "AckDecisions": ("acknowledged decisions", lambda q, r: {
        "env": q.env, "decision_ids": _ids(q.decision_ids), "acked": r.acked}),
    "SyncFunctions": ("synced functions", _sync),
    "CreateCancellation": ("created bulk cancellation", _create),
    "DeleteCancellation": ("deleted bulk cancellation", lambda q, r: {
        "env": q.env, "cancellation_id": q.id}),
}
"""Method name -> (log message, fields) for the calls that change state."""


def method_name(full: str) -> str:
    """``/cancelmatch.v1.Runner/PublishEvents`` -> ``PublishEvents``."""
    return full.rsplit("/", 1)[-1]


def summary(method: str, request: Any, response: Any) -> tuple[str, Fields] | None:
    """(message, fields) for a state-changing call that succeeded; None for the others."""
    entry = MESSAGES.get(method_name(method))
    if entry is None or response is None:
        return None
    message, fields = entry
    out = fields(request, response)
    if out.get("env") == "":
        out["env"] = DEFAULT_ENV
    return message, out


def request_env(request: Any) -> str | None:
    """The environment a request names (``default`` when left empty), if it has the field."""
    env = getattr(request, "env", None)
    return (env or DEFAULT_ENV) if isinstance(env, str) else None
