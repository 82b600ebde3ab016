"""Authentication: the signing-key check shared by the gRPC interceptor and the REST handlers.

Keys are compared in constant time. Inngest signing keys look like
``signkey-<env>-<hex>``; the ``signkey-<env>-`` prefix is optional on either side, so a
runner may send the full key or only its secret part.
"""

from __future__ import annotations

import hmac
import re

_PREFIX = re.compile(r"^signkey-[A-Za-z0-9]+-")


def _secret(key: str) -> bytes:
    return _PREFIX.sub("", key.strip()).encode()


def authorized(header: str | None, signing_key: str | None) -> bool:
    """Whether an ``authorization`` header value carries ``signing_key`` (always true
    without a configured key: local mode)."""
    if signing_key is None:
        return True
    if not header:
        return False
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    # compare_digest is constant-time for equal lengths and safe for unequal ones.
    return hmac.compare_digest(_secret(token), _secret(signing_key))
