"""Registration: checking a run request, then the two steps that register a batch.

Step (a) is one store step: insert the new runs and their listeners (a run id already
stored answers its row instead), then read the late window and the functions' bulk
cancellations. Step (b), for every run of the batch still pending afterwards — new, or
already stored by an earlier attempt that crashed before its own step (b) — runs the
bulk check, else the late-listener check, and ends in the cancel step.

Before (a) the listeners are added to this replica's cache ("staged"): that is how the
index tells a listener that can never fire (not stored) from one that can, and the late
check tests listeners in the cache. If (a) fails, or finds the run already stored, the
staged adds are taken back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import matcher

from . import _validate as check
from ._bulk import covering
from ._cache import TenantCache
from ._model import CancelOrder, Decision, Event, ListenerInfo, RegisterResult, Rule, RunRequest
from ._ulid import derived_ulid
from .config import Config
from .errors import Conflict, InvalidExpression
from .store import ExistingRun, ListenerRow, NewRun, Registered, Store

T = TypeVar("T")


@dataclass
class CheckedRun:
    """A validated request: normalised ids, decoded trigger, compiled rules."""

    req: RunRequest
    prefix: str
    trigger: dict[str, Any]
    specs: list[tuple[Rule, str, list[str]]]  # (rule, combined expression, warnings)
    fingerprint: str


@dataclass
class _Staged:
    """One run's listeners as added to the cache before step (a)."""

    infos: list[ListenerInfo] = field(default_factory=list)
    fresh: list[tuple[str, str]] = field(default_factory=list)  # (bucket, listener id)
    new: NewRun | None = None


class Core(Protocol):
    """What registration needs from the engine."""

    config: Config
    store: Store
    clock: Callable[[], int]

    def tenant(self, env: str) -> TenantCache: ...

    def guard(self) -> None: ...

    def step(self, fn: Callable[..., T], *args: Any) -> T: ...

    def cancel_in(self, tenant: TenantCache, orders: list[CancelOrder],
                  now: int) -> list[Decision]: ...


class Registration:
    """Checks and registers runs for the engine (see the module docstring)."""

    LATE_SKEW_MS = 5_000
    """Clock skew tolerated between a runner's run start times and our receive times when
    picking late-listener candidates: larger finds more, smaller scans fewer events."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def check(self, req: RunRequest, p: str) -> CheckedRun:
        config = self.core.config
        env = check.env_name(req.env, f"{p}env")
        run_id = check.ulid(req.run_id, f"{p}run_id")
        check.required(req.app_id, f"{p}app_id")
        check.required(req.function_id, f"{p}function_id")
        check.epoch_ms(req.started_at, f"{p}run_started_at", required=True)
        t = req.trigger
        check.event_fields(t, f"{p}trigger.")
        data = check.event_data(t.data_json, f"{p}trigger.data", config)
        # A trigger sent without an id gets a ULID derived from the run id, so that a
        # retried registration (on any replica) stores and forwards the same id.
        trigger = Event(t.id or derived_ulid(req.started_at, run_id), t.name,
                        t.ts or req.started_at, t.data_json or "{}")
        fingerprint = check.fingerprint(req.app_id, req.function_id, str(req.started_at),
                                        t.id, t.name, trigger.data_json, repr(req.rules))
        rules = tuple(req.rules)
        where = f"{p}cancel_on"
        if not rules:  # the run names a synced function instead of repeating its rules
            rules = self.core.store.function_rules(env, req.app_id, req.function_id) or ()
            where = f"{p}function {req.function_id!r} cancel_on"
        compiled = check.rules(rules, where, config)
        req = RunRequest(env, req.app_id, req.function_id, run_id, req.started_at, trigger, rules)
        specs = [(r, e, w) for r, (e, w) in zip(rules, compiled, strict=True)]
        return CheckedRun(req, p, check.event_dict(trigger, data), specs, fingerprint)

    def register(self, env: str, checked: list[CheckedRun]) -> list[RegisterResult]:
        """Steps (a) and (b) for runs of one environment, under its lock."""
        core = self.core
        tenant = core.tenant(env)
        names = {rule.event for c in checked for rule, _, _ in c.specs}
        with tenant.lock:
            core.guard()
            now = core.clock()
            tenant.warm(names, now)
            empty = {n for n in names if not tenant.listeners(n)}
            staged: list[_Staged] = []
            try:
                for c in checked:
                    staged.append(_Staged())
                    self._stage(tenant, c, staged[-1])
                out = core.step(core.store.register, env, [s.new for s in staged], now,
                                self._window(checked, staged))
            except BaseException:
                _unstage(tenant, staged)
                raise
            if out.conflict is not None:
                _unstage(tenant, staged)
                c = checked[out.conflict]
                raise Conflict(f"{c.prefix}run_id: run {c.req.run_id} is already registered "
                               "with a different function, start time, trigger or rules")
            _unstage(tenant, [s for s, ex in zip(staged, out.existing, strict=True)
                              if ex is not None])
            tenant.fast_forward(out.moves, empty)
            return self._decide(tenant, checked, staged, out, now)

    def _stage(self, tenant: TenantCache, c: CheckedRun, s: _Staged) -> None:
        r = c.req
        rows = []
        for i, (rule, expression, _) in enumerate(c.specs):
            expires = check.expiry(rule.timeout, r.started_at, self.core.config,
                                   f"{c.prefix}cancel_on[{i}].timeout")
            lid = f"{r.run_id}/{i}"
            never = check.expired_reason(expires, r.started_at, self.core.clock())
            if never is not None:  # an expired timeout can never fire: not stored
                s.infos.append(ListenerInfo(lid, i, rule.event, "never_fires", never, "",
                                            expires))
                continue
            try:
                res = tenant.add(rule.event, lid, expression=expression, trigger=c.trigger,
                                 run_id=r.run_id, expires_at=expires,
                                 run_started_at=r.started_at)
            except matcher.CompileError as exc:
                raise InvalidExpression(f"{c.prefix}cancel_on[{i}]", exc) from None
            if res.status == "stored":
                s.fresh.append((rule.event, lid))
            status = "never_fires" if res.status == "never_fires" else "stored"
            # The residual's text is left out: rendering it costs more than the whole
            # registration. Explain shows it.
            s.infos.append(ListenerInfo(lid, i, rule.event, status, res.reason or "", "",
                                        expires))
            if status == "stored":
                rows.append(ListenerRow(i, rule.event, expression, expires))
        s.new = NewRun(r.run_id, r.app_id, r.function_id, r.started_at, r.trigger, r.rules,
                       c.fingerprint, tuple(rows))

    def _window(self, checked: list[CheckedRun], staged: list[_Staged]) -> dict[str, int]:
        """Per event name, the earliest receive time a late check of this batch reads."""
        since: dict[str, int] = {}
        for c, s in zip(checked, staged, strict=True):
            start = c.req.started_at - self.LATE_SKEW_MS
            for info in s.infos:
                since[info.event] = min(since.get(info.event, start), start)
        return since

    def _decide(self, tenant: TenantCache, checked: list[CheckedRun], staged: list[_Staged],
                out: Registered, now: int) -> list[RegisterResult]:
        """Step (b): bulk check, else late check, for every run still pending."""
        pending: list[tuple[int, list[tuple[int, str]]]] = []
        repair: set[str] = set()
        for k, (s, ex) in enumerate(zip(staged, out.existing, strict=True)):
            if ex is None:
                pending.append((k, [(li.rule_index, li.event) for li in s.infos
                                    if li.status == "stored"]))
            elif ex.status == "pending":  # stored by an earlier attempt: repair its (b)
                pending.append((k, [(li.rule_index, li.event) for li in ex.listeners]))
                repair.update(li.event for li in ex.listeners)
        if repair:
            tenant.catch_up(repair, now)
        orders: dict[int, CancelOrder] = {}
        for k, listeners in pending:
            c, r = checked[k], checked[k].req
            bulk = covering(out.cancellations.get((r.app_id, r.function_id), []),
                            r.started_at, c.trigger)
            if bulk is not None:
                orders[k] = CancelOrder(r.run_id, "bulk", cancellation_id=bulk.id)
                continue
            late = self._late_match(tenant, c, listeners, now)
            if late is not None:
                i, event = late
                orders[k] = CancelOrder(r.run_id, "event", i, event["id"], event["name"])
        decided = {d.run_id: d for d in self.core.cancel_in(tenant, list(orders.values()), now)}
        return [_result(c, s, ex, decided.get(c.req.run_id))
                for c, s, ex in zip(checked, staged, out.existing, strict=True)]

    def _late_match(self, tenant: TenantCache, c: CheckedRun, listeners: list[tuple[int, str]],
                    now: int) -> tuple[int, dict[str, Any]] | None:
        """The earliest-arrived recent event that one of the run's listeners matches.

        Only events we received since shortly before the run started can be newer than
        it; LATE_SKEW_MS allows for the runner's clock being ahead of ours.
        """
        best: tuple[int, int, dict[str, Any]] | None = None
        r = c.req
        since = r.started_at - self.LATE_SKEW_MS
        for i, name in listeners:
            lid = f"{r.run_id}/{i}"
            recent = self.core.store.recent_keyed(r.env, name, now, since,
                                                  tenant.probes(name, lid),
                                                  matcher.ListenerIndex.event_key)
            for _, seq, event in recent:
                if best is not None and seq >= best[0]:
                    break
                if event["ts"] >= r.started_at and tenant.test(name, lid, event):
                    best = (seq, i, event)
                    break
        return None if best is None else (best[1], best[2])


def _unstage(tenant: TenantCache, staged: list[_Staged]) -> None:
    for s in staged:
        for name, lid in s.fresh:
            tenant.remove(name, lid)
        s.fresh.clear()


def _result(c: CheckedRun, s: _Staged, ex: ExistingRun | None,
            d: Decision | None) -> RegisterResult:
    run_id = c.req.run_id
    if ex is None:
        warnings = [w for spec in c.specs for w in spec[2]]
        if d is None:
            return RegisterResult(run_id, "registered", s.infos, warnings)
        listeners = [] if d.cause == "bulk" else s.infos
        return RegisterResult(run_id, "cancelled", listeners, warnings, d)
    if ex.status == "cancelled":
        return RegisterResult(run_id, "cancelled", decision=ex.decision)
    if ex.status == "finished":
        return RegisterResult(run_id, "finished")
    if d is not None:
        return RegisterResult(run_id, "cancelled", decision=d)
    return RegisterResult(run_id, "already_registered", [
        ListenerInfo(f"{run_id}/{li.rule_index}", li.rule_index, li.event, "stored", "",
                     li.expression, li.expires_at) for li in ex.listeners])
