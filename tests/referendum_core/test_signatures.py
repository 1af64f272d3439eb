"""Signatures: online once, in person by certified officials (Art. 4(1), 11(1)), one way only
and the in-person one stays (Art. 13), collection closes at the deadline (Art. 10(8), 26), the
commission's check (Art. 13) and the referendum case within 4 months (Art. 13(4))."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case
from referendum_core.clock import to_riga
from referendum_core.initiatives import (
    ApplicationLate,
    NotTheOrganiser,
    Subject,
    WrongState,
    decide_initiative,
    publish_due_initiatives,
    submit_initiative,
)
from referendum_core.register import PersonRecord, voter_list_for
from referendum_core.signatures import (
    AlreadySigned,
    Authentication,
    CertifierType,
    CheckStatus,
    CollectionClosed,
    InvalidCertifier,
    NotEligibleToSign,
    Signature,
    apply_for_check,
    check_signatures,
    close_due_collections,
    count_signatures,
    lapse_unapplied_initiatives,
    register_in_person,
    sign_online,
)
from tests.conftest import municipality
from tests.register_data import add_land, add_person, code_for

CAL = WorkingDayCalendar()
OPEN = datetime(2026, 3, 5, 8, tzinfo=UTC)
# Art. 10(8): 30 days from 5 March: the last day is 3 April, closing at 24:00 Riga time (EEST).
CLOSES = datetime(2026, 4, 3, 21, 0, tzinfo=UTC)  # 00:00 on 4 April in Riga
AFTER = datetime(2026, 4, 4, 21, 0, tzinfo=UTC)  # 00:00 on 5 April in Riga

TAG_KEY = bytes(32)  # the key of the board's person tags (a test value)


@pytest.fixture()
def adazi(db_session):
    muni = municipality(db_session)
    muni.voters_at_last_election = 20  # 15 % -> 3 signatures needed
    return muni


@pytest.fixture()
def voters(db_session, keys, adazi):
    codes = [code_for(date(1970 + i, 1, 1), i) for i in range(6)]
    for code in codes:
        born = date(int("19" + code[4:6]), 1, 1)
        add_person(db_session, keys.personal_codes, code, born=born, municipality=adazi)
    return [keys.personal_codes.lookup_hash(c) for c in codes]


@pytest.fixture()
def initiative(db_session, clock, adazi, voters, people):
    chair = people.chair()
    item = submit_initiative(db_session, clock, CAL, chair, municipality=adazi,
                             subject=Subject.STRATEGY, basis_date=date(2026, 2, 1),
                             question="Vai atbalstāt?", reasons="Pamatojums.",
                             person_ref=voters[5])
    decide_initiative(db_session, clock, CAL, chair, item, can=True)
    clock.set(OPEN)
    publish_due_initiatives(db_session, clock, CAL)
    return item


def test_art10_8_signing_before_publication_is_refused(db_session, clock, adazi, voters,
                                                        people):
    item = submit_initiative(db_session, clock, CAL, people.chair(), municipality=adazi,
                             subject=Subject.STRATEGY, basis_date=date(2026, 2, 1),
                             question="Q?", reasons="R.", person_ref=voters[5])
    decide_initiative(db_session, clock, CAL, people.chair(), item, can=True)
    with pytest.raises(CollectionClosed):
        sign_online(db_session, clock, None, item, voters[0], tag_key=TAG_KEY)


def test_online_signature_keeps_how_the_signer_signed_in(db_session, clock, initiative, voters):
    first = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY,
                        authentication=Authentication("latvija", "smart_id", "substantial"))
    second = sign_online(db_session, clock, None, initiative, voters[1], tag_key=TAG_KEY)
    assert (first.auth_provider, first.auth_method, first.auth_level) == (
        "latvija", "smart_id", "substantial")
    assert (second.auth_provider, second.auth_method, second.auth_level) == (None, None, None)


def test_art11_voter_signs_online_once(db_session, clock, initiative, voters):
    """Art. 11(1): one signature per person."""
    sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    assert count_signatures(db_session, initiative) == 1
    with pytest.raises(AlreadySigned) as err:
        sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    assert err.value.existing.method == "online"
    assert count_signatures(db_session, initiative) == 1


def test_art7_ineligible_signer_is_refused(db_session, clock, keys, initiative, adazi):
    minor = code_for(date(2010, 1, 1), 50)
    add_person(db_session, keys.personal_codes, minor, born=date(2010, 1, 1),
               municipality=adazi)
    with pytest.raises(NotEligibleToSign) as err:
        sign_online(db_session, clock, None, initiative, keys.personal_codes.lookup_hash(minor),
                    tag_key=TAG_KEY)
    assert err.value.eligibility.reasons == ("under_age",)
    with pytest.raises(NotEligibleToSign):
        sign_online(db_session, clock, None, initiative, "0" * 64, tag_key=TAG_KEY)


def test_art10_8_signing_after_the_deadline_is_refused(db_session, clock, initiative, voters):
    """Art. 10(8): exactly 30 days; a signature at 23:59:59 on the 30th day counts."""
    clock.set(CLOSES - timedelta(seconds=1))
    sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    clock.set(CLOSES)
    with pytest.raises(CollectionClosed):
        sign_online(db_session, clock, None, initiative, voters[1], tag_key=TAG_KEY)


def test_art4_1_in_person_signature_needs_a_certifier(db_session, clock, people, initiative,
                                                     voters):
    member = people.member()
    with pytest.raises(InvalidCertifier):
        register_in_person(db_session, clock, member, initiative, voters[0],
                           tag_key=TAG_KEY, certifier_type="neighbour", certifier_name="X",
                           signed_on=date(2026, 3, 5))
    with pytest.raises(InvalidCertifier):
        register_in_person(db_session, clock, member, initiative, voters[0],
                           tag_key=TAG_KEY, certifier_type=CertifierType.NOTARY, certifier_name=" ",
                           signed_on=date(2026, 3, 5))
    for kind in CertifierType:
        assert kind in {"notary", "residence_office", "orphans_court", "administration_head"}
    signature = register_in_person(db_session, clock, member, initiative, voters[0],
                                   tag_key=TAG_KEY, certifier_type=CertifierType.ORPHANS_COURT,
                                   certifier_name="Ādažu bāriņtiesa", signed_on=date(2026, 3, 5))
    assert signature.method == "in_person" and signature.registered_by_id == member.id
    with pytest.raises(AlreadySigned):
        register_in_person(db_session, clock, member, initiative, voters[0],
                           tag_key=TAG_KEY, certifier_type=CertifierType.NOTARY, certifier_name="N",
                           signed_on=date(2026, 3, 5))


def test_art11_online_after_in_person_is_refused(db_session, clock, people, initiative, voters):
    """Art. 11(1): a person signs in one way only."""
    register_in_person(db_session, clock, people.member(), initiative, voters[0],
                       tag_key=TAG_KEY, certifier_type=CertifierType.NOTARY, certifier_name="Notāre",
                       signed_on=date(2026, 3, 5))
    with pytest.raises(AlreadySigned):
        sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)


def test_in_person_date_outside_the_collection_is_refused(db_session, clock, people, initiative,
                                                          voters):
    with pytest.raises(CollectionClosed):
        register_in_person(db_session, clock, people.member(), initiative, voters[0],
                           tag_key=TAG_KEY, certifier_type=CertifierType.NOTARY, certifier_name="N",
                           signed_on=date(2026, 3, 4))


def test_art10_8_art26_collection_closes_by_itself(db_session, clock, initiative, voters):
    for ref in voters[:3]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    assert close_due_collections(db_session, clock, CAL) == []
    clock.set(AFTER)
    assert close_due_collections(db_session, clock, CAL) == [initiative]
    assert initiative.case.state == "collected" and initiative.signatures_at_close == 3
    # Art. 26: organiser told within 3 working days from the day after the last day (Friday
    # 3 April); Art. 13: check within 20 working days.
    assert initiative.organiser_told_by == date(2026, 4, 9)  # 6 April is Easter Monday
    # Art. 11(2): told on Sunday 5 April, the organiser applies by 9 April.
    assert initiative.apply_due_on == date(2026, 4, 9)
    assert initiative.case.deadline_basis == "Art. 11(2)"
    assert close_due_collections(db_session, clock, CAL) == []


def test_art26_organiser_deadline_counts_from_the_last_day_even_when_the_job_runs_late(
        db_session, clock, initiative, voters):
    """Art. 26: 3 working days counted from the day after the 30th day (3 April 2026), not
    from the day the closing job happened to run."""
    for ref in voters[:3]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    clock.set(datetime(2026, 4, 7, 9, tzinfo=UTC))
    assert close_due_collections(db_session, clock, CAL) == [initiative]
    assert initiative.collection_last_day == date(2026, 4, 3)
    assert initiative.organiser_told_by == date(2026, 4, 9)


def test_art13_check_drops_ineligible_and_duplicates_keeps_in_person_and_opens_referendum(
        db_session, clock, keys, people, initiative, voters, adazi):
    member = people.member()
    for ref in voters[:4]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    # Systems failed: voter 0 also signed on paper, registered by hand (Art. 4(6)).
    register_in_person(db_session, clock, member, initiative, voters[0],
                       tag_key=TAG_KEY, certifier_type=CertifierType.ADMINISTRATION_HEAD,
                       certifier_name="Pagasta pārvaldes vadītājs", signed_on=date(2026, 3, 5))
    # A land owner from elsewhere signs in person.
    owner = code_for(date(1960, 2, 2), 77)
    add_person(db_session, keys.personal_codes, owner, born=date(1960, 2, 2),
               municipality=municipality(db_session, "0001000"))
    add_land(db_session, keys.personal_codes, owner, municipality=adazi)
    register_in_person(db_session, clock, member, initiative,
                       keys.personal_codes.lookup_hash(owner), tag_key=TAG_KEY,
                       certifier_type=CertifierType.NOTARY, certifier_name="Notāre",
                       signed_on=date(2026, 3, 5))
    # Voter 3 turns out not to be a resident when the commission checks.
    db_session.scalars(select(PersonRecord).where(PersonRecord.person_ref == voters[3])
                       ).one().residence_municipality_id = None
    with pytest.raises(WrongState):  # not before the collection closed
        check_signatures(db_session, clock, CAL, member, initiative)
    clock.set(AFTER)
    close_due_collections(db_session, clock, CAL)
    with pytest.raises(WrongState):  # not before the organiser applied (Art. 11(2))
        check_signatures(db_session, clock, CAL, member, initiative)
    apply_for_check(db_session, clock, CAL, initiative_applicant(db_session, initiative),
                    initiative)
    progress = check_signatures(db_session, clock, CAL, None, initiative, batch_size=2,
                                max_batches=1)
    assert (progress.checked, progress.total, progress.finished) == (2, 6, False)
    assert initiative.case.state == "checking"
    progress = check_signatures(db_session, clock, CAL, None, initiative, batch_size=2)
    assert progress.finished and progress.valid == 4 and progress.reached
    statuses = {(s.person_ref, s.method): s.check_status for s in db_session.scalars(
        select(Signature).where(Signature.initiative_id == initiative.id))}
    assert statuses[(voters[0], "online")] == CheckStatus.DUPLICATE
    assert statuses[(voters[0], "in_person")] == CheckStatus.VALID
    assert statuses[(voters[3], "online")] == CheckStatus.INELIGIBLE
    assert initiative.case.state == "reached"
    # Art. 13(4): the referendum case opens, held no later than 4 months out.
    referendum = db_session.get(Case, initiative.referendum_case_id)
    assert referendum.type == "referendum" and referendum.parent_case_id == initiative.case_id
    assert referendum.deadline_basis == "Art. 13(4)"
    assert to_riga(referendum.deadline_at).date() == date(2026, 8, 5)
    assert voter_list_for(db_session, referendum.id) is not None  # Art. 7(2)
    again = check_signatures(db_session, clock, CAL, None, initiative)
    assert again.finished and again.reached


def test_art11_2_art26_fewer_signatures_than_needed_end_the_initiative_when_the_count_is_due(
        db_session, clock, initiative, voters):
    """Art. 11(2), 26: short of the threshold, the initiative ends on the day the organiser
    must be told the count (9 April), not before: until then signatures given within the 30
    days may still be registered (Art. 4(6))."""
    sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    clock.set(AFTER)
    assert close_due_collections(db_session, clock, CAL) == []
    assert initiative.case.state == "collecting" and not initiative.is_collecting(clock.now())
    clock.set(datetime(2026, 4, 8, 21, 0, tzinfo=UTC))  # 00:00 on 9 April in Riga
    assert close_due_collections(db_session, clock, CAL) == [initiative]
    assert initiative.case.state == "not_reached" and initiative.referendum_case_id is None
    assert initiative.apply_due_on is None and initiative.signatures_at_close == 1


def test_art4_6_art26_a_signature_given_on_the_last_day_and_registered_after_it_counts(
        db_session, clock, people, initiative, voters):
    """Art. 4(6), 10(8), 26: the systems failed on the last day (3 April); a notary's signature
    of that day is registered by hand on 7 April. With it the threshold is met, so the
    initiative waits for the organiser's application instead of having ended at midnight
    because the closing job ran before the registration."""
    for ref in voters[:2]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    clock.set(AFTER)
    assert close_due_collections(db_session, clock, CAL) == []
    clock.set(datetime(2026, 4, 7, 6, tzinfo=UTC))
    register_in_person(db_session, clock, people.member(), initiative, voters[2],
                       certifier_type=CertifierType.NOTARY, certifier_name="N",
                       signed_on=date(2026, 4, 3), tag_key=TAG_KEY)
    assert close_due_collections(db_session, clock, CAL) == [initiative]
    assert initiative.case.state == "collected" and initiative.signatures_at_close == 3
    assert initiative.organiser_told_by == date(2026, 4, 9)
    assert initiative.apply_due_on == date(2026, 4, 10)


def test_art13_threshold_not_reached_after_the_check_opens_no_referendum(
        db_session, clock, initiative, voters):
    for ref in voters[:3]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    db_session.scalars(select(PersonRecord).where(PersonRecord.person_ref == voters[0])
                       ).one().residence_municipality_id = None
    clock.set(AFTER)
    close_due_collections(db_session, clock, CAL)
    apply_for_check(db_session, clock, CAL, None, initiative, for_organiser=True)
    progress = check_signatures(db_session, clock, CAL, None, initiative)
    assert progress.finished and not progress.reached and progress.valid == 2
    assert initiative.case.state == "not_reached" and initiative.referendum_case_id is None


def _collected(db_session, clock, initiative, voters):
    for ref in voters[:3]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    clock.set(AFTER)  # Sunday 5 April: told the count; apply by Thursday 9 April
    close_due_collections(db_session, clock, CAL)


def test_art11_2_art13_the_20_working_days_run_from_the_application(db_session, clock,
                                                                   initiative, voters):
    _collected(db_session, clock, initiative, voters)
    clock.set(datetime(2026, 4, 9, 20, 59, tzinfo=UTC))  # 23:59 on 9 April (EEST)
    apply_for_check(db_session, clock, CAL, initiative_applicant(db_session, initiative),
                    initiative)
    assert initiative.case.state == "applied"
    assert initiative.check_due_on == CAL.add_working_days(date(2026, 4, 9), 20) \
        == date(2026, 5, 11)  # 1 and 4 May are holidays
    assert to_riga(initiative.case.deadline_at).date() == date(2026, 5, 11)


def test_art11_2_only_the_organiser_applies_or_the_commission_records_it(
        db_session, clock, initiative, voters, people):
    _collected(db_session, clock, initiative, voters)
    with pytest.raises(NotTheOrganiser):
        apply_for_check(db_session, clock, CAL, people.member(), initiative)
    assert initiative.case.state == "collected"
    apply_for_check(db_session, clock, CAL, people.member(), initiative, for_organiser=True)
    assert initiative.case.state == "applied"


def test_art11_2_no_application_in_time_ends_the_initiative(db_session, clock, initiative,
                                                            voters):
    _collected(db_session, clock, initiative, voters)
    clock.set(datetime(2026, 4, 9, 21, 0, tzinfo=UTC))  # 00:00 on 10 April in Riga
    with pytest.raises(ApplicationLate):
        apply_for_check(db_session, clock, CAL, initiative_applicant(db_session, initiative),
                        initiative)
    assert lapse_unapplied_initiatives(db_session, clock, CAL) == [initiative]
    assert initiative.case.state == "lapsed" and not initiative.case.is_open
    assert lapse_unapplied_initiatives(db_session, clock, CAL) == []


def initiative_applicant(db_session, initiative):
    from portal.accounts.models import User

    return db_session.get(User, initiative.applicant_id)
