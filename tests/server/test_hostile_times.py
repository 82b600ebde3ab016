"""Out-of-range times (issue 9 item 5): every time and duration is range-checked on the way in.

Before: ``run_started_at = 2^63-1`` and a ``"9"×30 + "d"`` timeout answered INTERNAL
(OverflowError), a year-1 timeout was ``stored`` though it could never fire, and a bulk
cancellation with ``started_before = -2^63`` was committed and then broke every listing.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from server_support import T0, Clock, deleted, make_engine, run_request

from server._model import Event, Rule, RunRequest
from server._timeouts import format_rfc3339, parse_rfc3339_ms
from server.engine import Engine
from server.errors import InvalidArgument
from server.rest import cancellation

INT64 = (-(2**63), 2**63 - 1)
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
RANGE = "from 0 to 253402300799999 (1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z)"


def _with(req: RunRequest, **changes: Any) -> RunRequest:
    trigger = changes.pop("trigger_ts", None)
    if trigger is not None:
        t = req.trigger
        changes["trigger"] = Event(t.id, t.name, trigger, t.data_json)
    return RunRequest(**{**req.__dict__, **changes})


@pytest.mark.parametrize("value", [*INT64, -1, MAX_TIME_MS + 1])
def test_run_started_at_out_of_range_is_invalid_argument(engine: Engine, value: int) -> None:
    with pytest.raises(InvalidArgument) as err:
        engine.register_run(_with(run_request("r1"), started_at=value))
    assert err.value.message == f"run_started_at: {value} is out of range: times are epoch " \
                                f"milliseconds {RANGE}"


@pytest.mark.parametrize("value", [*INT64, -1])
def test_trigger_and_event_ts_out_of_range(engine: Engine, value: int) -> None:
    with pytest.raises(InvalidArgument, match=r"^trigger\.ts: .* is out of range"):
        engine.register_run(_with(run_request("r1"), trigger_ts=value))
    with pytest.raises(InvalidArgument, match=r"^events\[0\]\.ts: .* is out of range"):
        engine.publish_events("prod", [deleted("r1", ts=value)])


@pytest.mark.parametrize(("timeout", "message"), [
    ("9" * 30 + "d", "is longer than any supported time"),
    ("9" * 60 + "w", "is longer than any supported time"),
    ("0001-01-01T00:00:00Z", "is out of range"),
    ("0001-01-01T00:30:00+01:00", "is out of range"),
    ("1969-12-31T23:59:59.999Z", "is out of range"),
    ("x" * 65, "longer than 64 characters"),
])
def test_timeouts_that_cannot_be_times_are_refused(engine: Engine, timeout: str,
                                                   message: str) -> None:
    rules = (Rule("tasks/reminder.deleted", match="data.reminderId", timeout=timeout),)
    with pytest.raises(InvalidArgument, match=rf"^cancel_on\[0\]\.timeout: .*{message}"):
        engine.register_run(run_request("r1", rules=rules))
    assert engine.store.count("runs") == 0


def test_an_expiry_past_year_9999_is_refused(engine: Engine) -> None:
    late = MAX_TIME_MS - 1000
    for rule in (Rule("e", timeout="1d"), Rule("e")):  # an explicit and the default timeout
        with pytest.raises(InvalidArgument, match=r"^cancel_on\[0\]\.timeout: the listener "
                                                  r"would expire after 9999-12-31"):
            engine.register_run(run_request("r1", started_at=late, rules=(rule,)))


@pytest.mark.parametrize(("timeout", "reason"), [
    ("2000-01-01T00:00:00Z", "the timeout ends at 2000-01-01T00:00:00.000Z, before the run "
                             "started at 2023-11-14T22:13:10.000Z"),
    ("5s", "the timeout ended at 2023-11-14T22:13:15.000Z, before the listener was "
           "registered at 2023-11-14T22:13:20.000Z"),
])
def test_an_already_expired_timeout_is_never_fires_not_stored(engine: Engine, timeout: str,
                                                               reason: str) -> None:
    rules = (Rule("tasks/reminder.deleted", match="data.reminderId", timeout=timeout),
             Rule("tasks/reminder.deleted", match="data.reminderId"))
    res = engine.register_run(run_request("r1", started_at=T0 - 10_000, rules=rules))
    assert [(li.status, li.reason) for li in res.listeners] == [("never_fires", reason),
                                                                ("stored", "")]
    assert [row[0] for row in engine.store.listeners_of_run("prod", res.run_id)] == [1]
    assert len(engine.index) == 1


@pytest.mark.parametrize(("after", "before", "message"), [
    (None, -(2**63), "started_before: -9223372036854775808 is out of range"),
    (-(2**63), T0 - 1, "started_after: -9223372036854775808 is out of range"),
    (-1, T0 - 1, "started_after: -1 is out of range"),
])
def test_bulk_window_out_of_range_is_refused(engine: Engine, after: int | None, before: int,
                                             message: str) -> None:
    engine.register_run(run_request("r1"))
    with pytest.raises(InvalidArgument, match=f"^{re.escape(message)}"):
        engine.bulk.create("prod", "reminders", "send-reminder", after, before)
    assert engine.bulk.list("prod") == []


def test_listing_presents_values_stored_before_the_checks(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "db.sqlite3", Clock())
    with engine.store.transaction():  # the row the old code committed
        engine.store._db.execute(
            "INSERT INTO cancellations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("01HF7YAT005Y0CV97J0WQWCA05", "prod", "a", "f", 2**63 - 1, -(2**63), "", T0, 0))
    (c,) = engine.bulk.list("prod")
    shown = cancellation(c).model_dump(by_alias=True)
    assert (shown["started_after"], shown["started_before"]) == (
        "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z")
    engine.close()


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_every_int64_is_presentable(ms: int) -> None:
    assert _RFC3339.fullmatch(format_rfc3339(ms))


@given(st.integers(min_value=0, max_value=MAX_TIME_MS))
def test_every_time_in_range_round_trips(ms: int) -> None:
    assert parse_rfc3339_ms(format_rfc3339(ms)) == ms


@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
       st.integers(min_value=-23 * 60, max_value=23 * 60))
def test_rfc3339_with_any_offset_is_in_range_or_refused(when: dt.datetime, minutes: int) -> None:
    """For all RFC 3339 times with any offset: either a time in range or a ValueError
    (never OverflowError, never a value the listing could not show)."""
    tz = dt.timezone(dt.timedelta(minutes=minutes))
    text = when.replace(tzinfo=tz).isoformat(timespec="milliseconds")
    try:
        ms = parse_rfc3339_ms(text)
    except ValueError as exc:
        assert "out of range" in str(exc)
    else:
        assert 0 <= ms <= MAX_TIME_MS and _RFC3339.fullmatch(format_rfc3339(ms))
