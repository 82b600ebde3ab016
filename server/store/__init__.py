"""Durability: the store seam (``Store``) and the one place that picks an implementation.

``sqlite`` (the default) is the embedded single-node store; ``redis://`` and
``redis+cluster://`` are shared by any number of replicas. The engine only sees
:class:`Store`; nothing outside this package knows which one it holds.
"""

from __future__ import annotations

from .._window import RecentEvents
from ..config import Config
from ._interface import (
    BucketChanges,
    BucketRun,
    Cancelled,
    CancelStep,
    Cursor,
    ExistingRun,
    FinishStep,
    ListenerRow,
    LogMoves,
    NewRun,
    RecentEvent,
    Registered,
    RunChunk,
    Store,
    StoreStats,
)
from ._sqlite import SQLiteStore

__all__ = [
    "BucketChanges",
    "BucketRun",
    "CancelStep",
    "Cancelled",
    "Cursor",
    "ExistingRun",
    "FinishStep",
    "ListenerRow",
    "LogMoves",
    "NewRun",
    "RecentEvent",
    "Registered",
    "RunChunk",
    "SQLiteStore",
    "Store",
    "StoreStats",
    "open_store",
    "window_for",
]


def window_for(config: Config) -> RecentEvents:
    """The late window with the configured bounds."""
    return RecentEvents(config.late_window_ms, config.late_window_max_events,
                        config.late_window_total_events, config.late_window_total_bytes)


def open_store(config: Config) -> Store:
    """The store ``config.store`` names (the Redis client is imported only for Redis)."""
    if config.store == "sqlite":
        return SQLiteStore(config.db_path, config.sqlite_synchronous, window_for(config))
    from ._redis import RedisStore

    return RedisStore.from_url(config.store, window_for(config), config)
