"""Configuration: every knob of the service, with its default, flag and environment variable.

One frozen dataclass travels from the CLI to ``build_server`` and the engine, so tests
construct exactly the server they need (``Config(data_dir=tmp, grpc_port=0)``). Each field
is declared once with :func:`setting`; the CLI (``server.cli``, click) derives its flag,
``CANCELMATCH_*`` environment variable, type, choices and shown default from that
declaration, and :meth:`Config.check` rejects values and combinations that cannot work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._timeouts import DEFAULT_TIMEOUT_MS

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("auto", "console", "json")
STORE_SCHEMES = ("redis://", "rediss://", "redis+cluster://")


class ConfigError(ValueError):
    """A setting's value, or a combination of settings, that the service cannot run with;
    the message names the setting(s) by their flag."""


MAX_JSON_DEPTH_CEILING = 128
"""The highest ``max_json_depth`` allowed: decoding, CEL evaluation and the decision encoder
recurse a few frames per nesting level and must stay far below Python's recursion limit
(1,000) on every thread. Stored triggers deeper than this are not loaded (store/_triggers)."""


def redact_url(url: str) -> str:
    """``url`` without its password (``redis://:pw@host`` → ``redis://:***@host``): store URLs
    appear in logs and in UNAVAILABLE messages sent to clients."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


def setting(default: Any = MISSING, *, help: str, default_factory: Any = MISSING,
            choices: tuple[str, ...] | None = None, flag: str | None = None) -> Any:
    """Declare one setting: its default, help text and (optional) choices. The CLI flag
    (``--grpc-port``) and environment variable (``CANCELMATCH_GRPC_PORT``) are derived from
    the field name unless ``flag`` overrides the flag; see :func:`settings`."""
    meta = {"help": help, "choices": choices, "flag": flag}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Config:
    """Service settings. Ports 0 pick a free port; the real one is on the built server."""

    host: str = setting("127.0.0.1", help="address to listen on (loopback by default)")
    grpc_port: int = setting(50051, help="gRPC port (0 = pick a free one)")
    http_port: int = setting(8289, help="HTTP port: REST + /metrics (0 = free)")
    data_dir: Path = setting(default_factory=lambda: Path("data"),
                             help="directory of the SQLite store")
    # None: local mode (no authentication), logged at startup.
    signing_key: str | None = setting(
        None, help="require this key (Bearer) in every environment without a key of its own")
    # Per-environment keys (Inngest has one signing key per environment): a key listed here
    # is valid in its environment only, and that environment refuses every other key.
    signing_keys: str | None = setting(
        None, help="per-environment keys: comma-separated env=key pairs")
    signing_keys_file: str | None = setting(
        None, help="file of env=key lines (# comments), read at start-up; keeps keys "
                   "out of the process list")
    # Inngest's limit on cancelOn entries per function.
    max_rules: int = setting(5, help="cancel rules per run")
    max_events_per_batch: int = setting(1000, help="events per PublishEvents call")
    max_runs_per_batch: int = setting(1000, help="runs per RegisterRuns call")
    # Inngest's default event payload limit is 256 KiB; we bound the `data` JSON text.
    max_event_bytes: int = setting(256 * 1024, help="size of one event's data JSON")
    max_expression_bytes: int = setting(16 * 1024, help="size of one expression")
    # 64 levels: far beyond real payloads (webhook bodies nest < 20), the same bound as
    # the CEL AST, and far enough from Python's recursion limit that every recursive
    # consumer (decoder, CEL runtime, decision encoder, +3 levels of wrapping) is safe.
    max_json_depth: int = setting(
        64, help=f"nesting depth of any JSON payload or body (at most {MAX_JSON_DEPTH_CEILING})")
    # 10,000 ids bind well under SQLite's variable limit (32,766 since 3.32).
    max_ids_per_call: int = setting(10_000, help="decision ids per AckDecisions call")
    max_functions_per_sync: int = setting(1000, help="functions per SyncFunctions call")
    # gRPC transport limit; above it grpc itself answers RESOURCE_EXHAUSTED.
    max_message_bytes: int = setting(8 * 1024 * 1024, help="size of one gRPC message")
    default_timeout_ms: int = setting(DEFAULT_TIMEOUT_MS,
                                      help="listener lifetime when a rule has no timeout")
    # Late listeners: events kept per (env, event name) to test new listeners against.
    late_window_ms: int = setting(30_000,
                                  help="how long recent events are kept for late listeners")
    late_window_max_events: int = setting(10_000, help="recent events kept per event name")
    # Issue 9 item 4: bounded across every environment and name, oldest names evicted.
    late_window_total_events: int = setting(
        100_000, help="recent events kept in all (on Redis: per environment)")
    late_window_total_bytes: int = setting(
        64 << 20, help="estimated bytes of recent events kept in all (on Redis: per environment)")
    sweep_interval_s: float = setting(60.0, flag="--sweep-interval",
                                      help="seconds between expired-listener sweeps")
    grace_s: float = setting(5.0, flag="--grace", help="seconds in-flight calls get at shutdown")
    # FULL: a commit survives power loss, not only a process crash (see store.py).
    sqlite_synchronous: str = setting(
        "FULL", choices=("FULL", "NORMAL"),
        help="FULL (survives power loss) or NORMAL (survives process crashes)")
    # Each WatchDecisions stream holds one worker thread for its lifetime, so streams are
    # capped below the pool size: unary calls always find a free worker.
    workers: int = setting(32, help="gRPC worker threads")
    max_watchers: int = setting(
        16, help="concurrent WatchDecisions streams (each holds a worker thread)")
    max_watchers_per_env: int = setting(
        4, help="concurrent WatchDecisions streams of one environment")
    # Finished/cancelled runs and acknowledged decisions are purged this long after they
    # ended (a retried registration within it still learns the run was cancelled).
    retention_ms: int = setting(7 * 86_400_000,
                                help="how long ended runs and acknowledged decisions are kept")
    # HTTP (REST + /metrics) on uvicorn. A request must arrive whole within the read
    # timeout (slow or stalled senders are cut off with 408); idle keep-alive connections
    # are closed after the idle timeout; past max connections a request is answered 503.
    http_max_body_bytes: int = setting(1024 * 1024, help="size of one HTTP request body")
    http_read_timeout_s: float = setting(
        10.0, flag="--http-read-timeout",
        help="seconds a client has to send a whole HTTP request (headers and body)")
    http_idle_timeout_s: float = setting(
        5.0, flag="--http-idle-timeout",
        help="seconds an idle keep-alive HTTP connection is kept open")
    http_max_connections: int = setting(
        256, help="open HTTP connections beyond which requests are answered 503")
    http_backlog: int = setting(128, help="HTTP connections waiting to be accepted (listen backlog)")
    log_level: str = setting("info", choices=LOG_LEVELS, help="least severe log level written")
    log_format: str = setting(
        "auto", choices=LOG_FORMATS,
        help="auto: readable lines on a terminal, JSON lines otherwise; or console / json")

    # The store: the embedded SQLite file in data_dir, or Redis shared by replicas.
    store: str = setting(
        "sqlite", help="sqlite (the file in --data-dir), redis://HOST:PORT/DB, or "
                       "redis+cluster://HOST:PORT (a Redis Cluster; any node)")

    def replace(self, **changes: object) -> Config:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "cancelmatch.sqlite3"

    def check(self) -> Config:
        """Raise ConfigError for a value or combination the service cannot run with (the
        first problem found, naming the flags); returns self so calls can chain."""
        for problem in _problems(self):
            raise ConfigError(problem)
        return self


def _flag(name: str) -> str:
    return next(s.flag for s in settings() if s.name == name)


def _problems(c: Config) -> list[str]:
    """Every reason ``c`` cannot run, in declaration order of the settings involved."""
    out = []
    for name in ("grpc_port", "http_port"):
        if not 0 <= getattr(c, name) <= 65535:
            out.append(f"{_flag(name)} must be a port number from 0 to 65535, "
                       f"got {getattr(c, name)}")
    for f in dataclasses.fields(c):
        value = getattr(c, f.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            out.append(f"{_flag(f.name)} must not be negative, got {value}")
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            out.append(f"{_flag(f.name)} must be one of {', '.join(choices)}, got {value!r}")
    for name in ("signing_key", "signing_keys", "signing_keys_file"):
        if getattr(c, name) == "":  # given but empty: never silently run without a key
            out.append(f"{_flag(name)} is empty: give a key, or leave it out entirely for "
                       "local mode (no authentication)")
    for name in ("workers", "max_rules", "http_max_connections", "http_backlog",
                 "max_message_bytes", "http_max_body_bytes", "max_json_depth",
                 "max_ids_per_call", "max_functions_per_sync"):
        if getattr(c, name) < 1:
            out.append(f"{_flag(name)} must be at least 1, got {getattr(c, name)}")
    if c.max_json_depth > MAX_JSON_DEPTH_CEILING:
        out.append(f"{_flag('max_json_depth')} must be at most {MAX_JSON_DEPTH_CEILING}, "
                   f"got {c.max_json_depth}")
    if c.max_watchers >= c.workers:
        # Each stream holds a worker thread: unary calls need at least one left over.
        out.append(f"{_flag('max_watchers')} ({c.max_watchers}) must be below "
                   f"{_flag('workers')} ({c.workers}): each stream holds a worker thread")
    for name in ("http_read_timeout_s", "http_idle_timeout_s", "sweep_interval_s"):
        if getattr(c, name) <= 0:
            out.append(f"{_flag(name)} must be more than 0 seconds, got {getattr(c, name)}")
    if not 1 <= c.max_watchers_per_env <= c.max_watchers:
        out.append(f"{_flag('max_watchers_per_env')} ({c.max_watchers_per_env}) must be "
                   f"between 1 and {_flag('max_watchers')} ({c.max_watchers})")
    if c.store != "sqlite" and not c.store.startswith(STORE_SCHEMES):
        out.append(f"{_flag('store')} {c.store!r}: expected sqlite, redis://HOST:PORT/DB or "
                   "redis+cluster://HOST:PORT")
    return out


@dataclass(frozen=True)
class Setting:
    """One setting as the CLI shows it, derived from the Config field."""

    name: str
    flag: str
    env_var: str
    help: str
    choices: tuple[str, ...] | None
    default: Any
    kind: type
    """The value's type: int, float, str or Path (``str | None`` settings are str)."""


_KINDS = {"int": int, "float": float, "str": str, "bool": bool, "Path": Path,
          "str | None": str, "int | None": int, "float | None": float, "Path | None": Path}


def _kind(f: dataclasses.Field[Any]) -> type:
    try:
        return _KINDS[str(f.type)]
    except KeyError:
        raise TypeError(f"Config.{f.name}: settings of type {f.type} have no CLI form; "
                        f"use one of {', '.join(_KINDS)}") from None


def settings() -> tuple[Setting, ...]:
    """Every setting of :class:`Config`, with its flag, environment variable and default."""
    out = []
    defaults = Config()
    for f in dataclasses.fields(Config):
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        out.append(Setting(f.name, flag, "CANCELMATCH_" + flag[2:].replace("-", "_").upper(),
                           f.metadata["help"], f.metadata.get("choices"),
                           getattr(defaults, f.name), _kind(f)))
    return tuple(out)
