"""Packaging: what the wheel holds (and leaves out), its metadata and its entry points."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """A wheel built from the tracked files only (a clean copy: no stale build/ folder)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    # The installed setuptools builds it when it is in pyproject's range (no download);
    # otherwise pip fetches one in that range, as any build of the project would.
    isolation = ["--no-build-isolation"] if _backend_in_range() else []
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q",
                    "-w", str(out), str(src)], check=True, capture_output=True, timeout=600)
    (built,) = out.glob("cancelmatch-*.whl")
    return zipfile.ZipFile(built)


def _backend_in_range() -> bool:
    """Whether the installed setuptools satisfies pyproject's build requirement."""
    (wanted,) = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    requirement = Requirement(wanted)
    try:
        return requirement.specifier.contains(metadata.version(requirement.name))
    except metadata.PackageNotFoundError:
        return False


def test_tests_are_not_installed(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("cancelmatch-")}
    assert tops == {"matcher", "server", "bench", "cancelmatch"}
    assert not [n for n in names if n.startswith("bench/") and
                (n.endswith("conftest.py") or n.split("/")[-1].startswith("test_"))]
    assert "bench/report.py" in names  # `cancelmatch bench` still finds its report


def test_package_data_and_shim_are_installed(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert {"server/openapi.json", "server/py.typed", "matcher/py.typed",
            "matcher/cel/cel.lark", "cancelmatch/__main__.py"} <= names


def test_metadata_uses_an_spdx_license_and_declares_the_command(wheel: zipfile.ZipFile) -> None:
    info = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = wheel.read(info).decode()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert not any(line.startswith("Classifier: License ::") for line in metadata.splitlines())
    points = wheel.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "cancelmatch = server.cli:main" in points
