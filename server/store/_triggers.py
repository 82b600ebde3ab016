"""Stored triggers: decoding a run's trigger event read back from a store, poison pills refused.

Every JSON text is scanned before it is accepted (``server._validate``), so a trigger nests at
most ``max_json_depth`` levels. A store written by an older version, before that check existed,
may still hold one that nests hundreds of levels: decoding it is fine, but matching it and
encoding its decision recurse once per level. Such a run is left out of what a load returns
(logged once per load, never raised), so it cannot fail every later batch that touches its
bucket; it stays pending in the store, where FinishRun or its expiry removes it.
"""

from __future__ import annotations

import logging
from typing import Any

import matcher

from .._jsonscan import scan
from ..config import MAX_JSON_DEPTH_CEILING

log = logging.getLogger("cancelmatch.store")


def decode_trigger(run_id: str, tid: str, tname: str, tts: int | str,
                   tdata: str) -> dict[str, Any] | None:
    """The trigger event of a stored run, or None (logged) when it is not safe to load.

    Complexity: O(len(tdata)); the scan is a few C-speed passes unless the text holds more
    brackets than the ceiling (see ``server._jsonscan``).
    """
    problem = scan(tdata, MAX_JSON_DEPTH_CEILING)
    if problem is not None:
        log.error("run %s trigger is not loaded: %s", run_id, problem.message)
        return None
    return {"name": tname, "id": tid, "ts": int(tts), "data": matcher.loads_json(tdata)}
