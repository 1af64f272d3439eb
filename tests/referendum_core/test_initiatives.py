"""Initiatives: subjects (Art. 5), start windows (Art. 6), initiators (Art. 7(3), 8(2), 9),
the municipality's decision and threshold (Art. 8(1), 10(4)-(6)), publication and collection
(Art. 25(2), 10(8))."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case, EventKind
from referendum_core.cases.workflows import REGISTRY
from referendum_core.clock import to_riga
from referendum_core.initiatives import (
    INITIATIVE_WORKFLOW,
    ApplicantNotEligible,
    CouncilDecisionMissing,
    CouncilMajorityMissing,
    CouncilOwnDismissal,
    DismissalOutsideTerm,
    DismissalRepeatTooSoon,
    Initiator,
    InvalidSubject,
    MissingBaseFigure,
    MissingText,
    OutsideStartWindow,
    Subject,
    WrongState,
    decide_initiative,
    next_regular_elections,
    publish_due_initiatives,
    signatures_needed,
    start_window,
    submit_initiative,
)
from referendum_core.register import voter_list_for
from referendum_core.voting.models import Result
from tests.conftest import municipality
from tests.register_data import add_person, code_for
from tests.voting_support import build_scenario

CAL = WorkingDayCalendar()
TODAY = date(2026, 3, 2)  # the clock fixture's day (Monday)


@pytest.fixture()
def adazi(db_session):
    muni = municipality(db_session)
    muni.voters_at_last_election = 6001
    muni.council_elected_on = date(2025, 6, 7)
    return muni


@pytest.fixture()
def resident(db_session, keys, adazi, people):
    code = code_for(date(1980, 1, 1), 1)
    add_person(db_session, keys.personal_codes, code, born=date(1980, 1, 1), municipality=adazi)
    return people.voter(code, "Ilze Ozola")


def submit(db_session, clock, user, muni, **kw):
    kw.setdefault("subject", Subject.STRATEGY)
    kw.setdefault("basis_date", date(2026, 2, 1))
    kw.setdefault("question", "Vai jūs atbalstāt stratēģijas grozījumu atcelšanu?")
    kw.setdefault("reasons", "Grozījumi pieņemti bez sabiedriskās apspriešanas.")
    return submit_initiative(db_session, clock, CAL, user, municipality=muni,
                             person_ref=user.person_ref if user.person_ref else None, **kw)


def test_workflow_is_registered_for_initiative_cases():
    assert REGISTRY.get("initiative") is INITIATIVE_WORKFLOW


def test_art7_3_resident_submits_and_a_case_opens(db_session, clock, resident, adazi):
    """Art. 7(3), 10(1), 10(4): a resident applies; the decision is due 15 days after the
    Art. 6 window ends."""
    initiative = submit(db_session, clock, resident, adazi)
    assert initiative.case.type == "initiative" and initiative.case.state == "submitted"
    # Art. 10(4): decision within 15 days after the Art. 6 window (2 months) ends.
    assert initiative.decision_due_on == date(2026, 4, 16)
    assert initiative.case.deadline_basis == "Art. 10(4)"


def test_art5_subject_outside_the_closed_list_is_refused(db_session, clock, resident, adazi):
    with pytest.raises(InvalidSubject):
        submit(db_session, clock, resident, adazi, subject="budget")


def test_art6_strategy_within_two_months_of_approval(db_session, clock, resident, adazi):
    submit(db_session, clock, resident, adazi, basis_date=date(2026, 1, 2))
    with pytest.raises(OutsideStartWindow):
        submit(db_session, clock, resident, adazi, basis_date=date(2025, 12, 31))


def test_art6_construction_within_one_month_of_publication(db_session, clock, resident, adazi):
    submit(db_session, clock, resident, adazi, subject=Subject.CONSTRUCTION,
           basis_date=date(2026, 2, 2))
    with pytest.raises(OutsideStartWindow):
        submit(db_session, clock, resident, adazi, subject=Subject.CONSTRUCTION,
               basis_date=date(2026, 1, 30))
    with pytest.raises(OutsideStartWindow):
        submit(db_session, clock, resident, adazi, subject=Subject.CONSTRUCTION,
               basis_date=None)


def test_art6_no_dismissal_in_the_councils_first_year(db_session, clock, resident, adazi):
    with pytest.raises(DismissalOutsideTerm):
        submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL, basis_date=None)
    clock.set(datetime(2026, 6, 8, 9, tzinfo=UTC))
    assert submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL,
                  basis_date=None).subject == "dismissal"


def test_art6_no_dismissal_in_the_councils_last_year(db_session, clock, resident, adazi):
    """Art. 6: the last year runs up to the next regular elections, Saturday 2 June 2029
    (the first Saturday of June every four years from 2025), not to 7 June."""
    assert next_regular_elections(date(2025, 6, 7)) == date(2029, 6, 2)
    clock.set(datetime(2028, 6, 1, 20, 59, tzinfo=UTC))  # 23:59 on 1 June 2028 in Riga
    submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL, basis_date=None)
    clock.set(datetime(2028, 6, 1, 21, 0, tzinfo=UTC))  # 00:00 on 2 June 2028 in Riga
    with pytest.raises(DismissalOutsideTerm) as err:
        submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL, basis_date=None)
    assert err.value.params == {"first": date(2026, 6, 7), "last": date(2028, 6, 1)}


def test_art6_council_from_extraordinary_elections_ends_its_term_at_regular_elections(
        db_session, clock, resident, adazi):
    """Art. 6: a council chosen at extraordinary elections (here 14 February 2026) has its
    last year before the next regular elections of 2 June 2029, not four years on."""
    adazi.council_elected_on = date(2026, 2, 14)
    assert start_window(Subject.DISMISSAL, adazi, None) == (date(2027, 2, 14),
                                                            date(2028, 6, 1))
    clock.set(datetime(2027, 2, 13, 10, tzinfo=UTC))
    with pytest.raises(DismissalOutsideTerm):  # still its first year
        submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL, basis_date=None)
    clock.set(datetime(2028, 6, 5, 10, tzinfo=UTC))
    with pytest.raises(DismissalOutsideTerm):  # already its last year
        submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL, basis_date=None)
    # Elected less than two years before regular elections: no day is allowed at all.
    adazi.council_elected_on = date(2027, 9, 4)
    first, last = start_window(Subject.DISMISSAL, adazi, None)
    assert first > last


@pytest.mark.parametrize(("after", "regular"), [
    (date(2021, 6, 5), date(2025, 6, 7)), (date(2025, 6, 6), date(2025, 6, 7)),
    (date(2025, 6, 7), date(2029, 6, 2)), (date(2030, 1, 1), date(2033, 6, 4)),
])
def test_art6_regular_council_elections_are_the_first_saturday_of_june_every_four_years(
        after, regular):
    assert next_regular_elections(after) == regular and regular.weekday() == 5


def test_art6_dismissal_needs_the_council_election_date(db_session, clock, resident, adazi):
    adazi.council_elected_on = None
    with pytest.raises(MissingBaseFigure):
        submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL, basis_date=None)


def test_art7_3_applicant_must_be_an_eligible_voter(db_session, clock, adazi, people, keys):
    code = code_for(date(2010, 1, 1), 2)
    add_person(db_session, keys.personal_codes, code, born=date(2010, 1, 1),
               municipality=adazi)
    with pytest.raises(ApplicantNotEligible):
        submit(db_session, clock, people.voter(code, "Jauns"), adazi)
    with pytest.raises(ApplicantNotEligible):
        submit(db_session, clock, people.voter(code_for(date(1970, 1, 1), 3), "Svešs"), adazi)


COUNCIL = {"initiator": Initiator.COUNCIL, "council_decided_on": date(2026, 2, 26),
           "council_decision_number": "Nr. 7/12"}


def test_art8_2_council_needs_two_thirds_of_all_councillors(db_session, clock, adazi, people):
    chair = people.chair()
    ok = submit(db_session, clock, chair, adazi, council_votes_for=10, council_size=15,
                **COUNCIL)
    assert ok.initiator == "council"
    assert (ok.council_decided_on, ok.council_decision_number, ok.council_votes_for,
            ok.council_size) == (date(2026, 2, 26), "Nr. 7/12", 10, 15)
    for votes in (9, 16, -1, None):
        with pytest.raises(CouncilMajorityMissing):
            submit(db_session, clock, chair, adazi, council_votes_for=votes, council_size=15,
                   **COUNCIL)


def test_art8_2_council_initiative_records_its_decision_and_calls_the_referendum(
        db_session, clock, adazi, people):
    """Art. 8(2), 13(4): no signatures; the referendum case opens at once, to be held within
    4 months of the council's decision, with the voters fixed on that day (Art. 7(2))."""
    item = submit(db_session, clock, people.chair(), adazi, council_votes_for=10,
                  council_size=15, **COUNCIL)
    assert item.case.state == "called" and not item.case.is_open
    assert item.signatures_needed is None and item.collection_starts_at is None
    assert item.referendum_decided_on == date(2026, 2, 26)
    assert item.referendum_due_on == date(2026, 6, 26)
    referendum = db_session.get(Case, item.referendum_case_id)
    assert referendum.type == "referendum" and referendum.state == "scheduled"
    assert referendum.deadline_basis == "Art. 13(4)"
    assert voter_list_for(db_session, referendum.id).decision_day == date(2026, 2, 26)


def test_art8_2_council_decision_needs_its_date_and_number(db_session, clock, adazi, people):
    for missing in ({"council_decided_on": None}, {"council_decision_number": " "},
                    {"council_decided_on": date(2026, 3, 3)}):  # tomorrow
        with pytest.raises(CouncilDecisionMissing):
            submit(db_session, clock, people.chair(), adazi, council_votes_for=10,
                   council_size=15, **{**COUNCIL, **missing})


def test_art6_council_decision_must_fall_in_the_start_window(db_session, clock, adazi, people):
    """Art. 6 for the council: its decision within 2 months of the strategy's approval."""
    with pytest.raises(OutsideStartWindow):
        submit(db_session, clock, people.chair(), adazi, council_votes_for=10,
               council_size=15, basis_date=date(2025, 12, 20), **COUNCIL)


def test_art9_council_never_initiates_its_own_dismissal(db_session, clock, adazi, people):
    clock.set(datetime(2026, 9, 1, 9, tzinfo=UTC))
    with pytest.raises(CouncilOwnDismissal):
        submit(db_session, clock, people.chair(), adazi, subject=Subject.DISMISSAL,
               council_votes_for=15, council_size=15,
               **{**COUNCIL, "council_decided_on": date(2026, 8, 31)})
    # Also in the council's first year: Art. 9 is the reason, not the window.
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    with pytest.raises(CouncilOwnDismissal):
        submit(db_session, clock, people.chair(), adazi, subject=Subject.DISMISSAL,
               council_votes_for=15, council_size=15, **COUNCIL)


def test_empty_question_is_refused(db_session, clock, resident, adazi):
    with pytest.raises(MissingText):
        submit(db_session, clock, resident, adazi, question="   ")


@pytest.mark.parametrize(("atvk", "subject", "base", "needed"), [
    ("0001000", Subject.STRATEGY, 400001, 40001),   # Rīga 10 %, rounded up
    ("0023000", Subject.CONSTRUCTION, 6001, 901),   # others 15 %, rounded up
    ("0023000", Subject.DISMISSAL, 6001, 1801),     # dismissal 30 %, rounded up
    ("0001000", Subject.DISMISSAL, 10, 3),
])
def test_art8_1_signature_threshold(db_session, atvk, subject, base, needed):
    muni = municipality(db_session, atvk)
    muni.voters_at_last_election = base
    assert signatures_needed(subject, muni) == (needed, base)


def test_art8_1_threshold_needs_the_base_figure(db_session):
    muni = municipality(db_session)
    muni.voters_at_last_election = None
    with pytest.raises(MissingBaseFigure):
        signatures_needed(Subject.STRATEGY, muni)


def test_art10_decision_fixes_question_threshold_publication_and_collection(
        db_session, clock, resident, adazi, people):
    initiative = submit(db_session, clock, resident, adazi)
    decide_initiative(db_session, clock, CAL, people.chair(), initiative, can=True,
                      question="Vai atbalstāt grozījumu atcelšanu?")
    assert initiative.case.state == "approved" and initiative.signatures_needed == 901
    assert initiative.question == "Vai atbalstāt grozījumu atcelšanu?"
    # Art. 25(2): the 3rd working day after the notices (sent on the decision day, Monday).
    assert initiative.published_on == date(2026, 3, 5)
    assert to_riga(initiative.collection_starts_at).date() == date(2026, 3, 5)
    # Art. 10(8): exactly 30 days of collection, 5 March to 3 April, closing at 24:00 Riga.
    assert to_riga(initiative.collection_ends_at).date() == date(2026, 4, 3)
    assert (initiative.collection_first_day, initiative.collection_last_day) == (
        date(2026, 3, 5), date(2026, 4, 3))
    assert (initiative.collection_last_day - initiative.collection_first_day).days + 1 == 30
    assert initiative.collection_ends_at == datetime(2026, 4, 3, 20, 59, 59, 999999, tzinfo=UTC)
    assert initiative.notices_due_on == date(2026, 3, 5)  # Art. 10(6)
    with pytest.raises(WrongState):
        decide_initiative(db_session, clock, CAL, people.chair(), initiative, can=False,
                          note="x")


def test_art25_2_publication_skips_holidays(db_session, clock, resident, adazi, people):
    clock.set(datetime(2026, 4, 30, 9, tzinfo=UTC))  # Thursday; 1 and 4 May are holidays
    initiative = submit(db_session, clock, resident, adazi, basis_date=date(2026, 3, 1))
    decide_initiative(db_session, clock, CAL, people.chair(), initiative, can=True)
    assert initiative.published_on == date(2026, 5, 7)  # 5, 6, 7 May


def test_art25_2_a_decision_on_a_rest_day_publishes_on_the_3rd_working_day_after_its_notices(
        db_session, clock, resident, adazi, people):
    """Art. 25(2), 10(6): the notices go out at once, also when the municipality decides on a
    Saturday (7 March 2026); the 3rd working day after them is Wednesday 11 March (9, 10, 11),
    not a day later as if the notices had been sent on Monday."""
    clock.set(datetime(2026, 3, 7, 8, tzinfo=UTC))
    initiative = submit(db_session, clock, resident, adazi)
    decide_initiative(db_session, clock, CAL, people.chair(), initiative, can=True)
    assert initiative.published_on == date(2026, 3, 11)
    assert initiative.collection_last_day == date(2026, 4, 9)
    assert initiative.notices_due_on == date(2026, 3, 11)


def test_art10_refusal_needs_reasons_and_closes_the_case(db_session, clock, resident, adazi,
                                                          people):
    initiative = submit(db_session, clock, resident, adazi)
    with pytest.raises(MissingText):
        decide_initiative(db_session, clock, CAL, people.chair(), initiative, can=False)
    decide_initiative(db_session, clock, CAL, people.chair(), initiative, can=False,
                      note="Jautājums nav pašvaldības kompetencē.")
    assert initiative.case.state == "refused" and not initiative.case.is_open


def test_art25_2_collection_opens_on_the_publication_day(db_session, clock, resident, adazi,
                                                         people):
    initiative = submit(db_session, clock, resident, adazi)
    decide_initiative(db_session, clock, CAL, people.chair(), initiative, can=True)
    assert publish_due_initiatives(db_session, clock, CAL) == []
    clock.set(datetime(2026, 3, 4, 22, 0, tzinfo=UTC))  # 00:00 on 5 March in Riga
    assert publish_due_initiatives(db_session, clock, CAL) == [initiative]
    assert initiative.case.state == "collecting" and initiative.is_collecting(clock.now())
    assert initiative.days_left(clock.now()) == 30  # Art. 10(8): the first of 30 days
    clock.set(datetime(2026, 4, 3, 20, 59, tzinfo=UTC))  # 23:59 on the 30th day (EEST)
    assert initiative.is_collecting(clock.now()) and initiative.days_left(clock.now()) == 1
    clock.set(datetime(2026, 4, 3, 21, 0, tzinfo=UTC))  # 00:00 on 4 April: closed
    assert not initiative.is_collecting(clock.now())


def test_art23_a_failed_dismissal_blocks_a_new_one_for_a_year(db_session, clock, keys, resident,
                                                               adazi):
    """Art. 23: results of a dismissal that did not pass, approved on 1 May 2026, block a new
    dismissal initiative in the municipality until 1 May 2027."""
    failed = build_scenario(db_session, clock, keys, subject="dismissal", open_now=False)
    db_session.add(Result(
        referendum_id=failed.referendum.id, online_for=0, online_against=0, online_counted=0,
        in_person_for=1, in_person_against=3, in_person_invalid=0, ballots_issued=4,
        participants=4, votes_for=1, votes_against=3, voters_base=9, participants_base=6,
        is_valid=True, is_passed=False, protocol_sha256="0" * 64,
        approved_at=datetime(2026, 5, 1, 9, tzinfo=UTC)))
    db_session.flush()
    clock.set(datetime(2027, 4, 30, 9, tzinfo=UTC))
    with pytest.raises(DismissalRepeatTooSoon) as err:
        submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL, basis_date=None)
    assert err.value.params["until"] == date(2027, 5, 1)
    clock.set(datetime(2027, 5, 1, 9, tzinfo=UTC))
    assert submit(db_session, clock, resident, adazi, subject=Subject.DISMISSAL,
                  basis_date=None).subject == "dismissal"


def test_art12_construction_referendum_suspends_the_council_decision_until_the_results(
        db_session, clock, adazi, people):
    """Art. 12: shown on both cases while the referendum is pending; ends with the results."""
    item = submit(db_session, clock, people.chair(), adazi, subject=Subject.CONSTRUCTION,
                  basis_date=date(2026, 2, 20), council_votes_for=10, council_size=15,
                  **COUNCIL)
    assert item.is_council_decision_suspended
    referendum = db_session.get(Case, item.referendum_case_id)
    for case in (referendum, item.case):
        assert [e.data_dict["basis"] for e in case.events if e.kind == EventKind.STEP
                and e.data_dict["step"] == "council_decision_suspended"] == ["Art. 12"]
    referendum.is_open = False  # the results were announced
    assert not item.is_council_decision_suspended
    strategy = submit(db_session, clock, people.chair(), adazi, council_votes_for=10,
                      council_size=15, **COUNCIL)
    assert not strategy.is_council_decision_suspended


def test_art13_4_four_months_after_a_month_end_is_the_last_day_of_february():
    """Art. 13(4): 31 October + 4 months is 28 February, or 29 February in a leap year."""
    from referendum_core.initiatives import add_months

    assert add_months(date(2026, 10, 31), 4) == date(2027, 2, 28)
    assert add_months(date(2027, 10, 31), 4) == date(2028, 2, 29)
    assert add_months(date(2026, 10, 30), 4) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 4) == date(2027, 12, 31)


def test_art6_the_last_year_ends_the_day_before_the_first_saturday_of_june():
    """Art. 6: on the eve of regular elections the next ones are that Saturday; on the day
    itself they are four years later. A council from extraordinary elections on 27 February
    2027 may be dismissed from 27 February 2028 (leap year) to 1 June 2028."""
    from referendum_core.organisation import Municipality

    assert next_regular_elections(date(2029, 6, 1)) == date(2029, 6, 2)
    assert next_regular_elections(date(2029, 6, 2)) == date(2033, 6, 4)
    council = Municipality(council_elected_on=date(2027, 2, 27))
    assert start_window(Subject.DISMISSAL, council, None) == (date(2028, 2, 27),
                                                               date(2028, 6, 1))
