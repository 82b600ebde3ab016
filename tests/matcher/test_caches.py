"""The shared caches under threads: bounded, and never an error for the caller.

The server registers and evaluates for several environments at once, so the module-level
caches (compiled rules, plans, code, regular expressions, zones) are filled from many
threads. The switch interval is cut to a microsecond so the threads interleave inside
each insertion, where the old ``d.pop(next(iter(d)))`` raised KeyError or RuntimeError.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from matcher import _functions, compile
from matcher._caches import put_bounded

THREADS = 8


@contextmanager
def fast_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def hammer(work: Callable[[int, int], None], per_thread: int) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(t: int) -> None:
        start.wait()
        try:
            for i in range(per_thread):
                work(t, i)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    with fast_switching():
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    return errors


def old_put(cache: dict[str, int], key: str, value: int, limit: int) -> None:
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value


@pytest.mark.parametrize("put", [put_bounded, old_put], ids=["put_bounded", "old_idiom"])
def test_many_threads_filling_one_small_cache(put: Callable[..., None]) -> None:
    cache: dict[str, int] = {}
    errors = hammer(lambda t, i: put(cache, f"{t}/{i}", i, 4), 20_000)
    if put is old_put:
        # The harness reaches the race: the idiom put_bounded replaced fails in it.
        assert errors and all(isinstance(e, (KeyError, RuntimeError)) for e in errors)
        return
    assert errors == []
    assert len(cache) <= 4 + THREADS
    put_bounded(cache, "last", 0, 4)
    assert len(cache) <= 4 + THREADS and cache["last"] == 0


def test_put_bounded_evicts_oldest_and_keeps_present_keys() -> None:
    cache: dict[str, int] = {}
    for i in range(5):
        put_bounded(cache, str(i), i, 3)
    assert list(cache) == ["2", "3", "4"]
    put_bounded(cache, "3", 30, 3)  # already there: replaced, nothing evicted
    assert cache == {"2": 2, "3": 30, "4": 4}


def test_regex_evaluations_from_many_threads_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinct patterns through a 4-entry regex cache: every answer is still CEL's."""
    monkeypatch.setattr(_functions, "_REGEX_CACHE_SIZE", 4)
    monkeypatch.setattr(_functions, "_REGEX_CACHE", {})
    program = compile("s.matches(p)", variables={"s", "p"})
    wrong: list[tuple[int, int]] = []

    def work(t: int, i: int) -> None:
        n = t * 1000 + i % 50
        if program.evaluate({"s": f"id-{n}-x", "p": f"^id-{n}-"}) is not True or \
                program.evaluate({"s": f"id-{n}-x", "p": f"^id-{n + 1}-"}) is not False:
            wrong.append((t, i))

    assert hammer(work, 1_500) == []
    assert wrong == []
    assert len(_functions._REGEX_CACHE) <= 4 + THREADS


def test_no_cache_evicts_with_the_racy_idiom() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = [f"{p.relative_to(root)}:{n}"
                 for d in ("matcher", "server") for p in sorted((root / d).rglob("*.py"))
                 if p.name != "_caches.py"  # its docstring names the idiom it replaces
                 for n, line in enumerate(p.read_text().splitlines(), 1)
                 if "pop(next(iter(" in line and not line.lstrip().startswith("#")]
    assert offenders == []
