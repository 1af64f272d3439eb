"""Receiving what observers send: checklist answers and reports, each once per idempotency key,
never rewritten (a correction is appended and points to what it corrects).

Who may observe which station for which referendum is the caller's question, answered by the
``may_observe(referendum_id, polling_station_id)`` it passes (accreditation lives outside this
package); a refusal is audited.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases import services as case_services
from referendum_core.cases.models import Case, CaseType, ObserverReport
from referendum_core.clock import RIGA, Clock
from referendum_core.observation.checklists import CURRENT_VERSION, checklist
from referendum_core.observation.exceptions import (
    AlreadyCorrected,
    InvalidAnswer,
    InvalidObservationPhoto,
    InvalidSubmissionKey,
    KeyReused,
    NotCorrectable,
    NotObserverHere,
    SendAgain,
)
from referendum_core.observation.models import (
    ChecklistAnswer,
    ChecklistPhoto,
    ChecklistPin,
    ObserverSubmission,
    SubmissionKind,
)
from referendum_core.observers.accreditation import rights_window
from referendum_core.organisation import PollingStation
from referendum_core.uploads import IMAGE_TYPES, UploadRejected, check_upload
from referendum_core.voting.models import Referendum

MayObserve = Callable[[int, int], bool]
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_ANSWERS = 100


@dataclass(frozen=True)
class AnswerInput:
    """One answer as the phone sent it."""

    item_key: str
    value: bool | int
    photo: bytes | None = None


@dataclass(frozen=True)
class Receipt:
    """What was received: the submission, and whether this request is the one that sent it
    (``False``: the same key arrived before, and nothing new was written)."""

    submission: ObserverSubmission
    is_new: bool


def client_key(value: str | None) -> str:
    """The phone's idempotency key in canonical form.

    Raises:
        InvalidSubmissionKey: not a UUID.
    """
    try:
        return str(uuid.UUID(str(value or "")))
    except ValueError:
        raise InvalidSubmissionKey("a UUID is expected") from None


def pinned_version(session: Session, referendum_id: int) -> int:
    """The checklist version of a referendum: pinned by its first answer, else the current."""
    pin = session.get(ChecklistPin, referendum_id)
    return pin.version if pin is not None else CURRENT_VERSION


def _pin(session: Session, clock: Clock, referendum_id: int) -> None:
    """Pin the current version to the referendum unless it has one (a concurrent first answer
    pinning it too is a duplicate key, which the caller's savepoint answers by retrying)."""
    if session.get(ChecklistPin, referendum_id) is None:
        session.add(ChecklistPin(referendum_id=referendum_id, version=CURRENT_VERSION,
                                 pinned_at=clock.now()))
        session.flush()


def fingerprint(kind: SubmissionKind, referendum_id: int, polling_station_id: int,
                content: dict[str, Any]) -> str:
    """The digest of what an observer sent under one key: its kind, referendum, station and
    content (photos by their own digest), in a canonical form."""
    text = json.dumps({"kind": str(kind), "referendum_id": referendum_id,
                       "polling_station_id": polling_station_id, "content": content},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data else None


def _existing(session: Session, observer_id: int, key: str, kind: SubmissionKind,
              digest: str) -> ObserverSubmission | None:
    """The submission sent before under ``key``, if any: the same entry sent again.

    Raises:
        KeyReused: the key was used for another kind of entry or for other content.
    """
    found = session.scalars(select(ObserverSubmission).where(
        ObserverSubmission.observer_id == observer_id,
        ObserverSubmission.client_key == key)).one_or_none()
    if found is not None and (found.kind != kind or found.payload_sha256 != digest):
        raise KeyReused("this key was used for another entry")
    return found


def _station(session: Session, clock: Clock, actor: Actor, referendum_id: int,
             polling_station_id: int, may_observe: MayObserve, action: str,
             context: AuditContext | None) -> tuple[Referendum, PollingStation]:
    referendum = session.get(Referendum, referendum_id)
    station = session.get(PollingStation, polling_station_id)
    if referendum is None or station is None \
            or station.municipality_id != referendum.municipality_id \
            or not may_observe(referendum_id, polling_station_id):
        audit.record(session, clock, actor, "observation.refused", object_type="PollingStation",
                     object_id=polling_station_id, context=context, attempted=action,
                     referendum_id=referendum_id)
        raise NotObserverHere("not an observer of this station for this referendum")
    return referendum, station


def _photo(clock: Clock, actor: Actor, data: bytes) -> ChecklistPhoto:
    try:
        checked = check_upload(data, None, allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)
    except UploadRejected as err:
        raise InvalidObservationPhoto(err.reason) from err
    return ChecklistPhoto(observer_id=actor.id, content_type=checked.content_type,
                          size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data,
                          uploaded_at=clock.now())


def _latest_own(session: Session, observer_id: int, referendum_id: int, station_id: int,
                item_key: str) -> ChecklistAnswer | None:
    """The observer's current answer to the item (the head of their chain), if any."""
    newer = aliased(ChecklistAnswer)
    return session.scalars(select(ChecklistAnswer).where(
        ChecklistAnswer.observer_id == observer_id,
        ChecklistAnswer.referendum_id == referendum_id,
        ChecklistAnswer.polling_station_id == station_id,
        ChecklistAnswer.item_key == item_key,
        ~select(newer.id).where(newer.corrects_id == ChecklistAnswer.id).exists(),
    ).order_by(ChecklistAnswer.id.desc()).limit(1)).first()


def _filled_at(session: Session, clock: Clock, referendum_id: int,
               filled_at: datetime | None) -> datetime | None:
    """The phone's time of filling in, unless it is in the future (a wrong phone clock) or
    outside the referendum's time: before the day the council decided on it, or after its
    observation days end (``observers.rights_window``). Such a time is not kept (the entry is
    dated by its receipt)."""
    if filled_at is None or filled_at > clock.now() + timedelta(minutes=5):
        return None
    referendum = session.get(Referendum, referendum_id)
    if referendum is not None:
        first = datetime.combine(referendum.decision_day, time(0), tzinfo=RIGA)
        if filled_at < first or filled_at >= rights_window(referendum)[1]:
            return None
    return filled_at


def submit_checklist(session: Session, clock: Clock, actor: Actor, *, referendum_id: int,
                     polling_station_id: int, key: str, answers: Sequence[AnswerInput],
                     may_observe: MayObserve, filled_at: datetime | None = None,
                     context: AuditContext | None = None) -> Receipt:
    """Receive a page of checklist answers for a station. An item the observer answered before
    gets a new answer that corrects their previous one; both are kept.

    Raises:
        InvalidSubmissionKey: ``key`` is not a UUID.
        NotObserverHere: the observer does not observe this station for this referendum.
        InvalidAnswer: no answers, too many, an unknown item, a value that does not fit, or
            the same item twice.
        InvalidObservationPhoto: a photo that is not an accepted image or too large.
        KeyReused: ``key`` was used before for another entry.
    """
    key = client_key(key)
    digest = fingerprint(SubmissionKind.CHECKLIST, referendum_id, polling_station_id, {
        "answers": sorted(([a.item_key, a.value, _digest(a.photo)] for a in answers),
                          key=lambda entry: str(entry[0]))})
    found = _existing(session, actor.id, key, SubmissionKind.CHECKLIST, digest)
    if found is not None:
        return Receipt(found, False)
    _station(session, clock, actor, referendum_id, polling_station_id, may_observe,
             "submit_checklist", context)
    if not answers or len(answers) > MAX_ANSWERS:
        raise InvalidAnswer("between 1 and 100 answers expected")
    if len({a.item_key for a in answers}) != len(answers):
        raise InvalidAnswer("an item answered twice in one submission")
    listed = checklist(pinned_version(session, referendum_id))
    now = clock.now()
    submission = ObserverSubmission(
        observer_id=actor.id, client_key=key, kind=SubmissionKind.CHECKLIST.value,
        payload_sha256=digest, referendum_id=referendum_id,
        polling_station_id=polling_station_id, filled_at=_filled_at(session, clock, referendum_id, filled_at),
        received_at=now)
    for given in answers:
        item = listed.item(given.item_key)
        value = item.check(given.value)
        previous = _latest_own(session, actor.id, referendum_id, polling_station_id, item.key)
        submission.answers.append(ChecklistAnswer(
            referendum_id=referendum_id, polling_station_id=polling_station_id,
            observer_id=actor.id, version=listed.version, item_key=item.key,
            value_bool=value if isinstance(value, bool) else None,
            value_number=None if isinstance(value, bool) else value,
            photo=_photo(clock, actor, given.photo) if given.photo else None,
            corrects_id=previous.id if previous is not None else None, received_at=now))
    return _store(session, clock, actor, submission, context,
                  before=lambda: _pin(session, clock, referendum_id))


def _store(session: Session, clock: Clock, actor: Actor, submission: ObserverSubmission,
           context: AuditContext | None, *, before: Callable[[], None] | None = None
           ) -> Receipt:
    """Write ``submission`` (after ``before``, in the same savepoint); if the same key arrived
    meanwhile from another request, undo ours and answer with theirs."""
    try:
        with session.begin_nested():
            if before is not None:
                before()
            session.add(submission)
            session.flush()
            # A report's case audits its own opening; answers are audited here.
            if submission.kind == SubmissionKind.CHECKLIST:
                audit.record(session, clock, actor, "observation.checklist_received",
                             obj=submission, context=context,
                             polling_station_id=submission.polling_station_id,
                             referendum_id=submission.referendum_id,
                             answers=len(submission.answers))
    except IntegrityError:
        found = _existing(session, actor.id, submission.client_key,
                          SubmissionKind(submission.kind), submission.payload_sha256 or "")
        if found is None:  # not a duplicate key: a correction or the pin raced with another
            raise SendAgain("changed meanwhile; send again") from None
        return Receipt(found, False)
    return Receipt(submission, True)


def file_report(session: Session, clock: Clock, actor: Actor, *, referendum_id: int,
                polling_station_id: int, key: str, category: str, severity: str,
                description: str, may_observe: MayObserve,
                is_accredited: Callable[[Any], bool], corrects_case_id: int | None = None,
                photos: Iterable[bytes] = (), filled_at: datetime | None = None,
                calendar: WorkingDayCalendar | None = None,
                context: AuditContext | None = None) -> Receipt:
    """File an observer's report from the observer app (a case, as from the report form, that
    belongs to ``referendum_id``), once per ``key``; with ``corrects_case_id`` it is a
    correction of the observer's earlier report, which stays as it was.

    Raises:
        InvalidSubmissionKey, NotObserverHere, KeyReused: as ``submit_checklist``.
        AlreadyCorrected: the corrected report has a correction already (correct that one).
        NotCorrectable: ``corrects_case_id`` is not the observer's own report at this station
            for this referendum.
        CaseError: as ``cases.services.file_observer_report``.
    """
    key = client_key(key)
    photos = list(photos)
    digest = fingerprint(SubmissionKind.REPORT, referendum_id, polling_station_id, {
        "category": category, "severity": severity, "description": description,
        "corrects_case_id": corrects_case_id, "photos": [_digest(p) for p in photos]})
    found = _existing(session, actor.id, key, SubmissionKind.REPORT, digest)
    if found is not None:
        return Receipt(found, False)
    _station(session, clock, actor, referendum_id, polling_station_id, may_observe,
             "file_report", context)
    if corrects_case_id is not None:
        _check_correctable(session, clock, actor, corrects_case_id,
                           referendum_id=referendum_id, polling_station_id=polling_station_id,
                           context=context)
    submission = ObserverSubmission(
        observer_id=actor.id, client_key=key, kind=SubmissionKind.REPORT.value,
        payload_sha256=digest, referendum_id=referendum_id,
        polling_station_id=polling_station_id,
        corrects_case_id=corrects_case_id, filled_at=_filled_at(session, clock, referendum_id, filled_at),
        received_at=clock.now())

    def open_case() -> None:
        case = case_services.file_observer_report(
            session, clock, actor, polling_station_id=polling_station_id, category=category,
            severity=severity, description=description, is_accredited=is_accredited,
            observed_at=submission.filled_at, photos=photos, referendum_id=referendum_id,
            calendar=calendar, context=context)
        submission.case_id = case.id

    return _store(session, clock, actor, submission, context, before=open_case)


def _check_correctable(session: Session, clock: Clock, actor: Actor, case_id: int, *,
                       referendum_id: int, polling_station_id: int,
                       context: AuditContext | None) -> None:
    """A report corrects only the same observer's report at the same station for the same
    referendum, or one that belongs to no referendum (another's report, or an entry of another
    kind, is not found as theirs).

    Raises:
        NotCorrectable: which of these the named entry is not (audited).
        AlreadyCorrected: the report has a correction already.
    """
    case = session.get(Case, case_id)
    reason = None
    if case is None or case.created_by_id != actor.id:
        reason = "not_own"
    elif case.type != CaseType.OBSERVER_REPORT:
        reason = "other_kind"
    elif case.polling_station_id != polling_station_id:
        reason = "other_station"
    elif session.scalar(select(ObserverReport.referendum_id).where(
            ObserverReport.case_id == case.id)) not in (referendum_id, None):
        # A report that belongs to no referendum (filed through the form while none, or
        # several, were under way) is corrected for the referendum the correction names.
        reason = "other_referendum"
    if reason is not None:
        audit.record(session, clock, actor, "observation.refused", object_type="Case",
                     object_id=case_id, context=context, attempted="correct_report",
                     reason=reason, referendum_id=referendum_id,
                     polling_station_id=polling_station_id)
        raise NotCorrectable(reason)
    taken = session.scalar(select(ObserverSubmission.id).where(
        ObserverSubmission.corrects_case_id == case_id))
    if taken is not None:
        raise AlreadyCorrected("this report has a correction already")


def corrections_of(session: Session, case_id: int) -> tuple[int | None, int | None]:
    """(the case this report corrects, the case that corrects it) — either may be None."""
    corrects = session.scalar(select(ObserverSubmission.corrects_case_id).where(
        ObserverSubmission.case_id == case_id))
    corrected_by = session.scalar(select(ObserverSubmission.case_id).where(
        ObserverSubmission.corrects_case_id == case_id))
    return corrects, corrected_by
