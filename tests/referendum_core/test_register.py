"""Voter eligibility (Art. 7), personal-code storage and the frozen voter list (Art. 7(2))."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from referendum_core.personal_code import InvalidPersonalCode, normalise
from referendum_core.register import (
    Basis,
    IneligibilityReason,
    PersonRecord,
    VoterListEntry,
    VoterListFrozen,
    age_cutoff,
    eligibility,
    freeze_voter_list,
    normalise_citizenship,
    on_voter_list,
)
from tests.conftest import municipality
from tests.register_data import add_land, add_person, code_for, new_code

DAY = date(2026, 3, 2)


@pytest.fixture()
def riga(db_session):
    return municipality(db_session, "0001000")


def test_art7_latvian_citizen_resident_adult_is_eligible(db_session, protector, adazi):
    """Art. 7(1): a Latvian citizen of 18 living in the municipality may vote."""
    code = code_for(date(1980, 5, 1))
    add_person(db_session, protector, code, born=date(1980, 5, 1), municipality=adazi)
    status = eligibility(db_session, protector.lookup_hash(code), adazi.id, DAY)
    assert status.is_eligible and status.basis == (Basis.RESIDENCE,)


def test_art7_eu_citizen_in_population_register_is_eligible(db_session, protector, adazi):
    code = code_for(date(1980, 5, 1), 7)
    add_person(db_session, protector, code, born=date(1980, 5, 1), citizenship="DEU",
               municipality=adazi)
    assert eligibility(db_session, protector.lookup_hash(code), adazi.id, DAY).is_eligible


@pytest.mark.parametrize("citizenship", ["XXA", "RU", "UA", "USA"])
def test_art7_non_citizens_and_third_country_nationals_are_not(db_session, protector, adazi,
                                                               citizenship):
    code = code_for(date(1980, 5, 1), 8)
    add_person(db_session, protector, code, born=date(1980, 5, 1), citizenship=citizenship,
               municipality=adazi)
    status = eligibility(db_session, protector.lookup_hash(code), adazi.id, DAY)
    assert status.reasons == (IneligibilityReason.NOT_CITIZEN,)


def test_art7_age_18_counted_on_the_decision_day(db_session, protector, adazi):
    turns_18 = date(2008, 3, 2)
    code = code_for(turns_18, 9)
    add_person(db_session, protector, code, born=turns_18, municipality=adazi)
    ref = protector.lookup_hash(code)
    assert eligibility(db_session, ref, adazi.id, DAY).is_eligible
    assert eligibility(db_session, ref, adazi.id, date(2026, 3, 1)).reasons == (
        IneligibilityReason.UNDER_AGE,)


def test_art7_born_on_29_february_is_18_from_1_march():
    assert age_cutoff(date(2026, 3, 1)) == date(2008, 3, 1)
    assert age_cutoff(date(2028, 2, 29)) == date(2010, 2, 28)
    assert date(2008, 2, 29) > age_cutoff(date(2026, 2, 28))


def test_art7_real_estate_owner_living_elsewhere_is_eligible(db_session, protector, adazi, riga):
    code = code_for(date(1970, 1, 2), 10)
    add_person(db_session, protector, code, born=date(1970, 1, 2), municipality=riga)
    ref = protector.lookup_hash(code)
    assert eligibility(db_session, ref, adazi.id, DAY).reasons == (IneligibilityReason.NO_TIE,)
    add_land(db_session, protector, code, municipality=adazi)
    status = eligibility(db_session, ref, adazi.id, DAY)
    assert status.is_eligible and status.basis == (Basis.REAL_ESTATE,)


def test_art7_land_owner_missing_from_population_register_is_not_eligible(
        db_session, protector, adazi):
    code = code_for(date(1970, 1, 2), 11)
    add_land(db_session, protector, code, municipality=adazi)
    status = eligibility(db_session, protector.lookup_hash(code), adazi.id, DAY)
    assert status.reasons == (IneligibilityReason.NOT_IN_REGISTER,)


def test_art7_several_reasons_are_all_given(db_session, protector, adazi, riga):
    code = new_code(1234)
    add_person(db_session, protector, code, born=date(2010, 1, 1), citizenship="RU",
               municipality=riga)
    status = eligibility(db_session, protector.lookup_hash(code), adazi.id, DAY)
    assert set(status.reasons) == {IneligibilityReason.NOT_CITIZEN,
                                   IneligibilityReason.UNDER_AGE, IneligibilityReason.NO_TIE}


def test_citizenship_codes_are_normalised():
    assert normalise_citizenship(" lva ") == "LV"
    assert normalise_citizenship("xxa") == "XXA"
    with pytest.raises(ValueError):
        normalise_citizenship("Latvia")


@pytest.mark.parametrize("bad", ["161175-19990", "321175-1999", "abc", "", "40003000000",
                                 "320000000001"])
def test_invalid_personal_codes_are_refused(protector, bad):
    with pytest.raises(InvalidPersonalCode):
        protector.lookup_hash(bad)


def test_old_and_new_personal_code_formats_are_accepted(protector):
    old = code_for(date(1975, 11, 16), 999)
    assert normalise(old).startswith("161175")
    assert protector.lookup_hash(old) == protector.lookup_hash(old.replace("-", ""))
    assert normalise(new_code(42)).startswith("32")


def test_personal_codes_are_not_stored_in_clear(db_session, protector, adazi):
    code = code_for(date(1975, 11, 16), 456)
    person = add_person(db_session, protector, code, born=date(1975, 11, 16), municipality=adazi)
    digits = normalise(code)
    dump = " ".join(str(v) for v in db_session.execute(
        text("SELECT * FROM register_persons")).one())
    assert digits not in dump and code not in dump
    assert digits.encode() not in person.personal_code_enc
    assert protector.decrypt(person.personal_code_enc) == digits


def test_art7_2_voter_list_is_frozen_on_the_decision_day(db_session, clock, protector, adazi,
                                                         riga):
    resident = code_for(date(1960, 1, 1), 1)
    owner = code_for(date(1961, 1, 1), 2)
    child = code_for(date(2010, 1, 1), 3)
    stranger = code_for(date(1962, 1, 1), 4)
    add_person(db_session, protector, resident, born=date(1960, 1, 1), municipality=adazi)
    add_person(db_session, protector, owner, born=date(1961, 1, 1), municipality=riga)
    add_land(db_session, protector, owner, municipality=adazi)
    add_person(db_session, protector, child, born=date(2010, 1, 1), municipality=adazi)
    add_person(db_session, protector, stranger, born=date(1962, 1, 1), municipality=riga)

    voters = freeze_voter_list(db_session, clock, None, adazi, DAY, case_id=None)
    assert voters.voter_count == 2
    entries = {e.person_ref: e for e in db_session.scalars(select(VoterListEntry).where(
        VoterListEntry.voter_list_id == voters.id))}
    assert entries[protector.lookup_hash(resident)].by_residence
    assert entries[protector.lookup_hash(owner)].by_real_estate
    assert not entries[protector.lookup_hash(owner)].by_residence

    # A later change in the register does not change the frozen list.
    db_session.execute(PersonRecord.__table__.update().values(residence_municipality_id=riga.id))
    assert on_voter_list(db_session, voters, protector.lookup_hash(resident))
    assert not on_voter_list(db_session, voters, protector.lookup_hash(stranger))


def test_a_case_has_one_frozen_voter_list(db_session, clock, adazi):
    freeze_voter_list(db_session, clock, None, adazi, DAY, case_id=990001)
    with pytest.raises(VoterListFrozen):
        freeze_voter_list(db_session, clock, None, adazi, DAY, case_id=990001)
