"""Composing notification e-mails (pure: no sending here).

A person with a registered OpenPGP key gets the unread texts encrypted to that key as PGP/MIME
(RFC 3156), as GlobaLeaks does; everyone else gets only "you have a new message" and a link —
never the text. Wording in Latvian or English per the person's language.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from messaging.directory import Person
from messaging.pgp import PGP
from referendum_core.clock import to_riga

_WORDS = {
    "lv": {
        "subject": "Jauna ziņa referendumu portālā",
        "plain": ("Labdien!\n\nJums referendumu portālā ir jauna ziņa, ko vēl neesat izlasījis.\n"
                  "Pieslēdzieties, lai to izlasītu:\n{link}\n\n"
                  "Ziņas teksts e-pastā netiek sūtīts. Ja portālā reģistrēsiet savu OpenPGP "
                  "atslēgu, saņemsiet tekstu šifrētu.\n"),
        "secret_intro": "Nelasītās ziņas sarakstē „{subject}”:\n{link}\n",
        "system": "Sistēma",
        "mention": "Jūs pieminēja ziņā.",
        "mention_subject": "Jūs pieminēja referendumu portālā",
    },
    "en": {
        "subject": "New message in the referendum portal",
        "plain": ("Hello,\n\nYou have a new message in the referendum portal that you have not "
                  "read yet.\nSign in to read it:\n{link}\n\n"
                  "The text is not sent by e-mail. Register your OpenPGP key in the portal to "
                  "receive it encrypted.\n"),
        "secret_intro": "Unread messages in the thread \"{subject}\":\n{link}\n",
        "system": "System",
        "mention": "You were mentioned in a message.",
        "mention_subject": "You were mentioned in the referendum portal",
    },
}


@dataclass(frozen=True)
class UnreadMessage:
    """One message to include (only in encrypted e-mails)."""

    author: str | None
    created_at: datetime
    text: str


def words(locale: str) -> dict[str, str]:
    """The e-mail wording for a language (Latvian by default)."""
    return _WORDS.get(locale, _WORDS["lv"])


def _base(person: Person, sender: str, now: datetime, subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = person.email or ""
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    mail["Auto-Submitted"] = "auto-generated"
    return mail


def plain_notice(person: Person, *, sender: str, link: str, now: datetime,
                 mentioned: bool = False) -> EmailMessage:
    """The notice without any message text (saying so when the person was mentioned)."""
    w = words(person.locale)
    mail = _base(person, sender, now, w["mention_subject"] if mentioned else w["subject"])
    body = w["plain"].format(link=link)
    mail.set_content(w["mention"] + "\n\n" + body if mentioned else body)
    return mail


def secret_body(person: Person, *, subject: str, link: str, messages: list[UnreadMessage],
                mentioned: bool) -> str:
    """The clear text that gets encrypted to the person's key."""
    w = words(person.locale)
    lines = [w["secret_intro"].format(subject=subject, link=link)]
    if mentioned:
        lines.append(w["mention"] + "\n")
    for m in messages:
        stamp = to_riga(m.created_at).strftime("%Y-%m-%d %H:%M")
        lines.append(f"--- {m.author or w['system']}, {stamp}\n{m.text}\n")
    return "\n".join(lines)


def encrypted_notice(person: Person, pgp: PGP, fingerprint: str, *, sender: str, subject: str,
                     link: str, messages: list[UnreadMessage], mentioned: bool,
                     now: datetime) -> EmailMessage:
    """A PGP/MIME (RFC 3156) e-mail whose encrypted part holds the unread texts.

    Raises:
        PGPError: the person's key cannot be used.
    """
    w = words(person.locale)
    inner = EmailMessage()
    inner.set_content(secret_body(person, subject=subject, link=link, messages=messages,
                                  mentioned=mentioned))
    armored = pgp.encrypt(inner.as_bytes(), [fingerprint])
    mail = _base(person, sender, now, w["subject"])
    mail.set_type("multipart/encrypted")
    mail.set_param("protocol", "application/pgp-encrypted")
    control = EmailMessage()
    control.set_content(b"Version: 1\n", maintype="application", subtype="pgp-encrypted",
                        cte="7bit")
    control.replace_header("Content-Type", "application/pgp-encrypted")
    body = EmailMessage()
    body.set_content(armored.encode("ascii"), maintype="application", subtype="octet-stream",
                     cte="7bit", disposition="inline", filename="encrypted.asc")
    mail.attach(control)
    mail.attach(body)
    return mail
