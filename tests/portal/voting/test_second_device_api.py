"""The public data the second-device check reads, through HTTP: the manifest, board entries by
tracker or its first characters with their standing, and the check page itself, all without
signing in."""
from __future__ import annotations

from datetime import timedelta

from referendum_core.crypto.ballot import encrypt_ballot, open_with_randomness
from referendum_core.crypto.manifest import context_from_manifest
from referendum_core.voting import alias_for, cast_ballot
from tests.voting_support import NO_VOTE, YES_VOTE


def test_entries_by_tracker_prefix_with_their_standing(client, db_session, clock, scenario):
    ref, voter = scenario.referendum, scenario.voters[0]
    alias = alias_for(db_session, clock, ref, voter.person_ref)
    first = encrypt_ballot(ref.manifest_dict, alias, YES_VOTE)
    cast_ballot(db_session, clock, voter, ref, first.ballot)
    clock.advance(timedelta(minutes=5))
    again = cast_ballot(db_session, clock, voter, ref, scenario.ballot(voter, NO_VOTE))
    db_session.commit()

    answer = client.get(f"/api/voting/{ref.id}/board-entries?tracker={first.tracker[:12]}")
    assert answer.status_code == 200
    [entry] = answer.get_json()["entries"]
    assert (entry["tracker"], entry["seq"], entry["status"]) == (first.tracker, 1, "superseded")
    # What the phone does with it: the voter's randomness opens the ballot to their choice.
    manifest = client.get(f"/api/voting/{ref.id}/manifest").get_json()
    assert manifest["election_hash"] == ref.election_hash
    ctx = context_from_manifest(manifest["manifest"])
    chs = entry["ballot"]["choices"]
    assert open_with_randomness(ctx, [bytes.fromhex(c["alpha"]) for c in chs],
                                [bytes.fromhex(c["beta"]) for c in chs],
                                [r.hex() for r in first.randomness]) == YES_VOTE
    last = client.get(f"/api/voting/{ref.id}/board-entries?tracker={again.tracker}").get_json()
    assert [e["status"] for e in last["entries"]] == ["counted"]


def test_a_short_or_malformed_prefix_is_refused_and_an_unknown_one_finds_nothing(client,
                                                                                   scenario):
    rid = scenario.referendum.id
    for bad in ("abc", "zzzzzzzz", "0" * 65, "", "abcdef01%"):
        answer = client.get(f"/api/voting/{rid}/board-entries?tracker={bad}")
        assert answer.status_code == 422 and answer.get_json()["error"]
    assert client.get(f"/api/voting/{rid}/board-entries?tracker=00000000").get_json() == {
        "entries": []}


def test_the_check_page_is_public_and_keeps_the_code_on_the_device(client, scenario):
    page = client.get(f"/voting/{scenario.referendum.id}/check")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "js/check.js" in html and "js/ballot.js" in html and "<script>" not in html
    assert 'for="check-code"' in html and 'role="status"' in html
    assert "/board-entries" in html and "/manifest" in html
