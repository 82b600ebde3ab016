"""Index records: listeners, their clauses, and what add() and match() return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Listener:
    """One pending cancel listener (kept small: there may be millions)."""

    __slots__ = ("id", "run_id", "env", "event", "expires_at", "started_at", "trigger_id",
                 "clauses", "seq", "rule", "values", "plan")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


class ClauseEntry:
    """A clause of a listener as stored in a table: verifier plus the access it is filed under."""

    __slots__ = ("listener", "verify", "access", "operand")

    def __init__(self, listener: Listener, verify: Any, access: Any, operand: Any) -> None:
        self.listener = listener
        self.verify = verify
        self.access = access
        self.operand = operand  # the resolved access operand (key, prefix, (op, bound), keys)


@dataclass(frozen=True, slots=True)
class Match:
    """One run to cancel: the listener that matched first (in registration order)."""

    listener_id: str
    run_id: str


class AddResult:
    """What ``ListenerIndex.add`` did.

    ``status`` is ``stored``, ``duplicate`` (the id was already registered: nothing
    changed) or ``never_fires`` (with ``reason``; nothing stored). ``access`` describes
    how each clause is indexed; ``residual`` is the rule after substituting the trigger
    event, as CEL text (computed on first access).
    """

    __slots__ = ("listener_id", "status", "reason", "_access", "_residual")

    def __init__(self, listener_id: str, status: str, reason: str | None, access: Any,
                 residual: Any) -> None:
        self.listener_id = listener_id
        self.status = status
        self.reason = reason
        self._access = access
        self._residual = residual

    @property
    def stored(self) -> bool:
        return self.status == "stored"

    @property
    def access(self) -> tuple[str, ...]:
        if callable(self._access):
            self._access = self._access()
        return self._access  # type: ignore[no-any-return]

    @property
    def residual(self) -> str:
        if callable(self._residual):
            self._residual = self._residual()
        return self._residual  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        extra = f", reason={self.reason!r}" if self.reason else ""
        return f"AddResult({self.listener_id!r}, {self.status!r}{extra})"
