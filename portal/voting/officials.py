"""Officials' pages: setting a referendum up (commission), trustees' keys and partial
decryptions, the polling-station page, protocols with a second member's confirmation, closing
the polls and approving the results."""
from __future__ import annotations

import base64
from typing import Any

from cryptography.exceptions import InvalidTag
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.initiatives.services import tell_suspension
from portal.permissions import Permission, Scope, municipalities_for, require
from portal.refusals import flash_and_redirect, on_refusal
from portal.voting import services
from portal.voting.access import access_referendum, access_station, can, stations
from portal.voting.forms import (
    ActionForm,
    CaseSetupForm,
    DkgMessageForm,
    KeyForm,
    ProtocolForm,
    SetupForm,
    ShareForm,
    StationForm,
    ThresholdForm,
    TrusteesForm,
)
from portal.voting.status import (
    missing_for_approval,
    opening_awaits,
    readiness_of,
    status_line,
)
from portal.web import audit_context, calendar, clock, db, keys
from referendum_core.cases.models import Case, CaseType
from referendum_core.clock import RIGA, to_riga
from referendum_core.crypto.file_names import TrusteeFiles, attachment
from referendum_core.etvr import lookup_voter
from referendum_core.initiatives import initiative_of_referendum
from referendum_core.organisation import Municipality
from referendum_core.personal_code import InvalidPersonalCode
from referendum_core.uploads import TEXT_TYPES, check_upload
from referendum_core.voting import (
    accept_trustee_share,
    add_trustee_key,
    choose_trustees,
    confirm_protocol,
    enter_protocol,
    setup_referendum,
    trustee_choice_refusal,
)
from referendum_core.voting.key_generation import (
    add_key_generation_message,
    key_generation_progress,
    key_generation_round,
    start_key_generation,
)
from referendum_core.voting.models import PollingStationProtocol, Referendum, TrusteeShare
from referendum_core.voting.preparation import CouncilDecision, internet_commission
from referendum_core.voting.results import live_turnout, pending_envelopes, protocols_of
from referendum_core.voting.stations import has_online_ballot

bp = Blueprint("voting_admin", __name__, url_prefix="/voting")


def _refusal_shows(template: str, **ctx: Any) -> None:
    """A refusal flashes its sentence on ``template``, shown again (422)."""

    def page(message: str, status: int) -> Any:
        flash(message, "error")
        return render_template(template, **ctx), status

    on_refusal(page, status=422)


# Set-up --------------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """Set up the vote of a referendum case (``?case=ID``: subject, question and latest day
    shown from its initiative, not editable), or of a referendum the council decided itself."""
    require(Permission.MANAGE_REFERENDUM)
    case_id = request.args.get("case", type=int)
    if case_id:
        return _setup_case(case_id)
    allowed = municipalities_for(current_user, Permission.MANAGE_REFERENDUM)
    munis = select(Municipality).order_by(Municipality.name)
    cases = select(Case).where(Case.type == CaseType.REFERENDUM, Case.state == "scheduled",
                               Case.id.not_in(select(Referendum.case_id)))
    if allowed is not None:
        munis = munis.where(Municipality.id.in_(allowed or {-1}))
        cases = cases.where(Case.municipality_id.in_(allowed or {-1}))
    pending = [(c, initiative_of_referendum(db(), c.id))
               for c in db().scalars(cases.order_by(Case.id))]
    form = SetupForm()
    form.municipality_id.choices = [(m.id, m.name) for m in db().scalars(munis)]
    ctx = {"form": form, "pending": pending, "case": None, "initiative": None}
    if form.validate_on_submit():
        muni = db().get(Municipality, form.municipality_id.data)
        require(Permission.MANAGE_REFERENDUM, Scope(muni.id if muni else None))
        council = CouncilDecision(
            subject=form.subject.data, question_lv=form.question_lv.data,
            reasons=form.reasons.data, decided_on=form.council_decided_on.data,
            number=form.council_decision_number.data, votes_for=form.council_votes_for.data,
            council_size=form.council_size.data, basis_date=form.basis_date.data)
        _refusal_shows("voting/new.html", **ctx)
        referendum = setup_referendum(
            db(), clock(), calendar(), current_user, municipality=muni, council=council,
            question_en=form.question_en.data, referendum_day=form.referendum_day.data,
            context=audit_context())
        initiative = initiative_of_referendum(db(), referendum.case_id)
        if initiative is not None:  # Art. 12: the council is told its decision is suspended
            tell_suspension(db(), clock(), initiative)
        flash(gettext("The referendum is set up. Choose the trustees next."), "success")
        return redirect(url_for("voting_admin.manage", referendum_id=referendum.id))
    return render_template("voting/new.html", **ctx), 422 if form.errors else 200


def _setup_case(case_id: int) -> Any:
    case = db().get(Case, case_id)
    if case is None or case.type != CaseType.REFERENDUM:
        abort(404)
    require(Permission.MANAGE_REFERENDUM, Scope(case.municipality_id, case.id))
    initiative = initiative_of_referendum(db(), case.id)
    if initiative is None:
        abort(404)
    form = CaseSetupForm()
    ctx = {"form": form, "pending": [], "case": case, "initiative": initiative}
    if form.validate_on_submit():
        _refusal_shows("voting/new.html", **ctx)
        referendum = setup_referendum(
            db(), clock(), calendar(), current_user, case=case,
            question_en=form.question_en.data, referendum_day=form.referendum_day.data,
            context=audit_context())
        flash(gettext("The referendum is set up. Choose the trustees next."), "success")
        return redirect(url_for("voting_admin.manage", referendum_id=referendum.id))
    return render_template("voting/new.html", **ctx), 422 if form.errors else 200


def _internet_members() -> list[User]:
    commission = internet_commission(db())
    if commission is None:
        return []
    return list(db().scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.commission_id == commission.id).order_by(User.display_name).distinct()))


@bp.get("/<int:referendum_id>/manage")
@login_required
def manage(referendum_id: int) -> Any:
    """The commission's page for one referendum: stage, trustees, actions, protocols."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.MANAGE_REFERENDUM)
    trustees_form = TrusteesForm()
    trustees_form.trustees.choices = [(u.id, u.display_name) for u in _internet_members()]
    trustees_form.trustees.data = [t.user_id for t in referendum.trustees]
    users = {u.id: u for u in db().scalars(select(User).where(
        User.id.in_([t.user_id for t in referendum.trustees] or [-1])))}
    readiness = readiness_of(db(), referendum)
    now = clock().now()
    decrypted = {share.trustee_position: share.uploaded_at for share in db().scalars(
        select(TrusteeShare).where(TrusteeShare.referendum_id == referendum.id))}
    return render_template(
        "voting/manage.html", referendum=referendum, trustees_form=trustees_form,
        threshold_form=ThresholdForm(), progress=key_generation_progress(referendum),
        dkg_round=key_generation_round(referendum, now),
        action_form=ActionForm(), users=users, protocols=protocols_of(db(), referendum),
        stations=stations(referendum), turnout=live_turnout(db(), referendum),
        can_approve=can(Permission.APPROVE_RESULTS, referendum),
        status=status_line(db(), referendum, now), readiness=readiness,
        missing=missing_for_approval(readiness, referendum) if readiness else [],
        opening_awaits=opening_awaits(referendum, now), decrypted=decrypted,
        trustees_final=trustee_choice_refusal(referendum) is not None,
        pending_envelopes=pending_envelopes(db(), referendum), now=now)


@bp.post("/<int:referendum_id>/trustees")
@login_required
def trustees(referendum_id: int) -> Any:
    referendum = access_referendum(db(), current_user, referendum_id, Permission.MANAGE_REFERENDUM)
    form = TrusteesForm()
    form.trustees.choices = [(u.id, u.display_name) for u in _internet_members()]
    manage_url = url_for("voting_admin.manage", referendum_id=referendum.id)
    if not form.validate_on_submit():
        if set(form.errors) != {"trustees"}:
            abort(400)
        flash(gettext("Tick at least one member of the internet polling-station commission as "
                      "a trustee."), "error")
        return redirect(manage_url + "#trustees-heading"), 303
    chosen = [db().get(User, i) for i in form.trustees.data]
    on_refusal(flash_and_redirect(manage_url, 302))
    choose_trustees(db(), clock(), current_user, referendum, chosen, context=audit_context())
    flash(gettext("Trustees chosen. Each uploads their public key."), "success")
    return redirect(manage_url)


@bp.post("/<int:referendum_id>/threshold")
@login_required
def threshold(referendum_id: int) -> Any:
    """The chair fixes t and starts the trustees' key generation."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.MANAGE_REFERENDUM)
    form = ThresholdForm()
    if not form.validate_on_submit():
        flash(gettext("Give the threshold (a whole number from 1 to the number of trustees) "
                      "and the deadline of every round."), "error")
        return redirect(url_for("voting_admin.manage", referendum_id=referendum.id))
    manage_url = url_for("voting_admin.manage", referendum_id=referendum.id)
    deadlines = {r: getattr(form, name).data.replace(tzinfo=RIGA)
                 for r, name in form.ROUND_FIELDS.items()}
    on_refusal(flash_and_redirect(manage_url, 302))
    start_key_generation(db(), clock(), current_user, referendum, form.threshold.data,
                         deadlines, context=audit_context())
    flash(gettext("The key generation has started. Each trustee now runs its rounds."),
          "success")
    return redirect(manage_url)


@bp.get("/<int:referendum_id>/key-generation.json")
@login_required
def key_generation_transcript(referendum_id: int) -> Any:
    """The key generation's transcript so far (what ``referendum-trustee dkg`` reads)."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.ACT_AS_TRUSTEE)
    if referendum.dkg_transcript is None:
        abort(404)
    return Response(referendum.dkg_transcript, mimetype="application/json", headers={
        "Content-Disposition": attachment(TrusteeFiles(referendum.election_id).transcript)})


STAGE_ACTIONS = {
    "open": (Permission.MANAGE_REFERENDUM, _l("The vote is open; the manifest is frozen.")),
    "close": (Permission.MANAGE_REFERENDUM, _l("The polls are closed and the board is frozen.")),
    "reconcile": (Permission.MANAGE_REFERENDUM,
                  _l("Registration envelopes checked against the voter register.")),
    "approve": (Permission.APPROVE_RESULTS, _l("The results are approved and published.")),
}


@bp.post("/<int:referendum_id>/<any(open, close, reconcile, approve):action>")
@login_required
def stage_action(referendum_id: int, action: str) -> Any:
    """Open the vote, close the polls, reconcile envelopes or approve the results."""
    permission, done = STAGE_ACTIONS[action]
    referendum = access_referendum(db(), current_user, referendum_id, permission)
    if not ActionForm().validate_on_submit():
        abort(400)
    on_refusal(flash_and_redirect(
        url_for("voting_admin.manage", referendum_id=referendum.id), 302))
    if action == "open":
        services.open_voting(db(), clock(), calendar(), current_user, referendum,
                             context=audit_context())
    elif action == "close":
        services.close_polls(db(), clock(), calendar(), current_user, referendum,
                             context=audit_context())
    elif action == "reconcile":
        services.reconcile_envelopes(db(), clock(), current_user, referendum,
                                     context=audit_context())
    else:
        services.approve_results(db(), clock(), calendar(), current_user, referendum,
                                 context=audit_context())
    flash(str(done), "success")
    if action == "approve" and referendum.stage == "approved":
        return redirect(url_for("voting.results", referendum_id=referendum.id))
    return redirect(url_for("voting_admin.manage", referendum_id=referendum.id))


# Polling stations ----------------------------------------------------------------------------

@bp.route("/<int:referendum_id>/station", methods=["GET", "POST"])
@login_required
def station(referendum_id: int) -> Any:
    """A station commission member looks a voter up by personal code (POST only) and marks
    them as voted; a refusal says where and when the voter already voted."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.MARK_VOTED)
    form = StationForm()
    form.station_id.choices = [(s.id, f"{s.number}. {s.name}") for s in stations(referendum)]
    outcome: dict[str, Any] = {}
    status = 200
    if form.is_submitted() and form.action.data == "mark" and form.sealed.data:
        form.personal_code.data = _unseal(form.sealed.data)
    if form.validate_on_submit():
        chosen = access_station(db(), current_user, form.station_id.data,
                                Permission.MARK_VOTED, referendum=referendum)
        code = form.personal_code.data
        form.personal_code.data = ""  # never echo the code back into the page
        on_refusal(lambda message, refused_status: (render_template(
            "voting/station.html", referendum=referendum, form=form,
            outcome={"refused": message}), refused_status))
        try:
            if form.action.data == "mark":
                done = services.mark_in_person(db(), clock(), current_user, referendum, chosen,
                                               code, keys().personal_codes,
                                               envelope_mode=(form.envelope_mode.data or
                                                              request.args.get("envelope") == "1"),
                                               context=audit_context())
                outcome = {"marked": done}
            else:
                found = lookup_voter(db(), keys().personal_codes, code,
                                     case_id=referendum.case_id,
                                     municipality_id=referendum.municipality_id,
                                     on_day=to_riga(clock().now()).date())
                outcome = {"lookup": found, "online": has_online_ballot(
                    db(), referendum, found.person_ref), "sealed": _seal(code)}
        except InvalidPersonalCode:
            form.personal_code.errors = [gettext("The personal code is not valid.")]
            status = 422
    elif form.is_submitted():
        status = 422
    return render_template("voting/station.html", referendum=referendum, form=form,
                           outcome=outcome), status


def _seal(code: str) -> str:
    """The personal code encrypted for the station page's own "mark as voted" form."""
    return base64.urlsafe_b64encode(keys().personal_codes.encrypt(code)).decode()


def _unseal(sealed: str) -> str:
    """The personal code ``_seal`` encrypted; empty (the form then says the code is
    missing) when the text was not sealed by this portal."""
    try:
        return keys().personal_codes.decrypt(base64.urlsafe_b64decode(sealed.encode()))
    except (ValueError, InvalidTag):
        return ""


# Trustees ------------------------------------------------------------------------------------

MAX_TRUSTEE_FILE_BYTES = 300_000


def _upload_text(text: str | None, upload: Any) -> str:
    """The pasted text, or the uploaded file once it passes the upload check as UTF-8 text.

    Raises:
        UploadRejected: the file is too large, not text (an archive, an image) or empty.
    """
    if upload is not None and getattr(upload, "filename", ""):
        data = upload.read(MAX_TRUSTEE_FILE_BYTES + 1)
        check_upload(data, None, allowed=TEXT_TYPES, max_bytes=MAX_TRUSTEE_FILE_BYTES)
        return data.decode("utf-8", "replace")
    return text or ""


@bp.route("/<int:referendum_id>/trustee", methods=["GET", "POST"])
@login_required
def trustee(referendum_id: int) -> Any:
    """A trustee's page: upload the public key (before voting opens), then, after the polls
    close, download the record for ``referendum-trustee decrypt`` and upload the result."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.ACT_AS_TRUSTEE)
    mine = next((t for t in referendum.trustees if t.user_id == current_user.id), None)
    if mine is None:
        abort(403)
    key_form, share_form = KeyForm(prefix="key"), ShareForm(prefix="share")
    dkg_form = DkgMessageForm(prefix="dkg")

    def page(status: int = 200) -> Any:
        share = db().scalars(select(TrusteeShare).where(
            TrusteeShare.referendum_id == referendum.id,
            TrusteeShare.trustee_position == mine.position)).first()
        return render_template("voting/trustee.html", referendum=referendum, mine=mine,
                               key_form=key_form, share_form=share_form, share=share,
                               dkg_form=dkg_form, progress=key_generation_progress(referendum),
                               dkg_round=key_generation_round(referendum, clock().now()),
                               files=TrusteeFiles(referendum.election_id)), status

    def refused(message: str, status: int) -> Any:
        flash(message, "error")
        return page(status)

    # A refused key, share or message (or a file that fails the upload check) shows the page
    # again with the sentence.
    on_refusal(refused, status=422)
    if dkg_form.validate_on_submit() and (dkg_form.message_json.data
                                          or dkg_form.upload.data):
        add_key_generation_message(db(), clock(), current_user, referendum,
                                   _upload_text(dkg_form.message_json.data,
                                                dkg_form.upload.data),
                                   context=audit_context())
        flash(gettext("Your key-generation message is accepted."), "success")
        return redirect(url_for("voting_admin.trustee", referendum_id=referendum.id))
    if key_form.validate_on_submit() and (key_form.public_json.data
                                          or key_form.upload.data):
        add_trustee_key(db(), clock(), current_user, referendum,
                        _upload_text(key_form.public_json.data, key_form.upload.data),
                        context=audit_context())
        flash(gettext("Your public key is accepted."), "success")
        return redirect(url_for("voting_admin.trustee", referendum_id=referendum.id))
    if share_form.validate_on_submit() and (share_form.partial_json.data
                                            or share_form.upload.data):
        accept_trustee_share(db(), clock(), current_user, referendum,
                             _upload_text(share_form.partial_json.data,
                                          share_form.upload.data), context=audit_context())
        flash(gettext("Your partial decryption is accepted."), "success")
        return redirect(url_for("voting_admin.trustee", referendum_id=referendum.id))
    if any(_sent_empty(text, upload) for text, upload in (
            (dkg_form.message_json, dkg_form.upload), (key_form.public_json, key_form.upload),
            (share_form.partial_json, share_form.upload))):
        return page(422)
    return page()


def _sent_empty(text: Any, upload: Any) -> bool:
    """Whether this upload form was sent with neither pasted text nor a chosen file; if so its
    text field says what is missing (an empty submit is not answered with the same page)."""
    if request.method != "POST" or text.name not in request.form:
        return False
    if (text.data or "").strip() or getattr(upload.data, "filename", ""):
        return False
    text.errors = [*text.errors, gettext("Nothing was uploaded: paste the content of the file "
                                         "or choose the file.")]
    return True


# Protocols -----------------------------------------------------------------------------------

@bp.route("/<int:referendum_id>/protocols", methods=["GET", "POST"])
@login_required
def protocols(referendum_id: int) -> Any:
    """Station protocols: one member enters, a second confirms."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.ENTER_PROTOCOL)
    form = ProtocolForm()
    form.station_id.choices = [(s.id, f"{s.number}. {s.name}") for s in stations(referendum)]

    def page(status: int) -> Any:
        return render_template(
            "voting/protocols.html", referendum=referendum, form=form,
            protocols=protocols_of(db(), referendum), action_form=ActionForm(),
            can_confirm=can(Permission.CONFIRM_PROTOCOL, referendum)), status

    if form.validate_on_submit():
        chosen = access_station(db(), current_user, form.station_id.data,
                                Permission.ENTER_PROTOCOL, referendum=referendum)

        def refused(message: str, refused_status: int) -> Any:
            flash(message, "error")
            return page(refused_status)

        on_refusal(refused)
        enter_protocol(db(), clock(), current_user, referendum, chosen,
                       ballots_issued=form.ballots_issued.data,
                       votes_for=form.votes_for.data, votes_against=form.votes_against.data,
                       invalid=form.invalid.data, context=audit_context())
        flash(gettext("Protocol entered. A second commission member must confirm it."),
              "success")
        return redirect(url_for("voting_admin.protocols", referendum_id=referendum.id))
    return page(422 if form.is_submitted() else 200)


@bp.post("/<int:referendum_id>/protocols/<int:protocol_id>/confirm")
@login_required
def confirm(referendum_id: int, protocol_id: int) -> Any:
    referendum = access_referendum(db(), current_user, referendum_id, Permission.CONFIRM_PROTOCOL)
    protocol = db().get(PollingStationProtocol, protocol_id)
    if protocol is None or protocol.referendum_id != referendum.id or \
            not ActionForm().validate_on_submit():
        abort(404)
    protocols_url = url_for("voting_admin.protocols", referendum_id=referendum.id)
    on_refusal(flash_and_redirect(protocols_url, 302))
    confirm_protocol(db(), clock(), current_user, protocol, context=audit_context())
    flash(gettext("Protocol confirmed."), "success")
    return redirect(protocols_url)
