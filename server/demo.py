"""Demo: the reminder app from Inngest's cancellation guide, end to end over gRPC.

An in-process server on a free loopback port with a temporary store. Three reminders are
created (two for user_123, one for user_456), each run registered with
``cancelOn: [{event: "tasks/reminder.deleted", match: "data.reminderId"}]``; deleting
one reminder cancels exactly its run; then a bulk cancellation with
``if: "event.data.userId == 'user_123'"`` cancels the rest of that user's runs only.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .client import Client, new_run_id
from .config import Config
from .grpc_server import build_server

APP, FUNCTION = "reminders-app", "send-reminder"
CANCEL_ON = [{"event": "tasks/reminder.deleted", "match": "data.reminderId"}]
REMINDERS = [("rem_001", "user_123"), ("rem_002", "user_123"), ("rem_003", "user_456")]


def run_demo(say: Callable[[str], None] = print) -> dict[str, str]:
    """Play the scenario; returns {reminder id: final state} ("cancelled" / "running")."""
    with tempfile.TemporaryDirectory(prefix="cancelmatch-demo-") as tmp:
        config = Config(data_dir=Path(tmp), grpc_port=0, http_port=0, sweep_interval_s=3600)
        service = build_server(config)
        try:
            with Client(service.target, env="demo") as client:
                return _scenario(client, say)
        finally:
            service.stop(grace=1)


def _scenario(client: Client, say: Callable[[str], None]) -> dict[str, str]:
    say(f"sync {APP}/{FUNCTION} with cancelOn {json.dumps(CANCEL_ON)}")
    client.sync_functions(APP, {FUNCTION: CANCEL_ON})
    now = time.time_ns() // 1_000_000
    runs: dict[str, str] = {}
    for offset, (reminder, user) in enumerate(REMINDERS):
        started = now - 3000 + offset
        run_id = new_run_id(started)
        runs[run_id] = reminder
        trigger = {"name": "tasks/reminder.created", "id": new_run_id(started), "ts": started,
                   "data": {"reminderId": reminder, "userId": user}}
        res = client.register_run(run_id=run_id, app_id=APP, function_id=FUNCTION,
                                  started_at=started, trigger=trigger)
        say(f"run {run_id} for {reminder} ({user}): listener {res.listeners[0].status}")
    state = dict.fromkeys(runs.values(), "running")
    say('publish tasks/reminder.deleted {"reminderId": "rem_001"}')
    out = client.publish([{"name": "tasks/reminder.deleted", "data": {"reminderId": "rem_001"}}])
    for d in out.decisions:
        state[runs[d.run_id]] = "cancelled"
        say(f"cancelled run {d.run_id} ({runs[d.run_id]}) by event {d.event_id}")
        say("  forward: " + d.function_cancelled_event_json)
    say("bulk cancel: if event.data.userId == 'user_123'")
    c = client.create_cancellation(app_id=APP, function_id=FUNCTION, started_before=now,
                                   condition="event.data.userId == 'user_123'")
    say(f"cancellation {c.id}: {c.runs_cancelled} run(s) cancelled")
    stream = client.watch()
    pending = [next(stream) for _ in range(len(out.decisions) + c.runs_cancelled)]
    stream.cancel()
    for d in pending:
        state[runs[d.run_id]] = "cancelled"
        cause = "bulk" if d.cancellation_id else "event"
        say(f"decision {d.decision_id}: run {d.run_id} ({runs[d.run_id]}) cause={cause}")
    say(f"acknowledged {client.ack(d.decision_id for d in pending)} decision(s)")
    for reminder, final in state.items():
        say(f"{reminder}: {final}")
    return state
