"""Who may start a thread with whom — pure rule checks."""
from __future__ import annotations

from messaging.rules import Standing, Target, TargetKind, may_start_thread

CVK = Standing(user_id=1, is_cvk=True)
MEMBER_ADAZI = Standing(user_id=2, commission_municipality_ids=frozenset({10}))
OBSERVER_ADAZI = Standing(user_id=3, observer_municipality_ids=frozenset({10}))
VOTER_ADAZI = Standing(user_id=4, is_voter=True, voter_municipality_ids=frozenset({10}))
MEMBER_RIGA = Standing(user_id=5, commission_municipality_ids=frozenset({20}))


def _person(standing):
    return Target(TargetKind.PERSON, user_id=standing.user_id, person=standing)


def test_cvk_may_write_to_anyone():
    for target in (Target(TargetKind.COMMISSION, municipality_id=20), _person(VOTER_ADAZI),
                   _person(OBSERVER_ADAZI), Target(TargetKind.CVK)):
        assert may_start_thread(CVK, target)


def test_commission_and_cvk_both_ways():
    assert may_start_thread(MEMBER_ADAZI, Target(TargetKind.CVK))
    assert may_start_thread(MEMBER_ADAZI, _person(CVK))
    assert may_start_thread(CVK, Target(TargetKind.COMMISSION, municipality_id=10))


def test_observer_with_own_commission_and_cvk_only():
    assert may_start_thread(OBSERVER_ADAZI, Target(TargetKind.COMMISSION, municipality_id=10))
    assert may_start_thread(OBSERVER_ADAZI, Target(TargetKind.CVK))
    assert may_start_thread(OBSERVER_ADAZI, _person(MEMBER_ADAZI))
    assert not may_start_thread(OBSERVER_ADAZI, Target(TargetKind.COMMISSION, municipality_id=20))
    assert not may_start_thread(OBSERVER_ADAZI, _person(MEMBER_RIGA))
    assert may_start_thread(MEMBER_ADAZI, _person(OBSERVER_ADAZI))


def test_voter_only_to_own_municipal_commission():
    assert may_start_thread(VOTER_ADAZI, Target(TargetKind.COMMISSION, municipality_id=10))
    assert not may_start_thread(VOTER_ADAZI, Target(TargetKind.COMMISSION, municipality_id=20))
    assert not may_start_thread(VOTER_ADAZI, Target(TargetKind.CVK))
    assert not may_start_thread(VOTER_ADAZI, _person(CVK))
    assert not may_start_thread(VOTER_ADAZI, _person(MEMBER_ADAZI))


def test_other_commissions_not_directly():
    assert not may_start_thread(MEMBER_ADAZI, Target(TargetKind.COMMISSION, municipality_id=20))
    assert not may_start_thread(MEMBER_ADAZI, _person(MEMBER_RIGA))
