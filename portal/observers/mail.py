"""The e-mail telling an observer that their accreditation was revoked (composing only; the
task sends it after commit). Wording in Latvian or English per the person's language, as the
account e-mails."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from referendum_core.clock import to_riga

_WORDS = {
    "lv": {
        "subject": "Jūsu novērotāja akreditācija ir atsaukta",
        "body": ("Labdien, {name}!\n\nVēlēšanu komisija {at} atsauca jūsu akreditāciju "
                 "novērot {day} referendumu {station}. vēlēšanu iecirknī ({station_name}). "
                 "Kopš šā brīža jūs šo iecirkni portālā nenovērojat un jūsu novērotāja tiesības "
                 "tajā ir beigušās.\n\nJa jums ir jautājumi, rakstiet komisijai:\n{link}\n"),
    },
    "en": {
        "subject": "Your observer accreditation has been revoked",
        "body": ("Hello {name},\n\nOn {at} the election commission revoked your accreditation "
                 "to observe the referendum of {day} at polling station No. {station} "
                 "({station_name}). From that moment you no longer observe that station in "
                 "the portal and your observer rights there have ended.\n\nIf you have "
                 "questions, write to the commission:\n{link}\n"),
    },
}


def revocation_mail(*, to: str, name: str, locale: str, day: str, station: int,
                    station_name: str, revoked_at: datetime, link: str, sender: str,
                    now: datetime) -> EmailMessage:
    """Tells the observer their accreditation at a station was revoked, and from when."""
    words = _WORDS.get(locale, _WORDS["lv"])
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = words["subject"]
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(words["body"].format(
        name=name, at=to_riga(revoked_at).strftime("%Y-%m-%d %H:%M"), day=day, station=station,
        station_name=station_name, link=link))
    return mail
