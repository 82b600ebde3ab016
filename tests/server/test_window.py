"""Late-listener window: bounded by age and count, scanned only since a receive time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import matcher
from server._window import RecentEvents


def _ev(i: int, name: str = "e/x") -> dict[str, object]:
    return {"name": name, "id": str(i), "ts": i, "data": {}}


def test_entries_expire_by_age_and_count() -> None:
    w = RecentEvents(window_ms=100, max_events=3)
    for i in range(5):
        w.add("prod", _ev(i), now=1000 + i)
    assert [e[2]["id"] for e in w.recent("prod", "e/x", now=1004)] == ["2", "3", "4"]
    assert [e[2]["id"] for e in w.recent("prod", "e/x", now=1104)] == ["4"]
    assert w.recent("prod", "e/x", now=1200) == [] and len(w) == 0


def test_since_returns_only_newer_arrivals_in_order() -> None:
    w = RecentEvents(window_ms=10_000, max_events=100)
    for i in range(10):
        w.add("prod", _ev(i), now=1000 + 10 * i)
    assert [e[2]["id"] for e in w.recent("prod", "e/x", now=1100, since=1065)] == \
        ["7", "8", "9"]


def test_keys_are_per_env_and_name_and_zero_window_keeps_nothing() -> None:
    w = RecentEvents(window_ms=10_000, max_events=100)
    w.add("prod", _ev(1), now=1)
    assert w.recent("staging", "e/x", now=2) == [] and w.recent("prod", "e/y", now=2) == []
    off = RecentEvents(window_ms=0, max_events=100)
    off.add("prod", _ev(1), now=1)
    assert len(off) == 0


def _key_of(event: dict, path: tuple[str, ...]) -> object:
    return matcher.ListenerIndex.event_key(event, path)


@settings(max_examples=150)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.integers(0, 3)),
                max_size=60),
       st.integers(0, 40), st.sampled_from([("a",), ("a", "b")]))
def test_keyed_lookup_equals_filtering_the_whole_window(
        arrivals: list[tuple[str | None, int]], since: int, keys: tuple[str, ...]) -> None:
    window = RecentEvents(window_ms=10, max_events=8)
    now = 0
    for i, (value, step) in enumerate(arrivals):
        now += step
        data = {} if value is None else {"r": value}
        window.add("prod", {"name": "n", "id": f"e{i}", "data": data}, now)
        if i % 7 == 3:  # ask mid-stream too, so tables are built early and then maintained
            window.recent_keyed("prod", "n", now, since, [(("data", "r"), keys)], _key_of)
    probes = [(("data", "r"), tuple(matcher.ListenerIndex.event_key({"data": {"r": k}},
                                                                     ("data", "r"))
                                    for k in keys))]
    got = window.recent_keyed("prod", "n", now, since, probes, _key_of)
    want = [e for e in window.recent("prod", "n", now, since)
            if e[2]["data"].get("r") in keys]
    assert got == want



def test_names_nobody_appends_to_leave_once_old() -> None:
    """Issue 9 item 4: eviction must not wait for the same name to be appended again."""
    w = RecentEvents(window_ms=100, max_events=10)
    for i in range(50):
        w.add("prod", _ev(i, name=f"n{i}"), now=1000)
    assert len(w) == 50
    w.add("prod", _ev(99, name="fresh"), now=1200)
    assert len(w) == 1 and w.bytes == RecentEvents.NAME_OVERHEAD + w._names[
        ("prod", "fresh")].bytes


def test_global_caps_evict_the_least_recently_appended_names() -> None:
    w = RecentEvents(window_ms=60_000, max_events=10, max_total_events=100,
                     max_total_bytes=1 << 30)
    for i in range(1000):
        w.add("prod", _ev(i, name=f"n{i}"), now=1000 + i)
    assert len(w) == 100
    assert w.recent("prod", "n0", now=2000) == []
    assert [e[2]["id"] for e in w.recent("prod", "n999", now=2000)] == ["999"]
    small = RecentEvents(window_ms=60_000, max_events=10_000, max_total_bytes=50_000)
    for i in range(1000):
        small.add("prod", _ev(i, name=f"n{i % 7}"), now=1000, size=1000)
    assert small.bytes <= 50_000 and 0 < len(small) < 50


@settings(max_examples=100)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]),
                          st.integers(0, 40), st.integers(0, 3000)), max_size=80))
def test_for_all_appends_the_counters_agree_and_the_caps_hold(
        adds: list[tuple[str, int, int]]) -> None:
    w = RecentEvents(window_ms=100, max_events=6, max_total_events=15, max_total_bytes=20_000)
    now = 0
    for i, (name, step, size) in enumerate(adds):
        now += step
        w.add("prod", _ev(i, name=name), now, size)
        assert len(w) <= 15 and w.bytes <= 20_000
        held = [e for key in list(w._names) for e in w.recent(*key, now=now)]
        assert len(held) == len(w)
        assert all(now - e[0] <= 100 for e in held)
