"""The election commission's decision after the signature check (Art. 13) as a PDF (fpdf2):
the figures by reason, the threshold, the public signature board's head and count (which the
decision must match), and the appeal route."""
from __future__ import annotations

from flask_babel import gettext
from fpdf import FPDF
from sqlalchemy.orm import Session

from portal.pdf import font, text
from referendum_core.check_decision import check_figures
from referendum_core.clock import to_riga
from referendum_core.initiatives import Initiative
from referendum_core.signature_board import board_count, head_of


def build_decision_pdf(session: Session, initiative: Initiative) -> bytes:
    """The decision of a finished check (``initiative.check_finished_at`` is set)."""
    decided_at = initiative.check_finished_at
    assert decided_at is not None
    figures = check_figures(session, initiative.id)
    board = board_count(session, initiative.id)
    seq, head = head_of(session, initiative.id)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(decided_at)
    pdf.set_title(gettext("Decision on the signature check"))
    pdf.set_author(gettext("Municipal election commission"))
    family = font(pdf)
    pdf.add_page()

    def line(value: str, size: int = 10, bold: bool = False, height: float = 6) -> None:
        pdf.set_font(family, "B" if bold else "", size)
        pdf.multi_cell(0, height, text(family, value), new_x="LMARGIN", new_y="NEXT")

    line(gettext("Decision on the signature check"), 16, True, 9)
    line(f"{initiative.municipality.name} — {initiative.case.reference}", 11, True)
    line(gettext("Question: %(question)s", question=initiative.question))
    if initiative.applied_at is not None:
        line(gettext("The organiser applied on %(day)s; the check was due by %(due)s "
                     "(Art. 11(2), 13).", day=to_riga(initiative.applied_at).strftime("%d.%m.%Y"),
                     due=initiative.check_due_on.strftime("%d.%m.%Y")
                     if initiative.check_due_on else "-"))
    pdf.ln(3)
    line(gettext("Signatures checked (Art. 13)"), 12, True)
    line(gettext("Checked: %(count)s", count=figures.checked))
    line(gettext("Not voters of the municipality (Art. 7): %(count)s",
                 count=figures.not_eligible))
    line(gettext("Signed both online and in person, online signature dropped (Art. 13): "
                 "%(count)s", count=figures.duplicate))
    line(gettext("Withdrawn by the signer during the collection: %(count)s",
                 count=figures.withdrawn))
    line(gettext("Valid signatures: %(valid)s", valid=figures.valid), bold=True)
    line(gettext("Signatures needed (Art. 8(1)): %(needed)s",
                 needed=initiative.signatures_needed), bold=True)
    pdf.ln(3)
    if initiative.referendum_due_on is not None:
        line(gettext("The threshold is reached. The referendum is held no later than %(day)s "
                     "(Art. 13(4)).", day=initiative.referendum_due_on.strftime("%d.%m.%Y")),
             bold=True)
    else:
        line(gettext("The threshold is not reached; no referendum is held."), bold=True)
        line(gettext("This refusal may be appealed to the council within 5 working days "
                     "(Art. 13(6))."))
    pdf.ln(3)
    line(gettext("Public signature board"), 12, True)
    line(gettext("Count on the board: %(count)s (%(signatures)s signatures, %(exclusions)s "
                 "exclusions).", count=board.count, signatures=board.signatures,
                 exclusions=board.exclusions))
    line(gettext("Head of the chain after %(seq)s entries:", seq=seq), 8)
    line(head, 8)
    pdf.ln(3)
    line(gettext("Decided by the municipal election commission on %(when)s (Riga time).",
                 when=to_riga(decided_at).strftime("%Y-%m-%d %H:%M")))
    return bytes(pdf.output())
