"""Filing new cases: an observer's report (with photos), a complaint or appeal (within the law's
period to contest), and a commission's query to CVK. Each checks its input, opens the case
through ``lifecycle.open_new`` and audits; refusals that matter are audited too.
"""
from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum

import filetype
from sqlalchemy.orm import Session

from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.exceptions import (
    FilingPeriodOver,
    InvalidCaseData,
    InvalidPhoto,
    NotAccredited,
    NotAllowed,
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


ALLOWED_PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic",
                                 "image/heif"})
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTOS_PER_CASE = 6
# A few hundred bytes can declare a 20000x20000 image that would take gigabytes to decode in
# the browsers of the officials opening the case: refuse more pixels than a phone camera makes.
MAX_PHOTO_PIXELS = 50_000_000
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                       0xCF})


# --- photos --------------------------------------------------------------------------------

def sniff_photo(data: bytes) -> str:
    """The MIME type of an accepted image, read from its content (the name is not trusted).

    Raises:
        InvalidPhoto: empty, larger than ``MAX_PHOTO_BYTES``, or not an accepted image.
    """
    if not data:
        raise InvalidPhoto("empty file")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidPhoto("photo too large")
    kind = filetype.guess(data)
    mime = kind.mime if kind is not None else None
    if mime not in ALLOWED_PHOTO_TYPES:
        raise InvalidPhoto("not an image")
    size = image_size(data, mime)
    if size is not None and not (0 < size[0] * size[1] <= MAX_PHOTO_PIXELS):
        raise InvalidPhoto("image dimensions out of range")
    return mime


def image_size(data: bytes, mime: str) -> tuple[int, int] | None:
    """(width, height) declared by a PNG, JPEG or WebP header; ``None`` when not readable
    (HEIC/HEIF, or a header this reader does not know)."""
    try:
        if mime == "image/png" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if mime == "image/jpeg":
            return _jpeg_size(data)
        if mime == "image/webp":
            chunk = data[12:16]
            if chunk == b"VP8X":
                return (int.from_bytes(data[24:27], "little") + 1,
                        int.from_bytes(data[27:30], "little") + 1)
            if chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 ":
                width, height = struct.unpack("<HH", data[26:30])
                return width & 0x3FFF, height & 0x3FFF
    except (struct.error, IndexError):
        return (0, 0)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    return None


def attach_photo(case: Case, clock: Clock, actor: Actor | None, data: bytes) -> CasePhoto:
    """Add a checked image to ``case`` (flushed with the case).

    Raises:
        InvalidPhoto: not an accepted image, too large, or the case has its maximum already.
    """
    mime = sniff_photo(data)
    if len(case.photos) >= MAX_PHOTOS_PER_CASE:
        raise InvalidPhoto("too many photos")
    photo = CasePhoto(content_type=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      data=data, uploaded_by_id=actor.id if actor is not None else None,
                      uploaded_at=clock.now())
    case.photos.append(photo)
    return photo


# --- filing --------------------------------------------------------------------------------

def file_observer_report(session: Session, clock: Clock, actor: Actor, *, polling_station_id: int,
                         category: str, severity: str, description: str,
                         is_accredited: Callable[[int], bool], observed_at: datetime | None = None,
                         photos: Iterable[bytes] = (), draft_started_at: datetime | None = None,
                         calendar: WorkingDayCalendar | None = None,
                         context: AuditContext | None = None) -> Case:
    """File an observer's report; it is routed to the station's municipal commission.

    ``is_accredited(municipality_id)`` answers whether the observer is accredited there.

    Raises:
        NotAccredited: the observer is not accredited in the station's municipality.
        InvalidCaseData: unknown station, category or severity, or an empty description.
        InvalidPhoto: a photo that is not an accepted image, too large, or too many.
    """
    station = session.get(PollingStation, polling_station_id)
    if station is None:
        raise InvalidCaseData("unknown polling station")
    if not is_accredited(station.municipality_id):
        refuse(session, clock, actor, None, NotAccredited("observer not accredited there"),
               "file_observer_report", context, municipality_id=station.municipality_id,
               polling_station_id=station.id)
    try:
        category, severity = ReportCategory(category).value, Severity(severity).value
    except ValueError:
        raise InvalidCaseData("unknown category or severity") from None
    description = clean_text(description, "description")
    photo_data = list(photos)
    if len(photo_data) > MAX_PHOTOS_PER_CASE:
        raise InvalidPhoto("too many photos")
    for data in photo_data:
        sniff_photo(data)
    if observed_at is not None and observed_at > clock.now() + timedelta(minutes=5):
        raise InvalidCaseData("observed in the future")
    title = f"{station.number}. {station.name}: {description.splitlines()[0][:120]}"
    report = ObserverReport(category=category, severity=severity, description=description,
                            observed_at=observed_at)
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
                    title=contested[:200], summary=summary, municipality_id=municipality_id,
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
