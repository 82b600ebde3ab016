"""server/_ulid.py: the service's choices on top of python-ulid (ids at a given time,
seed-derived ids, validation that never raises), checked against the library's parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from server._ulid import derived_ulid, is_ulid, new_ulid, ulid_time_ms
from server.client import new_run_id

MAX_MS = 2**48 - 1
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@given(st.integers(0, MAX_MS))
def test_new_ids_carry_their_time_and_parse_with_the_oracle(ms: int) -> None:
    text = new_ulid(ms)
    assert len(text) == 26 and text == text.upper() and is_ulid(text)
    assert ULID.from_str(text).milliseconds == ms == ulid_time_ms(text)
    assert str(ULID.from_str(text)) == text


@given(st.integers(0, MAX_MS - 1), st.integers(1, 1000))
def test_ids_sort_by_time(ms: int, later: int) -> None:
    assert new_ulid(ms) < new_ulid(min(ms + later, MAX_MS))


@st.composite
def near_ulids(draw: st.DrawFn) -> str:
    """Valid ids, lower-cased, with one character replaced, or one too short or long."""
    text = new_ulid(draw(st.integers(0, MAX_MS)))
    if draw(st.booleans()):
        text = text.lower()
    i = draw(st.integers(0, 25))
    change = draw(st.sampled_from(["none", "replace", "drop", "add"]))
    char = draw(st.sampled_from(ALPHABET + "ILOUilou-_ 8\u0661"))
    if change == "replace":
        text = text[:i] + char + text[i + 1:]
    elif change == "drop":
        text = text[:i] + text[i + 1:]
    elif change == "add":
        text = text[:i] + char + text[i:]
    return text


@given(near_ulids())
def test_validation_agrees_with_the_oracle(text: str) -> None:
    try:
        ULID.from_str(text)
        oracle = True
    except ValueError:
        oracle = False
    assert is_ulid(text) == oracle, text


def test_client_helper_mints_run_ids() -> None:
    assert ulid_time_ms(new_run_id(1_700_000_000_000)) == 1_700_000_000_000
    first, second = new_run_id(), new_run_id()
    assert is_ulid(first) and first != second


@given(st.integers(-5, MAX_MS), st.text(max_size=20))
def test_derived_ids_are_stable_valid_and_carry_their_time(ms: int, seed: str) -> None:
    text = derived_ulid(ms, seed)
    assert text == derived_ulid(ms, seed) and is_ulid(text)
    assert ulid_time_ms(text) == max(ms, 0)
    assert derived_ulid(ms, seed + "x") != text


def test_times_beyond_48_bits_are_clamped_not_raised() -> None:
    assert ulid_time_ms(new_ulid(-1)) == 0 and ulid_time_ms(new_ulid(-(2**63))) == 0
    assert ulid_time_ms(new_ulid(2**63 - 1)) == MAX_MS
