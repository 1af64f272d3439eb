"""E-mails about a person's own account (pure: composing only, no sending here): the
invitation that activates it and the notice of repeated failed sign-ins. Wording in Latvian or
English per the person's language, as messaging's notices."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from referendum_core.clock import to_riga

_WORDS = {
    "lv": {
        "invitation_subject": "Uzaicinājums uz referendumu portālu",
        "invitation": ("Labdien, {name}!\n\nJums ir izveidots konts referendumu portālā. Lai to "
                       "aktivizētu, atveriet šo saiti, izvēlieties paroli un iestatiet divpakāpju "
                       "pieteikšanos:\n{link}\n\nSaite ir derīga vienu reizi līdz {until}. Ja "
                       "kontu negaidījāt, nedariet neko un pasakiet to CVK.\n"),
        "failures_subject": "Neizdevušies pieteikšanās mēģinājumi jūsu kontā",
        "failures": ("Labdien, {name}!\n\nKopš jūsu pēdējās pieteikšanās referendumu portālā "
                     "jūsu kontā ir bijuši neizdevušies pieteikšanās mēģinājumi: {count} (pēdējais "
                     "{at}). Konts nav bloķēts.\n\nJa tie nebijāt jūs, nomainiet paroli un "
                     "pasakiet to CVK administratoram:\n{link}\n"),
    },
    "en": {
        "invitation_subject": "Invitation to the referendum portal",
        "invitation": ("Hello {name},\n\nAn account has been created for you in the referendum "
                       "portal. To activate it, open this link, choose a password and set up "
                       "two-step sign-in:\n{link}\n\nThe link works once, until {until}. If you "
                       "did not expect an account, do nothing and tell the CVK.\n"),
        "failures_subject": "Failed sign-in attempts on your account",
        "failures": ("Hello {name},\n\nSince you last signed in to the referendum portal there "
                     "have been failed attempts to sign in to your account: {count} (the last at "
                     "{at}). The account is not locked.\n\nIf it was not you, change your "
                     "password and tell the CVK administrator:\n{link}\n"),
    },
}


def _words(locale: str) -> dict[str, str]:
    return _WORDS.get(locale, _WORDS["lv"])


def _stamp(at: datetime) -> str:
    return to_riga(at).strftime("%Y-%m-%d %H:%M")


def _base(to: str, sender: str, now: datetime, subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    mail["Auto-Submitted"] = "auto-generated"
    return mail


def invitation_mail(*, to: str, name: str, locale: str, link: str, expires_at: datetime,
                    sender: str, now: datetime) -> EmailMessage:
    """The activation link, sent to the new person's own address."""
    w = _words(locale)
    mail = _base(to, sender, now, w["invitation_subject"])
    mail.set_content(w["invitation"].format(name=name, link=link, until=_stamp(expires_at)))
    return mail


def failures_mail(*, to: str, name: str, locale: str, count: int, last_at: datetime, link: str,
                  sender: str, now: datetime) -> EmailMessage:
    """Tells the owner that attempts to sign in as them keep failing."""
    w = _words(locale)
    mail = _base(to, sender, now, w["failures_subject"])
    mail.set_content(w["failures"].format(name=name, count=count, at=_stamp(last_at), link=link))
    return mail
