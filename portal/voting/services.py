"""Referendum steps as the portal makes them: the domain step (``referendum_core.voting``) and
what lies outside the domain — the manifest's checkpoint key, the signed results protocol and
the live update of the board head and turnout (sent after the commit, ``portal.voting.live``).
Pages, and any other entry point, call these; the services flush, the caller commits.
"""
from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from portal.checkpoints import election_public_key
from portal.pades import sign_document
from portal.voting.live import push_live
from portal.voting.protocol_pdf import build_protocol_pdf, sign
from referendum_core import voting
from referendum_core.audit import AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case
from referendum_core.clock import Clock
from referendum_core.organisation import PollingStation
from referendum_core.personal_code import PersonalCodeProtector
from referendum_core.voting.models import Referendum, Result
from referendum_core.voting.stations import InPersonOutcome, Reconciliation

# The results protocol is an official document of the Latvian commission.
PROTOCOL_LOCALE = "lv"


def open_voting(session: Session, clock: Clock, calendar: WorkingDayCalendar, actor: Any,
                referendum: Referendum, *, context: AuditContext | None = None) -> Referendum:
    """Open the vote, the manifest frozen with the election's checkpoint key in it.

    Raises:
        VotingError: wrong stage or an incomplete set-up (``referendum_core.voting``).
    """
    voting.open_voting(session, clock, calendar, actor, referendum, context=context,
                       checkpoint_key=election_public_key(referendum.election_id))
    push_live(referendum, force=True)
    return referendum


def close_polls(session: Session, clock: Clock, calendar: WorkingDayCalendar, actor: Any,
                referendum: Referendum, *, context: AuditContext | None = None) -> Referendum:
    """Close the polls (the board is frozen, counting starts).

    Raises:
        VotingError: wrong stage, or before 20:00 on referendum day.
    """
    voting.close_polls(session, clock, calendar, actor, referendum, context=context)
    push_live(referendum, force=True)
    return referendum


def reconcile_envelopes(session: Session, clock: Clock, actor: Any, referendum: Referendum, *,
                        context: AuditContext | None = None) -> Reconciliation:
    """Check the registration envelopes against the voter register.

    Raises:
        VotingError, EtvrError: wrong stage, or the register is unreachable.
    """
    done = voting.reconcile_envelopes(session, clock, actor, referendum, context=context)
    push_live(referendum, force=True)
    return done


def approve_results(session: Session, clock: Clock, calendar: WorkingDayCalendar, actor: Any,
                    referendum: Referendum, *, context: AuditContext | None = None) -> Result:
    """Approve and announce the result, with its protocol (PDF, in Latvian) signed with PAdES
    by the commission and with OpenPGP by the portal's key.

    Raises:
        VotingError: not yet tallied, already approved, or a protocol or figure missing.
    """
    result = voting.approve_results(session, clock, calendar, actor, referendum,
                                    context=context)
    with force_locale(PROTOCOL_LOCALE):
        result.protocol_pdf = sign_document(
            build_protocol_pdf(session, referendum, result, result.approved_at),
            gettext("Results protocol of the referendum (Art. 21)"))
    # The OpenPGP signature covers the PAdES-signed file, so either checks it.
    result.protocol_signature = sign(result.protocol_pdf)
    push_live(referendum, force=True)
    return result


def mark_in_person(session: Session, clock: Clock, actor: Any, referendum: Referendum,
                   station: PollingStation, personal_code: str,
                   protector: PersonalCodeProtector, *, envelope_mode: bool = False,
                   context: AuditContext | None = None) -> InPersonOutcome:
    """A station commission member marks a voter as voted (Art. 17(2)-(3), 20(5)).

    Raises:
        InvalidPersonalCode; VotingError (AlreadyVoted says where and when).
    """
    outcome = voting.mark_in_person(session, clock, actor, referendum, station, personal_code,
                                    protector, envelope_mode=envelope_mode, context=context)
    push_live(referendum)
    return outcome


def record_home_vote(session: Session, clock: Clock, calendar: WorkingDayCalendar, actor: Any,
                     referendum: Referendum, case: Case, *,
                     context: AuditContext | None = None) -> InPersonOutcome:
    """The ballot was taken to a voter at home (Art. 19): the voter is marked as voted.

    Raises:
        VotingError, EtvrError: see ``referendum_core.voting.record_home_vote``.
    """
    outcome = voting.record_home_vote(session, clock, actor, case, calendar=calendar,
                                      context=context)
    push_live(referendum)
    return outcome
