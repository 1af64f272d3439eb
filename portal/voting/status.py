"""A referendum's status line, from its records as they stand: the stage and, once the online
votes are counted, what approving the results still waits for (the same checks
``referendum_core.voting.approve_results`` makes)."""
from __future__ import annotations

from flask_babel import gettext, ngettext
from sqlalchemy.orm import Session

from referendum_core.voting import ApprovalReadiness, approval_readiness
from referendum_core.voting.models import Referendum, Stage


def readiness_of(session: Session, referendum: Referendum) -> ApprovalReadiness | None:
    """What approval still waits for, while the online votes are counted and not yet approved."""
    if referendum.stage != Stage.TALLIED:
        return None
    return approval_readiness(session, referendum)


def missing_for_approval(ready: ApprovalReadiness) -> list[str]:
    """Each thing approval still waits for, as a phrase (empty when it waits for nothing)."""
    missing = []
    if ready.unconfirmed:
        missing.append(ngettext(
            "a confirmed protocol from polling station %(numbers)s (%(confirmed)s of "
            "%(stations)s confirmed)",
            "confirmed protocols from polling stations %(numbers)s (%(confirmed)s of "
            "%(stations)s confirmed)", len(ready.unconfirmed),
            numbers=", ".join(str(n) for n in ready.unconfirmed), confirmed=ready.confirmed,
            stations=ready.stations))
    if ready.pending_envelopes:
        missing.append(ngettext(
            "the check of %(num)s registration envelope against the voter register",
            "the check of %(num)s registration envelopes against the voter register",
            ready.pending_envelopes))
    if ready.base_figure_missing:
        missing.append(gettext("the figure from the last council elections that Art. 22 "
                               "judges the result by, which CVK records"))
    return missing


def status_line(session: Session, referendum: Referendum) -> str:
    """The referendum's status in one line."""
    stage = referendum.stage
    if stage == Stage.SETUP:
        return gettext("being set up")
    if stage == Stage.VOTING:
        return gettext("voting")
    if stage == Stage.COUNTING:
        return gettext("polls closed, counting")
    if stage == Stage.APPROVED:
        return gettext("results approved")
    ready = approval_readiness(session, referendum)
    missing = missing_for_approval(ready)
    if not missing:
        return gettext("online votes counted and every polling station's protocol confirmed; "
                       "awaiting the commission's approval")
    return gettext("online votes counted; still missing: %(missing)s",
                   missing="; ".join(missing))
