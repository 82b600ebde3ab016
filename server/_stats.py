"""Engine statistics: the snapshot of live state that metrics read at scrape time.

The engine builds it (``Engine.stats()``) from its index, store and watchers; the metrics
module only renders it, so neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EngineStats:
    """Live sizes, per environment where the state is per environment."""

    pending_listeners: dict[str, int] = field(default_factory=dict)
    unacked_decisions: dict[str, int] = field(default_factory=dict)
    watchers: dict[str, int] = field(default_factory=dict)
    late_window_events: int = 0
    late_window_bytes: int = 0
