"""The observer app's JSON endpoints: the outbox key, and receiving a checklist page or a
report once per the phone's idempotency key.

Answers: ``201 {"status": "received", …}`` the first time, ``200 {"status":
"already_received", …}`` for the same entry received before under its key (a retry); a
refusal is ``{"error", "code"}`` with the status saying what kind it is, the same on the case
API (``portal/cases/api.py``):

- ``400``: what was sent is malformed (not strict JSON, a field missing or of the wrong type,
  named; a bad idempotency key; an answer that does not fit its item);
- ``401`` ``sign_in_required``: the session has ended (signed out, expired, or ended when the
  observer's accreditation was revoked); what waits on the phone is kept until they sign in;
- ``403`` ``not_observer_here``: not a station the observer observes in that referendum now,
  including one that does not exist (the same answer for both), or not an observer at all;
  ``observer_rights_ended``: the person was an observer but holds no observer's rights now
  (the observation days of their accreditation are over);
- ``409``: it clashes with what was received before: ``send_again`` (another submission at the
  same moment; the only one the phone sends again), ``key_reused`` (the key was used for
  another entry), ``already_corrected`` (correct the latest version instead);
- ``422`` ``not_correctable``: a correction that points to an entry it may not correct.
"""
from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask import session as cookie_session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.cases.access import accreditation_check
from portal.database import on_commit
from portal.jsonbody import BodyNotJson, json_object
from portal.observation import access, events
from portal.observation.tasks import open_report_thread
from portal.permissions import Permission
from portal.realtime import as_id
from portal.refusals import on_refusal
from portal.security import SESSION_ID_KEY
from portal.web import audit_context, calendar, clock, db
from referendum_core.cases.models import Case
from referendum_core.observation import services
from referendum_core.observation.checklists import VERSIONS
from referendum_core.observation.exceptions import (
    InvalidField,
    InvalidJson,
    NoAnswers,
    TooManyAnswers,
    TooManyPhotos,
)
from referendum_core.observation.services import AnswerInput, Receipt

OUTBOX_KEY_PURPOSE = b"observer-outbox-key"
OUTBOX_SESSION_PURPOSE = b"observer-outbox-session"
MAX_PHOTOS = 6
#: The most answers one checklist page carries: every question of the longest published
#: checklist, once.
MAX_ANSWERS_PER_PAGE = min(services.MAX_ANSWERS,
                           max(len(c.items()) for c in VERSIONS.values()))


def outbox_key() -> dict[str, Any]:
    """The key the observer's phone encrypts its outbox with (AES-256-GCM, one per observer,
    derived from their session epoch, so that signing out everywhere changes it), a CSRF token
    for sending, and the tag of the sign-in the request belongs to.

    The key outlives a sign-in; the tag does not: an opaque HMAC of the server-side session id
    (``sid``, never the id itself), different for every sign-in. The phone records on each
    entry the tag it was sealed under and sends by itself only entries of the current sign-in's
    tag; one sealed under another sign-in (filled after it ended, perhaps by someone else
    holding the phone) is shown to the observer to check and send or delete."""
    access.require_observer_now(current_user, Permission.FILL_CHECKLIST)
    keys = current_app.extensions["keys"]
    raw = bytes.fromhex(keys.mac(OUTBOX_KEY_PURPOSE,
                                 f"{current_user.id}:{current_user.session_epoch}"))
    sid = cookie_session.get(SESSION_ID_KEY)
    tag = keys.mac(OUTBOX_SESSION_PURPOSE, f"{current_user.id}:{sid}")[:32] if sid else None
    return {"observer_id": current_user.id, "key": base64.b64encode(raw).decode(),
            "session_tag": tag, "csrf_token": generate_csrf()}


def _body() -> dict[str, Any]:
    """The request's JSON object, read with the election records' rule for keys
    (``jsonstream.UNIQUE_KEYS_DECODER``: a key named twice is refused, not "the last one
    wins"), in one pass of the C scanner; a value of the wrong type (a decimal number among
    them) is then refused by its field's name (``fields``).

    Raises:
        InvalidJson: not UTF-8, not strict JSON or not an object (located, ``jsonbody``).
    """
    try:
        return json_object(require_json_type=True)
    except BodyNotJson as err:
        raise InvalidJson(err.reason, err.where, **err.params) from None


# The types the observer app's JSON fields must have, checked in one place before anything
# is read: a boolean is not a number, an object or a list is not text, and a field of the wrong
# type is refused by name (nothing is converted with ``str`` or ``int``).
ID, OPTIONAL_ID, TEXT, OPTIONAL_TEXT, LIST, OPTIONAL_LIST, ANSWER_VALUE = (
    "id", "optional_id", "text", "optional_text", "list", "optional_list", "answer_value")
EXPECTED = {ID: "id", OPTIONAL_ID: "id", TEXT: "text", OPTIONAL_TEXT: "text", LIST: "list",
            OPTIONAL_LIST: "list", ANSWER_VALUE: "answer"}
CHECKLIST_FIELDS = {"key": TEXT, "referendum_id": ID, "polling_station_id": ID,
                    "filled_at": OPTIONAL_TEXT, "answers": LIST}
ANSWER_FIELDS = {"item": TEXT, "value": ANSWER_VALUE, "photo": OPTIONAL_TEXT}
REPORT_FIELDS = {"key": TEXT, "referendum_id": ID, "polling_station_id": ID,
                 "filled_at": OPTIONAL_TEXT, "category": TEXT, "severity": TEXT,
                 "description": TEXT, "corrects_case_id": OPTIONAL_ID, "photos": OPTIONAL_LIST}


def _typed(value: Any, kind: str) -> Any:
    """``value`` if it has the type ``kind`` (an id: a positive whole number, or its digits as
    text, as a form's value arrives), else ``_WRONG``."""
    if value is None:
        return None if kind in (OPTIONAL_ID, OPTIONAL_TEXT, OPTIONAL_LIST) else _WRONG
    if kind in (ID, OPTIONAL_ID):
        number = as_id(value)  # refuses booleans, objects, lists, 0 and junk
        return _WRONG if number is None else number
    if kind in (TEXT, OPTIONAL_TEXT):
        return value if isinstance(value, str) else _WRONG
    if kind in (LIST, OPTIONAL_LIST):
        return value if isinstance(value, list) else _WRONG
    # A checklist answer: yes/no (a JSON boolean) or a whole number (not a boolean).
    return value if isinstance(value, bool | int) else _WRONG


_WRONG = object()


def fields(given: Any, spec: dict[str, str], where: str = "") -> dict[str, Any]:
    """The fields of ``spec`` from the JSON object ``given``, each of its declared type
    (absent optional fields are ``None``; other fields are ignored).

    Raises:
        InvalidField: not an object, or a field missing or of another type (named).
    """
    if not isinstance(given, dict):
        raise InvalidField(where.rstrip(".") or "body", "object")
    found = {}
    for name, kind in spec.items():
        value = _typed(given.get(name), kind)
        if value is _WRONG:
            raise InvalidField(f"{where}{name}", EXPECTED[kind])
        found[name] = value
    return found


def _photo(value: str | None, name: str) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidField(name, "base64") from None


def _filled_at(value: str | None) -> datetime | None:
    """When the phone says the entry was filled: an aware moment that exists in UTC, else
    nothing (a naive time, junk, or a date at the calendar's edge that UTC cannot hold)."""
    try:
        moment = datetime.fromisoformat(value or "")
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def _answers(given: list[Any]) -> list[AnswerInput]:
    answers = []
    for i, entry in enumerate(given):
        where = f"answers[{i}]."
        answer = fields(entry, ANSWER_FIELDS, where)
        answers.append(AnswerInput(answer["item"], answer["value"],
                                   _photo(answer["photo"], f"{where}photo")))
    return answers


def _answer(receipt: Receipt) -> tuple[dict[str, Any], int]:
    submission = receipt.submission
    reference = None
    if submission.case_id is not None:
        reference = db().get(Case, submission.case_id).reference  # type: ignore[union-attr]
    return {"status": "received" if receipt.is_new else "already_received",
            "key": submission.client_key, "kind": submission.kind,
            "received_at": submission.received_at.isoformat(), "reference": reference,
            "case_id": submission.case_id}, 201 if receipt.is_new else 200


def receive_checklist() -> Any:
    """A page of checklist answers from the observer app."""
    on_refusal(attempted="observation.checklist")
    access.require_observer_now(current_user, Permission.FILL_CHECKLIST)
    body = _body()
    session = db()
    given = fields(body, CHECKLIST_FIELDS)
    # Counted before any answer is read: a page answers each question at most once.
    if not given["answers"]:
        raise NoAnswers("no answers")
    if len(given["answers"]) > MAX_ANSWERS_PER_PAGE:
        raise TooManyAnswers(MAX_ANSWERS_PER_PAGE)
    receipt = services.submit_checklist(
        session, clock(), current_user, referendum_id=given["referendum_id"],
        polling_station_id=given["polling_station_id"], key=given["key"],
        answers=_answers(given["answers"]),
        may_observe=access.may_observe(session, current_user),
        filled_at=_filled_at(given["filled_at"]), context=audit_context())
    if receipt.is_new:
        events.announce_checklist(receipt.submission)
    return _answer(receipt)


def receive_report() -> Any:
    """A report (or a correction of one) from the observer app."""
    on_refusal(attempted="observation.report")
    access.require_observer_now(current_user, Permission.FILL_CHECKLIST,
                                Permission.FILE_OBSERVER_REPORT)
    body = _body()
    session = db()
    given = fields(body, REPORT_FIELDS)
    photos = given["photos"] or []
    if len(photos) > MAX_PHOTOS:
        raise TooManyPhotos(MAX_PHOTOS)
    for i, photo in enumerate(photos):
        if _typed(photo, OPTIONAL_TEXT) is _WRONG:
            raise InvalidField(f"photos[{i}]", "text")
    receipt = services.file_report(
        session, clock(), current_user, referendum_id=given["referendum_id"],
        polling_station_id=given["polling_station_id"], key=given["key"],
        category=given["category"], severity=given["severity"],
        description=given["description"], corrects_case_id=given["corrects_case_id"],
        photos=[p for p in (_photo(v, f"photos[{i}]") for i, v in enumerate(photos)) if p],
        may_observe=access.may_observe(session, current_user),
        is_accredited=accreditation_check(session, current_user, clock().now(),
                                           given["referendum_id"]),
        filled_at=_filled_at(given["filled_at"]),
        calendar=calendar(), context=audit_context())
    if receipt.is_new:
        case = session.get(Case, receipt.submission.case_id)
        events.announce_report(case)
        case_id, user_id = case.id, current_user.id
        on_commit(lambda: open_report_thread.delay(case_id, user_id))
    return _answer(receipt)
