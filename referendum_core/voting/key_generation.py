"""t-of-n trustees for a referendum: the chair starts a distributed key generation, the trustees
upload each round's messages, and voting opens only when at least t trustees are qualified
(``docs/spec/threshold-trustees.md``). The portal stores and relays the messages; it never sees
a share (they are sealed to their recipients) nor any trustee's secret."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock
from referendum_core.crypto import dkg
from referendum_core.crypto.exceptions import CryptoError
from referendum_core.crypto.group import canonical
from referendum_core.voting.exceptions import InvalidSetup, TrusteeKeyRefused, WrongStage
from referendum_core.voting.key_generation_rounds import (
    ROUNDS,
    current_round,
    ordered_deadlines_problem,
    owing_by_round,
    round_state,
    round_states,
)
from referendum_core.voting.models import KeyGenerationReminder, Referendum, Stage
from referendum_core.voting.preparation import trustee_of


def transcript_of(referendum: Referendum) -> dict[str, Any] | None:
    """The key generation's transcript, or None when every trustee must decrypt (v1)."""
    return json.loads(referendum.dkg_transcript) if referendum.dkg_transcript else None


def start_key_generation(session: Session, clock: Clock, actor: Actor | None,
                         referendum: Referendum, threshold: int,
                         deadlines: Mapping[str, datetime],
                         context: AuditContext | None = None) -> dict[str, Any]:
    """The chair fixes t for the chosen trustees (n of them) and the deadline of each round
    (``commit``, ``reveal``, ``shares``, ``complaints``, ``answers``), and opens the key
    generation; any t of them will decrypt, fewer learn nothing.

    Raises:
        WrongStage: voting opened, a trustee uploaded a single key, or a trustee has already
            published a key-generation message.
        InvalidSetup: no trustees chosen, t not in 1 … n, or the deadlines are missing, not in
            the future, not in round order, or the last is after the online vote opens
            (Art. 15(1): the manifest, with the election key, is fixed before).
    """
    if referendum.stage != Stage.SETUP:
        raise WrongStage(f"not possible at stage {referendum.stage}", stage=referendum.stage)
    trustees = list(referendum.trustees)
    if not trustees:
        raise InvalidSetup("choose the trustees first", field="trustees", reason="no_trustees")
    if any(t.public_key for t in trustees):
        raise WrongStage("a trustee already uploaded a key", stage=referendum.stage)
    current = transcript_of(referendum)
    if current is not None and any(current[r] for r in dkg.ROUND_LISTS.values()):
        raise WrongStage("the key generation has begun", stage=referendum.stage)
    if type(threshold) is not int or not 1 <= threshold <= len(trustees):
        raise InvalidSetup("need 1 ≤ t ≤ n", field="threshold", reason="threshold_invalid",
                           n=len(trustees))
    problem = ordered_deadlines_problem(deadlines, clock.now(), referendum.online_opens_at)
    if problem is not None:
        raise InvalidSetup(f"the key generation's deadlines are invalid ({problem})",
                           field="dkg_ends_at", reason="dkg_deadline_invalid", problem=problem,
                           opens_at=referendum.online_opens_at)
    transcript = dkg.empty_transcript(dkg.Params(referendum.election_id, threshold,
                                                 len(trustees)))
    referendum.threshold = threshold
    referendum.dkg_deadlines = {r: deadlines[r] for r in ROUNDS}
    referendum.dkg_transcript = canonical(transcript).decode()
    session.flush()
    audit.record(session, clock, actor, "voting.key_generation_started", obj=referendum,
                 context=context, threshold=threshold, trustees=len(trustees),
                 deadlines={r: deadlines[r].isoformat() for r in ROUNDS})
    return transcript


def add_key_generation_message(session: Session, clock: Clock, actor: Actor,
                               referendum: Referendum, message: str | bytes | dict[str, Any],
                               context: AuditContext | None = None) -> dict[str, Any]:
    """A trustee uploads one round's message (the file ``referendum-trustee dkg …`` wrote). Its
    index must be the trustee's own number (position + 1); the message is checked as the
    transcript's upload rules say (shape, round order, signature, nothing replaced).

    Raises:
        NotATrustee; WrongStage (voting opened); TrusteeKeyRefused (no key generation, not
        JSON, another trustee's number, or refused by the upload rules).
    """
    trustee = trustee_of(session, referendum, actor)
    if referendum.stage != Stage.SETUP:
        raise WrongStage(f"not possible at stage {referendum.stage}", stage=referendum.stage)
    transcript = transcript_of(referendum)
    if transcript is None:
        raise TrusteeKeyRefused("no key generation was started", reason="dkg_not_started")
    if referendum.dkg_ends_at is not None and clock.now() >= referendum.dkg_ends_at:
        raise TrusteeKeyRefused("the key generation has ended", reason="dkg_closed",
                                ends_at=referendum.dkg_ends_at)
    try:
        parsed = json.loads(message) if isinstance(message, str | bytes) else message
    except ValueError:
        raise TrusteeKeyRefused("not JSON", location="", reason="not_json") from None
    if not isinstance(parsed, dict) or parsed.get("index") != trustee.position + 1:
        raise TrusteeKeyRefused("the message is not this trustee's", location="index",
                                reason="dkg_other_trustee", index=trustee.position + 1)
    _require_round_open(referendum, transcript, parsed.get("type"), clock.now())
    try:
        dkg.add_message(transcript, parsed)
    except CryptoError as exc:
        audit.record(session, clock, actor, "voting.key_generation_message_refused",
                     obj=referendum, context=context, position=trustee.position,
                     location=exc.location)
        raise TrusteeKeyRefused(exc.message, location=exc.location,
                                reason="dkg_message", detail=str(exc)) from None
    referendum.dkg_transcript = canonical(transcript).decode()
    session.flush()
    audit.record(session, clock, actor, "voting.key_generation_message", obj=referendum,
                 context=context, position=trustee.position, round=parsed["type"])
    return transcript


def _require_round_open(referendum: Referendum, transcript: dict[str, Any], kind: Any,
                        now: datetime) -> None:
    """Refuse a message outside its round's window (the message's own checks come after).

    Raises:
        TrusteeKeyRefused: ``dkg_round_closed`` after the round's deadline, ``dkg_round_waiting``
            while the round before it still runs.
    """
    if kind not in ROUNDS:
        return
    deadlines = referendum.dkg_deadlines
    state = round_state(transcript, deadlines, kind, now)
    if state == "closed":
        raise TrusteeKeyRefused(f"the {kind} round ended", reason="dkg_round_closed",
                                round=kind, ends_at=deadlines[kind])
    if state == "waiting":
        before = ROUNDS[ROUNDS.index(kind) - 1]
        raise TrusteeKeyRefused(f"the {before} round is still running",
                                reason="dkg_round_waiting", round=kind,
                                ends_at=deadlines[before])


def key_generation_progress(referendum: Referendum) -> dict[int, dict[str, bool]] | None:
    """Who has published what, by trustee number (None without a key generation)."""
    transcript = transcript_of(referendum)
    return dkg.progress(transcript) if transcript is not None else None


def due_reminders(session: Session, clock: Clock,
                  leads: Sequence[timedelta]) -> list[KeyGenerationReminder]:
    """Record the reminders due now: for each open key-generation round whose deadline is
    within a lead time, one per trustee who still owes its message. Each (trustee, round, lead)
    is recorded once; when beat missed the longer lead, only the shortest one due is returned
    (the longer ones are recorded as covered), so nobody gets two reminders at once.

    Returns the new reminders to send (after commit).
    """
    now = clock.now()
    leads = sorted(set(leads), reverse=True)
    sent = []
    referendums = session.scalars(select(Referendum).where(
        Referendum.stage == Stage.SETUP, Referendum.dkg_transcript.is_not(None))).all()
    for referendum in referendums:
        transcript = json.loads(referendum.dkg_transcript or "{}")
        deadlines = referendum.dkg_deadlines
        states = round_states(transcript, deadlines, now)
        owed = owing_by_round(transcript)
        for kind in ROUNDS:
            deadline = deadlines[kind]
            if deadline is None or states[kind] != "open":
                continue
            due = [lead for lead in leads if now >= deadline - lead]
            if not due:
                continue
            done = {(r.position, r.lead) for r in session.scalars(
                select(KeyGenerationReminder).where(
                    KeyGenerationReminder.referendum_id == referendum.id,
                    KeyGenerationReminder.round == kind))}
            shortest = _minutes(due[-1])
            for index in owed[kind]:
                if (index - 1, shortest) in done:
                    continue
                for lead in due:
                    if (index - 1, _minutes(lead)) in done:
                        continue
                    row = KeyGenerationReminder(
                        referendum_id=referendum.id, round=kind, lead=_minutes(lead),
                        position=index - 1, deadline=deadline, sent_at=now)
                    session.add(row)
                    if _minutes(lead) == shortest:
                        sent.append(row)
    session.flush()
    return sent


def _minutes(lead: timedelta) -> int:
    return int(lead.total_seconds() // 60)


def key_generation_round(referendum: Referendum, now: datetime) -> str | None:
    """The round taking messages now (None without a key generation or after its end)."""
    transcript = transcript_of(referendum)
    return current_round(transcript, referendum.dkg_deadlines, now) if transcript else None
