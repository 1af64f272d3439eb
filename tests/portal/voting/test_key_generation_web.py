"""The trustee pages for t-of-n trustees through HTTP: the chair sets t (the page explains the
trade-off), each trustee downloads the transcript and uploads its round's message, everyone sees
who has done what, and the vote opens only after the key generation (Art. 20(6): the internet
polling-station commission counts the online votes)."""
from __future__ import annotations

import json
from datetime import timedelta

from referendum_core.clock import to_riga
from referendum_core.crypto import dkg
from referendum_core.voting.models import Stage
from tests.voting_support import build_scenario


def deadline_fields(start, **fields):
    """The threshold form's deadline fields, a round every four hours from ``start``."""
    names = ("commit_by", "reveal_by", "shares_by", "check_by", "ends_at")
    data = {name: to_riga(start + timedelta(hours=4 * (k + 1))).strftime("%Y-%m-%dT%H:%M")
            for k, name in enumerate(names)}
    return {**data, **fields}


def _setup(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys, trustees=3, open_now=False, upload_keys=False)
    db_session.commit()
    return s


def test_key_generation_through_the_trustee_pages(login_as, db_session, clock, keys):
    s = _setup(db_session, clock, keys)
    ref = s.referendum
    chair = login_as(s.chair)
    page = chair.get(f"/voting/{ref.id}/manage").get_data(as_text=True)
    assert 'name="threshold"' in page
    assert 'name="check_by"' in page and 'data-testid="threshold-example"' in page
    assert chair.post(f"/voting/{ref.id}/threshold",
                      data=deadline_fields(clock.now(), threshold="9")).status_code == 302
    db_session.refresh(ref)
    assert ref.threshold is None  # refused: more than the three trustees
    assert chair.post(f"/voting/{ref.id}/threshold",
                      data=deadline_fields(clock.now(), threshold="2")).status_code == 302
    db_session.refresh(ref)
    assert ref.threshold == 2
    # Opening before the key generation ended is refused.
    chair.post(f"/voting/{ref.id}/open")
    db_session.refresh(ref)
    assert ref.stage == Stage.SETUP

    params = dkg.Params(ref.election_id, 2, 3)
    states = {}
    for i, user in enumerate(s.trustees, start=1):
        client = login_as(user)
        page = client.get(f"/voting/{ref.id}/trustee").get_data(as_text=True)
        assert 'data-testid="dkg-transcript"' in page and f"--index {i}" in page
        states[i], message = dkg.commit(params, i, f"Trustee {i}")
        if i == 1:  # a message in another trustee's name is refused, with a reason
            other = dkg.commit(params, 2, "Trustee 2")[1]
            refused = client.post(f"/voting/{ref.id}/trustee",
                                  data={"dkg-message_json": json.dumps(other)})
            assert refused.status_code == 422
        done = client.post(f"/voting/{ref.id}/trustee",
                           data={"dkg-message_json": json.dumps(message)})
        assert done.status_code == 302

    def each_round(make):
        for i, user in enumerate(s.trustees, start=1):
            client = login_as(user)
            transcript = client.get(f"/voting/{ref.id}/key-generation.json").get_json()
            message = make(states[i], transcript)
            assert client.post(f"/voting/{ref.id}/trustee",
                               data={"dkg-message_json": json.dumps(message)}).status_code == 302

    each_round(lambda st, _t: dkg.reveal(st))
    each_round(dkg.deal_shares)
    each_round(dkg.check_shares)
    each_round(dkg.answer_complaints)
    chair = login_as(s.chair)
    page = chair.get(f"/voting/{ref.id}/manage").get_data(as_text=True)
    assert 'data-testid="dkg-progress"' in page
    assert chair.post(f"/voting/{ref.id}/open").status_code == 302
    db_session.refresh(ref)
    assert ref.stage == Stage.VOTING
    assert ref.manifest_dict["threshold"]["t"] == 2
    assert [e["index"] for e in ref.manifest_dict["trustees"]] == [1, 2, 3]


def test_only_trustees_download_the_transcript(login_as, db_session, clock, keys):
    s = _setup(db_session, clock, keys)
    chair = login_as(s.chair)
    chair.post(f"/voting/{s.referendum.id}/threshold",
               data=deadline_fields(clock.now(), threshold="2"))
    observer = login_as(s.members[0])
    assert observer.get(f"/voting/{s.referendum.id}/key-generation.json").status_code in (403,
                                                                                            404)


def test_deadlines_out_of_order_are_refused_with_a_reason(login_as, db_session, clock, keys):
    s = _setup(db_session, clock, keys)
    chair = login_as(s.chair)
    fields = deadline_fields(clock.now(), threshold="2")
    fields["reveal_by"], fields["commit_by"] = fields["commit_by"], fields["reveal_by"]
    page = chair.post(f"/voting/{s.referendum.id}/threshold", data=fields,
                      follow_redirects=True).get_data(as_text=True)
    assert "Katras kārtas termiņam jābūt vēlākam par iepriekšējās kārtas termiņu." in page
    db_session.refresh(s.referendum)
    assert s.referendum.threshold is None


def test_a_message_after_its_rounds_deadline_is_refused(login_as, db_session, clock, keys):
    s = _setup(db_session, clock, keys)
    ref = s.referendum
    login_as(s.chair).post(f"/voting/{ref.id}/threshold",
                           data=deadline_fields(clock.now(), threshold="2"))
    db_session.refresh(ref)
    page = login_as(s.trustees[0]).get(f"/voting/{ref.id}/trustee").get_data(as_text=True)
    assert "Tagad: kārta „Apņemšanās”" in page
    clock.set(ref.dkg_commit_by)
    _state, message = dkg.commit(dkg.Params(ref.election_id, 2, 3), 1, "Trustee 1")
    client = login_as(s.trustees[0])
    refused = client.post(f"/voting/{ref.id}/trustee",
                          data={"dkg-message_json": json.dumps(message)})
    assert refused.status_code == 422
    assert "kārta „Apņemšanās” beidzās" in refused.get_data(as_text=True)
    assert json.loads(ref.dkg_transcript)["commits"] == []
