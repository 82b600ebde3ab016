"""Runtime: the CEL standard function table — string functions, conversions, time accessors.

``FUNCTIONS[name]`` is a ``FunctionSpec``: the implementation and the argument counts allowed
for a global call ``f(a, b)`` and for a member call ``a.f(b)`` (the receiver is not counted).
The implementation always takes the receiver first, so ``'abc'.matches('b')`` and
``matches('abc', 'b')`` both call ``impl('abc', 'b')``.

Conversions follow cel-go where engines differ (string parsing is strict: no surrounding
space, ``bool('T')`` is true, ``double('1e400')`` is a range error, ``string(double)`` uses
Go's ``%g``). Timestamps and durations print in protobuf's JSON form, like CEL C++.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import re2

from matcher._caches import put_bounded, register
from matcher._errors import EvalError
from matcher._runtime import size, type_name
from matcher._timefuncs import (
    ACCESSOR_NAMES,
    accessor,
    parse_duration,
    parse_timestamp,
    timestamp_from_seconds,
)
from matcher._values import (
    INT64_MAX,
    INT64_MIN,
    NANOS,
    UINT64_MAX,
    CelType,
    Duration,
    Timestamp,
    UInt,
    cel_type,
    format_duration,
    format_timestamp,
)


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One CEL function: ``impl(receiver_or_first_arg, *rest)``, its allowed arities and
    the CEL type of its result (``"dyn"`` when it depends on the argument)."""

    impl: Callable[..., Any]
    global_arities: frozenset[int]
    member_arities: frozenset[int]
    result: str


def _no_overload(name: str, *args: Any) -> EvalError:
    return EvalError(f"no such overload: {name}({', '.join(type_name(a) for a in args)})")


def _show(text: str) -> str:
    return repr(text) if len(text) <= 64 else repr(text[:61] + "...")


# --- string functions ----------------------------------------------------------------------

def contains(s: Any, sub: Any) -> bool:
    """``s.contains(sub)``."""
    if type(s) is str and type(sub) is str:
        return sub in s
    raise _no_overload("contains", s, sub)


def starts_with(s: Any, prefix: Any) -> bool:
    """``s.startsWith(prefix)``."""
    if type(s) is str and type(prefix) is str:
        return s.startswith(prefix)
    raise _no_overload("startsWith", s, prefix)


def ends_with(s: Any, suffix: Any) -> bool:
    """``s.endsWith(suffix)``."""
    if type(s) is str and type(suffix) is str:
        return s.endswith(suffix)
    raise _no_overload("endsWith", s, suffix)


_REGEX_CACHE: dict[str, Any] = {}
_REGEX_CACHE_SIZE = 512
"""Compiled patterns kept (oldest evicted first). Patterns are usually literals, compiled
once per distinct rule; the bound keeps a flood of distinct patterns from growing memory."""

register("regex", lambda: len(_REGEX_CACHE), lambda: _REGEX_CACHE_SIZE)

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # an invalid pattern is reported as an EvalError, not logged


def compile_regex(pattern: str) -> Any:
    try:
        compiled = re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise EvalError(f"invalid regular expression {_show(pattern)}: {detail}") from None
    except UnicodeError:
        raise EvalError(f"invalid regular expression {_show(pattern)}: invalid UTF-8") from None
    put_bounded(_REGEX_CACHE, pattern, compiled, _REGEX_CACHE_SIZE)
    return compiled


def matches(s: Any, pattern: Any) -> bool:
    """``s.matches(re)``: RE2 syntax, true if the pattern matches any substring."""
    if type(s) is not str or type(pattern) is not str:
        raise _no_overload("matches", s, pattern)
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        compiled = compile_regex(pattern)
    try:
        return compiled.search(s) is not None
    except UnicodeError:
        raise EvalError("matches: string is not valid UTF-8 (unpaired surrogate)") from None


# --- conversions: int, uint, double ----------------------------------------------------------

_DECIMAL_INT = re.compile(r"[+-]?[0-9]+")  # Go strconv.ParseInt(s, 10, 64)
_DECIMAL_UINT = re.compile(r"[0-9]+")  # Go strconv.ParseUint(s, 10, 64)
_MAX_INT_DIGITS = 25  # longer digit strings are out of range; avoids Python's int-str limit


def _parse_int(text: str, pattern: re.Pattern[str], what: str) -> int:
    if pattern.fullmatch(text) is None:
        raise EvalError(f"cannot convert string {_show(text)} to {what}")
    if len(text) > _MAX_INT_DIGITS:
        raise EvalError(f"{what}64 overflow")
    return int(text)


def _int_from_double(v: float) -> int:
    # cel-go: the open interval (-2^63, 2^63); NaN and infinities are out of range too.
    if not (-9.223372036854775808e18 < v < 9.223372036854775808e18):
        raise EvalError(f"int64 overflow: double {v!r} out of int range")
    return int(v)


def _int_from_uint(v: UInt) -> int:
    if v > INT64_MAX:
        raise EvalError("int64 overflow: uint out of int range")
    return int(v)


def _int_from_string(text: str) -> int:
    v = _parse_int(text, _DECIMAL_INT, "int")
    if INT64_MIN <= v <= INT64_MAX:
        return v
    raise EvalError("int64 overflow")


_TO_INT: dict[type, Callable[[Any], int]] = {
    int: lambda v: v,
    UInt: _int_from_uint,
    float: _int_from_double,
    str: _int_from_string,
    Timestamp: lambda v: v.nanos // NANOS,  # seconds since the epoch (floor, as Go's Unix())
    Duration: lambda v: v.nanos,  # cel-go: nanoseconds
}


def to_int(v: Any) -> int:
    """``int(v)``: int, uint, double (truncating, range-checked), string, timestamp, duration."""
    f = _TO_INT.get(type(v))
    if f is None:
        raise _no_overload("int", v)
    return f(v)


def _uint_from_int(v: int) -> UInt:
    if v < 0:
        raise EvalError("uint64 overflow: negative int")
    return UInt(v)


def _uint_from_double(v: float) -> UInt:
    # cel-go: [0, 2^64); a negative fraction such as -0.5 is rejected, not truncated to 0.
    if not (0.0 <= v < 1.8446744073709551616e19):
        raise EvalError(f"uint64 overflow: double {v!r} out of uint range")
    return UInt(int(v))


def _uint_from_string(text: str) -> UInt:
    v = _parse_int(text, _DECIMAL_UINT, "uint")
    if v <= UINT64_MAX:
        return UInt(v)
    raise EvalError("uint64 overflow")


_TO_UINT: dict[type, Callable[[Any], UInt]] = {
    UInt: lambda v: v,
    int: _uint_from_int,
    float: _uint_from_double,
    str: _uint_from_string,
}


def to_uint(v: Any) -> UInt:
    """``uint(v)``: uint, int (>= 0), double (truncating, range-checked) or string."""
    f = _TO_UINT.get(type(v))
    if f is None:
        raise _no_overload("uint", v)
    return f(v)


# Go strconv.ParseFloat: decimal with optional exponent, hex with a binary exponent,
# inf/infinity (signed) and nan, case-insensitive; no surrounding space, no underscores.
_DECIMAL_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_SPECIAL_FLOAT = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
                  "+infinity": math.inf, "-infinity": -math.inf, "nan": math.nan}


def _double_from_string(text: str) -> float:
    special = _SPECIAL_FLOAT.get(text.lower())
    if special is not None:
        return special
    try:
        if _DECIMAL_FLOAT.fullmatch(text):
            v = float(text)
        elif _HEX_FLOAT.fullmatch(text):
            v = float.fromhex(text)
        else:
            raise EvalError(f"cannot convert string {_show(text)} to double")
    except OverflowError:
        v = math.inf
    if math.isinf(v):
        raise EvalError(f"double out of range: {_show(text)}")
    return v


_TO_DOUBLE: dict[type, Callable[[Any], float]] = {
    float: lambda v: v,
    int: float,
    UInt: float,
    str: _double_from_string,
}


def to_double(v: Any) -> float:
    """``double(v)``: double, int, uint (nearest double) or string."""
    f = _TO_DOUBLE.get(type(v))
    if f is None:
        raise _no_overload("double", v)
    return f(v)


# --- conversions: string, bytes, bool ----------------------------------------------------------

def format_double(v: float) -> str:
    """Go's ``fmt.Sprintf("%g", v)``: shortest digits; exponent form below 1e-4 or from 1e6.

    Examples: 1.0 -> "1", 123.456 -> "123.456", 1e6 -> "1e+06", 1.5e-05 -> "1.5e-05".
    """
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, v) < 0 else ""
    if v == 0.0:
        return sign + "0"
    mantissa, _, exp_text = repr(abs(v)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    point = len(whole) + int(exp_text or "0")  # digits before the decimal point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        rest = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{rest}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _string_from_bytes(v: bytes) -> str:
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError:
        raise EvalError("invalid UTF-8 in bytes converted to string") from None


_TO_STRING: dict[type, Callable[[Any], str]] = {
    str: lambda v: v,
    int: int.__repr__,  # decimal digits; 5x faster than f"{v:d}" (a format spec per call)
    UInt: int.__repr__,  # not repr(): UInt's own repr adds the "u" suffix
    float: format_double,
    bool: lambda v: "true" if v else "false",
    bytes: _string_from_bytes,
    Timestamp: format_timestamp,
    Duration: format_duration,
}


def to_string(v: Any) -> str:
    """``string(v)`` for string, int, uint, double, bool, bytes (UTF-8), timestamp, duration."""
    f = _TO_STRING.get(type(v))
    if f is None:
        raise _no_overload("string", v)
    return f(v)


def to_bytes(v: object) -> bytes:
    """``bytes(v)``: bytes, or the UTF-8 encoding of a string."""
    if type(v) is bytes:
        return v
    if type(v) is str:
        try:
            return v.encode("utf-8")
        except UnicodeEncodeError:
            raise EvalError("invalid UTF-8: string holds an unpaired surrogate") from None
    raise _no_overload("bytes", v)


# Go strconv.ParseBool, which cel-go uses.
_BOOL_WORDS = {"1": True, "t": True, "T": True, "true": True, "TRUE": True, "True": True,
               "0": False, "f": False, "F": False, "false": False, "FALSE": False,
               "False": False}


def to_bool(v: object) -> bool:
    """``bool(v)``: bool, or one of the strings 1/0, t/f, true/false (three casings)."""
    if type(v) is bool:
        return v
    if type(v) is str:
        b = _BOOL_WORDS.get(v)
        if b is None:
            raise EvalError(f"type conversion error: cannot convert string {_show(v)} to bool")
        return b
    raise _no_overload("bool", v)


def dyn(v: Any) -> Any:
    """``dyn(v)``: the value itself (only the type checker sees a difference)."""
    return v


def type_of(v: Any) -> CelType:
    """``type(v)``: the CelType of a value."""
    try:
        return cel_type(v)
    except TypeError:
        raise EvalError(f"type(): {type(v).__name__} is not a CEL value") from None


# --- conversions: timestamp, duration -----------------------------------------------------------

def to_timestamp(v: object) -> Timestamp:
    """``timestamp(v)``: an RFC 3339 string, int seconds since the epoch, or a timestamp."""
    if type(v) is str:
        return parse_timestamp(v)
    if type(v) is int:
        return timestamp_from_seconds(v)
    if type(v) is Timestamp:
        return v
    raise _no_overload("timestamp", v)


def to_duration(v: object) -> Duration:
    """``duration(v)``: a Go-style duration string such as "1h30m", or a duration."""
    if type(v) is str:
        return parse_duration(v)
    if type(v) is Duration:
        return v
    raise _no_overload("duration", v)


# --- the table ----------------------------------------------------------------------------------

_NONE: frozenset[int] = frozenset()
_ONE = frozenset({1})


def _global(impl: Callable[..., Any], result: str) -> FunctionSpec:
    return FunctionSpec(impl, _ONE, _NONE, result)


def _member(impl: Callable[..., Any], result: str, *arities: int) -> FunctionSpec:
    return FunctionSpec(impl, _NONE, frozenset(arities), result)


_TS, _DUR = "google.protobuf.Timestamp", "google.protobuf.Duration"
FUNCTIONS: dict[str, FunctionSpec] = {
    "size": FunctionSpec(size, _ONE, frozenset({0}), "int"),
    "contains": _member(contains, "bool", 1),
    "startsWith": _member(starts_with, "bool", 1),
    "endsWith": _member(ends_with, "bool", 1),
    "matches": FunctionSpec(matches, frozenset({2}), _ONE, "bool"),
    "int": _global(to_int, "int"),
    "uint": _global(to_uint, "uint"),
    "double": _global(to_double, "double"),
    "string": _global(to_string, "string"),
    "bytes": _global(to_bytes, "bytes"),
    "bool": _global(to_bool, "bool"),
    "dyn": _global(dyn, "dyn"),
    "type": _global(type_of, "type"),
    "timestamp": _global(to_timestamp, _TS),
    "duration": _global(to_duration, _DUR),
    **{name: _member(accessor(name), "int", 0, 1) for name in ACCESSOR_NAMES},
}
