"""Values: the CEL runtime value model and its mapping to plain Python.

CEL type        Python representation
-----------     -----------------------------------------------------------------
int             int (never bool: ``type(v) is int`` is the test everywhere)
uint            UInt (an int subclass, so arithmetic helpers stay simple)
double          float
bool            bool
string          str
bytes           bytes
null_type       None
list            list (tuples are accepted as input and treated as lists)
map             dict (a bool key is stored as BoolKey: see below)
timestamp       Timestamp (nanoseconds since the Unix epoch, exact)
duration        Duration (nanoseconds, exact)
type            CelType (``str()`` is the CEL type name)

Python's dict treats ``True`` as the key ``1`` and ``False`` as ``0``; CEL keeps them apart
(``{true: 'a', 1: 'b'}`` has two entries). So a map's bool keys are stored as the two
``BoolKey`` objects ``TRUE_KEY`` and ``FALSE_KEY``, which equal nothing but themselves; a
map literal, ``from_python``, lookups, ``in`` and iteration convert at that boundary. A
map holding a bool key therefore shows ``true``/``false`` keys (``str(key)``).

JSON: objects → maps, arrays → lists, strings, bools, null; integers stay exact CEL
``int`` (``uint`` when only uint64 holds them, ``double`` beyond that) and JSON numbers
with a fraction or exponent are ``double``. cel-go evaluating Go-decoded JSON sees every
number as a double (``encoding/json`` decodes into float64), so ``9007199254740993`` loses
its last digit there and ``1 == 1.0`` is the only equality it can express; we keep
integers exact because event ids and amounts are integers in practice.
"""

from __future__ import annotations

import json
from typing import Any

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1

# Timestamps are valid from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
TIMESTAMP_MIN_SECONDS = -62135596800
TIMESTAMP_MAX_SECONDS = 253402300799

NANOS = 1_000_000_000


class UInt(int):
    """A CEL ``uint``. Equal to (and hashing like) the int of the same value, as CEL's
    heterogeneous numeric equality requires; ``type(v) is UInt`` tells it apart."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


class Timestamp:
    """A CEL ``google.protobuf.Timestamp``: exact nanoseconds since the Unix epoch (UTC)."""

    __slots__ = ("nanos",)

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __eq__(self, other: object) -> bool:
        return type(other) is Timestamp and other.nanos == self.nanos

    def __lt__(self, other: Timestamp) -> bool:
        return self.nanos < other.nanos

    def __le__(self, other: Timestamp) -> bool:
        return self.nanos <= other.nanos

    def __gt__(self, other: Timestamp) -> bool:
        return self.nanos > other.nanos

    def __ge__(self, other: Timestamp) -> bool:
        return self.nanos >= other.nanos

    def __hash__(self) -> int:
        return hash(("ts", self.nanos))

    def __repr__(self) -> str:
        return f"Timestamp({format_timestamp(self)!r})"

    def __str__(self) -> str:
        return format_timestamp(self)


class Duration:
    """A CEL ``google.protobuf.Duration``: exact signed nanoseconds."""

    __slots__ = ("nanos",)

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __eq__(self, other: object) -> bool:
        return type(other) is Duration and other.nanos == self.nanos

    def __lt__(self, other: Duration) -> bool:
        return self.nanos < other.nanos

    def __le__(self, other: Duration) -> bool:
        return self.nanos <= other.nanos

    def __gt__(self, other: Duration) -> bool:
        return self.nanos > other.nanos

    def __ge__(self, other: Duration) -> bool:
        return self.nanos >= other.nanos

    def __hash__(self) -> int:
        return hash(("dur", self.nanos))

    def __repr__(self) -> str:
        return f"Duration({format_duration(self)!r})"

    def __str__(self) -> str:
        return format_duration(self)


class BoolKey:
    """A bool as a map key (``TRUE_KEY`` / ``FALSE_KEY``): distinct from the keys 1 and 0."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "true" if self.value else "false"

    __str__ = __repr__


TRUE_KEY = BoolKey(True)
FALSE_KEY = BoolKey(False)


def map_key(key: Any) -> Any:
    """How ``key`` is stored in (and looked up from) a dict that is a CEL map."""
    if key is True:
        return TRUE_KEY
    if key is False:
        return FALSE_KEY
    return key


def key_value(key: Any) -> Any:
    """The CEL value of a stored map key (the inverse of ``map_key``)."""
    return key.value if type(key) is BoolKey else key


class CelType:
    """A CEL type value, e.g. the result of ``type(1)``. Interned: compare with ``is``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"CelType({self.name!r})"

    def __str__(self) -> str:
        return self.name


TYPES: dict[str, CelType] = {
    name: CelType(name)
    for name in (
        "int", "uint", "double", "bool", "string", "bytes", "null_type", "list", "map",
        "type", "google.protobuf.Timestamp", "google.protobuf.Duration",
    )
}

_TYPE_NAME_BY_PY: dict[type, str] = {
    int: "int",
    UInt: "uint",
    float: "double",
    bool: "bool",
    str: "string",
    bytes: "bytes",
    type(None): "null_type",
    list: "list",
    tuple: "list",
    dict: "map",
    Timestamp: "google.protobuf.Timestamp",
    Duration: "google.protobuf.Duration",
    CelType: "type",
}


def cel_type_name(value: Any) -> str:
    """The CEL type name of a runtime value: ``"int"``, ``"uint"``, ``"map"``, ...

    Raises TypeError for a Python value that has no CEL counterpart.
    """
    try:
        return _TYPE_NAME_BY_PY[type(value)]
    except KeyError:
        raise TypeError(f"{type(value).__name__} is not a CEL value") from None


def cel_type(value: Any) -> CelType:
    """The CEL type value of ``value`` (what ``type(value)`` returns in CEL)."""
    return TYPES[cel_type_name(value)]


def _json_int(text: str) -> int | float:
    v = int(text)
    if INT64_MIN <= v <= INT64_MAX:
        return v
    if 0 <= v <= UINT64_MAX:
        return UInt(v)
    return float(v)


_DECODER = json.JSONDecoder(parse_int=_json_int)


def loads_json(text: str | bytes) -> Any:
    """Decode JSON into CEL values: exact ints (uint/double only past int64), floats as double.

    Raises ValueError (``json.JSONDecodeError``) with the position of malformed input.
    """
    if not isinstance(text, str):
        text = text.decode("utf-8")  # as json.loads does (JSON text is UTF-8)
    return _DECODER.decode(text)


def from_python(value: Any, *, where: str = "value") -> Any:
    """Check and convert an already-decoded Python value into CEL values.

    Ints outside int64 become uint or double like ``loads_json``; tuples become lists.
    Raises TypeError naming the first unsupported value and where it was found.
    """
    t = type(value)
    if t is int:
        return value if INT64_MIN <= value <= INT64_MAX else _json_int(str(value))
    if t in (str, float, bool, UInt, bytes, Timestamp, Duration, CelType) or value is None:
        return value
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) not in (str, int, bool, UInt, BoolKey):
                raise TypeError(f"{where}: map key {k!r} is not a CEL key type")
            out[map_key(k)] = from_python(v, where=f"{where}.{k}")
        return out
    if t in (list, tuple):
        return [from_python(v, where=f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where}: {t.__name__} is not a CEL value")


def format_timestamp(ts: Timestamp) -> str:
    """RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits (protobuf's JSON form)."""
    import datetime as _dt

    secs, nanos = divmod(ts.nanos, NANOS)
    base = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=secs)
    text = base.strftime("%Y-%m-%dT%H:%M:%S")
    if len(text) < 19:  # years before 1000 print without padding on some platforms
        text = f"{base.year:04d}" + text[text.index("-"):]
    if nanos:
        frac = f"{nanos:09d}"
        if frac.endswith("000000"):
            frac = frac[:3]
        elif frac.endswith("000"):
            frac = frac[:6]
        text += "." + frac
    return text + "Z"


def format_duration(d: Duration) -> str:
    """Seconds with an optional 3/6/9-digit fraction and an ``s`` (protobuf's JSON form)."""
    sign = "-" if d.nanos < 0 else ""
    secs, nanos = divmod(abs(d.nanos), NANOS)
    if not nanos:
        return f"{sign}{secs}s"
    frac = f"{nanos:09d}"
    if frac.endswith("000000"):
        frac = frac[:3]
    elif frac.endswith("000"):
        frac = frac[:6]
    return f"{sign}{secs}.{frac}s"
