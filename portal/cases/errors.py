"""Domain refusals as translated messages and HTTP statuses (pages and the API share them)."""
from __future__ import annotations

from flask_babel import gettext

from portal.uploads import UPLOAD_REFUSALS
from referendum_core.cases.exceptions import (
    CaseError,
    DeadlineSetByLaw,
    FilingPeriodOver,
    InvalidCaseData,
    InvalidPhoto,
    InvalidTransition,
    NotAccredited,
    NotAllowed,
    NoteRequired,
    StaleCase,
    UnknownCaseType,
)


def message_for(err: CaseError) -> str:
    """What to tell the person, in their language."""
    if isinstance(err, StaleCase):
        return gettext("Someone else changed this case at the same time. The page now shows the "
                       "current state; check it and try again.")
    if isinstance(err, NotAccredited):
        return gettext("You are not accredited as an observer in that municipality, so you "
                       "cannot report from this polling station.")
    if isinstance(err, DeadlineSetByLaw):
        return gettext("This deadline is set by law (%(article)s) and cannot be moved by anyone.",
                       article=err.basis)
    if isinstance(err, NotAllowed):
        return gettext("You may not do this on this case.")
    if isinstance(err, InvalidTransition):
        return gettext("That action is not possible in the case's current state.")
    if isinstance(err, InvalidPhoto):
        rule = gettext("Photos must be JPEG, PNG, WebP or HEIC images of at most 8 MB, "
                       "up to 6 per case.")
        return f"{UPLOAD_REFUSALS[err.reason]} {rule}" if err.reason in UPLOAD_REFUSALS else rule
    if isinstance(err, NoteRequired):
        return gettext("Write a note for this action.")
    if isinstance(err, FilingPeriodOver):
        return gettext("The period to contest this has ended (%(article)s).", article=err.article)
    if isinstance(err, UnknownCaseType):
        return gettext("Unknown case type.")
    if isinstance(err, InvalidCaseData):
        return gettext("Some information is missing or not valid. Check the form and try again.")
    return gettext("The request could not be understood. Check the form and try again.")


def status_for(err: CaseError) -> int:
    """The HTTP status of a refusal."""
    if isinstance(err, StaleCase | InvalidTransition):
        return 409
    if isinstance(err, NotAllowed):
        return 403
    return 400
