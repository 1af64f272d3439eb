"""Celery tasks of accounts: the e-mails about a person's own account, sent after commit.

The invitation task carries the link's token, which the database holds only as a keyed hash;
it is sent once and never stored in clear text.
"""
from __future__ import annotations

import logging

from flask import current_app

from portal.accounts.mail import failures_mail, invitation_mail
from portal.accounts.models import Invitation, User
from portal.celery_app import celery, in_transaction
from portal.mail import send_from_task

log = logging.getLogger(__name__)


def invitation_link(token: str) -> str:
    """The address of an invitation's page (from ``BASE_URL``, not the request's host)."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/invitation/{token}"


def _send(task, mail) -> str:  # type: ignore[no-untyped-def]
    return send_from_task(task, mail, "account e-mail")


@celery.task(name="portal.accounts.tasks.send_invitation", bind=True, max_retries=5)
def send_invitation(self, invitation_id: int, token: str) -> str:  # type: ignore[no-untyped-def]
    """E-mail the activation link to the invitee, unless it was used or replaced meanwhile."""
    app = current_app

    def compose(session):  # type: ignore[no-untyped-def]
        invitation = session.get(Invitation, invitation_id)
        if invitation is None or invitation.used_at is not None or not invitation.user.email:
            return None
        user = invitation.user
        return invitation_mail(to=user.email, name=user.display_name, locale=user.locale,
                               link=invitation_link(token), expires_at=invitation.expires_at,
                               sender=app.config["MAIL_FROM"], now=app.extensions["clock"].now())

    mail = in_transaction(compose)
    return "skipped" if mail is None else _send(self, mail)


@celery.task(name="portal.accounts.tasks.send_failed_sign_in_notice", bind=True, max_retries=5)
def send_failed_sign_in_notice(self, user_id: int) -> str:  # type: ignore[no-untyped-def]
    """Tell the owner that attempts to sign in as them keep failing."""
    app = current_app

    def compose(session):  # type: ignore[no-untyped-def]
        user = session.get(User, user_id)
        if user is None or not user.email or not user.failed_logins:
            return None
        return failures_mail(to=user.email, name=user.display_name, locale=user.locale,
                             count=user.failed_logins,
                             last_at=user.last_failed_login_at or app.extensions["clock"].now(),
                             link=f"{app.config['BASE_URL'].rstrip('/')}/account",
                             sender=app.config["MAIL_FROM"], now=app.extensions["clock"].now())

    mail = in_transaction(compose)
    return "skipped" if mail is None else _send(self, mail)
