"""Generated code: server/_proto matches a fresh `python -m server.codegen`."""

from __future__ import annotations

import importlib.metadata

import pytest

from server import codegen


def _tools_version() -> str | None:
    try:
        return importlib.metadata.version("grpcio-tools")
    except importlib.metadata.PackageNotFoundError:
        return None


def test_committed_generated_code_is_fresh() -> None:
    version = _tools_version()
    if version != codegen.GRPC_TOOLS_VERSION:
        pytest.skip(f"grpcio-tools {codegen.GRPC_TOOLS_VERSION} needed, found {version}")
    assert codegen.stale_files() == [], "run `python -m server.codegen` and commit server/_proto"


def test_stale_file_is_detected(tmp_path) -> None:
    if _tools_version() != codegen.GRPC_TOOLS_VERSION:
        pytest.skip("pinned grpcio-tools not installed")
    codegen.generate(tmp_path)
    (tmp_path / "cancelmatch_pb2.py").write_text("# edited by hand\n")
    assert codegen.stale_files(tmp_path) == ["cancelmatch_pb2.py"]


def test_generated_grpc_module_imports_relatively() -> None:
    text = (codegen.OUT_DIR / "cancelmatch_pb2_grpc.py").read_text()
    assert "from . import cancelmatch_pb2" in text
    assert "from cancelmatch.v1" not in text


def test_if_keeps_its_json_name() -> None:
    from google.protobuf import json_format

    from server._proto import cancelmatch_pb2 as pb

    rule = pb.CancelRule(event="a/b", expression="async.data.x > 1")
    assert json_format.MessageToDict(rule)["if"] == "async.data.x > 1"
