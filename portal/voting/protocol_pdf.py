"""The results protocol (PDF, fpdf2) and its detached OpenPGP signature by the portal's key
(through the one OpenPGP wrapper, ``messaging.pgp``)."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext
from fpdf import FPDF
from sqlalchemy.orm import Session

from portal.pdf import font as _font
from portal.pdf import text as _text
from portal.voting.question import question_versions
from referendum_core.clock import to_riga
from referendum_core.voting.models import Referendum, Result
from referendum_core.voting.results import protocols_of


def build_protocol_pdf(session: Session, referendum: Referendum, result: Result,
                       made_at: datetime) -> bytes:
    """The results protocol: question, the per-station and online figures, totals, turnout
    against the Art. 22 base, validity and outcome, the record hashes."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(made_at)
    pdf.set_title(gettext("Referendum results protocol"))
    pdf.set_author(gettext("Referendum portal"))
    family = _font(pdf)
    pdf.add_page()

    def line(value: str, size: int = 10, bold: bool = False, height: float = 6) -> None:
        pdf.set_font(family, "B" if bold else "", size)
        pdf.multi_cell(0, height, _text(family, value), new_x="LMARGIN", new_y="NEXT")

    municipality = referendum.municipality
    line(gettext("Referendum results protocol"), 16, True, 9)
    line(f"{municipality.name} — {referendum.referendum_day.isoformat()}", 11, True)
    line(gettext("The question"), 11, True)
    for _lang, label, text in question_versions(referendum):
        line(f"{label}: {text}")
    pdf.ln(3)
    line(gettext("Counts"), 12, True)
    for p in protocols_of(session, referendum):
        line(gettext("Polling station No. %(number)s %(name)s: ballots issued %(issued)s, "
                     "for %(yes)s, against %(no)s, invalid %(invalid)s",
                     number=p.polling_station.number, name=p.polling_station.name,
                     issued=p.ballots_issued, yes=p.votes_for, no=p.votes_against,
                     invalid=p.invalid))
    if referendum.has_online_voting:
        line(gettext("Online (internet polling-station commission): counted %(counted)s, "
                     "for %(yes)s, against %(no)s", counted=result.online_counted,
                     yes=result.online_for, no=result.online_against))
    line(gettext("Total: participants %(participants)s, for %(yes)s, against %(no)s, "
                 "invalid %(invalid)s", participants=result.participants, yes=result.votes_for,
                 no=result.votes_against, invalid=result.in_person_invalid), bold=True)
    pdf.ln(3)
    line(gettext("Validity (Art. 22)"), 12, True)
    line(gettext("Voters at the last council elections: %(voters)s; took part then: "
                 "%(took_part)s.", voters=result.voters_base if result.voters_base is not None
                 else "-", took_part=result.participants_base
                 if result.participants_base is not None else "-"))
    line(gettext("The referendum is valid.") if result.is_valid
         else gettext("The referendum is not valid."), bold=True)
    line(gettext("The proposal is adopted.") if result.is_passed
         else gettext("The proposal is not adopted."), bold=True)
    pdf.ln(3)
    line(gettext("Election record"), 12, True)
    if referendum.election_hash:
        line(gettext("Election hash: %(hash)s", hash=referendum.election_hash), 8)
        line(gettext("Bulletin board head: %(head)s", head=referendum.board_head), 8)
    line(gettext("Station protocols SHA-256: %(hash)s", hash=result.protocol_sha256), 8)
    line(gettext("Approved by the municipal election commission on %(when)s (Riga time).",
                 when=to_riga(result.approved_at).strftime("%Y-%m-%d %H:%M")))
    return bytes(pdf.output())


def sign(data: bytes) -> str:
    """The portal key's detached, ASCII-armoured signature of ``data``."""
    from portal.gnupg import pgp_for

    return pgp_for(current_app.config["PORTAL_GNUPGHOME"]).sign_detached(data)
