"""Setting a referendum's vote up: the question, the days and windows (Art. 15-16), the
trustees from the internet polling-station commission and their keys, and opening the vote,
which freezes the manifest (spec section 4): nothing in it changes afterwards."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case, CaseType
from referendum_core.cases.services import transition_case
from referendum_core.cases.workflows import Party
from referendum_core.clock import Clock, to_riga
from referendum_core.crypto import CryptoError, build_manifest, dkg, verify_trustee_key
from referendum_core.crypto.group import canonical
from referendum_core.crypto.jsonstream import loads as strict_loads
from referendum_core.crypto.manifest import election_hash
from referendum_core.crypto.threshold import manifest_trustees
from referendum_core.initiatives import (
    REFERENDUM_WITHIN_MONTHS,
    InitiativeError,
    Initiator,
    Subject,
    add_months,
    initiative_of_referendum,
    same_day_referendum,
    submit_initiative,
)
from referendum_core.organisation import Commission, CommissionKind, Municipality
from referendum_core.register import freeze_voter_list, voter_list_for
from referendum_core.voting import rules
from referendum_core.voting.exceptions import (
    InvalidSetup,
    NotATrustee,
    TrusteeKeyRefused,
    WrongStage,
)
from referendum_core.voting.key_generation_rounds import still_due
from referendum_core.voting.models import NO, YES, Referendum, Stage, Trustee
from referendum_core.voting.steps import add_steps
from referendum_core.voting.workflow import ensure_registered

MAX_QUESTION = 2000
CHOICES = [
    {"id": YES, "text": {"lv": "Par", "en": "For"}},
    {"id": NO, "text": {"lv": "Pret", "en": "Against"}},
]


def move_case(session: Session, clock: Clock, calendar: WorkingDayCalendar | None,
              actor: Actor | None, referendum: Referendum, transition: str,
              context: AuditContext | None = None) -> None:
    """Move the referendum's case along its workflow (the portal checked the permission)."""
    transition_case(session, clock, actor, referendum.case, transition, None,
                    parties={Party.SYSTEM, Party.CHAIR}, calendar=calendar, context=context)


@dataclass(frozen=True)
class CouncilDecision:
    """The council's own decision to hold a referendum (Art. 8(2)): what it is about, its date
    and number, and the votes for out of all councillors."""

    subject: str
    question_lv: str
    reasons: str
    decided_on: date
    number: str
    votes_for: int
    council_size: int
    basis_date: date | None = None  # Art. 6: the strategy's approval / decision's publication


# Refusals of the initiative rules, as set-up reasons.
_INITIATIVE_REASONS = {"invalid_subject": "unknown_subject", "missing_text": "question_missing"}


def setup_referendum(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                     actor: Actor | None, *, question_en: str, referendum_day: date,
                     case: Case | None = None, council: CouncilDecision | None = None,
                     municipality: Municipality | None = None, subject: str | None = None,
                     question_lv: str | None = None,
                     context: AuditContext | None = None) -> Referendum:
    """Set up the vote of a referendum case. The subject, the Latvian question (fixed under
    Art. 10(5)), the municipality, the decision day and the latest referendum day (4 months,
    Art. 13(4)) come from the case's initiative; ``subject``, ``question_lv`` and
    ``municipality``, when given, must match it. A dismissal therefore never gets online
    voting (Art. 15(2)) and is judged by Art. 22(3).

    Without a case, ``council`` is the council's own decision: it opens a council initiative
    through ``submit_initiative`` (the same path as the initiative pages, Art. 6, 8(2), 9) and
    its referendum case, then sets that up. Nothing is written when anything is refused.

    Also checked: referendum day a Saturday (Art. 16(1)) before voting would start, the online
    window Monday-Wednesday before it (none for a dismissal, Art. 15), polling 07:00-20:00, and
    a day for which the Voter Register Law's deadlines can still be met (the register informed
    by 12:00 of the 19th working day before); those steps go on the case's timeline.

    Raises:
        InvalidSetup: a mismatch with the initiative, a day after the latest day, a council
            decision the law refuses, empty or over-long English question, day not a Saturday
            or not in the future, a case of another type/municipality or already set up.
    """
    ensure_registered()
    question_en = (question_en or "").strip()
    if not question_en:
        raise InvalidSetup("the question is needed in English", field="question_en",
                           reason="question_missing")
    if len(question_en) > MAX_QUESTION:
        raise InvalidSetup("the question is too long", field="question_en",
                           reason="question_too_long")
    if not rules.is_saturday(referendum_day):
        raise InvalidSetup("referendum day must be a Saturday (Art. 16(1))",
                           field="referendum_day", reason="not_saturday")
    now = clock.now()
    if case is None:
        if council is None or municipality is None:
            raise InvalidSetup("a referendum without a case needs the council's decision",
                               field="case", reason="council_decision_missing")
        fixed = Subject(council.subject).value if council.subject in set(Subject) else None
        if fixed is None:
            raise InvalidSetup("unknown subject", field="subject", reason="unknown_subject")
        latest = add_months(council.decided_on, REFERENDUM_WITHIN_MONTHS)
        same_day = same_day_referendum(session, calendar, municipality.id, council.decided_on,
                                       latest, now=now)
        if same_day is not None and referendum_day != same_day:
            raise InvalidSetup("held on the day already scheduled (Art. 13(5))",
                               field="referendum_day", reason="same_day_required",
                               day=same_day)
        initiative = None
    else:
        if case.type != CaseType.REFERENDUM or (
                municipality is not None and case.municipality_id != municipality.id):
            raise InvalidSetup("the case is not a referendum of this municipality",
                               field="case", reason="wrong_case")
        if case.state != "scheduled":
            raise InvalidSetup("the referendum case is no longer scheduled", field="case",
                               reason="case_not_scheduled")
        initiative = initiative_of_referendum(session, case.id)
        if initiative is None or initiative.referendum_due_on is None:
            raise InvalidSetup("the referendum case has no initiative", field="case",
                               reason="no_initiative")
        fixed, latest = initiative.subject, initiative.referendum_due_on
        same_day = initiative.referendum_same_day
        if same_day is not None and rules.register_deadline_passed(calendar, same_day, now):
            # Art. 13(5) binds only to a day that can still be prepared (VRL deadlines).
            same_day = None
        if same_day is not None and referendum_day != same_day:
            raise InvalidSetup("held on the day already scheduled (Art. 13(5))",
                               field="referendum_day", reason="same_day_required",
                               day=same_day)
        if subject is not None and subject != fixed:
            raise InvalidSetup("the subject is fixed by the initiative", field="subject",
                               reason="subject_mismatch", fixed=fixed)
        if question_lv is not None and " ".join(question_lv.split()) != initiative.question:
            raise InvalidSetup("the question is fixed by the decision (Art. 10(5))",
                               field="question_lv", reason="question_mismatch")
        if session.scalar(select(Referendum.id).where(Referendum.case_id == case.id)) \
                is not None:
            raise InvalidSetup("this referendum is already set up", field="case",
                               reason="already_set_up")
    if referendum_day > latest:
        raise InvalidSetup("referendum day is after the 4-month limit (Art. 13(4))",
                           field="referendum_day", reason="after_latest_day", latest=latest)
    window = rules.online_window(referendum_day, fixed)
    first_vote = window[0] if window else rules.polling_hours(referendum_day)[0]
    if first_vote <= now:
        raise InvalidSetup("voting would already have started", field="referendum_day",
                           reason="already_started")
    too_late = rules.register_deadline_passed(calendar, referendum_day, now)
    if too_late is not None:
        raise InvalidSetup("the voter register can no longer be informed in time (VRL)",
                           field="referendum_day", reason="register_deadlines",
                           inform_by=too_late)
    if initiative is None:
        assert council is not None and municipality is not None  # noqa: S101 - checked above
        try:
            initiative = submit_initiative(
                session, clock, calendar, actor, municipality=municipality, subject=fixed,
                question=council.question_lv, reasons=council.reasons,
                basis_date=council.basis_date, initiator=Initiator.COUNCIL,
                council_votes_for=council.votes_for, council_size=council.council_size,
                council_decided_on=council.decided_on, council_decision_number=council.number,
                context=context)
        except InitiativeError as err:
            reason = _INITIATIVE_REASONS.get(err.code, err.code)
            raise InvalidSetup(f"the council's decision was refused ({err.article})",
                               field="council", reason=reason, **err.params) from None
        case = session.get(Case, initiative.referendum_case_id)
        assert case is not None  # noqa: S101 - opened by the council path
    referendum_municipality = session.get(Municipality, initiative.municipality_id)
    assert referendum_municipality is not None  # noqa: S101 - foreign key
    decision_day = initiative.referendum_decided_on or to_riga(now).date()
    polls_open, polls_close = rules.polling_hours(referendum_day)
    referendum = Referendum(
        case=case, municipality_id=initiative.municipality_id, subject=fixed,
        question_lv=initiative.question, question_en=question_en, decision_day=decision_day,
        referendum_day=referendum_day, online_opens_at=window[0] if window else None,
        online_closes_at=window[1] if window else None, polls_open_at=polls_open,
        polls_close_at=polls_close, election_id=str(uuid.uuid4()), stage=Stage.SETUP,
        results_due_at=rules.announcement_deadline(calendar, referendum_day),
        created_at=now, created_by_id=getattr(actor, "id", None))
    session.add(referendum)
    if initiative.referendum_same_day not in (None, referendum_day):
        initiative.referendum_same_day = None  # the day could no longer be prepared
    session.flush()
    if voter_list_for(session, case.id) is None:
        freeze_voter_list(session, clock, actor, referendum_municipality, decision_day,
                          case_id=case.id, context=context)
    add_steps(case, clock, actor, rules.register_steps(calendar, referendum_day,
                                                       to_riga(now).date()))
    session.flush()
    audit.record(session, clock, actor, "voting.set_up", obj=referendum, context=context,
                 case_id=case.id, subject=fixed, referendum_day=referendum_day.isoformat(),
                 latest_day=latest.isoformat(), online=window is not None)
    return referendum


def _require_stage(referendum: Referendum, *stages: Stage) -> None:
    if referendum.stage not in stages:
        raise WrongStage(f"not possible at stage {referendum.stage}", stage=referendum.stage)


def is_internet_commission_member(actor: Any) -> bool:
    """Does the person hold a role in the internet polling-station commission?"""
    return any(m.commission is not None and m.commission.kind == CommissionKind.INTERNET
               for m in getattr(actor, "memberships", ()))


def trustee_choice_refusal(referendum: Referendum) -> WrongStage | None:
    """Why the trustees can no longer be chosen again (the checks ``choose_trustees`` makes
    once the referendum is being set up), or None while they can: the choice is final once a
    trustee has uploaded a public key or the key generation has begun (a round was done)."""
    if referendum.stage != Stage.SETUP:
        return WrongStage("voting already opened", stage=referendum.stage)
    if any(t.public_key for t in referendum.trustees):
        return WrongStage("a trustee already uploaded a key", stage=referendum.stage)
    if referendum.dkg_transcript is not None and any(
            json.loads(referendum.dkg_transcript)[r]
            for r in ("commits", "reveals", "shares", "complaints", "answers")):
        return WrongStage("the key generation has begun", stage=referendum.stage)
    return None


def choose_trustees(session: Session, clock: Clock, actor: Actor | None,
                    referendum: Referendum, users: Iterable[Any],
                    context: AuditContext | None = None) -> list[Trustee]:
    """Choose the trustees (Art. 20(6): the internet polling-station commission counts online
    votes); positions follow the given order. Replaces an earlier choice while no key is in.

    Raises:
        WrongStage: voting already opened, or a trustee already uploaded a key.
        NotATrustee: someone is not a member of the internet polling-station commission.
        InvalidSetup: nobody, or someone twice.
    """
    _require_stage(referendum, Stage.SETUP)
    if not referendum.has_online_voting:
        raise InvalidSetup("a dismissal referendum has no online voting (Art. 15(2))",
                           field="trustees", reason="no_online_voting")
    chosen = list(users)
    if not chosen or len({u.id for u in chosen}) != len(chosen):
        raise InvalidSetup("choose at least one trustee, each once", field="trustees",
                           reason="trustees_invalid")
    for user in chosen:
        if not is_internet_commission_member(user):
            raise NotATrustee("not a member of the internet polling-station commission",
                              user_id=user.id)
    existing = list(referendum.trustees)
    refusal = trustee_choice_refusal(referendum)
    if refusal is not None:
        raise refusal
    if referendum.dkg_transcript is not None:
        # n changes with the choice: the chair sets t again for the new trustees.
        referendum.threshold = None
        referendum.dkg_transcript = None
    for t in existing:
        session.delete(t)
    session.flush()
    trustees = [Trustee(referendum=referendum, user_id=u.id, position=i)
                for i, u in enumerate(chosen)]
    session.add_all(trustees)
    session.flush()
    session.expire(referendum, ["trustees"])
    audit.record(session, clock, actor, "voting.trustees_chosen", obj=referendum,
                 context=context, trustees=[u.id for u in chosen])
    return trustees


def trustee_of(session: Session, referendum: Referendum, actor: Any) -> Trustee:
    """The actor's trustee row in this referendum.

    Raises:
        NotATrustee: the actor is not one of its trustees.
    """
    trustee = session.scalars(select(Trustee).where(
        Trustee.referendum_id == referendum.id,
        Trustee.user_id == getattr(actor, "id", None))).first()
    if trustee is None:
        raise NotATrustee("not a trustee of this referendum")
    return trustee


def add_trustee_key(session: Session, clock: Clock, actor: Actor, referendum: Referendum,
                    public_json: str | dict[str, Any],
                    context: AuditContext | None = None) -> Trustee:
    """A trustee uploads the public part printed by ``referendum-trustee keygen``; the proof of
    knowledge is checked against this election's id (spec section 3).

    Raises:
        NotATrustee, WrongStage (manifest frozen), TrusteeKeyRefused (bad JSON, failed proof,
        another election, a key another trustee already uses).
    """
    trustee = trustee_of(session, referendum, actor)
    _require_stage(referendum, Stage.SETUP)
    try:
        # Strict like the record (spec section 9); it sits at manifest.trustees[i] there.
        public = (strict_loads(public_json, depth=4) if isinstance(public_json, str | bytes)
                  else public_json)
    except CryptoError:
        raise TrusteeKeyRefused("not JSON", location="", reason="not_json") from None
    try:
        key = verify_trustee_key(referendum.election_id, public)
    except CryptoError as exc:
        audit.record(session, clock, actor, "voting.trustee_key_refused", obj=referendum,
                     context=context, location=exc.location, reason=type(exc).__name__)
        raise TrusteeKeyRefused(exc.message, location=exc.location, reason="proof") from None
    others = [t.public_key for t in referendum.trustees if t.id != trustee.id]
    if key.hex() in others:
        raise TrusteeKeyRefused("another trustee already uses this key", location="public_key",
                                reason="duplicate_key")
    trustee.public_json = canonical(public).decode()
    trustee.public_key = key.hex()
    trustee.key_uploaded_at = clock.now()
    session.flush()
    audit.record(session, clock, actor, "voting.trustee_key_added", obj=referendum,
                 context=context, position=trustee.position, public_key=key.hex())
    return trustee


def manifest_for(referendum: Referendum, municipality_code: str,
                 checkpoint_key: str | None = None) -> dict[str, Any]:
    """The manifest (spec section 4) from the set-up and the trustees' published keys, with
    the public key that will sign the board's checkpoints (``docs/spec/checkpoints.md``).

    Raises:
        CryptoError: a stored trustee key no longer verifies (cannot happen for checked keys).
    """
    assert referendum.online_opens_at is not None and referendum.online_closes_at is not None
    question = {
        "id": "q1",
        "text": {"lv": referendum.question_lv, "en": referendum.question_en},
        "choices": CHOICES,
        "min_choices": 1,
        "max_choices": 1,
    }
    common: dict[str, Any] = {
        "election_id": referendum.election_id, "municipality": municipality_code,
        "question": question, "opens_at": rules.rfc3339(referendum.online_opens_at),
        "closes_at": rules.rfc3339(referendum.online_closes_at), "revoting": True,
        "checkpoint_key": checkpoint_key,
    }
    if referendum.threshold is not None:
        trustees, threshold = _threshold_manifest_parts(referendum)
        return build_manifest(**common, trustees=trustees, threshold=threshold)
    return build_manifest(
        **common, trustees=[json.loads(t.public_json or "{}") for t in referendum.trustees])


def _threshold_manifest_parts(referendum: Referendum) -> tuple[list[dict[str, Any]],
                                                               tuple[dict[str, Any], str]]:
    """The manifest's ``trustees`` and ``(threshold, public_key)`` after the key generation.

    Raises:
        InvalidSetup: the key generation has not ended with at least t qualified trustees.
    """
    if referendum.dkg_transcript is None:
        raise InvalidSetup("no key generation", field="trustees", reason="dkg_unfinished")
    transcript = json.loads(referendum.dkg_transcript)
    try:
        outcome = dkg.evaluate(transcript)
        trustees, threshold, public_key = manifest_trustees(transcript, outcome)
    except CryptoError as exc:
        raise InvalidSetup(exc.message, field="trustees", reason="dkg_unfinished") from None
    return trustees, (threshold, public_key)


def _require_settled(referendum: Referendum, now: datetime) -> None:
    """Before the check and answer deadlines, a trustee still due to check or to answer would be
    disqualified by opening now: wait for its deadline unless nothing is due."""
    if referendum.dkg_transcript is None:
        raise InvalidSetup("no key generation", field="trustees", reason="dkg_unfinished")
    try:
        waits = still_due(json.loads(referendum.dkg_transcript), referendum.dkg_deadlines, now)
    except CryptoError as exc:
        raise InvalidSetup(exc.message, field="trustees", reason="dkg_unfinished") from None
    if waits:
        raise InvalidSetup("the key generation is still running: " + "; ".join(waits),
                           field="trustees", reason="dkg_pending",
                           ends_at=referendum.dkg_ends_at)


def opening_refusal(referendum: Referendum, now: datetime) -> InvalidSetup | None:
    """Why ``open_voting`` would refuse to open the vote now, from the records as they stand
    (the checks it makes before building the manifest), or None when it can open. The manage
    page offers the step, and says what it awaits, from this."""
    if referendum.has_online_voting:
        assert referendum.online_closes_at is not None
        if now >= referendum.online_closes_at:
            return InvalidSetup("the online voting period is already over", field="stage",
                                reason="online_over")
        trustees = list(referendum.trustees)
        if not trustees:
            return InvalidSetup("choose the trustees first", field="trustees",
                                reason="no_trustees")
        if referendum.threshold is not None:
            try:
                _require_settled(referendum, now)
            except InvalidSetup as refusal:
                return refusal
            return None
        missing = [t.position for t in trustees if not t.public_key]
        if missing:
            return InvalidSetup("a trustee's key is missing", field="trustees", missing=missing,
                                reason="key_missing")
    elif now >= referendum.polls_close_at:
        return InvalidSetup("polling day is already over", field="stage",
                            reason="polling_day_over")
    return None


def open_voting(session: Session, clock: Clock, calendar: WorkingDayCalendar | None,
                actor: Actor | None, referendum: Referendum,
                context: AuditContext | None = None, *,
                checkpoint_key: str | None = None) -> Referendum:
    """Open the vote: the manifest is frozen (canonical JSON + election hash); from now on the
    set-up, the trustees and their keys cannot change. ``checkpoint_key`` (hex) is the public
    key of the election's board checkpoints, put in the manifest.

    Raises:
        WrongStage: already open; InvalidSetup: a trustee's key is missing (for t-of-n trustees:
        the key generation has not ended with at least t qualified), no trustee, or the online
        window (or, for a dismissal, polling day) is already over.
    """
    _require_stage(referendum, Stage.SETUP)
    now = clock.now()
    refusal = opening_refusal(referendum, now)
    if refusal is not None:
        raise refusal
    if referendum.has_online_voting:
        trustees = list(referendum.trustees)
        municipality = session.get(Municipality, referendum.municipality_id)
        assert municipality is not None
        manifest = manifest_for(referendum, municipality.atvk_code, checkpoint_key)
        if referendum.threshold is not None:
            # Each qualified trustee decrypts with its verification key Y_j.
            keys = {e["index"]: e["verification_key"] for e in manifest["trustees"]}
            for t in trustees:
                t.public_key = keys.get(t.position + 1)
        referendum.manifest = canonical(manifest).decode()
        referendum.election_hash = election_hash(manifest).hex()
    referendum.frozen_at = now
    referendum.stage = Stage.VOTING
    session.flush()
    move_case(session, clock, calendar, actor, referendum, "open_voting", context)
    audit.record(session, clock, actor, "voting.opened", obj=referendum, context=context,
                 election_hash=referendum.election_hash)
    return referendum


def internet_commission(session: Session) -> Commission | None:
    """The internet polling-station commission (trustees are chosen from it)."""
    return session.scalars(select(Commission).where(
        Commission.kind == CommissionKind.INTERNET)).first()
