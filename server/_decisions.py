"""Decisions: building a cancel decision, and counting the streams that watch them.

A decision is committed to the store before any watcher sees it. Watchers do not get a
queue each: a stream pulls the environment's unacknowledged decisions from the store
after its own cursor, one bounded page at a time, and between pages waits on the
store's "something new" signal. So a slow or stalled consumer holds at most one page
(``Engine.REPLAY_PAGE`` decisions) here, never a growing backlog; it only lags, and
whatever it has not acknowledged is still in the store when it reconnects.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from ._model import CancelOrder, Decision
from .errors import TooManyStreams

FUNCTION_CANCELLED = "inngest/function.cancelled"
_CANCELLED_ERROR = {"error": "function cancelled", "message": "function cancelled", "name": "Error"}


def trigger_json(row: dict[str, Any]) -> dict[str, Any]:
    """The trigger event of a stored run, as Inngest events look on the wire."""
    return {
        "name": row["trigger_name"],
        "id": row["trigger_id"],
        "ts": row["trigger_ts"],
        "data": json.loads(row["trigger_data"]),
    }


def make_decision(run: dict[str, Any], order: CancelOrder, *, decision_id: str,
                  decided_at: int) -> Decision:
    """The decision for the stored run ``run`` (a row with env, run_id, app_id,
    function_id and the trigger columns), with its ready-to-forward cancelled event
    (``id`` = run id; ``data``: function_id, run_id, the trigger ``event``, ``error``).
    A pure function of its arguments, so a store may rebuild a decision on read."""
    cancelled = {
        "name": FUNCTION_CANCELLED,
        "id": run["run_id"],
        "ts": decided_at,
        "data": {
            "function_id": run["function_id"],
            "run_id": run["run_id"],
            "event": trigger_json(run),
            "error": dict(_CANCELLED_ERROR),
        },
    }
    return Decision(
        decision_id=decision_id, env=run["env"], run_id=run["run_id"], app_id=run["app_id"],
        function_id=run["function_id"], cause=order.cause, rule_index=order.rule_index,
        event_id=order.event_id, event_name=order.event_name,
        cancellation_id=order.cancellation_id, decided_at=decided_at,
        function_cancelled_event=cancelled,
    )


class Streams:
    """Open ``WatchDecisions`` streams, capped in total and per environment (thread-safe).

    Each stream holds a worker thread for its lifetime, so the total stays below the
    worker pool (``Config.check``); the per-environment cap keeps one tenant from taking
    every stream.
    """

    def __init__(self, limit: int, per_env: int) -> None:
        self.limit, self.per_env = limit, per_env
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}
        self.closed = threading.Event()

    def open(self, env: str) -> None:
        """Count a new stream of ``env``; TooManyStreams when a cap is reached."""
        with self._lock:
            total = sum(self._open.values())
            if total >= self.limit:
                raise TooManyStreams(f"already {self.limit} WatchDecisions streams open (the "
                                     "limit); close one or raise --max-watchers")
            if self._open.get(env, 0) >= self.per_env:
                raise TooManyStreams(
                    f"already {self.per_env} WatchDecisions streams open for environment "
                    f"{env!r} (the per-environment limit); close one or raise "
                    "--max-watchers-per-env")
            self._open[env] = self._open.get(env, 0) + 1

    def release(self, env: str) -> None:
        with self._lock:
            left = self._open.get(env, 0) - 1
            if left > 0:
                self._open[env] = left
            else:
                self._open.pop(env, None)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._open)

    def watchers(self) -> int:
        with self._lock:
            return sum(self._open.values())

    def close(self) -> None:
        """Streams end at their next wake-up (at most the engine's poll interval)."""
        self.closed.set()
