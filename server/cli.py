"""CLI: `cancelmatch serve | sync | demo | bench | openapi | ...` on click — wiring only.

``serve``'s options are derived from the one declaration of each setting in
:class:`server.config.Config` (flag, ``CANCELMATCH_*`` variable, type, case-insensitive
choices, default shown in ``--help``). Every failure is one line on stderr: a usage error or
a bad setting exits 2, as does a start-up failure (port in use, unusable data folder).

Other modules add argparse-declared subcommands through :func:`register` (the expression
tools in ``server.cli_expr``: validate, eval, explain); the adapter runs their parser on the
arguments click passes through, so their options, help and exit codes are unchanged.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from ._version import VERSION
from .config import Config, ConfigError, Setting, settings

log = logging.getLogger("cancelmatch.cli")
OPTIONAL_MODULES = ("server.cli_expr",)
USAGE_ERROR = 2
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(VERSION, "--version", prog_name="cancelmatch",
                      message="%(prog)s %(version)s")
def cli() -> None:
    """cancelmatch: Inngest-style cancel rules matched against events, over gRPC and REST."""


# ---------------------------------------------------------------------- settings -> options

_TYPES: dict[type, click.ParamType[Any]] = {
    int: click.INT, float: click.FLOAT, str: click.STRING, bool: click.BOOL,
    Path: click.Path(path_type=Path)}


def setting_option(s: Setting) -> click.Option:
    """The click option of one setting: flag, environment variable, type, default."""
    kind = click.Choice(s.choices, case_sensitive=False) if s.choices else _TYPES[s.kind]
    return click.Option(
        [s.flag, s.name], type=kind, default=s.default, envvar=s.env_var, show_envvar=True,
        show_default="none" if s.default is None else True, help=s.help)


def config_from_options(values: dict[str, Any]) -> Config:
    """The Config of parsed options; ConfigError names a setting that cannot work."""
    from .auth import refuse_empty_key_variables

    refuse_empty_key_variables(os.environ)
    return Config(**{s.name: values[s.name] for s in settings()}).check()


def _serve(**values: Any) -> int:
    from . import _logging
    from .grpc_server import build_server

    try:
        config = config_from_options(values)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    _logging.configure(config.log_level, config.log_format)
    try:
        service = build_server(config)
    except Exception as exc:  # noqa: BLE001 - one line for the operator, details at debug
        log.debug("start-up failed", exc_info=True)
        click.echo(f"cancelmatch serve: cannot start: {exc}", err=True)
        return USAGE_ERROR
    # `kill -USR1 <pid>` prints every thread's stack to stderr: what a stuck server is doing.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda s, f: stop.set())
    # Wait in short slices: Linux may deliver SIGTERM to any thread, and then nothing wakes
    # a main thread blocked in an untimed wait to run the Python handler (seen: a server
    # that never stopped). Each slice's end runs the pending handler.
    while not stop.wait(0.2):
        pass
    log.info("shutting down", extra={"grace_s": service.config.grace_s})
    service.stop()
    # Shutdown is bounded: a thread still busy this long after stop() is a defect, shown
    # with every thread's stack rather than leaving the process to hang until SIGKILL.
    watchdog = threading.Timer(STOP_WATCHDOG_S, _stuck_at_exit)
    watchdog.daemon = True
    watchdog.start()
    return 0


STOP_WATCHDOG_S = 15.0


def _stuck_at_exit() -> None:
    log.error("threads still running %.0f s after shutdown; exiting anyway", STOP_WATCHDOG_S)
    faulthandler.dump_traceback(all_threads=True)
    os._exit(3)


cli.add_command(click.Command(
    "serve", callback=_serve, params=[setting_option(s) for s in settings()],
    help="Run the gRPC + HTTP service (every option also reads its CANCELMATCH_* variable).",
    short_help="run the gRPC + HTTP service"))


# ---------------------------------------------------------------------- sync

@cli.command("sync", short_help="sync an app's functions and cancel rules from a file")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--app", "app_id", help="the app id (default: the file's app_id)")
@click.option("--target", default="127.0.0.1:50051", show_default=True,
              envvar="CANCELMATCH_TARGET", show_envvar=True, help="the server's gRPC address")
@click.option("--env", default="", envvar="CANCELMATCH_ENV", show_envvar=True,
              help="the environment (default: default)")
@click.option("--signing-key", envvar="CANCELMATCH_SIGNING_KEY", show_envvar=True,
              help="the server's signing key")
def sync(file: Path, app_id: str | None, target: str, env: str,
         signing_key: str | None) -> int:
    """Sync FILE (JSON or YAML: app_id and functions, each with its id and cancelOn rules)
    to a running server over gRPC. Exit status 1 if a function was rejected."""
    from .sync_file import SyncFileError, load, send

    try:
        spec = load(file, app_id)
    except SyncFileError as exc:
        raise click.UsageError(str(exc)) from None
    return send(spec, target, env, signing_key, click.echo)


# ---------------------------------------------------------------------- demo, bench, openapi

@cli.command("demo", short_help="play Inngest's reminder example against an in-process server")
def demo() -> int:
    """Play Inngest's reminder example end to end against an in-process server."""
    from .demo import run_demo

    logging.basicConfig(level=logging.ERROR)
    state = run_demo()
    return 0 if state == {"rem_001": "cancelled", "rem_002": "cancelled",
                          "rem_003": "running"} else 1


@cli.command("bench", short_help="run the benchmark report (arguments go to it: --quick, -h)",
             context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> int:
    """Run the benchmark report (python -m bench); every argument is passed to it."""
    try:
        from bench.report import main as bench_main
    except ModuleNotFoundError as exc:
        if exc.name not in ("bench", "bench.report"):
            raise
        click.echo("cancelmatch bench needs a source checkout (the bench/ folder) and the "
                   "bench extra: pip install -e '.[bench]'", err=True)
        return USAGE_ERROR
    status: int = bench_main(list(args))
    return status


@cli.command("openapi", short_help="print the REST API's OpenAPI document")
def openapi() -> int:
    """Print the OpenAPI document (what server/openapi.json holds)."""
    from . import _openapi
    from .rest import ROUTES

    click.echo(json.dumps(_openapi.document(ROUTES), indent=2))
    return 0


# ---------------------------------------------------------------------- argparse adapter

def register(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None],
             run: Callable[[argparse.Namespace], int]) -> None:
    """Add ``cancelmatch <name>`` declared the argparse way; ``run`` returns the status."""

    def callback(args: tuple[str, ...]) -> int:
        parser = argparse.ArgumentParser(prog=f"cancelmatch {name}", description=help)
        configure(parser)
        # argparse exits (SystemExit 0 for --help, 2 for a usage error) exactly as before.
        return run(parser.parse_args(list(args)))

    cli.add_command(click.Command(
        name, callback=callback, help=help, short_help=help, add_help_option=False,
        context_settings={"ignore_unknown_options": True},
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)]))


def _load_optional() -> None:
    for module in OPTIONAL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


# ---------------------------------------------------------------------- entry point

def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (usage errors: one line on stderr, status 2)."""
    _load_optional()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        status = cli.main(args, prog_name="cancelmatch", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        where = exc.ctx.command_path if getattr(exc, "ctx", None) else "cancelmatch"  # type: ignore[attr-defined]
        hint = f" (see '{where} --help')" if isinstance(exc, click.UsageError) else ""
        click.echo(f"{where}: error: {exc.format_message()}{hint}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    # `python -m server.cli` runs this file as __main__, a second copy of the module: use
    # the registry of the real server.cli, where server.cli_expr registers its commands.
    from server.cli import main as _main

    sys.exit(_main())
