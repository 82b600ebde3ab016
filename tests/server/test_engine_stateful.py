"""Stateful property test: for all interleavings of register / publish / finish / ack /
restart, every run is cancelled at most once, only by an event it listens for, never after
it finished, and every unacknowledged decision survives restarts."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from server_support import Clock, deleted, make_engine, run_request

REMINDERS = st.sampled_from(["a", "b", "c", "d"])
ENVS = st.sampled_from(["prod", "staging"])


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="cm-stateful-"))
        self.clock = Clock()
        self.engine = make_engine(self.dir / "db.sqlite3", self.clock)
        # run id -> (env, reminder, state) where state is pending / finished / cancelled
        self.runs: dict[str, tuple[str, str, str]] = {}
        self.unacked: dict[str, str] = {}  # decision id -> env
        self.decided: set[str] = set()  # run ids with a decision

    @rule(env=ENVS, reminder=REMINDERS)
    def register(self, env: str, reminder: str) -> None:
        self.clock.now += 1
        req = run_request(reminder, env=env, started_at=self.clock.now - 1)
        res = self.engine.register_run(req)
        # A late listener may cancel it at once (a recent event with this reminder id).
        state = "cancelled" if res.status == "cancelled" else "pending"
        if res.decision is not None:
            self._decided(res.decision.run_id, res.decision.decision_id, env)
        self.runs[req.run_id] = (env, reminder, state)

    @rule(env=ENVS, reminders=st.lists(REMINDERS, min_size=1, max_size=3))
    def publish(self, env: str, reminders: list[str]) -> None:
        self.clock.now += 1
        events = [deleted(r, ts=self.clock.now) for r in reminders]
        _, decisions = self.engine.publish_events(env, events)
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
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.runs)))
        env, rem, state = self.runs[run_id]
        assert self.engine.finish_run(env, run_id)[0]
        if state == "pending":
            self.runs[run_id] = (env, rem, "finished")

    @precondition(lambda self: self.unacked)
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        ids = data.draw(st.lists(st.sampled_from(sorted(self.unacked)), unique=True))
        by_env: dict[str, list[str]] = {}
        for i in ids:
            by_env.setdefault(self.unacked[i], []).append(i)
        for env, env_ids in by_env.items():
            assert self.engine.ack_decisions(env, env_ids) == len(env_ids)
            for i in env_ids:
                del self.unacked[i]

    @rule()
    def restart(self) -> None:
        self.engine.close()
        self.engine = make_engine(self.dir / "db.sqlite3", self.clock)
        # The late-listener window is memory only; jump past it so the model stays exact.
        self.clock.now += self.engine.config.late_window_ms + 1

    @invariant()
    def unacked_decisions_match(self) -> None:
        for env in ("prod", "staging"):
            stored = {d.decision_id for d in self.engine.store.unacked_decisions(env)}
            assert stored == {i for i, e in self.unacked.items() if e == env}

    @invariant()
    def index_holds_exactly_the_pending_runs(self) -> None:
        pending = sum(state == "pending" for _, _, state in self.runs.values())
        assert len(self.engine.index) == pending

    def teardown(self) -> None:
        self.engine.close()
        shutil.rmtree(self.dir, ignore_errors=True)


EngineMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=30,
                                           deadline=None)
TestEngineStateful = EngineMachine.TestCase
