"""Index tests: a state machine interleaving add / remove / remove_run / match / sweep_expired.

After every step the index must agree with the brute-force matcher (``Mirror`` compares
matches, per-listener ``test`` results and removal counts), its ``_check()`` invariants
must hold and ``len(idx)`` must equal the number of stored listeners. Listener ids come from
a small pool so ids are re-added after removal, added twice, and removed when absent.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from index_mirror import Mirror
from rule_grammar import RUN_IDS, TIMES, hypothesis_settings, incoming_event, listener_fields

LISTENER_IDS = [f"l{i}" for i in range(6)] + [
    # the service's form f"{run_id}/{n}" (kept as n), and near misses kept whole
    "r0/0", "r0/1", "r1/0", "r1/00", "r2/256", "r2/257", "r3/x", "r3/", "/0"]


class ListenerIndexMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mirror = Mirror()

    @rule(listener_id=st.sampled_from(LISTENER_IDS), fields=listener_fields())
    def add(self, listener_id: str, fields: dict[str, Any]) -> None:
        self.mirror.add({"listener_id": listener_id, **fields})

    @rule(listener_id=st.sampled_from(LISTENER_IDS))
    def remove(self, listener_id: str) -> None:
        self.mirror.remove(listener_id)

    @rule(run_id=st.sampled_from(RUN_IDS))
    def remove_run(self, run_id: str) -> None:
        self.mirror.remove_run(run_id)

    @rule(event=incoming_event())
    def match(self, event: dict[str, Any]) -> None:
        self.mirror.check_event(event)

    @rule(now_ms=st.sampled_from(TIMES))
    def sweep_expired(self, now_ms: int) -> None:
        self.mirror.sweep_expired(now_ms)

    @invariant()
    def structure_holds(self) -> None:
        self.mirror.check_structure()


ListenerIndexMachine.TestCase.settings = hypothesis_settings(
    max_examples=100, stateful_step_count=40
)
TestListenerIndexMachine = ListenerIndexMachine.TestCase
