"""Access (regex): the literal text every match of an RE2 pattern must start with or contain.

``x.matches(re)`` holds when ``re`` matches some substring of ``x`` (RE2 search). If every
match starts at the beginning of the text with a fixed literal (``^/org/\\d+``), ``x`` must
start with it; if every match contains a fixed literal (``invoice-[0-9]+``), ``x`` must
contain it. The index files such an atom under that literal as a *necessary* condition and
still verifies the regex itself on each candidate.

The analysis is deliberately conservative: it reads only the top level of the pattern,
gives up (no literal) on any alternation ``|`` at the top level, any flag group (``(?i)``,
``(?m)``: they change what a literal or ``^`` means), ``\\Q...\\E`` and any repetition it
cannot parse, and treats every group, class, ``.`` and escape sequence other than an escaped
punctuation character as an unknown piece that ends a literal run. An invalid pattern may
still yield a literal: it never matches, so the verifier rejects every candidate.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_REPEAT = re.compile(r"\{(\d+)(,\d*)?\}")
_ANCHOR, _OTHER, _LIT = "anchor", "other", "lit"


class Literals(NamedTuple):
    prefix: str  # every match starts at the beginning of the text with this ("" if unknown)
    required: str  # every match contains this ("" if unknown); the longest such run found


NONE = Literals("", "")


class _Unsure(Exception):
    """The pattern has a construct the analysis does not model: index nothing."""


def _skip_class(p: str, i: int) -> int:
    """Index just past the ``[...]`` class starting at ``p[i] == "["``."""
    j = i + 1
    if j < len(p) and p[j] == "^":
        j += 1
    if j < len(p) and p[j] == "]":  # a leading ] is a literal member
        j += 1
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
        elif c == "[" and p.startswith("[:", j):
            end = p.find(":]", j + 2)
            j = end + 2 if end >= 0 else j + 1
        elif c == "]":
            return j + 1
        else:
            j += 1
    raise _Unsure("unterminated class")


def _skip_group(p: str, i: int) -> int:
    """Index just past the group starting at ``p[i] == "("``; refuses flag groups."""
    if p.startswith("(?", i) and not (p.startswith("(?:", i) or p.startswith("(?P<", i)
                                      or p.startswith("(?<", i)):
        raise _Unsure("flag group")
    depth, j = 0, i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _skip_class(p, j)
            continue
        if c == "(":
            if p.startswith("(?", j) and not (p.startswith("(?:", j) or p.startswith("(?P<", j)
                                              or p.startswith("(?<", j)):
                raise _Unsure("flag group")
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise _Unsure("unbalanced group")


def _escape(p: str, i: int) -> tuple[str, str, int]:
    """(kind, literal text, next index) for the escape at ``p[i] == "\\"``."""
    if i + 1 >= len(p):
        raise _Unsure("trailing backslash")
    c = p[i + 1]
    if not c.isalnum() and c.isascii():
        return _LIT, c, i + 2  # escaped punctuation is that character
    if c == "Q" or c == "E" or c.isdigit():
        raise _Unsure("\\Q...\\E or an octal escape (its digits are not literals)")
    if c == "A":
        return _ANCHOR, "", i + 2
    if c in "pPx" and i + 2 < len(p) and p[i + 2] == "{":
        end = p.find("}", i + 2)
        if end < 0:
            raise _Unsure("unterminated escape")
        return _OTHER, "", end + 1
    if c in "pP":
        return _OTHER, "", i + 3
    if c == "x":
        return _OTHER, "", i + 4
    return _OTHER, "", i + 2  # \d \w \s \b \n \t \z...: not a fixed literal


def _tokens(p: str) -> list[tuple[str, str, int]]:
    """Top-level pieces as (kind, literal, minimum repetitions); -1 = not repeated."""
    out: list[tuple[str, str, int]] = []
    i = 0
    while i < len(p):
        c = p[i]
        if c == "|":
            raise _Unsure("alternation")
        if c in "*+?{":
            if not out:
                raise _Unsure("repetition of nothing")
            least, i = _repetition(p, i)
            kind, text, seen = out[-1]
            if seen != -1:
                raise _Unsure("double repetition")
            out[-1] = (kind, text, least)
            continue
        if c == "\\":
            kind, text, i = _escape(p, i)
        elif c == "[":
            kind, text, i = _OTHER, "", _skip_class(p, i)
        elif c == "(":
            kind, text, i = _OTHER, "", _skip_group(p, i)
        elif c == "^":
            kind, text, i = _ANCHOR, "", i + 1
        elif c in ".$)":
            kind, text, i = _OTHER, "", i + 1
        else:
            kind, text, i = _LIT, c, i + 1
        out.append((kind, text, -1))
    return out


def _repetition(p: str, i: int) -> tuple[int, int]:
    """(minimum count, index after) of the repetition operator at ``p[i]``."""
    c = p[i]
    if c == "{":
        m = _REPEAT.match(p, i)
        if m is None:
            raise _Unsure("brace that is not a repetition")
        least, i = int(m.group(1)), m.end()
    else:
        least, i = (1 if c == "+" else 0), i + 1
    if i < len(p) and p[i] == "?":  # non-greedy: same strings matched
        i += 1
    return least, i


def literals(pattern: str) -> Literals:
    """The literal prefix and the longest required literal of an RE2 pattern (see module)."""
    try:
        tokens = _tokens(pattern)
    except _Unsure:
        return NONE
    runs: list[tuple[int, str]] = []  # (index of the run's first token, text)
    start, run = 0, ""
    for n, (kind, text, least) in enumerate(tokens):
        if kind == _LIT and least != 0:
            if not run:
                start = n
            run += text
            if least == -1:
                continue
        if run:
            runs.append((start, run))
        run = ""
    if run:
        runs.append((start, run))
    anchored = bool(tokens) and tokens[0][0] == _ANCHOR and tokens[0][2] == -1
    prefix = next((text for first, text in runs if first == 1), "") if anchored else ""
    required = max((text for _, text in runs), key=len, default="")
    return Literals(prefix, required)
