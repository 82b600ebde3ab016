"""Logs: console lines on a terminal, JSON otherwise; one line per state change and refusal."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from server_support import ROOT

from server import _logging
from server._timeouts import format_rfc3339
from server._ulid import new_ulid
from server.client import Client

KEY = "signkey-prod-10991"
RULES = [{"event": "tasks/reminder.deleted", "match": "data.reminderId"}]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(("stream", "fmt", "expected"), [
    (io.StringIO(), "auto", "json"), (Terminal(), "auto", "console"),
    (Terminal(), "JSON", "json"), (io.StringIO(), "console", "console"),
])
def test_format_follows_the_terminal_unless_chosen(restore_logging: None, stream: io.StringIO,
                                                   fmt: str, expected: str) -> None:
    assert _logging.configure("info", fmt, stream) == expected
    logging.getLogger("cancelmatch.test").info("published events",
                                               extra={"env": "prod", "decisions": 2})
    logging.getLogger("cancelmatch.test").debug("hidden at info")
    (line,) = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue()).splitlines()
    if expected == "json":
        entry = json.loads(line)
        assert list(entry)[:4] == ["ts", "level", "logger", "msg"]
        assert (entry["msg"], entry["env"], entry["decisions"]) == ("published events", "prod", 2)
    else:
        assert "published events" in line and "env=prod" in line and "decisions=2" in line
        assert not line.startswith("{")


def _http(port: int, method: str, path: str, body: Any = None,
          headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.close()
        return int(err.code)


def test_every_state_change_and_refusal_is_one_info_line(server_factory: Any) -> None:
    srv = server_factory("--signing-key", KEY)
    auth = {"Authorization": f"Bearer {KEY}", "X-Inngest-Env": "prod"}
    now = time.time_ns() // 1_000_000
    runs = [new_ulid(now - 5000 + i) for i in range(3)]
    with Client(srv.target, env="prod", signing_key=KEY) as c:
        c.sync_functions("acme", {"remind": RULES})
        c.register_runs([{"run_id": r, "app_id": "acme", "function_id": "remind",
                          "started_at": now - 5000 + i, "cancel_on": RULES,
                          "trigger": {"name": "tasks/reminder.created",
                                      "data": {"reminderId": f"r{i}"}}}
                         for i, r in enumerate(runs)])
        decisions = c.publish([{"name": "tasks/reminder.deleted",
                                "data": {"reminderId": "r0"}}]).decisions
        c.finish_run(runs[1])
        c.ack([d.decision_id for d in decisions])
    with Client(srv.target, env="prod") as anonymous, pytest.raises(grpc.RpcError):
        anonymous.finish_run(runs[2])
    body = {"app_id": "acme", "function_id": "remind", "started_before": format_rfc3339(now)}
    assert _http(srv.http_port, "POST", "/v1/cancellations", body, auth) == 200
    assert _http(srv.http_port, "POST", "/v1/cancellations", body) == 401
    assert _http(srv.http_port, "GET", "/v1/nope", headers=auth) == 404
    assert _http(srv.http_port, "POST", "/v1/apps/acme/functions", {"functions": []},
                 auth) == 200
    expected = ["synced functions", "registered runs", "published events", "finished run",
                "acknowledged decisions", "rejected", "created bulk cancellation", "rejected",
                "rejected", "synced functions"]
    lines = _wait_for(srv, expected)
    by = {e["msg"]: e for e in lines}
    assert by["registered runs"]["runs"] == 3 and by["registered runs"]["registered"] == 3
    assert by["registered runs"]["run_ids"] == runs and by["registered runs"]["env"] == "prod"
    assert by["published events"]["decisions"] == 1
    assert by["published events"]["cancelled_run_ids"] == [runs[0]]
    assert by["finished run"]["run_id"] == runs[1]
    assert by["created bulk cancellation"]["runs_cancelled"] == 1
    rejected = [e for e in lines if e["msg"] == "rejected"]
    assert [(e.get("code") or e.get("status")) for e in rejected] == [
        "UNAUTHENTICATED", 401, 404]
    assert all(e["reason"] and "duration_ms" in e for e in rejected)
    assert all(e["level"] == "info" and "duration_ms" in e for e in lines)


def _wait_for(srv: Any, messages: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        lines = [e for e in srv.log_lines() if e.get("msg") in set(messages)]
        if [e["msg"] for e in lines] == messages or time.monotonic() > deadline:
            assert [e["msg"] for e in lines] == messages
            return lines
        time.sleep(0.05)


def test_listening_line_names_every_url_and_the_data_file(server_factory: Any,
                                                          tmp_path: Path) -> None:
    srv = server_factory(data_dir=tmp_path / "store")
    entry = srv.wait_for_log("listening")
    http = f"http://127.0.0.1:{srv.http_port}"
    assert entry["grpc"] == f"grpc://127.0.0.1:{srv.grpc_port}" and entry["http"] == http
    assert (entry["metrics"], entry["openapi"]) == (f"{http}/metrics", f"{http}/v1/openapi.json")
    assert entry["data"] == str((tmp_path / "store" / "cancelmatch.sqlite3").resolve())


def test_console_format_is_readable_lines(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cancelmatch", "serve", "--grpc-port", "0", "--http-port", "0",
         "--data-dir", str(tmp_path), "--log-format", "console"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "listening" in line and "grpc=grpc://127.0.0.1:" in line and "http=http://" in line
        assert not line.startswith("{")
    finally:
        proc.terminate()
        proc.communicate(timeout=60)  # drains and closes the pipe
