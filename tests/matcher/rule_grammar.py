"""Test data: hypothesis strategies for cancel rules, trigger events and incoming events.

The value domains are deliberately tiny (a handful of strings and numbers per field) so that
random rules and random events actually meet: a differential test that never produces a
match proves nothing. Each domain mixes in the awkward cases the index must get right —
``1`` / ``1u`` / ``1.0`` / ``true`` as keys, NaN and ``-0.0``, escaped strings, a
``"my-key"`` map key, nested maps, fields that are missing, and values of the wrong type.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from matcher import UInt

# Field name -> CEL spellings of the path under ``async`` (the ``event`` path is the same
# text with the root renamed). Dotted paths also appear inside ``has()``.
STRING_FIELDS = {
    "a": ["async.data.a", "async.data['a']"],
    "b": ["async.data.b"],
    "my-key": ['async.data["my-key"]', "async.data['my-key']"],
    "nested.k": ["async.data.nested.k", 'async.data.nested["k"]'],
}
NUMBER_FIELDS = {
    "n": ["async.data.n", 'async["data"]["n"]'],
    "m": ["async.data.m"],
}
DOTTED = ("async.data.a", "async.data.b", "async.data.n", "async.data.m", "async.data.nested")

NAN = math.nan
STRING_VALUES: list[Any] = ["x", "y", "", 'a"b', "\u00e9", "xy", "a\\n", "a\n"]
# bool sits with the numbers on purpose: ``true == 1`` is false in CEL but True in Python.
NUMBER_VALUES: list[Any] = [0, 1, 2, 1.0, 1.5, -0.0, NAN, UInt(1), UInt(2), True, False]
OTHER_VALUES: list[Any] = [None, ["x", 1], {"x": 1}]

# CEL spellings of each string value: escapes must be decoded before keys are compared.
STRING_LITERALS: dict[str, list[str]] = {
    "x": ['"x"', "'x'", 'r"x"', '"""x"""', '"\\x78"'],
    "y": ['"y"', "'y'", '"\\u0079"'],
    "": ['""', "''"],
    'a"b': ['"a\\"b"', "'a\"b'", '"a\\x22b"', '"""a"b"""', '"a\\u0022b"'],
    "\u00e9": ["'\\u00e9'", '"\u00e9"', '"\\xe9"', '"\\351"', '"\\U000000e9"'],
    "xy": ['"xy"', "'x' + 'y'"],
    "a\\n": ['r"a\\n"', '"a\\\\n"'],
    "a\n": ['"a\\n"', "'a\\x0a'"],
}
NUMBER_LITERALS = ["0", "1", "2", "-1", "0x1", "1u", "2u", "1.0", "1.5", "2.0", "1e0", "-0.0",
                   'double("NaN")', "true", "false"]
OTHER_LITERALS = ["null", "[1]", "{'x': 1}"]

COMPARISONS = ["<", "<=", ">", ">="]
ENVS = ["prod", "dev"]
RUN_IDS = ["r0", "r1", "r2", "r3"]
EVENT_IDS = ["e0", "e1", "e2", "e3"]
TIMES = [100, 200, 300]


def hypothesis_settings(**overrides: Any) -> settings:
    """The project's ``ci`` profile when tests/conftest.py registers one, else local defaults.

    ``deadline=None`` always: timing on the shared machine is noise, never a verdict.
    """
    try:
        settings.get_profile("ci")
    except InvalidArgument:
        base = settings(max_examples=200, derandomize=True)
    else:
        base = settings()  # whatever profile conftest loaded
    return settings(base, deadline=None, report_multiple_bugs=False,
                    suppress_health_check=[HealthCheck.too_slow], **overrides)


# Strategies are built once (factories are cached): constructing them afresh inside every
# draw made generation, not the index, dominate the test's run time.


def field_values(natural: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly the field's natural type, sometimes any value at all (type mismatches)."""
    anything = st.sampled_from(STRING_VALUES + NUMBER_VALUES + OTHER_VALUES)
    return st.one_of(st.sampled_from(natural), st.sampled_from(natural), anything)


@cache
def event_data() -> st.SearchStrategy[dict[str, Any]]:
    """``data`` of an event: every field optional, so rules meet missing keys."""
    strings, numbers = field_values(STRING_VALUES), field_values(NUMBER_VALUES)
    nested = st.fixed_dictionaries({}, optional={"k": strings, "my-key": strings})
    return st.fixed_dictionaries(
        {},
        optional={"a": strings, "b": strings, "my-key": strings, "n": numbers, "m": numbers,
                  "nested": nested},
    )


@cache
def string_literal() -> st.SearchStrategy[str]:
    """One string value, in one of its CEL spellings."""
    return st.sampled_from(sorted(STRING_LITERALS)).flatmap(
        lambda value: st.sampled_from(STRING_LITERALS[value])
    )


@cache
def literal(kind: str, ordered: bool = False) -> st.SearchStrategy[str]:
    """A CEL literal, mostly of ``kind`` ("string" or "number"), sometimes of another type.

    ``ordered`` leaves out null, lists and maps: ordering them is a compile-time type error.
    """
    natural = string_literal() if kind == "string" else st.sampled_from(NUMBER_LITERALS)
    others = NUMBER_LITERALS + ([] if ordered else OTHER_LITERALS)
    other = st.one_of(string_literal(), st.sampled_from(others))
    return st.one_of(natural, natural, other)


@cache
def path() -> st.SearchStrategy[tuple[str, str]]:
    """(kind, CEL text) of an ``async`` path."""
    spellings = [("string", text) for texts in STRING_FIELDS.values() for text in texts]
    spellings += [("number", text) for texts in NUMBER_FIELDS.values() for text in texts]
    return st.sampled_from(spellings)


def on_event(text: str) -> str:
    """The same path read from the trigger (``event``) instead of the incoming event."""
    return "event" + text.removeprefix("async")


@cache
def indexable_atom(
    paths: st.SearchStrategy[tuple[str, str]] | None = None, has_paths: tuple[str, ...] = DOTTED
) -> st.SearchStrategy[str]:
    return _indexable_atom(paths if paths is not None else path(), has_paths)


@st.composite
def _indexable_atom(
    draw: st.DrawFn, paths: st.SearchStrategy[tuple[str, str]], has_paths: tuple[str, ...]
) -> str:
    """An atom some access structure can serve (hash, prefix, range, has / null)."""
    kind, p = draw(paths)
    lit = literal(kind)
    shape = draw(st.sampled_from(["eq", "eq_rev", "ne", "in", "cmp", "cmp_rev", "prefix",
                                  "has", "null"]))
    if shape == "eq":
        return f"{p} == {draw(lit)}"
    if shape == "eq_rev":
        return f"{draw(lit)} == {p}"
    if shape == "ne":
        return f"{p} != {draw(lit)}"
    if shape == "in":
        items = draw(st.lists(lit, min_size=0, max_size=3))
        return f"{p} in [{', '.join(items)}]"
    if shape in ("cmp", "cmp_rev"):
        op = draw(st.sampled_from(COMPARISONS))
        bound = draw(literal(kind, ordered=True))
        return f"{p} {op} {bound}" if shape == "cmp" else f"{bound} {op} {p}"
    if shape == "prefix":
        return f"{p}.startsWith({draw(string_literal())})"
    if shape == "has":
        return f"has({draw(st.sampled_from(has_paths))})"
    return f"{p} == null"


@cache
def residual_only_atom() -> st.SearchStrategy[str]:
    return _residual_only_atom()


@st.composite
def _residual_only_atom(draw: st.DrawFn) -> str:
    """Atoms no index can serve; several raise CEL errors on the wrong type."""
    _, p = draw(path())
    _, q = draw(path())
    return draw(st.sampled_from([
        f"{p}.size() > 1",
        f"size({p}) >= 1",
        f"{p}.contains('y')",
        f"{p}.endsWith('y')",
        f"{p} + 1 > 1",
        f"int({p}) == 1",
        f"{p} == {q}",
        f"{p}.matches('^x')",
        f"1 / {p} == 1",
    ]))


@cache
def event_atom() -> st.SearchStrategy[str]:
    return _event_atom()


@st.composite
def _event_atom(draw: st.DrawFn) -> str:
    """Atoms over the trigger: interpolated at registration (some to true/false/error)."""
    kind, p = draw(path())
    e = on_event(draw(path())[1]) if draw(st.booleans()) else on_event(p)
    op = draw(st.sampled_from(["==", "!=", "<", ">="]))
    return draw(st.sampled_from([
        f"{p} == {e}",
        f"{e} == {p}",
        f"{p} {op} {e}",
        f"{p} in [{e}, {draw(literal(kind))}]",
        f"{e} {op} {draw(literal(kind, ordered=True))}",
        f"has({on_event(draw(st.sampled_from(DOTTED)))})",
    ]))


@cache
def atom() -> st.SearchStrategy[str]:
    return st.one_of(
        indexable_atom(), indexable_atom(), indexable_atom(), event_atom(), event_atom(),
        residual_only_atom(), st.sampled_from(["true", "false"]),
    )


@cache
def formula(depth: int = 3) -> st.SearchStrategy[str]:
    return _formula(depth)


@st.composite
def _formula(draw: st.DrawFn, depth: int) -> str:
    """A boolean expression: atoms combined with ``&&``, ``||``, ``!`` and ``?:``."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(atom())
    shape = draw(st.sampled_from(["and", "or", "not", "not_and", "not_or", "chain", "ternary",
                                  "wide"]))
    sub = formula(depth - 1)
    if shape == "and":
        return f"({draw(sub)}) && ({draw(sub)})"
    if shape == "or":
        return f"({draw(sub)}) || ({draw(sub)})"
    if shape == "not":
        return f"!({draw(sub)})"
    if shape == "not_and":
        return f"!(({draw(sub)}) && {draw(atom())})"
    if shape == "not_or":
        return f"!(({draw(sub)}) || {draw(atom())})"
    if shape == "chain":
        op = draw(st.sampled_from([" && ", " || "]))
        return op.join(f"({x})" for x in draw(st.lists(sub, min_size=2, max_size=5)))
    if shape == "wide":  # 2**k DNF clauses: k >= 5 passes the index's clause cap
        pairs = draw(st.lists(st.tuples(atom(), atom()), min_size=3, max_size=6))
        return " && ".join(f"({x} || {y})" for x, y in pairs)
    return f"({draw(atom())}) ? ({draw(sub)}) : ({draw(sub)})"


@cache
def expression() -> st.SearchStrategy[str]:
    """A cancel rule: often a plain conjunction (the common case), sometimes empty."""
    conjunction = st.lists(atom(), min_size=1, max_size=3).map(" && ".join)
    return st.one_of(conjunction, formula(), st.just(""))


@cache
def incoming_event() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "name": st.sampled_from(["cancel", "cancel", "cancel", "other"]),
        "id": st.sampled_from(EVENT_IDS),
        "ts": st.sampled_from(TIMES),
        "data": event_data(),
    })


@cache
def trigger_event() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "name": st.just("created"),
        "id": st.sampled_from(EVENT_IDS),
        "ts": st.just(50),
        "data": event_data(),
    })


def listener_spec(listener_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of ``ListenerIndex.add`` (listener id included)."""
    return listener_fields().map(lambda fields: {"listener_id": listener_id, **fields})


@cache
def listener_fields() -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of ``ListenerIndex.add`` except the listener id."""
    maybe_time = st.one_of(st.none(), st.none(), st.sampled_from(TIMES))
    return st.fixed_dictionaries({
        "event": st.sampled_from(["cancel", "cancel", "cancel", "other"]),
        "expression": expression(),
        "trigger": trigger_event(),
        "run_id": st.sampled_from(RUN_IDS),
        "env": st.sampled_from(["prod", "prod", "prod", "dev"]),
        "expires_at": maybe_time,
        "run_started_at": maybe_time,
    })


# One field, every kind of key: the densest test of CEL equality and ordering of keys. The
# same tokens feed the rules' literals, the triggers and the events, so they collide often.
# Each table is (CEL literal, the Python value an event carries).
KEY_TOKENS: dict[str, list[tuple[str, Any]]] = {
    "mixed": [
        ("1", 1), ("1u", UInt(1)), ("1.0", 1.0), ("true", True), ("false", False), ("0", 0),
        ("-0.0", -0.0), ('"1"', "1"), ("'\\u00e9'", "\u00e9"), ("1.5", 1.5), ("null", None),
        ('double("NaN")', NAN), ("b'1'", b"1"), ("9007199254740993", 2**53 + 1),
    ],
    # Beyond 2**53 CEL compares an int with a double after converting the int to double.
    "big": [
        ("9007199254740993", 2**53 + 1), ("9007199254740992", 2**53),
        ("9007199254740992.0", 2.0**53), ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808.0", 2.0**63), ("9223372036854775808u", UInt(2**63)),
        ("18446744073709551615u", UInt(2**64 - 1)), ("18446744073709551616.0", 2.0**64),
        ("-9007199254740993", -(2**53) - 1), ("-9007199254740992.0", -(2.0**53)),
    ],
}


@cache
def key_rule(table: str) -> st.SearchStrategy[str]:
    """A rule over ``async.data.k``: against the table's literals or ``event.data.k``."""
    return _key_rule(table)


@st.composite
def _key_rule(draw: st.DrawFn, table: str) -> str:
    literals = [text for text, _ in KEY_TOKENS[table]]
    ordered = [text for text, value in KEY_TOKENS[table] if value is not None]
    p = draw(st.sampled_from(["async.data.k", 'async.data["k"]']))
    lit = draw(st.sampled_from(literals))
    bound = draw(st.sampled_from(ordered))
    op = draw(st.sampled_from(COMPARISONS))
    items = ", ".join(draw(st.lists(st.sampled_from(literals), min_size=1, max_size=3)))
    rule = draw(st.sampled_from([
        f"{p} == {lit}", f"{lit} == {p}", f"{p} != {lit}", f"{p} in [{items}]",
        f"{p} {op} {bound}", f"{bound} {op} {p}", f"{p} == event.data.k",
        f"event.data.k == {p}", f"{p} {op} event.data.k", f"{p} in event.data.list",
        f"{p} in [event.data.k, {lit}]", "has(async.data.k)",
    ]))
    return f"!({rule})" if draw(st.integers(0, 3)) == 0 else rule


@cache
def key_data(table: str) -> st.SearchStrategy[dict[str, Any]]:
    """``data`` holding ``k`` (and a list for ``in``) from the table's values, or nothing."""
    value = st.sampled_from([value for _, value in KEY_TOKENS[table]] + [[1], {"1": 1}])
    return st.one_of(st.just({}), st.fixed_dictionaries(
        {"k": value}, optional={"list": st.lists(value, max_size=2)}))


@cache
def key_event(table: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "name": st.just("cancel"),
        "id": st.sampled_from(EVENT_IDS),
        "ts": st.just(TIMES[0]),
        "data": key_data(table),
    })


# =====================================================================================
# Widened rules (issue 8, the cel branch): trigger values of every JSON type in every
# operand position, error-valued trigger holes in every position, macro variables that
# shadow `event`, `async` and the first segment of a type name, boolean sub-expressions
# compared with each other, and formulas wider than the index's 16-clause DNF cap. Kept
# apart from the strategies above, which the index branch extends for numeric keys.
#
# Integers at and beyond +-2**53 (where a double stops being exact, issue 8 I1) are here
# next to the doubles at those boundaries, as are -0.0, NaN, uint64, "" and non-ASCII.

WIDE_SCALARS: list[Any] = [
    0, 1, -1, 2, 1.0, 1.5, -0.0, NAN, 2.0**53, -(2.0**53), 2.0**63, 1e300, UInt(0), UInt(1),
    2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63), UInt(2**53 + 1),
    UInt(2**64 - 1), True, False, None, "", "a", "x", "\u00e9", "\U0001f600", "a\u0000b",
]
WIDE_VALUES: list[Any] = WIDE_SCALARS + [
    [], [1], ["a", 1], [True], [None, 1.0], [[1]], {}, {"k": 1}, {"k": "a", "j": [1]},
]
"""Every JSON type (and the CEL number types JSON decodes to), small enough to collide."""

TRIGGER_VALUE = "event.data.v"
TRIGGER_MISSING = "event.data.missing"  # never present: a hole whose value is an error

OPERAND_ATOMS = [
    # the trigger value as a container, a macro range, an index, an index operand, an
    # ordering bound, an arithmetic operand, a condition, a prefix, a map, a negation...
    "async.data.x in {v}", "{v} in async.data.l", "{v}.exists(t, t == async.data.x)",
    "{v}.all(t, t != async.data.x)", "{v}.exists_one(t, t == async.data.x)",
    "{v}.map(t, t).size() == async.data.n", "{v}.filter(t, t == 1) == async.data.l",
    "async.data.l.exists(t, t == {v})", "async.data.l[{v}] == async.data.x",
    "{v}[async.data.k] == async.data.x", "{v}['k'] == async.data.x", "async.data.x < {v}",
    "{v} >= async.data.n", "async.data.x + {v} == async.data.n", "!{v}", "-{v} < async.data.n",
    "({v} ? async.data.x : async.data.n) == 1", "async.data.s.startsWith({v})",
    "size({v}) == async.data.n", "{v}.k == async.data.x", "has({v}.k)", "async.data.x == {v}",
    "{v} == event.data.w", "async.data.m[{v}] == 1", "{v} in async.data.m",
    "[async.data.x, {v}][async.data.n] == 1", "string({v}) == async.data.s",
]
SHADOW_ATOMS = [
    "async.data.l.exists(event, event == async.data.x)",
    "async.data.l.exists(event, event == event)",
    "async.data.l.all(event, event != .event.data.v)",
    "async.data.l.exists(event, .event.data.v == event)",
    "event.data.l.exists(async, async == .async.data.x)",
    "async.data.l.exists(async, async == event.data.v)",
    "async.data.l.exists(async, [async].exists(event, event == .async.data.x))",
    "async.data.l.map(google, google).size() == async.data.n",
    "[{'protobuf': {'Timestamp': async.data.x}}].exists(google, "
    "google.protobuf.Timestamp == event.data.v)",
    "async.data.m.exists(event, event == event.data.v)",
]
ERROR_ATOMS = [
    "async.data.l.all(t, t != {e})", "async.data.l.exists(t, t == {e})",
    "async.data.l.exists(t, t == 1 || t == {e})", "!(async.data.x == {e})",
    "(async.data.x != {e} && true) == true", "(async.data.x == {e} || async.data.n == 1) == false",
    "async.data.l.map(t, {e}).size() == 0", "({e} ? true : async.data.x == 1)",
    "async.data.x in [{e}, 1]", "async.data.m[{e}] == 1", "!({e} == async.data.x) || async.data.b",
]


def _fill(template: str) -> str:
    return template.format(v=TRIGGER_VALUE, e=TRIGGER_MISSING)


@cache
def wide_atom() -> st.SearchStrategy[str]:
    """One atom of the widened grammar (filled with the trigger paths)."""
    return st.sampled_from([_fill(a) for a in OPERAND_ATOMS + ERROR_ATOMS] + SHADOW_ATOMS + [
        "async.data.x == 1", "async.data.b", "has(async.data.x)", "async.data.s == ''",
        "async.data.n > 0", "true", "false"])


WIDE_SHAPES = ["({a}) && ({b})", "({a}) || ({b})", "({a}) || ({b})", "!({a})", "!({a})",
               "({a}) == true", "({a}) != false", "({a}) == ({b})", "({a}) ? ({b}) : ({c})"]
"""How widened formulas combine: logic, and boolean sub-expressions compared with each other
(|| and ! twice: random data fails most atoms, and a differential needs matches too)."""


def _past_the_dnf_cap(atoms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """(x || y) && ... five or six times: 2**5 clauses or more, past the 16-clause cap."""
    pairs = st.lists(st.tuples(atoms, atoms), min_size=5, max_size=6)
    return pairs.map(lambda ps: " && ".join(f"({x} || {y})" for x, y in ps))


@cache
def wide_formula() -> st.SearchStrategy[str]:
    """Atoms of ``wide_atom`` combined by ``WIDE_SHAPES`` a few levels deep."""
    def combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        shaped = st.tuples(st.sampled_from(WIDE_SHAPES), inner, inner, inner).map(
            lambda t: t[0].format(a=t[1], b=t[2], c=t[3]))
        return st.one_of(shaped, shaped, shaped, shaped, _past_the_dnf_cap(wide_atom()))

    return st.recursive(wide_atom(), combine, max_leaves=4)


@cache
def wide_data() -> st.SearchStrategy[dict[str, Any]]:
    """``data`` of a trigger or an incoming event: any JSON type in every field."""
    value = st.sampled_from(WIDE_VALUES)
    scalar = st.sampled_from(WIDE_SCALARS)
    return st.fixed_dictionaries({}, optional={
        "v": value, "w": value, "x": scalar, "n": st.sampled_from([0, 1, 2, -1, 1.0, "1"]),
        "l": st.lists(scalar, max_size=3), "k": st.sampled_from(["k", "j", 0, True]),
        "m": st.dictionaries(st.sampled_from(["k", "a", "\u00e9"]), scalar, max_size=2),
        "s": st.sampled_from(["", "a", "ab", "\u00e9t\u00e9"]), "b": st.booleans(),
    })


@cache
def wide_listener_fields() -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of ``ListenerIndex.add`` (but the id) for a widened rule."""
    trigger = st.fixed_dictionaries({"name": st.just("created"), "id": st.just("t"),
                                     "ts": st.just(50), "data": wide_data()})
    return st.fixed_dictionaries({
        "event": st.just("cancel"), "expression": wide_formula(), "trigger": trigger,
        "run_id": st.sampled_from(RUN_IDS), "env": st.just("prod"),
        "expires_at": st.none(), "run_started_at": st.none(),
    })


@cache
def wide_incoming_event() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"name": st.just("cancel"), "id": st.sampled_from(EVENT_IDS),
                                  "ts": st.just(TIMES[0]), "data": wide_data()})
