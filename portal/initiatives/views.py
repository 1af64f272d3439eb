"""Initiative pages: list, submit, the public page (live count, days left), sign online,
decide, register in-person signatures, run the commission's check, and the public signature
board (page with a receipt lookup, JSON download)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.database import commit, on_commit
from portal.initiatives import services
from portal.initiatives.forms import (
    DecideForm,
    EmptyForm,
    InPersonSignatureForm,
    SubmitInitiativeForm,
)
from portal.permissions import Permission, Scope, has_permission, require
from portal.web import audit_context, calendar, clock, db, keys
from referendum_core.crypto.signature_board import board_log_name
from referendum_core.initiatives import (
    Initiative,
    InitiativeError,
    WrongState,
    get_initiative,
    public_initiatives,
    submit_initiative,
)
from referendum_core.organisation import Municipality
from referendum_core.personal_code import InvalidPersonalCode
from referendum_core.signature_board import (
    TAG_KEY_PURPOSE,
    board_count,
    board_document,
    head_of,
    latest_entries,
    receipt_of,
    receipt_status,
)
from referendum_core.signatures import (
    SignatureError,
    count_signatures,
    register_in_person,
    sign_online,
    signatures_of,
)
from referendum_core.voting.models import Referendum

bp = Blueprint("initiatives", __name__, url_prefix="/initiatives")


def tag_key() -> bytes:
    """The key of the board's person tags: derived from the data key, never leaves the portal."""
    return keys().derived_key(TAG_KEY_PURPOSE)


def board_public_key(initiative_id: int) -> str:
    from portal.checkpoints import signer

    return signer(board_log_name(initiative_id)).public_key


def _day(value: object) -> str:
    return value.strftime("%d.%m.%Y") if hasattr(value, "strftime") else "-"


def error_text(error: Exception) -> str:
    """A translated sentence for a refused initiative or signature action."""
    code = getattr(error, "code", "")
    texts = {
        "invalid_subject": gettext("A referendum may only concern the strategy, a construction "
                                   "decision or the council's dismissal (Art. 5)."),
        "outside_start_window": gettext("The initiative is outside the time allowed to start "
                                        "it (Art. 6)."),
        "dismissal_outside_term": gettext("A dismissal cannot be started in the council's first "
                                          "or last year (Art. 6)."),
        "applicant_not_eligible": gettext("Only a voter of this municipality may apply "
                                          "(Art. 7)."),
        "council_majority_missing": gettext("The council needs at least two thirds of all "
                                            "councillors (Art. 8(2))."),
        "council_own_dismissal": gettext("The council cannot initiate its own dismissal."),
        "council_decision_missing": gettext("The council's decision needs its date (not in "
                                            "the future) and number (Art. 8(2))."),
        "missing_text": gettext("Fill in the question and the reasons."),
        "missing_base_figure": gettext("The municipality's figures from the last council "
                                       "elections are missing; ask CVK to record them."),
        "wrong_state": gettext("This step is not possible at this stage."),
        "dismissal_repeat_too_soon": gettext("A dismissal referendum in this municipality did "
                                             "not pass less than a year ago; a new one may be "
                                             "started from %(day)s (Art. 23).",
                                             day=_day(getattr(error, "params", {}).get("until"))),
        "application_late": gettext("The application to the election commission is late: it "
                                    "was due within 3 working days after the organiser was "
                                    "told the count (Art. 11(2))."),
        "not_the_organiser": gettext("Only the organiser of the initiative applies to the "
                                     "election commission (Art. 11(2))."),
        "collection_closed": gettext("Signatures are not being collected now (Art. 10(8))."),
        "not_eligible": gettext("This person is not a voter of the municipality (Art. 7)."),
        "already_signed": gettext("This person has already signed this initiative; a person "
                                  "signs once and in one way only."),
        "invalid_certifier": gettext("Choose who certified the signature and give their name "
                                     "(Art. 4(1))."),
    }
    return texts.get(code, gettext("The action was refused."))


def access_initiative(initiative_id: int) -> Initiative:
    """The initiative, if the public may see it or the user works on its municipality."""
    initiative = get_initiative(db(), initiative_id)
    if initiative is None:
        abort(404)
    if initiative.decision != "can" and not (
            has_permission(current_user, Permission.VIEW_CASES,
                           Scope(initiative.municipality_id, initiative.case_id))
            or (current_user.is_authenticated and initiative.applicant_id == current_user.id)):
        abort(404)
    return initiative


@bp.route("/")
def index() -> Any:
    return render_template("initiatives/index.html", initiatives=public_initiatives(db()),
                           now=clock().now())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    require(Permission.SUBMIT_INITIATIVE)
    form = SubmitInitiativeForm()
    form.municipality_id.choices = [(m.id, m.name) for m in db().scalars(
        select(Municipality).order_by(Municipality.name))]
    if form.validate_on_submit():
        muni = db().get(Municipality, form.municipality_id.data)
        try:
            initiative = submit_initiative(
                db(), clock(), calendar(), current_user, municipality=muni,
                subject=form.subject.data, question=form.question.data,
                reasons=form.reasons.data, person_ref=current_user.person_ref,
                basis_date=form.basis_date.data, context=audit_context())
        except InitiativeError as err:
            commit()  # keep the audit entry of the refusal
            flash(error_text(err), "error")
            return render_template("initiatives/new.html", form=form), 422
        flash(gettext("Your initiative was submitted. The municipality decides within 15 days "
                      "after the start window ends."), "success")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id))
    return render_template("initiatives/new.html", form=form)


@bp.route("/<int:initiative_id>")
def show(initiative_id: int) -> Any:
    initiative = access_initiative(initiative_id)
    scope = Scope(initiative.municipality_id, initiative.case_id)
    own = []
    if current_user.is_authenticated and current_user.person_ref:
        own = signatures_of(db(), initiative, current_user.person_ref)
    # Once the retention period has passed the signatures are deleted (portal.retention); the
    # count recorded when the collection closed stays.
    count = max(count_signatures(db(), initiative), initiative.signatures_at_close or 0)
    return render_template(
        "initiatives/show.html", initiative=initiative, now=clock().now(),
        count=count, own=own, empty=EmptyForm(), board=board_count(db(), initiative.id),
        receipt=receipt_of(db(), own[0].id) if own else None,
        decide_form=DecideForm(question=initiative.question, version=initiative.case.version)
        if has_permission(current_user, Permission.DECIDE_INITIATIVE, scope) else None,
        person_form=InPersonSignatureForm()
        if has_permission(current_user, Permission.REGISTER_SIGNATURES, scope) else None,
        can_check=has_permission(current_user, Permission.DECIDE_INITIATIVE, scope),
        referendum_id=_referendum_id(initiative))


def _referendum_id(initiative: Any) -> int | None:
    """The set-up referendum of the initiative, if any (its initiators name observers there)."""
    if initiative.referendum_case_id is None:
        return None
    return db().scalars(select(Referendum.id).where(
        Referendum.case_id == initiative.referendum_case_id)).first()


@bp.route("/<int:initiative_id>/sign", methods=["POST"])
@login_required
def sign(initiative_id: int) -> Any:
    initiative = access_initiative(initiative_id)
    require(Permission.SIGN_INITIATIVE)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        sign_online(db(), clock(), current_user, initiative, current_user.person_ref,
                    tag_key=tag_key(), context=audit_context())
    except SignatureError as err:
        commit()
        flash(error_text(err), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    flash(gettext("Thank you. Your signature is recorded."), "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/decide", methods=["POST"])
@login_required
def decide(initiative_id: int) -> Any:
    initiative = access_initiative(initiative_id)
    require(Permission.DECIDE_INITIATIVE, Scope(initiative.municipality_id, initiative.case_id))
    form = DecideForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide(db(), clock(), calendar(), current_user, initiative,
                        can=form.decision.data == "can", question=form.question.data,
                        note=form.note.data or "",
                        expected_version=int(form.version.data) if form.version.data else None,
                        context=audit_context())
    except InitiativeError as err:
        flash(error_text(err), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    flash(gettext("The decision is recorded and the applicants are told."), "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/signatures", methods=["POST"])
@login_required
def register_signature(initiative_id: int) -> Any:
    initiative = access_initiative(initiative_id)
    require(Permission.REGISTER_SIGNATURES,
            Scope(initiative.municipality_id, initiative.case_id))
    form = InPersonSignatureForm()
    if not form.validate_on_submit():
        flash(gettext("Check the form: every field is needed."), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    try:
        ref = keys().personal_codes.lookup_hash(form.personal_code.data)
        signature = register_in_person(db(), clock(), current_user, initiative, ref,
                                       certifier_type=form.certifier_type.data,
                                       certifier_name=form.certifier_name.data,
                                       signed_on=form.signed_on.data, tag_key=tag_key(),
                                       context=audit_context())
    except InvalidPersonalCode:
        flash(gettext("The personal code is not valid."), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    except SignatureError as err:
        commit()
        flash(error_text(err), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    # The official hands the receipt to the signer, who can look it up on the board.
    flash(gettext("The in-person signature is registered. The signer's receipt for the public "
                  "signature board: %(receipt)s", receipt=receipt_of(db(), signature.id)),
          "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/apply", methods=["POST"])
@login_required
def apply(initiative_id: int) -> Any:
    """Art. 11(2): the organiser applies (or the commission records a paper application)."""
    initiative = access_initiative(initiative_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    is_organiser = current_user.id == initiative.applicant_id
    for_organiser = not is_organiser and has_permission(
        current_user, Permission.DECIDE_INITIATIVE,
        Scope(initiative.municipality_id, initiative.case_id))
    if not (is_organiser or for_organiser):
        abort(403)
    try:
        services.apply(db(), clock(), calendar(), current_user, initiative,
                       for_organiser=for_organiser, context=audit_context())
    except InitiativeError as err:
        flash(error_text(err), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    flash(gettext("The application is recorded; the commission checks the signatures."),
          "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/check", methods=["POST"])
@login_required
def check(initiative_id: int) -> Any:
    initiative = access_initiative(initiative_id)
    require(Permission.DECIDE_INITIATIVE, Scope(initiative.municipality_id, initiative.case_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    if initiative.case.state not in ("applied", "checking"):
        flash(error_text(WrongState()), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    from portal.initiatives.tasks import check_initiative_signatures

    on_commit(lambda: check_initiative_signatures.delay(initiative.id))
    flash(gettext("The signature check has started."), "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/board")
def board(initiative_id: int) -> Any:
    """The public signature board: the count beside the threshold, a receipt lookup, the
    latest entries and the JSON download."""
    initiative = access_initiative(initiative_id)
    receipt = (request.args.get("receipt") or "").strip().lower()
    status, bad_receipt = None, False
    if receipt:
        if len(receipt) == 64 and all(c in "0123456789abcdef" for c in receipt):
            status = receipt_status(db(), initiative.id, receipt) or ("unknown", None)
        else:
            bad_receipt = True
    seq, head = head_of(db(), initiative.id)
    return render_template("initiatives/board.html", initiative=initiative,
                           board=board_count(db(), initiative.id), seq=seq, head=head,
                           latest=latest_entries(db(), initiative.id),
                           receipt=receipt, status=status, bad_receipt=bad_receipt)


@bp.route("/<int:initiative_id>/board.json")
def board_json(initiative_id: int) -> Any:
    """The board as ``docs/spec/signature-board.md`` specifies it, for independent checks."""
    initiative = access_initiative(initiative_id)
    response = jsonify(board_document(db(), initiative.id, initiative.signatures_needed,
                                      board_public_key(initiative.id)))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="signature-board-{initiative.id}.json"')
    return response
