"""A referendum's status line, from its records as they stand: the stage and what its next step
still waits for — opening the vote (the checks ``referendum_core.voting.open_voting`` makes),
closing the polls after 20:00 on referendum day, the online count, and approving the results
(the checks ``referendum_core.voting.approve_results`` makes)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext, ngettext
from sqlalchemy.orm import Session

from referendum_core.voting import ApprovalReadiness, approval_readiness, opening_refusal
from referendum_core.voting.exceptions import InvalidSetup
from referendum_core.voting.models import Referendum, Stage


def readiness_of(session: Session, referendum: Referendum) -> ApprovalReadiness | None:
    """What approval still waits for, from the close of the polls until the results are
    approved (None before and after)."""
    if referendum.stage not in (Stage.COUNTING, Stage.TALLIED):
        return None
    return approval_readiness(session, referendum)


def missing_for_approval(ready: ApprovalReadiness,
                         referendum: Referendum | None = None) -> list[str]:
    """Each thing approval still waits for, as a phrase (empty when it waits for nothing);
    while the online votes are being counted, the trustees' partial decryptions first."""
    missing = []
    if referendum is not None and referendum.stage == Stage.COUNTING:
        missing.append(gettext("the trustees' partial decryptions that count the online votes"))
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


def awaited_for_opening(refusal: InvalidSetup) -> str | None:
    """What opening the vote waits for, as a phrase, from the refusal ``opening_refusal``
    gives; None when waiting cannot help (the days for opening it are over)."""
    if refusal.reason == "no_trustees":
        return gettext("the choice of the trustees")
    if refusal.reason == "key_missing":
        missing = len(refusal.params.get("missing") or ())
        return ngettext("the public key of %(num)s trustee",
                        "the public keys of %(num)s trustees", missing)
    if refusal.reason in ("dkg_unfinished", "dkg_pending"):
        return gettext("the trustees' finished key generation")
    return None


def opening_awaits(referendum: Referendum, now: datetime) -> str | None:
    """While the referendum is being set up, a sentence saying what opening the vote waits
    for (None when the vote can be opened now, or the stage is past)."""
    if referendum.stage != Stage.SETUP:
        return None
    refusal = opening_refusal(referendum, now)
    if refusal is None:
        return None
    what = awaited_for_opening(refusal)
    if what is None:
        return gettext("It is too late to open the vote: the days for voting are over.")
    return gettext("The vote can be opened when nothing is missing. Still missing: %(what)s.",
                   what=what)


def status_line(session: Session, referendum: Referendum, now: datetime) -> str:
    """The referendum's status in one line: its stage and what the next step waits for."""
    stage = referendum.stage
    if stage == Stage.SETUP:
        refusal = opening_refusal(referendum, now)
        if refusal is None:
            return gettext("being set up; the vote can be opened")
        what = awaited_for_opening(refusal)
        if what is None:
            return gettext("being set up; it is too late to open the vote")
        return gettext("being set up; still missing: %(what)s", what=what)
    if stage == Stage.VOTING:
        if now >= referendum.polls_close_at:
            return gettext("voting has ended at 20:00; waiting for the commission to close "
                           "the polls")
        return gettext("voting")
    if stage == Stage.APPROVED:
        return gettext("results approved")
    ready = approval_readiness(session, referendum)
    missing = missing_for_approval(ready, referendum)
    if stage == Stage.COUNTING:
        return gettext("polls closed, counting; still missing: %(missing)s",
                       missing="; ".join(missing))
    if not missing:
        return gettext("online votes counted and every polling station's protocol confirmed; "
                       "awaiting the commission's approval")
    return gettext("online votes counted; still missing: %(missing)s",
                   missing="; ".join(missing))
