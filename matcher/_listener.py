"""Index records: listeners, their clauses, and what add() and match() return.

A million listeners may be pending, so a listener record holds only what matching or
removing it needs; everything shared by the listeners of one rule lives in its ``Plan``
(rule, clauses, access atoms, verifier code) and everything shared by one (environment,
event name) in its bucket. What a single-clause listener is filed under (table and key)
is recomputed from the plan and its trigger values when needed (removal, ``test``,
``explain``) instead of being stored: those are rare next to the bytes it saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._access import describe
from ._index_filing import filing
from ._plans import Plan, residual_text


class Listener:
    """One pending cancel listener whose rule has one DNF clause — nearly all of them.

    The listener is itself the entry filed in the tables (``verify`` is its clause's
    verifier). ``bucket`` is the (environment, event name) bucket it is filed in; with a
    one-hole rule ``values`` holds that trigger value bare (see ``hole_values``).
    ``key`` is the listener id, or — when the id is ``f"{run_id}/{n}"`` for a small ``n``,
    as the service names every listener — just ``n`` (see ``derived_key``): the id string
    is then built on demand, not kept. Size: 9 slots, 104 bytes.
    """

    # The fields match() reads come first: they share the record's first cache line.
    __slots__ = ("expires_at", "started_at", "trigger_id", "verify", "key", "run_id",
                 "bucket", "plan", "values")

    def __init__(self, key: str | int, run_id: str, trigger_id: Any, bucket: Any, plan: Plan,
                 values: Sequence[Any], expires_at: int | None, started_at: int | None) -> None:
        self.key = key
        self.run_id = run_id
        self.trigger_id = trigger_id
        self.bucket = bucket
        self.plan = plan
        self.values = values[0] if plan.bare else values
        self.verify: Any = None
        self.expires_at = expires_at
        self.started_at = started_at

    @property
    def listener(self) -> Listener:
        return self

    @property
    def id(self) -> str:
        key = self.key
        return key if isinstance(key, str) else self.run_id + SUFFIXES[key]

    @property
    def env(self) -> str:
        return self.bucket.key[0]  # type: ignore[no-any-return]

    @property
    def event(self) -> str:
        return self.bucket.key[1]  # type: ignore[no-any-return]

    def hole_values(self) -> Sequence[Any]:
        return (self.values,) if self.plan.bare else self.values

    def entries(self) -> tuple[Any, ...]:
        """The objects filed in the tables for this listener."""
        return (self,)

    def filed(self, entry: Any) -> tuple[Any, Any, bool]:
        """(access, operand, whole clause verified) of one of ``entries()``."""
        return filing(self.plan.clauses[0], self.hole_values())


MAX_DERIVED_KEY = 256
"""Largest ``n`` kept as a number: CPython shares the int objects up to 256, so the key
costs the record nothing. Runs have at most a handful of cancel rules."""


SUFFIXES = tuple(f"/{n}" for n in range(MAX_DERIVED_KEY + 1))
"""``"/n"`` for every derived key: concatenating costs less than formatting an int."""


def derived_key(listener_id: str, run_id: str) -> int | None:
    """``n`` when ``listener_id`` is exactly ``f"{run_id}/{n}"`` (n written canonically,
    0 … MAX_DERIVED_KEY), else None. The string round-trips: ``f"{run_id}/{n}"`` rebuilds
    an id equal to ``listener_id``."""
    cut = len(run_id)
    if len(listener_id) - cut not in (2, 3, 4) or listener_id[cut] != "/" or \
            not listener_id.startswith(run_id):
        return None
    tail = listener_id[cut + 1:]
    if not (tail.isascii() and tail.isdigit()) or (tail[0] == "0" and len(tail) > 1):
        return None
    n = int(tail)
    return n if n <= MAX_DERIVED_KEY else None


class MultiListener(Listener):
    """A listener whose rule has several DNF clauses: each filed clause is a ClauseEntry."""

    __slots__ = ("clauses",)
    clauses: tuple[ClauseEntry, ...]

    def entries(self) -> tuple[Any, ...]:
        return self.clauses

    def filed(self, entry: Any) -> tuple[Any, Any, bool]:
        return filing(self.plan.clauses[entry.index], self.hole_values())


class ClauseEntry:
    """A clause of a multi-clause listener as filed in a table; ``index`` is its clause's
    position in the plan (clauses that can never hold are not filed at all)."""

    __slots__ = ("listener", "verify", "index")

    def __init__(self, listener: Listener, index: int) -> None:
        self.listener = listener
        self.verify: Any = None
        self.index = index


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

    __slots__ = ("listener_id", "status", "reason", "_plan", "_values", "_listener", "_cache")

    def __init__(self, listener_id: str, status: str, reason: str | None = None,
                 plan: Any = None, values: Any = None, listener: Listener | None = None) -> None:
        self.listener_id = listener_id
        self.status = status
        self.reason = reason
        self._plan = plan
        self._values = values
        self._listener = listener
        self._cache: dict[str, Any] | None = None  # created on first use: add() stays lean

    @property
    def stored(self) -> bool:
        return self.status == "stored"

    @property
    def access(self) -> tuple[str, ...]:
        cache = self._cache = self._cache or {}
        if "access" not in cache:
            lst = self._listener
            cache["access"] = () if lst is None else tuple(
                describe(lst.filed(e)[0], self._values) for e in lst.entries())
        return cache["access"]  # type: ignore[no-any-return]

    @property
    def residual(self) -> str:
        if self._plan is None:
            return ""
        cache = self._cache = self._cache or {}
        if "residual" not in cache:
            cache["residual"] = residual_text(self._plan, self._values)
        return cache["residual"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        extra = f", reason={self.reason!r}" if self.reason else ""
        return f"AddResult({self.listener_id!r}, {self.status!r}{extra})"
