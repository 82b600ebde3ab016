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

    max_cost: int = 50_000
    """Cost units one evaluation may spend (see ``_cost``: a macro iteration costs 1 plus
    its body's nodes, a call 3; a string/bytes/list built or copied costs 1 per 8
    characters or elements; ``in`` and list/map ``==`` 2 per element; a string search 1
    per 32 characters past 1,024) before it is aborted with ``EvaluationAborted``.
    A unit is 20-60 ns here (tests/matcher/cost_report.py measures each kind of work), so
    the budget holds one evaluation to about 1-3 ms and its allocations to about 2 MB,
    whatever the input: a tenant's rule cannot stall the others (the former bound, 100,000
    loop iterations, let one evaluation run for 25-35 ms and allocate without limit).
    50,000 units still iterate lists of thousands of elements. The same number bounds the
    static estimate (``cost_input_size``): ``compile_rule`` refuses a rule whose estimate is
    over it, so an accepted rule is never cut off on inputs of that size."""

    cost_input_size: int = 100
    """The size the static cost estimate (``Program.estimated_cost``) assumes for every
    value read from a variable: at most this many list or map elements and characters,
    nesting included. Bounds as large as the biggest accepted event (256 KiB holds a list
    of 131,072 numbers) would make every macro over an event list look unaffordable; real
    cancel rules iterate a few line items or tags. With 100, a rule whose cost does not
    depend on the event (a 316 x 316 ``all`` over literal lists: ~1.4 million units) is
    refused, a macro over each item's tags inside a macro over the items is not (~1,000
    units: the tags of all items together are part of one event), a self-join of one
    event list (100 x 100 pairs, ~72,000 units) is. An event larger than assumed is still
    evaluated, within ``max_cost``: ``budget_warning`` says from which size on it may not be."""

    max_regex_length: int = 1024
    """Length of a ``matches()`` pattern (a constant one is checked when compiling, one
    read from an event when it is used). RE2 is linear-time, so only size is bounded."""


DEFAULT_LIMITS = Limits()
