"""The manage page's status line and next steps come from the referendum's records as they
stand: each stage, and after the online count what approving the results still waits for
(Art. 20(9)-(10), 21: every station's confirmed protocol; Art. 4(6), 29-30: registration
envelopes checked against the voter register; Art. 22: the base figure). Every action button
carries the line that says what it does and why now, and is not offered when it cannot apply."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from referendum_core.voting import cast_ballot, mark_in_person
from referendum_core.voting.models import PollingStationProtocol, Stage, TrusteeShare
from tests.voting_support import (
    AFTER_CLOSE,
    ONLINE_MONDAY,
    POLLS_OPEN,
    YES_VOTE,
    build_scenario,
)

ACTIONS = ("open", "close", "reconcile", "approve")


def _manage(client, ref) -> tuple[str, str, set[str]]:
    """The page, its status line and the actions it offers; each offered action's button is
    described by its explanation line."""
    answer = client.get(f"/voting/{ref.id}/manage")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, (answer.status_code, answer.headers.get("Location"))
    status = re.search(r'data-testid="stage">([^<]*)<', html).group(1)
    offered = {a for a in ACTIONS if f'action="/voting/{ref.id}/{a}"' in html}
    for action in offered:
        why = re.search(rf'<p id="why-{action}">([^<]+)</p>', html)
        assert why and len(why.group(1)) > 40, action
        assert f'aria-describedby="why-{action}"' in html, action
    return html, status, offered


def test_the_status_line_and_the_actions_follow_the_records(db_session, clock, keys, login_as,
                                                            app):
    s = build_scenario(db_session, clock, keys, open_now=False)
    ref, chair = s.referendum, login_as(s.chair)
    _html, status, offered = _manage(chair, ref)
    assert (status, offered) == ("tiek sagatavots; balsošanu var atvērt", {"open"})

    assert chair.post(f"/voting/{ref.id}/open").status_code == 302
    db_session.refresh(ref)
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, s.voters[0], ref, json.dumps(s.ballot(s.voters[0], YES_VOTE)))
    db_session.commit()
    chair = login_as(s.chair)  # a new day: a new sign-in
    html, status, offered = _manage(chair, ref)
    assert (status, offered) == ("notiek balsošana", set())  # closing only after 20:00
    assert 'data-testid="close-later"' in html and "20.00" in html

    # Referendum day with the voter register down: a voter on a registration envelope.
    clock.set(POLLS_OPEN + timedelta(hours=2))
    assert mark_in_person(db_session, clock, s.members[0], ref, s.station, s.codes[1],
                          keys.personal_codes, envelope_mode=True).by_envelope
    db_session.commit()
    chair = login_as(s.chair)
    html, status, offered = _manage(chair, ref)
    assert offered == {"reconcile"}
    assert "1 vēlētājs iecirknī reģistrēts ar reģistrācijas aploksni" in html

    clock.set(AFTER_CLOSE)
    chair = login_as(s.chair)
    _html, status, offered = _manage(chair, ref)
    assert status == "balsošana beigusies 20.00; gaida, kad komisija slēgs iecirkņus"
    assert offered == {"close", "reconcile"}
    assert chair.post(f"/voting/{ref.id}/close").status_code == 302
    db_session.refresh(ref)
    assert ref.stage == Stage.COUNTING
    html, status, offered = _manage(chair, ref)
    assert html.count("daļējais atšifrējums vēl nav iesniegts") == len(s.trustees)
    assert status == ("iecirkņi slēgti, notiek skaitīšana; vēl trūkst: pilnvaroto daļējo "
                      "atšifrējumu, ar ko saskaita interneta balsis; apstiprināta protokola no "
                      f"{s.station.number}. iecirkņa (apstiprināti 0 no 1); 1 reģistrācijas "
                      "aploksnes pārbaudes pret vēlētāju reģistru")
    assert offered == {"reconcile"}
    for i, trustee in enumerate(s.trustees):
        assert login_as(trustee).post(f"/voting/{ref.id}/trustee", data={
            "share-partial_json": json.dumps(s.partial(i))}).status_code == 302
    db_session.refresh(ref)
    assert ref.stage == Stage.TALLIED

    # Counted online; neither the protocol nor the envelope check is there yet.
    chair = login_as(s.chair)
    html, status, offered = _manage(chair, ref)
    assert status == ("interneta balsis saskaitītas; vēl trūkst: apstiprināta protokola no "
                      f"{s.station.number}. iecirkņa (apstiprināti 0 no 1); 1 reģistrācijas "
                      "aploksnes pārbaudes pret vēlētāju reģistru")
    assert offered == {"reconcile"} and 'data-testid="approval-missing"' in html
    assert html.count('data-testid="trustee-decrypted"') == len(s.trustees)
    # A trustee without a share of their own (t of n: the others sufficed) is told the count
    # is done, not that decryption starts after the polls close.
    db_session.delete(db_session.scalars(select(TrusteeShare).where(
        TrusteeShare.referendum_id == ref.id, TrusteeShare.trustee_position == 1)).one())
    db_session.commit()
    page = login_as(s.trustees[1]).get(f"/voting/{ref.id}/trustee").get_data(as_text=True)
    assert "Interneta balsis jau saskaitītas" in page and "sākas pēc" not in page
    chair = login_as(s.chair)
    public = app.test_client()
    assert status in public.get(f"/voting/{ref.id}/results").get_data(as_text=True)
    assert status in public.get("/voting/").get_data(as_text=True)

    assert chair.post(f"/voting/{ref.id}/reconcile").status_code == 302
    _html, status, offered = _manage(chair, ref)
    assert status.endswith("vēl trūkst: apstiprināta protokola no "
                           f"{s.station.number}. iecirkņa (apstiprināti 0 no 1)")
    assert offered == set()

    # Both members: one enters the protocol, the other confirms it.
    m0 = login_as(s.members[0])
    assert m0.post(f"/voting/{ref.id}/protocols", data={
        "station_id": s.station.id, "ballots_issued": 1, "votes_for": 1, "votes_against": 0,
        "invalid": 0}).status_code == 302
    protocol_id = db_session.scalar(select(PollingStationProtocol.id).where(
        PollingStationProtocol.referendum_id == ref.id))
    assert login_as(s.members[1]).post(
        f"/voting/{ref.id}/protocols/{protocol_id}/confirm").status_code == 302
    chair = login_as(s.chair)
    html, status, offered = _manage(chair, ref)
    assert status == ("interneta balsis saskaitītas un visu iecirkņu protokoli apstiprināti; "
                      "gaida komisijas apstiprinājumu")
    assert "gaida protokolus" not in html
    assert offered == {"approve"} and 'data-testid="approval-missing"' not in html

    # Art. 22: without the base figure the result cannot be judged, so it cannot be approved.
    figure = s.municipality.voters_at_last_election
    s.municipality.voters_at_last_election = 0
    db_session.commit()
    _html, status, offered = _manage(chair, ref)
    assert "pēdējo domes vēlēšanu skaitļa" in status and offered == set()
    s.municipality.voters_at_last_election = figure
    db_session.commit()

    assert chair.post(f"/voting/{ref.id}/approve").status_code == 302
    _html, status, offered = _manage(chair, ref)
    assert (status, offered) == ("rezultāti apstiprināti", set())


def test_the_status_line_in_english(db_session, clock, keys, login_as):
    s = build_scenario(db_session, clock, keys)
    ref = s.referendum
    clock.set(AFTER_CLOSE)
    chair = login_as(s.chair)
    chair.post("/lang/en")
    assert chair.post(f"/voting/{ref.id}/close").status_code == 302
    _html, status, offered = _manage(chair, ref)
    assert status == ("online votes counted; still missing: a confirmed protocol from polling "
                      f"station {s.station.number} (0 of 1 confirmed)")
    assert offered == set()


def test_opening_the_vote_is_offered_only_when_it_can_apply(db_session, clock, keys, login_as):
    """Art. 15(1), 20(6): the vote opens with the trustees' keys in the frozen manifest. Until
    the trustees are chosen and have their keys, the page names what is missing and offers no
    "open" step (it would be refused); with one trustee there is no threshold to set."""
    s = build_scenario(db_session, clock, keys, open_now=False, upload_keys=False, trustees=1)
    ref = s.referendum
    chair = login_as(s.chair)
    html, status, offered = _manage(chair, ref)
    assert status == "tiek sagatavots; vēl trūkst: 1 pilnvarotā publiskās atslēgas"
    assert offered == set()
    assert "Vēl trūkst: 1 pilnvarotā publiskās atslēgas." in html
    assert f'action="/voting/{ref.id}/threshold"' not in html  # one trustee: no t of n
    assert 'data-testid="threshold-example"' not in html

    for trustee in list(ref.trustees):
        db_session.delete(trustee)
    db_session.commit()
    db_session.refresh(ref)
    html, status, offered = _manage(chair, ref)
    assert status == "tiek sagatavots; vēl trūkst: pilnvaroto izvēles" and offered == set()

    s2 = build_scenario(db_session, clock, keys, open_now=False, upload_keys=False,
                        trustees=2, prefix="b", atvk="0001000", station_number=812)
    chair2 = login_as(s2.chair)
    html, status, offered = _manage(chair2, s2.referendum)
    assert status == "tiek sagatavots; vēl trūkst: 2 pilnvaroto publisko atslēgu"
    assert f'action="/voting/{s2.referendum.id}/threshold"' in html and offered == set()

    clock.set(AFTER_CLOSE)
    chair2 = login_as(s2.chair)
    html, status, offered = _manage(chair2, s2.referendum)
    assert status == "tiek sagatavots; balsošanu atvērt ir par vēlu" and offered == set()
    assert "Balsošanu atvērt ir par vēlu" in html
