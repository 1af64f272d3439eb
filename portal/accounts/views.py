"""Sign-in for officials and observers (password + TOTP; accounts activated by invitation) and
voters (identity providers), sign-out."""
from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import segno
from cryptography.exceptions import InvalidTag
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import oidc, services, throttle
from portal.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    EnrolTwoFactorForm,
    LoginForm,
    TwoFactorForm,
    VoterCodeForm,
    VoterStartForm,
)
from portal.accounts.identity import otp_enabled
from portal.accounts.models import Role, User
from portal.database import commit
from portal.dates import moment_text
from portal.extensions import limiter
from portal.refusals import answering, flash_and_redirect, on_refusal
from portal.security import SESSION_ID_KEY, new_session_id, session_id_hash
from portal.web import audit_context, clock, db, keys, remember_signed_in_with, safe_next
from referendum_core.clock import wall_time
from referendum_core.personal_code import InvalidPersonalCode, normalise
from referendum_core.signatures import Authentication

bp = Blueprint("accounts", __name__)

PENDING_TTL = 300  # seconds between the password step and the second factor


def _refusal_shows(template: str, fields: Mapping[type, Any], *,
                   instead: Mapping[type, Mapping[str, Any]] | None = None,
                   **context: Any) -> None:
    """A refusal of this request shows ``template`` again, with ``context`` and the sentence
    under the form field ``fields`` names for the refusal's class, or with only the context
    ``instead`` names for it. The refusal pipeline (``portal.refusals``) rolls the request
    back and writes what the refusal keeps (its audit, a failed attempt's count)."""

    def page(message: str, status: int) -> Any:
        refusal = answering()
        shown = next((c for cls, c in (instead or {}).items() if isinstance(refusal, cls)), None)
        if shown is not None:
            return render_template(template, **shown), status
        field = next((f for cls, f in fields.items() if isinstance(refusal, cls)), None)
        if field is not None:
            field.errors.append(message)
        return render_template(template, **context), status

    on_refusal(page)


def _start_session(user: User, method: str, target: str | None = None,
                   authentication: Authentication | None = None) -> Any:
    detail = ({"provider": authentication.provider, "auth_method": authentication.method,
               "level": authentication.level} if authentication else {})
    missed = services.complete_login(db(), clock(), user, method, audit_context(), **detail)
    target = target or session.pop("login_next", None)
    lang = session.get("lang")
    session.clear()  # no fixation: the signed-in session starts empty
    if lang:
        session["lang"] = lang
    if authentication:
        remember_signed_in_with(authentication)
    login_user(user)
    session[SESSION_ID_KEY] = new_session_id()  # what signing out ends (``end_session``)
    session.permanent = True
    # Session limits count real time, also when a demo moves the portal's clock.
    session["seen_at"] = session["signed_in_at"] = wall_time(clock()).timestamp()
    if missed is not None:
        flash(gettext("Failed attempts to sign in to your account since you last signed in: "
                      "%(count)s (the last at %(at)s). If that was not you, change your password "
                      "and tell the administrator.", count=missed.count,
                      at=moment_text(missed.last_at) if missed.last_at else "—"),
              "error")
    response = redirect(safe_next(target, url_for("main.index")))
    if user.email:  # a password account: this browser now counts its failures apart
        throttle.remember_device(response, user.email)
    return response


def _throttled(template: str, password: str | None = None, **context: Any) -> Any:
    """The answer while an account's attempts from this browser are throttled: the same for
    every address, known or not, and after the same Argon2 work as a checked password."""
    if password is not None:
        services.spend_password_work(password)
    flash(gettext("Too many attempts. Wait a little and try again."), "error")
    return render_template(template, **context), 429


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 100 per hour", methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    if session.pop("flash_expired", False):
        flash(gettext("Your session expired. Please sign in again."), "info")
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        bucket = throttle.bucket_for(form.email.data)
        if not throttle.allows(bucket):
            return _throttled("accounts/login.html", form.password.data, form=form)
        _refusal_shows("accounts/login.html", {services.InvalidCredentials: form.password},
                       form=form)
        try:
            user = services.authenticate(
                db(), clock(), form.email.data, form.password.data, audit_context(),
                notify_after=current_app.config["LOGIN_NOTIFY_AFTER_FAILURES"])
        except services.InvalidCredentials:
            throttle.count_failure(bucket)  # in the limiter's storage, whatever the answer
            raise
        # Every password account (officials and observers) confirms with TOTP: the password
        # alone never starts a session.
        session["login_next"] = form.next.data
        session["pending_user"] = user.id
        session["pending_epoch"] = user.session_epoch
        session["pending_at"] = wall_time(clock()).timestamp()
        commit()
        if user.has_two_factor:
            return redirect(url_for("accounts.two_factor"))
        return redirect(url_for("accounts.enrol_two_factor"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


def _pending_user() -> User | None:
    user_id = session.get("pending_user")
    started = session.get("pending_at", 0)
    if user_id is None or wall_time(clock()).timestamp() - started > PENDING_TTL:
        session.pop("pending_user", None)
        return None
    user = db().get(User, user_id)
    if user is None or user.session_epoch != session.get("pending_epoch") or not user.is_active:
        return None
    return user


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def two_factor() -> Any:
    user = _pending_user()
    if user is None or not user.has_two_factor:
        flash(gettext("Please sign in again."), "info")
        return redirect(url_for("accounts.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        bucket = throttle.bucket_for(user.email or "")
        if not throttle.allows(bucket):
            return _throttled("accounts/two_factor.html", form=form)
        _refusal_shows("accounts/two_factor.html", {services.InvalidTwoFactorCode: form.code},
                       form=form)
        try:
            method = services.verify_second_factor(
                db(), clock(), keys(), user, form.code.data, audit_context(),
                notify_after=current_app.config["LOGIN_NOTIFY_AFTER_FAILURES"])
        except services.InvalidTwoFactorCode:
            throttle.count_failure(bucket)  # in the limiter's storage, whatever the answer
            raise
        return _start_session(user, method)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/two_factor.html", form=form), status


def _qr_data_uri(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="png", scale=5, border=2)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@bp.route("/login/2fa/enrol", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def enrol_two_factor() -> Any:
    user = _pending_user() if not current_user.is_authenticated else current_user
    if user is None:
        return redirect(url_for("accounts.login"))
    if user.has_two_factor and not current_user.is_authenticated:
        return redirect(url_for("accounts.two_factor"))
    secret = session.get("enrol_secret") or services.new_totp_secret()
    session["enrol_secret"] = secret
    form = EnrolTwoFactorForm()
    uri = services.totp_uri(user, secret)
    context = {"form": form, "qr": _qr_data_uri(uri), "secret": secret,
               "secret_groups": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))}
    if form.validate_on_submit():
        _refusal_shows("accounts/enrol.html", {services.InvalidTwoFactorCode: form.code},
                       **context)
        codes = services.enable_totp(db(), clock(), keys(), user, secret, form.code.data,
                                     audit_context())
        session.pop("enrol_secret", None)
        response = redirect(url_for("accounts.recovery_codes"))
        if not current_user.is_authenticated:
            response = _start_session(user, "totp_enrolment", url_for("accounts.recovery_codes"))
        session["show_recovery_codes"] = codes
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/enrol.html", **context), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def invitation(token: str) -> Any:
    """The invitee sets their password and enrols TOTP; the link then stops working."""
    pending = services.pending_invitation(db(), clock(), keys(), token)
    if pending is None:
        return render_template("accounts/invitation.html", valid=False), 404
    key = f"invitation_secret:{pending.id}"
    secret = session.get(key) or services.new_totp_secret()
    session[key] = secret
    form = AcceptInvitationForm()
    context = {"valid": True, "form": form, "person": pending.user,
               "qr": _qr_data_uri(services.totp_uri(pending.user, secret)), "secret": secret,
               "secret_groups": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))}
    if form.validate_on_submit():
        _refusal_shows("accounts/invitation.html",
                       {services.WeakPassword: form.password,
                        services.InvalidTwoFactorCode: form.code},
                       instead={services.InvalidInvitation: {"valid": False}}, **context)
        user, codes = services.accept_invitation(db(), clock(), keys(), token, form.password.data,
                                                 secret, form.code.data, audit_context())
        response = _start_session(user, "invitation", url_for("accounts.recovery_codes"))
        session["show_recovery_codes"] = codes
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/invitation.html", **context), status


@bp.get("/account/recovery-codes")
@login_required
def recovery_codes() -> Any:
    codes = session.pop("show_recovery_codes", None)
    if not codes:
        return redirect(url_for("accounts.account"))
    return render_template("accounts/recovery_codes.html", codes=codes)


@bp.post("/account/recovery-codes")
@login_required
def regenerate_recovery_codes() -> Any:
    if not current_user.has_two_factor:
        abort(400)
    codes = services.regenerate_recovery_codes(db(), clock(), keys(), current_user, audit_context())
    session["show_recovery_codes"] = codes
    return redirect(url_for("accounts.recovery_codes"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Any:
    form = ChangePasswordForm()
    if current_user.password_hash and form.validate_on_submit():
        _refusal_shows("accounts/account.html", {services.InvalidCredentials: form.current,
                                                 services.WeakPassword: form.new}, form=form)
        services.change_own_password(db(), clock(), current_user, form.current.data,
                                     form.new.data, audit_context())
        commit()
        logout_user()
        flash(gettext("Password changed. Sign in with the new password."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/account.html", form=form)


def _site_data(user: Any) -> str:
    """Signing out leaves nothing of the person in this browser: its HTTP cache always, and
    for an observer (or a session that had already ended, whose person is unknown) the site's
    storage too: the observer app's copy of its page (service worker and its cache) and the
    outbox key and entries kept on the phone (IndexedDB), so that a stranger holding the phone
    can neither see the app nor seal an entry as that observer. Others keep the board
    checkpoints their browser holds (``localStorage``): storage is cleared as a whole."""
    observer = not getattr(user, "is_authenticated", False) or any(
        m.role == Role.OBSERVER for m in user.memberships)
    return '"cache", "storage"' if observer else '"cache"'


@bp.post("/logout")
def logout() -> Any:
    clear = _site_data(current_user)
    if current_user.is_authenticated:
        services.end_session(db(), clock(), current_user, session_id_hash(session),
                             audit_context())
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(gettext("You have signed out."), "success")
    response = redirect(url_for("main.index"))
    response.headers["Clear-Site-Data"] = clear
    return response


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere() -> Any:
    clear = _site_data(current_user)
    services.sign_out_everywhere(db(), clock(), current_user, audit_context())
    logout_user()
    session.clear()
    flash(gettext("You have been signed out on every device."), "success")
    response = redirect(url_for("accounts.login"))
    response.headers["Clear-Site-Data"] = clear
    return response


# Voters -----------------------------------------------------------------------------------

@bp.route("/voter/login", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per hour", methods=["POST"])
def voter_login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    if request.method == "GET" and request.args.get("next"):
        session["login_next"] = request.args["next"]
    form = VoterStartForm()
    if otp_enabled() and form.validate_on_submit():
        try:
            digits = normalise(form.personal_code.data)
        except InvalidPersonalCode:
            form.personal_code.errors.append(gettext(
                "This is not a valid personal code. Check the digits and try again."))
            form.personal_code.data = ""  # never echo a personal code back into a page
            return render_template("accounts/voter_login.html", form=form,
                                   providers=_provider_links(), otp=otp_enabled()), 400
        code = services.issue_one_time_code(db(), clock(), keys(), digits)
        # The session cookie is signed, not encrypted: keep the personal code in it sealed.
        session["voter_code_for"] = keys().personal_codes.encrypt(digits).hex()
        from portal.accounts.identity import deliver_one_time_code

        deliver_one_time_code(digits, code)
        return redirect(url_for("accounts.voter_code"))
    status = 400 if request.method == "POST" else 200
    form.personal_code.data = ""
    return render_template("accounts/voter_login.html", form=form,
                           providers=_provider_links(), otp=otp_enabled()), status


def _provider_links() -> list[tuple[str, str]]:
    """(name, label) of each identity provider a voter may choose."""
    return [(p.name, oidc.label(p)) for p in oidc.enabled_providers()]


def _sealed_code(value: str | None) -> str | None:
    """The personal code sealed into the session by ``voter_login`` (``None`` if unreadable)."""
    if not value:
        return None
    try:
        return keys().personal_codes.decrypt(bytes.fromhex(value))
    except (ValueError, InvalidTag):
        return None


@bp.route("/voter/code", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def voter_code() -> Any:
    digits = _sealed_code(session.get("voter_code_for"))
    if not digits or not otp_enabled():
        return redirect(url_for("accounts.voter_login"))
    form = VoterCodeForm()
    if form.validate_on_submit():
        _refusal_shows("accounts/voter_code.html", {services.InvalidOneTimeCode: form.code},
                       form=form)
        user = services.redeem_one_time_code(db(), clock(), keys(), digits, form.code.data)
        return _start_session(user, "one_time_code",
                              authentication=Authentication("otp", "one_time_code"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/voter_code.html", form=form), status


def _oidc_refused(_response: Any) -> bool:
    """Only refused provider sign-ins count against an address's limit (each is audited, and
    a forged answer costs its sender nothing); a person's own sign-ins never do."""
    return isinstance(answering(), oidc.SignInRefused)


#: refused provider sign-ins from one address, starts and answers together
OIDC_REFUSALS = limiter.shared_limit("10 per minute; 60 per hour", scope="voter-oidc-refused",
                                     deduct_when=_oidc_refused)


@bp.get("/voter/eid/<provider>")
@OIDC_REFUSALS
def voter_oidc_start(provider: str) -> Any:
    chosen = oidc.provider_named(provider)
    if chosen is None:
        abort(404)
    on_refusal(flash_and_redirect(url_for("accounts.voter_login"), 302))
    return oidc.begin_sign_in(chosen, url_for("accounts.voter_oidc_callback",
                                              provider=chosen.name, _external=True))


@bp.get("/voter/eid/<provider>/callback")
@OIDC_REFUSALS
def voter_oidc_callback(provider: str) -> Any:
    chosen = oidc.provider_named(provider)
    if chosen is None:
        abort(404)
    on_refusal(flash_and_redirect(url_for("accounts.voter_login"), 302))
    user, authentication = oidc.finish_sign_in(chosen)
    return _start_session(user, f"oidc:{chosen.name}", authentication=authentication)
