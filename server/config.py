"""Configuration: every knob of the service, with its default, flag and environment variable.

One frozen dataclass travels from the CLI to ``build_server`` and the engine, so tests
construct exactly the server they need (``Config(data_dir=tmp, grpc_port=0)``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ._timeouts import DEFAULT_TIMEOUT_MS


@dataclass(frozen=True)
class Config:
    """Service settings. Ports 0 pick a free port; the real one is on the built server."""

    host: str = "127.0.0.1"
    grpc_port: int = 50051
    http_port: int = 8289
    data_dir: Path = field(default_factory=lambda: Path("data"))
    # None: local mode (no authentication), logged at startup.
    signing_key: str | None = None
    # Inngest's limit on cancelOn entries per function.
    max_rules: int = 5
    max_events_per_batch: int = 1000
    max_runs_per_batch: int = 1000
    # Inngest's default event payload limit is 256 KiB; we bound the `data` JSON text.
    max_event_bytes: int = 256 * 1024
    max_expression_bytes: int = 16 * 1024
    # gRPC transport limit; above it grpc itself answers RESOURCE_EXHAUSTED.
    max_message_bytes: int = 8 * 1024 * 1024
    default_timeout_ms: int = DEFAULT_TIMEOUT_MS
    # Late listeners: events kept per (env, event name) to test new listeners against.
    late_window_ms: int = 30_000
    late_window_max_events: int = 10_000
    sweep_interval_s: float = 60.0
    grace_s: float = 5.0
    # FULL: a commit survives power loss, not only a process crash (see store.py).
    sqlite_synchronous: str = "FULL"
    # Each WatchDecisions stream holds one worker thread for its lifetime, so streams are
    # capped below the pool size: unary calls always find a free worker.
    workers: int = 32
    max_watchers: int = 16
    # Finished/cancelled runs and acknowledged decisions are purged this long after they
    # ended (a retried registration within it still learns the run was cancelled).
    retention_ms: int = 7 * 86_400_000

    def replace(self, **changes: object) -> Config:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "cancelmatch.sqlite3"


# (field, flag, environment variable, help) for the `serve` subcommand.
SETTINGS: tuple[tuple[str, str, str, str], ...] = (
    ("host", "--host", "CANCELMATCH_HOST", "address to listen on (loopback by default)"),
    ("grpc_port", "--grpc-port", "CANCELMATCH_GRPC_PORT", "gRPC port (0 = pick a free one)"),
    ("http_port", "--http-port", "CANCELMATCH_HTTP_PORT", "HTTP port: REST + /metrics (0 = free)"),
    ("data_dir", "--data-dir", "CANCELMATCH_DATA_DIR", "directory of the SQLite store"),
    ("signing_key", "--signing-key", "CANCELMATCH_SIGNING_KEY", "require this key (Bearer)"),
    ("max_rules", "--max-rules", "CANCELMATCH_MAX_RULES", "cancel rules per run"),
    ("max_events_per_batch", "--max-events-per-batch", "CANCELMATCH_MAX_EVENTS_PER_BATCH",
     "events per PublishEvents call"),
    ("max_runs_per_batch", "--max-runs-per-batch", "CANCELMATCH_MAX_RUNS_PER_BATCH",
     "runs per RegisterRuns call"),
    ("max_event_bytes", "--max-event-bytes", "CANCELMATCH_MAX_EVENT_BYTES",
     "size of one event's data JSON"),
    ("max_expression_bytes", "--max-expression-bytes", "CANCELMATCH_MAX_EXPRESSION_BYTES",
     "size of one expression"),
    ("max_message_bytes", "--max-message-bytes", "CANCELMATCH_MAX_MESSAGE_BYTES",
     "size of one gRPC message"),
    ("late_window_ms", "--late-window-ms", "CANCELMATCH_LATE_WINDOW_MS",
     "how long recent events are kept for late listeners"),
    ("sweep_interval_s", "--sweep-interval", "CANCELMATCH_SWEEP_INTERVAL",
     "seconds between expired-listener sweeps"),
    ("max_watchers", "--max-watchers", "CANCELMATCH_MAX_WATCHERS",
     "concurrent WatchDecisions streams (each holds a worker thread)"),
    ("workers", "--workers", "CANCELMATCH_WORKERS", "gRPC worker threads"),
    ("retention_ms", "--retention-ms", "CANCELMATCH_RETENTION_MS",
     "how long ended runs and acknowledged decisions are kept"),
    ("grace_s", "--grace", "CANCELMATCH_GRACE", "seconds in-flight calls get at shutdown"),
    ("sqlite_synchronous", "--sqlite-synchronous", "CANCELMATCH_SQLITE_SYNCHRONOUS",
     "FULL (survives power loss) or NORMAL (survives process crashes)"),
)
