"""CLI: options derived from the settings, environment variables, one-line failures, sync."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_support import ROOT

from server import cli
from server.config import Config, ConfigError, settings
from server.grpc_server import Service


def _parse(*args: str) -> Config:
    ctx = cli.cli.commands["serve"].make_context("serve", list(args))
    return cli.config_from_options(ctx.params)


def _run(*args: str, env: dict[str, str] | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m cancelmatch ARGS`` from the checkout (the shim package included)."""
    return subprocess.run([sys.executable, "-m", "cancelmatch", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_every_setting_has_a_flag_an_env_var_and_its_default_in_help(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.cli.main(["serve", "--help"], prog_name="cancelmatch")
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    found = settings()
    assert len({s.flag for s in found}) == len({s.env_var for s in found}) == len(found)
    assert {s.name for s in found} == {f.name for f in dataclasses.fields(Config)}
    for s in found:
        shown = "(none)" if s.default is None else str(s.default)
        assert s.flag in text and f"[env var: {s.env_var}; default: {shown}]" in text, s
    assert "--log-level [debug|info|warning|error]" in text
    assert "--log-format [auto|console|json]" in text


def test_flags_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANCELMATCH_MAX_RULES", "3")
    monkeypatch.setenv("CANCELMATCH_SIGNING_KEY", "from-env")
    monkeypatch.setenv("CANCELMATCH_LOG_LEVEL", "WARNING")
    config = _parse("--grpc-port", "0", "--data-dir", "/tmp/x", "--signing-key", "from-flag")
    assert (config.grpc_port, config.data_dir, config.max_rules) == (0, Path("/tmp/x"), 3)
    assert config.signing_key == "from-flag"
    assert config.log_level == "warning"  # choices are case-insensitive, env vars too
    monkeypatch.delenv("CANCELMATCH_SIGNING_KEY")
    assert _parse().signing_key is None and _parse().http_port == 8289


@pytest.mark.parametrize(("args", "field", "value"), [
    (("--sqlite-synchronous", "full"), "sqlite_synchronous", "FULL"),
    (("--sqlite-synchronous", "Normal"), "sqlite_synchronous", "NORMAL"),
    (("--log-level", "DEBUG"), "log_level", "debug"),
    (("--log-format", "JSON"), "log_format", "json"),
    (("--grace", "0.5"), "grace_s", 0.5),
])
def test_choices_are_case_insensitive_and_types_follow_the_field(
        args: tuple[str, ...], field: str, value: object) -> None:
    assert getattr(_parse(*args), field) == value


@pytest.mark.parametrize(("args", "env", "expected"), [
    (("--max-rules", "five"), {}, "Invalid value for '--max-rules' (env var: "
                                  "'CANCELMATCH_MAX_RULES'): 'five' is not a valid integer"),
    ((), {"CANCELMATCH_MAX_RULES": "five"}, "'five' is not a valid integer"),
    (("--log-level", "loud"), {}, "Invalid value for '--log-level' (env var: "
                                  "'CANCELMATCH_LOG_LEVEL'): 'loud' is not one of 'debug', "
                                  "'info', 'warning', 'error'"),
    (("--max-watchers", "40", "--workers", "32"), {},
     "--max-watchers (40) must be below --workers (32): each stream holds a worker thread"),
    (("--http-port", "70000"), {}, "--http-port must be a port number from 0 to 65535"),
    (("--nope",), {}, "No such option '--nope'"),
])
def test_bad_settings_are_one_line_and_status_2(args: tuple[str, ...], env: dict[str, str],
                                                expected: str) -> None:
    out = _run("serve", "--data-dir", "/nonexistent/never-created", *args, env=env)
    assert out.returncode == 2, out
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and expected in lines[0], out.stderr
    assert lines[0].startswith("cancelmatch serve: error: ")
    assert "Traceback" not in out.stderr and out.stdout == ""


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("which", ["--grpc-port", "--http-port"])
def test_port_in_use_is_one_line_and_status_2(tmp_path: Path, taken_port: int,
                                              which: str) -> None:
    other = "--http-port" if which == "--grpc-port" else "--grpc-port"
    out = _run("serve", "--data-dir", str(tmp_path), which, str(taken_port), other, "0")
    assert out.returncode == 2, out
    (line,) = out.stderr.splitlines()[-1:]
    assert line == (f"cancelmatch serve: cannot start: cannot listen on 127.0.0.1:{taken_port} "
                    f"({'gRPC' if which == '--grpc-port' else 'HTTP'}, {which}): address "
                    "already in use")
    assert "Traceback" not in out.stderr
    # Only the JSON log lines (none at this point) may precede the error line.
    assert all(json.loads(extra) for extra in out.stderr.splitlines()[:-1])


@pytest.mark.parametrize("make", ["file", "under_file"])
def test_unusable_data_folder_is_one_line_and_status_2(tmp_path: Path, make: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    folder = blocker if make == "file" else blocker / "data"
    out = _run("serve", "--data-dir", str(folder), "--grpc-port", "0", "--http-port", "0")
    assert out.returncode == 2, out
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert lines[0].startswith("cancelmatch serve: cannot start: ")
    assert str(folder) in lines[0] and "(--data-dir)" in lines[0]


def test_config_check_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--http-read-timeout must be more than 0 seconds"):
        Config(http_read_timeout_s=0).check()
    with pytest.raises(ConfigError, match=r"^--sqlite-synchronous must be one of FULL, NORMAL"):
        Config(sqlite_synchronous="full").check()
    with pytest.raises(ConfigError, match=r"^--max-rules must not be negative, got -1"):
        Config(max_rules=-1).check()
    assert Config().check() == Config()


def test_version_and_python_dash_m_cancelmatch() -> None:
    from server._version import VERSION

    out = _run("--version")
    assert (out.returncode, out.stdout) == (0, f"cancelmatch {VERSION}\n")
    assert VERSION != "0+unknown"  # the checkout is installed (pip install -e .)
    listing = _run("--help").stdout
    for command in ("serve", "sync", "demo", "bench", "openapi", "validate", "eval", "explain"):
        assert f"  {command} " in listing


def test_unknown_subcommand_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["nope"]) == 2
    assert capsys.readouterr().err == ("cancelmatch: error: No such command 'nope'. "
                                       "(see 'cancelmatch --help')\n")


def test_argparse_subcommands_are_adapted(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("word")
        p.add_argument("--loud", action="store_true")

    def run(ns: argparse.Namespace) -> int:
        seen.append(ns.word.upper() if ns.loud else ns.word)
        return 7

    monkeypatch.setattr(cli.cli, "commands", dict(cli.cli.commands))
    cli.register("echo-test", "test", configure, run)
    assert cli.main(["echo-test", "hello", "--loud"]) == 7 and seen == ["HELLO"]
    with pytest.raises(SystemExit) as usage:  # argparse's own usage error, as before
        cli.main(["echo-test"])
    assert usage.value.code == 2


def test_bench_passes_every_argument_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.report

    got: list[list[str]] = []
    monkeypatch.setattr(bench.report, "main", lambda args: got.append(args) or 3)
    assert cli.main(["bench", "--quick", "--help", "-x", "pos"]) == 3
    assert got == [["--quick", "--help", "-x", "pos"]]


# ---------------------------------------------------------------------- sync


SYNC_YAML = """\
app_id: reminders-app
functions:
- id: send-reminder
  cancelOn: [{event: tasks/reminder.deleted, match: data.reminderId, timeout: 30d}]
"""


def test_sync_file_registers_functions(service: Service, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "functions.yaml"
    path.write_text(SYNC_YAML)
    assert cli.main(["sync", str(path), "--target", service.target]) == 0
    assert capsys.readouterr().out == "ok  reminders-app/send-reminder\n"
    assert service.engine.store.function_known("default", "reminders-app", "send-reminder")
    as_json = tmp_path / "functions.json"
    as_json.write_text(json.dumps({"app_id": "x", "functions": [{"id": "f", "cancelOn": [
        {"event": "a/b", "if": "async.data.n =="}]}]}))
    assert cli.main(["sync", str(as_json), "--target", service.target, "--app", "y"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "rejected  y/f" and "cancel_on[0].if: invalid expression" in out[1]


@pytest.mark.parametrize(("text", "suffix", "message"), [
    ("app_id: a\nfunctions:\n  - id: f\n    cancel_on: []\n", ".yaml",
     "functions[0].cancel_on is not a known field"),
    ("app_id: a\nfunctions:\n  - cancelOn: []\n", ".yml", "functions[0].id is required"),
    ("functions: [}", ".yaml", "invalid YAML at line 1, column 13"),
    ('{"app_id": "a", "functions": [}', ".json", "invalid JSON at line 1, column 31"),
    ("- just\n- a list\n", ".yaml", "expected a mapping with app_id and functions"),
])
def test_bad_sync_files_are_one_line_and_status_2(tmp_path: Path, text: str, suffix: str,
                                                  message: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"functions{suffix}"
    path.write_text(text)
    assert cli.main(["sync", str(path), "--target", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(path) in err, err


def test_sync_reports_an_unreachable_server(tmp_path: Path, taken_port: int,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from server import client

    monkeypatch.setattr(client.Client, "__init__", _short_timeout(client.Client.__init__))
    path = tmp_path / "f.yaml"
    path.write_text(SYNC_YAML)
    assert cli.main(["sync", str(path), "--target", f"127.0.0.1:{taken_port}"]) == 2
    assert capsys.readouterr().err.startswith(f"cancelmatch sync: 127.0.0.1:{taken_port}: ")


def _short_timeout(init: Any) -> Any:
    def patched(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **{**kwargs, "timeout": 2.0})
    return patched
