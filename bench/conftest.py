"""Micro-benchmark fixtures (pytest-benchmark). Run: python -m pytest bench --benchmark-only

Not part of the default test run (pyproject's testpaths is ``tests``). Every benchmark also
asserts what it computed, so a broken engine cannot post a fast time.
"""

from __future__ import annotations

from typing import Any

import pytest

RULES: dict[str, tuple[str, dict[str, Any]]] = {
    "two_clause": (
        "event.data.userId == 'user_123' && async.data.amount > 100",
        {"event": {"data": {"userId": "user_123"}}, "async": {"data": {"amount": 150}}},
    ),
    "five_clause": (
        "event.data.userId == async.data.userId && async.data.amount > 100"
        " && async.data.status != 'draft' && async.data.plan in ['pro', 'enterprise']"
        " && async.data.email.endsWith('@example.com')",
        {
            "event": {"data": {"userId": "u_42"}},
            "async": {
                "data": {
                    "userId": "u_42",
                    "amount": 250,
                    "status": "paid",
                    "plan": "pro",
                    "email": "ada@example.com",
                }
            },
        },
    ),
    "matches": (
        r"async.data.email.matches('^[a-z0-9._%+-]+@example\\.com$')",
        {"event": {"data": {}}, "async": {"data": {"email": "ada.lovelace@example.com"}}},
    ),
    "macro": (
        "async.data.items.exists(i, i.sku == event.data.sku && i.qty > 1)",
        {
            "event": {"data": {"sku": "B-7"}},
            "async": {"data": {"items": [{"sku": "A-1", "qty": 5}, {"sku": "B-7", "qty": 2}]}},
        },
    ),
}
"""The evaluation rules of issue 2; each is true for its activation."""


@pytest.fixture(scope="session")
def matcher_compiler() -> Any:
    """The matcher package (its compiler)."""
    import matcher

    return matcher


@pytest.fixture(scope="session")
def matcher_index() -> Any:
    """The matcher package (its listener index)."""
    import matcher

    return matcher
