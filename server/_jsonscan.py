"""JSON admission: a non-recursive pre-scan of JSON text before anything recursive decodes it.

Python's ``json`` decoder and encoder, the CEL runtime and the decision encoder all recurse
once per nesting level, so a payload that nests thousands of levels deep (a 256 KiB body can
nest 130,000 deep) reaches ``RecursionError`` somewhere, sometimes only after it was stored.
:func:`scan` answers, without recursing and without decoding, the questions that make a
JSON text unsafe to accept:

- how deep it nests (arrays and objects; the top-level value counts as level 1),
- whether it uses ``NaN`` / ``Infinity`` (Python accepts them; JSON and every other reader
  of our decisions do not),
- whether a number is too large for a double (``1e400`` decodes to ``inf``, a 400-digit
  integer makes the int-to-float step raise ``OverflowError``).

Cost. The common case is a few ``str.count``/``in`` passes and one ``bytes.translate`` in
C (5 us for a 1 KiB event, 0.8 ms for 256 KiB). Only texts with more brackets than the
limit, or with a ``NaN``/``Infinity``/huge-number candidate, pay for an exact pass (2 ms
for 226 KiB of small objects, 12 ms for 256 KiB of nothing but nested arrays: less than
decoding them; figures in tests/server/test_hostile_json.py). The scan never decodes and
allocates O(n) at most.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import accumulate

# A JSON string literal (unrolled loop: linear, no backtracking).
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
# For the depth: escape pairs go first, then strings once only brackets and quotes are left.
_ESCAPES = re.compile(r"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"')
_NON_JSON_CONSTANTS = re.compile(r"NaN|Infinity")
# Anchored at a number's first character (the lookbehind), so each token is tried once.
_BIG_NUMBER = re.compile(
    r"(?<![\d.])-?(?:\d+(?:\.\d+)?[eE]\+?\d{3,}|\d{155,}(?:\.\d+)?(?:[eE][-+]?\d+)?)")
# A double overflows past 1.8e308: integer digits + exponent >= 309, so one of them is at
# least 155 (a 155-digit run, or a 3-digit positive exponent). The hint test maps every
# digit to "0" and "E" to "e" with one bytes.translate, then looks for those shapes.
_DIGITS_TO_ZERO = bytes(48 if 48 <= c <= 57 else 101 if c == 69 else c for c in range(256))
_BIG_NUMBER_SHAPES = (b"0" * 155, b"0e000", b"0e+000")  # an exponent follows a digit
_DELTA = tuple(1 if c in b"[{" else -1 if c in b"]}" else 0 for c in range(256))


@dataclass(frozen=True)
class Problem:
    """Why a JSON text is refused; ``message`` reads after the field name."""

    message: str


def scan(text: str, max_depth: int) -> Problem | None:
    """None when ``text`` is safe to decode and re-encode, else what is wrong with it.

    Malformed JSON is not reported here (the decoder says where it is malformed), except
    that unbalanced brackets nesting past ``max_depth`` count as too deep, which they are.
    Complexity: O(len(text)), non-recursive.
    """
    if text.count("[") + text.count("{") > max_depth:
        depth = _max_depth(text)
        if depth > max_depth:
            return Problem(f"JSON nests {depth} levels deep, the limit is {max_depth}")
    structure: str | None = None  # the text without its strings, computed at most once
    if "NaN" in text or "Infinity" in text:
        structure = _STRINGS.sub("", text)
        found = _NON_JSON_CONSTANTS.search(structure)
        if found:
            return Problem(f"{found.group()} is not a JSON number")
    if _may_overflow(text):
        structure = _STRINGS.sub("", text) if structure is None else structure
        for number in _BIG_NUMBER.finditer(structure):
            token = number.group()
            if math.isinf(float(token)):
                shown = token if len(token) <= 40 else f"{token[:20]}... ({len(token)} characters)"
                return Problem(f"number {shown} is too large for a double")
    return None


def _may_overflow(text: str) -> bool:
    shapes = text.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO)
    long_run, exponent, plus_exponent = _BIG_NUMBER_SHAPES  # (no generator: 3 us a call)
    return long_run in shapes or exponent in shapes or plus_exponent in shapes


def _max_depth(text: str) -> int:
    """The deepest nesting of brackets outside strings. Escapes go first (``\\"`` must
    not end a string), then everything but brackets and quotes, then the strings: each
    step is one C-level pass, the last two over the already reduced text."""
    if "\\" in text:
        text = _ESCAPES.sub("", text)
    reduced = text.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURE)
    # Without escapes, every other piece between quotes is a string (an unterminated one
    # included: the decoder stops there, so its brackets never nest).
    brackets = b"".join(reduced.split(b'"')[::2])
    if not brackets:
        return 0
    return max(accumulate(map(_DELTA.__getitem__, brackets)))
