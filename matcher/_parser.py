"""Parse: CEL source text → our AST, with cel-go style syntax errors.

lark's LALR(1) parser with the grammar in ``cel/cel.lark``, built once per process. The
tree is built by an inline transformer as rules reduce, so parsing never recurses and a
deeply nested input cannot exhaust the Python stack; depth and size limits are checked
afterwards with an explicit stack.
"""

from __future__ import annotations

import functools
import threading
from importlib import resources
from typing import Any

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import _ast as A
from ._errors import CompileError
from ._limits import DEFAULT_LIMITS, Limits
from ._literals import LiteralError, decode_double, decode_int, decode_text, decode_uint
from ._values import INT64_MAX, INT64_MIN, UINT64_MAX

RESERVED = frozenset(
    "as break const continue else for function if import let loop package namespace "
    "return var void while".split()
)
KEYWORDS = frozenset({"in", "true", "false", "null"})
MACROS_MEMBER = {"all": (2,), "exists": (2,), "exists_one": (2,), "map": (2, 3), "filter": (2,)}

# How terminals are named in "expecting {...}" messages (cel-go's ANTLR names).
_DISPLAY = {
    "IDENT": "IDENTIFIER", "ESCAPED_IDENT": "ESC_IDENTIFIER", "INT": "NUM_INT",
    "UINT": "NUM_UINT", "DOUBLE": "NUM_FLOAT", "STRING": "STRING", "BYTES": "BYTES",
    "$END": "<EOF>", "IN": "'in'", "MULOP": "'*', '/', '%'", "RELOP": "'<', '<=', '==', '!=', '>=', '>'",
}


class _Syntax(Exception):
    """Raised inside callbacks; turned into a CompileError with the source attached."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _flatten(cls: Any, left: Any, right: Any, pos: int) -> Any:
    terms: list[Any] = []
    for side in (left, right):
        terms.extend(side.terms if isinstance(side, cls) else (side,))
    return cls(tuple(terms), pos=pos)


def _check_name(tok: Any) -> str:
    name = str(tok)
    if name in RESERVED or name in KEYWORDS:
        raise _Syntax(f"reserved identifier: {name}", tok.start_pos)
    return name


# Literals written inside parentheses, for this thread's parse: CEL folds a minus sign
# only into the number right after it (`-9223372036854775808`), never through `( )`.
_PARENS = threading.local()


class _Builder(lark.Transformer):  # type: ignore[type-arg]
    """Inline callbacks: one small method per grammar alternative."""

    def conditional(self, c: Any) -> A.Conditional:
        return A.Conditional(c[0], c[2], c[3], pos=c[1].start_pos)

    def or_(self, c: Any) -> Any:
        return _flatten(A.Or, c[0], c[2], c[1].start_pos)

    def and_(self, c: Any) -> Any:
        return _flatten(A.And, c[0], c[2], c[1].start_pos)

    def binary(self, c: Any) -> A.Binary:
        return A.Binary(str(c[1]), c[0], c[2], pos=c[1].start_pos)

    def logical_not(self, c: Any) -> Any:
        node = c[-1]
        for bang in reversed(c[:-1]):
            node = A.Unary("!", node, pos=bang.start_pos)
        return node

    def negate(self, c: Any) -> Any:
        node = c[-1]
        minuses = c[:-1]
        if isinstance(node, A.Literal) and type(node.value) in (int, float) and \
                id(node) not in _PARENS.ids:
            # CEL's grammar has `literal: MINUS? NUM_INT`: the one minus right before the
            # digits is part of the literal (so -9223372036854775808 is valid); any other
            # is a negation evaluated at run time (--9223372036854775808 overflows).
            node = A.Literal(-node.value, pos=minuses[-1].start_pos)
            minuses = minuses[:-1]
        for minus in reversed(minuses):
            node = A.Unary("-", node, pos=minus.start_pos)
        return node

    def field(self, c: Any) -> tuple[str, int]:
        tok = c[0]
        if tok.type == "ESCAPED_IDENT":
            return str(tok)[1:-1], tok.start_pos
        # Reserved words are fine after a dot: `{'as': 1}.as`, `a.as()` (CEL spec); the
        # keywords in/true/false/null are not (cel-go and cel-cpp reject them).
        if str(tok) in KEYWORDS:
            raise _Syntax(f"reserved identifier: {tok}", tok.start_pos)
        return str(tok), tok.start_pos

    def select(self, c: Any) -> A.Select:
        return A.Select(c[0], c[2][0], pos=c[1].start_pos)

    def index(self, c: Any) -> A.Index:
        return A.Index(c[0], c[2], pos=c[1].start_pos)

    def member_call(self, c: Any) -> Any:
        target, _dot, (name, pos), lpar, args = c
        args = tuple(args or ())
        if name in MACROS_MEMBER and len(args) in MACROS_MEMBER[name]:
            var = args[0]
            if not isinstance(var, A.Ident):
                raise _Syntax(f"{name}() macro's first argument must be a simple name", lpar.end_pos)
            transform = args[2] if len(args) == 3 else None
            return A.Comprehension(name, target, var.name, args[1], transform, pos=pos)
        return A.Call(name, args, target, pos=pos)

    def ident(self, c: Any) -> A.Ident:
        tok = c[-1]
        return A.Ident(_check_name(tok), root=len(c) > 1, pos=c[0].start_pos)

    def global_call(self, c: Any) -> Any:
        tok, lpar, args = c[-3], c[-2], tuple(c[-1] or ())
        name = _check_name(tok)
        if name == "has" and len(args) == 1:
            arg = args[0]
            if not isinstance(arg, A.Select) or arg.test_only:
                raise _Syntax("invalid argument to has() macro: expected a field selection", lpar.end_pos)
            return A.Select(arg.operand, arg.field, True, pos=tok.start_pos)
        return A.Call(name, args, None, pos=tok.start_pos)

    def paren(self, c: Any) -> Any:
        if isinstance(c[1], A.Literal):
            _PARENS.ids.add(id(c[1]))
        return c[1]

    def list_(self, c: Any) -> A.ListExpr:
        return A.ListExpr(tuple(c[1]) if len(c) > 1 else (), pos=c[0].start_pos)

    def map_(self, c: Any) -> A.MapExpr:
        return A.MapExpr(tuple(c[1]) if len(c) > 1 else (), pos=c[0].start_pos)

    def exprlist(self, c: Any) -> list[Any]:
        return [c[0]] if len(c) == 1 else c[0] + [c[1]]

    def mapinits(self, c: Any) -> list[Any]:
        return [c[0]] if len(c) == 1 else c[0] + [c[1]]

    def mapinit(self, c: Any) -> tuple[Any, Any]:
        return (c[0], c[1])

    def int_lit(self, c: Any) -> A.Literal:
        return self._number(c[0], decode_int)

    def uint_lit(self, c: Any) -> A.Literal:
        return self._number(c[0], decode_uint)

    def _number(self, tok: Any, decode: Any) -> A.Literal:
        try:
            return A.Literal(decode(str(tok)), pos=tok.start_pos)
        except LiteralError as e:
            raise _Syntax(str(e), tok.start_pos + e.offset) from None

    def double_lit(self, c: Any) -> A.Literal:
        return A.Literal(decode_double(str(c[0])), pos=c[0].start_pos)

    def string_lit(self, c: Any) -> A.Literal:
        return self._text(c[0])

    bytes_lit = string_lit

    def _text(self, tok: Any) -> A.Literal:
        try:
            return A.Literal(decode_text(str(tok)), pos=tok.start_pos)
        except LiteralError as e:
            raise _Syntax(str(e), tok.start_pos + e.offset) from None

    def true_lit(self, c: Any) -> A.Literal:
        return A.Literal(True, pos=c[0].start_pos)

    def false_lit(self, c: Any) -> A.Literal:
        return A.Literal(False, pos=c[0].start_pos)

    def null_lit(self, c: Any) -> A.Literal:
        return A.Literal(None, pos=c[0].start_pos)


@functools.lru_cache(maxsize=1)
def _lark() -> lark.Lark:
    grammar = resources.files("matcher").joinpath("cel/cel.lark").read_text("utf-8")
    return lark.Lark(grammar, parser="lalr", lexer="contextual", transformer=_Builder(),
                     propagate_positions=False, maybe_placeholders=True)


@functools.lru_cache(maxsize=1)
def _terminal_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for term in _lark().terminals:
        pattern = term.pattern
        if term.name in _DISPLAY:
            names[term.name] = _DISPLAY[term.name]
        elif pattern.type == "str":
            names[term.name] = f"'{pattern.value}'"
        else:
            names[term.name] = term.name
    return names


def _describe_expected(expected: set[str]) -> str:
    shown = sorted({_terminal_names().get(e, _DISPLAY.get(e, e)) for e in expected})
    return "{" + ", ".join(shown) + "}"


_OPERATOR_HINTS = {"=": "==", "&": "&&", "|": "||"}
"""Characters that are no CEL token but start one that a rule author probably meant."""


def _character_hint(text: str, at: int) -> str:
    """What the author probably meant by the unrecognised character at ``at`` ("" if unsure)."""
    ch = text[at]
    if ch in _OPERATOR_HINTS:
        return f"; did you mean '{_OPERATOR_HINTS[ch]}'?"
    if ch in "'\"":
        quote = ch * 3 if text.startswith(ch * 3, at) else ch
        where = "" if len(quote) == 3 else " on this line"
        return f"; unterminated string literal: the closing {quote} is missing{where}"
    return ""


def _syntax_error(text: str, e: UnexpectedInput) -> CompileError:
    if isinstance(e, UnexpectedCharacters):
        at = e.pos_in_stream or 0
        if at >= len(text):
            return CompileError("token recognition error at: '<EOF>'", text, at, kind="Syntax error")
        if text[at] in "'\"" and text[max(0, at - 2):at + 1] == text[at] * 3:
            at -= 2  # an unclosed triple quote: the lexer took two quotes as "" first
        message = f"token recognition error at: '{text[at]}'" + _character_hint(text, at)
        return CompileError(message, text, at, kind="Syntax error")
    if isinstance(e, UnexpectedToken):
        tok = e.token
        at_end = tok.type == "$END"
        shown = "<EOF>" if at_end else str(tok)
        offset = len(text) if at_end else tok.start_pos
        expected = getattr(e, "accepts", None) or e.expected
        msg = f"mismatched input '{shown}' expecting {_describe_expected(set(expected))}"
        return CompileError(msg, text, offset, kind="Syntax error")
    if isinstance(e, UnexpectedEOF):
        msg = f"mismatched input '<EOF>' expecting {_describe_expected(set(e.expected))}"
        return CompileError(msg, text, len(text), kind="Syntax error")
    return CompileError(str(e), text, 0, kind="Syntax error")


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> A.Expr:
    """Parse ``text`` into an AST. Raises CompileError with a position for any problem.

    Complexity: O(n) in the length of the text (LALR), plus one pass over the AST.
    """
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, not {type(text).__name__}")
    if len(text) > limits.max_length:
        raise CompileError(
            f"expression is {len(text)} characters long; the limit is {limits.max_length}",
            text, limits.max_length, kind="Limit")
    if not text.strip():
        raise CompileError("empty expression", text, 0, kind="Syntax error")
    _PARENS.ids = set()
    try:
        tree: A.Expr = _lark().parse(text)  # type: ignore[assignment]  # built by _Builder
    except _Syntax as e:
        raise CompileError(str(e), text, e.offset, kind="Syntax error") from None
    except UnexpectedInput as e:
        raise _syntax_error(text, e) from None
    except lark.exceptions.VisitError as e:  # a callback failed: unwrap our own error
        inner = e.orig_exc
        if isinstance(inner, _Syntax):
            raise CompileError(str(inner), text, inner.offset, kind="Syntax error") from None
        raise
    validate_tree(tree, text, limits)
    return tree


def validate_tree(tree: A.Expr, text: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Depth, size and literal-range checks, iteratively (no recursion on hostile input)."""
    count = 0
    stack: list[tuple[A.Expr, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > limits.max_depth:
            raise CompileError(f"expression nesting exceeds the limit of {limits.max_depth}",
                               text, node.pos, kind="Limit")
        if count > limits.max_nodes:
            raise CompileError(f"expression has more than {limits.max_nodes} nodes",
                               text, node.pos, kind="Limit")
        if isinstance(node, A.Literal):
            _check_literal_range(node, text)
            continue
        for child in A.children(node):
            stack.append((child, depth + 1))


def _check_literal_range(node: A.Literal, text: str) -> None:
    v = node.value
    if type(v) is int and not INT64_MIN <= v <= INT64_MAX:
        raise CompileError(f"integer literal {v} does not fit in int64", text, node.pos,
                           kind="Syntax error")
    if type(v) is not int and type(v) is not bool and isinstance(v, int) and v > UINT64_MAX:
        raise CompileError(f"unsigned integer literal {int(v)}u does not fit in uint64", text,
                           node.pos, kind="Syntax error")
