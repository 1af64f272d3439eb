"""t-of-n trustees in a referendum (Art. 20(6): the internet polling-station commission counts the
online votes; docs/spec/threshold-trustees.md): the chair fixes t, the trustees' key generation
runs through the portal, voting opens only with at least t qualified trustees, and any t of them
decrypt. The record verifies and names the cheater and the absentee."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from referendum_core.crypto import dkg
from referendum_core.crypto import group as g
from referendum_core.crypto.tally import aggregate_from_json, partial_decrypt
from referendum_core.crypto.verify import verify_record
from referendum_core.voting import (
    accept_trustee_share,
    cast_ballot,
    choose_trustees,
    close_polls,
    open_voting,
    write_election_record,
)
from referendum_core.voting.exceptions import (
    InvalidSetup,
    ShareRefused,
    TrusteeKeyRefused,
    WrongStage,
)
from referendum_core.voting.key_generation import (
    add_key_generation_message,
    key_generation_progress,
    start_key_generation,
)
from referendum_core.voting.models import Stage
from tests.voting_support import (
    AFTER_CLOSE,
    CALENDAR,
    NO_VOTE,
    ONLINE_MONDAY,
    YES_VOTE,
    build_scenario,
    dkg_deadlines,
)

DAY = timedelta(days=1)


@pytest.fixture()
def five(db_session, clock, keys):
    """Five trustees chosen, no key yet; the chair sets t = 3."""
    s = build_scenario(db_session, clock, keys, trustees=5, open_now=False, upload_keys=False)
    start_key_generation(db_session, clock, s.chair, s.referendum, 3,
                         dkg_deadlines(clock.now()))
    return s


def transcript(s: Any) -> dict[str, Any]:
    return json.loads(s.referendum.dkg_transcript)


def ceremony(db_session, clock, s, *, cheat: int | None = None) -> dict[int, Any]:
    """Every trustee runs its rounds on its own machine and uploads through the portal.
    Trustee ``cheat`` deals a wrong share to the next one and defends it."""
    params = dkg.Params(s.referendum.election_id, 3, 5)
    states = []
    for i, user in enumerate(s.trustees, start=1):
        state, message = dkg.commit(params, i, f"Trustee {i}")
        states.append(state)
        add_key_generation_message(db_session, clock, user, s.referendum, json.dumps(message))
    for user, st in zip(s.trustees, states, strict=True):
        add_key_generation_message(db_session, clock, user, s.referendum, dkg.reveal(st))
    for user, st in zip(s.trustees, states, strict=True):
        wrong = [st.index % 5 + 1] if st.index == cheat else []
        add_key_generation_message(db_session, clock, user, s.referendum,
                                   dkg.deal_shares(st, transcript(s), wrong_for=wrong))
    for user, st in zip(s.trustees, states, strict=True):
        add_key_generation_message(db_session, clock, user, s.referendum,
                                   dkg.check_shares(st, transcript(s)))
    for user, st in zip(s.trustees, states, strict=True):
        answers = dkg.answer_complaints(st, transcript(s))
        if st.index == cheat:
            answers.pop("signature")
            for a in answers["answers"]:
                a["share"] = g.s_add(dkg.eval_poly(st.coefficients, a["to"]), g.ONE).hex()
            answers = dkg.sign_message(st, answers)
        add_key_generation_message(db_session, clock, user, s.referendum, answers)
    outcome = dkg.evaluate(transcript(s))
    return {st.index: dkg.finalize(st, transcript(s))[0] for st in states
            if st.index in outcome.qualified}


def partial(s: Any, secret: Any) -> dict[str, Any]:
    ref = s.referendum
    agg = aggregate_from_json(json.loads(ref.aggregate or "[]"), 2)
    return {"election_hash": ref.election_hash, "public_key": secret.public_key.hex(),
            "shares": partial_decrypt(secret, bytes.fromhex(ref.election_hash), agg)}


def test_art20_6_any_three_of_five_count_with_a_cheater_and_an_absentee(
        db_session, clock, five, tmp_path):
    s = five
    with pytest.raises(InvalidSetup) as err:
        open_voting(db_session, clock, CALENDAR, s.chair, s.referendum)
    assert err.value.reason == "dkg_unfinished"
    secrets = ceremony(db_session, clock, s, cheat=2)
    assert sorted(secrets) == [1, 3, 4, 5]
    assert key_generation_progress(s.referendum)[2] == dict.fromkeys(dkg.ROUNDS, True)
    open_voting(db_session, clock, CALENDAR, s.chair, s.referendum)
    manifest = s.referendum.manifest_dict
    assert manifest["threshold"]["t"] == 3
    assert [e["index"] for e in manifest["trustees"]] == [1, 3, 4, 5]
    clock.set(ONLINE_MONDAY)
    for voter, vote in zip(s.voters, (YES_VOTE, YES_VOTE, NO_VOTE, YES_VOTE), strict=True):
        cast_ballot(db_session, clock, voter, s.referendum, s.ballot(voter, vote))
    clock.set(AFTER_CLOSE)
    close_polls(db_session, clock, None, s.chair, s.referendum)
    # The cheater was disqualified: its partial decryption is refused.
    with pytest.raises(ShareRefused) as refused:
        accept_trustee_share(db_session, clock, s.trustees[1], s.referendum,
                             partial(s, secrets[1]))
    assert refused.value.reason == "not_qualified"
    # Trustee 4 is absent; 1, 3 and 5 suffice.
    for j in (1, 3):
        accept_trustee_share(db_session, clock, s.trustees[j - 1], s.referendum,
                             partial(s, secrets[j]))
        assert s.referendum.stage == Stage.COUNTING
    accept_trustee_share(db_session, clock, s.trustees[4], s.referendum, partial(s, secrets[5]))
    assert s.referendum.stage == Stage.TALLIED
    assert s.referendum.online_result_dict == {"yes": 3, "no": 1}
    path = tmp_path / "record.json"
    with path.open("w", encoding="utf-8") as fp:
        write_election_record(db_session, s.referendum, fp)
    summary = verify_record(json.loads(path.read_text(encoding="utf-8")))
    assert summary.threshold.decrypted_by == [1, 3, 5]
    assert summary.threshold.disqualified == {2: "the share it revealed for trustee 3 is wrong"}


def test_messages_must_be_the_uploading_trustees_own(db_session, clock, five):
    s = five
    params = dkg.Params(s.referendum.election_id, 3, 5)
    _state, message = dkg.commit(params, 2, "Trustee 2")
    with pytest.raises(TrusteeKeyRefused) as err:
        add_key_generation_message(db_session, clock, s.trustees[0], s.referendum, message)
    assert err.value.reason == "dkg_other_trustee"
    add_key_generation_message(db_session, clock, s.trustees[1], s.referendum, message)
    with pytest.raises(TrusteeKeyRefused) as err:
        add_key_generation_message(db_session, clock, s.trustees[1], s.referendum, message)
    assert err.value.reason == "dkg_message"
    with pytest.raises(TrusteeKeyRefused) as err:
        add_key_generation_message(db_session, clock, s.trustees[0], s.referendum, "{not json")
    assert err.value.reason == "not_json"


def test_threshold_is_checked_and_fixed_once_the_ceremony_begins(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys, trustees=3, open_now=False, upload_keys=False)
    for bad in (0, 4):
        with pytest.raises(InvalidSetup) as err:
            start_key_generation(db_session, clock, s.chair, s.referendum, bad,
                                 dkg_deadlines(clock.now()))
        assert err.value.reason == "threshold_invalid"
    for when in (clock.now() - DAY, s.referendum.online_opens_at):
        with pytest.raises(InvalidSetup) as err:
            start_key_generation(db_session, clock, s.chair, s.referendum, 2,
                                 dkg_deadlines(when))
        assert err.value.reason == "dkg_deadline_invalid"
    start_key_generation(db_session, clock, s.chair, s.referendum, 2,
                         dkg_deadlines(clock.now()))
    _state, message = dkg.commit(dkg.Params(s.referendum.election_id, 2, 3), 1, "T1")
    add_key_generation_message(db_session, clock, s.trustees[0], s.referendum, message)
    with pytest.raises(WrongStage):
        start_key_generation(db_session, clock, s.chair, s.referendum, 3,
                         dkg_deadlines(clock.now()))


def test_too_few_qualified_keeps_the_vote_closed(db_session, clock, five):
    s = five
    params = dkg.Params(s.referendum.election_id, 3, 5)
    for i, user in enumerate(s.trustees[:2], start=1):
        _state, message = dkg.commit(params, i, f"Trustee {i}")
        add_key_generation_message(db_session, clock, user, s.referendum, message)
    with pytest.raises(InvalidSetup) as err:
        open_voting(db_session, clock, CALENDAR, s.chair, s.referendum)
    assert err.value.reason == "dkg_unfinished"
    assert s.referendum.stage == Stage.SETUP


def test_opening_waits_for_pending_checks_until_the_deadline(db_session, clock, five):
    """Opening early would disqualify a trustee still due to check its shares; after the
    deadline it is disqualified and no message is taken any more."""
    s = five
    params = dkg.Params(s.referendum.election_id, 3, 5)
    states = []
    for i, user in enumerate(s.trustees, start=1):
        state, message = dkg.commit(params, i, f"Trustee {i}")
        states.append(state)
        add_key_generation_message(db_session, clock, user, s.referendum, message)
    for user, st in zip(s.trustees, states, strict=True):
        add_key_generation_message(db_session, clock, user, s.referendum, dkg.reveal(st))
    for user, st in zip(s.trustees, states, strict=True):
        add_key_generation_message(db_session, clock, user, s.referendum,
                                   dkg.deal_shares(st, transcript(s)))
    for user, st in zip(s.trustees[:4], states[:4], strict=True):
        add_key_generation_message(db_session, clock, user, s.referendum,
                                   dkg.check_shares(st, transcript(s)))
    with pytest.raises(InvalidSetup) as err:
        open_voting(db_session, clock, CALENDAR, s.chair, s.referendum)
    assert err.value.reason == "dkg_pending"
    clock.advance(DAY)
    with pytest.raises(TrusteeKeyRefused) as late:
        add_key_generation_message(db_session, clock, s.trustees[4], s.referendum,
                                   dkg.check_shares(states[4], transcript(s)))
    assert late.value.reason == "dkg_closed"
    open_voting(db_session, clock, CALENDAR, s.chair, s.referendum)
    assert [e["index"] for e in s.referendum.manifest_dict["trustees"]] == [1, 2, 3, 4]


def test_choosing_other_trustees_resets_the_threshold_until_messages_exist(db_session, clock,
                                                                            five):
    s = five
    choose_trustees(db_session, clock, s.chair, s.referendum, s.trustees[:4])
    assert s.referendum.threshold is None and s.referendum.dkg_transcript is None
    start_key_generation(db_session, clock, s.chair, s.referendum, 2,
                         dkg_deadlines(clock.now()))
    _state, message = dkg.commit(dkg.Params(s.referendum.election_id, 2, 4), 1, "T1")
    add_key_generation_message(db_session, clock, s.trustees[0], s.referendum, message)
    with pytest.raises(WrongStage):
        choose_trustees(db_session, clock, s.chair, s.referendum, s.trustees[:3])
