"""Small parsers: timeouts, RFC 3339, ULIDs, the signing-key check."""

from __future__ import annotations

import pytest

from server._timeouts import expires_at_ms, format_rfc3339, parse_duration_ms, parse_rfc3339_ms
from server._ulid import is_ulid, new_ulid, ulid_time_ms
from server.auth import Keyring
from server.errors import Unauthenticated


@pytest.mark.parametrize(("text", "ms"), [
    ("30s", 30_000), ("1h30m", 5_400_000), ("2d", 172_800_000), ("1w", 604_800_000),
    ("1.5h", 5_400_000), ("250ms", 250), ("1d12h", 129_600_000),
])
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "1", "s", "1y", "-1s", "1h 30m", "1H"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration_ms(text)


def test_rfc3339_round_trip() -> None:
    assert parse_rfc3339_ms("2023-11-14T22:13:20.123Z") == 1_700_000_000_123
    assert parse_rfc3339_ms("2023-11-14T23:13:20.123+01:00") == 1_700_000_000_123
    assert format_rfc3339(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"
    with pytest.raises(ValueError, match="offset"):
        parse_rfc3339_ms("2023-11-14T22:13:20")


def test_timeout_from_start_or_absolute() -> None:
    assert expires_at_ms("", 1000, default_ms=5) == 1005
    assert expires_at_ms("1s", 1000) == 2000
    assert expires_at_ms("1970-01-01T00:00:10Z", 1000) == 10_000
    with pytest.raises(ValueError, match="invalid timeout 'tomorrow'"):
        expires_at_ms("tomorrow", 0)


def test_ulids() -> None:
    u = new_ulid(1_700_000_000_000)
    assert is_ulid(u) and ulid_time_ms(u) == 1_700_000_000_000
    assert is_ulid(u.lower())
    for bad in ["", "x" * 26, "8" + u[1:], u[:-1], u[:-1] + "U"]:
        assert not is_ulid(bad), bad


@pytest.mark.parametrize(("header", "key", "ok"), [
    (None, None, True),
    ("anything", None, True),
    (None, "secret", False),
    ("Bearer secret", "secret", True),
    ("bearer secret", "secret", True),
    ("Bearer wrong", "secret", False),
    ("Basic secret", "secret", False),
    ("Bearer ", "secret", False),
    # The whole key is compared: the signkey-<type>- prefix is part of it (issue 9).
    ("Bearer signkey-prod-abc123", "abc123", False),
    ("Bearer abc123", "signkey-prod-abc123", False),
    ("Bearer signkey-test-abc123", "signkey-prod-abc123", False),
    ("Bearer signkey-prod-abc124", "signkey-prod-abc123", False),
    ("Bearer signkey-prod-abc123", "signkey-prod-abc123", True),
])
def test_authorized(header: str | None, key: str | None, ok: bool) -> None:
    try:
        Keyring(key).authorize(header, ["default"])
    except Unauthenticated:
        assert not ok
    else:
        assert ok
