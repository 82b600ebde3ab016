"""Bulk cancellations: cancel a function's runs by start-time window and trigger ``if``.

Semantics (Inngest's "cancel functions in bulk"): every pending run of (app, function)
with ``started_after <= started_at <= started_before`` whose trigger event satisfies
``if`` (CEL over ``event`` only) is cancelled when the cancellation is created; while
the cancellation exists, a run registered later whose start time falls in the window is
cancelled at registration (the engine asks :func:`covering`).

Order of steps, for replicas racing: ``create`` stores the cancellation first and only
then reads the pending runs; a registration stores its run first and only then reads the
function's cancellations. Whichever comes second sees the other, so a run registered
while a cancellation is being created is cancelled by one side or both — and the store's
cancel step decides it only once. Runs are read in chunks (``Store.pending_runs_of_
function``), each cancelled in its own step, so a huge function holds no lock for long.

This module does not know the engine: it gets a ``cancel(env, orders)`` callable.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import matcher

from . import _validate as check
from ._model import Cancellation, CancelOrder, Decision
from ._ulid import new_ulid
from .config import Config
from .errors import CancellationNotFound, FunctionNotFound, InvalidExpression
from .store import Store

Canceller = Callable[[str, list[CancelOrder]], list[Decision]]


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


def covering(cancellations: list[Cancellation], started_at: int,
             trigger: dict[str, Any]) -> Cancellation | None:
    """The first of a function's cancellations that covers a run, if any."""
    for c in cancellations:
        if _covers(c, started_at, trigger):
            return c
    return None


class BulkCancellations:
    """The create / list / delete operations."""

    def __init__(self, config: Config, store: Store, clock: Callable[[], int],
                 cancel: Canceller) -> None:
        self.config, self.store, self.clock, self._cancel = config, store, clock, cancel

    def create(self, env: str, app_id: str, function_id: str, started_after: int | None,
               started_before: int | None, condition: str = "") -> Cancellation:
        """Validate (Inngest's messages), store the cancellation, cancel the covered runs."""
        env = check.env_name(env)
        check.required(app_id, "app_id")
        check.required(function_id, "function_id")
        now = self.clock()
        started_before = check.bulk_window(started_after, started_before, now)
        check.expression_size(condition, "if", self.config)
        try:
            _program(condition)
        except matcher.CompileError as exc:
            raise InvalidExpression("", exc) from None
        c = Cancellation(new_ulid(now), env, app_id, function_id, started_after,
                         started_before, condition, now)
        if not self.store.add_cancellation(c):
            raise FunctionNotFound(app_id, function_id)
        cancelled = 0
        for chunk in self.store.pending_runs_of_function(env, app_id, function_id,
                                                         started_after, started_before):
            orders = [CancelOrder(run_id, "bulk", cancellation_id=c.id)
                      for run_id, started, trigger in chunk.runs
                      if _covers(c, started, trigger)]
            if orders:
                cancelled += len(self._cancel(env, orders))
        self.store.set_runs_cancelled(env, c.id, cancelled)
        return dataclasses.replace(c, runs_cancelled=cancelled)

    def list(self, env: str) -> list[Cancellation]:
        return self.store.cancellations(check.env_name(env))

    def delete(self, env: str, cancellation_id: str) -> Cancellation:
        env = check.env_name(env)
        cid = check.ulid(cancellation_id, "id")
        found = self.store.delete_cancellation(env, cid)
        if found is None:
            raise CancellationNotFound(cancellation_id)
        return found
