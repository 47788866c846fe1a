"""What machine a benchmark ran on, as the docs quote it beside a speed."""

from __future__ import annotations

import os
import platform

__all__ = ["machine_line"]


def cpu_name() -> str:
    """The processor's model name (Linux), else what the platform module says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        return names[0]
    except (OSError, IndexError):
        return platform.processor() or platform.machine()


def machine_line() -> str:
    """``machine: <cpu>, <n> cores, Python <version>``."""
    return f"machine: {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}"
