"""Stateful property test: for all interleavings of register / publish / finish / ack /
restart, on any replica, every run is cancelled at most once, only by an event it listens
for, never after it finished, and every unacknowledged decision survives restarts.

Runs once per store. On Redis there are two replicas (two engines on one Redis), and each
step picks one: read-your-writes across replicas is part of the property."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import redis_support
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from server_support import Clock, deleted, make_engine, run_request

from server.engine import Engine

REMINDERS = st.sampled_from(["a", "b", "c", "d"])
ENVS = st.sampled_from(["prod", "staging"])
REPLICA = st.integers(0, 1)


class EngineMachine(RuleBasedStateMachine):
    KIND = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="cm-stateful-"))
        self.clock = Clock()
        if self.KIND == "sqlite":
            self.target = str(self.dir / "db.sqlite3")
        else:
            server = redis_support.shared(self.KIND)
            server.flush()
            self.target = server.url
        replicas = 1 if self.KIND == "sqlite" else 2  # one process owns a SQLite file
        self.engines = [make_engine(self.target, self.clock) for _ in range(replicas)]
        # run id -> (env, reminder, state) where state is pending / finished / cancelled
        self.runs: dict[str, tuple[str, str, str]] = {}
        self.unacked: dict[str, str] = {}  # decision id -> env
        self.decided: set[str] = set()  # run ids with a decision

    def on(self, replica: int) -> Engine:
        return self.engines[replica % len(self.engines)]

    @rule(env=ENVS, reminder=REMINDERS, replica=REPLICA)
    def register(self, env: str, reminder: str, replica: int) -> None:
        self.clock.now += 1
        req = run_request(reminder, env=env, started_at=self.clock.now - 1)
        res = self.on(replica).register_run(req)
        # A late listener may cancel it at once (a recent event with this reminder id).
        state = "cancelled" if res.status == "cancelled" else "pending"
        if res.decision is not None:
            self._decided(res.decision.run_id, res.decision.decision_id, env)
        self.runs[req.run_id] = (env, reminder, state)

    @rule(env=ENVS, reminders=st.lists(REMINDERS, min_size=1, max_size=3), replica=REPLICA)
    def publish(self, env: str, reminders: list[str], replica: int) -> None:
        self.clock.now += 1
        events = [deleted(r, ts=self.clock.now) for r in reminders]
        _, decisions = self.on(replica).publish_events(env, events)
        expected = {rid for rid, (e, rem, state) in self.runs.items()
                    if e == env and state == "pending" and rem in reminders}
        assert {d.run_id for d in decisions} == expected
        for d in decisions:
            assert d.env == env
            self._decided(d.run_id, d.decision_id, env)
            e, rem, _ = self.runs[d.run_id]
            self.runs[d.run_id] = (e, rem, "cancelled")

    def _decided(self, run_id: str, decision_id: str, env: str) -> None:
        assert run_id not in self.decided, "a run was cancelled twice"
        self.decided.add(run_id)
        self.unacked[decision_id] = env

    @precondition(lambda self: self.runs)
    @rule(data=st.data(), replica=REPLICA)
    def finish(self, data: st.DataObject, replica: int) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.runs)))
        env, rem, state = self.runs[run_id]
        assert self.on(replica).finish_run(env, run_id)[0]
        if state == "pending":
            self.runs[run_id] = (env, rem, "finished")

    @precondition(lambda self: self.unacked)
    @rule(data=st.data(), replica=REPLICA)
    def ack(self, data: st.DataObject, replica: int) -> None:
        ids = data.draw(st.lists(st.sampled_from(sorted(self.unacked)), unique=True))
        by_env: dict[str, list[str]] = {}
        for i in ids:
            by_env.setdefault(self.unacked[i], []).append(i)
        for env, env_ids in by_env.items():
            assert self.on(replica).ack_decisions(env, env_ids) == len(env_ids)
            for i in env_ids:
                del self.unacked[i]

    @rule(replica=REPLICA)
    def restart(self, replica: int) -> None:
        k = replica % len(self.engines)
        self.engines[k].close()
        self.engines[k] = make_engine(self.target, self.clock)
        # The SQLite late window is memory only; jump past it so the model stays exact.
        self.clock.now += self.engines[k].config.late_window_ms + 1

    @invariant()
    def unacked_decisions_match(self) -> None:
        for env in ("prod", "staging"):
            for eng in self.engines:
                stored = {d.decision_id for d in eng.store.unacked_decisions(env)}
                assert stored == {i for i, e in self.unacked.items() if e == env}

    @invariant()
    def store_holds_exactly_the_pending_listeners(self) -> None:
        pending = sum(state == "pending" for _, _, state in self.runs.values())
        assert self.engines[0].store.pending_listener_count() == pending

    def teardown(self) -> None:
        for eng in self.engines:
            eng.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _machine(kind: str) -> type[EngineMachine]:
    machine = type(f"EngineMachine_{kind}", (EngineMachine,), {"KIND": kind})
    machine.TestCase.settings = settings(max_examples=25, stateful_step_count=30,
                                         deadline=None)
    return machine


TestEngineStatefulSQLite = _machine("sqlite").TestCase
TestEngineStatefulRedis = _machine("redis").TestCase
TestEngineStatefulCluster = _machine("cluster").TestCase
