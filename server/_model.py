"""Domain model: the plain-Python values the engine takes and returns (no protobuf).

The gRPC codec and the REST handlers both translate into and out of these, so the
engine is reachable from either transport without knowing about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    """One ``cancelOn`` entry; ``condition`` is Inngest's ``if``."""

    event: str
    match: str = ""
    condition: str = ""
    timeout: str = ""

    def to_json(self) -> dict[str, str]:
        return {"event": self.event, "match": self.match, "if": self.condition,
                "timeout": self.timeout}

    @classmethod
    def from_json(cls, obj: dict[str, str]) -> Rule:
        return cls(obj["event"], obj.get("match", ""), obj.get("if", ""), obj.get("timeout", ""))


@dataclass(frozen=True)
class Event:
    """An event: ``data_json`` is the raw JSON text of its data object (ints stay exact)."""

    id: str
    name: str
    ts: int
    data_json: str = "{}"


@dataclass(frozen=True)
class RunRequest:
    env: str
    app_id: str
    function_id: str
    run_id: str
    started_at: int
    trigger: Event
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class ListenerInfo:
    listener_id: str
    rule_index: int
    event: str
    status: str
    reason: str
    residual: str
    expires_at: int


@dataclass(frozen=True)
class Decision:
    """A run to cancel. ``cause`` is "event" or "bulk"."""

    decision_id: str
    env: str
    run_id: str
    app_id: str
    function_id: str
    cause: str
    rule_index: int
    event_id: str
    event_name: str
    cancellation_id: str
    decided_at: int
    function_cancelled_event: dict[str, Any]


@dataclass(frozen=True)
class CancelOrder:
    """Cancel this run if it is still pending; the rest becomes the decision's fields."""

    run_id: str
    cause: str  # "event" or "bulk"
    rule_index: int = -1
    event_id: str = ""
    event_name: str = ""
    cancellation_id: str = ""


@dataclass
class RegisterResult:
    """``status``: "registered", "already_registered", "cancelled" or "finished"."""

    run_id: str
    status: str
    listeners: list[ListenerInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    decision: Decision | None = None


@dataclass(frozen=True)
class Cancellation:
    """A bulk cancellation (Inngest: ``kind: "bulk_run"``, ``cause: "API"``)."""

    id: str
    env: str
    app_id: str
    function_id: str
    started_after: int | None
    started_before: int
    condition: str
    created_at: int
    runs_cancelled: int = 0
    kind: str = "bulk_run"
    cause: str = "API"


@dataclass(frozen=True)
class FunctionSyncResult:
    function_id: str
    ok: bool
    errors: list[str]
    warnings: list[str]
