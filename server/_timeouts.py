"""Time parsing: cancel-rule timeouts ("30s", "1h30m", "2d", "1w" or RFC 3339) and RFC 3339 text.

Durations follow the str2duration grammar Inngest's SDKs accept: one or more
``<number><unit>`` pairs, units w d h m s ms us ns. All results are epoch milliseconds.
"""

from __future__ import annotations

import datetime as dt
import re

DEFAULT_TIMEOUT_MS = 365 * 24 * 3600 * 1000

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


def parse_duration_ms(text: str) -> int:
    """Milliseconds in a duration such as ``"1h30m"``; ValueError says what was expected."""
    if not _DURATION.fullmatch(text):
        raise ValueError(
            f"invalid duration {text!r}: expected e.g. '30s', '1h30m', '2d', '1w' "
            "(units w, d, h, m, s, ms) or an RFC 3339 time"
        )
    return round(sum(float(n) * _UNIT_MS[u] for n, u in _PART.findall(text)))


def parse_rfc3339_ms(text: str) -> int:
    """Epoch milliseconds of an RFC 3339 time with an explicit offset (``Z`` or ``+hh:mm``)."""
    try:
        when = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"invalid RFC 3339 time {text!r}") from None
    if when.tzinfo is None or "T" not in text.upper():
        raise ValueError(f"invalid RFC 3339 time {text!r}: a date, time and offset are required")
    return int(when.timestamp() * 1000)


def expires_at_ms(timeout: str, started_at_ms: int, default_ms: int = DEFAULT_TIMEOUT_MS) -> int:
    """When a listener with ``timeout`` expires: a duration from the run start or a time."""
    if not timeout:
        return started_at_ms + default_ms
    if _DURATION.fullmatch(timeout):
        return started_at_ms + parse_duration_ms(timeout)
    try:
        return parse_rfc3339_ms(timeout)
    except ValueError:
        raise ValueError(
            f"invalid timeout {timeout!r}: expected a duration such as '30s', '1h30m', '2d', "
            "'1w' or an RFC 3339 time such as '2030-01-01T00:00:00Z'"
        ) from None


def format_rfc3339(ms: int) -> str:
    """``2024-01-02T03:04:05.678Z`` for epoch milliseconds ``ms``."""
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
