"""Compile (fast path): reuse a known expression shape by lexing alone.

Two expressions have the same *shape* when their token sequences are equal after every
literal token is replaced by its kind. Such expressions generate the same source, so a
literal variant needs no LALR parse, no check and no codegen: lex it, decode its literal
tokens in the order the code generator consumed them (the *recipe*), bind the cached
factory. The recipe is only stored after it has reproduced the slow path's parameters
exactly; anything this lexer tokenizes differently from the grammar simply never hits.
"""

from __future__ import annotations

import re
from typing import Any

from ._ast import Literal
from ._caches import put_bounded, register
from ._errors import EvalError
from ._limits import DEFAULT_LIMITS, Limits
from ._literals import LiteralError, decode_double, decode_int, decode_text, decode_uint
from ._program import CODE_CACHE, Program
from ._values import INT64_MAX, INT64_MIN, UINT64_MAX

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\n\r\f]+|//[^\n]*)
    |(?P<B>[bB][rR](?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n\r]*"|'[^'\n\r]*')
        |[bB](?:\"\"\"(?:\\[\s\S]|[\s\S])*?\"\"\"|'''(?:\\[\s\S]|[\s\S])*?'''|"(?:\\.|[^"\\\n\r])*"|'(?:\\.|[^'\\\n\r])*'))
    |(?P<S>[rR](?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n\r]*"|'[^'\n\r]*')
        |(?:\"\"\"(?:\\[\s\S]|[\s\S])*?\"\"\"|'''(?:\\[\s\S]|[\s\S])*?'''|"(?:\\.|[^"\\\n\r])*"|'(?:\\.|[^'\\\n\r])*'))
    |(?P<D>(?:[0-9]+\.[0-9]+|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)
    |(?P<U>(?:0x[0-9a-fA-F]+|[0-9]+)[uU])
    |(?P<I>0x[0-9a-fA-F]+|[0-9]+)
    |(?P<id>[_a-zA-Z][_a-zA-Z0-9]*|`[_a-zA-Z0-9.\-/ ]+`)
    |(?P<op>\|\||&&|<=|>=|!=|==|[<>+\-*/%!.()\[\]{},:?])""",
    re.VERBOSE,
)
# The hit path: one C-level pass that replaces each literal by a kind marker and leaves
# everything else as written. A literal must not start inside a word (`a1`, `rb`), which
# the lookbehind ensures without calling back for every identifier. It is only trusted
# for a shape after remember() checked it agrees with tokenize() on that text.
_Q = (r"""(?:\"\"\"(?:\\[\s\S]|[\s\S])*?\"\"\"|'''(?:\\[\s\S]|[\s\S])*?'''"""
      r"""|"(?:\\.|[^"\\\n\r])*"|'(?:\\.|[^'\\\n\r])*')""")
_RAWQ = r"""(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n\r]*"|'[^'\n\r]*')"""
_LITERAL = re.compile(
    r"(?<![\w`])(?:"
    rf"(?P<B>[bB][rR]{_RAWQ}|[bB]{_Q})"
    rf"|(?P<S>[rR]{_RAWQ}|{_Q})"
    r"|(?P<D>(?:[0-9]+\.[0-9]+|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)"
    r"|(?P<U>(?:0x[0-9a-fA-F]+|[0-9]+)[uU])"
    r"|(?P<I>0x[0-9a-fA-F]+|[0-9]+))"
)


def fast_shape(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(text with literals replaced by kind markers, the literal tokens in order)."""
    found: list[tuple[str, str]] = []
    append = found.append

    def repl(m: re.Match[str]) -> str:
        kind: str = m.lastgroup  # type: ignore[assignment]
        append((kind, m.group()))
        return "\x00" + kind

    return _LITERAL.sub(repl, text), found


_DECODE = {"S": decode_text, "B": decode_text, "D": decode_double, "U": decode_uint,
           "I": decode_int}


def tokenize(text: str) -> list[tuple[str, str, int]] | None:
    """(kind, text, offset) per token, or None if this lexer cannot cover the text."""
    out = []
    pos, end = 0, len(text)
    match = _TOKEN.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            return None
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    return out


def _value(tokens: list[tuple[str, str, int]], index: int, negations: int) -> Any:
    kind, tok, _ = tokens[index]
    value: Any = _DECODE[kind](tok)
    return -value if negations % 2 else value


def _recipe(tokens: list[tuple[str, str, int]], consts: list[Any],
            positions: list[int]) -> tuple[tuple[int, int], ...] | None:
    """Which token (and how many folded minus signs) feeds each parameter, verified."""
    at = {off: i for i, (_, _, off) in enumerate(tokens)}
    recipe = []
    for value, pos in zip(consts, positions, strict=True):
        i = at.get(pos)
        if i is None:
            return None
        negations = 0
        while tokens[i][1] == "-" and i + 1 < len(tokens):
            negations += 1
            i += 1
        if tokens[i][0] not in _DECODE:
            return None
        try:
            if Literal(_value(tokens, i, negations)) != Literal(value):
                return None
        except (LiteralError, ValueError):
            return None
        recipe.append((i, negations))
    return tuple(recipe)


class ShapeCache:
    """Shape (text with literals abstracted) → (factory, recipe, source)."""

    MAX_ENTRIES = 4096
    """Shapes kept; see _CodeCache.MAX_ENTRIES for why there is a bound at all."""

    MAX_TABLES = 64
    """(variables, Limits) combinations kept: a caller making a new Limits per call
    would otherwise add a table per call."""

    def __init__(self) -> None:
        # (variables, limits key) → (limits, {shape key → (factory, recipe, source)}).
        self._tables: dict[tuple[frozenset[str], Any], tuple[Limits, dict[str, Any]]] = {}

    def remember(self, text: str, variables: frozenset[str], limits: Limits, program: Program,
                 consts: list[Any], positions: list[int]) -> None:
        if "\x00" in text:  # the marker character of fast_shape: never ambiguous
            return
        tokens = tokenize(text)
        if tokens is None:
            return
        recipe = _recipe(tokens, consts, positions)
        if recipe is None:
            return
        key, found = fast_shape(text)
        literal_tokens = [(k, t) for k, t, _ in tokens if k in _DECODE]
        if found != literal_tokens:
            return  # the fast pass reads this text differently: never use it here
        ordinal = {i: n for n, i in enumerate(i for i, (k, _, _) in enumerate(tokens) if k in _DECODE)}
        fast_recipe = tuple((ordinal[i], neg) for i, neg in recipe)
        make = CODE_CACHE.factory(program.source, limits)
        tkey = (variables, _limits_key(limits))
        entry = self._tables.get(tkey)
        if entry is None:
            entry = (limits, {})
            put_bounded(self._tables, tkey, entry, self.MAX_TABLES)
        put_bounded(entry[1], key, (make, fast_recipe, program.source), self.MAX_ENTRIES)

    def lookup(self, text: str, variables: frozenset[str], limits: Limits) -> Any:
        """A Program for ``text`` if its shape is known and its literals are valid.

        Complexity: one regex substitution over the text plus one decode per literal.
        """
        if len(text) > limits.max_length:
            return None
        tables = self._tables.get((variables, _limits_key(limits)))
        if tables is None or "\x00" in text:
            return None
        key, found = fast_shape(text)
        entry = tables[1].get(key)
        if entry is None:
            return None
        make, recipe, source = entry
        try:
            consts = []
            for i, neg in recipe:
                kind, tok = found[i]
                v: Any = _DECODE[kind](tok)
                consts.append(-v if neg % 2 else v)
        except (LiteralError, ValueError):
            return None  # the slow path reports the error with its position
        for v in consts:
            if type(v) is int and not INT64_MIN <= v <= INT64_MAX:
                return None
            if type(v) is not int and type(v) is not bool and isinstance(v, int) and v > UINT64_MAX:
                return None
        try:
            fn = make(*consts)
        except EvalError:
            return None  # e.g. an invalid constant regex: the slow path reports it, positioned
        return Program(text, None, source, variables, fn, limits)


def _limits_key(limits: Limits) -> Any:
    """The defaults by identity (hashing the dataclass on every compile would cost more
    than the lookup itself); any other Limits by value, so equal ones share a table."""
    return None if limits is DEFAULT_LIMITS else limits


SHAPES = ShapeCache()
register("shapes", lambda: sum(len(t) for _, t in list(SHAPES._tables.values())),
         lambda: ShapeCache.MAX_ENTRIES * ShapeCache.MAX_TABLES)
