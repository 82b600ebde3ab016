"""Decisions: building a cancel decision and fanning it out to the env's watchers.

A decision is committed to the store before any watcher sees it; the hub only carries
the "something new" signal and the payload to streams that are connected right now.
A stream that connects later gets the same decisions from the store's unacked replay.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

from ._model import Decision
from ._ulid import new_ulid
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


def make_decision(run: dict[str, Any], *, cause: str, now: int, rule_index: int = -1,
                  event_id: str = "", event_name: str = "",
                  cancellation_id: str = "") -> Decision:
    """A decision for the stored run ``run``, with its ready-to-forward cancelled event
    (``id`` = run id; ``data``: function_id, run_id, the trigger ``event``, ``error``)."""
    cancelled = {
        "name": FUNCTION_CANCELLED,
        "id": run["run_id"],
        "ts": now,
        "data": {
            "function_id": run["function_id"],
            "run_id": run["run_id"],
            "event": trigger_json(run),
            "error": dict(_CANCELLED_ERROR),
        },
    }
    return Decision(
        decision_id=new_ulid(now), env=run["env"], run_id=run["run_id"], app_id=run["app_id"],
        function_id=run["function_id"], cause=cause, rule_index=rule_index, event_id=event_id,
        event_name=event_name, cancellation_id=cancellation_id, decided_at=now,
        function_cancelled_event=cancelled,
    )


CLOSED = None  # sentinel a closed hub puts on every queue


class DecisionHub:
    """Per-environment subscriber queues (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[queue.SimpleQueue[Decision | None]]] = {}
        self._closed = False

    def subscribe(self, env: str, limit: int | None = None) -> queue.SimpleQueue[Decision | None]:
        """A new queue for ``env``; TooManyStreams when ``limit`` streams are open."""
        q: queue.SimpleQueue[Decision | None] = queue.SimpleQueue()
        with self._lock:
            if limit is not None and sum(len(s) for s in self._subs.values()) >= limit:
                raise TooManyStreams(f"already {limit} WatchDecisions streams open (the "
                                     "limit); close one or raise --max-watchers")
            if self._closed:
                q.put(CLOSED)
            self._subs.setdefault(env, set()).add(q)
        return q

    def unsubscribe(self, env: str, q: queue.SimpleQueue[Decision | None]) -> None:
        with self._lock:
            self._subs.get(env, set()).discard(q)

    def publish(self, decisions: list[Decision]) -> None:
        with self._lock:
            for d in decisions:
                for q in self._subs.get(d.env, ()):
                    q.put(d)

    def watchers(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for subs in self._subs.values():
                for q in subs:
                    q.put(CLOSED)
