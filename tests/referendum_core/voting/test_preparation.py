"""Setting up a referendum's vote: Saturday, windows, trustees and keys, the frozen manifest."""
from __future__ import annotations

import json
from datetime import date

import pytest

from portal.accounts.models import Role
from referendum_core.cases.models import CaseType
from referendum_core.crypto import context_from_manifest, generate_trustee_key
from referendum_core.crypto.manifest import election_hash
from referendum_core.organisation import CommissionKind, get_commission
from referendum_core.voting import add_trustee_key, choose_trustees, open_voting, setup_referendum
from referendum_core.voting.exceptions import (
    InvalidSetup,
    NotATrustee,
    TrusteeKeyRefused,
    WrongStage,
)
from referendum_core.voting.models import Stage
from tests.conftest import municipality
from tests.voting_support import CALENDAR, REFERENDUM_DAY, build_scenario, official


def _setup(db_session, clock, **kw):
    args = {"municipality": municipality(db_session), "subject": "strategy",
            "question_lv": "Vai atbalstāt?", "question_en": "Do you support?",
            "referendum_day": REFERENDUM_DAY}
    args.update(kw)
    return setup_referendum(db_session, clock, CALENDAR, None, **args)


def test_art16_1_referendum_day_must_be_a_saturday(db_session, clock):
    with pytest.raises(InvalidSetup) as err:
        _setup(db_session, clock, referendum_day=date(2026, 3, 13))
    assert err.value.params["field"] == "referendum_day"


def test_setup_refuses_unknown_subject_empty_question_and_past_day(db_session, clock):
    with pytest.raises(InvalidSetup):
        _setup(db_session, clock, subject="budget")
    with pytest.raises(InvalidSetup):
        _setup(db_session, clock, question_en="  ")
    with pytest.raises(InvalidSetup):  # online voting of 7 March would have started already
        _setup(db_session, clock, referendum_day=date(2026, 3, 7))


def test_setup_opens_a_referendum_case_and_freezes_the_voter_list(db_session, clock):
    referendum = _setup(db_session, clock)
    assert referendum.case.type == CaseType.REFERENDUM and referendum.case.state == "scheduled"
    assert referendum.has_online_voting and referendum.stage == Stage.SETUP
    from referendum_core.register import voter_list_for

    assert voter_list_for(db_session, referendum.case_id) is not None
    with pytest.raises(InvalidSetup):  # the same case cannot be set up twice
        _setup(db_session, clock, case=referendum.case)


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
