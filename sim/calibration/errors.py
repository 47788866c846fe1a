"""The error a calibration raises, and the text type its errors and notes are written in.

A calibration's messages name the Python parameters that hold each value (``cohort_size``,
``scan_weeks``, ``median_pfs_months``). A front end that spells them otherwise (the command line's
``--cohort``, ``--scan-weeks``, ``--median-pfs``) respells them with :meth:`Message.spelled`
instead of matching words in the text, which would also hit a "weibull family" or a best fit's
"orr 0.08".
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import TrialsimError

__all__ = ["CalibrationError", "Message", "named"]

_MARK = "\x1f"
"""Brackets a parameter's name in the text a Message is made from; never shown."""


def named(parameter: str) -> str:
    """``parameter`` marked as a parameter's name, for text that becomes a :class:`Message`."""
    return f"{_MARK}{parameter}{_MARK}"


class Message(str):
    """Text that names parameters: it reads with their Python names; ``spelled`` gives other names.

    Made from text whose parameter names were marked with :func:`named`. ``parts`` alternates plain
    text and the names: ``("", "cohort_size", " must be ...")``.
    """

    parts: tuple[str, ...]

    def __new__(cls, marked: str) -> Message:
        """The text of ``marked`` without its marks, which are kept as ``parts``."""
        parts = marked.parts if isinstance(marked, Message) else tuple(marked.split(_MARK))
        if len(parts) % 2 == 0:
            raise ValueError(f"unbalanced parameter mark in {marked!r}")
        text = super().__new__(cls, "".join(parts))
        text.parts = parts
        return text

    def spelled(self, names: Mapping[str, str]) -> str:
        """The text with each parameter named as ``names`` spells it (unlisted names stay)."""
        return "".join(names.get(part, part) if i % 2 else part for i, part in enumerate(self.parts))


class CalibrationError(ValueError, TrialsimError):
    """Targets that are invalid, inconsistent with each other or with the model, or a fit that failed.

    The message (``args[0]``, a :class:`Message`) names the parameters of ``CalibrationTargets`` and
    ``calibrate``. A ValueError, so the command line reports it as a one-line usage error (exit status 2).
    """

    def __init__(self, marked: str) -> None:
        super().__init__(Message(marked))

    @property
    def message(self) -> Message:
        """The message, whose parameter names a front end may respell."""
        return self.args[0]
