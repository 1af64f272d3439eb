"""A tracker's standing from the public board and the published exclusions: audited, superseded
by a later vote (Art. 20(5)), the latest while the vote is open, excluded by an in-person vote
(Art. 20(5)) or counted once the polls close (Art. 20(4)-(6))."""
from __future__ import annotations

import json
from datetime import timedelta

from referendum_core.crypto.ballot import audit_opening
from referendum_core.voting import (
    cast_ballot,
    close_polls,
    mark_in_person,
    record_audited_ballot,
)
from referendum_core.voting.standing import (
    AUDITED,
    COUNTED,
    EXCLUDED,
    LATEST,
    SUPERSEDED,
    standing_of,
)
from tests.voting_support import (
    AFTER_CLOSE,
    CALENDAR,
    NO_VOTE,
    ONLINE_MONDAY,
    POLLS_OPEN,
    YES_VOTE,
    build_scenario,
)


def test_art20_5_the_board_says_what_became_of_each_ballot(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    ref = s.referendum
    anna, janis, beate = s.voters[:3]
    first = cast_ballot(db_session, clock, anna, ref, json.dumps(s.ballot(anna, YES_VOTE)))
    clock.advance(timedelta(minutes=5))
    second = cast_ballot(db_session, clock, anna, ref, json.dumps(s.ballot(anna, NO_VOTE)))
    in_person = cast_ballot(db_session, clock, janis, ref, json.dumps(s.ballot(janis, YES_VOTE)))
    opened = s.encrypted(beate, NO_VOTE)
    record_audited_ballot(db_session, clock, beate, ref, audit_opening(opened))

    before = standing_of(db_session, ref, second.tracker)
    assert before.status == LATEST and before.entry.seq == second.seq
    superseded = standing_of(db_session, ref, first.tracker)
    assert (superseded.status, superseded.superseded_by) == (SUPERSEDED, second.seq)
    assert standing_of(db_session, ref, opened.tracker).status == AUDITED
    assert standing_of(db_session, ref, "0" * 64) is None

    clock.set(POLLS_OPEN + timedelta(hours=1))
    mark_in_person(db_session, clock, s.members[0], ref, s.station, s.codes[1],
                   keys.personal_codes)
    # Exclusions are published when the polls close: until then the ballot is the latest.
    assert standing_of(db_session, ref, in_person.tracker).status == LATEST
    clock.set(AFTER_CLOSE)
    close_polls(db_session, clock, CALENDAR, s.chair, ref)
    assert standing_of(db_session, ref, in_person.tracker).status == EXCLUDED
    assert standing_of(db_session, ref, second.tracker).status == COUNTED
    assert standing_of(db_session, ref, first.tracker).status == SUPERSEDED
