"""Test configuration shared by every test package (hypothesis profiles; append fixtures below)."""

from __future__ import annotations

import os

from hypothesis import settings

# "ci" is reproducible: the same examples on every run and machine, no example database
# written into the tree, no deadline (the machine is shared and noisy). "dev" explores more
# and differently each run. Choose with HYPOTHESIS_PROFILE=dev.
settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True, database=None)
settings.register_profile("dev", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: object) -> None:
    # When a hypothesis test fails, its pytest plugin imports libcst (to suggest an
    # @example patch), and libcst's import warns through mypy_extensions. With
    # filterwarnings=error that third-party warning would hide the real failure behind an
    # INTERNALERROR, so only this warning is ignored.
    config.addinivalue_line(  # type: ignore[attr-defined]
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")
