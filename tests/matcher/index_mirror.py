"""Test harness: drives a ListenerIndex and the naive matcher in lockstep and compares them.

``Mirror`` applies every operation to both and asserts that they agree: add statuses,
removal results, matched runs (no false positives, no false negatives, one match per run),
per-listener ``test`` results, and that a listener the index refused as "never fires" never
matches. Failures name the listeners and event involved, so a shrunk hypothesis example
reads as a reproduction.
"""

from __future__ import annotations

from typing import Any

import pytest
from naive_matcher import NaiveListener, NaiveMatcher
from rule_grammar import ENVS

import matcher


def describe(spec: dict[str, Any] | NaiveListener) -> str:
    """A listener as a one-line reproduction."""
    if isinstance(spec, NaiveListener):
        spec = vars(spec)
    keys = ("listener_id", "run_id", "env", "event", "expires_at", "run_started_at")
    head = " ".join(f"{k}={spec[k]!r}" for k in keys)
    return f"{head} expression={spec['expression']!r} trigger={spec['trigger']!r}"


class Mirror:
    """An index and the naive matcher fed the same operations, compared after each."""

    def __init__(self) -> None:
        self.idx = matcher.ListenerIndex()
        self.naive = NaiveMatcher()
        self.never_fires: list[NaiveListener] = []

    def add(self, spec: dict[str, Any]) -> Any:
        was_stored = spec["listener_id"] in self.naive
        res = self.idx.add(**spec)
        assert res.listener_id == spec["listener_id"]
        if was_stored:
            assert res.status == "duplicate", describe(spec)
            assert not res.stored
            return res
        assert res.status in ("stored", "never_fires"), (res, describe(spec))
        assert res.stored is (res.status == "stored")
        if res.stored:
            self.naive.add(**spec)
        else:
            assert res.reason, f"never_fires without a reason: {describe(spec)}"
            self.never_fires.append(NaiveListener(**spec))
        return res

    def add_rules(self, rules: list[tuple[str, dict[str, Any]]]) -> None:
        """One listener per (rule, trigger data), each its own run, all on event "cancel"."""
        for i, (rule, data) in enumerate(rules):
            self.add({"listener_id": f"l{i}", "event": "cancel", "expression": rule,
                      "trigger": {"name": "created", "id": "t", "ts": 0, "data": data},
                      "run_id": f"r{i}", "env": "prod", "expires_at": None,
                      "run_started_at": None})
        self.check_structure()

    def remove(self, listener_id: str) -> None:
        got, want = self.idx.remove(listener_id), self.naive.remove(listener_id)
        assert got is want, f"remove({listener_id!r}) returned {got!r}, expected {want!r}"

    def remove_run(self, run_id: str) -> None:
        got, want = self.idx.remove_run(run_id), self.naive.remove_run(run_id)
        assert got == want, f"remove_run({run_id!r}) returned {got!r}, expected {want!r}"

    def sweep_expired(self, now_ms: int) -> None:
        got = self.idx.sweep_expired(now_ms)
        assert len(got) == len(set(got)), got
        want = self.naive.sweep_expired(now_ms)
        assert set(got) == want, f"sweep_expired({now_ms}) returned {got}, expected {want}"

    def check_structure(self) -> None:
        check = getattr(self.idx, "_check", None)
        if check is not None:
            check()
        assert len(self.idx) == len(self.naive)

    def check_event(self, event: dict[str, Any]) -> bool:
        """Compare one event in every environment; True when some run matched."""
        matched = False
        for env in ENVS:
            expected = self.naive.matching_listeners(event, env)
            got = self.idx.match(event, env=env)
            runs = [m.run_id for m in got]
            assert len(runs) == len(set(runs)), f"a run reported twice: {got}"
            if set(runs) != set(expected):
                pytest.fail(self.mismatch(event, env, set(runs), set(expected)))
            for m in got:
                assert m.listener_id in expected[m.run_id], (m, expected)
            matched = matched or bool(expected)
        for lst in self.naive._listeners:
            if lst.event == event["name"]:
                want = lst.matches(event)
                assert self.idx.test(lst.listener_id, event) is want, (
                    f"idx.test should be {want}: {describe(lst)} event={event!r}"
                )
        for ghost in self.never_fires:
            assert not ghost.matches(event), (
                f"reported never_fires but matches: {describe(ghost)} event={event!r}"
            )
        return matched

    def mismatch(self, event: dict[str, Any], env: str, got: set[str], want: set[str]) -> str:
        lines = [f"env={env!r} event={event!r}",
                 f"false positives: {sorted(got - want)}; false negatives: {sorted(want - got)}"]
        for lst in self.naive._listeners:
            if lst.run_id in got ^ want and lst.env == env:
                lines.append(f"  {describe(lst)} -> naive {lst.matches(event)}")
        return "\n".join(lines)
