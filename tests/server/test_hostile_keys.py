"""Keys and environments (issue 9 item 9): a key per environment, the whole key compared.

Before: one signing key opened every environment, ``signkey-anything-<secret>`` was accepted
for ``signkey-prod-<secret>`` (the prefix was stripped on both sides), and ``--signing-key ""``
left gRPC open while REST still asked for a header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server._proto import cancelmatch_pb2 as pb
from server._proto import cancelmatch_pb2_grpc as pb_grpc
from server._ulid import new_ulid
from server.auth import ConfigError, Keyring
from server.client import Client
from server.config import Config
from server.errors import PermissionDenied, Unauthenticated
from server.grpc_server import Service, build_server

PROD = "signkey-prod-" + "ab" * 32
STAGING = "signkey-test-" + "cd" * 32
SHARED = "signkey-prod-" + "ef" * 32


def inngest_hashed(key: str) -> str:
    """The bearer form Inngest SDKs send: prefix + sha256 of the hex-decoded secret."""
    prefix, secret = key[:13], key[13:]
    return prefix + hashlib.sha256(bytes.fromhex(secret)).hexdigest()


def _keyring(**settings: str) -> Keyring:
    return Keyring.from_config(Config(**settings))  # type: ignore[arg-type]


@pytest.fixture
def keyring() -> Keyring:
    return _keyring(signing_keys=f"prod={PROD}, staging={STAGING}", signing_key=SHARED)


@pytest.mark.parametrize(("key", "env", "ok"), [
    (PROD, "prod", True),
    (PROD, "staging", False),
    (STAGING, "staging", True),
    (STAGING, "prod", False),
    (SHARED, "prod", False),      # an environment with its own key refuses the shared one
    (SHARED, "dev", True),        # every other environment takes the shared key
    (SHARED, "", True),           # "" is the default environment
    (PROD, "dev", False),
    (inngest_hashed(PROD), "prod", True),
    (inngest_hashed(PROD), "staging", False),
])
def test_a_key_opens_its_own_environments_only(keyring: Keyring, key: str, env: str,
                                               ok: bool) -> None:
    if ok:
        keyring.authorize(f"Bearer {key}", [env])
    else:
        with pytest.raises(PermissionDenied) as err:
            keyring.authorize(f"Bearer {key}", [env])
        assert err.value.message == (f"the signing key is not valid for environment "
                                     f"{env or 'default'!r}")


@pytest.mark.parametrize("token", [
    "signkey-anything-" + "ab" * 32,   # the prefix is part of the key
    "signkey-test-" + "ab" * 32,
    "ab" * 32,                         # the secret alone is not the key
    PROD + "0", PROD[:-1], "",
    "signkey-test-" + inngest_hashed(PROD)[13:],
])
def test_anything_but_the_whole_key_is_unauthenticated(keyring: Keyring, token: str) -> None:
    with pytest.raises(Unauthenticated):
        keyring.authorize(f"Bearer {token}", ["prod"])


def test_requests_without_an_environment_take_any_key(keyring: Keyring) -> None:
    for key in (PROD, STAGING, SHARED):
        keyring.authorize(f"Bearer {key}", [])


def test_every_key_is_compared_whatever_matched(keyring: Keyring,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """No early exit: the time taken does not depend on which key (if any) matched."""
    calls: list[int] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    counts = []
    for key in (PROD, STAGING, SHARED, "wrong"):
        calls.clear()
        try:
            keyring.grant(f"Bearer {key}")
        except Unauthenticated:
            pass
        counts.append(len(calls))
    assert counts == [6, 6, 6, 6]  # 3 keys x (key, hashed form)


@pytest.mark.parametrize(("settings", "message"), [
    ({"signing_key": ""}, "--signing-key is empty"),
    ({"signing_key": "has space"}, "holds whitespace"),
    ({"signing_key": "signkey-prod-"}, "is not signkey-<type>-<secret>"),
    ({"signing_keys": "prod="}, "entry 1 (environment 'prod') is empty"),
    ({"signing_keys": "prod"}, "entry 1: expected env=key"),
    ({"signing_keys": "=k"}, "an environment name is required"),
    ({"signing_keys": "bad/env=k"}, "invalid environment 'bad/env'"),
    ({"signing_keys": "a=k1,a=k2"}, "environment 'a' is listed twice"),
    ({"signing_keys": "a=k1,b=k1"}, "the same signing key is configured twice"),
    ({"signing_keys": "a=k1", "signing_key": "k1"}, "the same signing key is configured twice"),
    ({"signing_keys_file": "/nonexistent/keys"}, "cannot read it: FileNotFoundError"),
])
def test_bad_key_settings_are_refused_without_echoing_keys(settings: dict[str, str],
                                                           message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _keyring(**settings)
    assert message in str(err.value)
    assert "k1" not in str(err.value) and "k2" not in str(err.value)


def test_keys_file(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# one key per environment\nprod = {PROD}\n\nstaging={STAGING}\n")
    ring = _keyring(signing_keys_file=str(path))
    assert ring.environments == ["prod", "staging"]
    ring.authorize(f"Bearer {STAGING}", ["staging"])
    with pytest.raises(PermissionDenied):
        ring.authorize(f"Bearer {STAGING}", ["prod"])
    with pytest.raises(ConfigError, match="in both --signing-keys and --signing-keys-file"):
        _keyring(signing_keys_file=str(path), signing_keys=f"prod={SHARED}")


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e), min_size=8))
def test_no_error_message_ever_holds_a_key(key: str) -> None:
    for settings in ({"signing_keys": f"a={key},b={key}"}, {"signing_keys": f"a b={key}"},
                     {"signing_keys": f"a={key} x"}):
        try:
            _keyring(**settings)
        except ConfigError as exc:
            assert key not in str(exc)


# ---------------------------------------------------------------- over gRPC and REST


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = build_server(Config(data_dir=tmp_path, grpc_port=0, http_port=0, grace_s=1,
                              signing_keys=f"prod={PROD},staging={STAGING}"))
    yield svc
    svc.stop()


def _register(c: Client) -> Any:
    return c.register_run(run_id=new_ulid(), app_id="a", function_id="f", started_at=1000,
                          trigger={"name": "t", "data": {}}, cancel_on=[{"event": "e"}])


def _code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code()  # type: ignore[no-any-return]


def test_grpc_refuses_a_key_of_another_environment(service: Service) -> None:
    with Client(service.target, env="prod", signing_key=PROD) as prod:
        assert _register(prod).status == pb.RUN_STATUS_REGISTERED
        assert prod.validate("async.data.x == 1").valid  # no environment: any key
    with Client(service.target, env="staging", signing_key=PROD) as wrong:
        assert _code(lambda: _register(wrong)) == grpc.StatusCode.PERMISSION_DENIED
        assert _code(lambda: next(wrong.watch())) == grpc.StatusCode.PERMISSION_DENIED
        assert _code(lambda: wrong.publish([{"name": "e"}])) == grpc.StatusCode.PERMISSION_DENIED
    with Client(service.target, env="default", signing_key=PROD) as nobody:
        assert _code(lambda: _register(nobody)) == grpc.StatusCode.PERMISSION_DENIED
    runs = [pb.RegisterRunRequest(env=env, app_id="a", function_id="f", run_id=new_ulid(),
                                  run_started_at=1000, trigger=pb.Event(name="t"))
            for env in ("prod", "staging")]
    with grpc.insecure_channel(service.target) as channel:  # a batch naming two environments
        stub = pb_grpc.RunnerStub(channel)  # type: ignore[no-untyped-call]
        assert _code(lambda: stub.RegisterRuns(pb.RegisterRunsRequest(runs=runs), metadata=(
            ("authorization", f"Bearer {PROD}"),))) == grpc.StatusCode.PERMISSION_DENIED


def _rest(service: Service, key: str, env: str) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{service.http_port}/v1/cancellations",
                                 headers={"Authorization": f"Bearer {key}",
                                          "X-Inngest-Env": env})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        with err:
            assert json.loads(err.read())["status"] == err.code
            return err.code


def test_rest_refuses_a_key_of_another_environment(service: Service) -> None:
    assert _rest(service, PROD, "prod") == 200
    assert _rest(service, PROD, "staging") == 403
    assert _rest(service, STAGING, "staging") == 200
    assert _rest(service, "signkey-other-" + PROD[13:], "prod") == 401
