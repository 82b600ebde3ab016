"""Codegen: regenerate server/_proto/ from proto/ with grpc_tools.protoc (one command).

    python -m server.codegen            # rewrite server/_proto/ in place
    python -m server.codegen --check    # exit 1 when the committed files are stale

The generated modules are committed (a fresh clone needs no protoc) and a test
regenerates them into a temporary directory and fails when they differ. protoc emits
``from cancelmatch.v1 import cancelmatch_pb2``, an absolute import of a package that
does not exist here; we flatten the output into ``server/_proto`` and make that import
relative, so the generated code stays private to ``server``.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PROTO_FILE = "cancelmatch/v1/cancelmatch.proto"
OUT_DIR = Path(__file__).resolve().parent / "_proto"
# The generator version the committed files were produced with (pinned in the test extra):
# another protoc emits different bytes, so the staleness test only compares like with like.
GRPC_TOOLS_VERSION = "1.85.1"
GENERATED = ("cancelmatch_pb2.py", "cancelmatch_pb2.pyi", "cancelmatch_pb2_grpc.py")
INIT_TEXT = (
    '"""Generated protobuf/gRPC code (private; regenerate with `python -m server.codegen`)."""\n'
)

_ABS_IMPORT = re.compile(r"^from cancelmatch\.v1 import (cancelmatch_pb2 as \w+)$", re.M)


def generate(out_dir: Path) -> list[Path]:
    """Run protoc for the proto file and write the flattened, relative-import modules."""
    from grpc_tools import protoc  # test/dev dependency only: imported on demand

    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            PROTO_FILE,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed for {PROTO_FILE}")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name in GENERATED:
            text = (Path(tmp) / "cancelmatch" / "v1" / name).read_text()
            target = out_dir / name
            target.write_text(_ABS_IMPORT.sub(r"from . import \1", text))
            written.append(target)
        init = out_dir / "__init__.py"
        init.write_text(INIT_TEXT)
        written.append(init)
    return written


def stale_files(committed: Path = OUT_DIR) -> list[str]:
    """Names of generated files whose committed text differs from a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        return [p.name for p in fresh if _text(committed / p.name) != p.read_text()]


def _text(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.codegen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    ns = parser.parse_args(argv)
    if ns.check:
        stale = stale_files()
        for name in stale:
            print(f"stale: server/_proto/{name} (run `python -m server.codegen`)")
        return 1 if stale else 0
    for path in generate(OUT_DIR):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
