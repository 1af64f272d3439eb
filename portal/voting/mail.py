"""The reminder e-mailed to a trustee before a key-generation round's deadline (pure: composing
only). Wording in Latvian or English per the trustee's language, as the account e-mails."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from referendum_core.clock import to_riga

_ROUNDS = {
    "lv": {"commit": "1. kārta, apņemšanās (dkg commit)",
           "reveal": "2. kārta, atklāšana (dkg reveal)",
           "shares": "3. kārta, daļas (dkg shares)",
           "complaints": "4. kārta, pārbaude un sūdzības (dkg check)",
           "answers": "5. kārta, atbildes uz sūdzībām (dkg answer)"},
    "en": {"commit": "round 1, commit (dkg commit)", "reveal": "round 2, reveal (dkg reveal)",
           "shares": "round 3, shares (dkg shares)",
           "complaints": "round 4, check and complaints (dkg check)",
           "answers": "round 5, answers to complaints (dkg answer)"},
}
_WORDS = {
    "lv": {
        "subject": "Atgādinājums: atslēgu ģenerēšanas termiņš {until}",
        "body": ("Labdien, {name}!\n\nJūs esat referenduma „{question}” pilnvarotais (nr. "
                 "{index}). Atslēgu ģenerēšanā jums vēl jāpaveic: {round}. Termiņš: {until} "
                 "(Rīgas laiks).\n\nLejupielādējiet stenogrammu, palaidiet komandu savā datorā "
                 "un augšupielādējiet tās izveidoto failu:\n{link}\n\nPilnvarotais, kurš "
                 "nokavē apņemšanās, atklāšanas, pārbaudes vai atbilžu termiņu, tiek "
                 "diskvalificēts.\n"),
    },
    "en": {
        "subject": "Reminder: key-generation deadline {until}",
        "body": ("Hello {name},\n\nYou are trustee number {index} of the referendum "
                 "\u201c{question}\u201d. In the key generation you still have to do: {round}. "
                 "Deadline: {until} (Riga time).\n\nDownload the transcript, run the command on "
                 "your own computer and upload the file it writes:\n{link}\n\nA trustee who "
                 "misses the commit, reveal, check or answer deadline is disqualified.\n"),
    },
}


def key_generation_reminder_mail(*, to: str, name: str, locale: str, question: str,
                                 index: int, kind: str, deadline: datetime, link: str,
                                 sender: str, now: datetime) -> EmailMessage:
    """Tells a trustee which round it still owes and until when."""
    lang = locale if locale in _WORDS else "lv"
    words = _WORDS[lang]
    until = to_riga(deadline).strftime("%Y-%m-%d %H:%M")
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = words["subject"].format(until=until)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(words["body"].format(name=name, question=question, index=index,
                                          round=_ROUNDS[lang][kind], until=until, link=link))
    return mail
