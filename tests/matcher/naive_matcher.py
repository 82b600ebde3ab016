"""Test oracle: brute-force listener matching, the reference the listener index must equal.

Every listener is kept in a plain list. Its expression is compiled as written (never
interpolated: ``event`` is bound to the trigger at evaluation time) with
``matcher.compile`` and evaluated against every incoming event, after the same guards as
the index. Nothing here uses index internals, so a disagreement with ``ListenerIndex``
is a bug in the index (interpolation, normalization, access predicates or guards), not
in a shared helper.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import matcher

VARIABLES = ("event", "async")


@lru_cache(maxsize=4096)
def compiled(expression: str) -> Any:
    """The program for ``expression`` (``None`` for the empty rule, which always matches)."""
    if not expression:
        return None
    return matcher.compile(expression, variables=VARIABLES)


@dataclass(frozen=True)
class NaiveListener:
    listener_id: str
    event: str
    expression: str
    trigger: dict[str, Any]
    run_id: str
    env: str
    expires_at: int | None
    run_started_at: int | None

    def guards_pass(self, incoming: dict[str, Any]) -> bool:
        """Name, trigger identity, expiry and run-start guards (the env is the caller's)."""
        ts = incoming["ts"]
        return (
            incoming["name"] == self.event
            and incoming["id"] != self.trigger.get("id")
            and (self.expires_at is None or self.expires_at >= ts)
            and (self.run_started_at is None or ts >= self.run_started_at)
        )

    def rule_holds(self, incoming: dict[str, Any]) -> bool:
        """True when the rule evaluates to exactly ``true``; a CEL error is no match."""
        program = compiled(self.expression)
        if program is None:
            return True
        value = program.try_evaluate({"event": self.trigger, "async": incoming})
        return value is True

    def matches(self, incoming: dict[str, Any]) -> bool:
        return self.guards_pass(incoming) and self.rule_holds(incoming)


class NaiveMatcher:
    """Linear-scan matcher with the index's public semantics.

    Complexity: O(n) compiled evaluations per event for n listeners, on purpose.
    """

    def __init__(self) -> None:
        self._listeners: list[NaiveListener] = []

    def __len__(self) -> int:
        return len(self._listeners)

    def __contains__(self, listener_id: object) -> bool:
        return any(lst.listener_id == listener_id for lst in self._listeners)

    def add(
        self,
        listener_id: str,
        *,
        event: str,
        expression: str,
        trigger: dict[str, Any],
        run_id: str,
        env: str,
        expires_at: int | None = None,
        run_started_at: int | None = None,
    ) -> bool:
        """Store the listener; False (and nothing changes) when the id is already present."""
        if listener_id in self:
            return False
        compiled(expression)  # a bad expression raises here, as the index must
        self._listeners.append(
            NaiveListener(
                listener_id, event, expression, trigger, run_id, env, expires_at, run_started_at
            )
        )
        return True

    def get(self, listener_id: str) -> NaiveListener:
        for lst in self._listeners:
            if lst.listener_id == listener_id:
                return lst
        raise KeyError(listener_id)

    def listener_ids(self) -> list[str]:
        return [lst.listener_id for lst in self._listeners]

    def remove(self, listener_id: str) -> bool:
        kept = [lst for lst in self._listeners if lst.listener_id != listener_id]
        removed = len(kept) != len(self._listeners)
        self._listeners = kept
        return removed

    def remove_run(self, run_id: str) -> int:
        kept = [lst for lst in self._listeners if lst.run_id != run_id]
        removed = len(self._listeners) - len(kept)
        self._listeners = kept
        return removed

    def sweep_expired(self, now_ms: int) -> set[str]:
        """Remove listeners expired at ``now_ms`` (``expires_at < now_ms``); return their ids."""
        expired = {
            lst.listener_id
            for lst in self._listeners
            if lst.expires_at is not None and lst.expires_at < now_ms
        }
        self._listeners = [lst for lst in self._listeners if lst.listener_id not in expired]
        return expired

    def test(self, listener_id: str, incoming: dict[str, Any]) -> bool:
        return self.get(listener_id).matches(incoming)

    def matching_listeners(self, incoming: dict[str, Any], env: str) -> dict[str, set[str]]:
        """run id -> ids of that run's listeners that match ``incoming`` in ``env``."""
        runs: dict[str, set[str]] = {}
        for lst in self._listeners:
            if lst.env == env and lst.matches(incoming):
                runs.setdefault(lst.run_id, set()).add(lst.listener_id)
        return runs

    def match(self, incoming: dict[str, Any], env: str) -> set[str]:
        """The runs ``incoming`` cancels in ``env`` (each at most once, as a set)."""
        return set(self.matching_listeners(incoming, env))
