"""Build hook: bench/'s pytest files (conftest.py, test_perf_*.py) stay out of the wheel.

setuptools installs every module of a package and offers no declarative way to leave some
out (``exclude-package-data`` covers data files only), so build_py filters them. All other
metadata lives in pyproject.toml.
"""

from fnmatch import fnmatch
from pathlib import PurePath

from setuptools import setup
from setuptools.command.build_py import build_py

NOT_INSTALLED = ("bench/conftest.py", "bench/test_perf_*.py")


class BuildPyWithoutTests(build_py):
    def find_package_modules(self, package, package_dir):  # type: ignore[no-untyped-def]
        return [(pkg, module, path)
                for pkg, module, path in super().find_package_modules(package, package_dir)
                if not any(fnmatch(PurePath(path).as_posix(), p) for p in NOT_INSTALLED)]


setup(cmdclass={"build_py": BuildPyWithoutTests})
