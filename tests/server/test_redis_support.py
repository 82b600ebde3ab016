"""The Redis test support: without redis-server the Redis tests skip and say what to
install, except under CI=true, where that is a failure (CI must run them)."""

from __future__ import annotations

import pytest
import redis_support


def test_missing_binary_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_support.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install Redis"):
        redis_support.binaries()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: this is a failure"):
        redis_support.binaries()


def test_free_ports_avoid_the_shared_redis() -> None:
    ports = {redis_support.free_port(bus=True) for _ in range(20)}
    assert 6379 not in ports and all(p + 10000 <= 65535 for p in ports)
