"""Stores through the interface: atomic steps, exactly-once cancel, decisions, cancellations,
change logs. Parity tests run once per store; a few check one backend's own promises."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis_support

from server._model import Cancellation, CancelOrder, Event, Rule
from server._window import RecentEvents
from server.config import Config
from server.store import ListenerRow, NewRun, SQLiteStore, Store, open_store
from server.store._redis_keys import ENVS, prefix

T = 1_700_000_000_000


def _open(target: str, **config: Any) -> Store:
    if target.startswith("redis"):
        return open_store(Config(store=target, **config))
    return SQLiteStore(target, "NORMAL", RecentEvents(30_000, 100))


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    s = _open(store_target)
    yield s
    s.close()


def _run(run_id: str, fp: str = "fp", fn: str = "fn", started: int = 10,
         events: tuple[str, ...] = ("x/deleted",)) -> NewRun:
    listeners = tuple(ListenerRow(i, e, "event.data.a == async.data.a", T + 1000)
                      for i, e in enumerate(events))
    return NewRun(run_id, "app", fn, started, Event("t", "x/created", 1, '{"a": 10000000000000000001}'),
                  (Rule("x/deleted", "data.a"),), fp, listeners)


def _rid(i: int) -> str:
    return f"01HF7YAS0RZGWDK799KMZW{i:04d}"


def test_register_conflict_writes_nothing(store: Store) -> None:
    assert store.register("prod", [_run(_rid(1))], T, {}).conflict is None
    out = store.register("prod", [_run(_rid(2)), _run(_rid(1), fp="other")], T, {})
    assert out.conflict == 1
    assert store.get_run("prod", _rid(2)) is None
    again = store.register("prod", [_run(_rid(1)), _run(_rid(3)), _run(_rid(3))], T, {})
    assert [None if e is None else e.status for e in again.existing] == [
        "pending", None, "pending"]
    assert store.register("prod", [_run(_rid(4)), _run(_rid(4), fp="x")], T, {}).conflict == 1


def test_cancel_is_exactly_once_under_races(store_target: str) -> None:
    """Four clients cancel the same 50 runs at once: 50 decisions, one per run."""
    stores = [_open(store_target) for _ in range(4)]
    runs = [_run(_rid(i)) for i in range(50)]
    stores[0].register("prod", runs, T, {})
    got: list[list[str]] = [[] for _ in stores]
    orders = [CancelOrder(r.run_id, "event", 0, "ev", "x/deleted") for r in runs]

    def race(k: int) -> None:
        for i in range(0, 50, 5):
            got[k] += [c.decision.run_id
                       for c in stores[k].cancel("prod", orders[i:i + 5], T).decided]

    threads = [threading.Thread(target=race, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    decided = [r for g in got for r in g]
    assert sorted(decided) == sorted(r.run_id for r in runs)
    assert len(stores[0].unacked_decisions("prod")) == 50
    for s in stores:
        s.close()


def test_cancel_removes_listeners_and_reports_buckets(store: Store) -> None:
    store.register("prod", [_run(_rid(1), events=("x/deleted", "x/updated", "x/deleted"))], T, {})
    assert store.pending_listener_count() == 3
    (c,) = store.cancel("prod", [CancelOrder(_rid(1), "event", 2, "ev", "x/deleted")], T).decided
    assert sorted(c.buckets) == ["x/deleted", "x/updated"]
    assert store.listeners_of_run("prod", _rid(1)) == []
    assert store.pending_listener_count() == 0
    assert store.cancel("prod", [CancelOrder(_rid(1), "event")], T).decided == []
    assert c.decision.function_cancelled_event["data"]["event"]["data"] == {
        "a": 10000000000000000001}  # the trigger's integers stay exact


def test_decisions_page_ack_and_env_scope(store: Store) -> None:
    store.register("prod", [_run(_rid(i)) for i in range(3)], T, {})
    store.register("staging", [_run(_rid(9))], T, {})
    decided = store.cancel("prod", [CancelOrder(_rid(i), "event") for i in range(3)], T).decided
    store.cancel("staging", [CancelOrder(_rid(9), "bulk", cancellation_id="c")], T)
    page, head = store.unacked_after("prod", 0, 2)
    assert [d.run_id for _, d in page] == [_rid(0), _rid(1)]
    rest, _ = store.unacked_after("prod", page[-1][0], 2)
    assert [d.run_id for _, d in rest] == [_rid(2)]
    assert head >= rest[0][0]
    ids = [c.decision.decision_id for c in decided]
    assert store.ack("staging", ids, T) == 0
    assert store.ack("prod", ids[1:2], T) == 1 and store.ack("prod", ids[1:2], T) == 0
    assert [d.run_id for d in store.unacked_decisions("prod")] == [_rid(0), _rid(2)]
    assert store.unacked_decisions("prod")[0] == decided[0].decision
    assert store.stats(["prod", "staging"]).unacked_decisions == {"prod": 2, "staging": 1}


def test_wait_decisions_wakes_on_a_decision_of_another_client(store_target: str) -> None:
    """On Redis the decision comes from another client (another replica)."""
    a = _open(store_target)
    b = _open(store_target) if store_target.startswith("redis") else a
    a.register("prod", [_run(_rid(1))], T, {})
    _, head = b.unacked_after("prod", 0, 10)
    woke = threading.Event()

    def wait() -> None:
        b.wait_decisions("prod", head, 30)
        woke.set()

    t = threading.Thread(target=wait)
    t.start()
    a.cancel("prod", [CancelOrder(_rid(1), "event")], T)
    assert woke.wait(30)  # a liveness bound: the wait is not the 30 s timeout
    t.join(30)
    page, _ = b.unacked_after("prod", head, 10)
    assert [d.run_id for _, d in page] == [_rid(1)]
    a.close()
    b.close()
    # (SQLite: one process owns the file, so the waiter and the decider share the store)


def test_finish_keeps_cancelled_runs(store: Store) -> None:
    store.register("prod", [_run(_rid(1)), _run(_rid(2))], T, {})
    def finish(run_id: str) -> tuple[bool, int, tuple[str, ...]]:
        done = store.finish("prod", run_id, T)
        return done.found, done.removed, done.buckets

    assert finish(_rid(1)) == (True, 1, ("x/deleted",))
    assert finish(_rid(1)) == (True, 0, ())
    store.cancel("prod", [CancelOrder(_rid(2), "event")], T)
    assert finish(_rid(2)) == (True, 0, ())
    assert finish(_rid(3)) == (False, 0, ())
    row = store.get_run("prod", _rid(2))
    assert row is not None and row["status"] == "cancelled"


def test_pending_runs_of_function_by_window(store: Store) -> None:
    store.register("prod", [_run(_rid(i), fn=fn, started=10 + i)
                            for i, fn in enumerate(["fn", "fn", "other", "fn"])], T, {})
    store.finish("prod", _rid(3), T)

    def runs(after: int | None, before: int) -> list[str]:
        return [r[0] for chunk in store.pending_runs_of_function("prod", "app", "fn", after,
                                                                 before) for r in chunk.runs]

    assert runs(None, 100) == [_rid(0), _rid(1)]
    assert runs(11, 11) == [_rid(1)]
    assert runs(12, 100) == [] and runs(None, -5) == []


def test_cancellations_round_trip(store: Store) -> None:
    c = Cancellation("01HF7YAS0RZGWDK799KMZWGVF5", "prod", "app", "fn", None, 5, "", 6)
    assert not store.add_cancellation(c)  # the function is not known yet
    store.register("prod", [_run(_rid(1))], T, {})
    assert store.add_cancellation(c)
    store.set_runs_cancelled("prod", c.id, 2)
    stored = Cancellation(c.id, "prod", "app", "fn", None, 5, "", 6, 2)
    assert store.cancellations("prod") == [stored] and store.cancellations("staging") == []
    out = store.register("prod", [_run(_rid(2))], T, {})
    assert [x.id for x in out.cancellations[("app", "fn")]] == [c.id]
    assert store.delete_cancellation("prod", c.id) == stored
    assert store.delete_cancellation("prod", c.id) is None
    assert store.register("prod", [_run(_rid(3))], T, {}).cancellations == {("app", "fn"): []}


def test_functions_round_trip(store: Store) -> None:
    rules = (Rule("x/deleted", "data.a", "async.data.b > 1", "1h"),)
    store.upsert_functions("prod", "app", [("fn", rules), ("g", ())], T)
    assert store.function_rules("prod", "app", "fn") == rules
    assert store.function_rules("prod", "app", "g") == ()
    assert store.function_rules("prod", "ap", "pfn") is None  # (app, fn) keys do not blur
    assert store.function_known("prod", "app", "g") and not store.function_known("prod", "ap", "pfn")


def test_sqlite_wal_and_synchronous_modes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", "FULL")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()
    with pytest.raises(ValueError, match="FULL or NORMAL"):
        SQLiteStore(tmp_path / "t.db", "OFF")


# ---------------------------------------------------------------------- Redis only

@pytest.fixture(params=["redis", "cluster"])
def redis_target(request: pytest.FixtureRequest) -> str:
    server = redis_support.shared(request.param)
    server.flush()
    return str(server.url)


def test_every_key_of_an_environment_is_in_one_slot(redis_target: str) -> None:
    store = _open(redis_target)
    store.register("prod", [_run(_rid(i), events=("a", "b")) for i in range(5)], T, {"a": 0})
    from server.store import RecentEvent
    store.sync("prod", [RecentEvent({"name": "a", "id": "e", "ts": 1, "data": {}}, "{}")], T,
               {"a": None})
    store.cancel("prod", [CancelOrder(_rid(0), "event")], T)
    store.finish("prod", _rid(1), T)
    store.add_cancellation(Cancellation("01HF7YAS0RZGWDK799KMZWGVF5", "prod", "app", "fn",
                                        None, 5, "", 6))
    client = redis_support.shared("cluster" if "cluster" in redis_target else "redis")
    nodes = client.nodes if hasattr(client, "nodes") else [client]
    keys: list[bytes] = []
    for node in nodes:
        c = node.client()
        keys += list(c.scan_iter(count=1000))
        c.close()
    env_keys = [k.decode() for k in keys if k.decode() != ENVS]
    assert len(env_keys) > 10 and all(k.startswith(prefix("prod")) for k in env_keys)
    store.close()


def test_a_replica_behind_a_trimmed_log_reloads(redis_target: str) -> None:
    """The change log keeps about max(256, bucket size) entries: a replica whose cursor
    fell off it gets "reload", and the reload gives the exact bucket."""
    a, b = _open(redis_target), _open(redis_target)
    a.register("prod", [_run(_rid(0))], T, {})
    (changes,) = b.sync("prod", [], T, {"x/deleted": None}).values()
    assert changes is None  # never loaded and not empty: load it
    cursor, chunks = b.load_bucket("prod", "x/deleted")
    assert [r.run_id for chunk in chunks for r in chunk] == [_rid(0)]
    for i in range(1, 400):  # churn: 800 log entries, the bucket stays at 1-2 runs
        a.register("prod", [_run(_rid(i))], T, {})
        a.finish("prod", _rid(i), T)
    assert b.sync("prod", [], T, {"x/deleted": cursor})["x/deleted"] is None
    cursor, chunks = b.load_bucket("prod", "x/deleted")
    assert [r.run_id for chunk in chunks for r in chunk] == [_rid(0)]
    a.register("prod", [_run(_rid(500))], T, {})
    after = b.sync("prod", [], T, {"x/deleted": cursor})["x/deleted"]
    assert after is not None and [r.run_id for r in after.added] == [_rid(500)]
    a.close()
    b.close()


def test_an_emptied_bucket_resets_replicas(redis_target: str) -> None:
    """When a bucket empties its log goes: a replica is told to drop what it holds, and a
    log made later (a new epoch) is never mistaken for the old one."""
    a, b = _open(redis_target), _open(redis_target)
    a.register("prod", [_run(_rid(0))], T, {})
    cursor, chunks = b.load_bucket("prod", "x/deleted")
    assert sum(len(c) for c in chunks) == 1
    a.cancel("prod", [CancelOrder(_rid(0), "event")], T)
    reset = b.sync("prod", [], T, {"x/deleted": cursor})["x/deleted"]
    assert reset is not None and reset.reset and not reset.added
    a.register("prod", [_run(_rid(1))], T, {})
    assert b.sync("prod", [], T, {"x/deleted": cursor})["x/deleted"] is None
    a.close()
    b.close()


def test_redis_window_is_bounded_per_name_by_age_and_per_environment(redis_target: str) -> None:
    from server.store import RecentEvent
    store = _open(redis_target, late_window_max_events=5, late_window_total_events=20,
                  late_window_ms=1000)

    def publish(name: str, now: int) -> None:
        store.sync("prod", [RecentEvent({"name": name, "id": "e", "ts": now, "data": {}},
                                        '{"k": 1}')], now, {})

    for i in range(30):
        publish("one", T + i)
    assert store.stats(["prod"]).late_window_events == 5
    for i in range(40):
        publish(f"name{i}", T + 100 + i)
    stats = store.stats(["prod"])
    assert stats.late_window_events <= 20 and stats.late_window_bytes > 0
    publish("late", T + 5000)  # every other name is older than the window: all go
    assert store.stats(["prod"]).late_window_events == 1
    store.close()


def test_unreachable_redis_fails_fast_and_recovers(tmp_path: Path) -> None:
    from server.errors import Unavailable

    server = redis_support.RedisServer(tmp_path / "r").start()
    store = _open(server.url)
    store.register("prod", [_run(_rid(1))], T, {})
    server.stop()
    with pytest.raises(Unavailable, match=r"^the store is unavailable: Redis at redis://"):
        store.register("prod", [_run(_rid(2))], T, {})
    server.start()  # empty again (no persistence): a fresh Redis on the same port
    assert store.register("prod", [_run(_rid(2))], T, {}).conflict is None
    assert store.get_run("prod", _rid(2)) is not None
    store.close()
    server.stop()


def test_an_unreachable_redis_is_named_without_its_password() -> None:
    from server.errors import Unavailable

    url = f"redis://admin:s3cret@127.0.0.1:{redis_support.free_port()}/0"
    store = _open(url)
    with pytest.raises(Unavailable) as err:
        store.get_run("prod", _rid(1))
    assert "s3cret" not in err.value.message
    assert "Redis at redis://admin:***@127.0.0.1:" in err.value.message
    store.close()


def test_write_steps_report_their_log_moves(redis_target: str) -> None:
    """A replica whose cursor is where a step of its own found the log may skip that
    step's entries; a step after someone else's write reports its own start."""
    a, b = _open(redis_target), _open(redis_target)
    first = a.register("prod", [_run(_rid(0))], T, {})
    assert first.moves["x/deleted"][0] == ""  # the log is new: nothing to skip safely
    cursor, chunks = a.load_bucket("prod", "x/deleted")
    list(chunks)
    second = a.register("prod", [_run(_rid(1))], T, {})
    before, after = second.moves["x/deleted"]
    assert before == cursor and after > cursor
    b.register("prod", [_run(_rid(2))], T, {})  # someone else writes
    third = a.cancel("prod", [CancelOrder(_rid(1), "event")], T)
    assert third.moves["x/deleted"][0] != after
    finish = a.finish("prod", _rid(0), T)
    assert finish.moves["x/deleted"][0] == third.moves["x/deleted"][1]
    a.close()
    b.close()


def test_redis_window_is_held_to_the_global_caps_by_the_sweep(redis_target: str) -> None:
    """Each environment may hold up to the caps between sweeps; a sweep holds them all
    together to the caps (each to its proportional share)."""
    from server.store import RecentEvent
    store = _open(redis_target, late_window_total_events=30, late_window_ms=60_000)
    for env in ("a", "b", "c"):
        store.register(env, [], T, {})  # the sweep walks known environments
        for i in range(25):
            store.sync(env, [RecentEvent({"name": f"n{i}", "id": "e", "ts": T, "data": {}},
                                         "{}")], T + i, {})
    assert store.stats(["a", "b", "c"]).late_window_events == 75
    store.sweep(T + 30, 0)
    assert store.stats(["a", "b", "c"]).late_window_events <= 30
    store.close()
