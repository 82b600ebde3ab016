"""Metrics: a minimal Prometheus registry rendered in the text exposition format (no deps).

Counters, gauges (a callable read at scrape time) and one histogram kind; labels are a
fixed tuple per series. Thread-safe: observations take a lock (they are rare next to the
work they measure).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable

from ._stats import EngineStats

# Seconds; match latency sits in the microseconds-to-milliseconds range.
LATENCY_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 0.1, 1.0)


class Counter:
    def __init__(self, name: str, help_text: str, label: str | None = None) -> None:
        self.name, self.help, self.label = name, help_text, label
        self._values: dict[str, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1, label_value: str = "") -> None:
        with self._lock:
            self._values[label_value] = self._values.get(label_value, 0) + amount

    def value(self, label_value: str = "") -> float:
        return self._values.get(label_value, 0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            items = sorted(self._values.items())
        if not items and self.label is None:
            items = [("", 0.0)]
        for lv, v in items:
            labels = f'{{{self.label}="{lv}"}}' if self.label else ""
            lines.append(f"{self.name}{labels} {_num(v)}")
        return lines


class Gauge:
    def __init__(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.name, self.help, self.read = name, help_text, read

    def render(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge",
                f"{self.name} {_num(self.read())}"]


class Histogram:
    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...] = LATENCY_BUCKETS):
        self.name, self.help, self.buckets = name, help_text, buckets
        self._counts = [0] * (len(buckets) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        i = bisect.bisect_left(self.buckets, value)
        with self._lock:
            self._counts[i] += 1
            self._sum += value

    @property
    def count(self) -> int:
        return sum(self._counts)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative = 0
        for bound, n in zip(self.buckets, counts, strict=False):
            cumulative += n
            lines.append(f'{self.name}_bucket{{le="{_num(bound)}"}} {cumulative}')
        cumulative += counts[-1]
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {cumulative}')
        lines.append(f"{self.name}_sum {_num(total)}")
        lines.append(f"{self.name}_count {cumulative}")
        return lines


class Metrics:
    """The service's metrics; gauges are attached by whoever owns the measured state."""

    def __init__(self) -> None:
        self.events = Counter("cancelmatch_events_total", "Events published.")
        self.registrations = Counter("cancelmatch_runs_registered_total", "Runs registered.")
        self.decisions = Counter(
            "cancelmatch_decisions_total", "Cancel decisions made, by cause.", label="cause"
        )
        self.match_latency = Histogram(
            "cancelmatch_match_latency_seconds", "Index match time per published event."
        )
        self.store_commit = Histogram(
            "cancelmatch_store_commit_seconds", "Time to commit one store write."
        )
        self.gauges: list[Gauge] = []
        self._stats: Callable[[], EngineStats] = EngineStats

    # The engine-facing API: the engine and the stores call only these methods.

    def events_published(self, env: str, n: int) -> None:
        self.events.inc(n)

    def runs_registered(self, env: str, n: int) -> None:
        self.registrations.inc(n)

    def decision_made(self, env: str, cause: str) -> None:
        self.decisions.inc(label_value=cause)

    def observe_match(self, seconds: float) -> None:
        self.match_latency.observe(seconds)

    def observe_store_commit(self, seconds: float) -> None:
        self.store_commit.observe(seconds)

    def bind_engine(self, stats: Callable[[], EngineStats]) -> None:
        """Where scrape-time gauges (pending listeners, backlog, watchers, late window) come from."""
        self._stats = stats

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.gauges.append(Gauge(name, help_text, read))

    def _stat_gauges(self) -> list[Gauge]:
        return _stat_gauges_of(self._stats())

    def render(self) -> str:
        lines: list[str] = []
        metrics: list[Counter | Gauge | Histogram] = [
            *self.gauges, *self._stat_gauges(), self.events, self.registrations, self.decisions,
            self.match_latency, self.store_commit]
        for metric in metrics:
            lines += metric.render()
        return "\n".join(lines) + "\n"


def _stat_gauges_of(stats: EngineStats) -> list[Gauge]:
    return [
        Gauge("cancelmatch_pending_listeners", "Listeners in the index.",
              lambda: sum(stats.pending_listeners.values())),
        Gauge("cancelmatch_watchers", "Connected WatchDecisions streams.",
              lambda: sum(stats.watchers.values())),
        Gauge("cancelmatch_unacked_decisions", "Decisions not yet acknowledged.",
              lambda: sum(stats.unacked_decisions.values())),
        Gauge("cancelmatch_late_window_events", "Events kept for late listeners.",
              lambda: stats.late_window_events),
    ]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))
