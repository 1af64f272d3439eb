"""Observer pages: the initiators name observers for polling stations; the commission accredits
or refuses them, records its members and the media (CVK its members), and sees the stations
without an observer; the commission and CVK read the polling-station table and its CSV."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
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

from portal.cases.access import parties_for
from portal.cases.labels import template_helpers
from portal.database import commit, on_commit
from portal.observers import services, station_table
from portal.observers.access import (
    access_accreditation,
    access_accredited_observer,
    access_referendum,
    scope_of,
    station_table_scope,
)
from portal.observers.forms import DecisionForm, NominationForm, RecordForm, RevokeForm
from portal.observers.texts import template_helpers as observer_helpers
from portal.permissions import Permission, has_permission
from portal.refusals import flash_and_redirect, on_refusal
from portal.web import audit_context, calendar, clock, db, keys
from referendum_core import audit
from referendum_core.cases.workflows import Party
from referendum_core.clock import to_riga
from referendum_core.collation import latvian_key
from referendum_core.initiatives import Initiator, initiative_of_referendum
from referendum_core.observers import (
    Nomination,
    reject_accreditation,
    request_accreditation,
    rights_window,
    station_rows,
    stations_without_observers,
)
from referendum_core.observers.accreditation import requests_by, requests_of
from referendum_core.organisation import Municipality, PollingStation
from referendum_core.voting.models import Referendum

bp = Blueprint("observers", __name__, url_prefix="/observers")
bp.context_processor(template_helpers)
bp.context_processor(observer_helpers)


def _stations(referendum: Referendum) -> list[PollingStation]:
    return list(db().scalars(select(PollingStation).where(
        PollingStation.municipality_id == referendum.municipality_id)
        .order_by(PollingStation.number)))


def _station_choices(form: Any, referendum: Referendum) -> None:
    form.station_id.choices = [(s.id, f"{s.number}. {s.name}") for s in _stations(referendum)]


def _lifetime() -> timedelta:
    return timedelta(hours=current_app.config["INVITATION_LIFETIME_HOURS"])


def _send(invitations: list[services.Invitation]) -> None:
    """E-mail each invitation once the transaction commits (the link works once)."""
    from portal.accounts.tasks import invitation_link, send_invitation

    for invitation in invitations:
        on_commit(lambda i=invitation: send_invitation.delay(i.invitation_id, i.token))
        if current_app.config["OTP_SHOW_CODE_ON_SCREEN"]:
            # The demo shows what a real deployment only sends by e-mail.
            flash(gettext("Demo: the invitation link for %(email)s is %(link)s",
                          email=invitation.email, link=invitation_link(invitation.token)),
                  "info")


def _refusal_shows(render: Callable[[], str]) -> None:
    """A refusal flashes its sentence above the page ``render`` shows again."""
    def page(message: str, status: int) -> Any:
        flash(message, "error")
        return render(), status

    on_refusal(page)


def _on_behalf_of_council(referendum: Referendum) -> bool:
    """The commission enters the observers of a council's referendum (the council has no
    account of its own); residents who applied name theirs themselves."""
    initiative = initiative_of_referendum(db(), referendum.case_id)
    return (initiative is not None and initiative.initiator == Initiator.COUNCIL
            and has_permission(current_user, Permission.ACCREDIT_OBSERVERS,
                               scope_of(referendum)))


@bp.route("/referendums/<int:referendum_id>/nominate", methods=["GET", "POST"])
@login_required
def nominate(referendum_id: int) -> Any:
    """The initiators name an observer for a polling station (at most two per station)."""
    referendum = access_referendum(db(), current_user, referendum_id,
                                   Permission.REQUEST_OBSERVER_ACCREDITATION)
    form = NominationForm()
    _station_choices(form, referendum)

    def render() -> str:
        return render_template("observers/nominate.html", referendum=referendum, form=form,
                               rows=requests_by(db(), referendum, current_user.id),
                               window=rights_window(referendum))

    if form.validate_on_submit():
        _refusal_shows(render)
        case = request_accreditation(
            db(), clock(), current_user, referendum,
            [Nomination(form.station_id.data, form.full_name.data, form.email.data)],
            on_behalf_of_council=_on_behalf_of_council(referendum), calendar=calendar(),
            context=audit_context())
        flash(gettext("Request %(reference)s is sent to the election commission.",
                      reference=case.reference), "success")
        return redirect(url_for(".nominate", referendum_id=referendum.id))
    return render(), 422 if form.is_submitted() else 200


@bp.route("/referendums/<int:referendum_id>/accreditations", methods=["GET", "POST"])
@login_required
def accreditations(referendum_id: int) -> Any:
    """The commission's list of requests and accredited observers, the stations without an
    observer, and the form to record a member or a journalist."""
    referendum = access_referendum(db(), current_user, referendum_id,
                                   Permission.ACCREDIT_OBSERVERS)
    form = RecordForm()
    _station_choices(form, referendum)

    def render() -> str:
        return render_template(
            "observers/accreditations.html", referendum=referendum, form=form,
            decision=DecisionForm(), rows=requests_of(db(), referendum),
            uncovered=stations_without_observers(db(), referendum.id,
                                                 referendum.municipality_id),
            window=rights_window(referendum), for_council=_on_behalf_of_council(referendum))

    if form.validate_on_submit():
        parties = _official_parties(referendum)
        _refusal_shows(render)
        case, invitations = services.record(
            db(), clock(), keys(), current_user, referendum, form.kind.data,
            [Nomination(form.station_id.data, form.full_name.data, form.email.data,
                        form.organisation.data or "")],
            parties=parties, lifetime=_lifetime(), calendar=calendar(),
            context=audit_context())
        _send(invitations)
        flash(gettext("Observer accredited (%(reference)s).", reference=case.reference),
              "success")
        return redirect(url_for(".accreditations", referendum_id=referendum.id))
    return render(), 422 if form.is_submitted() else 200


def _official_parties(referendum: Referendum) -> set[Party]:
    parties = set()
    scope = scope_of(referendum)
    if has_permission(current_user, Permission.HANDLE_COMMISSION_CASES, scope):
        parties.add(Party.COMMISSION)
    if has_permission(current_user, Permission.HANDLE_CVK_CASES, scope):
        parties.add(Party.CVK)
    return parties


@bp.post("/referendums/<int:referendum_id>/accreditations/<int:case_id>/"
         "<any(accredit, refuse):action>")
@login_required
def decide(referendum_id: int, case_id: int, action: str) -> Any:
    """The municipality's commission accredits the observers of a request (invitations go
    out), or refuses it with a reason."""
    referendum, case = access_accreditation(db(), current_user, case_id,
                                            Permission.DECIDE_OBSERVER_ACCREDITATION,
                                            referendum_id=referendum_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for(".accreditations", referendum_id=referendum.id)
    on_refusal(flash_and_redirect(back, 302))
    if action == "accredit":
        invitations = services.accredit(db(), clock(), keys(), current_user, case,
                                        lifetime=_lifetime(), calendar=calendar(),
                                        context=audit_context())
        _send(invitations)
        done = gettext("Observers accredited; each new observer gets a single-use "
                       "invitation link by e-mail.")
    else:
        reject_accreditation(db(), clock(), current_user, case, form.note.data or "",
                             parties=parties_for(current_user, case),
                             expected_version=case.version, calendar=calendar(),
                             context=audit_context())
        done = gettext("Request refused.")
    flash(done, "success")
    return redirect(back)


@bp.route("/referendums/<int:referendum_id>/observers/<int:accreditation_id>/revoke",
          methods=["GET", "POST"])
@login_required
def revoke(referendum_id: int, accreditation_id: int) -> Any:
    """The municipality's commission (or CVK) revokes an accredited observer's accreditation,
    after a page that names what follows: the observer stops observing the station at once,
    their time-limited observer role ends, an unused invitation stops working, and they are
    told by e-mail."""
    referendum, row = access_accredited_observer(db(), current_user, accreditation_id,
                                                 Permission.ACCREDIT_OBSERVERS,
                                                 referendum_id=referendum_id)
    form = RevokeForm()
    back = url_for(".accreditations", referendum_id=referendum.id)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("observers/revoke.html", referendum=referendum, row=row,
                               form=form, back=back), status
    on_refusal(flash_and_redirect(back, 302))
    services.revoke(db(), clock(), current_user, row, context=audit_context())
    from portal.observers.tasks import send_revocation_notice

    on_commit(lambda i=row.id: send_revocation_notice.delay(i))
    flash(gettext("The accreditation of %(name)s at polling station No. %(station)s is revoked; "
                  "they have been told.", name=row.full_name,
                  station=row.polling_station.number), "success")
    return redirect(back)


def _table_rows() -> tuple[list[Any], set[int] | None, int | None, bool]:
    allowed = station_table_scope(current_user)
    municipality_id = request.args.get("municipality_id", type=int)
    without = request.args.get("without_observers") == "1"
    if municipality_id is not None:
        if allowed is not None and municipality_id not in allowed:
            abort(404)
        wanted: set[int] | None = {municipality_id}
    else:
        wanted = allowed
    rows = station_rows(db(), municipality_ids=wanted, without_observers=without,
                        at=clock().now())
    return rows, allowed, municipality_id, without


@bp.get("/stations")
@login_required
def stations() -> Any:
    """The polling-station table (CVK: every municipality; a commission: its own)."""
    rows, allowed, municipality_id, without = _table_rows()
    stmt = select(Municipality)
    if allowed is not None:
        stmt = stmt.where(Municipality.id.in_(sorted(allowed)))
    return render_template(
        "observers/stations.html", rows=rows, cells=station_table.table(db(), rows),
        headings=station_table.headings(),
        municipalities=sorted(db().scalars(stmt), key=lambda m: latvian_key(m.name)),
        municipality_id=municipality_id, without=without)


@bp.get("/stations.csv")
@login_required
def stations_csv() -> Any:
    """The polling-station table as CSV, with a stable field order."""
    rows, _allowed, _municipality_id, _without = _table_rows()
    audit.record(db(), clock(), current_user, "observers.stations_exported",
                 object_type="PollingStation", context=audit_context(),
                 query=request.query_string.decode()[:500], rows=len(rows))
    commit()
    stamp = to_riga(clock().now()).strftime("%Y%m%d-%H%M")
    return Response(stream_with_context(station_table.csv_lines(db(), rows)),
                    mimetype="text/csv", headers={
                        "Content-Disposition": f'attachment; filename="stations-{stamp}.csv"'})
