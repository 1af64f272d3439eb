"""CVK administrators manage officials' accounts and memberships (every change audited)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts import services
from portal.accounts.forms import CreateUserForm, GrantForm
from portal.accounts.labels import ROLE_LABELS
from portal.accounts.models import Membership, Role, User
from portal.database import on_commit
from portal.dates import moment_text
from portal.permissions import Permission, permission_required
from portal.refusals import on_refusal
from portal.web import audit_context, clock, db, keys
from referendum_core.collation import latvian_key
from referendum_core.organisation import Commission, Municipality

bp = Blueprint("admin", __name__, url_prefix="/admin")



@bp.get("/users")
@permission_required(Permission.MANAGE_USERS)
def users() -> Any:
    people = db().scalars(select(User).where(User.email.is_not(None))
                          .options(selectinload(User.memberships)).order_by(User.display_name)).all()
    return render_template("admin/users.html", people=people, form=CreateUserForm())


@bp.post("/users")
@permission_required(Permission.MANAGE_USERS)
def create_user() -> Any:
    form = CreateUserForm()
    if not form.validate_on_submit():
        people = db().scalars(select(User).where(User.email.is_not(None))).all()
        return render_template("admin/users.html", people=people, form=form), 400
    if services.find_user_by_email(db(), form.email.data) is not None:
        form.email.errors.append(gettext("An account with this e-mail address already exists."))
        people = db().scalars(select(User).where(User.email.is_not(None))).all()
        return render_template("admin/users.html", people=people, form=form), 409
    user = services.create_user(db(), clock(), current_user, email=form.email.data,
                                display_name=form.display_name.data, context=audit_context())
    _invite(user)
    return redirect(url_for("admin.user", user_id=user.id))


def _invite(person: User) -> None:
    """A fresh invitation for ``person``, e-mailed to them once the transaction commits."""
    from portal.accounts.tasks import invitation_link, send_invitation

    lifetime = timedelta(hours=current_app.config["INVITATION_LIFETIME_HOURS"])
    invitation, token = services.invite(db(), clock(), keys(), current_user, person,
                                        lifetime=lifetime, context=audit_context())
    invitation_id = invitation.id
    on_commit(lambda: send_invitation.delay(invitation_id, token))
    flash(gettext("An invitation link was sent to %(email)s. It works once, until %(until)s; "
                  "the person sets their own password and two-step sign-in with it.",
                  email=person.email, until=moment_text(invitation.expires_at)),
          "success")
    if current_app.config["OTP_SHOW_CODE_ON_SCREEN"]:
        # The demo shows what a real deployment only sends by e-mail (refused in production).
        flash(gettext("Demo: the invitation link is %(link)s", link=invitation_link(token)),
              "info")


@bp.post("/users/<int:user_id>/invitation")
@permission_required(Permission.MANAGE_USERS)
def reinvite(user_id: int) -> Any:
    """A new invitation (the earlier link stops working): for a person who lost access."""
    person = db().get(User, user_id)
    if person is None or person.email is None:
        abort(404)
    _invite(person)
    return redirect(url_for("admin.user", user_id=person.id))


def _grant_form() -> GrantForm:
    form = GrantForm()
    form.role.choices = [(r.value, str(ROLE_LABELS[r])) for r in Role if r != Role.VOTER]
    commissions = db().scalars(select(Commission).order_by(Commission.kind, Commission.name)).all()
    form.commission_id.choices = [("", "—")] + [(str(c.id), c.name) for c in commissions]
    munis = sorted(db().scalars(select(Municipality)), key=lambda m: latvian_key(m.name))
    form.municipality_id.choices = [("", "—")] + [(str(m.id), m.name) for m in munis]
    return form


@bp.get("/users/<int:user_id>")
@permission_required(Permission.MANAGE_USERS)
def user(user_id: int) -> Any:
    person = db().get(User, user_id)
    if person is None or person.email is None:
        abort(404)
    return render_template("admin/user.html", person=person, form=_grant_form())


@bp.post("/users/<int:user_id>/memberships")
@permission_required(Permission.MANAGE_USERS)
def grant(user_id: int) -> Any:
    person = db().get(User, user_id)
    if person is None or person.email is None:
        abort(404)
    form = _grant_form()
    if not form.validate_on_submit():
        return render_template("admin/user.html", person=person, form=form,
                               ), 400
    commission = db().get(Commission, int(form.commission_id.data)) if form.commission_id.data else None
    municipality_id = int(form.municipality_id.data) if form.municipality_id.data else None

    def refused(message: str, status: int) -> Any:
        form.role.errors.append(message)
        return render_template("admin/user.html", person=person, form=form), status

    on_refusal(refused)
    services.grant_membership(db(), clock(), current_user, person, Role(form.role.data),
                              commission=commission, municipality_id=municipality_id,
                              context=audit_context())
    flash(gettext("Role granted."), "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.post("/memberships/<int:membership_id>/revoke")
@permission_required(Permission.MANAGE_USERS)
def revoke(membership_id: int) -> Any:
    membership = db().get(Membership, membership_id)
    if membership is None:
        abort(404)
    user_id = membership.user_id
    services.revoke_membership(db(), clock(), current_user, membership, audit_context())
    flash(gettext("Role removed."), "success")
    return redirect(url_for("admin.user", user_id=user_id))
