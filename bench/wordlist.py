"""Word-list scaling: throughput while listeners are added one word at a time.

quamina and event-ruler describe this experiment for their rule engines (load the first N
Wordle words as rules, step through the list by 761 to pick events) but publish no curve for
plain equality. Here each word becomes a cancel listener ``async.data.word == "<w>"`` (then
``async.data.word.startsWith("<first 4 letters>")``) and every ``step`` listeners the same
event stream is matched; every answer is compared with the expected set computed directly.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.workloads import ENV

STRIDE = 761
"""quamina's stride through the list; coprime with 12,959, so it visits every word once."""

MODES = {
    "equality": 'async.data.word == "{w}"',
    "prefix": 'async.data.word.startsWith("{p}")',
}
_TRIGGER = {"name": "words/loaded", "id": "trg-words", "ts": 0, "data": {}}


def load_words(path: Path) -> list[str]:
    words = path.read_text(encoding="ascii").split()
    if not words or any(len(w) != 5 or not w.isalpha() for w in words):
        raise ValueError(f"{path}: expected one five-letter word per line")
    return words


def _events(words: list[str], count: int) -> list[dict[str, Any]]:
    n = len(words)
    return [
        {"name": "words/seen", "id": f"w-{k}", "ts": 1, "data": {"word": words[(k * STRIDE) % n]}}
        for k in range(count)
    ]


def _expected(
    mode: str,
    words: list[str],
    loaded: int,
    word: str,
    by_prefix: dict[str, list[int]],
    position: dict[str, int],
) -> set[str]:
    if mode == "equality":
        i = position.get(word)
        return {f"run-{i}"} if i is not None and i < loaded else set()
    return {f"run-{i}" for i in by_prefix[word[:4]] if i < loaded}


PASSES = 3
"""Passes over the events per point; the median pass is reported (the machine is shared)."""


def _checkpoint(index: Any, events: list[dict[str, Any]], want: Any, loaded: int
                ) -> tuple[dict[str, Any], list[str]]:
    """Time ``PASSES`` passes of ``events``, then compare each answer with ``want(word)``."""
    times = []
    for _ in range(PASSES):
        t0 = time.perf_counter()
        answers = [index.match(e, env=ENV) for e in events]
        times.append(time.perf_counter() - t0)
    matches, mismatches = 0, []
    for e, got in zip(events, answers, strict=True):
        runs = {m.run_id for m in got}
        matches += len(runs)
        if runs != want(e["data"]["word"]):
            mismatches.append(f"{loaded} listeners, word {e['data']['word']}")
    point = {"listeners": loaded, "events_per_s": len(events) / sorted(times)[PASSES // 2],
             "matches": matches}
    return point, mismatches


def run_mode(mode: str, words: list[str], *, step: int, n_events: int) -> dict[str, Any]:
    """Add ``words`` one listener at a time; every ``step`` listeners, time ``n_events`` events."""
    import matcher

    index = matcher.ListenerIndex()
    events = _events(words, n_events)
    by_prefix: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(words):
        by_prefix[w[:4]].append(i)
    position = {w: i for i, w in enumerate(words)}
    points, mismatches, add_s = [], [], 0.0
    template = MODES[mode]
    for i, w in enumerate(words):
        expression = template.format(w=w, p=w[:4])
        t0 = time.perf_counter()
        index.add(f"l-{i}", event="words/seen", expression=expression, trigger=_TRIGGER,
                  run_id=f"run-{i}", env=ENV)
        add_s += time.perf_counter() - t0
        loaded = i + 1
        if loaded % step == 0 or loaded == len(words):
            def want(word: str, n: int = loaded) -> set[str]:
                return _expected(mode, words, n, word, by_prefix, position)

            point, bad = _checkpoint(index, events, want, loaded)
            points.append(point)
            mismatches += bad
    return {"mode": mode, "expression": template, "points": points,
            "adds_per_s": len(words) / add_s if add_s else None,
            "agree": not mismatches, "mismatches": mismatches[:5]}


def run_wordlist(
    path: Path, *, limit: int | None = None, step: int = 100, n_events: int = 500
) -> dict[str, Any]:
    words = load_words(path)[:limit]
    return {
        "words": len(words),
        "step": step,
        "events_per_point": n_events,
        "modes": [run_mode(m, words, step=step, n_events=n_events) for m in MODES],
    }
