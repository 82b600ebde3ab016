"""Literals: decoding CEL number, string and bytes literal tokens into values.

Escapes follow the CEL language definition ("String and Bytes Literals"): \\a \\b \\f \\n
\\r \\t \\v \\\\ \\' \\" \\` \\? , octal \\ooo (up to \\377), \\xHH / \\XHH, \\uHHHH and
\\UHHHHHHHH. In a string every escape denotes a code point (surrogates are rejected); in
bytes, octal and hex escapes denote single bytes, everything else is UTF-8 encoded. Raw
literals (``r"..."``) keep backslashes as they are.

Source text, not escapes, is checked too: a lone surrogate code point in a literal is not
Unicode text (it has no UTF-8 form), so it is a positioned error rather than a crash when
the value is later encoded. A raw carriage return or CRLF inside a triple-quoted literal
becomes ``\n``, as cel-go and CEL C++ do (cel-spec issue 490 leaves it open): the value of
a multi-line literal does not depend on the line endings of the file it was written in.
An integer literal too long to fit in 64 bits is an error before Python is asked to
convert it (Python refuses numbers of more than 4,300 digits with its own ValueError).
"""

from __future__ import annotations

import re
from typing import Any

from ._values import UInt

_SIMPLE = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
}
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\\'\"`?])|([0-3][0-7]{2})|[xX]([0-9a-fA-F]{2})"
    r"|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.|\n|$))"
)


class LiteralError(ValueError):
    """A malformed literal; ``offset`` is relative to the start of the token."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _split_quotes(token: str) -> tuple[str, bool, bool, int]:
    """(body, is_raw, is_bytes, offset of body) for a string or bytes token."""
    i = 0
    raw = is_bytes = False
    while token[i] in "rRbB":
        if token[i] in "rR":
            raw = True
        else:
            is_bytes = True
        i += 1
    quote = token[i : i + 3] if token[i : i + 3] in ('"""', "'''") else token[i]
    return token[i + len(quote) : len(token) - len(quote)], raw, is_bytes, i + len(quote)


_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_DIGITS = {10: 20, 16: 16}
"""Significant digits of the largest 64-bit value (2**64 - 1) per base: longer never fits."""


def _normalize_newlines(body: str) -> tuple[str, list[int]]:
    """``body`` with CRLF and CR turned into LF, and where each removed CR was."""
    removed = [i for i in range(len(body) - 1) if body[i] == "\r" and body[i + 1] == "\n"]
    return body.replace("\r\n", "\n").replace("\r", "\n"), removed


def _source_offset(offset: int, removed: list[int]) -> int:
    """An offset in the normalized body mapped back to the token's own text."""
    for i in removed:
        if i - removed.index(i) < offset:
            offset += 1
    return offset


def _code_point(hex_digits: str, where: int) -> str:
    cp = int(hex_digits, 16)
    if 0xD800 <= cp <= 0xDFFF or cp > 0x10FFFF:
        raise LiteralError(f"invalid unicode code point \\u{hex_digits}", where)
    return chr(cp)


def decode_text(token: str) -> str | bytes:
    """Decode a STRING or BYTES token (quotes and prefixes included) to str or bytes."""
    body, raw, is_bytes, start = _split_quotes(token)
    surrogate = _SURROGATE.search(body)
    if surrogate is not None:
        raise LiteralError(f"invalid character U+{ord(surrogate.group()):04X} in a literal: a "
                           "lone surrogate is not Unicode text", start + surrogate.start())
    removed: list[int] = []
    if "\r" in body:  # only a triple-quoted literal can hold one
        body, removed = _normalize_newlines(body)
    if raw or "\\" not in body:
        return body.encode("utf-8") if is_bytes else body
    pieces = _unescape(body, is_bytes, lambda at: start + _source_offset(at, removed))
    if is_bytes:
        return b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in pieces)
    return "".join(p for p in pieces if isinstance(p, str))  # a string has only str pieces


def _unescape(body: str, is_bytes: bool, where: Any) -> list[str | bytes]:
    """The text and escapes of ``body`` in order; single bytes (octal, hex) in a bytes
    literal are bytes, everything else text. ``where(i)``: token offset of body offset i."""
    out: list[str | bytes] = []
    pos = 0
    for m in _ESCAPE.finditer(body):
        out.append(body[pos : m.start()])
        simple, octal, hx, u4, u8, bad = m.groups()
        if simple is not None:
            out.append(_SIMPLE[simple])
        elif octal is not None or hx is not None:
            value = int(octal, 8) if octal is not None else int(hx, 16)
            out.append(bytes((value,)) if is_bytes else chr(value))
        elif u4 is not None or u8 is not None:
            if is_bytes:
                raise LiteralError(f"Unicode escape sequence \\{'u' if u4 else 'U'} cannot be "
                                   "used in bytes literals", where(m.start()))
            out.append(_code_point(u4 or u8, where(m.start())))
        else:
            shown = bad if bad else "end of literal"
            raise LiteralError(f"invalid escape sequence \\{shown}", where(m.start()))
        pos = m.end()
    out.append(body[pos:])
    return out


def _integer(body: str, what: str) -> int:
    base = 16 if body[:2] in ("0x", "0X") else 10
    digits = body[2:] if base == 16 else body
    significant = digits.lstrip("0")
    if len(significant) > _MAX_DIGITS[base]:
        shown = body if len(body) <= 24 else f"{body[:20]}... ({len(digits)} digits)"
        size = "uint64" if "unsigned" in what else "int64"
        raise LiteralError(f"{what} {shown} does not fit in {size}", 0)
    return int(significant or "0", base)


def decode_int(token: str) -> int:
    """An INT token's value, range-checked only for length (the exact range check happens
    after negation folding, so that -9223372036854775808 is valid)."""
    return _integer(token, "integer literal")


def decode_uint(token: str) -> UInt:
    return UInt(_integer(token[:-1], "unsigned integer literal"))


def decode_double(token: str) -> float:
    return float(token)
