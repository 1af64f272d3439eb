"""CVK page for the case API's service tokens: issue (the token is shown once, only its hash is
kept), list, and revoke. Issuing and revoking are audited by ``portal.cases.tokens``; refused
attempts are audited here."""
from __future__ import annotations

from typing import Any, NoReturn

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.services import find_user_by_email
from portal.cases.forms import IssueTokenForm, RevokeTokenForm
from portal.cases.models import ServiceToken
from portal.cases.tokens import (
    InvalidScopes,
    TokenRefused,
    issue_service_token,
    revoke_service_token,
)
from portal.permissions import Permission, municipalities_for, permission_required
from portal.refusals import on_refusal
from portal.web import audit_context, clock, db
from referendum_core import audit


def _page(form: IssueTokenForm, *, issued: tuple[ServiceToken, str] | None = None,
          error: str | None = None, status: int = 200) -> Any:
    tokens = db().scalars(select(ServiceToken).order_by(ServiceToken.revoked_at.is_not(None),
                                                        ServiceToken.created_at.desc(),
                                                        ServiceToken.id.desc())).all()
    response = render_template("cases/tokens.html", form=form, tokens=tokens, issued=issued,
                               revoke_form=RevokeTokenForm(), error=error)
    # The page may carry a token's only showing: never cache it anywhere.
    return response, status, {"Cache-Control": "no-store"}


def _refuse(form: IssueTokenForm, reason: str, **detail: Any) -> NoReturn:
    """Audit the refused issue and raise it; the form is shown again with the sentence."""
    audit.record(db(), clock(), current_user, "service_token.refused", context=audit_context(),
                 reason=reason, **detail)
    on_refusal(lambda message, status: _page(form, error=message, status=status))
    raise TokenRefused(reason)


def tokens() -> Any:
    """List the tokens and the form to issue one."""
    return _page(IssueTokenForm())


def issue_token() -> Any:
    """Issue a token acting as an existing official's account; show its plaintext once."""
    form = IssueTokenForm()
    if not form.validate_on_submit():
        return _page(form, error=gettext("Check the form: a name, the account and at least one "
                                         "permission are needed."), status=400)
    owner = find_user_by_email(db(), form.owner_email.data or "")
    if owner is None or not owner.is_active:
        _refuse(form, "unknown_owner")
    if municipalities_for(owner, Permission.VIEW_CASES) == set():
        _refuse(form, "owner_without_cases", owner_id=owner.id)
    try:
        row, plaintext = issue_service_token(db(), clock(), current_user, owner,
                                             form.name.data or "", list(form.scopes.data or []),
                                             context=audit_context())
    except InvalidScopes:
        return _page(form, error=gettext("Choose at least one permission."), status=400)
    return _page(IssueTokenForm(formdata=None), issued=(row, plaintext))


def revoke_token(token_id: int) -> Any:
    """Stop a token from working (it stays listed as revoked)."""
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    token = db().get(ServiceToken, token_id)
    if token is None:
        abort(404)
    if not token.is_active:
        flash(gettext("This token was already revoked."), "info")
    else:
        revoke_service_token(db(), clock(), current_user, token, context=audit_context())
        flash(gettext("Token %(prefix)s… revoked; it no longer works.", prefix=token.prefix),
              "success")
    return redirect(url_for("cases.tokens"))


def register(bp: Blueprint) -> None:
    """Add the token pages to the cases blueprint (CVK administrators only)."""
    guard = permission_required(Permission.MANAGE_SERVICE_TOKENS)
    bp.add_url_rule("/tokens", "tokens", guard(tokens), methods=["GET"])
    bp.add_url_rule("/tokens", "issue_token", guard(issue_token), methods=["POST"])
    bp.add_url_rule("/tokens/<int:token_id>/revoke", "revoke_token", guard(revoke_token),
                    methods=["POST"])
