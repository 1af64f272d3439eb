"""Pages that say what is true at each point and ask before what cannot be undone.

Art. 17(2)-(3), 20(5): a station member looks the voter up before marking them as voted, and
the mark (which cancels an online vote) asks first; a protocol's confirmation (Art. 20(9)-(10))
asks first and each button names its polling station. A referendum's public page, once the
polls have closed at 20:00 on referendum day (Art. 15(1)), no longer invites anyone to vote."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from referendum_core.voting import cast_ballot
from referendum_core.voting.models import PollingStationProtocol, Stage
from tests.voting_support import AFTER_CLOSE, POLLS_OPEN, YES_VOTE, build_scenario, riga

MARK_BUTTON = re.compile(r'<button type="submit" name="action" value="mark">')


def test_marking_follows_a_lookup_and_asks_first(login_as, scenario, clock, db_session):
    ref, member = scenario.referendum, scenario.members[0]
    voter = scenario.voters[2]
    cast_ballot(db_session, clock, voter, ref, scenario.ballot(voter, YES_VOTE))
    clock.set(POLLS_OPEN + timedelta(hours=1))
    client = login_as(member)
    empty = client.get(f"/voting/{ref.id}/station").get_data(as_text=True)
    assert not MARK_BUTTON.search(empty)  # nothing to mark before a lookup
    assert "Reģistrēt ar reģistrācijas aploksni" in empty and 'src="/static/js/confirm.js' in empty

    looked = client.post(f"/voting/{ref.id}/station", data={
        "station_id": scenario.station.id, "personal_code": scenario.codes[2],
        "action": "lookup"})
    html = looked.get_data(as_text=True)
    assert looked.status_code == 200 and scenario.codes[2] not in html
    assert MARK_BUTTON.search(html)
    assert ("Atzīmēt šo vēlētāju kā nobalsojušu? To nevar atsaukt, un vēlētāja balss internetā "
            "tiek atcelta (20. panta piektā daļa).") in html
    sealed = re.search(r'name="sealed" value="([^"]+)"', html).group(1)

    tampered = client.post(f"/voting/{ref.id}/station", data={
        "station_id": scenario.station.id, "sealed": sealed[:-4] + "AAAA", "action": "mark"})
    assert tampered.status_code == 422
    still = client.post(f"/voting/{ref.id}/station", data={
        "station_id": scenario.station.id, "personal_code": scenario.codes[2],
        "action": "lookup"}).get_data(as_text=True)
    assert MARK_BUTTON.search(still)  # the tampered form marked nobody

    marked = client.post(f"/voting/{ref.id}/station", data={
        "station_id": scenario.station.id, "sealed": sealed, "action": "mark"})
    assert marked.status_code == 200
    assert "šī balss tiek atcelta" in marked.get_data(as_text=True)
    again = client.post(f"/voting/{ref.id}/station", data={
        "station_id": scenario.station.id, "personal_code": scenario.codes[2],
        "action": "lookup"}).get_data(as_text=True)
    assert not MARK_BUTTON.search(again)


def test_the_envelope_button_records_on_an_envelope(login_as, scenario, clock):
    ref = scenario.referendum
    clock.set(POLLS_OPEN + timedelta(hours=1))
    client = login_as(scenario.members[0])
    answer = client.post(f"/voting/{ref.id}/station?envelope=1", data={
        "station_id": scenario.station.id, "personal_code": scenario.codes[1], "action": "mark"})
    assert answer.status_code == 200
    assert "Reģistrēts reģistrācijas aploksnē" in answer.get_data(as_text=True)


def test_each_protocol_button_names_its_station_and_asks_first(login_as, scenario, clock,
                                                               db_session):
    ref = scenario.referendum
    clock.set(AFTER_CLOSE)
    assert login_as(scenario.chair).post(f"/voting/{ref.id}/close").status_code == 302
    m0 = login_as(scenario.members[0])
    assert m0.post(f"/voting/{ref.id}/protocols", data={
        "station_id": scenario.station.id, "ballots_issued": 0, "votes_for": 0,
        "votes_against": 0, "invalid": 0}).status_code == 302
    html = login_as(scenario.members[1]).get(f"/voting/{ref.id}/protocols").get_data(
        as_text=True)
    name = f"{scenario.station.number}. {scenario.station.name}"
    assert (f'Apstiprināt<span class="visually-hidden"> iecirkņa „{name}” protokolu</span>'
            in html)
    assert f"Apstiprināt iecirkņa „{name}” protokolu? Tā skaitļus vairs nevar mainīt" in html
    assert db_session.scalar(select(PollingStationProtocol.id)) is not None


def test_the_public_page_says_what_is_true_after_the_vote(app, scenario, clock, db_session):
    ref = scenario.referendum
    visitor = app.test_client()
    clock.set(riga(ref.referendum_day - timedelta(days=2), 12))  # online over, polling ahead
    html = visitor.get(f"/voting/{ref.id}").get_data(as_text=True)
    assert "Jūs vēl varat balsot vēlēšanu iecirknī referenduma dienā, " in html
    assert "Pieteikties kā vēlētājam, lai balsotu" in html

    clock.set(AFTER_CLOSE)  # after 20:00, before the commission closes the polls on the portal
    html = visitor.get(f"/voting/{ref.id}").get_data(as_text=True)
    assert "Balsošana ir beigusies: vēlēšanu iecirkņi slēgti" in html
    assert "vēl varat balsot" not in html and "lai balsotu" not in html

    ref.stage = Stage.APPROVED
    db_session.commit()
    html = visitor.get(f"/voting/{ref.id}").get_data(as_text=True)
    assert "rezultāti ir publicēti" in html and f'href="/voting/{ref.id}/results"' in html
    assert "vēl varat balsot" not in html and "lai balsotu" not in html


def test_only_the_voter_who_cast_a_ballot_is_told_it_was_theirs(app, login_as, scenario,
                                                                 clock, db_session):
    ref, voter = scenario.referendum, scenario.voters[0]
    entry = cast_ballot(db_session, clock, voter, ref, scenario.ballot(voter, YES_VOTE))
    db_session.commit()
    url = f"/voting/{ref.id}/board?tracker={entry.tracker}&cast=1"
    stranger = app.test_client().get(url).get_data(as_text=True)
    assert 'data-testid="receipt"' not in stranger and entry.tracker in stranger
    other = login_as(scenario.voters[1]).get(url).get_data(as_text=True)
    assert 'data-testid="receipt"' not in other
    own = login_as(voter).get(url).get_data(as_text=True)
    assert 'data-testid="receipt"' in own and "Jūsu balss ir nodota" in own


def test_art20_choosing_the_trustees_is_checkboxes_and_asks_first(db_session, clock, keys,
                                                                   login_as):
    """Art. 20(6): the chair ticks the trustees among the internet commission's members (a
    fieldset of checkboxes, no Ctrl-click), and choosing asks first, naming what follows: the
    trustees make the election key, and once a key is in the choice is final."""
    s = build_scenario(db_session, clock, keys, open_now=False, upload_keys=False, trustees=2)
    ref = s.referendum
    chair = login_as(s.chair)
    html = chair.get(f"/voting/{ref.id}/manage").get_data(as_text=True)
    choices = html[html.index('data-testid="trustee-choices"'):]
    choices = choices[:choices.index("</fieldset>")]
    assert "<legend>Pilnvarotie (interneta vēlēšanu iecirkņa komisijas locekļi)</legend>" in choices
    assert choices.count('type="checkbox"') >= 2 and "<select" not in choices
    assert "required" not in choices  # any of them, not every one, is to be ticked
    assert 'data-confirm="Izvēlēties šos pilnvarotos? Viņi izveidos vēlēšanu atslēgu.' in html
    assert 'aria-describedby="why-trustees"' in html and 'id="why-trustees"' in html
    assert "js/confirm.js" in html

    nobody = chair.post(f"/voting/{ref.id}/trustees", data={})
    assert nobody.status_code == 303
    assert "Atzīmējiet vismaz vienu" in chair.get(f"/voting/{ref.id}/manage").get_data(
        as_text=True)
    db_session.refresh(ref)
    assert len(ref.trustees) == 2

    assert chair.post(f"/voting/{ref.id}/trustees", data={"trustees": [s.trustees[0].id]}
                      ).status_code == 302
    db_session.refresh(ref)
    assert [t.user_id for t in ref.trustees] == [s.trustees[0].id]

    ref.trustees[0].public_key = "00" * 32  # a key is in: the choice is final
    db_session.commit()
    html = chair.get(f"/voting/{ref.id}/manage").get_data(as_text=True)
    assert 'data-testid="trustees-final"' in html and 'data-testid="trustee-choices"' not in html
    chair.post(f"/voting/{ref.id}/trustees", data={"trustees": [s.trustees[1].id]})
    db_session.refresh(ref)
    assert [t.user_id for t in ref.trustees] == [s.trustees[0].id]
