"""The bulletin board's tracker look-up says what became of the ballot, in Latvian and English:
superseded by a later vote or the latest while the vote is open, and after the polls close
counted or excluded by an in-person vote (Art. 20(5)); audited ballots are never counted."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from referendum_core.voting import cast_ballot, close_polls, mark_in_person
from tests.voting_support import AFTER_CLOSE, CALENDAR, NO_VOTE, POLLS_OPEN, YES_VOTE


def standing(client, referendum_id: int, tracker: str) -> tuple[str, str]:
    html = client.get(f"/voting/{referendum_id}/board?tracker={tracker}").get_data(as_text=True)
    found = re.search(r'data-testid="ballot-standing" data-standing="(\w+)"><strong>([^<]*)<', html)
    assert found, html
    return found.group(1), " ".join(found.group(2).split())


def test_art20_5_the_look_up_says_superseded_latest_excluded_and_counted(
        app, db_session, clock, keys, scenario):
    s, ref = scenario, scenario.referendum
    anna, janis = s.voters[:2]
    first = cast_ballot(db_session, clock, anna, ref, json.dumps(s.ballot(anna, YES_VOTE)))
    clock.advance(timedelta(minutes=1))
    last = cast_ballot(db_session, clock, anna, ref, json.dumps(s.ballot(anna, NO_VOTE)))
    in_person = cast_ballot(db_session, clock, janis, ref, json.dumps(s.ballot(janis, YES_VOTE)))
    db_session.commit()
    public = app.test_client()
    status, text = standing(public, ref.id, first.tracker)
    assert status == "superseded" and f"vēlēšanu zīme Nr. {last.seq}" in text
    assert "20. panta piektā daļa" in text
    assert standing(public, ref.id, last.tracker)[0] == "latest"

    clock.set(POLLS_OPEN + timedelta(hours=1))
    mark_in_person(db_session, clock, s.members[0], ref, s.station, s.codes[1],
                   keys.personal_codes)
    clock.set(AFTER_CLOSE)
    close_polls(db_session, clock, CALENDAR, s.chair, ref)
    db_session.commit()
    status, text = standing(public, ref.id, in_person.tracker)
    assert status == "excluded" and "nobalsoja klātienē" in text
    status, text = standing(public, ref.id, last.tracker)
    assert status == "counted" and text.startswith("Ieskaitīta")
    public.post("/lang/en")
    assert standing(public, ref.id, in_person.tracker)[1].startswith(
        "Not counted: the voter voted in person")
    assert "superseded by a later online vote" in standing(public, ref.id, first.tracker)[1]
