"""Store on Redis: waking watchers when any replica decides — one blocking reader per env.

Every cancel step appends the decision's sequence to the environment's capped decision
log (a Stream). While at least one watcher of an environment waits on this replica, one
thread here blocks on ``XREAD`` of that log (its own connection) and wakes them all;
decisions made by this replica wake them at once (:meth:`DecisionTails.notify`). The log
only says "look again": watchers read the decisions themselves from the store, and they
also look again every poll interval, so a missed wake-up costs latency, never a decision.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("cancelmatch.store")


class DecisionTails:
    """Per-environment wake-ups (thread-safe)."""

    BLOCK_MS = 1000
    """How long one XREAD blocks: also how soon an idle reader notices it may stop."""

    IDLE_S = 5.0
    """A reader with no waiter for this long exits (its thread and connection go)."""

    def __init__(self, connect: Callable[[], Any], log_key: Callable[[str], str]) -> None:
        self._connect = connect
        self._log_key = log_key
        self._cond = threading.Condition()
        self._heads: dict[str, int] = {}
        self._waiting: dict[str, int] = {}
        self._readers: dict[str, threading.Thread] = {}
        self._closed = False

    def notify(self, env: str, seq: int) -> None:
        with self._cond:
            if seq > self._heads.get(env, 0):
                self._heads[env] = seq
                self._cond.notify_all()

    def wait(self, env: str, after: int, timeout: float) -> None:
        with self._cond:
            self._heads[env] = max(self._heads.get(env, 0), after)
            self._waiting[env] = self._waiting.get(env, 0) + 1
            if env not in self._readers and not self._closed:
                t = threading.Thread(target=self._read, args=(env,), daemon=True,
                                     name=f"cancelmatch-tail-{env}")
                self._readers[env] = t
                t.start()
            try:
                self._cond.wait_for(lambda: self._heads[env] > after or self._closed, timeout)
            finally:
                self._waiting[env] -= 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _read(self, env: str) -> None:
        client, last, idle_since = None, "", time.monotonic()
        try:
            while True:
                with self._cond:
                    if self._closed:
                        return
                    if self._waiting.get(env):
                        idle_since = time.monotonic()
                    elif time.monotonic() - idle_since > self.IDLE_S:
                        return
                try:
                    client = client or self._connect()
                    if not last:  # start at the newest entry, so none after it is missed
                        newest = client.xrevrange(self._log_key(env), count=1)
                        last = newest[0][0] if newest else "0-0"
                        if newest:
                            self.notify(env, int(newest[0][1]["q"]))
                    reply = client.xread({self._log_key(env): last}, count=100,
                                         block=self.BLOCK_MS)
                except Exception as exc:  # noqa: BLE001 - Redis away: watchers poll meanwhile
                    log.debug("decision tail of %s: %s", env, exc)
                    client = None
                    time.sleep(self.BLOCK_MS / 1000)
                    continue
                for _, entries in reply or ():
                    last = entries[-1][0]
                    self.notify(env, max(int(fields["q"]) for _, fields in entries))
        finally:
            with self._cond:
                self._readers.pop(env, None)
            if client is not None:
                client.close()
