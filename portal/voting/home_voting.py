"""Home voting (Art. 19) on the web: the voter's written request, and the commission's page to
enter a request on a voter's behalf, accept or refuse requests and record the visit (which
marks the voter in the ETVR). Each request is a case, so it also appears in the case queues.

A nested blueprint of ``voting`` (registered there), so its endpoints are
``voting.home_voting.*`` and its URLs live under ``/voting/<id>/home-voting``.
"""
from __future__ import annotations

from datetime import time
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from portal.cases.access import parties_for
from portal.cases.labels import template_helpers
from portal.permissions import Permission
from portal.refusals import flash_and_redirect, on_refusal
from portal.voting import services
from portal.voting.access import access_referendum, stations
from portal.voting.forms import HomeVotingDecisionForm, HomeVotingEntryForm, HomeVotingForm
from portal.web import audit_context, calendar, clock, db, keys
from referendum_core.cases.models import Case
from referendum_core.personal_code import InvalidPersonalCode
from referendum_core.register import person_names
from referendum_core.voting import decide_home_voting, request_home_voting
from referendum_core.voting.home_voting import request_for_person, request_of, requests_of
from referendum_core.voting.models import Referendum
from referendum_core.voting.rules import home_voting_cutoff

bp = Blueprint("home_voting", __name__)
bp.context_processor(template_helpers)


def cutoff_time() -> time:
    """The configured cut-off for requests (open rule, default 12:00)."""
    return time.fromisoformat(current_app.config.get("HOME_VOTING_CUTOFF") or "12:00")


def _flashed(page: Any) -> Any:
    """An ``on_refusal`` page: ``page(status)`` shown again with the sentence flashed."""

    def refused(message: str, status: int) -> Any:
        flash(message, "error")
        return page(status)

    return refused


def _station_choices(form: Any, referendum: Referendum) -> None:
    form.station_id.choices = [(s.id, f"{s.number}. {s.name}") for s in stations(referendum)]


def _file(referendum: Referendum, form: Any, person_ref: str, *, on_behalf: bool) -> Case:
    station = next((s for s in stations(referendum) if s.id == form.station_id.data), None)
    if station is None:
        abort(404)
    return request_home_voting(
        db(), clock(), current_user, referendum, station, person_ref=person_ref,
        address=form.address.data, reason=form.reason.data, entered_by_commission=on_behalf,
        cutoff=cutoff_time(), calendar=calendar(), context=audit_context())


@bp.route("/<int:referendum_id>/home-voting", methods=["GET", "POST"])
@login_required
def request_form(referendum_id: int) -> Any:
    """The voter asks in writing for the commission to bring the ballot home (Art. 19)."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.VOTE)
    form = HomeVotingForm()
    _station_choices(form, referendum)

    def page(status: int) -> Any:
        existing = request_for_person(db(), referendum, current_user.person_ref)
        return render_template(
            "voting/home_voting.html", referendum=referendum, form=form, existing=existing,
            cutoff_at=home_voting_cutoff(referendum.referendum_day, cutoff_time())), status

    if form.validate_on_submit():
        on_refusal(_flashed(page), status=422)
        case = _file(referendum, form, current_user.person_ref, on_behalf=False)
        flash(gettext("Your request %(reference)s is sent to the election commission.",
                      reference=case.reference), "success")
        return redirect(url_for(".request_form", referendum_id=referendum.id))
    return page(422 if form.is_submitted() else 200)


def _case_of(referendum: Referendum, case_id: int) -> Case:
    case = db().get(Case, case_id)
    details = request_of(db(), case) if case is not None else None
    if case is None or details is None or details.referendum_id != referendum.id:
        abort(404)
    return case


@bp.route("/<int:referendum_id>/home-voting/requests", methods=["GET", "POST"])
@login_required
def requests(referendum_id: int) -> Any:
    """The commission's list of home-voting requests, and the form to enter one on a voter's
    behalf (with the voter's address and reason)."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.MARK_VOTED)
    form = HomeVotingEntryForm()
    _station_choices(form, referendum)

    def page(status: int) -> Any:
        # The commission visits the voter (Art. 19): it sees the name of each requester of its
        # own referendum (the page is refused to everyone else).
        rows = requests_of(db(), referendum)
        return render_template(
            "voting/home_requests.html", referendum=referendum, form=form, rows=rows,
            names=person_names(db(), [details.person_ref for _case, details in rows]),
            cutoff_at=home_voting_cutoff(referendum.referendum_day, cutoff_time())), status

    if form.validate_on_submit():
        code = form.personal_code.data
        form.personal_code.data = ""  # never echo the code back into the page
        on_refusal(_flashed(page), status=422)
        try:
            ref = keys().personal_codes.lookup_hash(code)
        except InvalidPersonalCode:
            form.personal_code.errors = [gettext("The personal code is not valid.")]
            return page(422)
        case = _file(referendum, form, ref, on_behalf=True)
        flash(gettext("Request %(reference)s entered.", reference=case.reference), "success")
        return redirect(url_for(".requests", referendum_id=referendum.id))
    return page(422 if form.is_submitted() else 200)


@bp.post("/<int:referendum_id>/home-voting/<int:case_id>/<any(accept, refuse, visit):action>")
@login_required
def decide(referendum_id: int, case_id: int, action: str) -> Any:
    """Accept or refuse a request, or record that the ballot was taken to the voter."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.MARK_VOTED)
    case = _case_of(referendum, case_id)
    form = HomeVotingDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    requests_url = url_for(".requests", referendum_id=referendum.id)
    on_refusal(flash_and_redirect(requests_url, 302))
    if action == "visit":
        outcome = services.record_home_vote(db(), clock(), calendar(), current_user,
                                            referendum, case, context=audit_context())
        done = gettext("Marked as voted in the voter register. Issue the ballot.")
        if outcome.by_envelope:
            done = gettext("Recorded on a registration envelope; it will be checked "
                           "against the voter register.")
    else:
        decide_home_voting(db(), clock(), current_user, case, accept=action == "accept",
                           note=form.note.data or "", parties=parties_for(current_user, case),
                           calendar=calendar(), context=audit_context())
        done = (gettext("Request accepted.") if action == "accept"
                else gettext("Request refused."))
    flash(done, "success")
    return redirect(requests_url)
