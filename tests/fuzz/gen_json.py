"""Fuzz inputs: hostile JSON texts (deep, wide, huge numbers, bad Unicode, broken syntax).

Seeded ``random.Random`` generation, not hypothesis: the fuzz suite needs tens of
thousands of inputs a minute, and every input is reproducible from (seed, index).
"""

from __future__ import annotations

import json
import random
from typing import Any

KEYS = ["id", "reminderId", "userId", "amount", "n", "x", "tags", "nested", "", "a.b", "é",
        "\ud800", "\x00", "k" * 300, "data", "ts"]
STRINGS = ["", "x", "user_123", "r1", "a\"b", "\\", "\n", "\u2028", "é", "😀", "\ud83d\ude00",
           "\ud800", "\udfff", "\x00", "x" * 5000, "[[[[[", "{\"", "NaN", "1e400",
           "2024-01-22T14:22:42.130Z", "0001-01-01T00:00:00Z", "1h30m", "9" * 40 + "d"]
NUMBERS = ["0", "-0", "1", "-1", "1.5", "-0.0", "1e308", "1.7976931348623157e308", "1e-400",
           "9007199254740993", "9223372036854775807", "9223372036854775808",
           "-9223372036854775809", "18446744073709551615", "18446744073709551616",
           "1" * 40, "1e400", "-1e400", "1" * 400, "NaN", "Infinity", "-Infinity",
           "1E+999", "0.1e-999999", "1" * 200 + "e200", "123456789012345678901234567890.5"]


def value(rng: random.Random, depth: int = 0, budget: list[int] | None = None) -> Any:
    """A random JSON-able Python value (may hold lone surrogates and NUL in strings)."""
    budget = budget if budget is not None else [60]
    budget[0] -= 1
    roll = rng.random()
    if depth > 6 or budget[0] <= 0 or roll < 0.45:
        return rng.choice([None, True, False, rng.randint(-5, 5), rng.random() * 1e3,
                           rng.choice(STRINGS), rng.choice(KEYS), 2**63 - 1, 2**64, -(2**63)])
    if roll < 0.7:
        return [value(rng, depth + 1, budget) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): value(rng, depth + 1, budget) for _ in range(rng.randint(0, 4))}


def _deep(rng: random.Random) -> str:
    depth = rng.choice([63, 64, 65, 100, 999, 1000, 5000, 20_000])
    open_, close = rng.choice([("[", "]"), ('{"a":', "}"), ("[{\"k\":", "}]")])
    inner = rng.choice(["1", '"x"', "null", "[]"])
    tail = close * depth if rng.random() < 0.8 else ""  # sometimes never closed
    return '{"x": ' + open_ * depth + inner + tail + "}"


def _wide(rng: random.Random) -> str:
    n = rng.choice([1000, 10_000, 30_000])
    item = rng.choice(['{"id": 1}', "1", '"s"', "[]", '{"a": [1, 2]}'])
    return '{"items": [' + ",".join([item] * n) + "]}"


def _number(rng: random.Random) -> str:
    return '{"reminderId": "r1", "n": ' + rng.choice(NUMBERS) + "}"


def _escapes(rng: random.Random) -> str:
    pieces = ["\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u0000", "\\n", "\\\\", '\\"', "\\u20ac",
              "\\uDBFF\\uDFFF", "\\x41", "\\u12", "\\", "\udc80"]
    s = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
    return '{"reminderId": "' + s + '", "' + s + '": 1}'


def _mutated(rng: random.Random) -> str:
    text = json.dumps(value(rng), ensure_ascii=rng.random() < 0.5)
    for _ in range(rng.randint(1, 4)):
        if not text:
            break
        i = rng.randrange(len(text))
        op = rng.randrange(4)
        if op == 0:
            text = text[:i] + text[i + 1:]
        elif op == 1:
            text = text[:i] + rng.choice('[]{}",:\\0e-.tfn \x00') + text[i:]
        elif op == 2:
            text = text[:i] + text[i:i + 20] * rng.randint(2, 50) + text[i + 20:]
        else:
            text = text[:i]
    return text


def text(rng: random.Random) -> str:
    """A JSON text for a ``data_json`` / ``event_json`` field: mostly an object, often
    hostile, sometimes not JSON at all."""
    kind = rng.random()
    if kind < 0.35:
        data = value(rng)
        data = data if isinstance(data, dict) and rng.random() < 0.8 else {"v": data}
        data.setdefault("reminderId", rng.choice(["r1", "r2", 1, None]))
        return json.dumps(data, ensure_ascii=rng.random() < 0.7)
    maker = rng.choice([_deep, _deep, _wide, _number, _number, _escapes, _mutated, _mutated])
    return maker(rng)
