"""Compile: the public entry point — text → parse → check → generate, with a shape cache.

Two caches make repeated compiles cheap: the code cache of ``_program`` (one code object
per literal-free source) and the *shape cache* of ``_shapes``, which maps the token
sequence of an expression with literal tokens abstracted to their kind (``STRING``,
``INT``...) to a recipe saying which token feeds which parameter; a literal variant of a
known shape is then compiled by lexing alone, without running the LALR parser.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._limits import DEFAULT_LIMITS, Limits
from ._parser import parse
from ._program import Program, build
from ._shapes import SHAPES


def compile(text: str, variables: Iterable[str] = ("event", "async"), *,
            limits: Limits = DEFAULT_LIMITS, check: bool = True) -> Program:
    """Compile a CEL expression. Raises CompileError with line, column and a caret.

    ``check=False`` skips the static checks (like cel-go's unchecked ASTs): undeclared
    names and impossible overloads then surface as evaluation errors.

    Complexity: O(n) in the text; a literal variant of a cached shape skips parsing.
    """
    if type(text) is not str:
        raise TypeError(f"expression must be a str, not {type(text).__name__}")
    if isinstance(variables, str):
        raise TypeError("variables must be a collection of names, not a single str")
    declared = variables if type(variables) is frozenset else frozenset(variables)
    if not check:
        unchecked: Program = build(text, parse(text, limits), declared, limits, checked=False)[0]
        return unchecked
    cached: Program | None = SHAPES.lookup(text, declared, limits)
    if cached is not None:
        return cached
    tree = parse(text, limits)
    program, gen = build(text, tree, declared, limits)
    SHAPES.remember(text, declared, limits, program, gen.consts, gen.const_pos)
    return program
