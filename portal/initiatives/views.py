"""Initiative pages: list, submit, the public page (live count, days left), sign online,
decide, register in-person signatures, run the commission's check, and the public signature
board (page with a receipt lookup, JSON download)."""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.extensions import csrf, limiter
from portal.initiatives import services, voter_work, work  # noqa: F401 - registers providers
from portal.initiatives.access import access_initiative, scope_of
from portal.initiatives.forms import (
    DecideForm,
    EmptyForm,
    InPersonSignatureForm,
    SubmitInitiativeForm,
)
from portal.initiatives.lean_sign import SIGN_ENDPOINT, signed_body, signed_message
from portal.initiatives.sign_token import SIGN_TOKEN_HEADER, page_sign_token, read_sign_token
from portal.page_token import carries_page_token, page_token_or_csrf
from portal.permissions import Permission, has_permission, require
from portal.refusals import flash_and_redirect, on_refusal
from portal.web import audit_context, calendar, clock, db, keys, signed_in_with
from referendum_core.check_decision import decision_of
from referendum_core.collation import latvian_key
from referendum_core.crypto.signature_board import board_log_name
from referendum_core.initiatives import (
    Initiative,
    public_initiatives,
    publication_day_if_decided,
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
from referendum_core.signature_withdrawal import withdraw_signature
from referendum_core.signatures import (
    count_signatures,
    register_in_person,
    sign_online,
    signatures_of,
)
from referendum_core.voting.models import Referendum

bp = Blueprint("initiatives", __name__, url_prefix="/initiatives")

#: a signer's withdrawals (all initiatives together)
WITHDRAWALS_LIMIT = "3 per hour; 10 per day"


def _sign_token_or_csrf() -> None:
    """The signature's CSRF check: a valid signing token stands for the CSRF token
    (``portal.page_token.page_token_or_csrf``) and marks the request as the page's script
    (answered in JSON); without one, the form's CSRF token."""
    if request.endpoint == SIGN_ENDPOINT and request.method == "POST":
        grant = page_token_or_csrf(read_sign_token, SIGN_TOKEN_HEADER, "initiative_id")
        if grant is not None:
            g.sign_grant = grant


@bp.record_once
def _set_up(state: Any) -> None:
    # An app-wide hook, so that it runs where Flask-WTF's own check would: before the session
    # expiry hook (registered later by the factory).
    state.app.before_request(_sign_token_or_csrf)


def tag_key() -> bytes:
    """The key of the board's person tags: derived from the data key, never leaves the portal."""
    return keys().derived_key(TAG_KEY_PURPOSE)


def board_public_key(initiative_id: int) -> str:
    from portal.checkpoints import signer

    return signer(board_log_name(initiative_id)).public_key


def _day(value: object) -> str:
    return value.strftime("%d.%m.%Y") if hasattr(value, "strftime") else "-"


def _flashed(page: Any) -> Any:
    """An ``on_refusal`` page: ``page()`` shown again with the sentence flashed."""

    def refused(message: str, status: int) -> Any:
        flash(message, "error")
        return page(), status

    return refused


def _refusal_back_to(initiative: Initiative) -> None:
    """A refusal flashes its sentence on the initiative's page."""
    on_refusal(flash_and_redirect(url_for("initiatives.show", initiative_id=initiative.id)))


@bp.route("/")
def index() -> Any:
    """Published initiatives; for officials also those awaiting the municipality's decision
    (Art. 10(4)) in the municipalities whose cases they see, marked where they decide."""
    awaiting = work.awaiting_decision(db(), current_user)
    deciding = {i.id for i in awaiting if has_permission(
        current_user, Permission.DECIDE_INITIATIVE, scope_of(i))}
    return render_template("initiatives/index.html", initiatives=public_initiatives(db()),
                           awaiting=awaiting, deciding=deciding, now=clock().now())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    require(Permission.SUBMIT_INITIATIVE)
    form = SubmitInitiativeForm()
    form.municipality_id.choices = [(m.id, m.name) for m in sorted(
        db().scalars(select(Municipality)), key=lambda m: latvian_key(m.name))]
    if form.validate_on_submit():
        muni = db().get(Municipality, form.municipality_id.data)
        on_refusal(_flashed(lambda: render_template("initiatives/new.html", form=form)))
        initiative = submit_initiative(
            db(), clock(), calendar(), current_user, municipality=muni,
            subject=form.subject.data, question=form.question.data,
            reasons=form.reasons.data, person_ref=current_user.person_ref,
            basis_date=form.basis_date.data, context=audit_context())
        flash(gettext("Your initiative was submitted. The municipality decides within 15 days "
                      "after the start window ends."), "success")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id))
    return render_template("initiatives/new.html", form=form)


@bp.route("/<int:initiative_id>")
def show(initiative_id: int) -> Any:
    initiative = access_initiative(db(), current_user, initiative_id, None)
    scope = scope_of(initiative)
    own = []
    if current_user.is_authenticated and current_user.person_ref:
        own = signatures_of(db(), initiative, current_user.person_ref)
    # Once the retention period has passed the signatures are deleted (portal.retention); the
    # count recorded when the collection closed stays.
    count = max(count_signatures(db(), initiative), initiative.signatures_at_close or 0)
    now = clock().now()
    # The script signs with this token (``portal.initiatives.sign_token``), its CSRF token too.
    sign_token = page_sign_token(current_app, current_user, session, initiative.id) if (
        not own and current_user.is_authenticated and current_user.person_ref
        and initiative.is_collecting(now)) else None
    return render_template(
        "initiatives/show.html", initiative=initiative, now=now, sign_token=sign_token,
        count=count, own=own, empty=EmptyForm(), board=board_count(db(), initiative.id),
        min_batch=current_app.config["SIGNATURE_BOARD_MIN_BATCH"],
        receipt=receipt_of(db(), own[0].id) if own else None,
        decide_form=DecideForm(question=initiative.question, version=initiative.case.version)
        if has_permission(current_user, Permission.DECIDE_INITIATIVE, scope) else None,
        person_form=InPersonSignatureForm()
        if has_permission(current_user, Permission.REGISTER_SIGNATURES, scope) else None,
        can_check=has_permission(current_user, Permission.DECIDE_INITIATIVE, scope),
        referendum_id=_referendum_id(initiative),
        has_decision=decision_of(db(), initiative.id) is not None,
        publication_day=publication_day_if_decided(calendar(), now))


def _referendum_id(initiative: Any) -> int | None:
    """The set-up referendum of the initiative, if any (its initiators name observers there)."""
    if initiative.referendum_case_id is None:
        return None
    return db().scalars(select(Referendum.id).where(
        Referendum.case_id == initiative.referendum_case_id)).first()


@bp.route("/<int:initiative_id>/sign", methods=["POST"])
@login_required
def sign(initiative_id: int) -> Any:
    """Sign online: the form's post (CSRF token; a flash and a redirect) or the page script's
    (signing token; JSON, refusals too, ``portal.refusals``). The script's signature is
    usually taken in front of Flask (``portal.initiatives.lean_sign``), with the same service.
    A request carrying a page token is the script's, answered in JSON both ways
    (``carries_page_token``, as ``portal.refusals.wants_json`` decides)."""
    initiative = access_initiative(db(), current_user, initiative_id,
                                   Permission.SIGN_INITIATIVE)
    scripted = carries_page_token(request.headers)
    if not (g.get("sign_grant") is not None or EmptyForm().validate_on_submit()):
        abort(400)
    _refusal_back_to(initiative)
    sign_online(db(), clock(), current_user, initiative, current_user.person_ref,
                tag_key=tag_key(), context=audit_context(), authentication=signed_in_with())
    page = url_for("initiatives.show", initiative_id=initiative.id)
    flash(signed_message(), "success")
    if scripted:
        return jsonify(signed_body(page)), 201
    return redirect(page)


csrf.exempt(sign)  # checked by ``_sign_token_or_csrf`` instead


def _signer_key() -> str:
    """A signer's own limit, wherever they sign in from."""
    return f"person:{current_user.get_id()}"


@bp.route("/<int:initiative_id>/withdraw", methods=["POST"])
@login_required
@limiter.limit(WITHDRAWALS_LIMIT, key_func=_signer_key)
def withdraw(initiative_id: int) -> Any:
    """The signer takes back their online signature while signing is open. Each withdrawal and
    signing again adds two entries to the public board for good, so a signer's withdrawals
    are limited (``WITHDRAWALS_LIMIT``): changing one's mind is allowed, a loop is not."""
    initiative = access_initiative(db(), current_user, initiative_id,
                                   Permission.SIGN_INITIATIVE)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _refusal_back_to(initiative)
    receipt = withdraw_signature(db(), clock(), current_user, initiative,
                                 current_user.person_ref, context=audit_context())
    flash(gettext("Your signature is withdrawn. The public signature board will list receipt "
                  "%(receipt)s as withdrawn.", receipt=receipt), "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/decide", methods=["POST"])
@login_required
def decide(initiative_id: int) -> Any:
    initiative = access_initiative(db(), current_user, initiative_id,
                                   Permission.DECIDE_INITIATIVE)
    form = DecideForm()
    if not form.validate_on_submit():
        if set(form.errors) != {"decision"}:
            abort(400)
        flash(gettext("Choose the decision: whether the referendum can be held or not."),
              "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id,
                                _anchor="decide")), 303
    _refusal_back_to(initiative)
    services.decide(db(), clock(), calendar(), current_user, initiative,
                    can=form.decision.data == "can", question=form.question.data,
                    note=form.note.data or "",
                    expected_version=int(form.version.data) if form.version.data else None,
                    context=audit_context())
    flash(gettext("The decision is recorded and the applicants are told."), "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/signatures", methods=["POST"])
@login_required
def register_signature(initiative_id: int) -> Any:
    initiative = access_initiative(db(), current_user, initiative_id,
                                   Permission.REGISTER_SIGNATURES)
    form = InPersonSignatureForm()
    if not form.validate_on_submit():
        flash(gettext("Check the form: every field is needed."), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    try:
        ref = keys().personal_codes.lookup_hash(form.personal_code.data)
    except InvalidPersonalCode:
        flash(gettext("The personal code is not valid."), "error")
        return redirect(url_for("initiatives.show", initiative_id=initiative.id)), 303
    _refusal_back_to(initiative)
    signature = register_in_person(db(), clock(), current_user, initiative, ref,
                                   certifier_type=form.certifier_type.data,
                                   certifier_name=form.certifier_name.data,
                                   signed_on=form.signed_on.data, tag_key=tag_key(),
                                   context=audit_context())
    # The official hands the receipt to the signer, who can look it up on the board.
    flash(gettext("The in-person signature is registered. The signer's receipt for the public "
                  "signature board: %(receipt)s", receipt=receipt_of(db(), signature.id)),
          "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/apply", methods=["POST"])
@login_required
def apply(initiative_id: int) -> Any:
    """Art. 11(2): the organiser applies (or the commission records a paper application)."""
    initiative = access_initiative(db(), current_user, initiative_id, None)
    if not EmptyForm().validate_on_submit():
        abort(400)
    is_organiser = current_user.id == initiative.applicant_id
    for_organiser = not is_organiser and has_permission(
        current_user, Permission.DECIDE_INITIATIVE, scope_of(initiative))
    if not (is_organiser or for_organiser):
        abort(403)
    _refusal_back_to(initiative)
    services.apply(db(), clock(), calendar(), current_user, initiative,
                   for_organiser=for_organiser, context=audit_context())
    flash(gettext("The application is recorded; the commission checks the signatures."),
          "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/check", methods=["POST"])
@login_required
def check(initiative_id: int) -> Any:
    initiative = access_initiative(db(), current_user, initiative_id,
                                   Permission.DECIDE_INITIATIVE)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _refusal_back_to(initiative)
    services.start_signature_check(initiative)
    flash(gettext("The signature check has started."), "success")
    return redirect(url_for("initiatives.show", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/board")
def board(initiative_id: int) -> Any:
    """The public signature board: the count beside the threshold, a receipt lookup, the
    latest entries and the JSON download."""
    initiative = access_initiative(db(), current_user, initiative_id, None)
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
                           min_batch=current_app.config["SIGNATURE_BOARD_MIN_BATCH"],
                           latest=latest_entries(db(), initiative.id),
                           receipt=receipt, status=status, bad_receipt=bad_receipt)


@bp.route("/<int:initiative_id>/board.json")
def board_json(initiative_id: int) -> Any:
    """The board as ``docs/spec/signature-board.md`` specifies it, for independent checks."""
    initiative = access_initiative(db(), current_user, initiative_id, None)
    response = jsonify(board_document(db(), initiative.id, initiative.signatures_needed,
                                      board_public_key(initiative.id)))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="signature-board-{initiative.id}.json"')
    return response


@bp.route("/<int:initiative_id>/check-decision.pdf")
def decision_pdf(initiative_id: int) -> Any:
    """The commission's decision after the check (Art. 13), signed with PAdES."""
    decision = decision_of(db(), access_initiative(db(), current_user, initiative_id, None).id)
    if decision is None:
        abort(404)
    return Response(decision.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="check-decision-{initiative_id}.pdf"'})


@bp.route("/<int:initiative_id>/check-decision.pdf.asc")
def decision_signature(initiative_id: int) -> Any:
    """The portal's detached OpenPGP signature of the decision PDF."""
    decision = decision_of(db(), access_initiative(db(), current_user, initiative_id, None).id)
    if decision is None:
        abort(404)
    return Response(decision.pgp_signature, mimetype="application/pgp-signature")


@bp.route("/<int:initiative_id>/board/count.json")
def board_count_json(initiative_id: int) -> Any:
    """The board's count beside the threshold, for the pages' poll and their fetch after a
    push. Published entries only: how many wait is not said, since that number moving while
    a watched person signs would tell that they signed."""
    initiative = access_initiative(db(), current_user, initiative_id, None)
    board, needed = board_count(db(), initiative.id), initiative.signatures_needed
    return jsonify({
        "count": board.count, "signatures": board.signatures, "exclusions": board.exclusions,
        "threshold": needed,
        "count_text": gettext("%(count)s of %(needed)s signatures needed", count=board.count,
                              needed=needed) if needed
        else gettext("Signatures on the board: %(count)s", count=board.count),
        "summary_text": gettext("On the public signature board: %(count)s of %(needed)s "
                                "needed.", count=board.count, needed=needed)})
