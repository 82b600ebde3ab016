"""Store on Redis: turning the interface's values into script arguments and replies back.

The scripts (server/store/lua/) take flat ARGV lists and answer nested arrays; this module
is the only place that knows those shapes, so the store reads as one call per step.
Integers travel as decimal text; JSON texts travel as sent (ints stay exact).
"""

from __future__ import annotations

import json
from typing import Any

from .._decisions import make_decision
from .._model import Cancellation, CancelOrder, Decision, Rule
from ._interface import BucketChanges, BucketRun, ExistingRun, ListenerRow, LogMoves, NewRun
from ._redis_keys import function_key
from ._triggers import decode_trigger

FINGERPRINT_CHARS = 32
"""Hex digits of the registration fingerprint kept (128 bits tell a retry from a reuse of
a run id; the whole digest would push the run hash out of Redis's compact encoding)."""


def run_args(r: NewRun) -> list[Any]:
    """A run as register.lua reads it. Its rules are not stored: the fingerprint covers
    them, and the listeners carry what matching needs."""
    t = r.trigger
    args: list[Any] = [r.run_id, r.app_id, r.function_id, r.started_at, t.id, t.name, t.ts,
                       t.data_json, r.fingerprint[:FINGERPRINT_CHARS], len(r.listeners)]
    for li in r.listeners:
        args += [li.rule_index, li.event, li.expires_at, li.expression]
    return args


def rules_json(rules: tuple[Rule, ...]) -> str:
    return json.dumps([r.to_json() for r in rules])


def listener_value(li: ListenerRow) -> str:
    """The run hash's ``l<i>`` field (lib.lua ``parse_listener`` reads it back)."""
    return f"{li.expires_at}:{len(li.event.encode())}:{li.event}{li.expression}"


def parse_listener(field: str, value: str) -> ListenerRow:
    expires, _, rest = value.partition(":")
    size, _, rest = rest.partition(":")
    n = int(size)
    if rest.isascii():  # the common case: character and byte offsets agree
        return ListenerRow(int(field[1:]), rest[:n], rest[n:], int(expires))
    raw = rest.encode()
    return ListenerRow(int(field[1:]), raw[:n].decode(), raw[n:].decode(), int(expires))


def hash_of(flat: list[Any]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


STATUS = {"p": "pending", "c": "cancelled", "f": "finished"}


def listeners_of(h: dict[str, str]) -> tuple[ListenerRow, ...]:
    rows = [parse_listener(f, v) for f, v in h.items() if f[:1] == "l"]
    return tuple(sorted(rows, key=lambda li: li.rule_index))


def run_row(env: str, run_id: str, h: dict[str, str]) -> dict[str, Any]:
    """A run hash as the SQLite store's row (the column names the engine and tests use)."""
    return {"env": env, "run_id": run_id, "app_id": h["a"], "function_id": h["f"],
            "started_at": int(h["s"]), "trigger_id": h["ti"], "trigger_name": h["tn"],
            "trigger_ts": int(h["tt"]), "trigger_data": h["td"], "fingerprint": h["fp"],
            "status": STATUS[h["st"]], "registered_at": int(h["ra"]),
            "ended_at": int(h["ea"]) if "ea" in h else None}


def stored_decision(env: str, run_id: str, h: dict[str, str]) -> Decision | None:
    """The decision kept in a cancelled run's hash, rebuilt exactly as it was made."""
    if "d" not in h:
        return None
    order = CancelOrder(run_id, h["dc"], int(h["dr"]), h["de"], h["dn"], h["dx"])
    return make_decision(run_row(env, run_id, h), order, decision_id=h["d"],
                         decided_at=int(h["dt"]))


def existing(env: str, run_id: str, flat: list[Any]) -> ExistingRun:
    h = hash_of(flat)
    return ExistingRun(run_id, STATUS[h["st"]], h["fp"], listeners_of(h),
                       stored_decision(env, run_id, h))


def decided(env: str, order: CancelOrder, reply: list[Any], now: int) -> tuple[Decision, int]:
    """cancel.lua's row for one run → its decision and sequence."""
    run_id, did, seq, app, fn, tid, tname, tts, tdata, _ = reply
    row = {"env": env, "run_id": run_id, "app_id": app, "function_id": fn,
           "trigger_id": tid, "trigger_name": tname, "trigger_ts": int(tts),
           "trigger_data": tdata}
    return make_decision(row, order, decision_id=did, decided_at=now), int(seq)


def bucket_runs(name: str, flat: list[Any]) -> list[BucketRun]:
    """lib.lua ``bucket_run``'s flat records → BucketRuns (listeners in rule order)."""
    out, i, n = [], 0, len(flat)
    while i < n:
        run_id, started, tid, tname, tts, tdata, k = flat[i:i + 7]
        values = flat[i + 7:i + 7 + 2 * int(k)]
        i += 7 + 2 * int(k)
        run = _bucket_run(run_id, started, tid, tname, tts, tdata,
                          zip(values[::2], values[1::2], strict=True))
        if run is not None:
            out.append(run)
    return out


def bucket_run_rows(flat: list[Any]) -> list[BucketRun]:
    """A load chunk (load.lua: run id, its rule indices in the bucket, m, then m values
    of st s ti tn tt td l<i>...) → BucketRuns of the runs still pending."""
    out, parse = [], parse_listener
    i, n = 0, len(flat)
    while i < n:
        run_id, rules, m = flat[i], flat[i + 1], int(flat[i + 2])
        h = flat[i + 3:i + 3 + m]
        i += 3 + m
        if h[0] != "p":
            continue
        if m == 7:  # one listener in this bucket: the usual case, kept lean
            listeners: tuple[ListenerRow, ...] = (parse("l" + rules, h[6]),) if h[6] else ()
        else:
            listeners = tuple(sorted(parse("l" + rule, value) for rule, value
                                     in zip(rules.split(","), h[6:], strict=True) if value))
        trigger = decode_trigger(run_id, h[2], h[3], h[4], h[5])
        if trigger is not None:
            out.append(BucketRun(run_id, int(h[1]), trigger, listeners))
    return out


def _bucket_run(run_id: str, started: str, tid: str, tname: str, tts: str, tdata: str,
                listeners: Any) -> BucketRun | None:
    trigger = decode_trigger(run_id, tid, tname, tts, tdata)
    if trigger is None:
        return None
    rows = [parse_listener("l" + rule, value) for rule, value in listeners if value]
    if len(rows) > 1:
        rows.sort()
    return BucketRun(run_id, int(started), trigger, tuple(rows))


def bucket_changes(name: str, reply: list[Any]) -> BucketChanges | None:
    status = reply[1]
    if status == "reload":
        return None
    if status == "reset":
        return BucketChanges(reply[2], reset=True)
    return BucketChanges(reply[2], bucket_runs(name, reply[3]), list(reply[4]),
                         more=status == "more")


def window_event_json(event: dict[str, Any], data_json: str) -> str:
    """The event as the window stream keeps it: the data object as the client sent it."""
    head = json.dumps({"name": event["name"], "id": event["id"], "ts": event["ts"]})
    return f"{head[:-1]}, \"data\": {data_json}}}"


def cancellation_json(c: Cancellation) -> str:
    return json.dumps({"id": c.id, "app_id": c.app_id, "function_id": c.function_id,
                       "started_after": c.started_after, "started_before": c.started_before,
                       "condition": c.condition, "created_at": c.created_at})


def cancellation(env: str, text: str, count: int = 0) -> Cancellation:
    o = json.loads(text)
    return Cancellation(o["id"], env, o["app_id"], o["function_id"], o["started_after"],
                        o["started_before"], o["condition"], o["created_at"], count)


def cancellation_function_key(c: Cancellation) -> str:
    return function_key(c.app_id, c.function_id)


def moves(flat: list[Any]) -> LogMoves:
    return {flat[i]: (flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)}


def chain(first: LogMoves, then: LogMoves) -> LogMoves:
    """Two consecutive steps' moves as one: a log the second found where the first left
    it moved from the first's start; otherwise (someone wrote between) the second alone
    counts, from its own start."""
    out = dict(first)
    for name, (before, after) in then.items():
        prior = out.get(name)
        out[name] = (prior[0], after) if prior is not None and prior[1] == before else (
            before, after)
    return out
