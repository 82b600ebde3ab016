"""CLI wiring: the subcommand registry, flags and environment variables for serve."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from server import cli
from server.config import SETTINGS, Config


def test_every_setting_is_a_config_field_with_a_unique_flag_and_env_var() -> None:
    fields = set(Config.__dataclass_fields__)
    assert {name for name, *_ in SETTINGS} <= fields
    assert len({flag for _, flag, _, _ in SETTINGS}) == len(SETTINGS)
    assert len({env for _, _, env, _ in SETTINGS}) == len(SETTINGS)


def test_serve_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANCELMATCH_MAX_RULES", "3")
    monkeypatch.setenv("CANCELMATCH_SIGNING_KEY", "from-env")
    ns = cli.build_parser().parse_args(
        ["serve", "--grpc-port", "0", "--data-dir", "/tmp/x", "--signing-key", "from-flag"])
    config = cli.config_from_args(ns)
    assert (config.grpc_port, config.data_dir, config.max_rules) == (0, Path("/tmp/x"), 3)
    assert config.signing_key == "from-flag"  # a flag beats the environment
    assert cli.config_from_args(cli.build_parser().parse_args(["serve"])).http_port == 8289


def test_no_signing_key_means_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANCELMATCH_SIGNING_KEY", raising=False)
    assert cli.config_from_args(cli.build_parser().parse_args(["serve"])).signing_key is None


def test_registered_subcommands_are_dispatched(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("word")

    def run(ns: argparse.Namespace) -> int:
        seen.append(ns.word)
        return 7

    monkeypatch.setitem(cli.SUBCOMMANDS, "echo-test", cli.Subcommand("test", configure, run))
    assert cli.main(["echo-test", "hello"]) == 7 and seen == ["hello"]


def test_unknown_subcommand_exits_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as err:
        cli.main(["nope"])
    assert err.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_bad_environment_value_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CANCELMATCH_MAX_RULES", "five")
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["serve"])
    assert "argument --max-rules: invalid int value: 'five'" in capsys.readouterr().err
