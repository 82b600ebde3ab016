"""Start-up: the checks and messages around binding ports and opening the data folder.

Every failure here is a :class:`StartupError` whose message is one line naming the cause
and the setting to change; ``cancelmatch serve`` prints it and exits with status 2 (no
traceback). The "listening" line names every URL and where the data lives.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from pathlib import Path

import grpc

from .auth import Keyring
from .config import Config, redact_url

log = logging.getLogger("cancelmatch.server")


class StartupError(OSError):
    """The service cannot start; the message says why in one line."""


def data_file(config: Config) -> Path:
    """The SQLite file, after making sure its folder exists and can be written."""
    folder = Path(config.data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"cannot create the data folder {folder} (--data-dir): "
                           f"{exc.strerror or exc}") from None
    if not folder.is_dir():
        raise StartupError(f"the data folder {folder} (--data-dir) is not a directory")
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        raise StartupError(f"the data folder {folder} (--data-dir) is not readable and "
                           "writable by this user")
    path = config.db_path
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StartupError(f"the store {path} is not readable and writable by this user")
    return path


def _port_taken(host: str, port: int) -> bool:
    """Whether something already listens on (host, port); checked before gRPC binds so
    the answer is our one line rather than gRPC core's log output."""
    if port == 0:
        return False
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def bind_grpc(server: grpc.Server, host: str, port: int) -> int:
    """Bind gRPC to host:port; returns the real port (port 0 picks a free one)."""
    message = f"cannot listen on {host}:{port} (gRPC, --grpc-port): address already in use"
    if _port_taken(host, port):
        raise StartupError(message)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        raise StartupError(message.replace("address already in use", "bind failed")) from None
    if bound == 0:
        raise StartupError(message.replace("address already in use", "bind failed"))
    return bound


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def log_listening(config: Config, grpc_port: int, http_port: int, restored: int | None,
                  keyring: Keyring) -> None:
    """The start-up line: every URL and the data location, then the local-mode warning."""
    host = _url_host(config.host)
    http = f"http://{host}:{http_port}"
    log.info("listening", extra={
        "grpc": f"grpc://{host}:{grpc_port}", "http": http, "metrics": f"{http}/metrics",
        "openapi": f"{http}/v1/openapi.json",
        "data": (str(Path(config.db_path).resolve()) if config.store == "sqlite"
                 else redact_url(config.store)),
        "grpc_port": grpc_port, "http_port": http_port, "restored_listeners": restored})
    if keyring.local:
        log.warning("local mode: no signing key configured, every call is accepted")
    else:  # environment names only: keys are never logged
        log.info("signing keys", extra={"environments_with_own_key": keyring.environments,
                                        "shared_key": config.signing_key is not None})
