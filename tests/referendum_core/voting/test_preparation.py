"""Setting up a referendum's vote: Saturday, windows, trustees and keys, the frozen manifest."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from referendum_core.cases.models import Case, CaseType, EventKind
from referendum_core.crypto import context_from_manifest, generate_trustee_key
from referendum_core.crypto.manifest import election_hash
from referendum_core.initiatives import Initiative, initiative_of_referendum
from referendum_core.organisation import CommissionKind, get_commission
from referendum_core.register import voter_list_for
from referendum_core.voting import add_trustee_key, choose_trustees, open_voting, setup_referendum
from referendum_core.voting.exceptions import (
    InvalidSetup,
    NotATrustee,
    TrusteeKeyRefused,
    WrongStage,
)
from referendum_core.voting.models import Referendum, Stage
from referendum_core.voting.preparation import CouncilDecision
from referendum_core.voting.rules import register_steps
from tests.conftest import municipality
from tests.voting_support import (
    CALENDAR,
    REFERENDUM_DAY,
    build_scenario,
    official,
    referendum_case,
    riga,
)

COUNCIL = CouncilDecision(subject="strategy", question_lv="Vai atbalstāt?",
                          reasons="Dome nolēma.", decided_on=date(2026, 2, 26), number="Nr. 3/9",
                          votes_for=10, council_size=15, basis_date=date(2026, 2, 2))


# Far enough from the clock's 2 March for the Voter Register Law's deadlines.
LATER_DAY = date(2026, 4, 25)


def _setup(db_session, clock, **kw):
    args = {"municipality": municipality(db_session), "council": COUNCIL,
            "question_en": "Do you support?", "referendum_day": LATER_DAY}
    args.update(kw)
    return setup_referendum(db_session, clock, CALENDAR, None, **args)


def _count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_art16_1_referendum_day_must_be_a_saturday(db_session, clock):
    with pytest.raises(InvalidSetup) as err:
        _setup(db_session, clock, referendum_day=date(2026, 3, 13))
    assert err.value.params["field"] == "referendum_day"


def test_setup_refuses_unknown_subject_empty_question_and_past_day(db_session, clock):
    with pytest.raises(InvalidSetup):
        _setup(db_session, clock, council=replace(COUNCIL, subject="budget"))
    with pytest.raises(InvalidSetup):
        _setup(db_session, clock, question_en="  ")
    with pytest.raises(InvalidSetup):  # online voting of 7 March would have started already
        _setup(db_session, clock, referendum_day=date(2026, 3, 7))
    assert _count(db_session, Initiative) == 0 and _count(db_session, Case) == 0


def test_art8_2_council_referendum_opens_through_the_initiative_path(db_session, clock):
    """Art. 8(2): set-up without a case records the council's decision as a council initiative
    (the same path as the initiative pages) and sets up its referendum case."""
    referendum = _setup(db_session, clock)
    assert referendum.case.type == CaseType.REFERENDUM and referendum.case.state == "scheduled"
    assert referendum.has_online_voting and referendum.stage == Stage.SETUP
    initiative = initiative_of_referendum(db_session, referendum.case_id)
    assert initiative.initiator == "council" and initiative.case.state == "called"
    assert (initiative.council_decided_on, initiative.council_decision_number,
            initiative.council_votes_for, initiative.council_size) == (
        date(2026, 2, 26), "Nr. 3/9", 10, 15)
    assert referendum.decision_day == date(2026, 2, 26)
    assert voter_list_for(db_session, referendum.case_id).decision_day == date(2026, 2, 26)
    with pytest.raises(InvalidSetup):  # the same case cannot be set up twice
        _setup(db_session, clock, case=referendum.case)


@pytest.mark.parametrize(("change", "reason"), [
    ({"subject": "dismissal"}, "council_own_dismissal"),  # Art. 9
    ({"votes_for": 9}, "council_majority_missing"),  # Art. 8(2): 9 of 15 < 2/3
    ({"number": ""}, "council_decision_missing"),
    ({"decided_on": date(2026, 3, 3)}, "council_decision_missing"),  # in the future
    ({"basis_date": date(2025, 12, 1)}, "outside_start_window"),  # Art. 6: 2 months
])
def test_art6_8_2_9_council_path_refuses_what_the_law_refuses_and_writes_nothing(
        db_session, clock, change, reason):
    with pytest.raises(InvalidSetup) as err:
        _setup(db_session, clock, council=replace(COUNCIL, **change))
    assert err.value.reason == reason
    assert _count(db_session, Initiative) == 0 and _count(db_session, Referendum) == 0
    assert _count(db_session, Case) == 0


def test_art13_4_council_referendum_within_4_months_of_the_council_decision(db_session, clock):
    # Decided 26 February 2026: the latest day is 26 June; Saturday 27 June is too late.
    with pytest.raises(InvalidSetup) as err:
        _setup(db_session, clock, referendum_day=date(2026, 6, 27))
    assert err.value.reason == "after_latest_day"
    assert err.value.params["latest"] == date(2026, 6, 26)
    assert _setup(db_session, clock, referendum_day=date(2026, 6, 20)).referendum_day == \
        date(2026, 6, 20)


def test_set_up_is_bound_to_the_initiative_subject_question_and_latest_day(db_session, clock):
    """Art. 5, 10(5), 13(4), 15(2), 22(3): a dismissal initiative's referendum cannot be set up
    as "strategy" (which would open online voting and judge it by the 1/3 quorum), with
    another question, or after the 4-month limit."""
    muni = municipality(db_session)
    case = referendum_case(db_session, clock, muni, "dismissal", "Vai atlaist domi?")
    common = {"case": case, "question_en": "Dismiss the council?", "municipality": muni}
    for change, reason in (({"subject": "strategy"}, "subject_mismatch"),
                           ({"question_lv": "Vai atbalstāt ko citu?"}, "question_mismatch"),
                           ({"referendum_day": date(2026, 7, 4)}, "after_latest_day")):
        with pytest.raises(InvalidSetup) as err:
            setup_referendum(db_session, clock, CALENDAR, None,
                             **{"referendum_day": LATER_DAY, **common, **change})
        assert err.value.reason == reason
    assert _count(db_session, Referendum) == 0
    referendum = setup_referendum(db_session, clock, CALENDAR, None, subject="dismissal",
                                  question_lv=" Vai  atlaist domi? ",
                                  referendum_day=LATER_DAY, **common)
    assert referendum.subject == "dismissal" and referendum.question_lv == "Vai atlaist domi?"
    assert not referendum.has_online_voting  # Art. 15(2)


def test_set_up_refuses_a_case_of_another_municipality(db_session, clock):
    case = referendum_case(db_session, clock, municipality(db_session), "strategy", "Vai?")
    with pytest.raises(InvalidSetup) as err:
        setup_referendum(db_session, clock, CALENDAR, None, case=case, question_en="Q?",
                         referendum_day=LATER_DAY,
                         municipality=municipality(db_session, "0001000"))
    assert err.value.reason == "wrong_case"


def test_vrl_set_up_refuses_a_day_too_close_for_the_voter_register_deadlines(db_session,
                                                                           clock):
    """VRL 12, 12¹: the register is informed by 12:00 of the 19th working day before referendum
    day; for Saturday 14 March 2026 that is Tuesday 17 February."""
    council = replace(COUNCIL, decided_on=date(2026, 2, 12))
    clock.set(riga(date(2026, 2, 17), 12, 1))
    with pytest.raises(InvalidSetup) as err:
        _setup(db_session, clock, referendum_day=REFERENDUM_DAY, council=council)
    assert err.value.reason == "register_deadlines"
    assert err.value.params["inform_by"] == riga(date(2026, 2, 17), 12)
    assert _count(db_session, Initiative) == 0 and _count(db_session, Case) == 0
    clock.set(riga(date(2026, 2, 17), 12))
    assert _setup(db_session, clock, referendum_day=REFERENDUM_DAY,
                  council=council).referendum_day == REFERENDUM_DAY


def test_vrl_register_steps_are_on_the_case_timeline_with_their_deadlines(db_session, clock):
    """VRL 7¹, 12, 12¹, 15(5): informed within 1 working day and by 12:00 of the 19th working
    day before; initial list 15 working days before; changes close 18:00 on the 7th day
    before; list to the ETVR by 10:00 on the 6th day before (Riga time, EEST in April)."""
    referendum = _setup(db_session, clock)  # Monday 2 March, for Saturday 25 April
    steps = {e.data_dict["step"]: e.deadline_at for e in referendum.case.events
             if e.kind == EventKind.STEP and e.data_dict["basis"].startswith("VRL")}
    assert steps == {
        "inform_register": datetime(2026, 3, 3, 21, 59, 59, 999999, tzinfo=UTC),  # EET
        "initial_list": datetime(2026, 4, 2, 20, 59, 59, 999999, tzinfo=UTC),  # EEST
        "register_changes_close": riga(date(2026, 4, 18), 18),
        "list_to_etvr": riga(date(2026, 4, 19), 10),
    }
    late = register_steps(CALENDAR, date(2026, 4, 25), date(2026, 3, 27))
    assert late[0].due_at == riga(date(2026, 3, 27), 12)  # the 19th working day before


def test_art14_council_applicants_and_public_told_within_5_and_10_working_days(db_session,
                                                                             clock):
    """Art. 14: steps on the referendum case, counted from the decision (26 February 2026)."""
    referendum = _setup(db_session, clock)
    steps = {e.data_dict["step"]: (e.deadline_at, e.data_dict["basis"])
             for e in referendum.case.events if e.kind == EventKind.STEP}
    assert steps["tell_council_and_applicants"] == (
        datetime(2026, 3, 5, 21, 59, 59, 999999, tzinfo=UTC), "Art. 14")
    assert steps["public_announcement"] == (
        datetime(2026, 3, 12, 21, 59, 59, 999999, tzinfo=UTC), "Art. 14")


def test_art13_5_a_second_application_20_working_days_before_joins_the_scheduled_day(
        db_session, clock, keys):
    """Art. 13(5): decided on 12 February, at least 20 working days before Saturday 14 March
    (the 20th is 16 February) and within 4 months: held on 14 March, no other day."""
    first = build_scenario(db_session, clock, keys, open_now=False)
    assert first.referendum.referendum_day == REFERENDUM_DAY
    clock.set(riga(date(2026, 2, 16), 10))
    council = replace(COUNCIL, decided_on=date(2026, 2, 12))
    with pytest.raises(InvalidSetup) as err:
        _setup(db_session, clock, council=council, referendum_day=date(2026, 3, 21))
    assert err.value.reason == "same_day_required"
    assert err.value.params["day"] == REFERENDUM_DAY
    second = _setup(db_session, clock, council=council, referendum_day=REFERENDUM_DAY)
    assert initiative_of_referendum(db_session, second.case_id).referendum_same_day == \
        REFERENDUM_DAY


def test_art13_5_an_application_less_than_20_working_days_before_is_not_joined(
        db_session, clock, keys):
    build_scenario(db_session, clock, keys, open_now=False)
    clock.set(riga(date(2026, 2, 17), 10))
    referendum = _setup(db_session, clock, council=replace(COUNCIL, decided_on=date(2026, 2, 17)),
                        referendum_day=date(2026, 3, 21))
    assert initiative_of_referendum(db_session, referendum.case_id).referendum_same_day is None


def test_art15_2_dismissal_has_no_online_voting_and_no_trustees(db_session, clock, keys):
    scenario = build_scenario(db_session, clock, keys, subject="dismissal", open_now=False)
    referendum = scenario.referendum
    assert not referendum.has_online_voting and referendum.online_opens_at is None
    with pytest.raises(InvalidSetup):
        choose_trustees(db_session, clock, scenario.chair, referendum, scenario.trustees)
    open_voting(db_session, clock, CALENDAR, scenario.chair, referendum)
    assert referendum.manifest is None and referendum.stage == Stage.VOTING


def test_art20_6_trustees_come_from_the_internet_commission(db_session, clock, keys):
    scenario = build_scenario(db_session, clock, keys, open_now=False)
    with pytest.raises(NotATrustee):
        choose_trustees(db_session, clock, scenario.chair, scenario.referendum,
                        [scenario.members[0]])


def test_trustee_key_proof_is_checked_on_upload(db_session, clock, keys):
    scenario = build_scenario(db_session, clock, keys, open_now=False)
    referendum, trustee = scenario.referendum, scenario.trustees[0]
    _, other_election = generate_trustee_key("another-election", "T")
    with pytest.raises(TrusteeKeyRefused) as err:
        add_trustee_key(db_session, clock, trustee, referendum, json.dumps(other_election))
    assert err.value.params["location"] == "pok"
    _, public = generate_trustee_key(referendum.election_id, "T")
    public["pok"]["response"] = "00" * 32
    with pytest.raises(TrusteeKeyRefused):
        add_trustee_key(db_session, clock, trustee, referendum, json.dumps(public))
    with pytest.raises(TrusteeKeyRefused):
        add_trustee_key(db_session, clock, trustee, referendum, "{not json")
    # Someone who is not a trustee of this referendum cannot upload at all.
    with pytest.raises(NotATrustee):
        add_trustee_key(db_session, clock, scenario.chair, referendum, json.dumps(public))


def test_manifest_is_frozen_when_voting_opens(db_session, clock, keys):
    scenario = build_scenario(db_session, clock, keys)
    referendum = scenario.referendum
    manifest = referendum.manifest_dict
    ctx = context_from_manifest(manifest)
    assert referendum.election_hash == election_hash(manifest).hex() == ctx.election_hash.hex()
    assert manifest["opens_at"] == "2026-03-08T22:00:00Z"
    assert manifest["closes_at"] == "2026-03-11T22:00:00Z"
    assert manifest["revoting"] is True and manifest["municipality"] == "0023000"
    assert [c["id"] for c in manifest["question"]["choices"]] == ["yes", "no"]
    assert referendum.case.state == "voting"
    _, public = generate_trustee_key(referendum.election_id, "Late")
    with pytest.raises(WrongStage):
        add_trustee_key(db_session, clock, scenario.trustees[0], referendum, json.dumps(public))
    with pytest.raises(WrongStage):
        choose_trustees(db_session, clock, scenario.chair, referendum, scenario.trustees)
    with pytest.raises(WrongStage):
        open_voting(db_session, clock, CALENDAR, scenario.chair, referendum)


def test_voting_cannot_open_with_a_trustee_key_missing(db_session, clock, keys):
    scenario = build_scenario(db_session, clock, keys, open_now=False)
    internet = get_commission(db_session, CommissionKind.INTERNET)
    extra = official(db_session, clock, "late-trustee", Role.INTERNET_COMMISSION_MEMBER,
                     internet)
    choose_trustees_again = scenario.trustees + [extra]
    with pytest.raises(WrongStage):  # keys are in: the choice is fixed
        choose_trustees(db_session, clock, scenario.chair, scenario.referendum,
                        choose_trustees_again)
    fresh = build_scenario(db_session, clock, keys, open_now=False, atvk="0001000",
                           prefix="riga-", station_number=802)
    for trustee in fresh.referendum.trustees[1:]:
        trustee.public_key = trustee.public_json = None
    with pytest.raises(InvalidSetup) as err:
        open_voting(db_session, clock, CALENDAR, fresh.chair, fresh.referendum)
    assert err.value.params["missing"] == [1]


def test_art13_5_a_same_day_the_register_deadlines_can_no_longer_meet_does_not_block_set_up(
        db_session, clock, keys):
    """Art. 13(5), VRL 12: the council decided on 12 February, 20 working days before the
    referendum already scheduled for Saturday 14 March, but the set-up comes on 18 February,
    after the register had to be told for 14 March (12:00 on 17 February). The same day can no
    longer be prepared, so it binds nothing: the referendum is set up on another day within
    the 4-month limit instead of being refused for every day."""
    build_scenario(db_session, clock, keys, open_now=False)
    clock.set(riga(date(2026, 2, 18), 10))
    council = replace(COUNCIL, decided_on=date(2026, 2, 12))
    with pytest.raises(InvalidSetup) as err:
        _setup(db_session, clock, council=council, referendum_day=REFERENDUM_DAY)
    assert err.value.reason == "register_deadlines"
    referendum = _setup(db_session, clock, council=council, referendum_day=date(2026, 3, 21))
    assert referendum.referendum_day == date(2026, 3, 21)
    assert initiative_of_referendum(db_session, referendum.case_id).referendum_same_day is None


def test_art13_5_a_case_whose_same_day_passed_before_set_up_can_still_be_set_up(
        db_session, clock, keys):
    """Art. 13(5), 13(4): a referendum case opened while a referendum was scheduled 20 working
    days after the application records that day; when the set-up comes after the register's
    deadline for it, the case is set up on another day within its 4-month limit (before, every
    day was refused and the case could never be held)."""
    build_scenario(db_session, clock, keys, open_now=False)
    clock.set(riga(date(2026, 2, 16), 10))
    council = replace(COUNCIL, decided_on=date(2026, 2, 12))
    from referendum_core.initiatives import Initiator, submit_initiative

    initiative = submit_initiative(
        db_session, clock, CALENDAR, None, municipality=municipality(db_session),
        subject="strategy", question=council.question_lv, reasons=council.reasons,
        basis_date=council.basis_date, initiator=Initiator.COUNCIL,
        council_votes_for=council.votes_for, council_size=council.council_size,
        council_decided_on=council.decided_on, council_decision_number=council.number)
    assert initiative.referendum_same_day == REFERENDUM_DAY
    case = db_session.get(Case, initiative.referendum_case_id)
    clock.set(riga(date(2026, 2, 18), 10))
    referendum = setup_referendum(db_session, clock, CALENDAR, None, case=case,
                                  question_en="Do you support?",
                                  referendum_day=date(2026, 3, 21))
    assert referendum.referendum_day == date(2026, 3, 21)
