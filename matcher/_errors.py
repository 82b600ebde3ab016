"""Errors: the exception hierarchy of the matcher package.

    MatcherError                 base of everything this package raises on purpose
    ├── CompileError             syntax and check errors; carries line, column, the expression
    │                            and a caret rendering in cel-go's shape
    └── EvalError                a CEL evaluation error (no such key, overflow, no matching
        │                        overload, ...). Inside an expression it is a *value*: `&&`,
        │                        `||`, `all` and `exists` may absorb it (CEL spec, "Logical
        │                        operators"); only when it reaches the top is it raised.
        └── EvaluationAborted    the evaluation's cost budget (Limits.max_cost) ran out. Not a
                                 CEL value: nothing absorbs it, it ends the evaluation (like
                                 cel-go's cost limit).

API misuse (wrong Python types passed to the API) raises ordinary TypeError / ValueError.
"""

from __future__ import annotations


class MatcherError(Exception):
    """Base class of every error the matcher raises on purpose."""


class EvalError(MatcherError):
    """A CEL runtime error, e.g. ``no such key: 'amount'`` or ``int64 overflow``."""

    __slots__ = ()

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else "evaluation error"


class EvaluationAborted(EvalError):
    """The evaluation spent its whole cost budget (``Limits.max_cost``) and was stopped."""

    __slots__ = ()


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and 1-based column (in code points) of ``offset`` in ``text``.

    cel-go displays ``column + 1`` in ``<input>:L:C`` and puts ``column`` dots before the
    caret; we keep the same convention so our messages read exactly like the reference.
    """
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


SOURCE_WINDOW = 120
"""Longest source line shown under an error; a longer one (rules may be 16 KiB on one
line) is cut to the part around the caret, each cut marked with an ellipsis."""


def _window(src: str, at: int) -> tuple[str, int]:
    """The shown part of ``src`` and the caret's column within it (0-based)."""
    if len(src) <= SOURCE_WINDOW:
        return src, at
    half = SOURCE_WINDOW // 2
    start = max(0, min(at - half, len(src) - SOURCE_WINDOW))
    end = start + SOURCE_WINDOW
    shown = ("…" if start else "") + src[start:end] + ("…" if end < len(src) else "")
    return shown, at - start + (1 if start else 0)


class CompileError(MatcherError):
    """A syntax or check error at a position in the expression.

    Attributes: ``message`` (what was wrong and what was expected), ``expression``,
    ``offset`` (0-based code point offset), ``line`` and ``column`` (both 1-based, as
    cel-go prints them), ``kind`` ("Syntax error" or "check error" style prefix).
    ``str(err)`` is the full cel-go style rendering with the caret line.
    """

    def __init__(self, message: str, expression: str, offset: int, *, kind: str = "") -> None:
        self.message = message
        self.expression = expression
        self.offset = max(0, min(offset, len(expression)))
        self.line, self.column = line_column(expression, self.offset)
        self.kind = kind
        super().__init__(self.render())

    def render(self) -> str:
        """``ERROR: <input>:L:C: <message>`` followed by the source line and a caret."""
        prefix = f"{self.kind}: " if self.kind else ""
        lines = self.expression.split("\n")
        src = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        src, dots = _window(src, self.column - 1)
        caret = "." * dots + "^"
        return f"ERROR: <input>:{self.line}:{self.column}: {prefix}{self.message}\n | {src}\n | {caret}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form for APIs: message, line, column, offset, rendered."""
        return {
            "message": f"{self.kind}: {self.message}" if self.kind else self.message,
            "line": self.line,
            "column": self.column,
            "offset": self.offset,
            "rendered": self.render(),
        }
