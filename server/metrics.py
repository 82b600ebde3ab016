"""Metrics: the service's Prometheus metrics on prometheus_client, one registry per Service.

Each :class:`Metrics` owns a ``CollectorRegistry`` (never the process-global one), so a
test process can build many servers side by side. The registry carries the standard process
and Python collectors, ``cancelmatch_build_info``, counters and histograms updated as work
happens, and gauges read at scrape time from :class:`server._stats.EngineStats`.

Label values are bounded: ``env`` by the environments in use, gRPC methods by the service
definitions, HTTP routes by the route templates (``<unmatched>`` for any other path) and
HTTP methods by :data:`HTTP_METHODS` (``OTHER`` for any other token), so hostile input
cannot create series. Every metric is documented in the README's Operations table (a test
checks that each registered metric appears there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

import matcher

from ._stats import EngineStats
from ._version import VERSION

# Seconds; matching sits in the microseconds, commits and calls in the milliseconds.
MATCH_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 0.1, 1.0)
CALL_BUCKETS = (1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0,
                2.5, 5.0, 10.0)
# The `*_created` series (a timestamp per labelled child) double the exposition for no use
# of ours; prometheus_client's switch for them is process-wide.
disable_created_metrics()  # type: ignore[no-untyped-call]

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The service's metrics; ``render`` is what ``/metrics`` serves."""

    def __init__(self) -> None:
        self.registry = reg = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=reg)
        PlatformCollector(registry=reg)
        GCCollector(registry=reg)
        Info("cancelmatch_build", "The running cancelmatch version.",
             registry=reg).info({"version": VERSION})
        self.events = Counter("cancelmatch_events", "Events published, by environment.",
                              ["env"], registry=reg)
        self.registrations = Counter("cancelmatch_runs_registered",
                                     "Runs registered (new registrations only), by environment.",
                                     ["env"], registry=reg)
        self.decisions = Counter("cancelmatch_decisions", "Cancel decisions made, by cause.",
                                 ["env", "cause"], registry=reg)
        self.match_latency = Histogram("cancelmatch_match_latency_seconds",
                                       "Index match time per published event.",
                                       buckets=MATCH_BUCKETS, registry=reg)
        self.store_commit = Histogram("cancelmatch_store_commit_seconds",
                                      "Time to commit one store write.",
                                      buckets=CALL_BUCKETS, registry=reg)
        self._calls(reg)
        self._engine = _EngineCollector(reg)

    def _calls(self, reg: CollectorRegistry) -> None:
        self.grpc_requests = Counter("cancelmatch_grpc_requests",
                                     "gRPC calls handled, by method and status code.",
                                     ["method", "code"], registry=reg)
        self.grpc_latency = Histogram("cancelmatch_grpc_request_duration_seconds",
                                      "Time to handle a unary gRPC call, by method.",
                                      ["method"], buckets=CALL_BUCKETS, registry=reg)
        self.http_requests = Counter("cancelmatch_http_requests",
                                     "HTTP requests answered, by method, route and status.",
                                     ["method", "route", "status"], registry=reg)
        self.http_latency = Histogram("cancelmatch_http_request_duration_seconds",
                                      "Time to answer an HTTP request, by method and route.",
                                      ["method", "route"], buckets=CALL_BUCKETS, registry=reg)

    # The engine-facing API (the contract): the engine and the stores call only these.

    def events_published(self, env: str, n: int) -> None:
        self.events.labels(env).inc(n)

    def runs_registered(self, env: str, n: int) -> None:
        self.registrations.labels(env).inc(n)

    def decision_made(self, env: str, cause: str) -> None:
        self.decisions.labels(env, cause).inc()

    def observe_match(self, seconds: float) -> None:
        self.match_latency.observe(seconds)

    def observe_store_commit(self, seconds: float) -> None:
        self.store_commit.observe(seconds)

    def bind_engine(self, stats: Callable[[], EngineStats]) -> None:
        """Where the scrape-time gauges (pending listeners, unacknowledged decisions,
        watchers, late window) come from; ``stats`` must be cheap (O(environments))."""
        self._engine.stats = stats

    # Transport-facing additions (the interceptors and the HTTP layer call these).

    def grpc_call(self, method: str, code: str, seconds: float | None) -> None:
        """One finished gRPC call; ``seconds`` is None for streams (their lifetime is not a
        latency)."""
        self.grpc_requests.labels(method, code).inc()
        if seconds is not None:
            self.grpc_latency.labels(method).observe(seconds)

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in HTTP_METHODS else "OTHER"
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)

    def bind_http_connections(self, count: Callable[[], int]) -> None:
        """Where ``cancelmatch_http_connections`` (open HTTP connections) is read from."""
        self._engine.http_connections = count

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition for an ``Accept`` header: (body, content type). Plain text
        format 0.0.4 unless the scraper asks for OpenMetrics or text 1.0.0."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


class _EngineCollector(Collector):
    """Gauges read from the engine's stats (and the HTTP server) at scrape time."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.stats: Callable[[], EngineStats] = EngineStats
        self.http_connections: Callable[[], int] = lambda: 0
        registry.register(self)

    def collect(self) -> Iterator[Metric]:
        stats = self.stats()
        for name, help_text, per_env in (
                ("pending_listeners", "Listeners waiting for an event, by environment.",
                 stats.pending_listeners),
                ("unacked_decisions", "Decisions not yet acknowledged (the backlog runners "
                 "still have to act on), by environment.", stats.unacked_decisions),
                ("watchers", "Connected WatchDecisions streams, by environment.",
                 stats.watchers)):
            family = GaugeMetricFamily(f"cancelmatch_{name}", help_text, labels=["env"])
            for env, value in sorted(per_env.items()):
                family.add_metric([env], value)
            yield family
        yield GaugeMetricFamily("cancelmatch_late_window_events",
                                "Recent events kept to test late listeners against.",
                                value=stats.late_window_events)
        yield GaugeMetricFamily("cancelmatch_late_window_bytes",
                                "Approximate memory held by the late-listener window.",
                                value=stats.late_window_bytes)
        yield GaugeMetricFamily("cancelmatch_http_connections", "Open HTTP connections.",
                                value=self.http_connections())
        entries = GaugeMetricFamily("cancelmatch_matcher_cache_entries",
                                    "Entries in each process-wide cache of the CEL compiler "
                                    "and index (compiled code, shapes, plans, regexes, zones, "
                                    "names).", labels=["cache"])
        bounds = GaugeMetricFamily("cancelmatch_matcher_cache_limit",
                                   "The bound of each of those caches (oldest entries are "
                                   "evicted past it).", labels=["cache"])
        for cache, (n, bound) in matcher.cache_sizes().items():
            entries.add_metric([cache], n)
            bounds.add_metric([cache], bound)
        yield entries
        yield bounds
