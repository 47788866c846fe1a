"""What the vector engine cannot simulate, each reason naming the field."""

from __future__ import annotations

from ...model.trial_model import TrialModel
from ..contract import EngineError

__all__ = ["refuse", "unsupported"]


def unsupported(model: TrialModel) -> str | None:
    """Why the vector engine cannot simulate ``model`` (naming the field), or None when it can."""
    return None


def refuse(model: TrialModel) -> None:
    """Raise :class:`EngineError` with :func:`unsupported`'s reason (the histories functions called directly)."""
    reason = unsupported(model)
    if reason is not None:
        raise EngineError(reason)
