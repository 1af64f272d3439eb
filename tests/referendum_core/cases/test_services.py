"""Case services against the database: filing, routing, transitions and their refusals,
complaint deadlines per article, photos, assignment, deadline changes."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from referendum_core.audit import AuditEntry, verify_chain
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases import filing, services
from referendum_core.cases.exceptions import (
    CaseError,
    InvalidCaseData,
    InvalidPhoto,
    InvalidTransition,
    NotAccredited,
    NotAllowed,
    StaleCase,
)
from referendum_core.cases.models import Case, EventKind
from referendum_core.cases.workflows import OBSERVER_REPORT, Party
from referendum_core.clock import RIGA, to_riga
from tests.case_factories import (
    CHAIR,
    COMMISSION,
    CVK,
    JPEG,
    NOT_AN_IMAGE,
    PNG,
    REQUESTER,
    report,
    station,
)

CAL = WorkingDayCalendar()


def kinds(case):
    return [e.kind for e in case.events]


def test_observer_report_is_routed_to_the_stations_municipal_commission(db_session, clock, people):
    observer = people.observer("0001000")
    riga_station = station(db_session, "0001000", 7)
    started = clock.now() - timedelta(minutes=4)
    case = report(db_session, clock, observer, riga_station, photos=[PNG, JPEG],
                  draft_started_at=started)
    assert case.municipality_id == riga_station.municipality_id
    assert case.polling_station_id == riga_station.id
    assert (case.state, case.owner_party, case.is_open) == ("submitted", "commission", True)
    assert case.created_by_id == observer.id and case.version == 1
    # Service level: triage within one working day (Monday 2 March -> end of Tuesday 3 March).
    assert to_riga(case.deadline_at).date() == date(2026, 3, 3)
    assert case.deadline_basis == "service level"
    assert kinds(case) == ["draft_started", "opened", "attachment", "attachment"]
    assert [p.content_type for p in case.photos] == ["image/png", "image/jpeg"]
    assert case.observer_report.category == "ballot_box"
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "case.opened")).all()
    assert audit[-1].object_id == str(case.id)


def test_report_from_an_observer_accredited_elsewhere_is_refused_and_audited(
        db_session, clock, people):
    observer = people.observer("0023000")
    accredited = {m.municipality_id for m in observer.memberships}
    before = db_session.scalar(select(func.count(Case.id)))
    with pytest.raises(NotAccredited):
        report(db_session, clock, observer, station(db_session, "0001000", 3),
               is_accredited=lambda s: s.municipality_id in accredited)
    assert db_session.scalar(select(func.count(Case.id))) == before
    refusal = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert refusal.action == "case.refused" and "NotAccredited" in refusal.detail


@pytest.mark.parametrize(("photos", "message"), [
    ([NOT_AN_IMAGE], "type_not_allowed"),
    ([b""], "empty"),
    ([PNG] * 7, "too_many"),
])
def test_report_photos_must_be_images_within_limits(db_session, clock, people, photos, message):
    with pytest.raises(InvalidPhoto, match=message):
        report(db_session, clock, people.observer(), photos=photos)


def test_oversized_photo_is_refused(db_session, clock, people, monkeypatch):
    monkeypatch.setattr(filing, "MAX_PHOTO_BYTES", 100)
    with pytest.raises(InvalidPhoto, match="too_large"):
        report(db_session, clock, people.observer(), photos=[PNG + b"\0" * 200])


@pytest.mark.parametrize("field", [{"category": "aliens"}, {"severity": "apocalyptic"},
                                   {"description": "   "}])
def test_report_with_bad_fields_is_refused(db_session, clock, people, field):
    with pytest.raises(InvalidCaseData):
        report(db_session, clock, people.observer(), **field)


def test_observer_report_walks_its_workflow(db_session, clock, people):
    member = people.member()
    case = report(db_session, clock, people.observer())
    services.transition_case(db_session, clock, member, case, "triage", 1, parties=COMMISSION)
    assert case.state == "triaged" and case.version == 2
    # Triaged: 3 working days (Mon 2 Mar -> Thu 5 Mar); investigating keeps that deadline.
    assert to_riga(case.deadline_at).date() == date(2026, 3, 5)
    services.transition_case(db_session, clock, member, case, "investigating", 2,
                             parties=COMMISSION)
    assert to_riga(case.deadline_at).date() == date(2026, 3, 5)
    clock.advance(timedelta(hours=3))
    services.transition_case(db_session, clock, member, case, "resolve", 3, "Urna aizzīmogota",
                             parties=COMMISSION)
    assert (case.state, case.is_open, case.closed_at) == ("resolved", False, clock.now())
    assert kinds(case)[-2:] == ["transition", "closed"]
    assert case.events[-2].note == "Urna aizzīmogota"
    assert verify_chain(db_session)[1] is None


def test_transition_not_declared_from_current_state_leaves_case_unchanged(db_session, clock, people):
    case = report(db_session, clock, people.observer())
    with pytest.raises(InvalidTransition):
        services.transition_case(db_session, clock, people.member(), case, "resolved", 1, "x",
                                 parties=COMMISSION)
    assert (case.state, case.version, kinds(case)) == ("submitted", 1, ["opened"])


def test_transition_for_the_wrong_party_is_refused(db_session, clock, people):
    observer = people.observer()
    case = report(db_session, clock, observer)
    with pytest.raises(NotAllowed):
        services.transition_case(db_session, clock, observer, case, "triage", 1,
                                 parties=REQUESTER)
    with pytest.raises(NotAllowed):  # CVK does not triage a commission's reports
        services.transition_case(db_session, clock, people.cvk_officer(), case, "triage", 1,
                                 parties=CVK)
    assert case.state == "submitted"


def test_note_is_required_where_declared(db_session, clock, people):
    case = report(db_session, clock, people.observer())
    with pytest.raises(InvalidCaseData):
        services.transition_case(db_session, clock, people.member(), case, "dismiss", 1, " ",
                                 parties=COMMISSION)
    assert case.state == "submitted"


def test_stale_expected_version_is_refused(db_session, clock, people):
    member = people.member()
    case = report(db_session, clock, people.observer())
    services.transition_case(db_session, clock, member, case, "triage", 1, parties=COMMISSION)
    with pytest.raises(StaleCase):
        services.transition_case(db_session, clock, member, case, "investigate", 1,
                                 parties=COMMISSION)
    assert case.state == "triaged"


def test_return_to_requester_and_resubmission_are_recorded(db_session, clock, people):
    observer, member = people.observer(), people.member()
    case = report(db_session, clock, observer)
    services.transition_case(db_session, clock, member, case, "triage", 1, parties=COMMISSION)
    services.transition_case(db_session, clock, member, case, "request_information", 2,
                             "Kurš iecirknis?", parties=COMMISSION)
    assert (case.state, case.owner_party, case.deadline_at) == (
        "awaiting_information", "requester", None)
    services.transition_case(db_session, clock, observer, case, "resubmit", 3, "Nr. 1",
                             parties=REQUESTER)
    assert case.state == "triaged"
    assert EventKind.RETURNED_TO_REQUESTER in kinds(case) and EventKind.RESUBMITTED in kinds(case)


def file_count_protocol_complaint(db_session, clock, voter, contested_on=date(2026, 2, 28)):
    muni = station(db_session).municipality_id
    return services.file_complaint(
        db_session, clock, voter, municipality_id=muni, grounds="count_protocol",
        applicant_kind="voter", contested="1. iecirkņa balsu skaitīšanas protokols",
        contested_on=contested_on, summary="Balsis saskaitītas nepareizi")


def test_art_20_7_complaint_deadlines_commission_3_then_court_5_working_days(
        db_session, clock, people):
    voter, chair = people.voter(), people.chair()
    case = file_count_protocol_complaint(db_session, clock, voter)
    # Filed Monday 2 March 2026: the commission decides by the end of Thursday 5 March.
    assert case.deadline_basis == "Art. 20(7)"
    assert to_riga(case.deadline_at).date() == date(2026, 3, 5)
    with pytest.raises(NotAllowed):  # a member cannot decide for the commission
        services.transition_case(db_session, clock, people.member(), case, "reject", 1, "x",
                                 parties=COMMISSION)
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=RIGA))
    services.transition_case(db_session, clock, chair, case, "reject", 1, "Protokols pareizs",
                             parties=CHAIR)
    # Decided Thursday 5 March: 5 working days to court -> Thursday 12 March.
    assert (case.state, case.owner_party, case.complaint.decision) == (
        "decided", "requester", "rejected")
    assert to_riga(case.complaint.court_deadline_at).date() == date(2026, 3, 12)
    services.transition_case(db_session, clock, voter, case, "appeal_to_court", 2,
                             parties=REQUESTER)
    assert case.deadline_basis == "Art. 31"
    assert to_riga(case.deadline_at).date() == date(2026, 4, 7)  # 4 Apr Sat; 6 Apr Easter Monday


def test_art_20_7_complaint_filed_after_3_working_days_is_refused(db_session, clock, people):
    with pytest.raises(InvalidCaseData, match=r"Art\. 20\(7\)"):
        file_count_protocol_complaint(db_session, clock, people.voter(),
                                      contested_on=date(2026, 2, 20))


def test_commission_query_goes_to_cvk_and_back(db_session, clock, people):
    member, officer = people.member(), people.cvk_officer()
    muni = station(db_session).municipality_id
    with pytest.raises(NotAllowed):
        services.ask_cvk(db_session, clock, people.voter(), municipality_id=muni, title="?",
                         question="?", parties=REQUESTER)
    case = services.ask_cvk(db_session, clock, member, municipality_id=muni,
                            title="Vēlētāju saraksti", question="Kā rīkoties?",
                            parties=COMMISSION | REQUESTER)
    assert (case.owner_party, to_riga(case.deadline_at).date()) == ("cvk", date(2026, 3, 9))
    services.transition_case(db_session, clock, officer, case, "answered", 1, "Šādi.",
                             parties=CVK)
    services.transition_case(db_session, clock, member, case, "closed", 2, parties=COMMISSION)
    assert not case.is_open


def test_assign_only_by_officials_to_officials(db_session, clock, people):
    member, observer = people.member(), people.observer()
    case = report(db_session, clock, observer)
    with pytest.raises(NotAllowed):
        services.assign_case(db_session, clock, observer, case, member, parties=REQUESTER,
                             assignee_may_work=True)
    with pytest.raises(NotAllowed):
        services.assign_case(db_session, clock, member, case, observer, parties=COMMISSION,
                             assignee_may_work=False)
    services.assign_case(db_session, clock, member, case, member, parties=COMMISSION,
                         assignee_may_work=True, expected_version=1)
    assert case.assignee_id == member.id and kinds(case)[-1] == "assignment"


def test_comment_and_photo_need_a_part_in_the_case(db_session, clock, people):
    observer = people.observer()
    case = report(db_session, clock, observer)
    with pytest.raises(NotAllowed):
        services.comment_on_case(db_session, clock, observer, case, "x", parties=())
    services.comment_on_case(db_session, clock, observer, case, "Papildinu", parties=REQUESTER)
    services.add_photo(db_session, clock, observer, case, PNG, parties=REQUESTER)
    assert kinds(case)[-2:] == ["comment", "attachment"]
    with pytest.raises(InvalidPhoto):
        services.add_photo(db_session, clock, observer, case, NOT_AN_IMAGE, parties=REQUESTER)


def test_service_level_deadline_can_move_but_a_legal_one_cannot(db_session, clock, people):
    chair = people.chair()
    case = report(db_session, clock, people.observer())
    later = clock.now() + timedelta(days=5)
    with pytest.raises(NotAllowed):
        services.change_deadline(db_session, clock, chair, case, later, "x", parties=COMMISSION)
    services.change_deadline(db_session, clock, chair, case, later, "Brīvdienas", parties=CHAIR)
    assert case.deadline_at == later and kinds(case)[-1] == "deadline_changed"
    complaint = file_count_protocol_complaint(db_session, clock, people.voter())
    with pytest.raises(NotAllowed):
        services.change_deadline(db_session, clock, chair, complaint, later, "x", parties=CHAIR)


def test_saved_filters_belong_to_their_owner(db_session, clock, people):
    member, other = people.member(), people.member()
    saved = services.save_filter(db_session, clock, member, "Mani", "type=complaint")
    assert services.save_filter(db_session, clock, member, "Mani", "overdue=1").id == saved.id
    with pytest.raises(NotAllowed):
        services.delete_filter(db_session, other, saved.id)
    services.delete_filter(db_session, member, saved.id)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.tuples(st.sampled_from(sorted({t.name for t in OBSERVER_REPORT.transitions}
                                                           | {"submitted", "resolved", "nowhere"})),
                                st.sets(st.sampled_from(list(Party)), min_size=1)),
                      max_size=12))
def test_random_service_calls_never_leave_a_case_in_an_undeclared_state(
        db_session, clock, people, moves):
    observer = people.observer()
    savepoint = db_session.begin_nested()
    case = report(db_session, clock, observer)
    declared = {s.name for s in OBSERVER_REPORT.states}
    for name, parties in moves:
        before = (case.state, case.version, len(case.events))
        try:
            services.transition_case(db_session, clock, observer, case, name, case.version,
                                     "note", parties=parties)
        except CaseError:
            assert (case.state, case.version, len(case.events)) == before
        assert case.state in declared
        assert case.is_open == (case.state not in OBSERVER_REPORT.final_states)
    savepoint.rollback()


def test_deadline_is_computed_in_riga_time(db_session, clock, people):
    # 23:30 UTC on Monday is already Tuesday in Riga: one working day -> end of Wednesday.
    clock.set(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    case = report(db_session, clock, people.observer())
    assert to_riga(case.deadline_at).date() == date(2026, 3, 4)
