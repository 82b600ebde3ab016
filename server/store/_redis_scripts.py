"""Store on Redis: the atomic steps, one Lua script each (server/store/lua/<step>.lua).

Each script is sent as the generated key prelude (``_redis_keys.LUA_PRELUDE``), then the
shared helpers (``lib.lua``), then its own body, and runs by EVALSHA. ``KEYS[1]`` is the
environment's meta key (it routes the call to the environment's slot on a Cluster) and
``ARGV[1]`` the environment's key prefix; every key a script touches has that prefix, so
one script never spans two slots.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from ._redis_keys import LUA_PRELUDE, key, prefix

STEPS = ("register", "cancel", "finish", "sync", "load", "unacked", "ack", "sweep",
         "cancellations", "pending")


def source(step: str) -> str:
    """The full text Redis runs for ``step`` (also what a reader should look at)."""
    lua = resources.files("server.store").joinpath("lua")
    return "\n".join([LUA_PRELUDE, lua.joinpath("lib.lua").read_text(),
                      lua.joinpath(f"{step}.lua").read_text()])


class Scripts:
    """The registered scripts of one client (redis-py reloads one after NOSCRIPT)."""

    def __init__(self, client: Any) -> None:
        self._scripts = {step: client.register_script(source(step)) for step in STEPS}

    def call(self, step: str, env: str, args: list[Any], client: Any = None) -> Any:
        """Run ``step`` for ``env``; ``client`` may be a pipeline."""
        return self._scripts[step](keys=[key(env, "meta")], args=[prefix(env), *args],
                                   client=client)
