"""Headless Chromium, the real browser the report is printed and checked with.

Chromium is started with no network of its own to speak of (no background networking,
component updates or sync) and a fresh profile, so what it loads is only what the page asks for.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import TrialsimError

__all__ = ["BrowserError", "INSTALL_HINT", "chromium", "headless"]

INSTALL_HINT = (
    "headless Chromium is needed for this; install it with `apt-get install chromium` (Debian, Ubuntu) "
    "or your system's package manager, so that `chromium` is on the PATH"
)

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--hide-scrollbars",
)


class BrowserError(RuntimeError, TrialsimError):
    """Chromium is missing or failed; the message says what to do."""


def chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable on the PATH, or None."""
    return next((path for path in map(shutil.which, _NAMES) if path), None)


def headless(page: Path, *arguments: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium with ``arguments`` (``--print-to-pdf=...``, ``--dump-dom``, ...)."""
    executable = chromium()
    if executable is None:
        raise BrowserError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="trialsim-chromium-") as profile:
        command = [executable, *_FLAGS, f"--user-data-dir={profile}", *arguments, page.resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise BrowserError(f"Chromium did not finish within {timeout:g} s on {page}") from None
    if done.returncode != 0:
        raise BrowserError(f"Chromium failed on {page} (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    return done
