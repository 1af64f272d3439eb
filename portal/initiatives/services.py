"""Initiative steps that reach outside the domain: notices through the messaging part, the
signature check run as a task in batches, and the signature boards' batches with their
checkpoints copied out. Pages, tasks and commands call these.

``referendum_core`` may not import ``messaging``; these wrappers call the domain and then post
the notice in the case's thread (the applicant, the municipality's commission and CVK)."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from messaging import services as messaging
from portal.checkpoints import copy_out, signer
from portal.database import on_commit
from portal.initiatives.decision_pdf import build_decision_pdf
from portal.pades import sign_document
from portal.realtime import INITIATIVES_NAMESPACE, emit_after_commit, initiative_room
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.check_decision import CheckDecision, store_decision
from referendum_core.clock import Clock
from referendum_core.crypto.signature_board import board_log_name
from referendum_core.initiatives import (
    Initiative,
    WrongState,
    decide_initiative,
    get_initiative,
    publish_due_initiatives,
)
from referendum_core.signature_board import (
    initiatives_with_pending,
    publish_pending,
    sign_board_checkpoint,
)
from referendum_core.signatures import (
    apply_for_check,
    check_signatures,
    close_due_collections,
    lapse_unapplied_initiatives,
)


def notify(session: Session, clock: Clock, initiative: Initiative, text: str,
           actor: Any = None) -> None:
    """Post a system notice in the initiative case's thread (opened on first use); it is read
    already for ``actor``, whose action it reports."""
    case = initiative.case
    participants = [initiative.applicant_id] if initiative.applicant_id else []
    thread = messaging.open_case_thread(
        session, clock, None, case_id=case.id, subject=f"{case.reference}: {case.title}",
        municipality_id=case.municipality_id, participant_user_ids=participants)
    messaging.post_system_message(session, clock, thread, text, read_by=actor)


def decide(session: Session, clock: Clock, calendar: WorkingDayCalendar, actor: Any,
           initiative: Initiative, **kwargs: Any) -> Initiative:
    """Art. 10(4)-(6): decide and tell the applicants (the notice goes out at once)."""
    decide_initiative(session, clock, calendar, actor, initiative, **kwargs)
    if initiative.decision == "can":
        notify(session, clock, initiative, (
            f"Pašvaldība nolēma, ka referendumu var rīkot. Jautājums: „{initiative.question}”. "
            f"Nepieciešami {initiative.signatures_needed} paraksti. Parakstus vāc 30 dienas: "
            f"no {initiative.collection_first_day:%d.%m.%Y} līdz "
            f"{initiative.collection_last_day:%d.%m.%Y}; vākšana beidzas "
            f"{initiative.collection_last_day:%d.%m.%Y} plkst. 24.00 (Rīgas laiks)."), actor)
    else:
        notify(session, clock, initiative, "Pašvaldība nolēma, ka referendumu rīkot nevar.",
               actor)
    return initiative


def run_due_steps(session: Session, clock: Clock, calendar: WorkingDayCalendar
                  ) -> dict[str, int]:
    """Publish initiatives whose day has come, close collections whose 30 days ended telling
    the organiser the count (Art. 26) and, when the threshold is met, the last day to apply
    (Art. 11(2)); end initiatives whose organiser did not apply in time."""
    published = publish_due_initiatives(session, clock, calendar)
    closed = close_due_collections(session, clock, calendar)
    for initiative in closed:
        if initiative.case.state == "collected":
            notify(session, clock, initiative, (
                f"Parakstu vākšana ir beigusies: savākti {initiative.signatures_at_close} "
                f"paraksti (vajadzīgi {initiative.signatures_needed}). Lai vēlēšanu komisija "
                f"parakstus pārbaudītu, organizatoram līdz "
                f"{initiative.apply_due_on:%d.%m.%Y} jāiesniedz iesniegums vēlēšanu komisijai "
                f"(11. panta otrā daļa); citādi iniciatīva beidzas."))
        else:
            notify(session, clock, initiative, (
                f"Parakstu vākšana ir beigusies: savākti {initiative.signatures_at_close} "
                f"paraksti, vajadzīgi {initiative.signatures_needed}. Slieksnis nav "
                f"sasniegts; iniciatīva beidzas."))
    lapsed = lapse_unapplied_initiatives(session, clock, calendar)
    for initiative in lapsed:
        notify(session, clock, initiative, (
            f"Iesniegums vēlēšanu komisijai netika iesniegts līdz "
            f"{initiative.apply_due_on:%d.%m.%Y} (11. panta otrā daļa); iniciatīva beidzas."))
    return {"published": len(published), "closed": len(closed), "lapsed": len(lapsed)}


def apply(session: Session, clock: Clock, calendar: WorkingDayCalendar, actor: Any,
          initiative: Initiative, **kwargs: Any) -> Initiative:
    """Art. 11(2): the organiser's application; the thread says when the check is due."""
    apply_for_check(session, clock, calendar, actor, initiative, **kwargs)
    notify(session, clock, initiative, (
        f"Iesniegums vēlēšanu komisijai saņemts. Komisija parakstus pārbauda līdz "
        f"{initiative.check_due_on:%d.%m.%Y} (13. pants)."))
    return initiative


def tell_suspension(session: Session, clock: Clock, initiative: Initiative) -> None:
    """Art. 12: the council is told in the case thread that its decision is suspended."""
    if initiative.is_council_decision_suspended:
        notify(session, clock, initiative, (
            "Domei: kamēr notiek referendums par būvniecības lēmumu, šis domes lēmums ir "
            "apturēts līdz referenduma rezultātu paziņošanai (12. pants)."))


def tell_check_result(session: Session, clock: Clock, initiative: Initiative) -> None:
    """The commission's decision after the check (Art. 13)."""
    if initiative.referendum_case_id is not None and initiative.referendum_due_on is not None:
        notify(session, clock, initiative, (
            f"Pārbaude pabeigta: {initiative.valid_signatures} derīgi paraksti. Slieksnis "
            f"sasniegts; referendums notiks ne vēlāk kā "
            f"{initiative.referendum_due_on:%d.%m.%Y}."))
        tell_suspension(session, clock, initiative)
    else:
        notify(session, clock, initiative, (
            f"Pārbaude pabeigta: {initiative.valid_signatures} derīgi paraksti; slieksnis "
            f"({initiative.signatures_needed}) nav sasniegts."))


def start_signature_check(initiative: Initiative) -> None:
    """Art. 13: start the commission's check of the signatures; it runs as a task, in
    batches, once the request has committed (``check_signature_batch``).

    Raises:
        WrongState: the organiser has not applied, or the check is over.
    """
    if initiative.case.state not in ("applied", "checking"):
        raise WrongState()
    from portal.initiatives.tasks import check_initiative_signatures

    initiative_id = initiative.id
    on_commit(lambda: check_initiative_signatures.delay(initiative_id))


def check_signature_batch(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                          initiative_id: int, batch_size: int) -> bool:
    """Check one batch of an initiative's signatures (Art. 13); True when the check is over.
    The batch that ends it tells the organiser and the commission the result, and copies the
    final board checkpoint out after the commit."""
    initiative = get_initiative(session, initiative_id)
    if initiative is None:
        return True
    before = initiative.case.state
    progress = check_signatures(
        session, clock, calendar, None, initiative, batch_size=batch_size, max_batches=1,
        publish_board=lambda initiative_id: publish_board(session, clock, initiative_id,
                                                          everything=True))
    if progress.finished and before in ("applied", "checking"):
        tell_check_result(session, clock, initiative)
        issue_check_decision(session, clock, initiative)
    return progress.finished


def issue_check_decision(session: Session, clock: Clock, initiative: Initiative
                         ) -> CheckDecision:
    """Issue the decision of a finished check (Art. 13): the PDF in Latvian, signed with
    PAdES by the commission, and the portal's OpenPGP signature over that signed file."""
    from portal.gnupg import pgp_for

    with force_locale("lv"):
        pdf = sign_document(build_decision_pdf(session, initiative),
                            gettext("Decision on the signature check (Art. 13)"))
    signature = pgp_for(current_app.config["PORTAL_GNUPGHOME"]).sign_detached(pdf)
    return store_decision(session, clock, initiative.id, pdf, signature)


#: Pushed to an initiative's public room (``portal.realtime.initiative_room``) when a batch of
#: its board is published: the pages showing the count fetch it again (``count.json``).
BOARD_EVENT = "initiative.board"


def publish_board(session: Session, clock: Clock, initiative_id: int, *,
                  everything: bool = False) -> int:
    """Publish what waits on the initiative's signature board (batches of at least
    ``SIGNATURE_BOARD_MIN_BATCH`` while signatures may still be added, everything with
    ``everything`` or after that: ``referendum_core.signature_board.publish_pending``) and,
    when anything was published, sign a checkpoint of the new head; after the commit the
    checkpoint is copied out and the initiative's open pages are told (``BOARD_EVENT``: the
    initiative and the board's length, nothing about any person). Every publication goes
    through here: the beat task, the command and the commission's check. Returns entries
    published."""
    published = publish_pending(session, clock, initiative_id, everything=everything,
                                min_batch=current_app.config["SIGNATURE_BOARD_MIN_BATCH"])
    if published:
        checkpoint = sign_board_checkpoint(session, clock, signer(board_log_name(initiative_id)),
                                           initiative_id)
        on_commit(lambda: copy_out(checkpoint))
        emit_after_commit(BOARD_EVENT, {"initiative_id": initiative_id,
                                        "board_seq": checkpoint.seq},
                          initiative_room(initiative_id), INITIATIVES_NAMESPACE)
    return published


def publish_signature_boards(session: Session, clock: Clock) -> int:
    """Publish the batches waiting on every initiative's signature board
    (``publish_board``). Returns the entries published."""
    return sum(publish_board(session, clock, initiative_id)
               for initiative_id in initiatives_with_pending(session))
