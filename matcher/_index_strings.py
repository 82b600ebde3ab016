"""Index tables (strings): ``endsWith``, ``contains`` and ``size`` lookups of one bucket.

Like the tables of ``_index_tables``, each maps a value read from the incoming event to the
clauses whose access atom it satisfies, exactly (no clause whose atom holds is ever left
out), and tolerates values of any type (a non-string finds nothing).
"""

from __future__ import annotations

from typing import Any

import ahocorasick

from ._index_tables import PrefixTable, RangeTable, slot_add, slot_extend, slot_remove


class SuffixTable(PrefixTable):
    """``path.endsWith(s)``: the prefix table's mirror, keyed by suffix; the edge of a
    suffix is its first character, checked at ``len(value) - len(s)``.

    Complexity: as ``PrefixTable``: O(L) for L distinct suffix lengths.
    """

    __slots__ = ()
    FROM_END = True

    @staticmethod
    def edge(affix: str) -> str:
        return affix[:1]


class ContainsTable:
    """``path.contains(s)``: Aho–Corasick automata (pyahocorasick) over the needles.

    An automaton is immutable once built, so needles are kept in the logarithmic method's
    levels: new needles wait in ``fresh`` (at most FRESH_MAX, tested with ``in``); when it
    overflows they are merged with every smaller level into one new automaton, so level
    sizes double and there are at most log2(n / FRESH_MAX) + 1 of them. A removed needle
    stays in its automaton as a tombstone (the lookup finds no clause for it) until
    tombstones outnumber live needles, then everything is rebuilt once.

    Complexity: a lookup costs O(m * log n) for a value of m characters and n needles
    (plus one dict probe per distinct needle found); an add costs amortized O(log n)
    automaton insertions; a remove O(1) amortized.
    """

    __slots__ = ("by_needle", "levels", "fresh", "indexed", "dead")

    FRESH_MAX = 32
    """Needles tested one by one before they are merged into an automaton: a ``needle in
    value`` test costs about as much as one automaton pass per 10 needles, and a small
    merge threshold keeps the rebuilds cheap."""

    def __init__(self) -> None:
        self.by_needle: dict[str, Any] = {}
        self.levels: list[tuple[Any, list[str]] | None] = []
        self.fresh: dict[str, None] = {}
        self.indexed: set[str] = set()  # needles held by some automaton (live or dead)
        self.dead = 0

    def add(self, needle: str, clause: Any) -> None:
        if needle not in self.by_needle:
            if needle in self.indexed:
                self.dead -= 1  # a tombstone comes back to life
            elif needle:
                self.fresh[needle] = None
                if len(self.fresh) > self.FRESH_MAX:
                    self._merge()
        slot_add(self.by_needle, needle, clause)

    def remove(self, needle: str, clause: Any) -> None:
        slot_remove(self.by_needle, needle, clause)
        if needle in self.by_needle:
            return
        if needle in self.fresh:
            del self.fresh[needle]
        elif needle in self.indexed:
            self.dead += 1
            if self.dead * 2 > len(self.indexed):
                self._rebuild()

    def _merge(self) -> None:
        carry = list(self.fresh)
        self.fresh = {}
        self.indexed.update(carry)
        i = 0
        while i < len(self.levels) and (level := self.levels[i]) is not None:
            for n in level[1]:
                if n in self.by_needle:
                    carry.append(n)
                else:  # a tombstone: dropped for good
                    self.indexed.discard(n)
                    self.dead -= 1
            self.levels[i] = None
            i += 1
        if i == len(self.levels):
            self.levels.append(None)
        self.levels[i] = (_automaton(carry), carry)

    def _rebuild(self) -> None:
        needles = [n for n in self.by_needle if n]
        self.levels, self.fresh, self.dead = [], {}, 0
        if len(needles) <= self.FRESH_MAX:
            self.fresh, self.indexed = dict.fromkeys(needles), set()
        else:
            self.levels, self.indexed = [(_automaton(needles), needles)], set(needles)

    def _check(self) -> None:
        held = [n for level in self.levels if level is not None for n in level[1]]
        assert len(held) == len(set(held)) and set(held) == self.indexed, "a needle twice"
        assert not self.indexed & set(self.fresh)
        assert self.dead == sum(1 for n in self.indexed if n not in self.by_needle)
        assert all(n in self.indexed or n in self.fresh for n in self.by_needle if n)

    def candidates(self, v: Any, out: list[Any]) -> None:
        if type(v) is not str:
            return
        found: set[str] = set()
        for level in self.levels:
            if level is not None:
                for _, needle in level[0].iter(v):
                    found.add(needle)
        for needle in self.fresh:
            if needle in v:
                found.add(needle)
        if "" in self.by_needle:
            found.add("")
        get = self.by_needle.get
        for needle in found:
            e = get(needle)
            if e is not None:
                slot_extend(e, out)

    def __len__(self) -> int:
        return len(self.by_needle)


def _automaton(needles: list[str]) -> Any:
    a = ahocorasick.Automaton()
    for n in needles:
        a.add_word(n, n)
    a.make_automaton()
    return a


def size_of(v: Any) -> int | None:
    """CEL ``size``: code points of a string, bytes of bytes, entries of a list or map;
    None for values without a size (there ``size(x)`` is an error: no clause holds)."""
    t = type(v)
    if t is str or t is list or t is dict or t is bytes or t is tuple:
        return len(v)
    return None


class SizeTable(RangeTable):
    """``size(path) < n`` etc.: a range table over the size of the event's value."""

    __slots__ = ()

    def candidates(self, v: Any, out: list[Any]) -> None:
        n = size_of(v)
        if n is not None:
            RangeTable.candidates(self, n, out)
