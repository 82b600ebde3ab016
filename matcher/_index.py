"""Index: pending cancel listeners, matched against incoming events in sublinear time.

Listeners are grouped in buckets by (environment, event name). Each DNF clause of a
listener is filed under one access atom (see ``_access``); matching an event extracts
each path that some listener of the bucket uses, once, looks the candidates up in the
tables, then applies the guards and the clause verifier to the candidates only.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator, Sequence
from typing import Any

from . import _ast as A
from ._access import Access, describe
from ._caches import put_bounded, register
from ._index_filing import access_holds, fill
from ._index_strings import ContainsTable, SizeTable, SuffixTable
from ._index_tables import (
    MISSING,
    PrefixTable,
    PresenceTable,
    RangeTable,
    extract,
    key_of,
    slot_add,
    slot_extend,
    slot_remove,
)
from ._interpolate import Rule, bind_values, split_rule
from ._listener import (
    SUFFIXES,
    AddResult,
    ClauseEntry,
    Listener,
    Match,
    MultiListener,
    derived_key,
)
from ._parser import parse
from ._plans import PLANS, Plan, _conjunction, residual_text
from ._unparse import unparse

_EXPIRY_SLOT_MS = 60_000
_TABLES: dict[str, Any] = {"prefix": PrefixTable, "suffix": SuffixTable,
                           "contains": ContainsTable, "range": RangeTable, "size": SizeTable,
                           "has": PresenceTable}


class _Bucket:
    """The tables of one (environment, event name): hash tables by path (``eq`` and
    ``in`` share them), every other table by (kind, path), and the always-evaluated set."""

    __slots__ = ("key", "eq", "tables", "scan", "count")

    def __init__(self, key: tuple[str, str]) -> None:
        self.key = key
        self.eq: dict[tuple[str, ...], dict[Any, Any]] = {}
        self.tables: dict[tuple[str, tuple[str, ...]], Any] = {}
        self.scan: dict[Any, None] = {}
        self.count = 0

    def file(self, e: Any, access: Access, operand: Any) -> None:
        kind, path = access.kind, access.path
        if kind == "eq":
            slot_add(self.eq.setdefault(path, {}), operand, e)
        elif kind == "in":
            table = self.eq.setdefault(path, {})
            for k in operand:
                slot_add(table, k, e)
        elif kind == "scan":
            self.scan[e] = None
        else:
            other = self.tables.get((kind, path))
            if other is None:
                other = self.tables[(kind, path)] = _TABLES[kind]()
            other.add(operand, e)
        self.count += 1

    def unfile(self, e: Any, access: Access, operand: Any) -> None:
        kind, path = access.kind, access.path
        if kind in ("eq", "in"):
            table = self.eq[path]
            for k in ((operand,) if kind == "eq" else operand):
                slot_remove(table, k, e)
            if not table:
                del self.eq[path]
        elif kind == "scan":
            del self.scan[e]
        else:
            other = self.tables[(kind, path)]
            other.remove(operand, e)
            if not len(other):
                del self.tables[(kind, path)]
        self.count -= 1

    def candidates(self, event: Any) -> list[Any]:
        out: list[Any] = []
        for path, table in self.eq.items():
            v = extract(event, path)
            if v is MISSING:
                continue
            e = table.get(v if type(v) is str else key_of(v))
            if e is not None:
                slot_extend(e, out)
        for (_, path), other in self.tables.items():
            v = extract(event, path)
            if v is not MISSING:
                other.candidates(v, out)
        out.extend(self.scan)
        return out


class ListenerIndex:
    """Pending cancel listeners, indexed for sublinear matching. Not thread-safe.

    Complexity of ``match``: O(P + k) for P distinct indexed paths in the event's bucket
    and k candidate clauses — independent of the number of pending listeners, except for
    the listeners whose rules have no indexable atom (the always-evaluated set).
    """

    def __init__(self) -> None:
        # Listeners named f"{run_id}/{n}" (every listener of the service) are found through
        # their run in _by_run, saving the id string and a dict entry each (~100 bytes of
        # ~430); any other id is kept in _by_id as well.
        self._by_id: dict[str, Listener] = {}
        self._by_run: dict[str, Any] = {}
        self._count = 0
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._expiry: dict[int, dict[Listener, None]] = {}
        self._expiry_heap: list[int] = []
        self._rules: dict[str, Rule] = {}

    MAX_RULES = 65536
    """Distinct rule texts kept parsed. A deployment has a few per function."""

    def __len__(self) -> int:
        return self._count

    def __contains__(self, listener_id: object) -> bool:
        return type(listener_id) is str and self._find(listener_id) is not None

    def __iter__(self) -> Iterator[str]:
        """Every listener id, run by run (runs in the order their first listener came)."""
        return iter([x.id for runs in list(self._by_run.values()) for x in _of_run(runs)])

    def _find(self, listener_id: str) -> Listener | None:
        listener = self._by_id.get(listener_id)
        if listener is not None:
            return listener
        run_id = listener_id.rpartition("/")[0]
        runs = self._by_run.get(run_id) if run_id else None
        if runs is None:
            return None
        key = derived_key(listener_id, run_id)
        if key is None:
            return None
        for found in _of_run(runs):
            if found.key == key and type(found.key) is int:
                return found
        return None

    def _rule(self, expression: str) -> Rule:
        rule = self._rules.get(expression)
        if rule is None:
            tree = parse(expression) if expression.strip() else A.Literal(True)
            from ._checker import check_rule

            check_rule(tree, expression, frozenset({"event", "async"}))
            rule = split_rule(expression, tree)
            put_bounded(self._rules, expression, rule, self.MAX_RULES)
        return rule

    def add(self, listener_id: str, *, event: str, expression: str, trigger: dict[str, Any],
            run_id: str, env: str = "default", expires_at: int | None = None,
            run_started_at: int | None = None) -> AddResult:
        """Register a listener. Raises CompileError for a bad expression.

        Complexity: O(h + c) for h event holes and c clauses when the rule text was seen
        before (no parsing); the first listener of a rule text parses and compiles it.
        """
        if not (type(listener_id) is str and type(event) is str and type(expression) is str
                and type(trigger) is dict and type(run_id) is str and type(env) is str
                and listener_id and event and run_id and env
                and (expires_at is None or type(expires_at) is int)
                and (run_started_at is None or type(run_started_at) is int)):
            _check_args(listener_id, event, expression, trigger, run_id, env, expires_at,
                        run_started_at)
        if self._find(listener_id) is not None:
            return AddResult(listener_id, "duplicate")
        key = derived_key(listener_id, run_id)
        rule = self._rules.get(expression) or self._rule(expression)
        values = rule.evaluate_holes(trigger)
        plan = PLANS.plan_for(rule, values)
        clauses = plan.clauses
        listener: Listener
        if len(clauses) == 1:
            listener = Listener(listener_id if key is None else key, run_id, trigger.get("id"),
                                None, plan, values, expires_at, run_started_at)
            filed = fill(listener, clauses[0], rule.text, values)
            if filed is None:
                return AddResult(listener_id, "never_fires", _never_reason(rule, values), plan, values)
            placed: list[tuple[Any, Any]] = [(listener, filed)]
        else:
            multi = listener = MultiListener(listener_id if key is None else key, run_id,
                                             trigger.get("id"), None, plan, values, expires_at,
                                             run_started_at)
            placed = []
            for i, cp in enumerate(clauses):
                entry = ClauseEntry(listener, i)
                filed = fill(entry, cp, rule.text, values)
                if filed is not None:
                    placed.append((entry, filed))
            if not placed:
                return AddResult(listener_id, "never_fires", _never_reason(rule, values), plan, values)
            multi.clauses = tuple(e for e, _ in placed)
        self._store(listener, _intern(env), _intern(event), placed)
        return AddResult(listener_id, "stored", None, plan, values, listener)

    def _store(self, listener: Listener, env: str, event: str,
               placed: list[tuple[Any, tuple[Access, Any]]]) -> None:
        if type(listener.key) is str:
            self._by_id[listener.key] = listener
        self._count += 1
        prev = self._by_run.get(listener.run_id)
        if prev is None:
            self._by_run[listener.run_id] = listener
        elif type(prev) is list:
            prev.append(listener)
        else:
            self._by_run[listener.run_id] = [prev, listener]
        bucket = self._buckets.get((env, event))
        if bucket is None:
            bucket = self._buckets[(env, event)] = _Bucket((env, event))
        listener.bucket = bucket
        for entry, (access, operand) in placed:
            bucket.file(entry, access, operand)
        if listener.expires_at is not None:
            slot = listener.expires_at // _EXPIRY_SLOT_MS
            group = self._expiry.get(slot)
            if group is None:
                group = self._expiry[slot] = {}
                heapq.heappush(self._expiry_heap, slot)
            group[listener] = None

    def remove(self, listener_id: str) -> bool:
        """Remove one listener. Complexity: O(c) for its c clauses (ranges: O(log n + n))."""
        listener = self._find(listener_id) if type(listener_id) is str else None
        if listener is None:
            return False
        self._remove(listener)
        return True

    def _remove(self, listener: Listener) -> None:
        if type(listener.key) is str:
            del self._by_id[listener.key]
        self._count -= 1
        runs = self._by_run.get(listener.run_id)
        if type(runs) is list:
            runs.remove(listener)
            if len(runs) == 1:
                self._by_run[listener.run_id] = runs[0]
        else:
            del self._by_run[listener.run_id]
        bucket = listener.bucket
        for e in listener.entries():
            access, operand, _ = listener.filed(e)
            bucket.unfile(e, access, operand)
        if not bucket.count:
            del self._buckets[bucket.key]
        if listener.expires_at is not None:
            slot = listener.expires_at // _EXPIRY_SLOT_MS
            group = self._expiry.get(slot)
            if group is not None:
                group.pop(listener, None)
                if not group:
                    del self._expiry[slot]  # its heap entry is skipped when popped

    def remove_run(self, run_id: str) -> int:
        """Remove every listener of a run; returns how many there were."""
        runs = self._by_run.get(run_id)
        if runs is None:
            return 0
        listeners = list(_of_run(runs))  # a copy: _remove edits the run's list
        for x in listeners:
            self._remove(x)
        return len(listeners)

    def listeners_of_run(self, run_id: str) -> list[str]:
        runs = self._by_run.get(run_id)
        if runs is None:
            return []
        return [x.id for x in _of_run(runs)]

    def match(self, event: dict[str, Any], env: str = "default") -> list[Match]:
        """Runs the event cancels, one Match per run, in registration order.

        Complexity: O(P + k); see the class docstring.
        """
        if type(event) is not dict:
            raise TypeError(f"event must be a dict, not {type(event).__name__}")
        bucket = self._buckets.get((env, event.get("name")))  # type: ignore[arg-type]
        if bucket is None:
            return []
        return _verify(event, bucket.candidates(event), self._by_run)

    def test(self, listener_id: str, event: dict[str, Any], env: str | None = None) -> bool:
        """Would ``event`` fire this listener (same guards as match)? For late listeners."""
        listener = self._find(listener_id)
        if listener is None or event.get("name") != listener.event:
            return False
        if env is not None and env != listener.env:
            return False
        ok = [e for e in listener.entries() if access_holds(*listener.filed(e)[:2], event)]
        return bool(_verify(event, ok, self._by_run))

    def probes(self, listener_id: str) -> list[tuple[tuple[str, ...], tuple[Any, ...]]] | None:
        """For a listener filed only by hash: ``[(path below async, keys), ...]``, one per
        clause. An event can fire the listener only if ``event_key(event, path)`` is one of
        the keys for some clause. None when some clause is not a hash lookup (or the
        listener does not exist): then no such shortcut exists.
        """
        listener = self._find(listener_id)
        if listener is None:
            return None
        out = []
        for e in listener.entries():
            access, operand, _ = listener.filed(e)
            if access.kind == "eq":
                out.append((access.path, (operand,)))
            elif access.kind == "in":
                out.append((access.path, tuple(operand)))
            else:
                return None
        return out

    @staticmethod
    def event_key(event: dict[str, Any], path: tuple[str, ...]) -> Any:
        """The hash key ``event`` has at ``path`` (as ``probes`` spells keys), or None."""
        v = extract(event, path)
        return None if v is MISSING else key_of(v)

    def sweep_expired(self, now_ms: int) -> list[str]:
        """Remove listeners whose expiry is before ``now_ms``; return their ids.

        Complexity: O(e log s) for e expired listeners and s expiry slots.
        """
        removed: list[str] = []
        heap = self._expiry_heap
        while heap and heap[0] * _EXPIRY_SLOT_MS <= now_ms:
            slot = heap[0]
            group = self._expiry.get(slot, {})
            for listener in list(group):
                if listener.expires_at is not None and listener.expires_at < now_ms:
                    self._remove(listener)
                    removed.append(listener.id)
            if slot in self._expiry:  # some not yet expired: look again later
                break
            heapq.heappop(heap)
        return removed

    def explain(self, listener_id: str) -> dict[str, Any]:
        """The listener's residual, DNF clauses and how each is filed for this listener
        (a clause that can never hold for its trigger is not filed at all)."""
        listener = self._find(listener_id)
        if listener is None:
            raise KeyError(f"no listener with id {listener_id!r}")
        values = listener.hole_values()
        out = explain_plan(listener.plan.rule, listener.plan, values)
        out.update(listener_id=listener.id, run_id=listener.run_id, env=listener.env,
                   event=listener.event, expires_at=listener.expires_at,
                   run_started_at=listener.started_at)
        filed = {getattr(e, "index", 0): e for e in listener.entries()}
        for i, clause in enumerate(out["clauses"]):
            e = filed.get(i)
            if e is None:
                clause["access"] = "not filed: this clause can never hold for this trigger"
                continue
            access, _, whole = listener.filed(e)
            clause["access"] = describe(access, values)
            if whole:
                clause["verify"] = clause["clause"]
        return out

    def _check(self) -> None:
        """Verify the index invariants (tests call this after mutations)."""
        total = 0
        for lid, listener in self._by_id.items():
            assert listener.key == lid and type(listener.key) is str
        everyone = [x for r in self._by_run.values() for x in _of_run(r)]
        assert len(everyone) == len({id(x) for x in everyone}) == self._count
        assert len({x.id for x in everyone}) == self._count  # ids are unique
        for listener in everyone:
            assert self._find(listener.id) is listener, listener.id
            assert (type(listener.key) is str) == (listener.id in self._by_id)
            assert self._buckets[listener.bucket.key] is listener.bucket
            assert len(listener.entries()) >= 1
            total += len(listener.entries())
        assert sum(b.count for b in self._buckets.values()) == total
        for key, b in self._buckets.items():
            assert b.count > 0 and b.key == key, key
            assert all(t for t in b.eq.values()) and all(len(t) for t in b.tables.values())
            filed = sum(len(t) for t in b.tables.values()) + len(b.scan)
            assert filed <= b.count
            for table in b.tables.values():
                getattr(table, "_check", lambda: None)()
        for slot, group in self._expiry.items():
            assert group and slot in self._expiry_heap
            for listener in group:
                assert self._find(listener.id) is listener


def _of_run(runs: Any) -> Sequence[Listener]:
    """The listeners of one ``_by_run`` entry: a lone listener is kept bare, several in a
    list (most runs have one cancel rule; the bare form saves a list per run)."""
    return runs if type(runs) is list else (runs,)


_INTERNED: dict[str, str] = {}
_MAX_INTERNED = 100_000
register("names", lambda: len(_INTERNED), lambda: _MAX_INTERNED)


def _intern(name: str) -> str:
    """One string object per environment / event name, however many listeners use it."""
    return _INTERNED.setdefault(name, name) if len(_INTERNED) < _MAX_INTERNED else name


def _verify(event: dict[str, Any], candidates: list[Any], by_run: dict[str, Any]) -> list[Match]:
    """Guards and verifiers on the candidates; one Match per run.

    When several listeners of one run match, the one registered first wins (the order
    of the run's listeners in ``by_run``). A lone candidate, the common case, needs no
    per-run bookkeeping (and so never touches its run id's memory).
    """
    ts = event.get("ts")
    if ts is None:
        ts = int(time.time() * 1000)
    eid = event.get("id")
    act = {"async": event}
    if len(candidates) == 1:
        c = candidates[0]
        lone = c.listener
        if not _fires(c, lone, ts, eid, act):
            return []
        key = lone.key  # the id property, inlined: this is the hot path
        return [Match(key if type(key) is str else lone.run_id + SUFFIXES[key], lone.run_id)]
    best: dict[str, Listener] = {}
    for c in candidates:
        listener = c.listener
        if not _fires(c, listener, ts, eid, act):
            continue
        prev = best.get(listener.run_id)
        if prev is None:
            best[listener.run_id] = listener
        elif prev is not listener:
            runs = by_run[listener.run_id]
            if runs.index(listener) < runs.index(prev):
                best[listener.run_id] = listener
    return [Match(x.id, x.run_id) for x in best.values()]


def _fires(c: Any, listener: Listener, ts: Any, eid: Any, act: dict[str, Any]) -> bool:
    """The guards (expiry, run start, own trigger) and the clause verifier of one entry."""
    if listener.expires_at is not None and ts > listener.expires_at:
        return False
    if listener.started_at is not None and ts < listener.started_at:
        return False
    if eid is not None and eid == listener.trigger_id:
        return False
    if c.verify is not None:
        try:
            return c.verify(act) is True
        except Exception:  # a CEL error: no match for this listener only
            return False
    return True


def _never_reason(rule: Rule, values: Sequence[Any]) -> str:
    errors = [f"{unparse(h)}: {v.message}" for h, v in zip(rule.holes, values, strict=True)
              if type(v) is A.ErrorValue]
    if errors:
        return ("the rule can never match: it cannot be evaluated on the trigger event ("
                + "; ".join(errors) + ")")
    return "the rule can never match: after substituting the trigger event it is always false"


def explain_plan(rule: Rule, plan: Plan, values: Sequence[Any] | None) -> dict[str, Any]:
    """residual / clauses / access of a plan, as JSON-ready data."""
    shown = values if values is not None else [_HoleText(unparse(h)) for h in rule.holes]
    clauses = []
    for cp in plan.clauses:
        tree = _conjunction(cp.clause, display=True) if not plan.capped else cp.verify_tree
        clauses.append({
            "clause": "true" if tree is None else unparse(bind_values(tree, shown)),
            "access": describe(cp.access, shown),
            "verify": None if cp.verify_tree is None else unparse(bind_values(cp.verify_tree, shown)),
        })
    return {
        "expression": rule.text,
        "residual": residual_text(plan, shown),
        "clauses": clauses,
        "always_evaluated": any(c.access.kind == "scan" for c in plan.clauses),
        "never_fires": not plan.clauses,
    }


class _HoleText:
    """Stands for an unknown trigger value in explain output: unparses as its source."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _check_args(listener_id: Any, event: Any, expression: Any, trigger: Any, run_id: Any,
                env: Any, expires_at: Any, started: Any) -> None:
    for name, v in (("listener_id", listener_id), ("event", event), ("run_id", run_id),
                    ("env", env)):
        if type(v) is not str or not v:
            raise TypeError(f"{name} must be a non-empty str, not {v!r}")
    if type(expression) is not str:
        raise TypeError(f"expression must be a str, not {type(expression).__name__}")
    if type(trigger) is not dict:
        raise TypeError(f"trigger must be a dict (the trigger event), not {type(trigger).__name__}")
    for name, v in (("expires_at", expires_at), ("run_started_at", started)):
        if v is not None and type(v) is not int:
            raise TypeError(f"{name} must be epoch milliseconds (int) or None, not {v!r}")
