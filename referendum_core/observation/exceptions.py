"""Refusals of the observation services (one branch of ``referendum_core.refusals``); the
portal's text registry holds their sentences."""
from __future__ import annotations

from referendum_core.refusals import Refused


class ObservationError(Refused):
    """Base class of every refusal by the observation services."""

    area = "observation"
    code = "invalid"


class NotObserverHere(ObservationError):
    """The observer is not accredited to this polling station for this referendum."""

    code = "not_observer_here"


class InvalidAnswer(ObservationError):
    """An answer that does not fit its item (unknown item, wrong kind, number out of range)."""

    code = "invalid_answer"


class InvalidObservationPhoto(ObservationError):
    """A photo that is not an accepted image or is too large; ``reason`` is the upload check's."""

    code = "invalid_photo"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # the upload check's reason


class InvalidSubmissionKey(ObservationError):
    """The client's idempotency key is missing or not a UUID."""

    code = "invalid_key"


class AlreadyCorrected(ObservationError):
    """The entry has been corrected already: a correction points to the latest entry."""

    code = "already_corrected"


class AppendOnly(ObservationError):
    """An attempt to change an entry that was sent: entries are corrected by appending."""

    code = "append_only"


class SendAgain(ObservationError):
    """Another submission changed the same answers at the same moment; sending again works."""

    code = "send_again"
