"""The referendums' work (``portal.voting.work``): the chair finds the law's steps falling due
(the Voter Register Law's, on the referendum's timeline), each trustee the tally still to
decrypt (Art. 20(4)-(6)), then the chair the results to approve (Art. 20(9)-(10), 21)."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from referendum_core.voting import cast_ballot
from referendum_core.voting.models import PollingStationProtocol
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
    home = login_as(s.chair).get("/").get_data(as_text=True)
    assert "Apstiprināt un publicēt rezultātus" not in home  # the tally is not decrypted yet
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
    # Counted, but the protocol of the station is not yet in: approving is not possible yet,
    # the protocols are what the chair's commission is asked for.
    home = login_as(s.chair).get("/").get_data(as_text=True)
    assert work_items(home).count(f"/voting/{ref.id}/protocols") == 1
    assert f"/voting/{ref.id}/manage" not in work_items(home)
    assert "Apstiprināt un publicēt rezultātus" not in home
    assert login_as(s.members[0]).post(f"/voting/{ref.id}/protocols", data={
        "station_id": s.station.id, "ballots_issued": 0, "votes_for": 0, "votes_against": 0,
        "invalid": 0}).status_code == 302
    protocol = db_session.scalar(select(PollingStationProtocol.id))
    assert login_as(s.members[1]).post(f"/voting/{ref.id}/protocols/{protocol}/confirm"
                                       ).status_code == 302
    home = login_as(s.chair).get("/").get_data(as_text=True)
    assert work_items(home).count(f"/voting/{ref.id}/manage") == 1
    assert f"/voting/{ref.id}/protocols" not in work_items(home)
    assert "Apstiprināt un publicēt rezultātus" in home
    assert f"/cases/{ref.case_id}" not in work_items(home)  # one item per thing


def _item_of(html: str, url: str) -> str:
    """The home page's item linking to ``url``, as text."""
    start = html.index(f'<a href="{url}"')
    return html[start:html.index("</li>", start)]


def test_art20_6_a_chosen_trustee_is_asked_for_the_public_key_before_the_vote_opens(
        db_session, clock, keys, login_as):
    s = build_scenario(db_session, clock, keys, open_now=False, upload_keys=False, trustees=2)
    ref = s.referendum
    upload = f"/voting/{ref.id}/trustee"
    for trustee in s.trustees:
        home = login_as(trustee).get("/").get_data(as_text=True)
        assert work_items(home) == [upload]
        item = _item_of(home, upload)
        assert "Augšupielādēt savu publisko atslēgu kā pilnvarotajam" in item
        assert "Termiņš:" in item and "1 gaida jūs" in nav_counts(home)
    ref.trustees[0].public_key = "00" * 32
    db_session.commit()
    assert work_items(login_as(s.trustees[0]).get("/").get_data(as_text=True)) == []
    assert work_items(login_as(s.trustees[1]).get("/").get_data(as_text=True)) == [upload]
    # Nobody chosen: the commission is asked to choose them.
    for trustee in list(ref.trustees):
        db_session.delete(trustee)
    db_session.commit()
    home = login_as(s.chair).get("/").get_data(as_text=True)
    assert "Izvēlēties pilnvarotos" in _item_of(home, f"/voting/{ref.id}/manage")


def test_art16_after_20_00_the_commission_is_asked_to_close_the_polls(db_session, clock, keys,
                                                                      login_as):
    """The manage page's status and the chair's work come from the same place: when the
    status says the polls wait to be closed, closing them is on the chair's home, urgent."""
    s = build_scenario(db_session, clock, keys)
    ref = s.referendum
    manage = f"/voting/{ref.id}/manage"
    clock.set(AFTER_CLOSE - timedelta(hours=1))
    chair = login_as(s.chair)
    assert "slēgs" not in chair.get(manage).get_data(as_text=True)
    assert manage not in work_items(chair.get("/").get_data(as_text=True))
    clock.set(AFTER_CLOSE)
    chair = login_as(s.chair)
    assert "gaida, kad komisija slēgs" in chair.get(manage).get_data(as_text=True)
    home = chair.get("/").get_data(as_text=True)
    assert work_items(home)[0] == manage  # urgent: first
    assert "Slēgt iecirkņus" in _item_of(home, manage)
    assert any(c.endswith("gaida jūs") for c in nav_counts(home))
    assert chair.post(f"/voting/{ref.id}/close").status_code == 302
    assert manage not in work_items(login_as(s.chair).get("/").get_data(as_text=True))


def test_an_overdue_referendum_case_is_left_to_the_referendums_own_item(db_session, clock, keys,
                                                                        login_as, people):
    """One item per thing: the commission managing the referendum is not listed its case
    again when it is overdue; CVK, overseeing, still is."""
    s = build_scenario(db_session, clock, keys)
    case = s.referendum.case
    case.deadline_at = clock.now() - timedelta(days=1)
    db_session.commit()
    assert f"/cases/{case.id}" not in work_items(login_as(s.chair).get("/").get_data(
        as_text=True))
    assert f"/cases/{case.id}" in work_items(login_as(people.cvk_officer()).get("/").get_data(
        as_text=True))
