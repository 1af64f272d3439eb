"""The observer app's JSON endpoints: the outbox key, and receiving a checklist page or a
report once per the phone's idempotency key.

Answers: ``201 {"status": "received", …}`` the first time, ``200 {"status":
"already_received", …}`` for a key received before (a retry), ``400/403 {"error", "code"}``
for a refusal the phone should not retry, ``409`` when it should retry later.
"""
from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import BadRequest

from portal.cases.access import accreditation_check
from portal.database import on_commit
from portal.observation import access, events
from portal.observation.tasks import open_report_thread
from portal.permissions import Permission, require
from portal.realtime import as_id
from portal.refusals import on_refusal
from portal.web import audit_context, calendar, clock, db
from referendum_core.cases.models import Case
from referendum_core.observation import services
from referendum_core.observation.exceptions import (
    InvalidAnswer,
)
from referendum_core.observation.services import AnswerInput, Receipt

OUTBOX_KEY_PURPOSE = b"observer-outbox-key"
MAX_PHOTOS = 6


def outbox_key() -> dict[str, Any]:
    """The key the observer's phone encrypts its outbox with (AES-256-GCM, one per observer,
    replaced when they sign out everywhere), and a CSRF token for sending."""
    require(Permission.FILL_CHECKLIST)
    keys = current_app.extensions["keys"]
    raw = bytes.fromhex(keys.mac(OUTBOX_KEY_PURPOSE,
                                 f"{current_user.id}:{current_user.session_epoch}"))
    return {"observer_id": current_user.id, "key": base64.b64encode(raw).decode(),
            "csrf_token": generate_csrf()}


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest()
    return body


def _id(body: dict[str, Any], name: str, *, optional: bool = False) -> int | None:
    value = body.get(name)
    if optional and value in (None, "", 0):
        return None
    number = as_id(value)
    if number is None:
        raise InvalidAnswer(f"{name}: an id expected")
    return number


def _photo(value: Any) -> bytes | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidAnswer("photo: base64 expected")
    try:
        return base64.b64decode(value.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAnswer("photo: base64 expected") from None


def _filled_at(body: dict[str, Any]) -> datetime | None:
    """When the phone says the entry was filled: an aware moment that exists in UTC, else
    nothing (a naive time, junk, or a date at the calendar's edge that UTC cannot hold)."""
    try:
        moment = datetime.fromisoformat(str(body.get("filled_at") or ""))
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def _answers(body: dict[str, Any]) -> list[AnswerInput]:
    given = body.get("answers")
    if not isinstance(given, list):
        raise InvalidAnswer("answers: a list expected")
    answers = []
    for entry in given:
        if not isinstance(entry, dict) or not isinstance(entry.get("item"), str):
            raise InvalidAnswer("answer: an item expected")
        answers.append(AnswerInput(entry["item"], entry.get("value"),  # type: ignore[arg-type]
                                   _photo(entry.get("photo"))))
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
    require(Permission.FILL_CHECKLIST)
    body = _body()
    session = db()
    on_refusal(attempted="observation.checklist")
    receipt = services.submit_checklist(
        session, clock(), current_user, referendum_id=_id(body, "referendum_id"),
        polling_station_id=_id(body, "polling_station_id"), key=body.get("key"),
        answers=_answers(body), may_observe=access.may_observe(session, current_user),
        filled_at=_filled_at(body), context=audit_context())
    if receipt.is_new:
        events.announce_checklist(receipt.submission)
    return _answer(receipt)


def receive_report() -> Any:
    """A report (or a correction of one) from the observer app."""
    require(Permission.FILL_CHECKLIST)
    require(Permission.FILE_OBSERVER_REPORT)
    body = _body()
    session = db()
    photos = body.get("photos") or []
    on_refusal(attempted="observation.report")
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS:
        raise InvalidAnswer("photos")
    receipt = services.file_report(
        session, clock(), current_user, referendum_id=_id(body, "referendum_id"),
        polling_station_id=_id(body, "polling_station_id"), key=body.get("key"),
        category=str(body.get("category") or ""), severity=str(body.get("severity") or ""),
        description=str(body.get("description") or ""),
        corrects_case_id=_id(body, "corrects_case_id", optional=True),
        photos=[p for p in (_photo(v) for v in photos) if p],
        may_observe=access.may_observe(session, current_user),
        is_accredited=accreditation_check(session, current_user, clock().now()),
        filled_at=_filled_at(body),
        calendar=calendar(), context=audit_context())
    if receipt.is_new:
        case = session.get(Case, receipt.submission.case_id)
        events.announce_report(case)
        case_id, user_id = case.id, current_user.id
        on_commit(lambda: open_report_thread.delay(case_id, user_id))
    return _answer(receipt)
