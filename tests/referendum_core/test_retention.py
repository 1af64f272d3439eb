"""Retention of signatures, home-voting details, ETVR marks and register import history:
deleted after the configured period once the work is final (Art. 13, 20(7), 31), never while
an initiative collects or a referendum's results are not approved; one audit entry per run with
counts and no personal data; a dry run changes nothing."""
from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from referendum_core.audit import AuditEntry, verify_chain
from referendum_core.cases.models import Case, CaseEvent, CaseType
from referendum_core.etvr import Channel, EtvrMark
from referendum_core.initiatives import Initiative
from referendum_core.organisation import add_polling_station
from referendum_core.register_import import RegisterImport, StagedRow
from referendum_core.retention import (
    AUDIT_ACTION,
    RetentionPolicy,
    purge_register_imports,
    purge_signatures,
    purge_voter_marks,
    redact_home_voting,
)
from referendum_core.signatures import Signature
from referendum_core.voting.models import (
    HomeVotingRequest,
    Referendum,
    RegistrationEnvelope,
    Result,
    Stage,
)
from tests.conftest import municipality

DAY = timedelta(days=1)
POLICY = RetentionPolicy(batch_size=2)  # small batches: the loop must go round
REF = "a" * 64  # a person_ref (keyed hash): the audit entries must never contain one


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def _case(session, clock, case_type, state, *, closed_ago=None):
    now = clock.now()
    case = Case(type=case_type, state=state, title="Vai atbalstāt?",
                municipality_id=municipality(session).id, opened_at=now - 400 * DAY,
                updated_at=now, is_open=closed_ago is None,
                closed_at=None if closed_ago is None else now - closed_ago)
    session.add(case)
    session.flush()
    return case


def _initiative(session, clock, state, *, closed_ago=None, signers=3):
    case = _case(session, clock, CaseType.INITIATIVE, state, closed_ago=closed_ago)
    item = Initiative(case_id=case.id, municipality_id=case.municipality_id, subject="strategy",
                      initiator="residents", question="Vai?", reasons="Tāpēc.",
                      submitted_at=case.opened_at, decision_due_on=date(2025, 3, 1),
                      signatures_at_close=signers)
    session.add(item)
    session.flush()
    for i in range(signers):
        session.add(Signature(initiative_id=item.id, person_ref=f"{item.id:08d}{i:056d}",
                              method="in_person" if i % 2 else "online",
                              signed_at=case.opened_at, registered_at=case.opened_at,
                              certifier_type="notary" if i % 2 else None,
                              certifier_name="Notāre Ieva Kalniņa" if i % 2 else None))
    session.flush()
    return item


def _referendum(session, clock, *, approved_ago=None, stage=None):
    now = clock.now()
    case = _case(session, clock, CaseType.REFERENDUM, "voting")
    referendum = Referendum(
        case_id=case.id, municipality_id=case.municipality_id, subject="strategy",
        question_lv="Vai?", question_en="Do you?", decision_day=date(2025, 1, 10),
        referendum_day=date(2025, 3, 14), polls_open_at=now - 200 * DAY,
        polls_close_at=now - 200 * DAY + timedelta(hours=13), election_id=str(uuid.uuid4()),
        stage=stage or (Stage.APPROVED if approved_ago is not None else Stage.COUNTING),
        results_due_at=now - 195 * DAY, created_at=now - 300 * DAY)
    session.add(referendum)
    session.flush()
    if approved_ago is not None:
        session.add(Result(
            referendum_id=referendum.id, online_for=1, online_against=0, online_counted=1,
            in_person_for=1, in_person_against=1, in_person_invalid=0, ballots_issued=2,
            participants=3, votes_for=2, votes_against=1, is_valid=True, is_passed=True,
            protocol_sha256="0" * 64, approved_at=now - approved_ago))
    station = add_polling_station(session, municipality(session), 700 + referendum.id % 100,
                                  "Skola", "Gaujas iela 1")
    for i in range(3):
        session.add(EtvrMark(case_id=case.id, person_ref=f"{case.id:08d}{i:056d}",
                             channel=Channel.POLLING_STATION, polling_station_id=station.id,
                             marked_at=referendum.polls_open_at))
    session.add(RegistrationEnvelope(referendum_id=referendum.id, polling_station_id=station.id,
                                     person_ref=f"{case.id:08d}{9:056d}",
                                     recorded_at=referendum.polls_open_at))
    home = _case(session, clock, CaseType.HOME_VOTING, "refused", closed_ago=200 * DAY)
    session.add(HomeVotingRequest(case_id=home.id, referendum_id=referendum.id, person_ref=REF,
                                  address="Gaujas iela 5-2, Ādaži",
                                  reason="Slimības dēļ nevaru ierasties",
                                  requested_at=referendum.polls_open_at))
    session.add(CaseEvent(case_id=home.id, at=referendum.polls_open_at, kind="transition",
                          transition="refuse", note="Slimnīcā, ārpus iecirkņa"))
    session.flush()
    return referendum, home


def _audit_entries(session):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION)
                                .order_by(AuditEntry.seq)))


def _assert_no_personal_data(entry):
    for secret in (REF, "Gaujas", "Slimīb", "Slimnīc", "Notāre", "Kalniņa"):
        assert secret not in entry.detail


# Signatures (Art. 13) --------------------------------------------------------------------

def test_art13_signatures_of_final_initiatives_go_after_the_period(db_session, clock):
    old = _initiative(db_session, clock, "not_reached", closed_ago=366 * DAY, signers=5)
    recent = _initiative(db_session, clock, "reached", closed_ago=300 * DAY)
    collecting = _initiative(db_session, clock, "collecting")  # still open: never
    checking = _initiative(db_session, clock, "checking")
    counts = purge_signatures(db_session, clock, POLICY)
    assert counts == {"signatures": 5}
    left = {i: db_session.scalar(select(func.count()).where(Signature.initiative_id == i.id))
            for i in (old, recent, collecting, checking)}
    assert left == {old: 0, recent: 3, collecting: 3, checking: 3}
    assert old.signatures_at_close == 5  # the count the law needs stays on the initiative
    (entry,) = _audit_entries(db_session)
    assert entry.detail_dict["kind"] == "signatures" and entry.detail_dict["signatures"] == 5
    assert entry.actor_label == "system"
    _assert_no_personal_data(entry)
    assert purge_signatures(db_session, clock, POLICY) == {"signatures": 0}  # idempotent


def test_art13_a_collection_open_for_years_is_never_purged(db_session, clock):
    _initiative(db_session, clock, "collecting")
    clock.advance(3650 * DAY)
    assert purge_signatures(db_session, clock, RetentionPolicy(signatures=timedelta(0))) == {
        "signatures": 0}


def test_dry_run_counts_and_changes_nothing(db_session, clock):
    _initiative(db_session, clock, "refused", closed_ago=400 * DAY)
    _referendum(db_session, clock, approved_ago=400 * DAY)
    before = {m: _count(db_session, m) for m in (Signature, EtvrMark, RegistrationEnvelope)}
    assert purge_signatures(db_session, clock, POLICY, dry_run=True) == {"signatures": 3}
    assert purge_voter_marks(db_session, clock, POLICY, dry_run=True) == {
        "etvr_marks": 3, "registration_envelopes": 1}
    assert redact_home_voting(db_session, clock, POLICY, dry_run=True) == {
        "home_voting_requests": 1, "home_voting_notes": 1}
    assert {m: _count(db_session, m) for m in before} == before
    assert db_session.scalar(select(HomeVotingRequest.address)) == "Gaujas iela 5-2, Ādaži"
    assert _audit_entries(db_session) == []


# Home voting and ETVR marks (Art. 19, 20(7), 31) -----------------------------------------

def test_art19_home_voting_details_blanked_after_results_approved(db_session, clock):
    _, old_case = _referendum(db_session, clock, approved_ago=91 * DAY)
    _, new_case = _referendum(db_session, clock, approved_ago=80 * DAY)
    _, counting_case = _referendum(db_session, clock)  # results not approved: never
    counts = redact_home_voting(db_session, clock, POLICY)
    assert counts == {"home_voting_requests": 1, "home_voting_notes": 1}
    details = {c.id: db_session.get(HomeVotingRequest, c.id) for c in
               (old_case, new_case, counting_case)}
    db_session.expire_all()
    assert (details[old_case.id].address, details[old_case.id].reason) == ("", "")
    assert details[old_case.id].person_ref == REF  # the case stays countable
    assert details[new_case.id].address and details[counting_case.id].reason
    notes = dict(db_session.execute(select(CaseEvent.case_id, CaseEvent.note)).all())
    assert notes[old_case.id] == "" and notes[new_case.id] and notes[counting_case.id]
    (entry,) = _audit_entries(db_session)
    _assert_no_personal_data(entry)


def test_art31_voter_marks_kept_until_results_approved_and_the_period_passed(db_session, clock):
    old, _ = _referendum(db_session, clock, approved_ago=366 * DAY)
    recent, _ = _referendum(db_session, clock, approved_ago=10 * DAY)
    tallied, _ = _referendum(db_session, clock, stage=Stage.TALLIED)
    counts = purge_voter_marks(db_session, clock, POLICY)
    assert counts == {"etvr_marks": 3, "registration_envelopes": 1}
    marks = dict(db_session.execute(select(EtvrMark.case_id, func.count())
                                    .group_by(EtvrMark.case_id)).all())
    assert old.case_id not in marks and marks[recent.case_id] == 3 and marks[tallied.case_id] == 3
    # The election record is untouched: the referendum row and its result stay.
    assert db_session.get(Referendum, old.id) is not None
    assert _count(db_session, Result) == 2
    (entry,) = _audit_entries(db_session)
    assert entry.detail_dict["etvr_marks"] == 3
    _assert_no_personal_data(entry)


def test_audit_chain_still_verifies_after_a_purge(db_session, clock):
    _initiative(db_session, clock, "not_reached", closed_ago=400 * DAY)
    purge_signatures(db_session, clock, POLICY)
    checked, problem = verify_chain(db_session)
    assert problem is None and checked >= 1


# Register import history -------------------------------------------------------------------

def test_register_import_history_and_leftover_staging_rows(db_session, clock):
    now = clock.now()
    for days in (100, 10):
        db_session.add(RegisterImport(
            source="population", file_format="csv", mode="skip", filename="Jānis Bērziņš.csv",
            started_at=now - days * DAY, finished_at=now - days * DAY, status="aborted",
            report_json=json.dumps({"problems": [{"line": 3, "kind": "invalid_code"}]})))
    db_session.add(StagedRow(import_key="k" * 32, line=2, status="ok", person_ref=REF,
                             code_enc=b"x", name="Jānis Bērziņš"))
    db_session.flush()
    counts = purge_register_imports(db_session, clock, POLICY)
    assert counts == {"register_imports": 1, "register_staging": 1}
    (kept,) = db_session.scalars(select(RegisterImport)).all()
    assert kept.started_at == now - 10 * DAY
    (entry,) = _audit_entries(db_session)
    assert "Bērziņš" not in entry.detail and REF not in entry.detail


def test_policy_refuses_negative_periods():
    with pytest.raises(ValueError):
        RetentionPolicy(signatures=-DAY)
    with pytest.raises(ValueError):
        RetentionPolicy(batch_size=0)
