"""Workloads: the seeded listener populations and event streams of the scaling study.

Each workload is a family of cancel listeners as a runner would register them (a rule text
shared by every run of a function, a trigger event per run) plus a stream of incoming events
that cancel a known share of them. Besides the CEL text, every listener carries ``atoms``: the
predicates the counting design would index (see ``counting_matcher``, an ablation written
by us, not inngest/expr) and ``slow`` for parts it cannot index. The atoms are written here by
hand from the rule text, for that ablation only; our index derives everything from the CEL text.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

ENV = "prod"
EVENT_TS = 1_700_000_060_000
TRIGGER_TS = 1_700_000_000_000
HIT_RATE = 0.9
"""Share of events built to cancel one pending run; the rest cancel nothing."""

# Inngest's `match: "data.reminderId"` (what matcher.cancel_expression produces for it).
MATCH_REMINDER = "event.data.reminderId == async.data.reminderId"

Atom = tuple[tuple[str, ...], str, Any]
"""(path inside the incoming event, operator, literal) — e.g. (("data", "amount"), ">", 5)."""


class ListenerSpec(NamedTuple):
    """One pending cancel listener, as passed to ``ListenerIndex.add`` (a named tuple: the
    report builds millions of them)."""

    listener_id: str
    run_id: str
    event: str
    expression: str
    trigger: dict[str, Any]
    atoms: tuple[Atom, ...] = ()
    slow: bool = False

    def add_to(self, index: Any) -> Any:
        return index.add(
            self.listener_id,
            event=self.event,
            expression=self.expression,
            trigger=self.trigger,
            run_id=self.run_id,
            env=ENV,
            expires_at=None,
            run_started_at=TRIGGER_TS,
        )


@dataclass(frozen=True)
class Workload:
    """A listener family: ``listener(i)`` builds the i-th listener, ``event(rng, n, k)`` the
    k-th incoming event while n listeners are pending."""

    name: str
    title: str
    event_name: str
    listener: Callable[[int], ListenerSpec]
    event: Callable[[random.Random, int, int], dict[str, Any]]

    def listeners(self, start: int, stop: int) -> list[ListenerSpec]:
        return [self.listener(i) for i in range(start, stop)]

    def events(self, seed: int, n_pending: int, count: int) -> list[dict[str, Any]]:
        rng = random.Random(seed * 1_000_003 + n_pending)
        return [self.event(rng, n_pending, k) for k in range(count)]


def _trigger(i: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"name": "app/run.started", "id": f"trg-{i:08d}", "ts": TRIGGER_TS, "data": data}


def _event(name: str, k: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "id": f"evt-{k:08d}", "ts": EVENT_TS, "data": data}


def _target(rng: random.Random, n: int) -> int | None:
    return rng.randrange(n) if rng.random() < HIT_RATE else None


def _rem(i: int | None, k: int) -> str:
    return f"rem_{i:08d}" if i is not None else f"rem_none_{k}"


def _spec(
    name: str,
    i: int,
    expression: str,
    data: dict[str, Any],
    atoms: tuple[Atom, ...],
    slow: bool = False,
) -> ListenerSpec:
    # Ids as the service names them (run id / rule index): the index keeps them as numbers.
    run_id = f"run-{i:08d}"
    return ListenerSpec(f"{run_id}/0", run_id, name, expression, _trigger(i, data), atoms, slow)


def _equality() -> Workload:
    name = "tasks/reminder.deleted"

    def listener(i: int) -> ListenerSpec:
        rid = _rem(i, 0)
        return _spec(
            name, i, MATCH_REMINDER, {"reminderId": rid}, ((("data", "reminderId"), "==", rid),)
        )

    def event(rng: random.Random, n: int, k: int) -> dict[str, Any]:
        return _event(name, k, {"reminderId": _rem(_target(rng, n), k), "userId": "user_123"})

    return Workload("equality", "pure equality (match: data.reminderId)", name, listener, event)


def _eq_and(key: str, title: str, condition: str, atom: Atom, extra: dict[str, Any]) -> Workload:
    name = "tasks/reminder.deleted"
    expression = f"{MATCH_REMINDER} && ({condition})"

    def listener(i: int) -> ListenerSpec:
        rid = _rem(i, 0)
        return _spec(
            name, i, expression, {"reminderId": rid}, ((("data", "reminderId"), "==", rid), atom)
        )

    def event(rng: random.Random, n: int, k: int) -> dict[str, Any]:
        return _event(name, k, {"reminderId": _rem(_target(rng, n), k), **extra})

    return Workload(key, title, name, listener, event)


def _in_list() -> Workload:
    name = "docs/share.revoked"
    expression = "async.data.userId in [event.data.ownerId, event.data.assigneeId]"

    def listener(i: int) -> ListenerSpec:
        owner, assignee = f"own_{i:08d}", f"asg_{i:08d}"
        return _spec(
            name,
            i,
            expression,
            {"ownerId": owner, "assigneeId": assignee},
            ((("data", "userId"), "in", (owner, assignee)),),
        )

    def event(rng: random.Random, n: int, k: int) -> dict[str, Any]:
        t = _target(rng, n)
        user = f"{rng.choice(('own', 'asg'))}_{t:08d}" if t is not None else f"nobody_{k}"
        return _event(name, k, {"userId": user})

    return Workload("in_list", "in-list (userId in [owner, assignee])", name, listener, event)


def _prefix() -> Workload:
    name = "files/folder.deleted"
    expression = "async.data.path.startsWith(event.data.folder)"

    def listener(i: int) -> ListenerSpec:
        # The counting design indexes no string function: it evaluates these every time.
        return _spec(name, i, expression, {"folder": f"/org/{i}/"}, (), slow=True)

    def event(rng: random.Random, n: int, k: int) -> dict[str, Any]:
        t = _target(rng, n)
        path = f"/org/{t}/reports/q3.pdf" if t is not None else f"/elsewhere/{k}.txt"
        return _event(name, k, {"path": path})

    return Workload("prefix", "prefix (path.startsWith(folder))", name, listener, event)


SLOW_EVERY = 100
"""One listener in SLOW_EVERY has a rule no index can serve (1 % always evaluated)."""


def _mixed() -> Workload:
    name = "tasks/reminder.deleted"
    slow_expression = "async.data.title.contains(event.data.keyword)"

    def listener(i: int) -> ListenerSpec:
        rid = _rem(i, 0)
        if i % SLOW_EVERY == SLOW_EVERY - 1:
            return _spec(
                name, i, slow_expression, {"reminderId": rid, "keyword": f"kw_{i}!"}, (), slow=True
            )
        return _spec(
            name, i, MATCH_REMINDER, {"reminderId": rid}, ((("data", "reminderId"), "==", rid),)
        )

    def event(rng: random.Random, n: int, k: int) -> dict[str, Any]:
        t = _target(rng, n)
        title = "weekly"
        if n >= SLOW_EVERY and rng.random() < 0.5:
            title = f"weekly kw_{rng.randrange(n // SLOW_EVERY) * SLOW_EVERY + SLOW_EVERY - 1}! sum"
        return _event(name, k, {"reminderId": _rem(t, k), "title": title})

    return Workload("mixed", "equality + 1 % contains rules", name, listener, event)


def all_workloads() -> list[Workload]:
    """The six scaling workloads of issue 3, in report order."""
    return [
        _equality(),
        _eq_and(
            "eq_range",
            "equality + satisfied range (amount > 5)",
            "async.data.amount > 5",
            (("data", "amount"), ">", 5),
            {"amount": 100},
        ),
        _eq_and(
            "eq_ne",
            "equality + != (status != 'archived')",
            "async.data.status != 'archived'",
            (("data", "status"), "!=", "archived"),
            {"status": "active"},
        ),
        _in_list(),
        _prefix(),
        _mixed(),
    ]
