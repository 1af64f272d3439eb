"""Filing pages: an observer's report (phone-first, camera input), a complaint or appeal, and a
commission's query to CVK. Each files through the portal service (``portal.cases.services``),
which also opens the case's thread, as the API does."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import format_date, get_locale, gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.cases import services as portal_services
from portal.cases.access import report_options
from portal.cases.forms import ComplaintForm, ObserverReportForm, QueryForm
from portal.cases.photo_stash import stash_photos, take_photos
from portal.config import instance_dir
from portal.permissions import Permission, municipalities_for, require
from portal.refusals import on_refusal
from portal.web import audit_context, calendar, clock, db
from referendum_core.cases.exceptions import InvalidPhoto
from referendum_core.cases.filing import MAX_PHOTOS_PER_CASE, sniff_photo
from referendum_core.collation import latvian_key
from referendum_core.organisation import Municipality, PollingStation
from referendum_core.voting.models import Referendum


def _started(value: str | None) -> datetime | None:
    """When the form was first shown (for the time-to-submit figure); junk is ignored."""
    try:
        return datetime.fromtimestamp(float(value or ""), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _now_stamp() -> str:
    return f"{clock().now().timestamp():.0f}"


def _municipality_choices(ids: set[int] | None) -> list[tuple[int, str]]:
    stmt = select(Municipality)
    if ids is not None:
        stmt = stmt.where(Municipality.id.in_(sorted(ids)))
    return [(m.id, m.name) for m in sorted(db().scalars(stmt), key=lambda m: latvian_key(m.name))]


def _filed(case: Any) -> Any:
    flash(gettext("Thank you. Your case %(ref)s has been filed.", ref=case.reference), "success")
    return redirect(url_for("cases.case_page", case_id=case.id))


def _refusal_shows_form(template: str, form: Any) -> None:
    on_refusal(lambda message, status: (render_template(template, form=form, error=message),
                                        status))


def report() -> Any:
    """An observer files what they saw at a polling station (with photos from the phone)."""
    require(Permission.FILE_OBSERVER_REPORT)
    form = ObserverReportForm()
    referendums, stations = _report_choices()
    form.referendum_id.choices = [("", "—")] + [
        (r.id, f"{r.question(str(get_locale()))} ({format_date(r.referendum_day)})")
        for r in referendums]
    form.polling_station_id.choices = [
        (s.id, f"{s.number}. {s.name} — {s.address}") for s in stations]
    if not form.is_submitted():
        form.started.data = _now_stamp()
        return render_template("cases/report.html", form=form, nothing_open=not stations)
    photos = [f.read() for f in (form.photos.data or []) if f and getattr(f, "filename", "")]
    if not form.validate():
        return _report_again(form, photos, 400)
    photos += take_photos(form.kept_photos.data or "", current_user.id, _stash_dir(),
                          current_app.config["SECRET_KEY"])
    on_refusal(lambda message, status: _report_again(form, photos, status, message))
    case = portal_services.file_observer_report(
        db(), clock(), current_user, polling_station_id=form.polling_station_id.data,
        referendum_id=form.referendum_id.data, category=form.category.data, severity=form.severity.data,
        description=form.description.data, photos=photos,
        draft_started_at=_started(form.started.data), calendar=calendar(),
        context=audit_context())
    return _filed(case)


def _report_choices() -> tuple[list[Referendum], list[PollingStation]]:
    """The referendums and polling stations the observer may report on now, by the rule filing
    applies (``access.report_options``)."""
    referendums: list[Referendum] = []
    stations: dict[int, PollingStation] = {}
    for referendum, its_stations in report_options(db(), current_user, clock().now()):
        if referendum is not None:
            referendums.append(referendum)
        stations.update((s.id, s) for s in its_stations)
    return referendums, sorted(stations.values(), key=lambda s: (s.municipality_id, s.number))


def _acceptable(photo: bytes) -> bool:
    try:
        sniff_photo(photo)
    except InvalidPhoto:
        return False
    return True


def _stash_dir() -> Path:
    return instance_dir() / "photo-stash"


def _report_again(form: Any, photos: list[bytes], status: int, error: str | None = None) -> Any:
    """The report form again, with its error; the photos already attached are kept for the
    next try (a browser cannot refill a file field)."""
    secret = current_app.config["SECRET_KEY"]
    kept = take_photos(form.kept_photos.data or "", current_user.id, _stash_dir(), secret)
    photos = [p for p in kept + photos if _acceptable(p)][:MAX_PHOTOS_PER_CASE]
    form.kept_photos.data = (stash_photos(photos, current_user.id, _stash_dir(), secret)
                             if photos else "")
    return render_template("cases/report.html", form=form, error=error,
                           kept_count=len(photos)), status


def complaint() -> Any:
    """A voter, initiator or observer contests a commission decision or a count protocol."""
    require(Permission.FILE_COMPLAINT)
    form = ComplaintForm()
    form.municipality_id.choices = _municipality_choices(None)
    if not form.is_submitted():
        form.started.data = _now_stamp()
        return render_template("cases/complaint.html", form=form)
    if not form.validate():
        return render_template("cases/complaint.html", form=form), 400
    _refusal_shows_form("cases/complaint.html", form)
    case = portal_services.file_complaint(
        db(), clock(), current_user, municipality_id=form.municipality_id.data,
        grounds=form.grounds.data, applicant_kind=form.applicant_kind.data,
        contested=form.contested.data, contested_on=form.contested_on.data,
        summary=form.summary.data, draft_started_at=_started(form.started.data),
        calendar=calendar(), context=audit_context())
    return _filed(case)


def query() -> Any:
    """A municipal commission asks CVK for methodological help."""
    require(Permission.HANDLE_COMMISSION_CASES)
    form = QueryForm()
    own = municipalities_for(current_user, Permission.HANDLE_COMMISSION_CASES)
    form.municipality_id.choices = _municipality_choices(own)
    if not form.is_submitted():
        form.started.data = _now_stamp()
        return render_template("cases/query.html", form=form)
    if not form.validate():
        return render_template("cases/query.html", form=form), 400
    _refusal_shows_form("cases/query.html", form)
    case = portal_services.ask_cvk(
        db(), clock(), current_user, municipality_id=form.municipality_id.data,
        title=form.title.data, question=form.question.data,
        draft_started_at=_started(form.started.data), calendar=calendar(),
        context=audit_context())
    return _filed(case)


def register(bp: Blueprint) -> None:
    """Add the filing pages to the cases blueprint."""
    for rule, view in (("/report", report), ("/complaint", complaint), ("/query", query)):
        bp.add_url_rule(rule, view.__name__, login_required(view), methods=["GET", "POST"])
