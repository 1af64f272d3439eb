"""A voter's own work in the referendums (``portal.voting.voter_work``): while online voting is
open (Art. 15(1)) a voter on the list (Art. 7(2)) who has not voted finds it on her home page
with its end; once her ballot is on the board, before the window and for a person not on the
list, nothing."""
from __future__ import annotations

import json

from referendum_core.voting import cast_ballot
from tests.portal.test_work import nav_counts, work_items
from tests.voting_support import ONLINE_MONDAY, YES_VOTE, build_scenario


def test_art15_1_a_voter_finds_open_online_voting_until_she_votes(db_session, clock, keys,
                                                                  login_as, people):
    s = build_scenario(db_session, clock, keys)  # the clock is on 2 March: not open yet
    db_session.commit()
    ballot_page = f"/voting/{s.referendum.id}"
    voter = s.voters[0]
    assert ballot_page not in work_items(login_as(voter).get("/").get_data(as_text=True))
    clock.set(ONLINE_MONDAY)
    home = login_as(voter).get("/").get_data(as_text=True)
    assert ballot_page in work_items(home)
    # Open Monday to Wednesday around the clock: its end is Wednesday "ieskaitot", not a
    # Thursday "00:00".
    assert "Balsošana internetā ir atvērta līdz 11.03.2026 ieskaitot" in home
    assert 'data-testid="no-work"' not in home
    assert nav_counts(home) == []  # listed on the home page only: no query on every page
    elsewhere = people.voter()  # not on this referendum's list
    assert ballot_page not in work_items(login_as(elsewhere).get("/").get_data(as_text=True))
    cast_ballot(db_session, clock, voter, s.referendum, json.dumps(s.ballot(voter, YES_VOTE)))
    db_session.commit()
    assert ballot_page not in work_items(login_as(voter).get("/").get_data(as_text=True))
    assert ballot_page in work_items(login_as(s.voters[1]).get("/").get_data(as_text=True))
