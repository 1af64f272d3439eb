"""The referendums' work (``portal.voting.work``): the chair finds the law's steps falling due
(the Voter Register Law's, on the referendum's timeline), each trustee the tally still to
decrypt (Art. 20(4)-(6)), then the chair the results to approve (Art. 20(9)-(10), 21)."""
from __future__ import annotations

import json

from referendum_core.voting import cast_ballot
from tests.portal.test_work import nav_counts, work_items
from tests.voting_support import AFTER_CLOSE, ONLINE_MONDAY, YES_VOTE, build_scenario


def test_vrl_steps_falling_due_find_the_chair_only(db_session, clock, keys, login_as, people):
    s = build_scenario(db_session, clock, keys)  # the clock is on 2 March, referendum 14 March
    db_session.commit()
    home = login_as(s.chair).get("/").get_data(as_text=True)
    assert "2 soļiem tuvojas termiņš" in nav_counts(home)
    assert home.count("Likumā noteikts solis:") == 2
    assert f"/cases/{s.referendum.case_id}#timeline" in work_items(home)
    for other in (s.members[0], people.cvk_admin(), people.chair("0001000")):
        assert not any("soļ" in c for c in nav_counts(login_as(other).get("/").get_data(
            as_text=True)))


def test_art20_trustees_then_the_chair_find_the_count_waiting_for_them(
        db_session, clock, keys, login_as):
    s = build_scenario(db_session, clock, keys)
    ref = s.referendum
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, s.voters[0], ref, json.dumps(s.ballot(s.voters[0], YES_VOTE)))
    db_session.commit()
    clock.set(AFTER_CLOSE)
    assert login_as(s.chair).post(f"/voting/{ref.id}/close").status_code == 302
    db_session.refresh(ref)
    decrypt = f"/voting/{ref.id}/trustee"
    first = login_as(s.trustees[0])
    assert decrypt in work_items(first.get("/").get_data(as_text=True))
    assert first.post(decrypt, data={"share-partial_json": json.dumps(s.partial(0))}
                      ).status_code == 302
    assert decrypt not in work_items(first.get("/").get_data(as_text=True))
    second = login_as(s.trustees[1])
    assert decrypt in work_items(second.get("/").get_data(as_text=True))
    assert second.post(decrypt, data={"share-partial_json": json.dumps(s.partial(1))}
                       ).status_code == 302
    home = login_as(s.chair).get("/").get_data(as_text=True)
    assert f"/voting/{ref.id}/manage" in work_items(home)
    assert "Apstiprināt un publicēt rezultātus" in home
