"""Case pages: work queues, the case page, filing (observer report, complaint, query to CVK),
CSV export. Thin: every write is a service call; refusals become translated messages."""
from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.cases import (
    filing,
    token_views,
    work,  # noqa: F401 - registers the area's work provider (portal.work)
)
from portal.cases import services as portal_services
from portal.cases.access import access_case, may_work, parties_for, visibility_for
from portal.cases.diagram import build as build_diagram
from portal.cases.filters import filter_from_args, query_string
from portal.cases.forms import (
    AssignForm,
    CommentForm,
    DeadlineForm,
    PhotoForm,
    SaveFilterForm,
    TransitionForm,
)
from portal.cases.labels import CASE_TYPES, SEVERITIES, STATES, label, template_helpers
from portal.cases.own_pages import own_page
from portal.database import commit
from portal.permissions import Permission, municipalities_for, permission_required, require
from portal.realtime import as_id
from portal.refusals import on_refusal
from portal.spreadsheet import csv_cell, csv_writer
from portal.web import audit_context, calendar, clock, db
from referendum_core import audit
from referendum_core.cases import queries
from referendum_core.cases import services as case_services
from referendum_core.cases.deadlines import countdown
from referendum_core.cases.exceptions import CaseError
from referendum_core.cases.models import Case, CasePhoto, ObserverReport, SavedFilter
from referendum_core.cases.workflows import REGISTRY, Party
from referendum_core.clock import RIGA, to_riga
from referendum_core.collation import latvian_key
from referendum_core.observation.services import corrections_of
from referendum_core.organisation import Municipality

bp = Blueprint("cases", __name__, url_prefix="/cases")
bp.context_processor(template_helpers)
filing.register(bp)
token_views.register(bp)


def _municipality_names(ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = db().execute(select(Municipality.id, Municipality.name)
                        .where(Municipality.id.in_(wanted)))
    return {mid: name for mid, name in rows}


@bp.get("")
@login_required
def queue() -> Any:
    flt, sort = filter_from_args(request.args, current_user.id)
    page = queries.list_cases(db(), flt, visibility_for(current_user), clock().now(), sort=sort,
                              page=request.args.get("page", 1, type=int),
                              count_limit=queries.COUNT_LIMIT)
    visible = municipalities_for(current_user, Permission.VIEW_CASES)
    munis = sorted(db().scalars(select(Municipality) if visible is None else
                                select(Municipality).where(Municipality.id.in_(sorted(visible)))),
                   key=lambda m: latvian_key(m.name))
    saved = db().scalars(select(SavedFilter).where(SavedFilter.user_id == current_user.id)
                         .order_by(SavedFilter.name)).all()
    return render_template(
        "cases/queue.html", page=page, flt=flt, sort=sort, municipalities=munis, saved=saved,
        names=_municipality_names({c.municipality_id for c in page.items}),
        severities=_severities([c.id for c in page.items]), severity_names=SEVERITIES,
        case_types=CASE_TYPES, states=STATES, label=label, now=clock().now(),
        qs=lambda **kw: query_string(request.args, **kw),
        save_form=SaveFilterForm(query=query_string(request.args, page=None)),
        state_groups=_state_groups(),
    )


def _severities(case_ids: list[int]) -> dict[int, str]:
    """Each observer report's severity, for the list's column (other cases have none); one
    statement however many cases the page shows."""
    return dict(db().execute(select(ObserverReport.case_id, ObserverReport.severity)
                             .where(ObserverReport.case_id.in_(case_ids))).all())


def _state_groups() -> list[tuple[str, list[str]]]:
    """The state filter's choices in two groups, still being worked on and finished (a state
    final in any workflow counts as finished), each sorted by its translated name."""
    states = {s.name: s.is_final for w in REGISTRY.all() for s in w.states}
    final = {s.name for w in REGISTRY.all() for s in w.states if s.is_final}
    ongoing = sorted((n for n in states if n not in final), key=lambda n: label(STATES, n))
    finished = sorted(final, key=lambda n: label(STATES, n))
    return [(gettext("Being worked on"), ongoing), (gettext("Finished"), finished)]


@bp.post("/filters")
@login_required
def save_filter() -> Any:
    form = SaveFilterForm()
    if not form.validate_on_submit():
        flash(gettext("Give the filter a name."), "error")
        return redirect(url_for("cases.queue"))
    try:
        case_services.save_filter(db(), clock(), current_user, form.name.data,
                                  form.query.data or "")
    except CaseError:
        flash(gettext("The filter could not be saved."), "error")
        return redirect(url_for("cases.queue"))
    flash(gettext("Filter saved."), "success")
    return redirect(url_for("cases.queue") + "?" + (form.query.data or ""))


@bp.post("/filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id: int) -> Any:
    try:
        case_services.delete_filter(db(), current_user, filter_id)
    except CaseError:
        abort(404)
    flash(gettext("Filter deleted."), "success")
    return redirect(url_for("cases.queue"))


@bp.get("/export.csv")
@permission_required(Permission.EXPORT_CASES)
def export_csv() -> Any:
    flt, _sort = filter_from_args(request.args, current_user.id)
    visibility = visibility_for(current_user)
    now = clock().now()
    audit.record(db(), clock(), current_user, "case.exported", object_type="Case",
                 context=audit_context(), query=request.query_string.decode()[:500])
    commit()
    session = db()

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv_writer(buffer)
        writer.writerow(["reference", "type", "state", "municipality_id", "polling_station_id",
                         "title", "opened_at", "deadline_at", "deadline_basis", "closed_at",
                         "assignee_id", "escalation_level", "overdue"])
        for case in queries.iter_cases(session, flt, visibility, now):
            writer.writerow([csv_cell(v) for v in (
                case.reference, case.type, case.state, case.municipality_id,
                case.polling_station_id, case.title, case.opened_at.isoformat(),
                case.deadline_at.isoformat() if case.deadline_at else "",
                case.deadline_basis or "", case.closed_at.isoformat() if case.closed_at else "",
                case.assignee_id or "", case.escalation_level,
                int(bool(case.is_open and case.deadline_at and case.deadline_at < now)))])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    stamp = to_riga(now).strftime("%Y%m%d-%H%M")
    return Response(stream_with_context(rows()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="cases-{stamp}.csv"'})


def _assignees(case: Case) -> list[User]:
    """Officials who may work on ``case`` (its commission's members and CVK officials)."""
    people = db().scalars(select(User).join(Membership, Membership.user_id == User.id)
                          .where(User.is_active.is_(True)).distinct()
                          .order_by(User.display_name)).all()
    return [p for p in people if may_work(p, case)]


def _deadline_form(case: Case, parties: frozenset[Party],
                   form: DeadlineForm | None = None) -> DeadlineForm | None:
    """The form to move a service-level deadline, for a chair or CVK on an open case."""
    if not case.is_open or not case_services.DEADLINE_MOVERS & parties:
        return None
    if form is None:
        form = DeadlineForm(formdata=None)
        if case.deadline_at is not None:
            form.deadline.data = to_riga(case.deadline_at).replace(tzinfo=None, second=0,
                                                                   microsecond=0)
    return form


def render_case(case: Case, *, status: int = 200, error: str | None = None,
                deadline_form: DeadlineForm | None = None) -> Any:
    """The case page (also re-rendered with an error after a refused action)."""
    parties = parties_for(current_user, case)
    workflow = REGISTRY.get(case.type)
    allowed = portal_services.requestable_moves(current_user, case)
    now = clock().now()
    assign_form = None
    if parties & {Party.COMMISSION, Party.CVK} and case.is_open:
        assign_form = AssignForm(version=case.version)
        choices = [(0, gettext("Nobody"))] + [(u.id, u.display_name) for u in _assignees(case)]
        assign_form.assignee_id.choices = choices
        assign_form.assignee_id.data = case.assignee_id or 0
    users = {u.id: u for u in db().scalars(select(User).where(User.id.in_(
        [i for i in (case.assignee_id, case.created_by_id) if i is not None])))}
    return render_template(
        "cases/case.html", case=case, workflow=workflow, allowed=allowed,
        diagram=build_diagram(workflow, case.state, {t.name for t in allowed}),
        countdown=countdown(calendar(), now, case.deadline_at) if case.deadline_at else None,
        court_countdown=(countdown(calendar(), now, case.complaint.court_deadline_at)
                         if case.complaint and case.complaint.court_deadline_at else None),
        transition_form=TransitionForm(version=case.version), comment_form=CommentForm(),
        photo_form=PhotoForm() if parties and case.is_open else None, assign_form=assign_form,
        deadline_form=_deadline_form(case, parties, deadline_form),
        deadline_movable=case_services.deadline_is_movable(case),
        thread_id=portal_services.thread_id_for(db(), case), parties=parties, users=users,
        municipality=db().get(Municipality, case.municipality_id) if case.municipality_id
        else None, error=error, label=label, own_page=own_page(db(), case),
        corrections=_report_corrections(case),
    ), status


def _report_corrections(case: Case) -> dict[str, Case]:
    """An observer report's correction chain around it: ``corrects`` (the earlier report it
    corrects) and ``corrected_by`` (the later report that corrects it), either absent."""
    if case.observer_report is None:
        return {}
    corrects, corrected_by = corrections_of(db(), case.id)
    found = {"corrects": corrects, "corrected_by": corrected_by}
    cases = {c.id: c for c in db().scalars(select(Case).where(
        Case.id.in_([i for i in found.values() if i is not None])))}
    return {name: cases[i] for name, i in found.items() if i in cases}


def refusal_shows_case(case: Case, action: str, **page: Any) -> None:
    """A refusal of ``action`` shows the case page again with its sentence (``portal.refusals``
    settles the transaction and audits a refusal the database made)."""
    on_refusal(lambda message, status: render_case(case, status=status, error=message, **page),
               obj=case, attempted=action)


@bp.get("/<int:case_id>")
@login_required
def case_page(case_id: int) -> Any:
    return render_case(access_case(db(), current_user, case_id, Permission.VIEW_CASES))


@bp.post("/<int:case_id>/transition")
@login_required
def transition(case_id: int) -> Any:
    case = access_case(db(), current_user, case_id, Permission.VIEW_CASES)
    form = TransitionForm()
    if not form.validate_on_submit():
        return render_case(case, status=400, error=gettext(
            "The request could not be understood. Check the form and try again."))
    refusal_shows_case(case, "transition")
    portal_services.transition_case(
        db(), clock(), current_user, case, form.transition.data, form.version.data,
        form.note.data or "", calendar=calendar(), context=audit_context())
    flash(gettext("Done: %(state)s.", state=label(STATES, case.state)), "success")
    return redirect(url_for("cases.case_page", case_id=case.id))


@bp.post("/<int:case_id>/comment")
@login_required
def comment(case_id: int) -> Any:
    case = access_case(db(), current_user, case_id, Permission.VIEW_CASES)
    form = CommentForm()
    if not form.validate_on_submit():
        return render_case(case, status=400, error=gettext("Write a comment first."))
    refusal_shows_case(case, "comment")
    portal_services.comment_on_case(db(), clock(), current_user, case, form.text.data,
                                    context=audit_context())
    flash(gettext("Comment added."), "success")
    return redirect(url_for("cases.case_page", case_id=case.id) + "#timeline")


@bp.post("/<int:case_id>/assign")
@login_required
def assign(case_id: int) -> Any:
    case = access_case(db(), current_user, case_id, Permission.VIEW_CASES)
    form = AssignForm()
    form.assignee_id.choices = []
    if not form.validate_on_submit():
        return render_case(case, status=400, error=gettext("Choose whom to assign."))
    assignee = (db().get(User, form.assignee_id.data)
                if as_id(form.assignee_id.data) is not None else None)
    if form.assignee_id.data and assignee is None:
        return render_case(case, status=400, error=gettext("Choose whom to assign."))
    refusal_shows_case(case, "assign")
    case_services.assign_case(
        db(), clock(), current_user, case, assignee, parties=parties_for(current_user, case),
        assignee_may_work=assignee is None or may_work(assignee, case),
        expected_version=form.version.data, context=audit_context())
    flash(gettext("Assignment saved."), "success")
    return redirect(url_for("cases.case_page", case_id=case.id))


@bp.post("/<int:case_id>/deadline")
@login_required
def change_deadline(case_id: int) -> Any:
    """Move a service-level deadline (chair or CVK); a deadline set by law is refused, visibly."""
    case = access_case(db(), current_user, case_id, Permission.VIEW_CASES)
    form = DeadlineForm()
    if not form.validate_on_submit():
        return render_case(case, status=400, deadline_form=form, error=gettext(
            "Give the new deadline as a date and time, and the reason for the change."))
    new_deadline = form.deadline.data.replace(tzinfo=RIGA)
    refusal_shows_case(case, "change_deadline", deadline_form=form)
    case_services.change_deadline(db(), clock(), current_user, case, new_deadline,
                                  form.reason.data or "", parties=parties_for(current_user, case),
                                  context=audit_context())
    flash(gettext("Deadline changed."), "success")
    return redirect(url_for("cases.case_page", case_id=case.id) + "#deadline")


@bp.post("/<int:case_id>/photos")
@login_required
def add_photo(case_id: int) -> Any:
    case = access_case(db(), current_user, case_id, Permission.VIEW_CASES)
    form = PhotoForm()
    if not form.validate_on_submit():
        return render_case(case, status=400, error=gettext("Choose a photo first."))
    refusal_shows_case(case, "add_photo")
    portal_services.add_photo(db(), clock(), current_user, case, form.photo.data.read(),
                              context=audit_context())
    flash(gettext("Photo added."), "success")
    return redirect(url_for("cases.case_page", case_id=case.id) + "#photos")


@bp.get("/<int:case_id>/photos/<int:photo_id>")
@login_required
def photo(case_id: int, photo_id: int) -> Any:
    case = access_case(db(), current_user, case_id, Permission.VIEW_CASES)
    found = db().get(CasePhoto, photo_id) if as_id(photo_id) is not None else None
    if found is None or found.case_id != case.id:
        abort(404)
    return Response(found.data, mimetype=found.content_type, headers={
        "Content-Disposition": f'inline; filename="{case.reference}-{found.id}"',
        "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })


@bp.post("/<int:case_id>/thread")
@login_required
def open_thread(case_id: int) -> Any:
    case = access_case(db(), current_user, case_id, Permission.VIEW_CASES)
    if not parties_for(current_user, case):
        require(Permission.WORK_CASES)
    thread = portal_services.open_thread(db(), clock(), current_user, case)
    return redirect(url_for("messages.thread", thread_id=thread.id))
