"""The JSON pre-scan (server._jsonscan) measures what the decoder would reach, for all JSON."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from server import _jsonscan
from server.config import Config

LIMIT = Config().max_json_depth


def _json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    tricky = st.text(alphabet='[]{}"\\,:NaInfity0123456789e.-+ \u00e9', max_size=12)
    leaves = st.none() | st.booleans() | st.integers(-2**64, 2**64) | st.floats(allow_nan=False,
                                                                 allow_infinity=False) | tricky
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(tricky, inner, max_size=3), max_leaves=max_leaves)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(_json_values(), st.integers(min_value=0, max_value=8))
def test_scan_measures_the_depth_the_decoder_would_reach(value: Any, limit: int) -> None:
    """For all JSON texts (strings full of brackets, quotes and escapes included), the
    scan refuses exactly those nesting deeper than the limit."""
    text = json.dumps(value)
    problem = _jsonscan.scan(text, limit)
    depth = _depth(value)
    if depth > limit:
        assert problem is not None and problem.message.startswith(f"JSON nests {depth} ")
    else:
        assert problem is None


@given(_json_values())
def test_everything_the_scan_accepts_decodes_and_encodes(value: Any) -> None:
    text = json.dumps({"v": value})
    assert _jsonscan.scan(text, LIMIT) is None
    assert json.loads(json.dumps(json.loads(text), allow_nan=False)) == {"v": value}
