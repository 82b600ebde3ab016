"""Sync files: an app's functions and cancel rules in JSON or YAML, sent to a running server.

    app_id: reminders-app
    functions:
      - id: send-reminder
        cancelOn:
          - event: tasks/reminder.deleted
            match: data.reminderId
            timeout: 30d

The file is validated with the same model as the REST sync body
(:class:`server.rest_models.SyncFile`), so a file that ``cancelmatch sync`` accepts is a
body ``POST /v1/apps/{app_id}/functions`` accepts, and errors name the file and the field.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import yaml
from pydantic import ValidationError

from .client import Client
from .rest_models import SyncFile, describe, parse_json


class SyncFileError(ValueError):
    """The file cannot be used; the message names the file and what is wrong in it."""


def _parse(path: Path) -> Any:
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".json":
            return parse_json(raw)
        return yaml.safe_load(raw)
    except ValueError as exc:
        raise SyncFileError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SyncFileError(f"{path}: invalid YAML{where}: "
                            f"{getattr(exc, 'problem', None) or exc}") from None


def load(path: Path, app_id: str | None = None) -> SyncFile:
    """The file's functions; ``app_id`` (the --app option) overrides the file's."""
    data = _parse(path)
    if not isinstance(data, dict):
        raise SyncFileError(f"{path}: expected a mapping with app_id and functions")
    if app_id:
        data = {**data, "app_id": app_id}
    try:
        return SyncFile.model_validate(data)
    except ValidationError as exc:
        raise SyncFileError(f"{path}: {describe(exc)}".replace("\n", "; ")) from None


def rule_dicts(spec: SyncFile) -> list[tuple[str, list[dict[str, str]]]]:
    """(function id, rules in the client's ``cancelOn`` form) per function, in file order."""
    return [(f.id, [r.model_dump(by_alias=True, exclude_none=True) for r in f.cancel_on])
            for f in spec.functions]


def send(spec: SyncFile, target: str, env: str, signing_key: str | None,
         say: Callable[[str], None]) -> int:
    """Sync over gRPC and report each function; 0 all synced, 1 some rejected, 2 no answer."""
    try:
        with Client(target, env=env, signing_key=signing_key) as client:
            results = client.sync_functions(spec.app_id, rule_dicts(spec)).results
    except grpc.RpcError as exc:
        print(f"cancelmatch sync: {target}: {exc.code().name}: {exc.details()}",
              file=sys.stderr)
        return 2
    for r in results:
        say(f"{'ok' if r.ok else 'rejected'}  {spec.app_id}/{r.function_id}")
        for line in [*r.errors, *(f"warning: {w}" for w in r.warnings)]:
            say(f"    {line}")
    return 0 if all(r.ok for r in results) else 1
