"""Environment: describe the machine a benchmark ran on and read the process's memory."""

from __future__ import annotations

import datetime
import os
import platform
import re
import resource
import socket
import sys
from typing import Any

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or platform's best guess elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_name() -> str:
    """A filesystem-safe short name for the machine (used in result file names)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", socket.gethostname()).strip("-")[:40] or "machine"


def machine_info() -> dict[str, Any]:
    """CPU model, core count, Python version, OS and the UTC date: the report header."""
    now = datetime.datetime.now(datetime.UTC)
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "os": f"{platform.system()} {platform.release()}",
        "machine": machine_name(),
        "date": now.strftime("%Y-%m-%d"),
        "timestamp": now.isoformat(timespec="seconds"),
    }


def rss_bytes() -> int:
    """Current resident set size. /proc/self/statm on Linux (current, not peak);
    elsewhere the peak from getrusage, which only ever grows — deltas then overstate."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
