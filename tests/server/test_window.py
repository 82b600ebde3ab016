"""Late-listener window: bounded by age and count, scanned only since a receive time."""

from __future__ import annotations

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
