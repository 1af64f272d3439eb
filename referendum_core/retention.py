"""Retention: personal data is deleted (or, where a record must stay, blanked) once the periods
in the policy have passed after the work it served is final. Each ``purge_*`` function handles
one kind of data, deletes in bounded batches, returns its counts and writes one audit entry per
run with the counts only (never a person). With ``dry_run`` it counts and changes nothing.

Never touched here, whatever the policy says: the audit log (the hash chain), the referendum's
election record (manifest, bulletin board, audited ballots, trustee shares, results) and the
voter aliases ``referendum-verify`` and the record need, and anything of a referendum whose
results the commission has not approved yet, or of an initiative that is still open.

The periods run from the moment the law's steps are over:

* signatures — from the initiative's final state (threshold reached or not, refused,
  withdrawn; ``Case.closed_at``). The appeal of the commission's check (Art. 13(6)-(7): council
  5 + 5 working days, court within 5, court decides within 30 days) and the referendum that
  follows a reached threshold (Art. 13(4): within 4 months, results within 3 working days) both
  end well inside the default of 365 days.
* home-voting address and reason, ETVR marks and registration envelopes — from the approval of
  the referendum's results (``Result.approved_at``); the count can be appealed within 3 working
  days and the court decides within 30 days (Art. 20(7), 31).
* register import history — from the import's end; the report holds line numbers and problem
  kinds only, but the file name an operator gave may name people.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from referendum_core import audit
from referendum_core.cases.models import Case, CaseEvent, CaseType
from referendum_core.clock import Clock
from referendum_core.etvr import EtvrMark
from referendum_core.initiatives import Initiative
from referendum_core.register_import import RegisterImport, StagedRow
from referendum_core.signatures import Signature
from referendum_core.voting.models import (
    HomeVotingRequest,
    Referendum,
    RegistrationEnvelope,
    Result,
    Stage,
)

DEFAULT_BATCH_SIZE = 1000
AUDIT_ACTION = "retention.purged"


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of personal data is kept after the work it served is final."""

    signatures: timedelta = timedelta(days=365)
    one_time_codes: timedelta = timedelta(hours=24)
    notifications: timedelta = timedelta(days=30)
    register_imports: timedelta = timedelta(days=90)
    home_voting: timedelta = timedelta(days=90)
    voter_marks: timedelta = timedelta(days=365)
    # Records of signed-out sessions: useless once the session would have expired anyway.
    ended_sessions: timedelta = timedelta(hours=12)
    batch_size: int = DEFAULT_BATCH_SIZE

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, timedelta) and value < timedelta(0):
                raise ValueError(f"retention period {name} must not be negative")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")


# Helpers shared by the purges of every package (messaging and the portal use them too) -----

def delete_in_batches(session: Session, id_column: InstrumentedAttribute[Any],
                      *where: ColumnElement[bool], batch_size: int, dry_run: bool = False
                      ) -> int:
    """Delete the rows of ``id_column``'s table matching ``where``, ``batch_size`` ids at a time
    (short locks, bounded memory); with ``dry_run`` only count them. Returns the number."""
    return _in_batches(session, id_column, where, batch_size, dry_run, delete)


def _in_batches(session: Session, id_column: InstrumentedAttribute[Any],
                where: tuple[ColumnElement[bool], ...], batch_size: int, dry_run: bool,
                statement: Callable[[Any], Any]) -> int:
    """Run ``statement(table)`` (a DELETE or an UPDATE) on the rows matching ``where``,
    ``batch_size`` ids at a time; the rows must leave ``where`` once done. With ``dry_run``
    only count them. Returns the number."""
    table = id_column.class_
    if dry_run:
        return session.scalar(select(func.count()).select_from(table).where(*where)) or 0
    total = 0
    while True:
        ids = list(session.scalars(select(id_column).where(*where).order_by(id_column)
                                   .limit(batch_size)))
        if not ids:
            return total
        session.execute(statement(table).where(id_column.in_(ids))
                        .execution_options(synchronize_session=False))
        session.flush()
        total += len(ids)
        if len(ids) < batch_size:
            return total


def finish(session: Session, clock: Clock, kind: str, counts: Mapping[str, int],
           cutoff: datetime, *, dry_run: bool) -> dict[str, int]:
    """Write the run's one audit entry (counts, the cutoff; no personal data) unless it is a
    dry run, and return the counts."""
    result = dict(counts)
    if not dry_run:
        audit.record(session, clock, None, AUDIT_ACTION, object_type="Retention",
                     object_id=kind, kind=kind, cutoff=cutoff.isoformat(), **result)
    return result


# The purges of data that lives in referendum_core -------------------------------------------

INITIATIVE_FINAL_STATES = ("reached", "not_reached", "refused", "withdrawn")


def purge_signatures(session: Session, clock: Clock, policy: RetentionPolicy, *,
                     dry_run: bool = False) -> dict[str, int]:
    """Delete the signatures (who signed: ``person_ref``, certifiers' names) of initiatives that
    reached a final state more than ``policy.signatures`` ago. The counts the law needs stay on
    the initiative (``signatures_at_close``, ``valid_signatures``); initiatives still collecting
    or being checked are never touched."""
    cutoff = clock.now() - policy.signatures
    done = select(Initiative.id).join(Case, Case.id == Initiative.case_id).where(
        Case.type == CaseType.INITIATIVE, Case.is_open.is_(False),
        Case.state.in_(INITIATIVE_FINAL_STATES), Case.closed_at.is_not(None),
        Case.closed_at < cutoff)
    count = delete_in_batches(session, Signature.id, Signature.initiative_id.in_(done),
                              batch_size=policy.batch_size, dry_run=dry_run)
    return finish(session, clock, "signatures", {"signatures": count}, cutoff, dry_run=dry_run)


def _approved_before(cutoff: datetime) -> Select[tuple[int]]:
    """Ids of referendums whose results were approved before ``cutoff``."""
    return select(Referendum.id).join(Result, Result.referendum_id == Referendum.id).where(
        Referendum.stage == Stage.APPROVED, Result.approved_at < cutoff)


def redact_home_voting(session: Session, clock: Clock, policy: RetentionPolicy, *,
                       dry_run: bool = False) -> dict[str, int]:
    """Blank the address and the reason (often health information) of home-voting requests,
    and the notes on those cases' timelines (a refusal's reason), ``policy.home_voting`` after
    the referendum's results were approved. The case and its states stay: the commission's
    work remains countable. Requests of referendums not yet approved are never touched."""
    cutoff = clock.now() - policy.home_voting
    approved = _approved_before(cutoff)
    details = (HomeVotingRequest.referendum_id.in_(approved),
               (HomeVotingRequest.address != "") | (HomeVotingRequest.reason != ""))
    cases = select(HomeVotingRequest.case_id).where(
        HomeVotingRequest.referendum_id.in_(approved))
    notes = (CaseEvent.case_id.in_(cases), CaseEvent.note != "")
    counts = {"home_voting_requests": _blank(session, HomeVotingRequest.case_id, details,
                                             {"address": "", "reason": ""}, policy, dry_run),
              "home_voting_notes": _blank(session, CaseEvent.id, notes, {"note": ""}, policy,
                                          dry_run)}
    return finish(session, clock, "home_voting", counts, cutoff, dry_run=dry_run)


def _blank(session: Session, id_column: InstrumentedAttribute[Any],
           where: tuple[ColumnElement[bool], ...], values: dict[str, str],
           policy: RetentionPolicy, dry_run: bool) -> int:
    """Set ``values`` on the matching rows in batches (the rows leave ``where`` once blank)."""
    return _in_batches(session, id_column, where, policy.batch_size, dry_run,
                       lambda table: update(table).values(**values))


def purge_voter_marks(session: Session, clock: Clock, policy: RetentionPolicy, *,
                      dry_run: bool = False) -> dict[str, int]:
    """Delete who-voted-where (ETVR marks, registration envelopes) ``policy.voter_marks`` after
    the referendum's results were approved. Turnout stays in the approved result and the
    election record; marks of a referendum still running or counting are never touched."""
    cutoff = clock.now() - policy.voter_marks
    approved = _approved_before(cutoff)
    approved_cases = select(Referendum.case_id).where(Referendum.id.in_(approved))
    counts = {
        "etvr_marks": delete_in_batches(session, EtvrMark.id,
                                        EtvrMark.case_id.in_(approved_cases),
                                        batch_size=policy.batch_size, dry_run=dry_run),
        "registration_envelopes": delete_in_batches(
            session, RegistrationEnvelope.id, RegistrationEnvelope.referendum_id.in_(approved),
            batch_size=policy.batch_size, dry_run=dry_run),
    }
    return finish(session, clock, "voter_marks", counts, cutoff, dry_run=dry_run)


def purge_register_imports(session: Session, clock: Clock, policy: RetentionPolicy, *,
                           dry_run: bool = False) -> dict[str, int]:
    """Delete register import history rows (report by line, the file's name) finished more than
    ``policy.register_imports`` ago, and any staging rows left behind. Staging rows live only
    inside the import's own transaction (emptied or rolled back before it commits), so a
    committed one is a leftover of an interrupted run; a running import's rows are not visible
    to this transaction. The audit log keeps every import's counts."""
    cutoff = clock.now() - policy.register_imports
    counts = {
        "register_imports": delete_in_batches(
            session, RegisterImport.id,
            func.coalesce(RegisterImport.finished_at, RegisterImport.started_at) < cutoff,
            batch_size=policy.batch_size, dry_run=dry_run),
        "register_staging": delete_in_batches(session, StagedRow.id,
                                              batch_size=policy.batch_size, dry_run=dry_run),
    }
    return finish(session, clock, "register_imports", counts, cutoff, dry_run=dry_run)


# In the order the portal runs them; each in its own transaction.
PURGES = {
    "signatures": purge_signatures,
    "home_voting": redact_home_voting,
    "voter_marks": purge_voter_marks,
    "register_imports": purge_register_imports,
}
