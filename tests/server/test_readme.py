"""The READMEs' examples run as written, in order, against a real `cancelmatch serve`.

Fenced blocks are read from README.md and server/README.md: ``sh`` blocks are run line by
line with bash (``cancelmatch`` is this checkout's command; the documented ports are
replaced by the test server's), ``pycon`` blocks are doctests (their printed results are
checked), ``python`` blocks are executed, and a block announced by ``<!-- file: NAME -->``
is written to NAME first. The few commands not run are listed in SKIPPED with the reason.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from server_support import ROOT, ServerProcess

DOCS = ("README.md", "server/README.md")
SKIPPED = {
    "python -m pip install": "installs packages: CI runs exactly this before the tests",
    "cancelmatch serve": "the test starts that very command itself, on free ports",
    "redis-server": "starts a Redis for the scale-out example; the Redis tests start their own",
}
ILLUSTRATIONS = {"ts": "Inngest SDK code (TypeScript), shown for the shape of a rule"}
FENCE = re.compile(r"(?:<!-- file: (?P<file>[\w./-]+) -->\n)?^```(?P<lang>\w*)\n(?P<body>.*?)^```",
                   re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    doc: str
    lang: str
    body: str
    line: int
    file: str | None


def blocks(doc: str) -> list[Block]:
    text = (ROOT / doc).read_text()
    return [Block(doc, m["lang"], m["body"], text.count("\n", 0, m.start("body")) + 1, m["file"])
            for m in FENCE.finditer(text)]


def commands(body: str) -> list[str]:
    """Shell commands: lines joined while a backslash continues them or a quote is open."""
    out, pending = [], ""
    for line in body.replace("\\\n", " ").splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending)
        except ValueError:  # "No closing quotation": the command goes on
            continue
        if pending.strip():
            out.append(pending.strip())
        pending = ""
    assert not pending, f"unterminated command: {pending!r}"
    return out


def skipped(command: str) -> bool:
    return any(command.startswith(prefix) for prefix in SKIPPED)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("readme") / "data").start()
    yield proc
    proc.cleanup()


class Docs:
    """Runs the blocks of one document in a working folder, against ``server``."""

    def __init__(self, server: ServerProcess, workdir: Path) -> None:
        self.server, self.workdir = server, workdir
        bindir = workdir / "bin"
        bindir.mkdir()
        shim = bindir / "cancelmatch"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cancelmatch "$@"\n')
        shim.chmod(0o755)
        self.env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}",
                    "PYTHONPATH": str(ROOT), "SIGNING_KEY": "",
                    "CANCELMATCH_TARGET": server.target}
        self.globs: dict[str, Any] = {}

    def ports(self, text: str) -> str:
        return (text.replace("127.0.0.1:8289", f"127.0.0.1:{self.server.http_port}")
                .replace("127.0.0.1:50051", self.server.target)
                .replace("localhost:50051", self.server.target))

    def run(self, block: Block) -> None:
        where = f"{block.doc}:{block.line}"
        if block.file:
            (self.workdir / block.file).write_text(block.body)
        elif block.lang == "sh":
            for command in commands(block.body):
                if not skipped(command):
                    self.shell(command, where)
        elif block.lang == "pycon":
            self.doctest(block, where)
        elif block.lang == "python":
            exec(compile(self.ports(block.body), where, "exec"), {"__name__": "readme"})

    def shell(self, command: str, where: str) -> None:
        out = subprocess.run(["bash", "-c", self.ports(command)], cwd=self.workdir,
                             env=self.env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"{where}: {command}\n{out.stdout}\n{out.stderr}"
        if out.stdout.startswith("{"):  # a REST answer: curl exits 0 on a 4xx too
            assert "error" not in json.loads(out.stdout), f"{where}: {command}\n{out.stdout}"

    def doctest(self, block: Block, where: str) -> None:
        test = doctest.DocTestParser().get_doctest(self.ports(block.body), self.globs, where,
                                                   block.doc, block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        report: list[str] = []
        runner.run(test, out=report.append, clear_globs=False)
        self.globs = test.globs  # the next pycon block goes on from here (DocTest copies)
        assert runner.failures == 0, "".join(report)


@pytest.mark.parametrize("doc", DOCS)
def test_every_example_runs_as_written(doc: str, server: ServerProcess,
                                       tmp_path: Path) -> None:
    found = blocks(doc)
    assert found, f"no examples found in {doc}"
    docs = Docs(server, tmp_path)
    for block in found:
        docs.run(block)
    docs.globs.get("client") and docs.globs["client"].close()


def test_blocks_are_of_known_kinds_and_skips_are_used() -> None:
    everything = [b for doc in DOCS for b in blocks(doc)]
    kinds = {"sh", "pycon", "python", *ILLUSTRATIONS}
    assert {b.lang for b in everything if not b.file} <= kinds, "a block this test ignores"
    lines = [c for b in everything if b.lang == "sh" for c in commands(b.body)]
    for prefix in SKIPPED:
        assert any(c.startswith(prefix) for c in lines), f"stale SKIPPED entry {prefix!r}"
    ran = [c for c in lines if not skipped(c)]
    assert any(c.startswith("curl -X POST") and "/v1/cancellations" in c for c in ran)
    assert any(c.startswith("cancelmatch sync") for c in ran)
