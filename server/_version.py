"""Version: the installed distribution's version (``cancelmatch --version``, build_info)."""

from __future__ import annotations

from importlib import metadata

try:
    VERSION = metadata.version("cancelmatch")
except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
    VERSION = "0+unknown"
