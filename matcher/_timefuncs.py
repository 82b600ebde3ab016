"""Runtime: CEL timestamps and durations — parsing, range checks and calendar accessors.

Ranges (CEL spec "Timestamps and durations", with the reference engines' arithmetic):

* a timestamp lies in 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z, whether it is
  parsed, converted from seconds, or computed by ``timestamp +/- duration``;
* a duration fits in int64 nanoseconds (about +-292 years), whether it is parsed by
  ``duration()`` or computed (``duration +/- duration``, ``timestamp - timestamp``): the
  spec's range, and cel-go's (Go's ``time.ParseDuration`` refuses ``2562048h``). So a value
  is refused where it is made, never accepted and then refused by ``+ duration('0s')``;
  the conformance test ``timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')``
  fails although its 315,537,897,599 s would fit protobuf's wider range.

Calendar fields are computed from day numbers with the proleptic Gregorian algorithms rather
than ``datetime``, so a time zone that moves the wall clock before year 1 or past 9999 still
gives an answer (cel-go answers year 0 there) instead of an OverflowError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from matcher._caches import put_bounded, register
from matcher._errors import EvalError
from matcher._values import (
    INT64_MAX,
    INT64_MIN,
    NANOS,
    TIMESTAMP_MAX_SECONDS,
    TIMESTAMP_MIN_SECONDS,
    Duration,
    Timestamp,
    cel_type_name,
)

TIMESTAMP_MIN_NANOS = TIMESTAMP_MIN_SECONDS * NANOS
TIMESTAMP_MAX_NANOS = TIMESTAMP_MAX_SECONDS * NANOS + NANOS - 1

_SECONDS_PER_DAY = 86_400
_NANOS_PER_MILLI = 1_000_000


def _show(text: str) -> str:
    """``repr`` of user text for an error message, cut so a huge input cannot flood logs."""
    return repr(text) if len(text) <= 64 else repr(text[:61] + "...")


def _type_name(value: Any) -> str:
    try:
        return cel_type_name(value)
    except TypeError:
        return type(value).__name__


def checked_timestamp(nanos: int) -> Timestamp:
    """A Timestamp, or EvalError("timestamp out of range") outside years 0001..9999."""
    if TIMESTAMP_MIN_NANOS <= nanos <= TIMESTAMP_MAX_NANOS:
        return Timestamp(nanos)
    raise EvalError("timestamp out of range")


def checked_duration(nanos: int) -> Duration:
    """A Duration, or EvalError("duration out of range") beyond int64 nanoseconds."""
    if INT64_MIN <= nanos <= INT64_MAX:
        return Duration(nanos)
    raise EvalError("duration out of range")


# --- proleptic Gregorian calendar on day numbers (day 0 = 1970-01-01) ---------------------

def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, incl. 0 and negatives)."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month 1..12, day 1..31) of a day number; inverse of ``days_from_civil``."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


# --- parsing ------------------------------------------------------------------------------

# RFC 3339 (section 5.6): full-date "T" full-time; "T"/"Z" may be lower case (RFC 3339 5.6
# NOTE). Any number of fraction digits is accepted and cut to nanoseconds, like cel-go.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def parse_timestamp(text: str) -> Timestamp:
    """``timestamp(string)``: RFC 3339 text such as ``2009-02-13T23:31:30.5+01:00``."""
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise EvalError(
            f"invalid timestamp {_show(text)}: expected RFC 3339 like '2006-01-02T15:04:05Z'"
        )
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)
            and hour <= 23 and minute <= 59 and second <= 59):
        raise EvalError(f"invalid timestamp {_show(text)}: date or time field out of range")
    offset = 0
    if m.group(8):
        oh, om = int(m.group(9)), int(m.group(10))
        if oh > 23 or om > 59:
            raise EvalError(f"invalid timestamp {_show(text)}: UTC offset out of range")
        offset = (oh * 3600 + om * 60) * (-1 if m.group(8) == "-" else 1)
    frac = m.group(7) or ""
    nanos = int(frac[:9].ljust(9, "0")) if frac else 0
    secs = days_from_civil(year, month, day) * _SECONDS_PER_DAY + hour * 3600 + minute * 60
    return checked_timestamp((secs + second - offset) * NANOS + nanos)


def timestamp_from_seconds(seconds: int) -> Timestamp:
    """``timestamp(int)``: seconds since the Unix epoch."""
    return checked_timestamp(seconds * NANOS)


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign, as Go's time.ParseDuration accepts
    "\u03bcs": 1_000,  # Greek small letter mu
    "ms": 1_000_000,
    "s": NANOS,
    "m": 60 * NANOS,
    "h": 3600 * NANOS,
}
# Go's time.ParseDuration grammar: [-+]? ( digits [. digits] unit )+, or a bare "0".
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)", re.ASCII)
# More integer digits than this overflows the range in any unit; checked before int() so a
# huge digit string cannot hit Python's int-parsing limit.
_MAX_DURATION_DIGITS = 22
# Fraction digits beyond this change no result: 3600e9 * 1e-30 is far below a nanosecond.
_MAX_FRACTION_DIGITS = 30


_MAX_DURATION_PARTS = 64
"""Number-and-unit parts of a duration text (``1h30m`` has two). Go parses any number, but
here each part is a step of a Python loop; 64 hold any duration a person writes and keep
one ``duration()`` call far below a millisecond whatever string an event carries."""


def parse_duration(text: str) -> Duration:
    """``duration(string)``: Go duration syntax such as ``1h30m``, ``-1.5s``, ``2us``, ``3ns``."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if body == "0":
        return Duration(0)
    if not body:
        raise EvalError(f"invalid duration {_show(text)}: expected e.g. '1h30m' or '-1.5s'")
    total = 0
    pos = parts = 0
    while pos < len(body):
        parts += 1
        if parts > _MAX_DURATION_PARTS:
            raise EvalError(f"invalid duration {_show(text)}: more than {_MAX_DURATION_PARTS} "
                            "parts")
        m = _DURATION_PART.match(body, pos)
        if m is None or not (m.group(1) or m.group(2)):
            raise EvalError(f"invalid duration {_show(text)}: expected e.g. '1h30m' or '-1.5s'")
        whole, frac, unit = m.group(1), m.group(2) or "", _DURATION_UNITS[m.group(3)]
        if len(whole) > _MAX_DURATION_DIGITS:
            raise EvalError("duration out of range")
        frac = frac[:_MAX_FRACTION_DIGITS]
        total += int(whole or "0") * unit
        if frac:
            total += int(frac) * unit // 10 ** len(frac)
        pos = m.end()
    return checked_duration(-total if text[0] == "-" else total)


# --- time zones -----------------------------------------------------------------------------

_ZONE_CACHE: dict[str, tzinfo] = {}
_ZONE_CACHE_SIZE = 64
"""Zones kept resolved; a handful are used in practice, the bound stops a flood of names."""
register("zones", lambda: len(_ZONE_CACHE), lambda: _ZONE_CACHE_SIZE)

_ATOI = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)  # Go's strconv.Atoi, within int64
_MAX_OFFSET_MINUTES = (1 << 63) // (60 * NANOS)
"""Largest fixed offset cel-go computes without its time.Duration overflowing (~292 years)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _zone(name: str) -> tzinfo:
    zone = _ZONE_CACHE.get(name)
    if zone is not None:
        return zone
    try:
        zone = ZoneInfo(name) if name else UTC  # cel-go: "" is UTC
    except (KeyError, ValueError, OSError, UnicodeError):
        raise EvalError(f"invalid time zone {_show(name)}: expected an IANA name "
                        "like 'America/Los_Angeles' or an offset like '+05:30'") from None
    put_bounded(_ZONE_CACHE, name, zone, _ZONE_CACHE_SIZE)
    return zone


def _fixed_offset(tz: str) -> int:
    """Seconds east of UTC of a fixed offset ``H:M``, computed as cel-go does: hours and
    minutes are Go integers (``+05:30``, ``-8:00``, ``24:00``, ``+100:00`` — any number of
    hours, as cel-go and CEL C++ compute them), minutes must be 0..59, and a leading ``-``
    makes the minutes count west as well. An offset so large that cel-go's time.Duration
    would overflow (about 292 years) is refused instead of wrapping around."""
    hours, _, minutes = tz.partition(":")
    if _ATOI.fullmatch(hours) is None or _ATOI.fullmatch(minutes) is None:
        raise EvalError(f"invalid time zone offset {_show(tz)}: expected [+-]HH:MM")
    h, m = int(hours), int(minutes)
    if not 0 <= m <= 59:
        raise EvalError(f"invalid time zone offset {_show(tz)}: minutes must be 0..59")
    offset = h * 60 - m if tz[0] == "-" else h * 60 + m
    if abs(offset) > _MAX_OFFSET_MINUTES:
        raise EvalError(f"invalid time zone offset {_show(tz)}: out of range")
    return offset * 60


def utc_offset_seconds(ts: Timestamp, tz: Any) -> int:
    """Seconds east of UTC of zone ``tz`` at instant ``ts``: an IANA name, or (cel-go: a
    ``:`` means an offset) a fixed offset such as ``+05:30`` (see ``_fixed_offset``)."""
    if type(tz) is not str:
        raise EvalError(f"no such overload: time zone must be a string, got {_type_name(tz)}")
    if ":" in tz:
        return _fixed_offset(tz)
    zone = _zone(tz)
    instant = _EPOCH + timedelta(seconds=ts.nanos // NANOS)
    try:
        offset = instant.astimezone(zone).utcoffset()
    except OverflowError:
        # The wall clock falls before year 1 or after 9999; no zone has transitions there,
        # so the offset of the same naive time is the one in force.
        offset = zone.utcoffset(instant.replace(tzinfo=None))
    return int(offset.total_seconds()) if offset is not None else 0


# --- accessors ------------------------------------------------------------------------------

def _local_seconds(ts: Timestamp, tz: Any) -> int:
    secs = ts.nanos // NANOS
    return secs if tz is None else secs + utc_offset_seconds(ts, tz)


def _civil(ts: Timestamp, tz: Any) -> tuple[int, int, int, int]:
    """(days since epoch, year, month, day) of the wall-clock date in ``tz``."""
    days = _local_seconds(ts, tz) // _SECONDS_PER_DAY
    return (days, *civil_from_days(days))


def _full_year(ts: Timestamp, tz: Any) -> int:
    return _civil(ts, tz)[1]


def _month(ts: Timestamp, tz: Any) -> int:
    return _civil(ts, tz)[2] - 1


def _day_of_year(ts: Timestamp, tz: Any) -> int:
    days, year, _, _ = _civil(ts, tz)
    return days - days_from_civil(year, 1, 1)


def _day_of_month(ts: Timestamp, tz: Any) -> int:
    return _civil(ts, tz)[3] - 1


def _date(ts: Timestamp, tz: Any) -> int:
    return _civil(ts, tz)[3]


def _day_of_week(ts: Timestamp, tz: Any) -> int:
    # 1970-01-01 was a Thursday; CEL counts 0 = Sunday.
    return (_local_seconds(ts, tz) // _SECONDS_PER_DAY + 4) % 7


def _hours(ts: Timestamp, tz: Any) -> int:
    return _local_seconds(ts, tz) % _SECONDS_PER_DAY // 3600


def _minutes(ts: Timestamp, tz: Any) -> int:
    return _local_seconds(ts, tz) % 3600 // 60


def _seconds(ts: Timestamp, tz: Any) -> int:
    return _local_seconds(ts, tz) % 60


def _milliseconds(ts: Timestamp, tz: Any) -> int:
    if tz is not None:
        utc_offset_seconds(ts, tz)  # still reject a bad zone
    return ts.nanos % NANOS // _NANOS_PER_MILLI


def _truncating(unit: int) -> Callable[[Duration], int]:
    def total(d: Duration) -> int:
        q = abs(d.nanos) // unit
        return -q if d.nanos < 0 else q
    return total


def _duration_millis_part(d: Duration) -> int:
    # The conformance test and CEL C++ give the millisecond *component* (123.321s -> 321),
    # unlike the hours/minutes/seconds accessors, which give truncated totals.
    part = abs(d.nanos) % NANOS // _NANOS_PER_MILLI
    return -part if d.nanos < 0 else part


_TIMESTAMP_ACCESSORS: dict[str, Callable[[Timestamp, Any], int]] = {
    "getFullYear": _full_year,
    "getMonth": _month,
    "getDayOfYear": _day_of_year,
    "getDayOfMonth": _day_of_month,
    "getDate": _date,
    "getDayOfWeek": _day_of_week,
    "getHours": _hours,
    "getMinutes": _minutes,
    "getSeconds": _seconds,
    "getMilliseconds": _milliseconds,
}
_DURATION_ACCESSORS: dict[str, Callable[[Duration], int]] = {
    "getHours": _truncating(3600 * NANOS),
    "getMinutes": _truncating(60 * NANOS),
    "getSeconds": _truncating(NANOS),
    "getMilliseconds": _duration_millis_part,
}
ACCESSOR_NAMES = tuple(_TIMESTAMP_ACCESSORS)


def accessor(name: str) -> Callable[..., int]:
    """The implementation of member function ``name``: ``(receiver, tz=None) -> int``.

    Timestamps take an optional time zone; durations take none (CEL spec overloads).
    """
    on_timestamp = _TIMESTAMP_ACCESSORS[name]
    on_duration = _DURATION_ACCESSORS.get(name)

    def impl(receiver: Any, *zone: Any) -> int:
        # *zone rather than a None default: CEL `t.getHours(null)` must not mean UTC.
        t = type(receiver)
        if t is Timestamp:
            if not zone:
                return on_timestamp(receiver, None)
            if len(zone) == 1 and type(zone[0]) is str:
                return on_timestamp(receiver, zone[0])
        elif t is Duration and on_duration is not None and not zone:
            return on_duration(receiver)
        args = ", ".join(_type_name(a) for a in (receiver, *zone))
        raise EvalError(f"no such overload: {name}({args})")

    impl.__name__ = impl.__qualname__ = name
    return impl
