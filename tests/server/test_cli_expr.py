"""Tests for the expression CLI: `cancelmatch validate | eval | explain`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from server.cli import main
from server.cli_expr import format_value

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def feed(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    return feed


# ------------------------------------------------------------------ validate

def test_validate_ok_prints_the_paths_it_reads(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate",
                           "event.data.userId == 'u1' && async.data.amount > 100")
    assert (status, err) == (0, "")
    assert out.splitlines() == ["OK", "  reads async.data.amount", "  reads event.data.userId"]


def test_validate_error_is_the_rendered_caret_message(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate", "event.data.userId == ")
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        "ERROR: <input>:1:22: Syntax error: mismatched input '<EOF>' expecting {'!', '(', "
        "'-', '.', '[', 'false', 'null', 'true', '{', BYTES, IDENTIFIER, NUM_FLOAT, NUM_INT, "
        "NUM_UINT, STRING}",
        " | event.data.userId == ",
        " | " + "." * 21 + "^",
    ]


@pytest.mark.parametrize(("context", "status"), [("cancel", 0), ("bulk", 1)])
def test_validate_context_chooses_the_variables(capsys: pytest.CaptureFixture[str],
                                                context: str, status: int) -> None:
    code, out, err = run(capsys, "validate", "--context", context, "async.data.x == 1")
    assert code == status
    if status:
        assert "undeclared reference to 'async'" in err and "declared variables: event" in err
    else:
        assert out.startswith("OK\n")


def test_validate_bulk_accepts_event_only_rules(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", "--context", "bulk", "event.data.userId == 'u1'")
    assert status == 0 and "reads event.data.userId" in out


def test_validate_warns_when_async_is_never_read(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", "event.data.x == 1")
    assert status == 0 and "warning: the expression never reads async" in out


@pytest.mark.parametrize("argv", [("validate",), ("validate", "-")])
def test_validate_reads_stdin(capsys: pytest.CaptureFixture[str], stdin, argv) -> None:  # type: ignore[no-untyped-def]
    stdin("async.data.x ==\n  1 &&\n")
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    # the trailing newline of the piped text is dropped: the error is at the end of line 2
    assert err.startswith("ERROR: <input>:2:7: Syntax error: mismatched input '<EOF>'")


def test_validate_reads_a_multi_line_rule_from_stdin(capsys: pytest.CaptureFixture[str],
                                                     stdin) -> None:  # type: ignore[no-untyped-def]
    stdin("// cancel when the reminder is deleted\nevent.data.id == async.data.id\n")
    status, out, _ = run(capsys, "validate")
    assert status == 0 and out.splitlines()[0] == "OK"


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", "--json", "async.x ==")
    body = json.loads(out)
    assert status == 1 and body["valid"] is False
    assert body["errors"][0]["line"] == 1 and body["errors"][0]["column"] == 11
    status, out, _ = run(capsys, "validate", "--json", "async.x == 1")
    assert status == 0 and json.loads(out)["paths"] == ["async.x"]


def test_validate_rejects_an_unknown_context(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", "--context", "match", "x"])
    assert info.value.code == 2
    assert "invalid choice: 'match'" in capsys.readouterr().err


# ------------------------------------------------------------------ eval

@pytest.mark.parametrize(("argv", "printed"), [
    (("event.data.n > 1", "--event", '{"data": {"n": 2}}'), "true (bool)"),
    (("event.data.n + async.data.n", "--event", '{"data": {"n": 2}}',
      "--async", '{"data": {"n": 9007199254740993}}'), "9007199254740995 (int)"),
    (("1u + 2u",), "3u (uint)"),
    (("1.0 / 4.0",), "0.25 (double)"),
    (("-1.0 / 0.0",), "-Infinity (double)"),
    (("'héllo' + \"\\n\"",), '"héllo\\n" (string)'),
    ((r"b'\xff\x00a\"'",), r'b"\xff\x00a\x22" (bytes)'),
    (("null",), "null (null_type)"),
    (("[1, 'a', [true]]",), '[1, "a", [true]] (list)'),
    (("{'a': 1, 2: null}",), '{"a": 1, 2: null} (map)'),
    (("timestamp('2024-01-02T03:04:05Z')",), 'timestamp("2024-01-02T03:04:05Z") '
     "(google.protobuf.Timestamp)"),
    (("duration('90m')",), 'duration("5400s") (google.protobuf.Duration)'),
    (("type(1)",), "int (type)"),
    (("event",), "{} (map)"),
])
def test_eval_prints_the_value_and_its_cel_type(capsys: pytest.CaptureFixture[str],
                                                argv: tuple[str, ...], printed: str) -> None:
    status, out, err = run(capsys, "eval", *argv)
    assert (status, out, err) == (0, printed + "\n", "")


def test_eval_cel_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "eval", "async.data.amount > 1", "--async", '{"data": {}}')
    assert (status, out, err) == (1, "", "error: no such key: 'amount'\n")
    status, _, err = run(capsys, "eval", "9223372036854775807 + 1")
    assert (status, err) == (1, "error: int64 overflow\n")


def test_eval_compile_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "eval", "'a' + 1")
    assert status == 1 and out == ""
    assert err.startswith("ERROR: <input>:1:5: check error: found no matching overload")


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--event", '{"data": }', "--event: invalid JSON at line 1, column 10: Expecting value"),
    ("--async", '{"a": 1,\n "b"}',
     "--async: invalid JSON at line 2, column 5: Expecting ':' delimiter"),
    ("--event", "", "--event: invalid JSON at line 1, column 1: Expecting value"),
    ("--event", "[1]", "--event: expected a JSON object, got list"),
    ("--async", '"x"', "--async: expected a JSON object, got string"),
])
def test_eval_bad_json_names_the_option_and_position(capsys: pytest.CaptureFixture[str],
                                                     option: str, value: str,
                                                     message: str) -> None:
    status, out, err = run(capsys, "eval", "true", option, value)
    assert (status, out) == (2, "")
    assert err == f"cancelmatch eval: {message}\n"


def test_eval_reads_stdin(capsys: pytest.CaptureFixture[str], stdin) -> None:  # type: ignore[no-untyped-def]
    stdin("event.data.n *\n 2\n")
    status, out, _ = run(capsys, "eval", "--event", '{"data": {"n": 21}}')
    assert (status, out) == (0, "42 (int)\n")


@pytest.mark.parametrize(("value", "text"), [
    (float("nan"), "NaN"), (1e300, "1e+300"), (-0.0, "-0.0"), (b"", 'b""'),
    ((1, 2), "[1, 2]"), ({}, "{}"), ("", '""'),
])
def test_format_value_edge_cases(value: object, text: str) -> None:
    assert format_value(value) == text


# ------------------------------------------------------------------ explain

RULE = "event.data.reminderId == async.data.reminderId && async.data.amount > 100"


def test_explain_with_a_trigger(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "explain", RULE, "--trigger", '{"data": {"reminderId": "r1"}}')
    assert status == 0
    assert out.splitlines() == [
        f"expression: {RULE}",
        'residual:   "r1" == async.data.reminderId && async.data.amount > 100',
        'clause 1: "r1" == async.data.reminderId && async.data.amount > 100',
        '  access: hash async.data.reminderId == "r1"',
        "  verify: async.data.amount > 100",
    ]


def test_explain_without_a_trigger_keeps_event_symbolic(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "explain", "event.data.id == async.data.id")
    assert status == 0
    assert "  access: hash async.data.id == event.data.id" in out.splitlines()


def test_explain_without_a_trigger_says_what_the_plan_depends_on(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "explain", "async.data.tag in event.data.tags")
    lines = out.splitlines()
    assert status == 0 and lines[-5:] == [
        "without --trigger every event value is taken to be a string; the plan depends on:",
        "  event.data.tags:",
        "    string, int, double, true, false, null, map: scan (always evaluated)",
        "    list: hash async.data.tag in event.data.tags",
        "    missing: never fires",
    ]


@pytest.mark.parametrize(("expression", "message"), [
    ("async.data.count + 1", "a rule must be a bool expression, but this one is int"),
    ("async.data.s.startWith('a')", "did you mean startsWith?"),
    ("async.data.a = 1", "did you mean '=='?"),
])
def test_validate_refuses_rules_that_can_never_fire_with_hints(
        capsys: pytest.CaptureFixture[str], expression: str, message: str) -> None:
    status, out, err = run(capsys, "validate", expression)
    assert (status, out) == (1, "") and message in err


def test_validate_prints_type_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", 'async.data.amount > "100"')
    assert status == 0
    assert '  warning: async.data.amount > "100" compares async.data.amount with a string' in out


def test_explain_never_fires_and_always_evaluated(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "explain", "event.data.userId == 'u1'",
                    "--trigger", '{"data": {"userId": "u2"}}')
    assert "never fires: the residual is false for this trigger" in out
    assert "clause 1" not in out
    _, out, _ = run(capsys, "explain", "async.data.n + 1 > 3")
    assert "always evaluated: a clause has no indexable predicate" in out


def test_explain_json_is_matcher_explain(capsys: pytest.CaptureFixture[str]) -> None:
    import matcher

    trigger = {"data": {"reminderId": "r1"}}
    status, out, _ = run(capsys, "explain", RULE, "--json", "--trigger", json.dumps(trigger))
    assert status == 0
    assert json.loads(out) == matcher.explain(RULE, trigger=trigger)


def test_explain_errors(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "explain", "event.data.x ==")
    assert status == 1 and out == "" and err.startswith("ERROR: <input>:1:16: Syntax error")
    status, _, err = run(capsys, "explain", RULE, "--trigger", "{")
    assert status == 2
    assert err.startswith("cancelmatch explain: --trigger: invalid JSON at line 1, column 2")


# ------------------------------------------------------------------ as a process

def test_subcommands_work_with_python_dash_m() -> None:
    # `python -m server.cli` runs the module as __main__: the subcommands must be
    # registered in that copy of the registry too.
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "validate", "--context", "bulk"],
        input="event.data.userId == 'u1'\n", capture_output=True, text=True, cwd=ROOT,
        timeout=60, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0, "OK\n  reads event.data.userId\n", "")


def test_process_exit_statuses() -> None:
    def status(*argv: str) -> int:
        return subprocess.run([sys.executable, "-m", "server.cli", *argv], cwd=ROOT,
                              capture_output=True, timeout=60, check=False).returncode

    assert status("eval", "1 / 0") == 1
    assert status("eval", "true", "--event", "nope") == 2
