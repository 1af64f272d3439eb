"""Sending e-mail through the SMTP server named by ``MAIL_URL`` (shared by the areas that mail:
accounts' own e-mails, messaging's notifications).

``smtp://host:port`` (plain, for a local relay), ``smtp+starttls://user:pass@host:587`` or
``smtps://user:pass@host:465``.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from messaging.tasks import MailNotConfigured

log = logging.getLogger(__name__)


class SMTPMailer:
    """Callable that sends one message; raises on any failure (the outbox retries)."""

    def __init__(self, url: str | None, timeout: float = 20.0) -> None:
        self.url = url
        self.timeout = timeout

    def __call__(self, mail: EmailMessage) -> None:
        if not self.url:
            raise MailNotConfigured("MAIL_URL is not set")
        parts = urlsplit(self.url)
        host, port = parts.hostname or "127.0.0.1", parts.port
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=self.timeout,
                                                    context=ssl.create_default_context())
        elif parts.scheme in ("smtp", "smtp+starttls"):
            client = smtplib.SMTP(host, port or 25, timeout=self.timeout)
        else:
            raise MailNotConfigured(f"unsupported MAIL_URL scheme {parts.scheme!r}")
        with client:
            if parts.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(mail)


def send_from_task(task: Any, mail: EmailMessage, what: str) -> str:
    """Send ``mail`` from the Celery ``task``: retried with back-off when a broker runs the
    task (``REDIS_URL``), logged and given up when it ran in the request's process. Returns
    ``sent``, ``not_configured`` (no ``MAIL_URL``) or ``failed``."""
    from flask import current_app

    try:
        SMTPMailer(current_app.config.get("MAIL_URL"))(mail)
    except MailNotConfigured:
        log.warning("%s not sent: MAIL_URL is not set", what)
        return "not_configured"
    except Exception as exc:
        if current_app.config.get("REDIS_URL"):
            raise task.retry(exc=exc, countdown=60 * 2 ** task.request.retries) from exc
        log.warning("%s not sent: %s", what, type(exc).__name__)
        return "failed"
    return "sent"
