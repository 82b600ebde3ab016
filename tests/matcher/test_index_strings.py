"""Index tests: string atoms (contains, endsWith, startsWith, matches, size, has) vs brute force.

Values come from a three-letter alphabet so that random needles, suffixes and patterns meet
random event strings often; populations grow past the substring table's FRESH_MAX so its
automata are built, merged, tombstoned and rebuilt. Every comparison goes through the same
``Mirror`` as the other differential tests (match, ``test``, never-fires listeners), and the
regex literal analysis gets its own "for all patterns and texts" property against RE2.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st
from index_mirror import Mirror
from rule_grammar import EVENT_IDS, hypothesis_settings

import matcher
from matcher._index_regex import literals
from matcher._index_strings import ContainsTable

ALPHABET = "ab\u00e9"
WORDS = st.text(ALPHABET, max_size=4)
VALUES: list[Any] = ["", "a", "ab", "ba", "abab", "b\u00e9a", 3, None, ["a", "b"], {"a": 1}, b"ab"]


@st.composite
def regex(draw: st.DrawFn) -> str:
    """Small RE2 patterns over the alphabet: anchors, classes, groups, repetitions, |."""
    pieces = draw(st.lists(st.sampled_from(
        ["a", "b", "\u00e9", "ab", ".", "[ab]", "(ab)", "(?:a|b)", "a?", "b*", "a+", "b{2}",
         "a{0,2}", "\\.", "\\w", "$", "(?i)", "|", "\\Qa\\E", "\\141", "\\x61", "\\pL",
         "\\p{Greek}", "[^]a]", "[[:alpha:]]"]), max_size=5))
    return ("^" if draw(st.booleans()) else "") + "".join(pieces)


def quoted(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def string_rule(draw: st.DrawFn) -> str:
    p = draw(st.sampled_from(["async.data.s", "async.data.t", "async.data.nested.s"]))
    w = quoted(draw(WORDS))
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "=="]))
    n = draw(st.sampled_from(["0", "1", "2", "3", "2u", "1.5", "event.data.n"]))
    rule = draw(st.sampled_from([
        f"{p}.contains({w})", f"{p}.endsWith({w})", f"{p}.startsWith({w})",
        f"{p}.matches({quoted(draw(regex()))})", f"size({p}) {op} {n}", f"{p}.size() {op} {n}",
        f"{n} {op} size({p})", f"has({p})", f"{p}.contains(event.data.k)",
        f"{p}.endsWith(event.data.k)", f"{p}.matches(event.data.k)",
    ]))
    shape = draw(st.integers(0, 5))
    if shape == 0:
        return f"!({rule})"
    if shape == 1:
        return f"{rule} || async.data.t.endsWith({quoted(draw(WORDS))})"
    if shape == 2:
        return f"{rule} && async.data.t != {quoted(draw(WORDS))}"
    return rule


def string_data() -> st.SearchStrategy[dict[str, Any]]:
    value = st.one_of(WORDS, WORDS, st.sampled_from(VALUES))
    return st.fixed_dictionaries({}, optional={
        "s": value, "t": value, "k": value, "n": st.sampled_from([0, 1, 2, 2.5, "x"]),
        "nested": st.fixed_dictionaries({}, optional={"s": value})})


def string_event() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"name": st.just("cancel"), "id": st.sampled_from(EVENT_IDS),
                                  "ts": st.just(100), "data": string_data()})


def run_population(rules: list[tuple[str, dict[str, Any]]], events: list[dict[str, Any]],
                   removals: list[int]) -> int:
    """All rules in one index; events compared before and after removals. Returns hits."""
    mirror = Mirror()
    mirror.add_rules(rules)
    hits = sum(mirror.check_event(e) for e in events)
    for i in removals:
        mirror.remove(f"l{i % len(rules)}")
        mirror.check_structure()
    return hits + sum(mirror.check_event(e) for e in events)


def test_string_atoms_agree_with_brute_force() -> None:
    stats: Counter[str] = Counter()

    @hypothesis_settings(max_examples=400)
    @given(st.lists(st.tuples(string_rule(), string_data()), min_size=1, max_size=10),
           st.lists(string_event(), min_size=1, max_size=6),
           st.lists(st.integers(0, 50), max_size=4))
    def check(rules: list[tuple[str, dict[str, Any]]], events: list[dict[str, Any]],
              removals: list[int]) -> None:
        stats["scenarios"] += 1
        stats["with_match"] += run_population(rules, events, removals) > 0

    check()
    assert stats["with_match"] >= 0.3 * stats["scenarios"], stats


@hypothesis_settings(max_examples=30)
@given(st.lists(st.tuples(string_rule(), string_data()), min_size=60, max_size=120),
       st.lists(string_event(), min_size=3, max_size=6), st.lists(st.integers(0, 200),
                                                                  min_size=20, max_size=80))
def test_large_populations_build_and_rebuild_automata(
        rules: list[tuple[str, dict[str, Any]]], events: list[dict[str, Any]],
        removals: list[int]) -> None:
    run_population(rules, events, removals)


@hypothesis_settings(max_examples=1000)
@given(regex(), st.lists(st.text(ALPHABET + ".", max_size=6), min_size=1, max_size=8))
def test_regex_literals_are_necessary(pattern: str, texts: list[str]) -> None:
    """For all patterns and texts: a text RE2 finds a match in starts with the reported
    prefix and contains the reported required literal."""
    try:
        compiled = re2.compile(pattern)
    except re2.error:
        return
    lits = literals(pattern)
    for text in texts:
        if compiled.search(text) is not None:
            assert text.startswith(lits.prefix), (pattern, text, lits)
            assert lits.required in text, (pattern, text, lits)


@pytest.mark.parametrize(("pattern", "prefix", "required"), [
    ("^/org/\\d+/", "/org/", "/org/"),
    ("invoice-[0-9]+", "", "invoice-"),
    ("^abc?d", "ab", "ab"),
    ("^a+bc", "a", "bc"),
    ("^ab|cd", "", ""),  # alternation at the top: no literal is required
    ("(?i)abc", "", ""),  # a flag changes what a literal means
    ("(?m)^abc", "", ""),
    ("^(ab)?cd", "", "cd"),
    ("a\\.b{2}c", "", "a.b"),
    ("\\Qa.b\\E", "", ""),
])
def test_regex_literals_examples(pattern: str, prefix: str, required: str) -> None:
    assert literals(pattern) == (prefix, required)


@pytest.mark.parametrize(("rule", "access"), [
    ("async.data.s.contains('kw')", "substring async.data.s.contains(\"kw\")"),
    ("async.data.s.endsWith('.pdf')", "suffix async.data.s.endsWith(\".pdf\")"),
    ("async.data.s.matches('^inv-[0-9]+')",
     "prefix async.data.s has \"inv-\" (then the regex is checked)"),
    ("async.data.s.matches('[0-9]+-done')",
     "substring async.data.s has \"-done\" (then the regex is checked)"),
    ("size(async.data.items) > 2", "size size(async.data.items) > 2"),
    ("async.data.s.matches('a|b')", "scan (always evaluated)"),
])
def test_string_atoms_are_filed_not_scanned(rule: str, access: str) -> None:
    idx = matcher.ListenerIndex()
    res = idx.add("l", event="cancel", expression=rule, trigger={}, run_id="r")
    assert res.access == (access,)


def test_contains_rule_is_a_candidate_only_for_events_containing_its_needle() -> None:
    """1 % contains rules among equality rules: an event without any needle touches none
    of them (before, every one was evaluated on every event)."""
    idx = matcher.ListenerIndex()
    for i in range(300):
        rule = ("async.data.title.contains(event.data.kw)" if i % 3 == 0
                else "async.data.id == event.data.kw")
        idx.add(f"l{i}", event="cancel", expression=rule, trigger={"data": {"kw": f"k{i}!"}},
                run_id=f"r{i}")
    bucket = next(iter(idx._buckets.values()))
    assert bucket.candidates({"data": {"title": "nothing here", "id": "x"}}) == []
    found = bucket.candidates({"data": {"title": "see k42! and k9!", "id": "x"}})
    assert sorted(e.id for e in found) == ["l42", "l9"]
    assert [m.run_id for m in idx.match({"name": "cancel", "id": "e", "ts": 1,
                                         "data": {"title": "see k42!"}})] == ["r42"]


def test_contains_table_against_brute_force_through_merges_and_rebuilds() -> None:
    rng = random.Random(7)
    table, live = ContainsTable(), Counter[tuple[str, int]]()
    needles = ["".join(rng.choice("abc") for _ in range(rng.randint(0, 4))) for _ in range(400)]
    clauses: dict[tuple[str, int], tuple[str, int]] = {}  # tables compare clauses by identity
    for step in range(3000):
        needle = rng.choice(needles)
        clause = clauses.setdefault((needle, rng.randint(0, 2)), (needle, step))
        if live[clause]:
            table.remove(needle, clause)
            live[clause] -= 1
        else:
            table.add(needle, clause)
            live[clause] += 1
        if step % 50 == 0:
            table._check()
            text = "".join(rng.choice("abc") for _ in range(rng.randint(0, 8)))
            out: list[Any] = []
            table.candidates(text, out)
            want = {c for c, n in live.items() if n and c[0] in text}
            assert len(out) == len(set(out)), "a clause found twice"
            assert sorted(out) == sorted(want), text
    assert any(level is not None for level in table.levels) and table.dead >= 0
