"""Index records: listeners, their clauses, and what add() and match() return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Listener:
    """One pending cancel listener (kept small: there may be millions).

    A listener with one clause — nearly all of them — is itself the entry filed in the
    tables (``verify``, ``access``, ``operand`` are that clause's and ``clauses`` is
    None); only multi-clause listeners own separate ClauseEntry objects. That saves an
    object and a tuple per pending listener.
    """

    __slots__ = ("id", "run_id", "env", "event", "expires_at", "started_at", "trigger_id",
                 "rule", "values", "plan", "clauses", "verify", "access", "operand")

    def __init__(self, id: str, run_id: str, env: str, event: str, expires_at: int | None,
                 started_at: int | None, trigger_id: Any, rule: Any, values: Any,
                 plan: Any) -> None:
        self.id = id
        self.run_id = run_id
        self.env = env
        self.event = event
        self.expires_at = expires_at
        self.started_at = started_at
        self.trigger_id = trigger_id
        self.rule = rule
        self.values = values
        self.plan = plan
        self.clauses: tuple[ClauseEntry, ...] | None = None
        self.verify: Any = None
        self.access: Any = None
        self.operand: Any = None

    @property
    def listener(self) -> Listener:
        return self

    def entries(self) -> tuple[Any, ...]:
        """The objects filed in the tables for this listener."""
        return (self,) if self.clauses is None else self.clauses


class ClauseEntry:
    """A clause of a multi-clause listener as filed in a table."""

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
    event, as CEL text. Both are computed on first access: registration stays cheap.
    """

    __slots__ = ("listener_id", "status", "reason", "_plan", "_values", "_entries", "_cache")

    def __init__(self, listener_id: str, status: str, reason: str | None = None,
                 plan: Any = None, values: Any = None, entries: Any = ()) -> None:
        self.listener_id = listener_id
        self.status = status
        self.reason = reason
        self._plan = plan
        self._values = values
        self._entries = entries
        self._cache: dict[str, Any] | None = None  # created on first use: add() stays lean

    @property
    def stored(self) -> bool:
        return self.status == "stored"

    @property
    def access(self) -> tuple[str, ...]:
        from ._access import describe

        cache = self._cache = self._cache or {}
        if "access" not in cache:
            cache["access"] = tuple(describe(e.access, self._values) for e in self._entries)
        return cache["access"]  # type: ignore[no-any-return]

    @property
    def residual(self) -> str:
        if self._plan is None:
            return ""
        cache = self._cache = self._cache or {}
        if "residual" not in cache:
            from ._index import _residual_text

            cache["residual"] = _residual_text(self._plan, self._values)
        return cache["residual"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        extra = f", reason={self.reason!r}" if self.reason else ""
        return f"AddResult({self.listener_id!r}, {self.status!r}{extra})"
