"""Time parsing: cancel-rule timeouts ("30s", "1h30m", "2d", "1w" or RFC 3339) and RFC 3339 text.

Durations follow the str2duration grammar Inngest's SDKs accept: one or more
``<number><unit>`` pairs, units w d h m s ms us ns. All results are epoch milliseconds.

Range. Every time the service accepts or computes lies in [MIN_TIME_MS, MAX_TIME_MS]:
1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z, the span RFC 3339 (four-digit years)
and SQLite's int64 columns can both hold, so a stored time is always presentable. The
parsers here raise ValueError past it; :func:`format_rfc3339` is total (it clamps) so a
value stored before these checks existed still lists.
"""

from __future__ import annotations

import datetime as dt
import math
import re

DEFAULT_TIMEOUT_MS = 365 * 24 * 3600 * 1000
MIN_TIME_MS = 0
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
TIME_RANGE = "1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z"

_UNIT_MS = {
    "w": 7 * 86_400_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
    "s": 1_000,
    "ms": 1,
    "us": 0.001,
    "µs": 0.001,
    "ns": 0.000001,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|w|d|h|m|s)")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|w|d|h|m|s))+")
# RFC 3339 section 5.6 date-time: full-date "T" full-time, offset Z or ±hh:mm (T and Z in
# either case, as the RFC allows). fromisoformat alone also takes ISO 8601 forms (week
# dates, no separators, no offset) that are not RFC 3339.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_FIRST_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z, the earliest datetime


def parse_duration_ms(text: str) -> int:
    """Milliseconds in a duration such as ``"1h30m"``; ValueError says what was expected."""
    if not _DURATION.fullmatch(text):
        raise ValueError(
            f"invalid duration {text!r}: expected e.g. '30s', '1h30m', '2d', '1w' "
            "(units w, d, h, m, s, ms) or an RFC 3339 time"
        )
    total = sum(float(n) * _UNIT_MS[u] for n, u in _PART.findall(text))
    if not math.isfinite(total) or total > MAX_TIME_MS:
        raise ValueError(f"duration {text[:40]!r} is longer than any supported time "
                         f"(times run from {TIME_RANGE})")
    return round(total)


def parse_rfc3339_ms(text: str) -> int:
    """Epoch milliseconds of an RFC 3339 time with an explicit offset (``Z`` or ``+hh:mm``),
    within MIN_TIME_MS..MAX_TIME_MS."""
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"invalid RFC 3339 time {text[:64]!r}: expected e.g. "
                         "'2024-01-22T14:22:42.130Z' (date, 'T', time and offset)")
    try:
        # fromisoformat takes at most 6 fraction digits: nanoseconds are cut to micros.
        head, dot, rest = text.partition(".")
        if dot:
            digits = len(rest) - len(rest.lstrip("0123456789"))
            text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
        when = dt.datetime.fromisoformat(text.upper())
        ms = (when - _EPOCH) // dt.timedelta(milliseconds=1)
    except (ValueError, OverflowError):
        raise ValueError(f"invalid RFC 3339 time {text[:64]!r}: no such date or time") from None
    if not MIN_TIME_MS <= ms <= MAX_TIME_MS:
        raise ValueError(f"{text!r} is out of range: times run from {TIME_RANGE}")
    return ms


def expires_at_ms(timeout: str, started_at_ms: int, default_ms: int = DEFAULT_TIMEOUT_MS) -> int:
    """When a listener with ``timeout`` expires: a duration from the run start or a time.
    ValueError when the timeout is malformed or the expiry falls past MAX_TIME_MS."""
    if not timeout:
        expires = started_at_ms + default_ms
    elif _DURATION.fullmatch(timeout):
        expires = started_at_ms + parse_duration_ms(timeout)
    else:
        try:
            return parse_rfc3339_ms(timeout)
        except ValueError as exc:
            if _RFC3339.fullmatch(timeout):
                raise  # well-formed but out of range: say so
            raise ValueError(
                f"invalid timeout {timeout[:64]!r}: expected a duration such as '30s', "
                "'1h30m', '2d', '1w' or an RFC 3339 time such as '2030-01-01T00:00:00Z'"
            ) from exc
    if expires > MAX_TIME_MS:
        raise ValueError(f"the listener would expire after 9999-12-31T23:59:59.999Z, the "
                         f"latest supported time (times run from {TIME_RANGE})")
    return expires


def format_rfc3339(ms: int) -> str:
    """``2024-01-02T03:04:05.678Z`` for epoch milliseconds ``ms``.

    Total: values outside the years 1..9999 (only a store written before the range checks
    can hold them) are clamped to the nearest representable time instead of raising.
    """
    ms = min(max(ms, _FIRST_MS), MAX_TIME_MS)
    when = _EPOCH + dt.timedelta(milliseconds=ms)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
