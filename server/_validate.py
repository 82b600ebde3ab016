"""Request validation: field checks shared by every transport (names the offending field).

Everything here is pure: it looks at one request and either returns normalised values or
raises an InvalidArgument / PayloadTooLarge whose message starts with the field path, e.g.
``runs[2].cancel_on[0].if: invalid expression: ...``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any

import matcher

from ._model import Event, Rule
from ._timeouts import expires_at_ms
from ._ulid import is_ulid
from .config import Config
from .errors import InvalidArgument, InvalidExpression, PayloadTooLarge, TooManyRules

_ENV_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
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


def required(value: str, field: str, limit: int = 256) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > limit:
        raise InvalidArgument(f"{field}: longer than {limit} characters")
    return value


def ulid(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required")
    if not is_ulid(value):
        raise InvalidArgument(
            f"{field}: invalid ULID {value[:40]!r}: expected 26 Crockford base32 characters"
        )
    return value.upper()


def event_data(data_json: str, field: str, config: Config) -> dict[str, Any]:
    """Decode an event's data JSON text: must be an object within the size limit."""
    text = data_json or "{}"
    size = len(text.encode())
    if size > config.max_event_bytes:
        raise PayloadTooLarge(
            f"{field}: event data is {size} bytes, the limit is {config.max_event_bytes}"
        )
    try:
        data = matcher.loads_json(text)
    except (ValueError, matcher.MatcherError) as exc:
        raise InvalidArgument(f"{field}: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        raise InvalidArgument(f"{field}: event data must be a JSON object, got {kind}")
    return data


def event_dict(event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The event shape the index takes."""
    return {"name": event.name, "id": event.id, "ts": event.ts, "data": data}


def expression_size(text: str, field: str, config: Config) -> None:
    size = len(text.encode())
    if size > config.max_expression_bytes:
        raise PayloadTooLarge(
            f"{field}: expression is {size} bytes, the limit is {config.max_expression_bytes}"
        )


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


def fingerprint(*parts: str) -> str:
    """Identity of a registration, to tell an idempotent retry from a conflicting reuse of
    a run id. Hashes the trigger's JSON text as sent: a retry resends the same bytes."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()
