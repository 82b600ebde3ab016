"""CLI: `cancelmatch serve | demo | ...` — wiring only; every subcommand lives in a registry.

Other modules add subcommands without editing the parser: they call :func:`register`
at import time, and :func:`main` imports the optional ``server.cli_expr`` module (the
expression tools: validate, eval, explain) when it exists.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import SETTINGS, Config, settings

log = logging.getLogger("cancelmatch.cli")
OPTIONAL_MODULES = ("server.cli_expr",)
CHOICES = {s.name: s.choices for s in settings() if s.choices}


@dataclass(frozen=True)
class Subcommand:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


SUBCOMMANDS: dict[str, Subcommand] = {}


def register(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None],
             run: Callable[[argparse.Namespace], int]) -> None:
    """Add ``cancelmatch <name>``; ``run`` returns the exit status."""
    SUBCOMMANDS[name] = Subcommand(help, configure, run)


# ---------------------------------------------------------------------- serve

def _configure_serve(parser: argparse.ArgumentParser) -> None:
    defaults = Config()
    for name, flag, env_var, help_text in SETTINGS:
        default = getattr(defaults, name)
        kind = type(default) if default is not None else str
        env_value = os.environ.get(env_var)
        shown = "none" if default is None else str(default)
        parser.add_argument(flag, dest=name, type=_parser_type(kind), metavar=name.upper(),
                            # A string default goes through `type` like a flag value,
                            # so a bad environment value is a usage error for serve only.
                            default=env_value if env_value else default,
                            choices=CHOICES.get(name),
                            help=f"{help_text} (default {shown}; env {env_var})")
    parser.add_argument("--log-level", default=os.environ.get("CANCELMATCH_LOG_LEVEL", "info"))


def _parser_type(kind: type) -> Callable[[str], object]:
    return Path if issubclass(kind, Path) else kind


def config_from_args(ns: argparse.Namespace) -> Config:
    return Config(**{name: getattr(ns, name) for name, *_ in SETTINGS})


def _serve(ns: argparse.Namespace) -> int:
    from . import _logging
    from .auth import ConfigError
    from .grpc_server import build_server

    _logging.configure(ns.log_level)
    try:
        service = build_server(config_from_args(ns))
    except ConfigError as exc:  # one line, no traceback, usage-error status
        print(f"cancelmatch serve: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda s, f: stop.set())
    stop.wait()
    log.info("shutting down", extra={"grace_s": service.config.grace_s})
    service.stop()
    return 0


# ---------------------------------------------------------------------- demo

def _demo(ns: argparse.Namespace) -> int:
    from .demo import run_demo

    logging.basicConfig(level=logging.ERROR)
    state = run_demo()
    return 0 if state == {"rem_001": "cancelled", "rem_002": "cancelled",
                          "rem_003": "running"} else 1


# ---------------------------------------------------------------------- bench

def _configure_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help="arguments for the report, e.g. --quick")


def _bench(ns: argparse.Namespace) -> int:
    return _run_bench(ns.args)


def _run_bench(args: list[str]) -> int:
    try:
        from bench.report import main as bench_main
    except ModuleNotFoundError:
        print("cancelmatch bench needs a source checkout (the bench/ folder) and the bench "
              "extra: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    status: int = bench_main(args)
    return status


register("serve", "run the gRPC + HTTP service", _configure_serve, _serve)
register("bench", "run the benchmark report (python -m bench)", _configure_bench, _bench)
register("demo", "play the Inngest reminder example against an in-process server",
         lambda p: None, _demo)


def build_parser() -> argparse.ArgumentParser:
    for module in OPTIONAL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    parser = argparse.ArgumentParser(prog="cancelmatch", description=__doc__.splitlines()[0])
    subs = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, sub in SUBCOMMANDS.items():
        sub.configure(subs.add_parser(name, help=sub.help, description=sub.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["bench"]:  # its options belong to the report: pass them through as-is
        return _run_bench(args[1:])
    ns = build_parser().parse_args(args)
    return SUBCOMMANDS[ns.command].run(ns)


if __name__ == "__main__":
    # `python -m server.cli` runs this file as __main__, a second copy of the module: use
    # the registry of the real server.cli, where server.cli_expr registers its commands.
    from server.cli import main as _main

    sys.exit(_main())
