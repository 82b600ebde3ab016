"""Log output: standard ``logging`` records rendered by structlog, readable lines or JSON.

Every module logs with the standard library (``log.info("msg", extra={...})``); this module
only chooses how records look. structlog's ``ProcessorFormatter`` renders them: on a
terminal a one-line coloured console format (``ConsoleRenderer``), otherwise one JSON object
per line with ``ts``, ``level``, ``logger``, ``msg`` and the ``extra`` fields (log shippers
and the test suite parse these; ``{"msg": "listening", "grpc_port": ...}`` is the start-up
line they wait for). structlog was chosen over python-json-logger because one library gives
both renderers from the same processor chain, so the two formats carry the same fields.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

# Third-party loggers that would repeat what our own lines say (uvicorn's start-up banner,
# its "Invalid HTTP request" warnings: the HTTP layer logs each rejection itself).
QUIET_LOGGERS = {"uvicorn": logging.WARNING, "uvicorn.error": logging.ERROR,
                 "uvicorn.access": logging.ERROR}


def resolve_format(fmt: str, stream: TextIO) -> str:
    """"auto" means console on a terminal and json otherwise."""
    fmt = fmt.lower()
    if fmt == "auto":
        isatty = getattr(stream, "isatty", None)
        return "console" if isatty is not None and isatty() else "json"
    return fmt


def formatter(fmt: str, *, colors: bool = False) -> logging.Formatter:
    """A formatter for ``"console"`` or ``"json"`` output."""
    pre_chain: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]
    renderer: list[Processor]
    if fmt == "json":
        renderer = [structlog.processors.format_exc_info, _json_fields,
                    structlog.processors.JSONRenderer(default=str)]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=colors, sort_keys=False,
                                                  timestamp_key="ts")]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer])


def _json_fields(logger: Any, method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    """ts, level, logger and msg first (what a reader scans for), then the extras."""
    head = {"ts": event.pop("ts", None), "level": event.pop("level", method),
            "logger": event.pop("logger", ""), "msg": event.pop("event", "")}
    return {**head, **event}


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> str:
    """Send every log record to ``stream`` (stderr) in ``fmt``; returns the format used."""
    out: Any = stream or sys.stderr
    chosen = resolve_format(fmt, out)
    handler = logging.StreamHandler(out)
    # Colours only on a terminal, and never when NO_COLOR is set (no-color.org).
    colors = chosen == "console" and out.isatty() and not os.environ.get("NO_COLOR")
    handler.setFormatter(formatter(chosen, colors=colors))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    return chosen
