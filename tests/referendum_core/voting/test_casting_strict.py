"""The server's share of spec section 9: it never casts an audited (opened) ballot, never a
ballot reusing its randomness across choices, and reads ballots as strict JSON. Each refusal
leaves the board as it was."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from referendum_core.crypto import encrypt_ballot
from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import audit_opening
from referendum_core.voting import alias_for, cast_ballot, record_audited_ballot
from referendum_core.voting.exceptions import BallotRefused
from referendum_core.voting.models import BoardEntry
from tests.voting_support import NO_VOTE, ONLINE_MONDAY, YES_VOTE, build_scenario


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    return s


def _board(session, referendum):
    return list(session.scalars(select(BoardEntry).where(
        BoardEntry.referendum_id == referendum.id)))


def _with_draws(first: list[g.Scalar]):
    draws: Iterator[g.Scalar] = iter(first)
    return lambda: next(draws, None) or g.random_scalar()


def test_a_ballot_built_on_an_audited_ones_randomness_is_refused(db_session, clock, scenario):
    """Spec 9: an opened ballot's randomness is public, so anyone could build a new valid ballot
    on one of its alphas (with another vote); the server refuses it as audited."""
    ref, voter = scenario.referendum, scenario.voters[0]
    opened = scenario.encrypted(voter, YES_VOTE)
    record_audited_ballot(db_session, clock, voter, ref, json.dumps(audit_opening(opened)))
    alias = alias_for(db_session, clock, ref, voter.person_ref)
    rebuilt = encrypt_ballot(ref.manifest_dict, alias, NO_VOTE,
                             _with_draws([opened.randomness[1]]))
    with pytest.raises(BallotRefused) as err:
        cast_ballot(db_session, clock, voter, ref, rebuilt.ballot)
    assert err.value.reason == "audited"
    assert _board(db_session, ref) == []


def test_a_ballot_reusing_its_randomness_is_refused(db_session, clock, scenario):
    """Spec 9: alpha_0 == alpha_1 would make the vote readable by anyone (beta_0 − beta_1)."""
    ref, voter = scenario.referendum, scenario.voters[0]
    alias = alias_for(db_session, clock, ref, voter.person_ref)
    r = g.random_scalar()
    ballot = encrypt_ballot(ref.manifest_dict, alias, YES_VOTE, _with_draws([r, r])).ballot
    with pytest.raises(BallotRefused) as err:
        cast_ballot(db_session, clock, voter, ref, ballot)
    assert (err.value.reason, err.value.location) == ("reused_randomness", "choices[1].alpha")
    opened = audit_opening(encrypt_ballot(ref.manifest_dict, alias, YES_VOTE,
                                          _with_draws([r, r])))
    with pytest.raises(BallotRefused) as err:
        record_audited_ballot(db_session, clock, voter, ref, opened)
    assert err.value.reason == "reused_randomness"
    assert _board(db_session, ref) == []


@pytest.mark.parametrize(("edit", "location"), [
    (lambda t: t.replace('"alias":', '"alias":"x","alias":', 1), ""),
    (lambda t: t.replace('"challenge":', '"response":"00","challenge":', 1),
     "choices[0].proof[0]"),
    (lambda t: t.replace('"choices":[', '"choices":["\\udc00",', 1), "choices[0]"),
    (lambda t: t.replace('"beta":', '"beta":[[[[["x"]]]]],"b":', 1), "choices[0].beta[0][0]"),
])
def test_ballot_json_is_read_strictly(db_session, clock, scenario, edit, location):
    """Spec 9, strict JSON: a duplicate key (which a lenient reader would resolve one way and a
    verifier another), a lone surrogate or needless nesting is refused before any proof."""
    ref, voter = scenario.referendum, scenario.voters[0]
    text = edit(json.dumps(scenario.ballot(voter, YES_VOTE), separators=(",", ":")))
    with pytest.raises(BallotRefused) as err:
        cast_ballot(db_session, clock, voter, ref, text)
    assert (err.value.reason, err.value.location) == ("not_json", location)
    assert _board(db_session, ref) == []


def test_trustee_uploads_are_read_strictly(db_session, clock, keys):
    """Spec 9, strict JSON, for the two files trustees upload: a key whose duplicate
    ``public_key`` a lenient reader would resolve silently, and a partial decryption alike."""
    from referendum_core.crypto import generate_trustee_key
    from referendum_core.voting.counting import accept_trustee_share, close_polls
    from referendum_core.voting.exceptions import ShareRefused, TrusteeKeyRefused
    from referendum_core.voting.preparation import add_trustee_key
    from tests.voting_support import AFTER_CLOSE

    s = build_scenario(db_session, clock, keys, open_now=False, trustees=1, station_number=962,
                       prefix="strict-")
    _, public = generate_trustee_key(s.referendum.election_id, "T")
    text = json.dumps(public).replace('"public_key":', f'"public_key":"{"00" * 32}","public_key":')
    with pytest.raises(TrusteeKeyRefused) as err:
        add_trustee_key(db_session, clock, s.trustees[0], s.referendum, text)
    assert err.value.reason == "not_json"

    opened = build_scenario(db_session, clock, keys, station_number=963, prefix="strict2-")
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, opened.voters[0], opened.referendum,
                opened.ballot(opened.voters[0], YES_VOTE))
    clock.set(AFTER_CLOSE)
    close_polls(db_session, clock, None, opened.chair, opened.referendum)
    partial = json.dumps(opened.partial(0)).replace('"trustee":', '"trustee":1,"trustee":', 1)
    with pytest.raises(ShareRefused) as err:
        accept_trustee_share(db_session, clock, opened.trustees[0], opened.referendum, partial)
    assert err.value.reason == "not_json"
