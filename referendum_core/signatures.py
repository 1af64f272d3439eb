"""Signatures for initiatives (Art. 4(1), 4(6), 11, 13, 26): online signing, in-person
signatures registered by certified officials, closing at the deadline, and the commission's
check that drops ineligible and duplicate signatures and opens the referendum case.

A person signs once and one way only. A second online signature is refused (a UNIQUE
constraint holds it under concurrency). When both an online and an in-person signature exist
(e.g. registered by hand while the system was down, Art. 4(6)), the in-person one stays
(Art. 13).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import ForeignKey, String, UniqueConstraint, bindparam, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import Executable

from referendum_core import audit, signature_board
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case
from referendum_core.cases.services import transition_case
from referendum_core.cases.workflows import Party
from referendum_core.clock import RIGA, Clock, to_riga
from referendum_core.crypto.checkpoint import CheckpointSigner
from referendum_core.db import UPSERT_INSERTS, Base
from referendum_core.initiatives import (
    APPLY_WORKING_DAYS,
    CHECK_WORKING_DAYS,
    ORGANISER_TOLD_WORKING_DAYS,
    Initiative,
    open_referendum,
)
from referendum_core.refusals import Refused
from referendum_core.register import (
    Eligibility,
    LandOwnerRecord,
    PersonRecord,
    assess,
    eligibility,
)


class Method(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"


class CertifierType(StrEnum):
    """Art. 4(1), 11(1): who may certify a signature given on paper."""

    NOTARY = "notary"
    RESIDENCE_OFFICE = "residence_office"
    ORPHANS_COURT = "orphans_court"
    ADMINISTRATION_HEAD = "administration_head"


class CheckStatus(StrEnum):
    VALID = "valid"
    INELIGIBLE = "ineligible"
    DUPLICATE = "duplicate"


class Signature(Base):
    """One signature of one person for one initiative, given one way. Its id is never given
    again, though a withdrawn signature's row is deleted: the audit log and the board name
    signatures by id (SQLite's AUTOINCREMENT; a PostgreSQL sequence never goes back)."""

    __tablename__ = "initiative_signatures"
    __table_args__ = (UniqueConstraint("initiative_id", "person_ref", "method"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    person_ref: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(12))
    signed_at: Mapped[datetime]
    certifier_type: Mapped[str | None] = mapped_column(String(30))
    certifier_name: Mapped[str | None] = mapped_column(String(200))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime]
    # Set by the commission's check (Art. 13).
    check_status: Mapped[str | None] = mapped_column(String(12))
    # Online signatures: how the signer signed in (see :class:`Authentication`).
    auth_provider: Mapped[str | None] = mapped_column(String(30))
    auth_method: Mapped[str | None] = mapped_column(String(60))
    auth_level: Mapped[str | None] = mapped_column(String(12))


@dataclass(frozen=True)
class Authentication:
    """How a voter signed in: the identity provider (``latvija``, ``eidas``, ``otp`` ...), the
    method it reported (e.g. Smart-ID) and the eIDAS level of assurance, where known."""

    provider: str
    method: str | None = None
    level: str | None = None


class SignatureError(Refused):
    """Base class of refused signatures; ``code`` and ``article`` name the rule."""

    area = "signature"
    code, article = "refused", ""

    def __init__(self, **params: object) -> None:
        super().__init__(f"{self.code} ({self.article})")
        self.params = params


class CollectionClosed(SignatureError):
    """Not (or no longer) collecting: before publication or after the 30 days."""

    code, article = "collection_closed", "Art. 10(8)"


class NotEligibleToSign(SignatureError):
    code, article = "not_eligible", "Art. 7"

    def __init__(self, status: Eligibility) -> None:
        super().__init__(reasons=status.reasons)
        self.eligibility = status


class AlreadySigned(SignatureError):
    code, article = "already_signed", "Art. 11(1)"

    def __init__(self, existing: Signature) -> None:
        super().__init__(method=existing.method, signed_at=existing.signed_at)
        self.existing = existing


class InvalidCertifier(SignatureError):
    code, article = "invalid_certifier", "Art. 4(1)"


def count_signatures(session: Session, initiative: Initiative) -> int:
    """Signatures so far: each person once, whichever way they signed."""
    return session.scalar(select(func.count(func.distinct(Signature.person_ref))).where(
        Signature.initiative_id == initiative.id)) or 0


def signatures_of(session: Session, initiative: Initiative, person_ref: str) -> list[Signature]:
    """The person's signatures for the initiative (none, one, or online + in person)."""
    return list(session.scalars(select(Signature).where(
        Signature.initiative_id == initiative.id, Signature.person_ref == person_ref)
        .order_by(Signature.id)))


def _insert(session: Session, signature: Signature) -> Signature | None:
    """Insert in a savepoint; ``None`` if the same person already signed that way."""
    try:
        with session.begin_nested():
            session.add(signature)
    except IntegrityError:
        return None
    return signature


_COLUMNS = ("initiative_id", "person_ref", "method", "signed_at", "registered_at",
            "registered_by_id", "auth_provider", "auth_method", "auth_level",
            "certifier_type", "certifier_name", "check_status")


def _insert_first(session: Session, signature: Signature) -> Signature | None:
    """Insert the person's first signature for the initiative in one statement; ``None`` if
    they signed before, any way. The ``NOT EXISTS`` covers a signature given another way;
    the UNIQUE constraint, met with ``ON CONFLICT DO NOTHING``, a parallel request of the
    same person. Without a savepoint, a check query and the ORM's flush, the signature costs
    one round trip. The signature returned is the row as written, not attached to the
    session (a rolled-back savepoint must not leave it there)."""
    dialect = session.get_bind().dialect.name
    if dialect not in UPSERT_INSERTS:
        if _has_signed(session, signature.initiative_id, signature.person_ref):
            return None
        return _insert(session, signature)
    signature_id = session.execute(_insert_first_statement(dialect), {
        name: getattr(signature, name) for name in _COLUMNS}).scalar()
    if signature_id is None:
        return None
    signature.id = signature_id
    return signature


@lru_cache(maxsize=4)
def _insert_first_statement(dialect: str) -> Executable:
    """Built once per dialect, executed with the signature's values as parameters."""
    table = Signature.__table__
    values = select(*(bindparam(name, type_=table.c[name].type).label(name)
                      for name in _COLUMNS)).where(~exists().where(
                          table.c.initiative_id == bindparam("initiative_id"),
                          table.c.person_ref == bindparam("person_ref")))
    return (UPSERT_INSERTS[dialect](table).from_select(list(_COLUMNS), values)
            .on_conflict_do_nothing().returning(table.c.id))


def _has_signed(session: Session, initiative_id: int, person_ref: str) -> bool:
    """Has the person signed the initiative, any way?"""
    return session.scalar(select(exists().where(
        Signature.initiative_id == initiative_id, Signature.person_ref == person_ref))) or False


def sign_online(session: Session, clock: Clock, actor: Actor, initiative: Initiative,
                person_ref: str, *, tag_key: bytes, context: AuditContext | None = None,
                authentication: Authentication | None = None) -> Signature:
    """The signed-in voter signs the initiative online (the EP177 e-service equivalent).
    The signature gets a pending entry on the initiative's public board (its receipt:
    :func:`referendum_core.signature_board.receipt_of`); ``tag_key`` keys the person tags.
    ``authentication`` (how the voter signed in) is kept with the signature.

    Raises:
        CollectionClosed: outside the collection period (Art. 10(8)).
        NotEligibleToSign: not a voter of the municipality (Art. 7).
        AlreadySigned: signed before, online or in person (Art. 11(1)).
    """
    now = clock.now()

    def refuse(error: SignatureError) -> SignatureError:
        audit.record(session, clock, actor, "signature.refused", obj=initiative,
                     context=context, reason=error.code, method=str(Method.ONLINE))
        return error

    if not initiative.is_collecting(now):
        raise refuse(CollectionClosed(ends_at=initiative.collection_ends_at))
    status = eligibility(session, person_ref, initiative.municipality_id, to_riga(now).date())
    if not status.is_eligible:
        raise refuse(NotEligibleToSign(status))
    how = authentication or Authentication(provider="")
    signature = _insert_first(session, Signature(
        initiative_id=initiative.id, person_ref=person_ref, method=str(Method.ONLINE),
        signed_at=now, registered_at=now, registered_by_id=getattr(actor, "id", None),
        auth_provider=how.provider[:30] or None, auth_method=(how.method or "")[:60] or None,
        auth_level=how.level, certifier_type=None, certifier_name=None, check_status=None))
    if signature is None:  # signed before, online or in person, or a parallel request won
        raise refuse(AlreadySigned(signatures_of(session, initiative, person_ref)[0]))
    signature_board.add_signature_entry(
        session, clock, tag_key, initiative_id=initiative.id, signature_id=signature.id,
        person_ref=person_ref, method=signature.method, signed_at=signature.signed_at)
    audit.record(session, clock, actor, "signature.signed_online", obj=initiative,
                 context=context, signature_id=signature.id, provider=signature.auth_provider,
                 auth_method=signature.auth_method, level=signature.auth_level)
    return signature


def register_in_person(session: Session, clock: Clock, actor: Actor, initiative: Initiative,
                       person_ref: str, *, certifier_type: CertifierType | str,
                       certifier_name: str, signed_on: date, tag_key: bytes,
                       context: AuditContext | None = None) -> Signature:
    """A certified official registers a signature given on paper (Art. 4(1), 11(1)); also the
    manual registration when the systems failed (Art. 4(6)). An online signature of the same
    person may exist: the check keeps this one and drops the online one (Art. 13).

    Raises:
        InvalidCertifier: not one of the certifiers of Art. 4(1) or no name.
        CollectionClosed: signed outside the collection period, or registered after the check
            began.
        NotEligibleToSign: not a voter of the municipality (Art. 7).
        AlreadySigned: an in-person signature of the person is already registered.
    """
    try:
        certifier_type = CertifierType(certifier_type)
    except ValueError:
        raise InvalidCertifier() from None
    certifier_name = " ".join((certifier_name or "").split())
    if not certifier_name or len(certifier_name) > 200:
        raise InvalidCertifier()
    start, end = initiative.collection_starts_at, initiative.collection_ends_at
    now = clock.now()
    signed_at = min(datetime.combine(signed_on, time(12, 0), tzinfo=RIGA).astimezone(UTC), now)
    if (start is None or end is None
            or initiative.case.state not in signature_board.TAKING_SIGNATURES
            or not to_riga(start).date() <= signed_on <= to_riga(end).date()
            or signed_on > to_riga(now).date()):
        audit.record(session, clock, actor, "signature.refused", obj=initiative,
                     context=context, reason="collection_closed", method=str(Method.IN_PERSON))
        raise CollectionClosed(ends_at=end)
    status = eligibility(session, person_ref, initiative.municipality_id, signed_on)
    if not status.is_eligible:
        audit.record(session, clock, actor, "signature.refused", obj=initiative,
                     context=context, reason="not_eligible", method=str(Method.IN_PERSON))
        raise NotEligibleToSign(status)
    signature = _insert(session, Signature(
        initiative_id=initiative.id, person_ref=person_ref, method=str(Method.IN_PERSON),
        signed_at=signed_at, registered_at=now, certifier_type=str(certifier_type),
        certifier_name=certifier_name, registered_by_id=getattr(actor, "id", None)))
    if signature is None:
        existing = [s for s in signatures_of(session, initiative, person_ref)
                    if s.method == Method.IN_PERSON]
        raise AlreadySigned(existing[0])
    signature_board.add_signature_entry(
        session, clock, tag_key, initiative_id=initiative.id, signature_id=signature.id,
        person_ref=person_ref, method=signature.method, signed_at=signature.signed_at)
    audit.record(session, clock, actor, "signature.registered_in_person", obj=initiative,
                 context=context, signature_id=signature.id, certifier=str(certifier_type))
    return signature


# Closing and the check ----------------------------------------------------------------------

def close_due_collections(session: Session, clock: Clock, calendar: WorkingDayCalendar
                          ) -> list[Initiative]:
    """Close every collection whose 30 days have ended (Art. 10(8)) and record the count the
    organiser is told (within 3 working days of the last day, Art. 26). With at least the
    signatures needed, the portal tells them at once and the organiser has 3 working days from
    then to apply to the election commission (Art. 11(2)). With fewer, the initiative ends on
    the day the count is due, not before: signatures given within the 30 days may be
    registered after them (in person, or by hand when the systems failed, Art. 4(6)), and
    whether they count must not depend on when this job happens to run. Signing itself closes
    at the end of the 30th day (``Initiative.is_collecting``).
    Idempotent; returns the initiatives closed now."""
    now = clock.now()
    due = session.scalars(select(Initiative).join(Initiative.case).where(
        Case.state == "collecting", Initiative.collection_ends_at <= now)).all()
    closed = []
    for initiative in due:
        closed_day = to_riga(now).date()
        # Art. 26: counted from the day after the last day of the collection, whenever the
        # job runs.
        last_day = initiative.collection_last_day or closed_day
        told_by = calendar.add_working_days(last_day, ORGANISER_TOLD_WORKING_DAYS)
        count = count_signatures(session, initiative)
        met = count >= (initiative.signatures_needed or 0) > 0
        if not met and closed_day < told_by:
            continue
        closed.append(initiative)
        initiative.closed_at = now
        initiative.signatures_at_close = count
        initiative.organiser_told_by = told_by
        transition_case(session, clock, None, initiative.case,
                        "close_collection" if met else "close_short", None,
                        parties={Party.SYSTEM}, calendar=calendar)
        if met:
            initiative.apply_due_on = calendar.add_working_days(closed_day, APPLY_WORKING_DAYS)
        audit.record(session, clock, None, "initiative.collection_closed", obj=initiative,
                     signatures=initiative.signatures_at_close, threshold_met=met)
    return closed


def apply_for_check(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                    actor: Actor, initiative: Initiative, *, for_organiser: bool = False,
                    context: AuditContext | None = None) -> Initiative:
    """Art. 11(2): the organiser applies to the election commission for the check, within 3
    working days after being told the threshold is met; the commission's 20 working days
    (Art. 13) start from this application. ``for_organiser``: a commission official records
    an application the organiser handed in on paper.

    Raises:
        WrongState: not waiting for an application. NotTheOrganiser: someone else applies.
        ApplicationLate: after the 3 working days (the initiative lapses).
    """
    from referendum_core.initiatives import ApplicationLate, NotTheOrganiser, WrongState

    if initiative.case.state != "collected" or initiative.apply_due_on is None:
        raise WrongState(state=initiative.case.state)
    if not for_organiser and getattr(actor, "id", None) != initiative.applicant_id:
        raise NotTheOrganiser()
    now = clock.now()
    if to_riga(now).date() > initiative.apply_due_on:
        raise ApplicationLate(due=initiative.apply_due_on)
    transition_case(session, clock, actor, initiative.case, "apply", None,
                    parties={Party.COMMISSION if for_organiser else Party.REQUESTER},
                    calendar=calendar, context=context)
    initiative.applied_at = now
    initiative.check_due_on = calendar.add_working_days(to_riga(now).date(),
                                                        CHECK_WORKING_DAYS)
    initiative.case.deadline_basis = "Art. 13"
    session.flush()
    audit.record(session, clock, actor, "initiative.applied", obj=initiative, context=context,
                 check_due_on=initiative.check_due_on.isoformat(),
                 for_organiser=for_organiser)
    return initiative


def lapse_unapplied_initiatives(session: Session, clock: Clock, calendar: WorkingDayCalendar
                                ) -> list[Initiative]:
    """Art. 11(2): end every initiative whose organiser did not apply within the 3 working
    days. Idempotent; returns the initiatives ended now."""
    today = to_riga(clock.now()).date()
    due = session.scalars(select(Initiative).join(Initiative.case).where(
        Case.state == "collected", Initiative.apply_due_on < today)).all()
    for initiative in due:
        transition_case(session, clock, None, initiative.case, "lapse", None,
                        parties={Party.SYSTEM}, calendar=calendar)
        audit.record(session, clock, None, "initiative.lapsed", obj=initiative,
                     apply_due_on=initiative.apply_due_on.isoformat()
                     if initiative.apply_due_on else None)
    return list(due)


@dataclass(frozen=True)
class CheckProgress:
    """How far the commission's check has come."""

    checked: int
    total: int
    finished: bool
    valid: int | None = None
    reached: bool | None = None


def check_signatures(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                     actor: Actor | None, initiative: Initiative, *, batch_size: int = 1000,
                     max_batches: int | None = None, context: AuditContext | None = None,
                     board_signer: CheckpointSigner | None = None,
                     publish_board: Callable[[int], object] | None = None) -> CheckProgress:
    """The commission's check (Art. 13), resumable: each call goes on where the last stopped
    (progress in ``initiative.checked`` / ``check_total``), so a task may commit after each
    batch and survive a restart. Each signature is checked against the Population and Land
    Registers on the day it was given (Art. 7); an online signature of someone who also signed
    in person is a duplicate (the in-person one stays). When done, the valid signatures are
    counted against the threshold and, if reached, the referendum case opens (Art. 13(4)).
    Each dropped signature gets an exclusion entry on the public board with its reason; when
    done, everything pending on the board is published, however few (``publish_board`` given
    the initiative's id, by default ``signature_board.publish_pending`` checkpointed with
    ``board_signer``), so the board's count is the commission's.

    Raises:
        WrongState: the organiser has not applied for the check (Art. 11(2)).
    """
    from referendum_core.initiatives import WrongState

    state = initiative.case.state
    if state == "applied":
        transition_case(session, clock, actor, initiative.case, "start_check", None,
                        parties={Party.SYSTEM}, calendar=calendar, context=context)
        initiative.check_total = session.scalar(select(func.count()).where(
            Signature.initiative_id == initiative.id)) or 0
        initiative.checked = 0
        audit.record(session, clock, actor, "initiative.check_started", obj=initiative,
                     context=context, total=initiative.check_total)
    elif state != "checking":
        if state in ("reached", "not_reached"):
            return CheckProgress(initiative.checked, initiative.check_total, True,
                                 initiative.valid_signatures, state == "reached")
        raise WrongState(state=state)
    batches = 0
    while max_batches is None or batches < max_batches:
        batch = session.scalars(select(Signature).where(
            Signature.initiative_id == initiative.id, Signature.check_status.is_(None))
            .order_by(Signature.id).limit(batch_size)).all()
        if not batch:
            if publish_board is None:
                signature_board.publish_pending(session, clock, initiative.id, board_signer,
                                                everything=True)
            else:
                publish_board(initiative.id)
            return _finish_check(session, clock, calendar, actor, initiative, context)
        refs = {s.person_ref for s in batch}
        people = {p.person_ref: p for p in session.scalars(
            select(PersonRecord).where(PersonRecord.person_ref.in_(refs)))}
        owners = set(session.scalars(select(LandOwnerRecord.person_ref).where(
            LandOwnerRecord.person_ref.in_(refs),
            LandOwnerRecord.municipality_id == initiative.municipality_id)))
        in_person = set(session.scalars(select(Signature.person_ref).where(
            Signature.initiative_id == initiative.id, Signature.person_ref.in_(refs),
            Signature.method == Method.IN_PERSON)))
        for signature in batch:
            if signature.method == Method.ONLINE and signature.person_ref in in_person:
                signature.check_status = CheckStatus.DUPLICATE
                signature_board.add_exclusion(session, clock, signature.id, "duplicate")
                continue
            status = assess(people.get(signature.person_ref), initiative.municipality_id,
                            to_riga(signature.signed_at).date(),
                            owns_land=signature.person_ref in owners)
            signature.check_status = (CheckStatus.VALID if status.is_eligible
                                      else CheckStatus.INELIGIBLE)
            if not status.is_eligible:
                signature_board.add_exclusion(session, clock, signature.id, "not_eligible")
        initiative.checked += len(batch)
        session.flush()
        batches += 1
    return CheckProgress(initiative.checked, initiative.check_total, False)


def _finish_check(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                  actor: Actor | None, initiative: Initiative, context: AuditContext | None
                  ) -> CheckProgress:
    counts = dict(session.execute(select(Signature.check_status, func.count()).where(
        Signature.initiative_id == initiative.id).group_by(Signature.check_status)).all())
    valid = counts.get(CheckStatus.VALID, 0)
    reached = valid >= (initiative.signatures_needed or 0) > 0
    initiative.valid_signatures = valid
    initiative.check_finished_at = clock.now()
    transition_case(session, clock, actor, initiative.case,
                    "threshold_reached" if reached else "threshold_not_reached", None,
                    parties={Party.SYSTEM}, calendar=calendar, context=context)
    audit.record(session, clock, actor, "initiative.checked", obj=initiative, context=context,
                 valid=valid, ineligible=counts.get(CheckStatus.INELIGIBLE, 0),
                 duplicates=counts.get(CheckStatus.DUPLICATE, 0),
                 needed=initiative.signatures_needed, reached=reached)
    if reached:
        open_referendum(session, clock, calendar, actor, initiative, context=context)
    return CheckProgress(initiative.checked, initiative.check_total, True, valid, reached)
