"""Filing new cases: an observer's report (with photos), a complaint or appeal (within the law's
period to contest), and a commission's query to CVK. Each checks its input, opens the case
through ``lifecycle.open_new`` and audits; refusals that matter are audited too.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.exceptions import (
    FilingPeriodOver,
    InvalidCaseData,
    InvalidPhoto,
    NotAccredited,
    NotAllowed,
    ReferendumNotChosen,
)
from referendum_core.cases.lifecycle import (
    DEFAULT_CALENDAR,
    Parties,
    add_event,
    clean_text,
    open_new,
    refuse,
)
from referendum_core.cases.models import (
    Case,
    CasePhoto,
    CaseType,
    ComplaintDetails,
    EventKind,
    ObserverReport,
)
from referendum_core.cases.workflows import APPEAL_RULES, ApplicantKind, Grounds, Party
from referendum_core.clock import RIGA, Clock, to_riga
from referendum_core.organisation import PollingStation
from referendum_core.uploads import IMAGE_TYPES, UploadRejected, check_upload


class ReportCategory(StrEnum):
    VOTER_LIST = "voter_list"
    BALLOT_SECRECY = "ballot_secrecy"
    BALLOT_BOX = "ballot_box"
    CAMPAIGNING = "campaigning"
    INTIMIDATION = "intimidation"
    ACCESSIBILITY = "accessibility"
    COUNTING = "counting"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


ALLOWED_PHOTO_TYPES = IMAGE_TYPES
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTOS_PER_CASE = 6


# --- photos --------------------------------------------------------------------------------

def sniff_photo(data: bytes) -> str:
    """The MIME type of an accepted image, read from its content (the name is not trusted)
    by the portal's one upload check (which also refuses more pixels than a phone camera
    makes: a few hundred bytes can declare an image that takes gigabytes to decode).

    Raises:
        InvalidPhoto: empty, larger than ``MAX_PHOTO_BYTES``, or not an accepted image;
            ``reason`` says which.
    """
    try:
        return check_upload(data, None, allowed=ALLOWED_PHOTO_TYPES,
                            max_bytes=MAX_PHOTO_BYTES).content_type
    except UploadRejected as err:
        raise InvalidPhoto(err.reason) from err


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word's end, with "…" when cut (a title
    never ends inside a word)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if not text[limit - 1].isspace() and " " in cut:  # the cut fell inside a word
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:–—-") + "…"


def attach_photo(case: Case, clock: Clock, actor: Actor | None, data: bytes) -> CasePhoto:
    """Add a checked image to ``case`` (flushed with the case).

    Raises:
        InvalidPhoto: not an accepted image, too large, or the case has its maximum already.
    """
    mime = sniff_photo(data)
    if len(case.photos) >= MAX_PHOTOS_PER_CASE:
        raise InvalidPhoto("too_many")
    photo = CasePhoto(content_type=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      data=data, uploaded_by_id=actor.id if actor is not None else None,
                      uploaded_at=clock.now())
    case.photos.append(photo)
    return photo


# --- filing --------------------------------------------------------------------------------

def file_observer_report(session: Session, clock: Clock, actor: Actor, *, polling_station_id: int,
                         category: str, severity: str, description: str,
                         is_accredited: Callable[[PollingStation], bool],
                         observed_at: datetime | None = None,
                         photos: Iterable[bytes] = (), draft_started_at: datetime | None = None,
                         referendum_id: int | None = None,
                         calendar: WorkingDayCalendar | None = None,
                         context: AuditContext | None = None) -> Case:
    """File an observer's report; it is routed to the station's municipal commission.

    ``is_accredited(station)`` answers whether the observer is accredited at the station.
    The report belongs to ``referendum_id`` (a referendum of the station's municipality);
    without one, to the municipality's one referendum under way, if there is exactly one
    (``referendum_of_station``).

    Raises:
        NotAccredited: the observer is not accredited at the station, or it does not exist.
        InvalidCaseData: unknown category or severity, an empty description, or a
            referendum of another municipality.
        InvalidPhoto: a photo that is not an accepted image, too large, or too many.
    """
    station = session.get(PollingStation, polling_station_id)
    if station is None or not is_accredited(station):
        # A station that does not exist is refused as one the observer does not observe: the
        # same answer (403) as the observer app's, whichever of the two it is.
        refuse(session, clock, actor, None, NotAccredited("observer not accredited there"),
               "file_observer_report", context,
               municipality_id=station.municipality_id if station else None,
               polling_station_id=polling_station_id)
    referendum_id = referendum_of_station(session, station, referendum_id)
    try:
        category = ReportCategory(category).value
    except ValueError:
        raise InvalidCaseData("unknown category", field="category",
                              problem="unknown_value") from None
    try:
        severity = Severity(severity).value
    except ValueError:
        raise InvalidCaseData("unknown severity", field="severity",
                              problem="unknown_value") from None
    description = clean_text(description, "description")
    photo_data = list(photos)
    if len(photo_data) > MAX_PHOTOS_PER_CASE:
        raise InvalidPhoto("too_many")
    for data in photo_data:
        sniff_photo(data)
    if observed_at is not None and observed_at > clock.now() + timedelta(minutes=5):
        raise InvalidCaseData("observed in the future")
    title = f"{station.number}. {station.name}: {shorten(description.splitlines()[0], 120)}"
    report = ObserverReport(category=category, severity=severity, description=description,
                            observed_at=observed_at, referendum_id=referendum_id)
    case = open_new(session, clock, calendar or DEFAULT_CALENDAR, actor,
                    case_type=CaseType.OBSERVER_REPORT, title=title[:200], summary=description,
                    municipality_id=station.municipality_id, polling_station_id=station.id,
                    draft_started_at=draft_started_at, details=report, context=context)
    for data in photo_data:
        photo = attach_photo(case, clock, actor, data)
        session.flush()
        add_event(case, clock, actor, EventKind.ATTACHMENT, photo_id=photo.id,
                  content_type=photo.content_type, size=photo.size)
    session.flush()
    return case


def referendum_of_station(session: Session, station: PollingStation,
                          referendum_id: int | None) -> int | None:
    """The referendum an observer's report at ``station`` belongs to: ``referendum_id`` when
    it is one of the station's municipality, else, when none is named, the municipality's one
    referendum whose results are not yet approved (None when none is under way).

    Raises:
        InvalidCaseData: ``referendum_id`` is not a referendum of the station's municipality.
        ReferendumNotChosen: none is named and several are under way.
    """
    from referendum_core.voting.models import Referendum, Stage

    if referendum_id is not None:
        referendum = session.get(Referendum, referendum_id)
        if referendum is None or referendum.municipality_id != station.municipality_id:
            raise InvalidCaseData("the referendum is not one of the station's municipality")
        return referendum.id
    under_way = list(session.scalars(select(Referendum.id).where(
        Referendum.municipality_id == station.municipality_id,
        Referendum.stage != Stage.APPROVED).limit(2)))
    if len(under_way) > 1:
        raise ReferendumNotChosen("several referendums are under way; name one")
    return under_way[0] if under_way else None


def complaint_filing_deadline(calendar: WorkingDayCalendar, grounds: Grounds,
                              contested_on: date) -> datetime | None:
    """The last moment to file a complaint on ``grounds`` about something dated ``contested_on``."""
    rule = APPEAL_RULES[grounds]
    if rule.file_within is None:
        return None
    return rule.file_within.ends_at(calendar, _day_start(contested_on))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=RIGA)


def file_complaint(session: Session, clock: Clock, actor: Actor, *, municipality_id: int,
                   grounds: str, applicant_kind: str, contested: str, contested_on: date,
                   summary: str, draft_started_at: datetime | None = None,
                   calendar: WorkingDayCalendar | None = None,
                   context: AuditContext | None = None) -> Case:
    """File a complaint or appeal against a commission decision, a count protocol or the
    municipality's refusal; the deadline to decide it follows the article for its grounds.

    Raises:
        InvalidCaseData: unknown grounds/applicant, empty text, a future date, or filed after
            the law's period to contest (Art. 20(7), 13(6), 10(7)).
    """
    cal = calendar or DEFAULT_CALENDAR
    try:
        grounds_value, applicant = Grounds(grounds), ApplicantKind(applicant_kind)
    except ValueError:
        raise InvalidCaseData("unknown grounds or applicant") from None
    contested = clean_text(contested, "contested", limit=300)
    summary = clean_text(summary, "summary")
    today = to_riga(clock.now()).date()
    if contested_on > today:
        raise InvalidCaseData("the contested decision cannot be in the future")
    last = complaint_filing_deadline(cal, grounds_value, contested_on)
    if last is not None and clock.now() > last:
        raise FilingPeriodOver(APPEAL_RULES[grounds_value].article)
    details = ComplaintDetails(grounds=grounds_value.value, applicant_kind=applicant.value,
                               contested=contested)
    return open_new(session, clock, cal, actor, case_type=CaseType.COMPLAINT,
                    title=shorten(contested, 200), summary=summary, municipality_id=municipality_id,
                    draft_started_at=draft_started_at, details=details, context=context)


def ask_cvk(session: Session, clock: Clock, actor: Actor, *, municipality_id: int, title: str,
            question: str, parties: Parties, draft_started_at: datetime | None = None,
            calendar: WorkingDayCalendar | None = None,
            context: AuditContext | None = None) -> Case:
    """A municipal commission asks CVK for methodological help (a commission query).

    Raises:
        NotAllowed: the actor does not act for that municipality's commission.
        InvalidCaseData: empty title or question.
    """
    if Party.COMMISSION not in parties:
        refuse(session, clock, actor, None, NotAllowed("only a commission asks CVK"),
               "ask_cvk", context, municipality_id=municipality_id)
    title = clean_text(title, "title", limit=200)
    question = clean_text(question, "question")
    return open_new(session, clock, calendar or DEFAULT_CALENDAR, actor,
                    case_type=CaseType.COMMISSION_QUERY, title=title, summary=question,
                    municipality_id=municipality_id, draft_started_at=draft_started_at,
                    context=context)
