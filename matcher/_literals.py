"""Literals: decoding CEL number, string and bytes literal tokens into values.

Escapes follow the CEL language definition ("String and Bytes Literals"): \\a \\b \\f \\n
\\r \\t \\v \\\\ \\' \\" \\` \\? , octal \\ooo (up to \\377), \\xHH / \\XHH, \\uHHHH and
\\UHHHHHHHH. In a string every escape denotes a code point (surrogates are rejected); in
bytes, octal and hex escapes denote single bytes, everything else is UTF-8 encoded. Raw
literals (``r"..."``) keep backslashes as they are.
"""

from __future__ import annotations

import re

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


def _code_point(hex_digits: str, where: int) -> str:
    cp = int(hex_digits, 16)
    if 0xD800 <= cp <= 0xDFFF or cp > 0x10FFFF:
        raise LiteralError(f"invalid unicode code point \\u{hex_digits}", where)
    return chr(cp)


def decode_text(token: str) -> str | bytes:
    """Decode a STRING or BYTES token (quotes and prefixes included) to str or bytes."""
    body, raw, is_bytes, start = _split_quotes(token)
    if raw or "\\" not in body:
        return body.encode("utf-8") if is_bytes else body
    out_b: list[bytes] = []
    out_s: list[str] = []
    pos = 0
    for m in _ESCAPE.finditer(body):
        literal_text = body[pos : m.start()]
        if is_bytes:
            out_b.append(literal_text.encode("utf-8"))
        else:
            out_s.append(literal_text)
        simple, octal, hx, u4, u8, bad = m.groups()
        where = start + m.start()
        if simple is not None:
            piece = _SIMPLE[simple]
            (out_b.append(piece.encode()) if is_bytes else out_s.append(piece))
        elif octal is not None or hx is not None:
            value = int(octal, 8) if octal is not None else int(hx, 16)
            (out_b.append(bytes((value,))) if is_bytes else out_s.append(chr(value)))
        elif u4 is not None or u8 is not None:
            if is_bytes:
                raise LiteralError(f"Unicode escape sequence \\{'u' if u4 else 'U'} cannot be "
                                   "used in bytes literals", where)
            ch = _code_point(u4 or u8, where)
            (out_b.append(ch.encode("utf-8")) if is_bytes else out_s.append(ch))
        else:
            shown = bad if bad else "end of literal"
            raise LiteralError(f"invalid escape sequence \\{shown}", where)
        pos = m.end()
    if is_bytes:
        out_b.append(body[pos:].encode("utf-8"))
        return b"".join(out_b)
    out_s.append(body[pos:])
    return "".join(out_s)


def decode_int(token: str) -> int:
    """An INT token's value, unchecked (the range check happens after negation folding)."""
    return int(token, 16) if token[:2] in ("0x", "0X") else int(token)


def decode_uint(token: str) -> UInt:
    body = token[:-1]
    return UInt(int(body, 16) if body[:2] in ("0x", "0X") else int(body))


def decode_double(token: str) -> float:
    return float(token)
