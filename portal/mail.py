"""Sending e-mail through the SMTP server named by ``MAIL_URL`` (shared by the areas that mail:
accounts' own e-mails, messaging's notifications).

``smtp://host:port`` (plain, for a local relay), ``smtp+starttls://user:pass@host:587`` or
``smtps://user:pass@host:465``.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from messaging.tasks import MailNotConfigured


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
