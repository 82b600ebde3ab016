"""Runtime: CEL operators and container operations called by the generated code.

Every function takes CEL values (see ``matcher._values``) and either returns a CEL value or
raises ``EvalError``; no other exception escapes for a CEL value input. The common cases are
tested first with ``type(x) is T`` (never ``isinstance``: ``bool`` is an ``int`` subclass but
not a CEL number), and the rest dispatch through dicts keyed by Python types.

Equality follows the CEL spec ("Equality"): ``1 == 1u == 1.0``, ``true != 1``, values of
different kinds are unequal rather than an error, lists and maps compare element by element.
An int or uint compared with a double is first rounded to a double, as in cel-go and CEL C++
(the conformance suite's ``*_lossy_double`` tests require it), so ``==`` and the orderings
agree; int against uint compares exactly.

Maps are plain dicts, which hash ``True`` like ``1`` and ``False`` like ``0``. CEL keeps
them apart (``{1: 'a'}[true]`` is "no such key", ``{true: 'a', 1: 'b'}`` has two entries),
so a map stores its bool keys as ``TRUE_KEY`` / ``FALSE_KEY`` (see ``_values``): every
lookup is a plain O(1) dict access.

The variants that charge an evaluation's cost budget for work proportional to a value's
size are in ``_charged``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from matcher._errors import EvalError
from matcher._timefuncs import checked_duration, checked_timestamp
from matcher._values import (
    FALSE_KEY,
    INT64_MAX,
    INT64_MIN,
    TRUE_KEY,
    UINT64_MAX,
    BoolKey,
    Duration,
    Timestamp,
    UInt,
    cel_type_name,
)

_MISSING: Any = object()
_NUMBER = 1
_LIST = 2
# Kinds whose members compare with each other although their Python types differ.
_KIND: dict[type, int] = {int: _NUMBER, UInt: _NUMBER, float: _NUMBER, list: _LIST, tuple: _LIST}
_ORDERED = frozenset({int, UInt, float, str, bytes, bool, Timestamp, Duration})
_NUMERIC = frozenset({int, UInt, float})
_KEY_LIKE = frozenset({str, int, UInt, float, bool, BoolKey})  # may be looked up in a map


def type_name(value: Any) -> str:
    """CEL type name for messages; the Python type name for a non-CEL value (never raises)."""
    try:
        return cel_type_name(value)
    except TypeError:
        return type(value).__name__


def _overload(op: str, a: Any, b: Any) -> EvalError:
    return EvalError(f"no such overload: {type_name(a)} {op} {type_name(b)}")


def show_value(value: Any) -> str:
    """A short CEL-like rendering of a value for error messages ('k', 1u, true, null)."""
    t = type(value)
    if t is bool or t is BoolKey:
        return "true" if (value if t is bool else value.value) else "false"
    if value is None:
        return "null"
    text = repr(value) if t in (str, bytes, UInt, int, float) else type_name(value)
    return text if len(text) <= 64 else text[:61] + "..."


# --- equality ---------------------------------------------------------------------------

def eq(a: Any, b: Any) -> bool:
    """CEL ``==``: never raises."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is dict:
            return _map_eq(a, b)
        if ta is list or ta is tuple:
            return _list_eq(a, b)
        r: bool = a == b
        return r
    kind = _KIND.get(ta)
    if kind is None or kind != _KIND.get(tb):
        return False
    if kind == _NUMBER:
        a, b = _as_comparable(a, b)
        r = a == b
        return r
    return _list_eq(a, b)


def _as_comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Two numbers of different types made comparable the way cel-go and CEL C++ do it: an
    int or uint meeting a double is rounded to the nearest double first (so
    ``9223372036854775807 == 9223372036854775808.0``; conformance tests
    ``comparisons/*_lossy_double`` require it). int against uint compares exactly."""
    if type(a) is float:
        return a, float(b)
    if type(b) is float:
        return float(a), b
    return a, b


def ne(a: Any, b: Any) -> bool:
    """CEL ``!=``: never raises."""
    return not eq(a, b)


def _list_eq(a: Any, b: Any) -> bool:
    # Not Python's list ==: that short-cuts on identity (a NaN would equal itself) and
    # conflates True with 1.
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if not eq(x, y):
            return False
    return True


def _map_eq(a: dict[Any, Any], b: dict[Any, Any]) -> bool:
    if len(a) != len(b):
        return False
    for k, v in a.items():
        other = _map_get(b, k)
        if other is _MISSING or not eq(v, other):
            return False
    return True


def _map_get(m: dict[Any, Any], key: Any) -> Any:
    """The value CEL finds for ``key`` in map ``m``, or ``_MISSING``.

    Numeric keys are heterogeneous (``{1u: x}[1.0]`` finds x); bool keys are stored as
    BoolKey, so they never meet numbers. Complexity: O(1).
    """
    tk = type(key)
    if tk is str or tk is int or tk is UInt or tk is float or tk is BoolKey:
        return m.get(key, _MISSING)
    if tk is bool:
        return m.get(TRUE_KEY if key else FALSE_KEY, _MISSING)
    return _MISSING  # bytes, null, lists...: never a key, and lists are not hashable


# --- ordering ----------------------------------------------------------------------------
# Four explicit functions rather than one factory: they sit in the hot path and a factory
# would add a call through ``operator.lt`` per comparison.

def lt(a: Any, b: Any) -> bool:
    """CEL ``<`` on numbers (across int/uint/double), strings, bytes, bools, times."""
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _ORDERED:
        r: bool = a < b
        return r
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _as_comparable(a, b)
        r = a < b
        return r
    raise _overload("<", a, b)


def le(a: Any, b: Any) -> bool:
    """CEL ``<=``."""
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _ORDERED:
        r: bool = a <= b
        return r
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _as_comparable(a, b)
        r = a <= b
        return r
    raise _overload("<=", a, b)


def gt(a: Any, b: Any) -> bool:
    """CEL ``>``."""
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _ORDERED:
        r: bool = a > b
        return r
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _as_comparable(a, b)
        r = a > b
        return r
    raise _overload(">", a, b)


def ge(a: Any, b: Any) -> bool:
    """CEL ``>=``."""
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _ORDERED:
        r: bool = a >= b
        return r
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _as_comparable(a, b)
        r = a >= b
        return r
    raise _overload(">=", a, b)


# --- arithmetic ---------------------------------------------------------------------------

def _int64(r: int) -> int:
    if INT64_MIN <= r <= INT64_MAX:
        return r
    raise EvalError("int64 overflow")


def _uint64(r: int) -> UInt:
    if 0 <= r <= UINT64_MAX:
        return UInt(r)
    raise EvalError("uint64 overflow")


def _trunc_div(a: int, b: int) -> int:
    q = a // b
    if q < 0 and q * b != a:  # floor went one below the truncated quotient
        q += 1
    return q


def _trunc_mod(a: int, b: int) -> int:
    r = a % b
    if r and (r < 0) != (a < 0):  # Python's remainder takes b's sign; CEL's takes a's
        r -= b
    return r


def _float_div(a: float, b: float) -> float:
    if b == 0.0:  # IEEE 754: x/0 is +-inf, 0/0 and nan/0 are nan
        if a != a or a == 0.0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _int_div(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("divide by zero")
    return _int64(_trunc_div(a, b))


def _int_mod(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("modulus by zero")
    if b == -1 and a == INT64_MIN:  # the quotient overflows, so cel-go and C++ reject it
        raise EvalError("int64 overflow")
    return _trunc_mod(a, b)


def _uint_div(a: int, b: int) -> UInt:
    if b == 0:
        raise EvalError("divide by zero")
    return UInt(a // b)


def _uint_mod(a: int, b: int) -> UInt:
    if b == 0:
        raise EvalError("modulus by zero")
    return UInt(a % b)


def _concat(a: Iterable[Any], b: Iterable[Any]) -> list[Any]:
    return [*a, *b]


_Binary = Callable[[Any, Any], Any]

_ADD: dict[tuple[type, type], _Binary] = {
    (UInt, UInt): lambda a, b: _uint64(a + b),
    (Timestamp, Duration): lambda a, b: checked_timestamp(a.nanos + b.nanos),
    (Duration, Timestamp): lambda a, b: checked_timestamp(a.nanos + b.nanos),
    (Duration, Duration): lambda a, b: checked_duration(a.nanos + b.nanos),
    (list, tuple): _concat,
    (tuple, list): _concat,
    (tuple, tuple): _concat,
}
_SUB: dict[tuple[type, type], _Binary] = {
    (UInt, UInt): lambda a, b: _uint64(a - b),
    (Timestamp, Duration): lambda a, b: checked_timestamp(a.nanos - b.nanos),
    (Timestamp, Timestamp): lambda a, b: checked_duration(a.nanos - b.nanos),
    (Duration, Duration): lambda a, b: checked_duration(a.nanos - b.nanos),
}
_MUL: dict[tuple[type, type], _Binary] = {(UInt, UInt): lambda a, b: _uint64(a * b)}
_DIV: dict[tuple[type, type], _Binary] = {(UInt, UInt): _uint_div, (float, float): _float_div}
_MOD: dict[tuple[type, type], _Binary] = {(UInt, UInt): _uint_mod}


def add(a: Any, b: Any) -> Any:
    """CEL ``+``: numbers of one type, strings, bytes, lists, timestamp/duration."""
    ta = type(a)
    if ta is type(b):
        if ta is int:  # inlined _int64: the hot case
            r = a + b
            if -0x8000000000000000 <= r <= 0x7FFFFFFFFFFFFFFF:
                return r
            raise EvalError("int64 overflow")
        if ta is float or ta is str or ta is bytes or ta is list:
            return a + b
    f = _ADD.get((ta, type(b)))
    if f is None:
        raise _overload("+", a, b)
    return f(a, b)


def sub(a: Any, b: Any) -> Any:
    """CEL ``-``: numbers of one type, timestamp - duration, timestamp - timestamp, ..."""
    ta = type(a)
    if ta is type(b):
        if ta is int:  # inlined _int64: the hot case
            r = a - b
            if -0x8000000000000000 <= r <= 0x7FFFFFFFFFFFFFFF:
                return r
            raise EvalError("int64 overflow")
        if ta is float:
            return a - b
    f = _SUB.get((ta, type(b)))
    if f is None:
        raise _overload("-", a, b)
    return f(a, b)


def mul(a: Any, b: Any) -> Any:
    """CEL ``*`` on int, uint or double (both operands of one type)."""
    ta = type(a)
    if ta is type(b):
        if ta is int:  # inlined _int64: the hot case
            r = a * b
            if -0x8000000000000000 <= r <= 0x7FFFFFFFFFFFFFFF:
                return r
            raise EvalError("int64 overflow")
        if ta is float:
            return a * b
    f = _MUL.get((ta, type(b)))
    if f is None:
        raise _overload("*", a, b)
    return f(a, b)


def div(a: Any, b: Any) -> Any:
    """CEL ``/``: integer division truncates toward zero; int / 0 is an error, double / 0 inf."""
    ta = type(a)
    if ta is int and type(b) is int:
        return _int_div(a, b)
    f = _DIV.get((ta, type(b)))
    if f is None:
        raise _overload("/", a, b)
    return f(a, b)


def mod(a: Any, b: Any) -> Any:
    """CEL ``%`` on int or uint, truncating (sign of the dividend); no double overload."""
    ta = type(a)
    if ta is int and type(b) is int:
        return _int_mod(a, b)
    f = _MOD.get((ta, type(b)))
    if f is None:
        raise _overload("%", a, b)
    return f(a, b)


def neg(a: Any) -> Any:
    """CEL unary ``-`` on int (checked) or double; uint has no negation."""
    ta = type(a)
    if ta is int:
        if a == INT64_MIN:
            raise EvalError("int64 overflow")
        return -a
    if ta is float:
        return -a
    raise EvalError(f"no such overload: -{type_name(a)}")


def logical_not(a: Any) -> bool:
    """CEL ``!`` on bool."""
    if type(a) is bool:
        return not a
    raise EvalError(f"no such overload: !{type_name(a)}")


def ensure_bool(v: Any) -> bool:
    """``v`` if it is a bool; used where CEL requires one (conditions, ``&&`` operands)."""
    if type(v) is bool:
        return v
    raise EvalError(f"no such overload: expected bool, got {type_name(v)}")


# --- containers --------------------------------------------------------------------------

def in_(elem: Any, container: Any) -> bool:
    """CEL ``elem in container``: list membership by CEL equality, or map key presence."""
    tc = type(container)
    if tc is list or tc is tuple:
        te = type(elem)
        if te is str or te is bytes:
            return elem in container  # Python == on str/bytes is CEL equality
        for x in container:
            if eq(elem, x):
                return True
        return False
    if tc is dict:
        if type(elem) not in _KEY_LIKE:  # cel-go and C++ reject e.g. `b'' in {}`
            raise EvalError(f"unsupported key type: {type_name(elem)}")
        return _map_get(container, elem) is not _MISSING
    raise _overload("in", elem, container)


def index(container: Any, key: Any) -> Any:
    """CEL ``container[key]``: list position (int, uint or integral double) or map key."""
    tc = type(container)
    if tc is dict:
        v = container.get(key, _MISSING) if type(key) is str else _map_get(container, key)
        if v is _MISSING:
            raise EvalError(f"no such key: {show_value(key)}")
        return v
    if tc is list or tc is tuple:
        tk = type(key)
        if tk is int or tk is UInt:
            i = key
        elif tk is float:
            if not key.is_integer():
                raise EvalError(f"invalid list index: {show_value(key)} is not an integer")
            i = int(key)
        else:
            raise EvalError(f"no such overload: {type_name(container)}[{type_name(key)}]")
        if 0 <= i < len(container):
            return container[i]
        raise EvalError(f"index out of range: {show_value(key)}")
    raise EvalError(f"no such overload: {type_name(container)}[{type_name(key)}]")


def select(obj: Any, field: str) -> Any:
    """CEL ``obj.field`` on a map (the only message-like value here)."""
    if type(obj) is dict:
        v = obj.get(field, _MISSING)
        if v is not _MISSING:
            return v
        raise EvalError(f"no such key: {show_value(field)}")
    raise EvalError(f"type '{type_name(obj)}' does not support field selection "
                    f"(selecting {show_value(field)})")


def has_field(obj: Any, field: str) -> bool:
    """CEL ``has(obj.field)`` on a map: is the key present."""
    if type(obj) is dict:
        return field in obj
    raise EvalError(f"type '{type_name(obj)}' does not support field presence test "
                    f"(has {show_value(field)})")


def make_map(pairs: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """A map literal. Keys must be int, uint, bool or string and distinct (0 and 0u clash;
    ``true`` and ``1`` do not)."""
    out: dict[Any, Any] = {}
    for k, v in pairs:
        tk = type(k)
        if tk is bool:
            k = TRUE_KEY if k else FALSE_KEY
        elif tk is not str and tk is not int and tk is not UInt:
            raise EvalError(f"unsupported key type: {type_name(k)}")
        if k in out:
            raise EvalError(f"repeated key: {show_value(k)}")
        out[k] = v
    return out


def iteration_range(value: Any) -> Any:
    """What a macro iterates: a list's elements, or a map's keys (bool keys as bools)."""
    t = type(value)
    if t is list:
        return value
    if t is dict:
        if TRUE_KEY in value or FALSE_KEY in value:
            return [k.value if type(k) is BoolKey else k for k in value]
        return value
    if t is tuple:
        return list(value)
    raise EvalError(f"no such overload: cannot iterate over {type_name(value)}")


def size(x: Any) -> int:
    """CEL ``size``: code points of a string, bytes of bytes, entries of a list or map."""
    t = type(x)
    if t is str or t is list or t is dict or t is bytes or t is tuple:
        return len(x)
    raise EvalError(f"no such overload: size({type_name(x)})")
