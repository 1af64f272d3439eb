"""Refusals of the observation services (one branch of ``referendum_core.refusals``); the
portal's text registry holds their sentences."""
from __future__ import annotations

from typing import Any

from referendum_core.json_input import BODY_REFUSALS
from referendum_core.refusals import Refused


class ObservationError(Refused):
    """Base class of every refusal by the observation services."""

    area = "observation"
    code = "invalid"


class NotObserverHere(ObservationError):
    """The observer is not accredited to this polling station for this referendum."""

    code = "not_observer_here"


class ObserverRightsEnded(NotObserverHere):
    """The person was an observer, but holds no observer's rights now: the observation days of
    their accreditation's referendum have ended, or the accreditation was revoked."""

    code = "observer_rights_ended"


class InvalidAnswer(ObservationError):
    """An answer that does not fit its item (unknown item, wrong kind, number out of range)."""

    code = "invalid_answer"


class NoAnswers(InvalidAnswer):
    """A checklist page with no answer on it."""

    code = "no_answers"


class TooManyAnswers(InvalidAnswer):
    """More answers than the checklist has questions (``limit``)."""

    code = "too_many_answers"

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} answers")
        self.limit = limit


class TooManyPhotos(InvalidAnswer):
    """More photos on a report than it may carry (``limit``)."""

    code = "too_many_photos"

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} photos")
        self.limit = limit


class InvalidJson(ObservationError):
    """A body that is not strict JSON: a key named twice in one object, a decimal number, a
    NaN, a lone surrogate, malformed text, or not a JSON object at all. ``reason`` is one of
    ``json_input.BODY_REFUSALS``, ``params`` the place of the fault (``line``/``column``,
    ``byte``, ``key``) and ``where`` the same in English, for the logs."""

    code = "invalid_json"
    REASONS = BODY_REFUSALS

    def __init__(self, reason: str, where: str = "", **params: Any) -> None:
        super().__init__(f"not strict JSON ({reason}) at {where or 'the top'}")
        self.reason = reason
        self.where = where
        self.params = params

    def answer_detail(self) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if k in ("line", "column", "byte", "key",
                                                               "path")}


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


class KeyReused(ObservationError):
    """The idempotency key was used before for something else (another kind of entry, or other
    content): only the very same entry sent again is answered with its first receipt."""

    code = "key_reused"


class NotCorrectable(ObservationError):
    """A correction must point to the observer's own entry of the same kind at the same
    station for the same referendum; ``reason`` names which of these it is not."""

    REASONS = ("not_own", "other_kind", "other_station", "other_referendum")
    code = "not_correctable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidField(ObservationError):
    """A field of what the observer app sent is missing or of the wrong type (``field`` names
    it, ``expected`` the type: ``id``, ``text``, ``list``, ``answer``, ``object``, ``base64``)."""

    code = "invalid_field"

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"{field}: {expected} expected")
        self.field = field
        self.expected = expected

    def answer_detail(self) -> dict[str, Any]:
        return {"field": self.field}
