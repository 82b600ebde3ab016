"""Bulk cancellations: cancel a function's runs by start-time window and trigger ``if``.

Semantics (Inngest's "cancel functions in bulk"): every pending run of (app, function)
with ``started_after <= started_at <= started_before`` whose trigger event satisfies
``if`` (CEL over ``event`` only) is cancelled when the cancellation is created; while
the cancellation exists, a run registered later whose start time falls in the window is
cancelled at registration. Runs are found through the store's partial index on
(env, app, function, started_at), so other functions' runs are never read.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import matcher

from . import _validate as check
from ._model import Cancellation, Decision
from ._ulid import new_ulid
from .errors import CancellationNotFound, FunctionNotFound, InvalidExpression

if TYPE_CHECKING:
    from .engine import Engine, _Effects


@functools.lru_cache(maxsize=1024)
def _program(condition: str) -> Any:
    return matcher.compile(condition, variables=check.BULK_VARIABLES) if condition else None


def _covers(c: Cancellation, started_at: int, trigger: dict[str, Any]) -> bool:
    if c.started_after is not None and started_at < c.started_after:
        return False
    if started_at > c.started_before:
        return False
    prog = _program(c.condition)
    # A CEL error is "no match", as for listeners: the run is not cancelled.
    return prog is None or prog.try_evaluate({"event": trigger}) is True


def _trigger(run: dict[str, Any]) -> dict[str, Any]:
    return {"name": run["trigger_name"], "id": run["trigger_id"], "ts": run["trigger_ts"],
            "data": matcher.loads_json(run["trigger_data"])}


class BulkCancellations:
    """The create / list / delete operations and the registration-time check."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # (env, app, function) -> its cancellations; read on every registration, so kept
        # in memory and dropped for a key when a create/delete for it commits.
        self._by_function: dict[tuple[str, str, str], list[Cancellation]] = {}

    def create(self, env: str, app_id: str, function_id: str, started_after: int | None,
               started_before: int | None, condition: str = "") -> Cancellation:
        """Validate (Inngest's messages), then cancel the covered runs in one transaction."""
        eng = self.engine
        env = check.env_name(env)
        check.required(app_id, "app_id")
        check.required(function_id, "function_id")
        now = eng.clock()
        started_before = check.bulk_window(started_after, started_before, now)
        check.expression_size(condition, "if", eng.config)
        try:
            _program(condition)
        except matcher.CompileError as exc:
            raise InvalidExpression("", exc) from None
        with eng._transaction() as fx:
            if not eng.store.function_known(env, app_id, function_id):
                raise FunctionNotFound(app_id, function_id)
            c = Cancellation(new_ulid(now), env, app_id, function_id, started_after,
                             started_before, condition, now)
            cancelled = 0
            for run in eng.store.pending_runs_of_function(env, app_id, function_id,
                                                          started_after, started_before):
                if _covers(c, run["started_at"], _trigger(run)):
                    eng.cancel(run, "bulk", fx, cancellation_id=c.id)
                    cancelled += 1
            c = Cancellation(c.id, env, app_id, function_id, started_after, started_before,
                             condition, now, cancelled)
            eng.store.insert_cancellation(c)
            # Inside the lock: no registration can read the old cached list after commit.
            self._by_function.pop((env, app_id, function_id), None)
        return c

    def list(self, env: str) -> list[Cancellation]:
        env = check.env_name(env)
        with self.engine._transaction():
            return self.engine.store.cancellations(env)

    def delete(self, env: str, cancellation_id: str) -> Cancellation:
        env = check.env_name(env)
        cid = check.ulid(cancellation_id, "id")
        with self.engine._transaction():
            found = [c for c in self.engine.store.cancellations(env) if c.id == cid]
            if not found or not self.engine.store.delete_cancellation(env, cid):
                raise CancellationNotFound(cancellation_id)
            self._by_function.pop((env, found[0].app_id, found[0].function_id), None)
        return found[0]

    def at_registration(self, run: dict[str, Any], trigger: dict[str, Any], started_at: int,
                        fx: _Effects) -> Decision | None:
        """Cancel a just-inserted run if an existing cancellation covers it."""
        key = (run["env"], run["app_id"], run["function_id"])
        active = self._by_function.get(key)
        if active is None:
            active = self._by_function[key] = self.engine.store.cancellations(*key)
        for c in active:
            if _covers(c, started_at, trigger):
                return self.engine.cancel(run, "bulk", fx, cancellation_id=c.id)
        return None
