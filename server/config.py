"""Configuration: every knob of the service, with its default, flag and environment variable.

One frozen dataclass travels from the CLI to ``build_server`` and the engine, so tests
construct exactly the server they need (``Config(data_dir=tmp, grpc_port=0)``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

from ._timeouts import DEFAULT_TIMEOUT_MS

STORE_SCHEMES = ("redis://", "rediss://", "redis+cluster://")


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
    signing_key: str | None = setting(None, help="require this key (Bearer)")
    # Inngest's limit on cancelOn entries per function.
    max_rules: int = setting(5, help="cancel rules per run")
    max_events_per_batch: int = setting(1000, help="events per PublishEvents call")
    max_runs_per_batch: int = setting(1000, help="runs per RegisterRuns call")
    # Inngest's default event payload limit is 256 KiB; we bound the `data` JSON text.
    max_event_bytes: int = setting(256 * 1024, help="size of one event's data JSON")
    max_expression_bytes: int = setting(16 * 1024, help="size of one expression")
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

    # The store: the embedded SQLite file in data_dir, or Redis shared by replicas.
    store: str = setting(
        "sqlite", help="sqlite (the file in --data-dir), redis://HOST:PORT/DB, or "
                       "redis+cluster://HOST:PORT (a Redis Cluster; any node)")

    def check(self) -> None:
        """Reject combinations that cannot work; ValueError names the settings."""
        if self.max_watchers >= self.workers:
            raise ValueError(
                f"max_watchers ({self.max_watchers}) must be below workers ({self.workers}): "
                "each WatchDecisions stream holds a worker thread, and unary calls (health "
                "included) need a free one")
        if not 1 <= self.max_watchers_per_env <= self.max_watchers:
            raise ValueError(f"max_watchers_per_env ({self.max_watchers_per_env}) must be "
                             f"between 1 and max_watchers ({self.max_watchers})")
        if self.store != "sqlite" and not self.store.startswith(STORE_SCHEMES):
            raise ValueError(f"store {self.store!r}: expected sqlite, redis://HOST:PORT/DB "
                             "or redis+cluster://HOST:PORT")

    def replace(self, **changes: object) -> Config:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "cancelmatch.sqlite3"


@dataclass(frozen=True)
class Setting:
    """One setting as the CLI shows it, derived from the Config field."""

    name: str
    flag: str
    env_var: str
    help: str
    choices: tuple[str, ...] | None


def settings() -> tuple[Setting, ...]:
    """Every setting of :class:`Config`, with its flag and environment variable."""
    out = []
    for f in dataclasses.fields(Config):
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        out.append(Setting(f.name, flag, "CANCELMATCH_" + flag[2:].replace("-", "_").upper(),
                           f.metadata["help"], f.metadata.get("choices")))
    return tuple(out)


# (field, flag, environment variable, help) for the `serve` subcommand.
SETTINGS: tuple[tuple[str, str, str, str], ...] = tuple(
    (s.name, s.flag, s.env_var, s.help) for s in settings())
