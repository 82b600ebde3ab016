"""CLI (expression tools): `cancelmatch validate | eval | explain` for people writing cancel rules.

Each subcommand is registered in :mod:`server.cli`'s registry and calls the same core the
Expressions API uses. Output conventions: results go to stdout with exit status 0; a
compile or evaluation error is printed to stderr with status 1; unusable input (an option
holding malformed JSON) is status 2, like any other command-line usage error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import matcher

from . import _jsonscan, cli
from . import expressions as core
from .config import Config
from .errors import ServiceError

CONTEXTS = {"cancel": "cancel_if", "bulk": "bulk_if"}
"""--context → the Validate usage: a cancel rule's `if` sees event and async, a bulk
cancellation's `if` only the trigger event."""

USAGE_ERROR = 2


class _BadOption(Exception):
    """An option's value is unusable; the message names the option and the position."""


def _add_expression(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", nargs="?", default="-", metavar="EXPR",
                        help="the CEL expression; '-' or absent reads it from stdin")


def read_expression(arg: str) -> str:
    """The expression argument, or stdin for '-' (one trailing newline dropped, so an
    error at the end of the text points at the end of its last line)."""
    if arg != "-":
        return arg
    text = sys.stdin.read()
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def json_object(text: str | None, option: str) -> dict[str, Any] | None:
    """Decode an option's JSON (exact ints, like events); it must be an object."""
    if text is None:
        return None
    if (problem := _jsonscan.scan(text, Config().max_json_depth)) is not None:
        raise _BadOption(f"{option}: {problem.message}")  # before the recursive decoder
    try:
        value = matcher.loads_json(text)
    except json.JSONDecodeError as exc:
        raise _BadOption(f"{option}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg}") from None
    except ValueError as exc:
        raise _BadOption(f"{option}: invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _BadOption(f"{option}: expected a JSON object, got {matcher.cel_type_name(value)}")
    return value


def _fail(message: str, status: int = 1) -> int:
    print(message, file=sys.stderr)
    return status


# ---------------------------------------------------------------------- validate

def _configure_validate(parser: argparse.ArgumentParser) -> None:
    _add_expression(parser)
    parser.add_argument("--context", choices=sorted(CONTEXTS), default="cancel",
                        help="cancel: a cancelOn `if` (variables event and async); "
                             "bulk: a bulk cancellation `if` (event only)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _validate(ns: argparse.Namespace) -> int:
    expression = read_expression(ns.expression)
    try:
        result = core.validate(expression, CONTEXTS[ns.context])
    except ServiceError as exc:
        return _fail(f"error: {exc.message}")
    if ns.json:
        print(json.dumps(vars(result), indent=2, ensure_ascii=False))
        return 0 if result.valid else 1
    if not result.valid:
        return _fail("\n".join(str(e["rendered"]) for e in result.errors))
    print("OK")
    for path in result.paths:
        print(f"  reads {path}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    return 0


# ---------------------------------------------------------------------- eval

def _configure_eval(parser: argparse.ArgumentParser) -> None:
    _add_expression(parser)
    parser.add_argument("--event", metavar="JSON",
                        help='the trigger event as JSON, e.g. \'{"data": {"userId": "u1"}}\'')
    parser.add_argument("--async", dest="async_", metavar="JSON",
                        help="the incoming event as JSON (the `async` variable)")


def _eval(ns: argparse.Namespace) -> int:
    try:
        event = json_object(ns.event, "--event") or {}
        async_ = json_object(ns.async_, "--async") or {}
    except _BadOption as exc:
        return _fail(f"cancelmatch eval: {exc}", USAGE_ERROR)
    expression = read_expression(ns.expression)
    try:
        program = matcher.compile(expression, variables=("event", "async"))
    except matcher.CompileError as exc:
        return _fail(exc.render())
    value = program.try_evaluate({"event": event, "async": async_})
    if isinstance(value, matcher.EvalError):
        return _fail(f"error: {value.message}")
    print(f"{format_value(value)} ({matcher.cel_type_name(value)})")
    return 0


def format_value(value: Any) -> str:
    """A CEL value as readable text: JSON where JSON has the form, CEL syntax elsewhere."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, matcher.UInt):
        return f"{int(value)}u"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_double(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        return _format_bytes(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{format_value(k)}: {format_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, matcher.Timestamp):
        return f'timestamp("{value}")'
    if isinstance(value, matcher.Duration):
        return f'duration("{value}")'
    return str(value)  # a type value prints as its name: int, map, ...


def _format_double(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _format_bytes(value: bytes) -> str:
    shown = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02x}"
                    for b in value)
    return f'b"{shown}"'


# ---------------------------------------------------------------------- explain

def _configure_explain(parser: argparse.ArgumentParser) -> None:
    _add_expression(parser)
    parser.add_argument("--trigger", metavar="JSON",
                        help='the trigger event as JSON, e.g. \'{"data": {"reminderId": "r1"}}\'; '
                             "without it the event values stay symbolic")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")


def _explain(ns: argparse.Namespace) -> int:
    try:
        trigger = json_object(ns.trigger, "--trigger")
    except _BadOption as exc:
        return _fail(f"cancelmatch explain: {exc}", USAGE_ERROR)
    expression = read_expression(ns.expression)
    try:
        result = matcher.explain(expression, trigger=trigger)
    except matcher.CompileError as exc:
        return _fail(exc.render())
    if ns.json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        print(explain_text(result))
    return 0


def explain_text(result: dict[str, Any]) -> str:
    """The explanation as an indented outline: residual, then each clause's access."""
    lines = [f"expression: {result['expression'] or '(empty: every event of the name)'}",
             f"residual:   {result['residual']}"]
    if result["never_fires"]:
        lines.append("never fires: the residual is false for this trigger")
    elif result["always_evaluated"]:
        lines.append("always evaluated: a clause has no indexable predicate")
    for number, clause in enumerate(result["clauses"], 1):
        lines.append(f"clause {number}: {clause['clause']}")
        lines.append(f"  access: {clause['access']}")
        if clause.get("verify"):
            lines.append(f"  verify: {clause['verify']}")
    depends = result.get("depends_on")
    if depends:
        lines.append("without --trigger every event value is taken to be a string; "
                     "the plan depends on:")
    for dependence in depends or ():
        lines.append(f"  {dependence['value']}:")
        for plan in dependence["plans"]:
            lines.append(f"    {', '.join(plan['when'])}: {'; '.join(plan['access'])}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- registration

_COMMANDS = (
    ("validate", "check a CEL rule; print OK and the paths it reads, or the error",
     _configure_validate, _validate),
    ("eval", "evaluate a CEL rule against sample event and async JSON",
     _configure_eval, _eval),
    ("explain", "show how a rule is indexed (its residual, clauses and access predicates)",
     _configure_explain, _explain),
)


for _name, _help, _configure, _run in _COMMANDS:
    cli.register(_name, _help, _configure, _run)
