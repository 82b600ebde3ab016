"""Store on Redis (or a Redis Cluster): durable state shared by any number of replicas.

Each method is one atomic step: one Lua script (server/store/lua/), or a pipeline of
scripts each atomic on its own (cancel in chunks), so that a step never spans engine
logic and nothing half-written survives a crash or a lost connection. Keys are built by
``_redis_keys`` (one hash slot per environment); replies are decoded by ``_redis_codec``.

Late window: the events live in Redis (one Stream per (environment, name)); this replica
keeps a mirror of the names it registered listeners for (a ``RecentEvents`` with the
same bounds), refreshed from the Streams inside the registration step, and answers
``recent_keyed`` from it.

Failures: a connection error or timeout becomes ``Unavailable`` (gRPC UNAVAILABLE, HTTP
503) naming Redis; the replica stays up, and the next call reconnects by itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import ClusterError, RedisClusterException
from redis.retry import Retry

import matcher

from .._model import Cancellation, CancelOrder, Decision, Rule
from .._ulid import new_ulid
from .._window import Entry, KeyOf, RecentEvents
from ..config import Config, redact_url
from ..errors import Unavailable
from . import _redis_codec as codec
from ._interface import (
    BucketChanges,
    BucketRun,
    Cancelled,
    CancelStep,
    Cursor,
    FinishStep,
    ListenerRow,
    LogMoves,
    NewRun,
    Probes,
    RecentEvent,
    Registered,
    RunChunk,
    StoreStats,
)
from ._redis_keys import ENVS, function_key, key, start_member
from ._redis_scripts import Scripts
from ._redis_tail import DecisionTails
from ._triggers import decode_trigger

_UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, ClusterError, RedisClusterException)


def connect(url: str, **options: Any) -> Any:
    """A client for ``redis://`` (or ``rediss://``) or ``redis+cluster://`` (any node).

    Fail fast: connecting gives up after a second; a reply may take five (the longest
    script is one bounded chunk); a connection found dead is retried once at once (a
    pooled connection to a Redis that restarted) and then the call fails."""
    opts = {"decode_responses": True, "socket_connect_timeout": 1.0, "socket_timeout": 5.0,
            "retry": Retry(NoBackoff(), 1), "retry_on_timeout": False, **options}
    if url.startswith("redis+cluster://"):
        opts.pop("retry_on_timeout")
        return RedisCluster.from_url("redis://" + url[len("redis+cluster://"):], **opts)
    return redis.Redis.from_url(url, **opts)


class RedisStore:
    """The Redis store (see the module docstring)."""

    CANCEL_CHUNK = 100
    """Runs per cancel script; the chunks of one step go in one pipeline (one round trip)
    and Redis serves other clients between them: about 3 ms of Redis time each."""

    LOAD_CHUNK = 2000
    """Runs per bucket-load script (HSCAN COUNT): a few milliseconds of Redis time."""

    CHUNK = 1000
    """Runs per bulk-cancellation read and per sweep step."""

    def __init__(self, client: Any, window: RecentEvents, config: Config, url: str,
                 connect_again: Any = None) -> None:
        self.client = client
        self.url = url
        self.config = config
        self.scripts = Scripts(client)
        self.window = window  # the mirror: bounded like the Redis side
        self._cursors: dict[tuple[str, str], str] = {}  # mirror position per (env, name)
        self._mirror_lock = threading.Lock()
        self._envs: set[str] = set()
        self.tails = DecisionTails(connect_again or (lambda: connect(url, socket_timeout=10)),
                                   lambda env: key(env, "decision_log"))

    @classmethod
    def from_url(cls, url: str, window: RecentEvents, config: Config) -> RedisStore:
        return cls(connect(url), window, config, url)

    @contextmanager
    def _reach(self) -> Iterator[None]:
        try:
            yield
        except _UNREACHABLE as exc:
            raise Unavailable(f"the store is unavailable: Redis at {redact_url(self.url)}: "
                              f"{exc}") from None

    def _call(self, step: str, env: str, args: list[Any]) -> Any:
        with self._reach():
            return self.scripts.call(step, env, args, self.client)

    def _pipelined(self, step: str, env: str, calls: list[list[Any]]) -> list[Any]:
        """Several calls of one step, each atomic on its own, in one round trip.

        A Cluster client refuses scripts in pipelines, but every key of ``env`` is on one
        node: the pipeline goes to that node's own client. If the slot moved meanwhile
        (MOVED), the calls are made one by one through the Cluster client instead."""
        if len(calls) == 1:
            return [self._call(step, env, calls[0])]
        with self._reach():
            client = self.client
            if isinstance(client, RedisCluster):
                client = client.get_node_from_key(  # type: ignore[no-untyped-call]
                    key(env, "meta")).redis_connection
            pipe = client.pipeline(transaction=False)
            for args in calls:
                self.scripts.call(step, env, args, pipe)
            try:
                return list(pipe.execute())
            except redis.ResponseError as exc:
                if not str(exc).startswith(("MOVED", "ASK")):
                    raise
        return [self._call(step, env, args) for args in calls]

    def close(self) -> None:
        self.tails.close()
        if isinstance(self.client, RedisCluster):
            # The Cluster client's close() leaves its nodes' pooled connections open.
            for node in self.client.get_nodes():  # type: ignore[no-untyped-call]
                if node.redis_connection is not None:
                    node.redis_connection.connection_pool.disconnect()
        self.client.close()

    def _known_env(self, env: str) -> None:
        """Record the environment for sweepers (once per replica and environment)."""
        if env not in self._envs:
            with self._reach():
                self.client.sadd(ENVS, env)
            self._envs.add(env)

    def _all_envs(self) -> list[str]:
        with self._reach():
            return sorted(self.client.smembers(ENVS))

    # ------------------------------------------------------------------ metrics

    def pending_listener_count(self) -> int:
        envs = self._all_envs()
        with self._reach():
            pipe = self.client.pipeline(transaction=False)
            for env in envs:
                pipe.hget(key(env, "meta"), "listeners")
            return sum(int(n or 0) for n in pipe.execute())

    def stats(self, envs: Collection[str]) -> StoreStats:
        envs = sorted(envs)
        if not envs:
            return StoreStats()
        with self._reach():
            pipe = self.client.pipeline(transaction=False)
            for env in envs:
                pipe.zcard(key(env, "unacked"))
                pipe.hmget(key(env, "meta"), "wev", "wby")
            replies = pipe.execute()
        unacked = {env: int(replies[2 * i]) for i, env in enumerate(envs)}
        events = sum(int(replies[2 * i + 1][0] or 0) for i in range(len(envs)))
        size = sum(int(replies[2 * i + 1][1] or 0) for i in range(len(envs)))
        return StoreStats(unacked, events, size)

    # ------------------------------------------------------------------ functions

    def upsert_functions(self, env: str, app_id: str,
                         functions: Sequence[tuple[str, tuple[Rule, ...]]], now: int) -> None:
        if not functions:
            return
        mapping = {function_key(app_id, f): codec.rules_json(rules) for f, rules in functions}
        with self._reach():
            self.client.hset(key(env, "functions"), mapping=mapping)

    def function_rules(self, env: str, app_id: str, function_id: str) -> tuple[Rule, ...] | None:
        with self._reach():
            text = self.client.hget(key(env, "functions"), function_key(app_id, function_id))
        return None if text is None else tuple(Rule.from_json(r) for r in json.loads(text))

    def function_known(self, env: str, app_id: str, function_id: str) -> bool:
        fk = function_key(app_id, function_id)
        with self._reach():
            pipe = self.client.pipeline(transaction=False)
            pipe.hexists(key(env, "functions"), fk)
            pipe.hexists(key(env, "function_runs"), fk)
            return any(pipe.execute())

    # ------------------------------------------------------------------ runs

    def get_run(self, env: str, run_id: str) -> dict[str, Any] | None:
        with self._reach():
            h = self.client.hgetall(key(env, "run", run_id))
        return codec.run_row(env, run_id, h) if h else None

    def listeners_of_run(self, env: str, run_id: str) -> list[ListenerRow]:
        with self._reach():
            h = self.client.hgetall(key(env, "run", run_id))
        return list(codec.listeners_of(h))

    def register(self, env: str, runs: Sequence[NewRun], now: int,
                 window: Mapping[str, int]) -> Registered:
        self._known_env(env)
        args: list[Any] = [now, len(runs)]
        for r in runs:
            args += codec.run_args(r)
        names = sorted(window)
        args.append(len(names))
        with self._mirror_lock:
            for name in names:
                args += [name, self._window_start(env, name, now)]
        pairs = sorted({(r.app_id, r.function_id) for r in runs})
        args += [len(pairs), *(function_key(a, f) for a, f in pairs)]
        reply = self._call("register", env, args)
        if reply[0] != -1:
            return Registered(int(reply[0]))
        _, rows, windows, cx, moves = reply
        existing = [None if row == 0 else codec.existing(env, r.run_id, row)
                    for r, row in zip(runs, rows, strict=True)]
        with self._mirror_lock:
            for name, entries in zip(names, windows, strict=True):
                self._mirror(env, name, entries)
        cancellations = {pair: [codec.cancellation(env, text) for text in texts]
                         for pair, texts in zip(pairs, cx, strict=True)}
        return Registered(None, existing, cancellations, codec.moves(moves))

    def _window_start(self, env: str, name: str, now: int) -> str:
        """Where the mirror of (env, name) reads from: after its cursor, or — mirror
        empty — the start of the window (every event a late check could need)."""
        cursor = self._cursors.get((env, name))
        if cursor is not None and (env, name) in self.window:
            return "(" + cursor
        return str(max(0, now - self.config.late_window_ms))

    def _mirror(self, env: str, name: str, entries: list[Any]) -> None:
        for entry_id, (_, n, _, size, _, text) in entries:  # n, b, e: one publish batch
            received, each = int(entry_id.partition("-")[0]), int(size) // max(1, int(n))
            for event in matcher.loads_json(text):
                self.window.add(env, event, received, each)
            self._cursors[(env, name)] = entry_id
        if (env, name) not in self.window:
            self._cursors.pop((env, name), None)

    def cancel(self, env: str, orders: Sequence[CancelOrder], now: int) -> CancelStep:
        chunks = [list(orders[i:i + self.CANCEL_CHUNK])
                  for i in range(0, len(orders), self.CANCEL_CHUNK)]
        calls = []
        for chunk in chunks:
            args: list[Any] = [now, len(chunk)]
            for o in chunk:
                args += [o.run_id, o.cause, o.rule_index, o.event_id, o.event_name,
                         o.cancellation_id, new_ulid(now)]
            calls.append(args)
        replies = self._pipelined("cancel", env, calls)
        by_run = {o.run_id: o for o in orders}
        out: list[Cancelled] = []
        head, moves = 0, LogMoves()
        for rows, flat in replies:
            for row in rows:
                d, seq = codec.decided(env, by_run[row[0]], row, now)
                out.append(Cancelled(d, tuple(row[9])))
                head = max(head, seq)
            moves = codec.chain(moves, codec.moves(flat))
        if head:
            self.tails.notify(env, head)
        return CancelStep(out, moves)

    def finish(self, env: str, run_id: str, now: int) -> FinishStep:
        found, removed, names, moves = self._call("finish", env, [now, run_id])
        return FinishStep(bool(found), int(removed), tuple(names), codec.moves(moves))

    # ------------------------------------------------------------------ listener cache

    def sync(self, env: str, events: Sequence[RecentEvent], now: int,
             cursors: Mapping[str, Cursor | None]) -> dict[str, BucketChanges | None]:
        if events:
            self._known_env(env)  # its window must be swept too
        c = self.config
        args: list[Any] = [now, c.late_window_ms if c.late_window_ms > 0 else 0,
                           c.late_window_max_events, c.late_window_total_events,
                           c.late_window_total_bytes]
        kept = [e for e in events if c.late_window_ms > 0]
        args.append(len(kept))
        for e in kept:
            args += [e.event["name"], codec.window_event_json(e.event, e.data_json),
                     len(e.data_json)]
        args.append(len(cursors))
        for name, cursor in cursors.items():
            args += [name, cursor or ""]
        reply = self._call("sync", env, args)
        return {row[0]: codec.bucket_changes(row[0], row) for row in reply}

    def load_bucket(self, env: str, name: str) -> tuple[Cursor, Iterator[list[BucketRun]]]:
        """A script per chunk of LOAD_CHUNK runs (HSCAN, then raw HMGETs: one reply for
        the chunk, decoded by this replica); the first also gives the log's position."""
        scan, cursor, flat = self._call("load", env, [name, "0", self.LOAD_CHUNK, "first"])
        return cursor, self._chunks(env, name, scan, flat)

    def _chunks(self, env: str, name: str, scan: str,
                flat: list[Any]) -> Iterator[list[BucketRun]]:
        """Chunks in order; the next one is fetched while this one is decoded and added
        (Redis works on chunk k+1 while Python works on chunk k)."""
        while True:
            ahead: list[Any] = []
            fetch = None
            if scan != "0":
                fetch = threading.Thread(target=lambda s=scan, into=ahead: into.append(
                    self._fetch(env, name, s)), daemon=True)
                fetch.start()
            yield codec.bucket_run_rows(flat)
            if fetch is None:
                return
            fetch.join()
            if isinstance(ahead[0], BaseException):
                raise ahead[0]
            scan, _, flat = ahead[0]

    def _fetch(self, env: str, name: str, scan: str) -> Any:
        try:
            return self._call("load", env, [name, scan, self.LOAD_CHUNK, ""])
        except BaseException as exc:  # re-raised by the consumer, in its thread
            return exc

    def recent_keyed(self, env: str, name: str, now: int, since: int,
                     probes: Probes | None, key_of: KeyOf) -> list[Entry]:
        with self._mirror_lock:
            return self.window.lookup(env, name, now, since, probes, key_of)

    # ------------------------------------------------------------------ decisions

    def unacked_after(self, env: str, after: int,
                      limit: int) -> tuple[list[tuple[int, Decision]], int]:
        head, rows = self._call("unacked", env, [after, limit])
        page = []
        for seq, _, run_id, flat in rows:
            d = codec.stored_decision(env, run_id, codec.hash_of(flat))
            if d is not None:
                page.append((int(seq), d))
        return page, int(head)

    def wait_decisions(self, env: str, after: int, timeout: float) -> None:
        self.tails.wait(env, after, timeout)

    def ack(self, env: str, decision_ids: Sequence[str], now: int) -> int:
        return int(self._call("ack", env, [now, *decision_ids]))

    def unacked_decisions(self, env: str) -> list[Decision]:
        out, after = [], 0
        while True:
            page, _ = self.unacked_after(env, after, self.CHUNK)
            out += [d for _, d in page]
            if len(page) < self.CHUNK:
                return out
            after = page[-1][0]

    # ------------------------------------------------------------------ bulk cancellations

    def add_cancellation(self, c: Cancellation) -> bool:
        return bool(self._call("cancellations", c.env, [
            "add", codec.cancellation_function_key(c), c.id, codec.cancellation_json(c)]))

    def set_runs_cancelled(self, env: str, cancellation_id: str, n: int) -> None:
        self._call("cancellations", env, ["count", cancellation_id, n])

    def cancellations(self, env: str) -> list[Cancellation]:
        flat = self._call("cancellations", env, ["list"])
        found = [codec.cancellation(env, flat[i], int(flat[i + 1]))
                 for i in range(0, len(flat), 2)]
        return sorted(found, key=lambda c: (c.created_at, c.id))

    def delete_cancellation(self, env: str, cancellation_id: str) -> Cancellation | None:
        reply = self._call("cancellations", env, ["delete", cancellation_id])
        return None if not reply else codec.cancellation(env, reply[0], int(reply[1]))

    def pending_runs_of_function(self, env: str, app_id: str, function_id: str,
                                 started_after: int | None,
                                 started_before: int) -> Iterator[RunChunk]:
        if started_before < 0:
            return
        fk = function_key(app_id, function_id)
        lo = "-" if started_after is None else "[" + start_member(max(0, started_after), "")
        hi = "[" + start_member(started_before, ";")  # ';' sorts after ':'
        while True:
            last, rows = self._call("pending", env, [fk, lo, hi, self.CHUNK])
            if rows:
                chunk = [(run, int(started), decode_trigger(run, tid, tname, tts, tdata))
                         for _, run, started, tid, tname, tts, tdata in rows]
                yield RunChunk([(run, started, t) for run, started, t in chunk if t is not None])
            if not last:
                return
            lo = "(" + last

    # ------------------------------------------------------------------ maintenance

    def sweep(self, now: int, purge_before: int) -> int:
        """Every environment in bounded steps. The late window's caps apply per
        environment at each publish (one slot cannot see the others); here, where every
        environment is visited, each is also held to its share of the same caps as a
        global bound: proportional to its size, so the total ends under the caps."""
        envs = self._all_envs()
        shares = self._window_shares(envs)
        expired = 0
        for env in envs:
            max_events, max_bytes = shares[env]
            while True:
                n, acked, purged, kept, evicted = self._call("sweep", env, [
                    now, purge_before, self.CHUNK, self.config.late_window_ms,
                    max_events, max_bytes])
                expired += n
                # Runs kept for an unacknowledged decision stay at the front: go on
                # only while a full chunk made progress.
                if (n < self.CHUNK and acked < self.CHUNK and evicted < self.CHUNK
                        and (purged == 0 or purged + kept < self.CHUNK)):
                    break
        return expired

    def _window_shares(self, envs: list[str]) -> dict[str, tuple[int, int]]:
        c = self.config
        with self._reach():
            pipe = self.client.pipeline(transaction=False)
            for env in envs:
                pipe.hmget(key(env, "meta"), "wev", "wby")
            sizes = [(int(e or 0), int(b or 0)) for e, b in pipe.execute()]
        total_events = sum(e for e, _ in sizes)
        total_bytes = sum(b for _, b in sizes)
        return {env: (_share(e, total_events, c.late_window_total_events),
                      _share(b, total_bytes, c.late_window_total_bytes))
                for env, (e, b) in zip(envs, sizes, strict=True)}


def _share(size: int, total: int, cap: int) -> int:
    """An environment's allowance: the whole cap while the total is under it, else its
    part of the cap in proportion to its size."""
    return cap if total <= cap else size * cap // total
