"""Helpers for the service tests: reminder-app requests and a real server process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from server._model import Event, Rule, RunRequest
from server._ulid import new_ulid
from server.config import Config
from server.engine import Engine
from server.store import SQLiteStore, open_store, window_for

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000_000  # fixed "now" of the fake clock (epoch ms)


class Clock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def make_engine(target: Path | str, clock: Clock, **config: Any) -> Engine:
    """An engine on the SQLite file ``target`` (or ":memory:"), or on the Redis URL."""
    if str(target).startswith("redis"):
        cfg = Config(store=str(target), **config)
        return Engine(cfg, open_store(cfg), clock=clock)
    cfg = Config(**config)
    return Engine(cfg, SQLiteStore(target, "NORMAL", window_for(cfg)), clock=clock)


def run_request(reminder: str = "r1", *, env: str = "prod", user: str = "user_123",
                started_at: int = T0 - 1000, rules: tuple[Rule, ...] | None = None,
                function_id: str = "send-reminder", run_id: str | None = None) -> RunRequest:
    """A run of the reminder app (cancelOn tasks/reminder.deleted, match data.reminderId)."""
    if rules is None:
        rules = (Rule("tasks/reminder.deleted", match="data.reminderId"),)
    trigger = Event(new_ulid(started_at), "tasks/reminder.created", started_at,
                    json.dumps({"reminderId": reminder, "userId": user}))
    return RunRequest(env, "reminders", function_id, run_id or new_ulid(started_at), started_at,
                      trigger, rules)


def deleted(reminder: str, ts: int = T0) -> Event:
    return Event(new_ulid(ts), "tasks/reminder.deleted", ts, json.dumps({"reminderId": reminder}))


class ServerProcess:
    """`python -m server.cli serve` on 127.0.0.1 with free ports; logs go to a file."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.args = args
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.grpc_port = self.http_port = 0
        self.log_path = data_dir / "server.log"
        self.log_offset = 0  # where this process's lines start (the log survives restarts)

    def start(self) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        cmd = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1",
               "--grpc-port", "0", "--http-port", "0", "--data-dir", str(self.data_dir),
               "--grace", "2", *self.args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log,
                                         env={**os.environ, **self.extra_env})
        listening = self.wait_for_log("listening", offset)
        self.grpc_port, self.http_port = listening["grpc_port"], listening["http_port"]
        return self

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def log_lines(self, offset: int | None = None) -> list[dict[str, Any]]:
        start = self.log_offset if offset is None else offset
        lines = self.log_path.read_bytes()[start:].decode().splitlines()
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"msg": line})
        return out

    def wait_for_log(self, msg: str, offset: int | None = None,
                     limit_s: float = 60) -> dict[str, Any]:
        """Poll the log for a line (a liveness bound, not a timing assertion)."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            for entry in self.log_lines(offset):
                if entry.get("msg") == msg:
                    return entry
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: "
                                     f"{self.log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"no {msg!r} in the server log: {self.log_path.read_text()[-3000:]}")

    def terminate(self) -> int:
        """SIGTERM and wait for a clean exit; returns the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # every thread's stack, into the log
            time.sleep(1)
            raise AssertionError("the server did not stop within 60 s after SIGTERM; its "
                                 f"threads:\n{self.log_path.read_text()[-12000:]}") from None

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=60)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=60)

