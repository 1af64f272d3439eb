"""The key generation's per-round deadlines (docs/spec/threshold-trustees.md section 2): the chair
sets them in order, in the future and before the online vote opens (Art. 15(1)); a round takes
messages from when the round before it is complete or past its deadline until its own deadline;
a trustee who misses the commit, reveal, check or answer deadline is disqualified; reminders go
out once per trustee, round and lead time."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from referendum_core.crypto import dkg
from referendum_core.crypto import group as g
from referendum_core.voting import open_voting
from referendum_core.voting.exceptions import InvalidSetup, TrusteeKeyRefused
from referendum_core.voting.key_generation import (
    add_key_generation_message,
    due_reminders,
    start_key_generation,
)
from referendum_core.voting.key_generation_rounds import current_round, owing
from referendum_core.voting.models import Stage
from tests.voting_support import CALENDAR, build_scenario, dkg_deadlines

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LEADS = (timedelta(hours=24), timedelta(hours=2))


@pytest.fixture()
def five(db_session, clock, keys):
    """Five trustees, t = 3; a round ends every 28.8 hours (answers six days from now)."""
    s = build_scenario(db_session, clock, keys, trustees=5, open_now=False, upload_keys=False)
    s.deadlines = dkg_deadlines(clock.now(), 6 * DAY)
    start_key_generation(db_session, clock, s.chair, s.referendum, 3, s.deadlines)
    s.params = dkg.Params(s.referendum.election_id, 3, 5)
    return s


def transcript(s: Any) -> dict[str, Any]:
    return json.loads(s.referendum.dkg_transcript)


def upload(db_session, clock, s, index: int, message: Any) -> None:
    add_key_generation_message(db_session, clock, s.trustees[index - 1], s.referendum, message)


def test_art15_1_deadlines_are_ordered_future_and_end_before_the_online_vote(db_session, clock,
                                                                             keys):
    s = build_scenario(db_session, clock, keys, trustees=3, open_now=False, upload_keys=False)
    good = dkg_deadlines(clock.now())
    swapped = {**good, "reveal": good["commit"], "commit": good["reveal"]}
    late = dkg_deadlines(clock.now(), s.referendum.online_opens_at - clock.now() + HOUR)
    for bad, problem in ((dkg_deadlines(clock.now() - DAY), "past"), (swapped, "order"),
                         ({**good, "shares": None}, "missing"), (late, "after_opening")):
        with pytest.raises(InvalidSetup) as err:
            start_key_generation(db_session, clock, s.chair, s.referendum, 2, bad)
        assert (err.value.reason, err.value.params["problem"]) == ("dkg_deadline_invalid",
                                                                   problem)
    assert s.referendum.threshold is None
    exact = dkg_deadlines(clock.now(), s.referendum.online_opens_at - clock.now())
    start_key_generation(db_session, clock, s.chair, s.referendum, 2, exact)
    assert s.referendum.dkg_ends_at == s.referendum.online_opens_at
    assert s.referendum.dkg_deadlines == exact


def test_a_round_waits_for_the_one_before_then_closes_at_its_deadline(db_session, clock, five):
    s = five
    states = {}
    for i in (1, 2, 3, 4):
        states[i], message = dkg.commit(s.params, i, f"Trustee {i}")
        upload(db_session, clock, s, i, message)
    # Trustee 5 has until the commit deadline: nobody may reveal before.
    with pytest.raises(TrusteeKeyRefused) as err:
        upload(db_session, clock, s, 1, dkg.reveal(states[1]))
    assert err.value.reason == "dkg_round_waiting"
    assert current_round(transcript(s), s.referendum.dkg_deadlines, clock.now()) == "commit"
    clock.set(s.deadlines["commit"])
    late_state, late = dkg.commit(s.params, 5, "Trustee 5")
    with pytest.raises(TrusteeKeyRefused) as err:
        upload(db_session, clock, s, 5, late)
    assert (err.value.reason, err.value.params["round"]) == ("dkg_round_closed", "commit")
    assert current_round(transcript(s), s.referendum.dkg_deadlines, clock.now()) == "reveal"
    for i in (1, 2, 3, 4):
        upload(db_session, clock, s, i, dkg.reveal(states[i]))
    # Everyone still in has revealed: the shares round opens before the reveal deadline.
    assert current_round(transcript(s), s.referendum.dkg_deadlines, clock.now()) == "shares"


def test_missing_reveal_and_answer_deadlines_disqualify(db_session, clock, five):
    """Trustee 5 commits but never reveals; trustee 2 deals trustee 3 a wrong share and never
    answers the complaint. Opening waits for the answer deadline, then 1, 3 and 4 remain."""
    s = five
    states = {}
    for i in range(1, 6):
        states[i], message = dkg.commit(s.params, i, f"Trustee {i}")
        upload(db_session, clock, s, i, message)
    for i in (1, 2, 3, 4):
        upload(db_session, clock, s, i, dkg.reveal(states[i]))
    clock.set(s.deadlines["reveal"])
    with pytest.raises(TrusteeKeyRefused) as err:
        upload(db_session, clock, s, 5, dkg.reveal(states[5]))
    assert err.value.reason == "dkg_round_closed"
    for i in (1, 2, 3, 4):
        upload(db_session, clock, s, i,
               dkg.deal_shares(states[i], transcript(s), wrong_for=[3] if i == 2 else []))
    for i in (1, 2, 3, 4):
        upload(db_session, clock, s, i, dkg.check_shares(states[i], transcript(s)))
    assert owing(transcript(s), "answers") == [2]
    with pytest.raises(InvalidSetup) as err:
        open_voting(db_session, clock, CALENDAR, s.chair, s.referendum)
    assert err.value.reason == "dkg_pending"
    clock.set(s.deadlines["answers"])
    answer = dkg.answer_complaints(states[2], transcript(s))
    with pytest.raises(TrusteeKeyRefused) as err:
        upload(db_session, clock, s, 2, answer)
    assert err.value.reason == "dkg_closed"
    open_voting(db_session, clock, CALENDAR, s.chair, s.referendum)
    assert s.referendum.stage == Stage.VOTING
    assert [e["index"] for e in s.referendum.manifest_dict["trustees"]] == [1, 3, 4]
    outcome = dkg.evaluate(transcript(s))
    assert outcome.disqualified == {2: "did not answer the complaint of trustee 3",
                                    5: "did not reveal"}


def test_a_wrong_answer_disqualifies_without_waiting(db_session, clock, five):
    s = five
    states = {}
    for i in range(1, 6):
        states[i], message = dkg.commit(s.params, i, f"Trustee {i}")
        upload(db_session, clock, s, i, message)
    for step in (dkg.reveal, dkg.deal_shares, dkg.check_shares, dkg.answer_complaints):
        for i in range(1, 6):
            if step is dkg.reveal:
                message = step(states[i])
            elif step is dkg.deal_shares:
                message = step(states[i], transcript(s), wrong_for=[4] if i == 2 else [])
            elif step is dkg.answer_complaints and i == 2:
                message = step(states[i], transcript(s))
                message.pop("signature")
                for a in message["answers"]:
                    a["share"] = g.s_add(dkg.eval_poly(states[2].coefficients, a["to"]),
                                         g.ONE).hex()
                message = dkg.sign_message(states[2], message)
            else:
                message = step(states[i], transcript(s))
            upload(db_session, clock, s, i, message)
    open_voting(db_session, clock, CALENDAR, s.chair, s.referendum)
    assert [e["index"] for e in s.referendum.manifest_dict["trustees"]] == [1, 3, 4, 5]


def test_reminders_go_once_to_whoever_still_owes_the_round(db_session, clock, five):
    s = five
    _state, message = dkg.commit(s.params, 1, "Trustee 1")
    upload(db_session, clock, s, 1, message)
    assert due_reminders(db_session, clock, LEADS) == []  # commit deadline 28.8 h away
    clock.set(s.deadlines["commit"] - 20 * HOUR)
    sent = due_reminders(db_session, clock, LEADS)
    assert sorted((r.round, r.lead, r.position) for r in sent) == [
        ("commit", 24 * 60, p) for p in (1, 2, 3, 4)]
    assert due_reminders(db_session, clock, LEADS) == []  # idempotent
    _state, message = dkg.commit(s.params, 2, "Trustee 2")
    upload(db_session, clock, s, 2, message)
    clock.set(s.deadlines["commit"] - HOUR)
    assert sorted(r.position for r in due_reminders(db_session, clock, LEADS)) == [2, 3, 4]
    assert due_reminders(db_session, clock, LEADS) == []


def test_a_missed_longer_lead_sends_only_the_shorter_reminder(db_session, clock, five):
    s = five
    clock.set(s.deadlines["commit"] - HOUR)
    sent = due_reminders(db_session, clock, LEADS)
    assert {(r.round, r.lead) for r in sent} == {("commit", 120)} and len(sent) == 5
    assert due_reminders(db_session, clock, LEADS) == []
