"""Celery task of observers: telling an observer, after commit, that their accreditation was
revoked."""
from __future__ import annotations

from flask import current_app

from portal.accounts.models import User
from portal.celery_app import celery, in_transaction
from portal.mail import send_from_task
from portal.observers.mail import revocation_mail
from referendum_core.observers import AccreditationStatus, ObserverAccreditation
from referendum_core.voting.models import Referendum


@celery.task(name="portal.observers.tasks.send_revocation_notice", bind=True, max_retries=5)
def send_revocation_notice(self, accreditation_id: int) -> str:  # type: ignore[no-untyped-def]
    """E-mail the observer that their accreditation was revoked (skipped if it is not)."""
    app = current_app

    def compose(session):  # type: ignore[no-untyped-def]
        row = session.get(ObserverAccreditation, accreditation_id)
        if row is None or row.status != AccreditationStatus.REVOKED or row.revoked_at is None:
            return None
        user = session.get(User, row.user_id) if row.user_id else None
        referendum = session.get(Referendum, row.referendum_id)
        return revocation_mail(
            to=row.email, name=row.full_name, locale=user.locale if user else "lv",
            day=referendum.referendum_day.strftime("%d.%m.%Y") if referendum else "-",
            station=row.polling_station.number, station_name=row.polling_station.name,
            revoked_at=row.revoked_at, link=f"{app.config['BASE_URL'].rstrip('/')}/messages/",
            sender=app.config["MAIL_FROM"], now=app.extensions["clock"].now())

    mail = in_transaction(compose)
    return "skipped" if mail is None else send_from_task(self, mail, "observer e-mail")
