"""Index tables: the per-path lookup structures of one (environment, event name) bucket.

Each table maps a value read from the incoming event to the clauses whose access atom
it satisfies. Entries are clause objects (anything hashable by identity); a table slot
holds a single clause directly and a dict of clauses only when shared, which keeps the
common case — one listener per key, like a reminder id — to one dict entry.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Any

from ._values import UInt

MISSING = object()
_NUM, _BOOL = "n", "b"
_NULL = ("null",)


EXACT_FLOAT_LIMIT = float(1 << 53)
"""Below this magnitude a number's double key or bound stands for it exactly."""


def as_double(v: Any) -> float:
    """A number as CEL compares it with a double: ints and uints rounded to the nearest
    double (``_runtime._as_comparable``); a Python int past the double range is +-inf."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def key_of(v: Any) -> Any:
    """Hash key under CEL equality: 1, 1u and 1.0 share a key; true and 1 do not.

    Numbers are keyed by their double value because CEL compares an int with a double by
    rounding the int to a double first. Two numbers CEL calls equal therefore always share
    a key; the converse fails only from 2**53 on (2**53 and 2**53 + 1 share a double but
    differ as ints), which is why such keys are filed ``checked`` (see ``inexact``).
    Returns None for values that equal nothing by key: NaN (equal to nothing, itself
    included), lists and maps.
    """
    t = type(v)
    if t is str or t is bytes:
        return v
    if t is float:
        return (_NUM, v) if v == v else None
    if t is int or t is UInt:
        return (_NUM, as_double(v))
    if t is bool:
        return (_BOOL, v)
    if v is None:
        return _NULL
    return None


def inexact(key_or_bound: Any) -> bool:
    """A numeric key or bound whose double can stand for several distinct numbers.

    Below 2**53 in magnitude, a double equal to (or ordered like) another number's rounded
    double means the same CEL answer; from 2**53 on (and for the infinities) distinct ints
    round to one double, so a clause filed there must re-check its access atom exactly.
    Only ints and uints of that magnitude can reach such a key from the event side, so
    this costs nothing to ordinary listeners.
    """
    f = key_or_bound[1] if type(key_or_bound) is tuple and key_or_bound[0] is _NUM else key_or_bound
    return type(f) is float and not -EXACT_FLOAT_LIMIT < f < EXACT_FLOAT_LIMIT


def as_ordered(v: Any) -> Any:
    """A value as range tables order it: numbers as doubles (see ``as_double``), exact
    against every bound below 2**53 in magnitude, and never on the wrong side of a
    larger one (rounding is monotonic: only ties are unsure, see ``RangeTable.add``)."""
    t = type(v)
    return as_double(v) if t is int or t is UInt else v


def extract(event: Any, path: tuple[str, ...]) -> Any:
    """``event[p0][p1]...`` through maps only, or MISSING."""
    v = event
    for p in path:
        if type(v) is not dict:
            return MISSING
        v = v.get(p, MISSING)
        if v is MISSING:
            return MISSING
    return v


def slot_add(table: dict[Any, Any], key: Any, clause: Any) -> None:
    cur = table.get(key)
    if cur is None:
        table[key] = clause
    elif type(cur) is dict:
        cur[clause] = None
    else:
        table[key] = {cur: None, clause: None}


def slot_remove(table: dict[Any, Any], key: Any, clause: Any) -> None:
    cur = table.get(key)
    if cur is clause:
        del table[key]
    elif type(cur) is dict:
        cur.pop(clause, None)
        if len(cur) == 1:
            table[key] = next(iter(cur))


def slot_extend(entry: Any, out: list[Any]) -> None:
    if type(entry) is dict:
        out.extend(entry)
    else:
        out.append(entry)


class PrefixTable:
    """``path.startsWith(p)``: prefixes by value, plus per prefix length the characters
    prefixes of that length end with (their *edge*).

    A value is probed at length n only if its n-th character is the edge of some prefix
    of length n: a check on a tiny in-cache dict that spares most probes of the big one
    (prefixes like ``/org/123/`` all end with ``/``; a path has few ``/``). Exact: a value
    that starts with p has p's last character at len(p).

    Complexity: a lookup costs O(L) small-dict checks for L distinct prefix lengths (at
    most the length of the value) plus one big-dict probe per length that passes,
    independent of the number of listeners.
    """

    __slots__ = ("by_affix", "edges")
    FROM_END = False  # SuffixTable: affixes are read from the end of the value

    def __init__(self) -> None:
        self.by_affix: dict[str, Any] = {}
        self.edges: dict[int, dict[str, int]] = {}  # length -> edge character -> count

    @staticmethod
    def edge(affix: str) -> str:
        return affix[-1:]

    def add(self, affix: str, clause: Any) -> None:
        slot_add(self.by_affix, affix, clause)
        edges = self.edges.setdefault(len(affix), {})
        c = self.edge(affix)
        edges[c] = edges.get(c, 0) + 1

    def remove(self, affix: str, clause: Any) -> None:
        slot_remove(self.by_affix, affix, clause)
        edges = self.edges[len(affix)]
        c = self.edge(affix)
        if edges[c] > 1:
            edges[c] -= 1
        else:
            del edges[c]
            if not edges:
                del self.edges[len(affix)]

    def candidates(self, v: Any, out: list[Any]) -> None:
        if type(v) is not str:
            return
        get = self.by_affix.get
        size = len(v)
        from_end = self.FROM_END
        for n, edges in self.edges.items():
            if n > size:
                continue
            start = size - n if from_end else 0
            if n == 0 or v[start if from_end else n - 1] in edges:
                e = get(v[start:start + n])
                if e is not None:
                    slot_extend(e, out)

    def __len__(self) -> int:
        return sum(sum(edges.values()) for edges in self.edges.values())


class RangeTable:
    """``path < b`` etc.: per (domain, operator) a sorted list of bounds.

    Complexity: O(log n + k) for k satisfied clauses; insertion and removal O(n) memmove
    (fast in practice; ranges are chosen only when a clause has no equality atom).
    """

    __slots__ = ("lists",)

    def __init__(self) -> None:
        self.lists: dict[tuple[str, str], tuple[list[Any], list[Any]]] = {}

    @staticmethod
    def domain(v: Any) -> str | None:
        t = type(v)
        if t is str:
            return "s"
        if (t is int or t is float or t is UInt) and v == v:
            return "n"
        return None

    def add(self, operand: tuple[str, Any], clause: Any) -> None:
        op, bound = operand
        key = (self.domain(bound) or "n", op)
        bounds, entries = self.lists.setdefault(key, ([], []))
        i = bisect_right(bounds, bound)
        bounds.insert(i, bound)
        entries.insert(i, clause)

    def remove(self, operand: tuple[str, Any], clause: Any) -> None:
        op, bound = operand
        key = (self.domain(bound) or "n", op)
        bounds, entries = self.lists[key]
        lo, hi = bisect_left(bounds, bound), bisect_right(bounds, bound)
        for i in range(lo, hi):
            if entries[i] is clause:
                del bounds[i], entries[i]
                break
        if not bounds:
            del self.lists[key]

    def candidates(self, v: Any, out: list[Any]) -> None:
        d = self.domain(v)
        if d is None:
            return
        v = as_ordered(v)
        for (dom, op), (bounds, entries) in self.lists.items():
            if dom != d:
                continue
            if op == ">":
                out.extend(entries[: bisect_left(bounds, v)])
            elif op == ">=":
                out.extend(entries[: bisect_right(bounds, v)])
            elif op == "<":
                out.extend(entries[bisect_right(bounds, v):])
            else:
                out.extend(entries[bisect_left(bounds, v):])

    def __len__(self) -> int:
        return sum(len(b) for b, _ in self.lists.values())


class PresenceTable:
    """``has(path)``: every clause filed here is a candidate when the path is present."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[Any, None] = {}

    def add(self, operand: None, clause: Any) -> None:
        self.entries[clause] = None

    def remove(self, operand: None, clause: Any) -> None:
        del self.entries[clause]

    def candidates(self, v: Any, out: list[Any]) -> None:
        out.extend(self.entries)

    def __len__(self) -> int:
        return len(self.entries)
