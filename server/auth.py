"""Authentication: signing keys per environment, shared by the gRPC interceptor and REST.

Inngest gives every environment its own signing key, ``signkey-<type>-<hex secret>`` (type
``prod``, ``test`` or ``branch``); a key used against another environment is refused. Here:

- ``signing_keys`` (``env=key,env=key``) and ``signing_keys_file`` (one ``env=key`` per
  line, ``#`` comments) give environments their own key. Such an environment accepts its
  own key and nothing else, and that key is valid in no other environment.
- ``signing_key`` is the key of every environment without a key of its own (none
  configured: those environments refuse every caller).
- No key at all: local mode, every call accepted (logged at start-up as a warning).

The whole key is compared, ``signkey-<type>-`` prefix included, so ``signkey-anything-<
secret>`` is not the key ``signkey-prod-<secret>``. A client may send either the key or
the form Inngest SDKs send as their bearer token: the same prefix followed by the SHA-256
of the hex-decoded secret. Every comparison is constant-time and every configured key is
compared (no early exit), so timing says nothing about which key or prefix was close.
Requests naming no environment (the Expressions service) accept any configured key.
Keys never appear in logs or error messages; only environment names do.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._validate import DEFAULT_ENV, env_name
from .config import Config, ConfigError, settings
from .errors import InvalidArgument, PermissionDenied, Unauthenticated

_PREFIX = re.compile(r"signkey-\w+-")
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")  # what an HTTP header or gRPC metadata can carry
MISSING = "missing authorization: send 'authorization: Bearer <signing key>'"
INVALID = "invalid signing key"


@dataclass(frozen=True)
class Grant:
    """What one presented key may touch: its own environments, or (``shared``) every
    environment that has no key of its own."""

    own: frozenset[str]
    shared: bool
    keyed: frozenset[str]

    def check(self, envs: Iterable[str]) -> None:
        """PermissionDenied for the first environment this key is not valid in."""
        for env in envs:
            env = env or DEFAULT_ENV
            if env not in self.own and (not self.shared or env in self.keyed):
                raise PermissionDenied(f"the signing key is not valid for environment {env!r}")

    @property
    def everywhere(self) -> bool:
        return self.shared and not self.keyed


class Keyring:
    """The configured keys; :meth:`grant` tells which environments a bearer token opens."""

    def __init__(self, shared: str | None = None, per_env: dict[str, str] | None = None) -> None:
        per_env = dict(per_env or {})
        self.local = shared is None and not per_env
        self._keyed = frozenset(per_env)
        # (forms accepted, envs it opens or None for the shared key)
        self._keys: list[tuple[tuple[bytes, ...], str | None]] = [
            (_forms(key), env) for env, key in sorted(per_env.items())]
        if shared is not None:
            self._keys.append((_forms(shared), None))

    @classmethod
    def from_config(cls, config: Config) -> Keyring:
        """The keyring the settings describe; ConfigError names what is wrong (the setting,
        never a key)."""
        if config.signing_key is not None:
            _check_key(config.signing_key, "--signing-key")
        per_env = _pairs(config.signing_keys or "", "--signing-keys")
        if config.signing_keys_file:
            from_file = _read_file(Path(config.signing_keys_file))
            for env in per_env.keys() & from_file.keys():
                raise ConfigError(f"environment {env!r} has a key in both --signing-keys "
                                  "and --signing-keys-file")
            per_env |= from_file
        secrets = [*per_env.values(), *([config.signing_key] if config.signing_key else [])]
        if len(set(secrets)) != len(secrets):
            raise ConfigError("the same signing key is configured twice (for two "
                              "environments, or as --signing-key too): give each its own")
        return cls(config.signing_key, per_env)

    @property
    def environments(self) -> list[str]:
        """Environments with a key of their own (names only: safe to log)."""
        return sorted(self._keyed)

    def grant(self, header: str | None) -> Grant:
        """The grant of an ``authorization`` header; Unauthenticated when it carries no
        configured key. Local mode grants everything."""
        if self.local:
            return Grant(frozenset(), True, frozenset())
        token = _bearer(header)
        matched: list[str | None] = []
        for forms, env in self._keys:  # every key, every form: no early exit
            hit = False
            for form in forms:
                hit |= hmac.compare_digest(token, form)
            if hit:
                matched.append(env)
        if not matched:
            raise Unauthenticated(MISSING if header is None or not header.strip() else INVALID)
        own = frozenset(e for e in matched if e is not None)
        return Grant(own, None in matched, self._keyed)

    def authorize(self, header: str | None, envs: Iterable[str]) -> None:
        """Unauthenticated or PermissionDenied unless the header opens every env."""
        self.grant(header).check(envs)


KEY_SETTINGS = ("signing_key", "signing_keys", "signing_keys_file")


def refuse_empty_key_variables(environ: Mapping[str, str]) -> None:
    """ConfigError when a key setting's CANCELMATCH_* variable is set but empty: the CLI
    reads an empty variable as unset, and a secret that failed to reach the deployment
    must not start the server in local mode."""
    for s in settings():
        if s.name in KEY_SETTINGS and environ.get(s.env_var) == "":
            raise ConfigError(f"{s.env_var} is set but empty: give a key, or unset it for "
                              "local mode (no authentication)")


def request_envs(request: Any) -> list[str]:
    """The environments a cancelmatch.v1 request names ([] when it names none)."""
    fields = getattr(getattr(request, "DESCRIPTOR", None), "fields_by_name", {})
    if "runs" in fields:
        return [r.env for r in request.runs]
    return [request.env] if "env" in fields else []


def _bearer(header: str | None) -> bytes:
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return b""
    return token.strip().encode("utf-8", "surrogateescape")


def _forms(key: str) -> tuple[bytes, ...]:
    """The key itself and, for a hex secret, Inngest's hashed bearer form of it."""
    prefix = m.group() if (m := _PREFIX.match(key)) else ""
    secret = key[len(prefix):]
    try:
        hashed = prefix + hashlib.sha256(bytes.fromhex(secret)).hexdigest()
    except ValueError:
        return (key.encode(),)
    return (key.encode(), hashed.encode())


def _check_key(key: str, where: str) -> None:
    if not key:
        raise ConfigError(f"{where} is empty: give a key, or leave it out entirely for local "
                          "mode (no authentication)")
    if not _KEY_CHARS.fullmatch(key):
        raise ConfigError(f"{where} holds whitespace or a character a header cannot carry")
    prefix = _PREFIX.match(key)
    if key.startswith("signkey-") and (prefix is None or prefix.end() == len(key)):
        raise ConfigError(f"{where} starts with 'signkey-' but is not signkey-<type>-<secret>")


def _pairs(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, item in enumerate(p.strip() for p in text.split(",")):
        if not item and not text.strip():
            return out
        out.update(_pair(item, f"{where} entry {i + 1}", out))
    return out


def _pair(item: str, where: str, seen: dict[str, str]) -> dict[str, str]:
    env, eq, key = item.partition("=")
    env, key = env.strip(), key.strip()
    if not eq:
        raise ConfigError(f"{where}: expected env=key")
    try:
        env_name(env)
    except InvalidArgument as exc:
        raise ConfigError(f"{where}: {exc.message}") from None
    if not env:
        raise ConfigError(f"{where}: an environment name is required")
    if env in seen:
        raise ConfigError(f"{where}: environment {env!r} is listed twice")
    _check_key(key, f"{where} (environment {env!r})")
    return {env: key}


def _read_file(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--signing-keys-file {str(path)!r}: cannot read it: "
                          f"{type(exc).__name__}") from None
    out: dict[str, str] = {}
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.update(_pair(line, f"--signing-keys-file {str(path)!r} line {n}", out))
    return out
