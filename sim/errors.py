"""The one base of every error the library raises for input or a request it cannot use.

Each such error (a scenario field out of range, an engine that cannot simulate a model, a damaged
run folder, ...) names what is wrong and what is allowed, in one line; the command line prints it
as it is, without a traceback, whatever module raised it, so it needs to import none of them.
"""

from __future__ import annotations

__all__ = ["TrialsimError"]


class TrialsimError(Exception):
    """Input or a request the library cannot use; the message names the field and what it allows."""
