"""A referendum's status line, from its records as they stand: the stage and what its next step
still waits for — opening the vote (the checks ``referendum_core.voting.open_voting`` makes),
closing the polls after 20:00 on referendum day, the online count, and approving the results
(the checks ``referendum_core.voting.approve_results`` makes).

``waiting_steps`` says the same as steps that wait for someone, each with its deadline: the
referendums' work provider (``portal.voting.work``) lists them as "needs your action", so the
manage page and the home page cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext, ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core.voting import ApprovalReadiness, approval_readiness, opening_refusal
from referendum_core.voting.exceptions import InvalidSetup
from referendum_core.voting.models import Referendum, Stage, TrusteeShare


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


# Who a waiting step waits for: the commission managing the referendum
# (``Permission.MANAGE_REFERENDUM``), those who confirm the stations' protocols
# (``Permission.CONFIRM_PROTOCOL``), the chair who approves (``Permission.APPROVE_RESULTS``),
# or named trustees.
COMMISSION, PROTOCOLS, APPROVER, TRUSTEES = "commission", "protocols", "approver", "trustees"


@dataclass(frozen=True)
class WaitingStep:
    """A step of the referendum waiting for ``party`` (for trustees: those in ``user_ids``),
    due by ``deadline_at``; ``is_urgent`` when it should have been taken already."""

    kind: str  # choose_trustees, upload_key, open, close, protocols, reconcile, decrypt, approve
    party: str
    deadline_at: datetime
    user_ids: tuple[int, ...] = ()
    is_urgent: bool = False


def waiting_steps(session: Session, referendum: Referendum, now: datetime
                  ) -> list[WaitingStep]:
    """The steps the referendum waits for now, from what ``status_line`` says: before the vote
    opens, the trustees' choice, their public keys (due before the online vote opens) or
    opening it; after 20:00 on referendum day, closing the polls; after that, what approval
    still waits for (the trustees' partial decryptions, the stations' confirmed protocols, the
    registration envelopes' check), then approving. Steps for CVK (the base figure) and the
    trustees' key generation rounds (reminded by ``key_generation``) are not among them."""
    stage = referendum.stage

    def step(kind: str, party: str, due: datetime, user_ids: tuple[int, ...] = (),
             urgent: bool = False) -> WaitingStep:
        return WaitingStep(kind, party, due, user_ids, urgent or due < now)

    if stage == Stage.SETUP:
        refusal = opening_refusal(referendum, now)
        due = referendum.online_opens_at or referendum.polls_open_at
        if refusal is None:
            return [step("open", COMMISSION, due)]
        if refusal.reason == "no_trustees":
            return [step("choose_trustees", COMMISSION, due)]
        if refusal.reason == "key_missing":
            missing = set(refusal.params.get("missing") or ())
            return [step("upload_key", TRUSTEES, due, tuple(
                t.user_id for t in referendum.trustees if t.position in missing))]
        return []
    if stage == Stage.VOTING:
        if now >= referendum.polls_close_at:
            return [step("close", COMMISSION, referendum.polls_close_at, urgent=True)]
        return []
    if stage not in (Stage.COUNTING, Stage.TALLIED):
        return []
    ready = approval_readiness(session, referendum)
    due = referendum.results_due_at
    steps = []
    if stage == Stage.COUNTING:
        decrypted = set(session.scalars(select(TrusteeShare.trustee_position).where(
            TrusteeShare.referendum_id == referendum.id)))
        steps.append(step("decrypt", TRUSTEES, due, tuple(
            t.user_id for t in referendum.trustees if t.position not in decrypted)))
    if ready.unconfirmed:
        steps.append(step("protocols", PROTOCOLS, due))
    if ready.pending_envelopes:
        steps.append(step("reconcile", COMMISSION, due))
    if stage == Stage.TALLIED and ready.is_ready:
        steps.append(step("approve", APPROVER, due))
    return steps
