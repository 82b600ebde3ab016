"""Request validation: field checks shared by every transport (names the offending field).

Everything here is pure: it looks at one request and either returns normalised values or
raises an InvalidArgument / PayloadTooLarge whose message starts with the field path, e.g.
``runs[2].cancel_on[0].if: invalid expression: ...``.

What every field must satisfy, whichever transport it came through (README "Limits"):

- text: valid Unicode without NUL (a lone surrogate cannot be stored in SQLite, encoded
  into protobuf or written to a log line), and a stated length;
- JSON: within the byte limit, nesting at most ``max_json_depth``, no NaN/Infinity, every
  number a double can hold (checked by :mod:`server._jsonscan` before decoding);
- times: epoch milliseconds in MIN_TIME_MS..MAX_TIME_MS (1970..9999), expiries included;
- lists: a stated maximum count, checked before any item is looked at.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from typing import Any

import matcher

from . import _jsonscan
from ._model import Event, Rule
from ._timeouts import MAX_TIME_MS, MIN_TIME_MS, TIME_RANGE, expires_at_ms, format_rfc3339
from ._ulid import is_ulid
from .config import Config
from .errors import InvalidArgument, InvalidExpression, PayloadTooLarge, TooManyRules

log = logging.getLogger("cancelmatch.validate")
_ENV_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
# Every list field of a cancelmatch.v1 request -> the Config setting bounding it (a test
# walks the proto descriptors so a new list field cannot arrive without a limit).
LIST_LIMITS = {
    "RegisterRunsRequest.runs": "max_runs_per_batch",
    "RegisterRunRequest.cancel_on": "max_rules",
    "PublishEventsRequest.events": "max_events_per_batch",
    "AckDecisionsRequest.decision_ids": "max_ids_per_call",
    "SyncFunctionsRequest.functions": "max_functions_per_sync",
    "FunctionConfig.cancel_on": "max_rules",
}
IDENTIFIER_CHARS = 256
"""app_id, function_id, event names: the most characters one may have."""
EVENT_ID_CHARS = 128
TIMEOUT_CHARS = 64
DEFAULT_ENV = "default"
CANCEL_VARIABLES = ("event", "async")
BULK_VARIABLES = ("event",)
NO_CONDITION_WARNING = (
    "{field}: neither match nor if is set: the rule cancels the run on every "
    "{event!r} event"
)


def env_name(env: str, field: str = "env") -> str:
    """The environment id (empty = "default"); letters, digits, '.', '_', '-' only."""
    if not env:
        return DEFAULT_ENV
    if not _ENV_RE.fullmatch(env):
        raise InvalidArgument(
            f"{field}: invalid environment {env!r}: expected 1-64 of [A-Za-z0-9._-]"
        )
    return env


def text(value: str, field: str) -> str:
    """``value`` unless it holds NUL or a lone surrogate (both arrive through JSON escapes
    like ``"\\ud800"``; neither can be stored, encoded to UTF-8 or logged safely)."""
    if "\x00" in value or not value.isascii():
        bad = _BAD_CHAR.search(value)
        if bad is not None:
            what = "NUL" if bad.group() == "\x00" else f"a lone surrogate {bad.group()!a}"
            raise InvalidArgument(f"{field}: {what} at character {bad.start()}: text must "
                                  "be valid Unicode without NUL")
    return value


def required(value: str, field: str, limit: int = IDENTIFIER_CHARS) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required")
    return optional(value, field, limit)


def optional(value: str, field: str, limit: int = IDENTIFIER_CHARS) -> str:
    """An optional text field: empty, or at most ``limit`` characters of valid text."""
    if len(value) > limit:
        raise InvalidArgument(f"{field}: longer than {limit} characters")
    return text(value, field)


def at_most(count: int, field: str, limit: int, noun: str) -> None:
    """A list field's count, checked before any of its items is looked at."""
    if count > limit:
        raise PayloadTooLarge(f"{field}: {count} {noun}, the limit is {limit}")


def epoch_ms(value: int, field: str, *, required: bool = False) -> int:
    """A time in epoch milliseconds within the supported range; 0 means unset unless
    ``required``."""
    if value == 0 and required:
        raise InvalidArgument(f"{field} is required (epoch milliseconds)")
    if not MIN_TIME_MS <= value <= MAX_TIME_MS:
        raise InvalidArgument(f"{field}: {value} is out of range: times are epoch "
                              f"milliseconds from {MIN_TIME_MS} to {MAX_TIME_MS} ({TIME_RANGE})")
    return value


def expiry(timeout: str, started_at: int, config: Config, field: str) -> int:
    """When a listener of a run started at ``started_at`` expires (``timeout`` or the
    default lifetime); InvalidArgument when that falls outside the supported range."""
    try:
        return expires_at_ms(timeout, started_at, config.default_timeout_ms)
    except ValueError as exc:
        raise InvalidArgument(f"{field}: {exc}") from None


def expired_reason(expires: int, started_at: int, now: int) -> str | None:
    """Why a listener expiring at ``expires`` can never fire, or None if it can: it ended
    before its run started (no event can be both newer than the run and not later than the
    timeout) or before it was registered (the sweep would drop it unseen)."""
    if expires < started_at:
        return (f"the timeout ends at {format_rfc3339(expires)}, before the run started at "
                f"{format_rfc3339(started_at)}")
    if expires < now:
        return (f"the timeout ended at {format_rfc3339(expires)}, before the listener was "
                f"registered at {format_rfc3339(now)}")
    return None


def ulid(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required")
    if not is_ulid(value):
        raise InvalidArgument(
            f"{field}: invalid ULID {value[:40]!r}: expected 26 Crockford base32 characters"
        )
    return value.upper()


def json_text(value: str, field: str, config: Config) -> str:
    """JSON text that is safe to decode and to re-encode later (see :mod:`_jsonscan`):
    checked without recursion, before anything recursive touches it."""
    text(value, field)
    problem = _jsonscan.scan(value, config.max_json_depth)
    if problem is not None:
        raise InvalidArgument(f"{field}: {problem.message}")
    return value


def stored_json_loads(value: str, what: str, config: Config) -> bool:
    """Whether JSON text read back from a store is safe to decode; a store written before
    the scan existed may hold a poison pill, which is logged (never raised) and skipped."""
    problem = _jsonscan.scan(value, config.max_json_depth)
    if problem is not None:
        log.error("%s is not loaded: %s", what, problem.message)
    return problem is None


def event_data(data_json: str, field: str, config: Config) -> dict[str, Any]:
    """Decode an event's data JSON text: must be an object within the size limit."""
    text = data_json or "{}"
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > config.max_event_bytes:
        raise PayloadTooLarge(
            f"{field}: event data is {size} bytes, the limit is {config.max_event_bytes}"
        )
    json_text(text, field, config)
    try:
        data = matcher.loads_json(text)
    except (ValueError, matcher.MatcherError) as exc:
        raise InvalidArgument(f"{field}: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        raise InvalidArgument(f"{field}: event data must be a JSON object, got {kind}")
    return data


def event_fields(event: Event, prefix: str) -> None:
    """An event's name (required), id (optional) and ts (0 = now) as a client sent them."""
    required(event.name, f"{prefix}name")
    optional(event.id, f"{prefix}id", EVENT_ID_CHARS)
    epoch_ms(event.ts, f"{prefix}ts")


def event_dict(event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The event shape the index takes."""
    return {"name": event.name, "id": event.id, "ts": event.ts, "data": data}


def expression_size(expression: str, field: str, config: Config) -> None:
    size = len(expression.encode("utf-8", "surrogatepass"))
    if size > config.max_expression_bytes:
        raise PayloadTooLarge(
            f"{field}: expression is {size} bytes, the limit is {config.max_expression_bytes}"
        )
    text(expression, field)


@functools.lru_cache(maxsize=4096)
def _combined(match: str, condition: str
              ) -> tuple[str, str | None, Exception | None, tuple[str, ...]]:
    """(combined expression, failing part, error, warnings of the if) for one rule text;
    cached because every run of a function repeats the same rules and only the first
    should pay for parsing. compile_rule also refuses an if that can never be a bool or
    whose estimated cost is over the evaluation budget."""
    lint: tuple[str, ...] = ()
    if condition:
        try:
            lint = matcher.compile_rule(condition, variables=CANCEL_VARIABLES).warnings
        except matcher.CompileError as exc:
            return "", "if", exc, ()
    try:
        return matcher.cancel_expression(match=match, condition=condition), None, None, lint
    except matcher.CompileError as exc:
        return "", "match", exc, ()


def rules(rule_list: tuple[Rule, ...], field: str, config: Config) -> list[tuple[str, list[str]]]:
    """Validate cancel rules; returns (combined expression, warnings) per rule."""
    if len(rule_list) > config.max_rules:
        raise TooManyRules(config.max_rules)
    out = []
    for i, rule in enumerate(rule_list):
        where = f"{field}[{i}]"
        required(rule.event, f"{where}.event")
        expression_size(rule.condition, f"{where}.if", config)
        expression_size(rule.match, f"{where}.match", config)
        optional(rule.timeout, f"{where}.timeout", TIMEOUT_CHARS)
        try:
            expires_at_ms(rule.timeout, 0)
        except ValueError as exc:
            raise InvalidArgument(f"{where}.timeout: {exc}") from None
        expression, part, error, lint = _combined(rule.match, rule.condition)
        if error is not None:
            raise InvalidExpression(f"{where}.{part}", error)
        warnings = [] if expression else [
            NO_CONDITION_WARNING.format(field=where, event=rule.event)
        ]
        warnings += [f"{where}.if: {w}" for w in lint]
        out.append((expression, warnings))
    return out


def bulk_condition(condition: str, field: str, config: Config) -> Any:
    """Compile a bulk cancellation's ``if`` (may reference only ``event``); None if empty."""
    if not condition:
        return None
    expression_size(condition, field, config)
    try:
        return matcher.compile_rule(condition, variables=BULK_VARIABLES)
    except matcher.CompileError as exc:
        raise InvalidExpression(field, exc) from None


def bulk_window(started_after: int | None, started_before: int | None, now: int) -> int:
    """A bulk cancellation's start-time window, with Inngest's messages; returns
    ``started_before``."""
    if not started_before:
        raise InvalidArgument("started_before is required")
    epoch_ms(started_before, "started_before")
    if started_after is not None:
        epoch_ms(started_after, "started_after")
    if started_before > now:
        raise InvalidArgument("started_before must be in the past")
    if started_after is not None and started_after >= started_before:
        raise InvalidArgument("started_after must be before started_before")
    return started_before


def fingerprint(*parts: str) -> str:
    """Identity of a registration, to tell an idempotent retry from a conflicting reuse of
    a run id. Hashes the trigger's JSON text as sent: a retry resends the same bytes."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
