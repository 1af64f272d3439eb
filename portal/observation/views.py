"""Pages of observation: the observer app (installable, works offline), a station's entries
for the commission, a photo, and the home page's "needs action" part.

The observer app page, its manifest and its service worker live under ``/observe/`` so that
the worker's scope is exactly the observer pages.
"""
from __future__ import annotations

import json
from collections import Counter
from io import BytesIO
from typing import Any

from flask import Blueprint, Flask, Response, abort, render_template, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.cases.labels import CATEGORIES, SEVERITIES
from portal.observation import access, api, events
from portal.observation.labels import PHASES, item_label
from portal.permissions import Permission, has_permission, require
from portal.realtime import as_id
from portal.web import clock, db
from referendum_core.cases.models import Case
from referendum_core.observation import queries
from referendum_core.observation.checklists import checklist
from referendum_core.observation.models import ChecklistAnswer, ObserverSubmission
from referendum_core.observation.services import corrections_of, pinned_version
from referendum_core.organisation import PollingStation

bp = Blueprint("observation", __name__, url_prefix="/observe")
STATIC = "observation"


@bp.get("/")
@login_required
def observer_app() -> Any:
    """The observer app: choose a station, fill in its checklist, report a problem; what is
    waiting on the phone and what the portal has received."""
    session = db()
    observed = access.observed_stations(session, current_user)
    lists = {r.id: checklist(pinned_version(session, r.id)) for r, _ in observed}
    received = list(session.scalars(select(ObserverSubmission).where(
        ObserverSubmission.observer_id == current_user.id).order_by(
        ObserverSubmission.id.desc()).limit(20)))
    case_ids = [s.case_id for s in received if s.case_id]
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    # Only the latest version of a report may be corrected (``AlreadyCorrected``): a report a
    # correction points to is not offered again.
    corrected = set(session.scalars(select(ObserverSubmission.corrects_case_id).where(
        ObserverSubmission.corrects_case_id.in_(case_ids))))
    return render_template("observation/app.html", observed=observed, lists=lists,
                           received=received, cases=cases, corrected=corrected, phases=PHASES,
                           item_label=item_label, categories=CATEGORIES, severities=SEVERITIES)


@bp.get("/manifest.webmanifest")
def manifest() -> Any:
    """The web app manifest of the observer app (installable on the phone's home screen)."""
    body = {
        "name": gettext("Referendum observer"), "short_name": gettext("Observer"),
        "start_url": url_for("observation.observer_app"), "scope": url_for(
            "observation.observer_app"), "display": "standalone", "lang": "lv",
        "background_color": "#ffffff", "theme_color": "#9e3039",
        "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any",
                   "type": "image/svg+xml"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


@bp.get("/sw.js")
def service_worker() -> Any:
    """The service worker (a static file, served from here for its scope ``/observe/``)."""
    from portal.config import PROJECT_ROOT

    response = send_file(PROJECT_ROOT / "portal" / "static" / "js" / "observer-sw.js",
                         mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/r/<int:referendum_id>/s/<int:station_id>")
@login_required
def station_page(referendum_id: int, station_id: int) -> Any:
    """A station's checklist answers (corrections next to what they correct), conflicts and
    observer reports, for the commission and CVK."""
    session = db()
    referendum, station = access.access_station(session, current_user, station_id,
                                                Permission.VIEW_OBSERVATIONS,
                                                referendum_id=referendum_id)
    entries = queries.station_entries(session, referendum.id, station.id)
    corrected = {e.corrects_id for e in entries if e.corrects_id}
    reports = queries.station_reports(session, referendum.id, station.id)
    unassigned = queries.station_reports(session, None, station.id)
    corrections = {r.id: corrections_of(session, r.id) for r in reports}
    return render_template(
        "observation/station.html", referendum=referendum, station=station,
        listed=checklist(pinned_version(session, referendum.id)), entries=entries,
        corrected=corrected, conflicts=queries.conflicts(
            session, referendum_id=referendum.id, station_id=station.id),
        progress=queries.progress(session, referendum.id, station.id), reports=reports,
        unassigned=unassigned,
        corrections=corrections, references=_references(
            {i for pair in corrections.values() for i in pair if i}),
        phases=PHASES, item_label=item_label, severities=SEVERITIES,
        observers=_names({e.observer_id for e in entries}),
        revoked=queries.revoked_observers(session, referendum.id, station.id))


@bp.get("/s/<int:station_id>")
@login_required
def station_without_referendum(station_id: int) -> Any:
    """A station's observer reports that belong to no referendum (filed by a standing observer
    while none was under way), for the commission and CVK."""
    session = db()
    station = access.access_station_alone(session, current_user, station_id,
                                          Permission.VIEW_OBSERVATIONS)
    return render_template("observation/station_no_referendum.html", station=station,
                           reports=queries.station_reports(session, None, station.id),
                           severities=SEVERITIES)


@bp.get("/photos/<int:answer_id>")
@login_required
def photo(answer_id: int) -> Any:
    """The photo of a checklist answer (for those who may follow its station)."""
    session = db()
    answer = session.get(ChecklistAnswer, answer_id) if as_id(answer_id) is not None else None
    if answer is None or answer.photo is None:
        abort(404)
    access.access_station(session, current_user, answer.polling_station_id,
                          Permission.VIEW_OBSERVATIONS, referendum_id=answer.referendum_id)
    response = send_file(BytesIO(answer.photo.data), mimetype=answer.photo.content_type,
                         max_age=0)
    # An image only: nothing in it may run or load anything, wherever it is opened.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/attention")
@login_required
def attention() -> Any:
    """The home page's "needs action" part alone (the page refreshes it on a live event)."""
    require(Permission.VIEW_OBSERVATIONS)
    return render_template("observation/_attention.html", attention=attention_data())


def attention_data() -> dict[str, Any]:
    """Critical reports not yet triaged and observers' conflicts the person may follow, with
    their counts per referendum (a report or conflict counts for its own referendum only)."""
    session = db()
    municipalities = access.watched_municipalities(current_user)
    conflicts = queries.conflicts(session, municipality_ids=municipalities)
    reports = queries.critical_reports_waiting(session, municipalities)
    stations = {s.id: s for s in session.scalars(select(PollingStation).where(
        PollingStation.id.in_({c.polling_station_id for c in conflicts})))}
    report_counts = Counter(c.observer_report.referendum_id if c.observer_report else None
                            for c in reports)
    conflict_counts = Counter(c.referendum_id for c in conflicts)
    per_referendum = [(r, report_counts.get(r.id, 0), conflict_counts.get(r.id, 0))
                      for r in queries.referendums_observed(session, municipalities)
                      if report_counts.get(r.id) or conflict_counts.get(r.id)]
    # Reports that belong to no referendum get a line of their own, so the lines add up to
    # the total.
    corrects = {case_id: earlier for case_id, earlier in session.execute(select(
        ObserverSubmission.case_id, ObserverSubmission.corrects_case_id).where(
        ObserverSubmission.case_id.in_([c.id for c in reports]),
        ObserverSubmission.corrects_case_id.is_not(None)))}
    return {"reports": reports, "conflicts": conflicts, "per_referendum": per_referendum,
            "corrects": corrects, "references": _references(set(corrects.values())),
            "unassigned": report_counts.get(None, 0),
            "stations": stations, "item_label": item_label,
            "observers": _names({o for c in conflicts for o in (*c.answers, *c.set_aside)}),
            "now": clock().now()}


def _references(case_ids: set[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    return {c.id: c.reference for c in db().scalars(select(Case).where(
        Case.id.in_(sorted(case_ids))))}


def _names(user_ids: set[int]) -> dict[int, str]:
    from portal.accounts.models import User

    if not user_ids:
        return {}
    return {row.id: row.display_name for row in db().execute(
        select(User.id, User.display_name).where(User.id.in_(sorted(user_ids))))}


for _rule, _view, _methods in (("/api/key", api.outbox_key, ["GET"]),
                               ("/api/checklist", api.receive_checklist, ["POST"]),
                               ("/api/report", api.receive_report, ["POST"])):
    bp.add_url_rule(_rule, _view.__name__, login_required(_view), methods=_methods)


def init_app(app: Flask) -> None:
    """The live event's handler and the home page's "needs action" part (after the Socket.IO
    extension is bound; the blueprint is registered with the others)."""

    from portal.observation import columns

    columns.register()

    @app.context_processor
    def _observation() -> dict[str, Any]:
        def needs_action() -> dict[str, Any] | None:
            if not has_permission(current_user, Permission.VIEW_OBSERVATIONS):
                return None
            return attention_data()

        return {"observation_attention": needs_action}

    from portal.extensions import socketio

    events.register_handlers(socketio)
