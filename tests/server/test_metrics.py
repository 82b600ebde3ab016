"""Metrics: prometheus_client registry per Service, labels, scrape-time gauges, docs."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server._stats import EngineStats
from server._ulid import new_ulid
from server.client import Client
from server.config import Config
from server.grpc_server import Service, build_server
from server.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = [{"event": "tasks/reminder.deleted", "match": "data.reminderId"}]



def scrape(svc: Service, accept: str | None = None) -> tuple[str, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{svc.http_port}/metrics",
                                 headers={"accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.headers["content-type"], resp.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _register(c: Client, reminder: str) -> str:
    now = time.time_ns() // 1_000_000
    run_id = new_ulid(now - 1000)
    c.register_run(run_id=run_id, app_id="acme", function_id="remind", started_at=now - 1000,
                   cancel_on=RULES, trigger={"name": "tasks/reminder.created", "id": new_ulid(),
                                             "data": {"reminderId": reminder}})
    return run_id


def test_calls_routes_and_domain_counters_carry_their_labels(service: Service) -> None:
    with Client(service.target, env="prod") as c:
        for reminder in ("a", "b", "c"):
            _register(c, reminder)
        c.publish([{"name": "tasks/reminder.deleted", "data": {"reminderId": "a"}},
                   {"name": "tasks/reminder.deleted", "data": {"reminderId": "zzz"}}])
        with pytest.raises(grpc.RpcError):
            c.finish_run("not-a-ulid")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{service.http_port}/v1/no/such", timeout=30)
    missing.value.close()
    content_type, text = scrape(service)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    got = samples(text)
    runner = "cancelmatch.v1.Runner"
    expected = {
        ("cancelmatch_events_total", (("env", "prod"),)): 2,
        ("cancelmatch_runs_registered_total", (("env", "prod"),)): 3,
        ("cancelmatch_decisions_total", (("cause", "event"), ("env", "prod"))): 1,
        ("cancelmatch_pending_listeners", (("env", "prod"),)): 2,
        ("cancelmatch_grpc_requests_total", (("code", "OK"), ("method",
                                                             f"{runner}/RegisterRun"))): 3,
        ("cancelmatch_grpc_requests_total", (("code", "INVALID_ARGUMENT"),
                                             ("method", f"{runner}/FinishRun"))): 1,
        ("cancelmatch_grpc_request_duration_seconds_count",
         (("method", f"{runner}/PublishEvents"),)): 1,
        ("cancelmatch_http_requests_total", (("method", "GET"), ("route", "<unmatched>"),
                                             ("status", "404"))): 1,
        ("cancelmatch_match_latency_seconds_count", ()): 2,
    }
    for key, value in expected.items():
        assert got.get(key) == value, (key, got.get(key))
    assert got[("cancelmatch_build_info", (("version", _version()),))] == 1
    names = {name for name, _ in got}
    assert {"process_resident_memory_bytes", "python_info", "python_gc_objects_collected_total",
            "cancelmatch_store_commit_seconds_count", "cancelmatch_late_window_events",
            "cancelmatch_late_window_bytes", "cancelmatch_http_connections"} <= names


def _version() -> str:
    from server._version import VERSION
    return VERSION


def test_rest_routes_are_labelled_by_template_and_the_scrape_itself_counts(
        service: Service) -> None:
    for _ in range(2):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{service.http_port}/v1/cancellations/{new_ulid()}",
                method="DELETE"), timeout=30)
        err.value.close()
    scrape(service)
    got = samples(scrape(service)[1])
    key = ("cancelmatch_http_requests_total", (("method", "DELETE"),
                                               ("route", "/v1/cancellations/{id}"),
                                               ("status", "404")))
    assert got[key] == 2  # two different ids, one series
    assert got[("cancelmatch_http_requests_total", (("method", "GET"), ("route", "/metrics"),
                                                    ("status", "200")))] == 1


def test_openmetrics_is_negotiated(service: Service) -> None:
    content_type, text = scrape(service, "application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert text.endswith("# EOF\n")


def test_each_service_has_its_own_registry(tmp_path: Path, service: Service) -> None:
    other = build_server(Config(data_dir=tmp_path / "other", grpc_port=0, http_port=0,
                                grace_s=1))
    try:
        with Client(other.target, env="prod") as c:
            _register(c, "x")
        assert ("cancelmatch_runs_registered_total", (("env", "prod"),)) in samples(
            scrape(other)[1])
        assert ("cancelmatch_runs_registered_total", (("env", "prod"),)) not in samples(
            scrape(service)[1])
    finally:
        other.stop()


def test_engine_stats_become_per_environment_gauges() -> None:
    m = Metrics()
    m.bind_engine(lambda: EngineStats(pending_listeners={"prod": 5, "dev": 1},
                                      unacked_decisions={"prod": 7}, watchers={"prod": 2},
                                      late_window_events=11, late_window_bytes=4096))
    got = samples(m.render()[0].decode())
    assert got[("cancelmatch_unacked_decisions", (("env", "prod"),))] == 7
    assert got[("cancelmatch_pending_listeners", (("env", "dev"),))] == 1
    assert got[("cancelmatch_watchers", (("env", "prod"),))] == 2
    assert got[("cancelmatch_late_window_events", ())] == 11
    assert got[("cancelmatch_late_window_bytes", ())] == 4096


def test_hostile_labels_are_bounded() -> None:
    m = Metrics()
    for i in range(50):
        m.http_request(f"X{i}", "<unmatched>", 405, 0.001)
    got = samples(m.render()[0].decode())
    methods = {dict(labels)["method"] for name, labels in got
               if name == "cancelmatch_http_requests_total"}
    assert methods == {"OTHER"}


def _documented() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Metrics"):]
    section = section[:section.index("\n## ", 1) if "\n## " in section else None]
    return set(re.findall(r"^\| `([a-z_*]+)(?:\{[^`]*\})?` \|", section, re.MULTILINE))


def test_every_registered_metric_is_documented_in_the_readme() -> None:
    documented = _documented()
    assert len(documented) >= 18
    families = {f.name: f.type for f in Metrics().registry.collect()}
    # prometheus_client names a counter's family without the `_total` its samples carry.
    suffix = {"counter": "_total", "info": "_info"}
    exposed = {name + suffix.get(kind, "") for name, kind in families.items()}
    wildcards = tuple(d[:-1] for d in documented if d.endswith("*"))
    missing = {n for n in exposed if n not in documented and not n.startswith(wildcards)}
    assert not missing, f"metrics missing from the README's Metrics table: {sorted(missing)}"
    stale = {d for d in documented if not d.endswith("*")} - exposed
    assert not stale, f"documented but not registered: {sorted(stale)}"
    assert all(any(n.startswith(w) for n in exposed) for w in wildcards)


def test_matcher_caches_are_exported_with_their_bounds(service: Service) -> None:
    """A flood of distinct regex patterns shows in the regex cache gauge, never past its
    bound; every process-wide cache of the matcher is there with its limit."""
    import matcher
    from matcher import _functions

    program = matcher.compile("s.matches(p)", variables={"s", "p"})
    for i in range(_functions._REGEX_CACHE_SIZE + 50):
        assert program.evaluate({"s": f"x{i}", "p": f"^x{i}$"}) is True
    got = samples(scrape(service)[1])
    caches = {"code", "shapes", "plans", "regex", "zones", "names"}
    for cache in caches:
        n = got[("cancelmatch_matcher_cache_entries", (("cache", cache),))]
        bound = got[("cancelmatch_matcher_cache_limit", (("cache", cache),))]
        assert 0 <= n <= bound, (cache, n, bound)
    assert got[("cancelmatch_matcher_cache_entries", (("cache", "regex"),))] == \
        got[("cancelmatch_matcher_cache_limit", (("cache", "regex"),))] == 512
