"""Domain exceptions raised by the case services; the web layer turns them into messages."""
from __future__ import annotations

from typing import Any

from referendum_core.refusals import Refused
from referendum_core.uploads.exceptions import UploadRejected


class CaseError(Refused):
    """Base class of every refusal by the case services."""

    area = "case"


class NotAllowed(CaseError):
    """The actor may not do this to this case (role, party or municipality)."""

    code = "not_allowed"


class NotAccredited(NotAllowed):
    """An observer filed a report for a polling station outside their accreditation."""

    code = "not_accredited"


class DeadlineSetByLaw(NotAllowed):
    """The deadline comes from an article of the law (``basis``): nobody may move it."""

    code = "deadline_set_by_law"

    def __init__(self, basis: str) -> None:
        super().__init__(f"deadline set by law ({basis})")
        self.basis = basis


class InvalidTransition(CaseError):
    """The workflow has no such move from the case's current state."""

    code = "invalid_transition"


class StaleCase(CaseError):
    """The case changed since the actor loaded it (someone else moved it first)."""

    code = "stale"


class InvalidPhoto(CaseError):
    """An upload that is not an accepted image, or too large, or one too many; ``reason`` is
    the upload check's (``referendum_core.uploads``) or ``too_many``."""

    code = "invalid_photo"
    REASONS = (*UploadRejected.REASONS, "too_many")

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidCaseData(CaseError):
    """Input that does not fit the case type (unknown category, empty text, bad station);
    ``field`` names the field when one is at fault, ``problem`` says how (``required``,
    ``too_long`` with ``limit``, ``unknown_value``)."""

    code = "invalid_data"

    def __init__(self, message: str = "", *, field: str | None = None,
                 problem: str | None = None, limit: int | None = None) -> None:
        super().__init__(message)
        self.field, self.problem, self.limit = field, problem, limit

    def answer_detail(self) -> dict[str, Any]:
        return {"field": self.field} if self.field else {}


class BadCharacters(InvalidCaseData):
    """A text with control, format (bidirectional overrides, zero-width), private-use or
    unassigned characters (``referendum_core.text``)."""

    code = "bad_characters"


class ReferendumNotChosen(InvalidCaseData):
    """An observer's report names no referendum while several of the station's municipality
    are under way: which one it belongs to is the observer's to say, not the portal's guess."""

    code = "referendum_not_chosen"


class NoteRequired(InvalidCaseData):
    """The move needs a note (a reason, an answer) and none was given."""

    code = "note_required"


class FilingPeriodOver(InvalidCaseData):
    """A complaint filed after the law's period to contest (``article`` names it)."""

    code = "filing_period_over"

    def __init__(self, article: str) -> None:
        super().__init__(f"the period to contest ended ({article})")
        self.article = article


class UnknownCaseType(CaseError):
    """No workflow is registered for this case type."""

    code = "unknown_case_type"
