"""The voting pages through HTTP: the voter's page and JSON API, the bulletin board with QR
code, the polling-station page, trustees, protocols, approval, the public results with the
signed PDF and the record that ``referendum-verify`` accepts."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from referendum_core.crypto.ballot import audit_opening
from referendum_core.crypto.verify import verify_record
from referendum_core.voting import cast_ballot
from referendum_core.voting.models import PollingStationProtocol, Stage
from tests.pades import check_commission_signature
from tests.voting_support import (
    AFTER_CLOSE,
    NO_VOTE,
    ONLINE_MONDAY,
    POLLS_OPEN,
    YES_VOTE,
    build_scenario,
)


def test_anonymous_visitor_sees_the_question_and_a_sign_in_link(client, scenario):
    page = client.get(f"/voting/{scenario.referendum.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Vai jūs atbalstāt stratēģijas grozījumus?" in html
    assert "Do you support the amendments to the strategy?" in html
    assert "/voter/login" in html and 'id="ballot"' not in html
    assert f"/voting/{scenario.referendum.id}\"" in client.get("/voting/").get_data(as_text=True)


def test_voter_on_the_list_gets_the_ballot_form(login_as, scenario, people):
    client = login_as(scenario.voters[0])
    html = client.get(f"/voting/{scenario.referendum.id}").get_data(as_text=True)
    assert 'id="ballot"' in html and 'role="status"' in html
    assert 'name="choice"' in html and "<legend>" in html
    assert "js/voting.js" in html and "<script>" not in html  # no inline script
    outsider = login_as(people.voter("010101-10006", "Ārpus Saraksta"))
    html = outsider.get(f"/voting/{scenario.referendum.id}").get_data(as_text=True)
    assert 'id="ballot"' not in html and 'data-testid="voter-status"' in html


def test_cast_through_the_api_and_find_the_tracker_on_the_board(login_as, scenario):
    ref, voter = scenario.referendum, scenario.voters[0]
    client = login_as(voter)
    election = client.get(f"/api/voting/{ref.id}/election").get_json()
    assert election["election_hash"] == ref.election_hash
    ballot = scenario.encrypted(voter, YES_VOTE)
    assert ballot.ballot["alias"] == election["alias"]
    answer = client.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot.ballot),
                         content_type="application/json")
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["tracker"] == ballot.tracker and body["seq"] == 1
    receipt = client.get(body["receipt_url"]).get_data(as_text=True)
    assert ballot.tracker in receipt and "<svg" in receipt and 'data-testid="receipt"' in receipt
    again = client.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot.ballot),
                        content_type="application/json")
    assert again.status_code == 422 and again.get_json()["code"] == "ballot_refused"
    html = client.get(f"/voting/{ref.id}").get_data(as_text=True)
    assert 'data-testid="revote-notice"' in html
    bad = client.get(f"/voting/{ref.id}/board?tracker=xyz")
    assert bad.status_code == 422


def test_a_lost_answer_is_recovered_from_the_public_board(app, login_as, scenario):
    """The voting page's recovery when a cast's answer never arrived: it resends the same
    encrypted ballot (refused as a replay: spec section 5) and looks its tracker up on the
    public board, which gives the receipt the cast would have given; nothing is stored twice."""
    ref, voter = scenario.referendum, scenario.voters[0]
    voter_client, client = login_as(voter), app.test_client()  # the look-up is public
    ballot = scenario.encrypted(voter, YES_VOTE)
    lookup = f"/api/voting/{ref.id}/board/{ballot.tracker}"
    missing = client.get(lookup)
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "Šī izsekošanas koda dēlī nav."
    cast = voter_client.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot.ballot),
                             content_type="application/json")
    assert cast.status_code == 201
    resent = voter_client.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot.ballot),
                               content_type="application/json")
    assert resent.status_code == 422
    assert (resent.get_json()["reason"], resent.get_json()["location"]) == ("replay", "choices")
    found = client.get(lookup)  # public: anyone may look a tracker up, as on the board page
    assert found.status_code == 200 and found.get_json() == cast.get_json()
    assert client.get(f"/api/voting/{ref.id}/board/{ballot.tracker.upper()}").status_code == 422
    assert client.get(f"/api/voting/{ref.id}/board/xyz").get_json()["status"] == 422
    assert client.get(f"/api/voting/{ref.id + 999}/board/{ballot.tracker}").status_code == 404
    assert client.get(f"/api/voting/{ref.id}/turnout").get_json()["board_seq"] == 1


def test_audit_then_cast_through_the_api(login_as, scenario):
    ref, voter = scenario.referendum, scenario.voters[1]
    client = login_as(voter)
    encrypted = scenario.encrypted(voter, NO_VOTE)
    audited = client.post(f"/api/voting/{ref.id}/audits",
                          data=json.dumps(audit_opening(encrypted)),
                          content_type="application/json")
    assert audited.status_code == 201 and audited.get_json()["tracker"] == encrypted.tracker
    refused = client.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(encrypted.ballot),
                          content_type="application/json")
    assert refused.status_code == 422  # an audited ballot can never be cast
    board = client.get(f"/voting/{ref.id}/board?tracker={encrypted.tracker}")
    assert "Atrasts starp pārbaudītajām" in board.get_data(as_text=True)


def test_casting_outside_the_window_is_refused_with_a_json_message(login_as, scenario, clock):
    ref, voter = scenario.referendum, scenario.voters[0]
    ballot = scenario.ballot(voter, YES_VOTE)
    clock.set(POLLS_OPEN)
    client = login_as(voter)
    answer = client.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot),
                         content_type="application/json")
    assert answer.status_code == 422
    assert answer.get_json()["code"] == "outside_online_window"
    assert "15. panta pirmā daļa" in answer.get_json()["error"]


def test_polling_station_marks_and_refuses_with_where_and_when(login_as, scenario, clock,
                                                               db_session):
    ref, member = scenario.referendum, scenario.members[0]
    voter = scenario.voters[2]
    cast_ballot(db_session, clock, voter, ref, scenario.ballot(voter, YES_VOTE))
    clock.set(POLLS_OPEN + timedelta(hours=1))
    client = login_as(member)
    form = {"station_id": scenario.station.id, "personal_code": scenario.codes[2]}
    looked = client.post(f"/voting/{ref.id}/station", data={**form, "action": "lookup"})
    assert looked.status_code == 200 and scenario.codes[2] not in looked.get_data(as_text=True)
    marked = client.post(f"/voting/{ref.id}/station", data={**form, "action": "mark"})
    html = marked.get_data(as_text=True)
    assert marked.status_code == 200 and "20. panta piektā daļa" in html
    again = client.post(f"/voting/{ref.id}/station", data={**form, "action": "mark"})
    assert again.status_code == 409
    # The station as every page names it ("801. Skola"), never "#<database id>".
    label = f"{scenario.station.number}. Skola"
    assert label in again.get_data(as_text=True)
    relooked = client.post(f"/voting/{ref.id}/station", data={**form, "action": "lookup"})
    shown = relooked.get_data(as_text=True)
    assert label in shown and f"#{scenario.station.id}" not in shown
    voter_client = login_as(voter)
    assert 'id="ballot"' not in voter_client.get(f"/voting/{ref.id}").get_data(as_text=True)


def test_station_page_is_for_commission_members_only(login_as, scenario):
    client = login_as(scenario.voters[0])
    assert client.get(f"/voting/{scenario.referendum.id}/station").status_code == 403


def test_whole_flow_after_close_trustees_protocols_approval_results(
        login_as, scenario, clock, db_session, app):
    ref, s = scenario.referendum, scenario
    for voter, choice in zip(s.voters[:3], (YES_VOTE, NO_VOTE, YES_VOTE), strict=True):
        cast_ballot(db_session, clock, voter, ref, s.ballot(voter, choice))
    db_session.commit()
    clock.set(AFTER_CLOSE)
    chair = login_as(s.chair)
    assert chair.post(f"/voting/{ref.id}/close").status_code == 302
    db_session.refresh(ref)
    assert ref.stage == Stage.COUNTING
    # Trustees: a share failing its proof is refused, then both good shares are accepted.
    t0 = login_as(s.trustees[0])
    record = t0.get(f"/voting/{ref.id}/record.json")
    assert record.status_code == 200 and "tally" not in record.get_json()
    bad = s.partial(0)
    bad["shares"][0]["D"] = bad["shares"][1]["D"]
    refused = t0.post(f"/voting/{ref.id}/trustee", data={"share-partial_json": json.dumps(bad)})
    assert refused.status_code == 422
    assert t0.post(f"/voting/{ref.id}/trustee",
                   data={"share-partial_json": json.dumps(s.partial(0))}).status_code == 302
    t1 = login_as(s.trustees[1])
    assert t1.post(f"/voting/{ref.id}/trustee",
                   data={"share-partial_json": json.dumps(s.partial(1))}).status_code == 302
    db_session.refresh(ref)
    assert ref.online_result_dict == {"yes": 2, "no": 1}
    # Art. 20(6): the trustees of the internet commission see the count they made.
    counted = t1.get(f"/voting/{ref.id}/trustee").get_data(as_text=True)
    assert 'data-testid="online-result"' in counted
    # Protocols: nobody voted in person, so an empty protocol; a second member confirms.
    m0 = login_as(s.members[0])
    bad_protocol = {"station_id": s.station.id, "ballots_issued": 1, "votes_for": 0,
                    "votes_against": 0, "invalid": 0}
    assert m0.post(f"/voting/{ref.id}/protocols", data=bad_protocol).status_code == 422
    ok = {**bad_protocol, "ballots_issued": 0}
    assert m0.post(f"/voting/{ref.id}/protocols", data=ok).status_code == 302
    protocol_id = db_session.scalar(select(PollingStationProtocol.id).where(
        PollingStationProtocol.referendum_id == ref.id))
    m0.post(f"/voting/{ref.id}/protocols/{protocol_id}/confirm")
    m1 = login_as(s.members[1])
    assert m1.post(f"/voting/{ref.id}/protocols/{protocol_id}/confirm").status_code == 302
    # Before the approval no protocol (PDF or its signature) is given to anyone, officials
    # included: the results are not yet announced (Art. 21).
    for web in (app.test_client(), login_as(s.members[1])):
        for tail in ("results-protocol.pdf", "results-protocol.pdf.asc"):
            assert web.get(f"/voting/{ref.id}/{tail}").status_code == 404
    # Approval by the chair; the public results page, PDF, signature and record.
    assert login_as(s.chair).post(f"/voting/{ref.id}/approve").status_code == 302
    public = app.test_client()
    html = public.get(f"/voting/{ref.id}/results").get_data(as_text=True)
    assert 'data-testid="outcome"' in html and "<svg" in html
    assert 'data-testid="votes-for">2<' in html and 'data-testid="participants">3<' in html
    pdf = public.get(f"/voting/{ref.id}/results-protocol.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # Saved under the <what>-<election id> scheme of the election's other files.
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="results-protocol-{ref.election_id}.pdf"')
    signature = public.get(f"/voting/{ref.id}/results-protocol.pdf.asc").get_data(as_text=True)
    from portal.gnupg import pgp_for

    pgp = pgp_for(app.config["PORTAL_GNUPGHOME"])
    assert pgp.verify_detached(pdf.data, signature) == pgp.archive_fingerprint
    # The same file carries the commission's PAdES signature, valid up to the test CA.
    pades = check_commission_signature(app, pdf.data)
    assert pades.is_valid and "TEST" in pades.signer
    assert not check_commission_signature(app, pdf.data.replace(b"%PDF-1.", b"%PDF-2.", 1)).intact
    summary = verify_record(public.get(f"/voting/{ref.id}/record.json").get_json())
    assert summary.result == {"yes": 2, "no": 1} and summary.counted == 3
    assert summary.in_person["ballots_issued"] == 0


def test_observers_see_live_turnout_but_never_choices(login_as, scenario, clock, db_session,
                                                      people, app):
    ref, voter = scenario.referendum, scenario.voters[0]
    cast_ballot(db_session, clock, voter, ref, scenario.ballot(voter, YES_VOTE))
    observer = login_as(people.observer())
    html = observer.get(f"/voting/{ref.id}/results").get_data(as_text=True)
    assert 'data-testid="live-turnout"' in html
    live = observer.get(f"/api/voting/{ref.id}/turnout").get_json()
    assert (live["online_voters"], live["in_person"], live["eligible"]) == (1, 0, 4)
    assert live["board_head"] == ref.board_head and "yes" not in json.dumps(live)
    public = app.test_client().get(f"/api/voting/{ref.id}/turnout").get_json()
    assert "online_voters" not in public and public["board_seq"] == 1


def test_dismissal_voting_page_says_there_is_no_online_voting(login_as, db_session, clock,
                                                              keys):
    s = build_scenario(db_session, clock, keys, subject="dismissal", atvk="0001000",
                       station_number=812)
    clock.set(ONLINE_MONDAY)
    client = login_as(s.voters[0])
    html = client.get(f"/voting/{s.referendum.id}").get_data(as_text=True)
    assert 'id="ballot"' not in html and "15. panta otrā daļa" in html
    answer = client.get(f"/api/voting/{s.referendum.id}/election")
    assert answer.status_code == 403 and answer.get_json()["code"] == "no_online_voting"
