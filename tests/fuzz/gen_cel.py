"""Fuzz inputs: random and mutated CEL texts over ``event`` and ``async``.

Random expressions come from a small grammar of the constructs cancel rules use (paths,
comparisons, macros, string and conversion functions, literals at their extremes);
mutated ones are valid texts with characters inserted, deleted, repeated or cut.

Deliberately NOT generated in CI (known, owned elsewhere, see issue 9 item 2/3): nested
``map`` chains that double a string per level and large comprehension products; the
grammar keeps comprehensions at depth <= 2 over lists of <= 4 items.
"""

from __future__ import annotations

import random

PATHS = ["async.data.x", "async.data.n", "async.data.reminderId", "event.data.reminderId",
         "event.data.n", "async.data.tags", "event.data.nested.k", "async.data['a.b']",
         'async.data["é"]', "async.id", "async.ts", "event.ts", "async.name", "async",
         "event.data", "async.data.nested", "async.data.items"]
LITERALS = ["0", "1", "-1", "1u", "0u", "18446744073709551615u", "9223372036854775807",
            "-9223372036854775808", "1.5", "-0.0", "1e308", "1e-308", "0x7fffffffffffffff",
            '""', '"x"', "'user_123'", '"r1"', 'r"\\d+"', '"\\u00e9"', '"\\x00"', "b'abc'",
            "b'\\xff'", "true", "false", "null", "[]", "[1, 2, 3]", "['a', 'b']", "{}",
            "{'k': 1}", '"""multi\nline"""', "'" + "x" * 300 + "'", "double('NaN')",
            "double('inf')", "timestamp('2024-01-01T00:00:00Z')", "duration('1h')"]
BINARY = ["==", "!=", "<", "<=", ">", ">=", "&&", "||", "+", "-", "*", "/", "%", "in"]
FUNCS = ["size({0})", "has({p})", "int({0})", "uint({0})", "double({0})", "string({0})",
         "bytes({0})", "type({0})", "timestamp({0})", "duration({0})", "dyn({0})",
         "{0}.startsWith({1})", "{0}.endsWith({1})", "{0}.contains({1})", "{0}.matches({1})",
         "{0}.size()", "!{0}", "-{0}", "({0} ? {1} : {0})", "[{0}, {1}]", "{{{0}: {1}}}",
         "{0}[{1}]", "{0}.getFullYear()", "{0} in [{1}, {0}]"]
MACROS = ["{L}.all(v, {B})", "{L}.exists(v, {B})", "{L}.exists_one(v, {B})",
          "{L}.map(v, {B})", "{L}.filter(v, {B})", "{L}.map(v, {B}, v)"]
VALID = ["async.data.reminderId == event.data.reminderId",
         "event.data.userId == 'user_123' && async.data.amount > 100",
         "async.data.tags.exists(t, t.startsWith('urgent'))",
         "async.data.n in [1, 2, 3] || async.name.matches('^tasks/.*$')",
         "size(async.data.items) > 2 && async.data.items.all(i, i.id != event.data.id)",
         "has(async.data.nested.k) ? async.data.nested.k == 'v' : false",
         "int(async.data.n) + 1 > 0u", "timestamp(async.data.when) < timestamp('2030-01-01T00:00:00Z')",
         "async.data.x / 0 == 1 || true", "string(async.data.n) + 'x' == '1x'"]


def expression(rng: random.Random, depth: int = 0, loops: int = 0) -> str:
    """A random CEL expression (usually well-formed, rarely well-typed for the data)."""
    roll = rng.random()
    if depth >= 4 or roll < 0.3:
        return rng.choice(PATHS) if rng.random() < 0.6 else rng.choice(LITERALS)
    if roll < 0.6:
        op = rng.choice(BINARY)
        return f"{expression(rng, depth + 1, loops)} {op} {expression(rng, depth + 1, loops)}"
    if roll < 0.85 or loops >= 2:
        template = rng.choice(FUNCS)
        return template.format(expression(rng, depth + 1, loops),
                               expression(rng, depth + 1, loops), p=rng.choice(PATHS))
    items = ", ".join(rng.choice(LITERALS[:12]) for _ in range(rng.randint(0, 4)))
    lst = rng.choice([f"[{items}]", "async.data.tags", "async.data.items"])
    body = expression(rng, depth + 2, loops + 1).replace("async.data.x", "v")
    return rng.choice(MACROS).format(L=lst, B=body)


def mutate(rng: random.Random, text: str) -> str:
    """``text`` with 1-4 random edits (insert, delete, repeat, cut, bracket bombs)."""
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(text) + 1)
        op = rng.randrange(6)
        if op == 0:
            text = text[:i] + rng.choice("()[]{}.,'\"\\!?:&|=<>+-*/%$#@`\x00\u00e9 \n") + text[i:]
        elif op == 1:
            text = text[:i] + text[i + rng.randint(1, 3):]
        elif op == 2:
            text = text[:i] + text[i:i + 8] * rng.randint(2, 6) + text[i + 8:]
        elif op == 3:
            text = text[:i]
        elif op == 4:  # nesting around the AST depth limit (64), rarely far past it
            n = rng.choice([10, 63, 64, 65, 66, 100]) if rng.random() < 0.97 else 3000
            text = text[:i] + "(" * n + "1" + ")" * n + text[i:]
        else:
            text = text[:i] + rng.choice(["!" * 70, "-" * 70, "a." * 70 + "b", "[" * 70,
                                          "'" + "\\" * 51, "'" + "x" * 20_000 + "'"]) + text[i:]
    return text


def text(rng: random.Random) -> str:
    """A CEL text for a fuzz input: random, mutated random, or a mutated known rule."""
    roll = rng.random()
    if roll < 0.45:
        return expression(rng)
    base = rng.choice(VALID) if roll < 0.75 else expression(rng)
    return mutate(rng, base)
