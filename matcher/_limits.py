"""Limits: the bounds that keep hostile expressions from costing unbounded time or memory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds checked at compile time (length, depth, size) and evaluation time (cost).

    Each bound, when exceeded, is a CompileError or EvalError that names it; none of them
    can crash the process, hang it, or surface a RecursionError.
    """

    max_length: int = 16 * 1024
    """Expression length in code points. 16 KiB is far above any real cancel rule
    (Inngest's own limit for `if` is smaller) and keeps parsing under a few ms."""

    max_depth: int = 64
    """Nesting depth of the AST; n-ary ``&&``/``||`` chains count once. 64 leaves the
    code generator and the normalization passes far from Python's recursion limit."""

    max_nodes: int = 4096
    """AST nodes after parsing: bounds compile time and the size of generated code."""

    max_iterations: int = 100_000
    """Comprehension iterations per evaluation (all macros together, nested loops
    multiply): CEL's cost model in its simplest form."""

    max_regex_length: int = 1024
    """Length of a ``matches()`` pattern. RE2 is linear-time, so only size is bounded."""


DEFAULT_LIMITS = Limits()
