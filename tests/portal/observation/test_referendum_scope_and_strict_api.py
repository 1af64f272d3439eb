"""Attacks on the observer API: a report or answers for one referendum never show on another
referendum's station page, table, CSV or home counts; a correction points only to the same
observer's report at the same station for the same referendum; the JSON's types are checked
strictly (a boolean is not an id, an object is not text); an idempotency key reused for another
entry is refused; numbers conflict only beyond their item's tolerance."""
from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from sqlalchemy import func, select

from referendum_core.cases.models import Case, ObserverReport
from referendum_core.observation.checklists import QUEUE_TOLERANCE, checklist
from referendum_core.observation.models import ChecklistAnswer, ObserverSubmission
from tests.conftest import login
from tests.portal.observation.conftest import checklist_body, report_body


def _client(app, db_session, clock, user):
    db_session.commit()
    client = app.test_client()
    login(client, user, clock)
    return client


def _station_page(client, referendum, station):
    return client.get(f"/observe/r/{referendum.id}/s/{station.id}").get_data(as_text=True)


def test_art18_3_a_report_for_one_referendum_shows_on_its_station_page_only(
        app, scene, second, db_session, clock, login_as):
    observer = _client(app, db_session, clock, scene.observers[0])
    sent = observer.post("/observe/api/report", json=report_body(scene))
    assert sent.status_code == 201
    reference = sent.get_json()["reference"]
    case_id = sent.get_json()["case_id"]
    assert db_session.get(ObserverReport, case_id).referendum_id == scene.referendum.id
    assert observer.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 201
    client = login_as(scene.chair)
    own = _station_page(client, scene.referendum, scene.station)
    other = _station_page(client, second, scene.station)
    assert reference in own
    assert reference not in other
    assert 'data-testid="station-reports"' not in other
    # The station table and its CSV count the open report for its referendum only.
    rows = list(csv.DictReader(io.StringIO(
        client.get("/observers/stations.csv").get_data(as_text=True))))
    incidents = {int(r["referendum_id"]): int(r["open_incidents"]) for r in rows}
    progress = {int(r["referendum_id"]): r["checklist_answered"] for r in rows}
    assert incidents == {scene.referendum.id: 1, second.id: 0}
    assert progress == {scene.referendum.id: "1", second.id: "0"}


def test_art18_3_conflicts_and_home_counts_belong_to_their_referendum(
        app, scene, second, db_session, clock, login_as):
    one, two = (_client(app, db_session, clock, o) for o in scene.observers)
    assert one.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 201
    other = checklist_body(scene, ("seals_intact", False))
    other["referendum_id"] = second.id
    assert two.post("/observe/api/checklist", json=other).status_code == 201
    client = login_as(scene.chair)
    # Different referendums: the two answers are no conflict anywhere.
    assert 'data-testid="station-conflict-count">0<' in _station_page(
        client, scene.referendum, scene.station)
    assert 'data-testid="station-conflict-count">0<' in _station_page(
        client, second, scene.station)
    assert 'data-testid="conflict-count">0<' in client.get("/").get_data(as_text=True)
    # A real conflict in the second referendum is counted for it, not for the first.
    again = checklist_body(scene, ("seals_intact", True))
    again["referendum_id"] = second.id
    assert one.post("/observe/api/checklist", json=again).status_code == 201
    client = login_as(scene.chair)
    home = client.get("/").get_data(as_text=True)
    assert f'data-testid="attention-referendum-{second.id}"' in home
    assert f'data-testid="attention-referendum-{scene.referendum.id}"' not in home
    rows = list(csv.DictReader(io.StringIO(
        client.get("/observers/stations.csv").get_data(as_text=True))))
    assert {int(r["referendum_id"]): int(r["observer_conflicts"]) for r in rows} == {
        scene.referendum.id: 0, second.id: 1}


def _report_cases(db_session):
    return db_session.scalar(select(func.count(Case.id)).where(Case.type == "observer_report"))


def test_a_correction_naming_another_referendums_report_is_refused(
        app, scene, second, db_session, clock):
    observer = _client(app, db_session, clock, scene.observers[0])
    first = observer.post("/observe/api/report", json=report_body(scene)).get_json()
    body = report_body(scene, corrects_case_id=first["case_id"], referendum_id=second.id)
    answer = observer.post("/observe/api/report", json=body)
    assert answer.status_code == 422
    assert answer.get_json()["reason"] == "other_referendum"
    assert "par citu referendumu" in answer.get_json()["error"]
    assert _report_cases(db_session) == 1


def test_a_correction_naming_another_station_or_kind_or_observer_is_refused(
        app, scene, db_session, clock, people):
    from referendum_core.organisation import add_polling_station

    other = add_polling_station(db_session, scene.municipality, 802, "Kultūras nams",
                                "Rīgas iela 2")
    db_session.commit()
    one, two = (_client(app, db_session, clock, o) for o in scene.observers)
    there = one.post("/observe/api/report", json=report_body(
        scene, polling_station_id=other.id)).get_json()
    mine_here = one.post("/observe/api/report", json=report_body(scene)).get_json()
    cases_before = _report_cases(db_session)
    refused = one.post("/observe/api/report", json=report_body(
        scene, corrects_case_id=there["case_id"]))
    assert (refused.status_code, refused.get_json()["reason"]) == (422, "other_station")
    assert "par citu vēlēšanu iecirkni" in refused.get_json()["error"]
    # Another observer's report is not theirs to correct.
    refused = two.post("/observe/api/report", json=report_body(
        scene, corrects_case_id=mine_here["case_id"]))
    assert (refused.status_code, refused.get_json()["reason"]) == (422, "not_own")
    # A case that is not theirs (the referendum's own case) neither.
    refused = one.post("/observe/api/report", json=report_body(
        scene, corrects_case_id=scene.referendum.case_id))
    assert (refused.status_code, refused.get_json()["reason"]) == (422, "not_own")
    assert _report_cases(db_session) == cases_before
    # The right one still works.
    fixed = one.post("/observe/api/report", json=report_body(
        scene, corrects_case_id=mine_here["case_id"]))
    assert fixed.status_code == 201


def test_a_correction_of_another_kind_of_ones_own_case_is_refused(scene, db_session):
    from referendum_core.cases.services import file_complaint
    from referendum_core.observation.exceptions import NotCorrectable
    from referendum_core.observation.services import file_report

    observer = scene.observers[0]
    own_complaint = file_complaint(
        db_session, scene.clock, observer, municipality_id=scene.municipality.id,
        grounds="commission_decision", applicant_kind="observer", contested="Lēmums Nr. 1",
        contested_on=scene.clock.now().date(), summary="Sūdzība")
    with pytest.raises(NotCorrectable) as refused:
        file_report(db_session, scene.clock, observer, referendum_id=scene.referendum.id,
                    polling_station_id=scene.station.id, key=str(uuid.uuid4()),
                    category="ballot_box", severity="low", description="Labojums",
                    corrects_case_id=own_complaint.id, may_observe=lambda _r, _s: True,
                    is_accredited=lambda _s: True)
    assert refused.value.reason == "other_kind"


@pytest.mark.parametrize("field, value", [
    ("corrects_case_id", False), ("corrects_case_id", True), ("corrects_case_id", 0),
    ("corrects_case_id", {"id": 1}), ("referendum_id", True), ("polling_station_id", [1]),
    ("description", {"text": "Urna"}), ("description", ["Urna"]), ("category", 7),
    ("severity", None), ("key", 12), ("photos", "not a list"), ("filled_at", 5),
])
def test_a_report_field_of_the_wrong_type_is_refused_by_name(app, scene, db_session, clock,
                                                             field, value):
    observer = _client(app, db_session, clock, scene.observers[0])
    answer = observer.post("/observe/api/report", json=report_body(scene, **{field: value}))
    assert answer.status_code == 400
    body = answer.get_json()
    assert (body["code"], body["field"]) == ("invalid_field", field)
    # The sentence names the field in Latvian, not by its JSON key.
    assert field not in body["error"] and body["error"].startswith("Laukam ")
    assert _report_cases(db_session) == 0
    assert db_session.scalar(select(func.count(ObserverSubmission.id))) == 0


def test_false_is_not_a_report_to_correct_and_files_nothing(app, scene, db_session, clock):
    observer = _client(app, db_session, clock, scene.observers[0])
    assert observer.post("/observe/api/report", json=report_body(scene)).status_code == 201
    answer = observer.post("/observe/api/report", json=report_body(
        scene, corrects_case_id=False))
    assert answer.status_code == 400 and answer.get_json()["field"] == "corrects_case_id"
    assert _report_cases(db_session) == 1


@pytest.mark.parametrize("answer, field", [
    ({"item": "seals_intact", "value": "yes"}, "answers[0].value"),
    ({"item": "seals_intact", "value": {"v": True}}, "answers[0].value"),
    ({"item": "queue_length", "value": 3.5}, "answers[0].value"),
    ({"item": ["seals_intact"], "value": True}, "answers[0].item"),
    ({"item": "seals_intact", "value": True, "photo": {"data": "x"}}, "answers[0].photo"),
    ("seals_intact", "answers[0]"),
])
def test_a_checklist_answer_of_the_wrong_type_is_refused_by_name(app, scene, db_session, clock,
                                                                 answer, field):
    observer = _client(app, db_session, clock, scene.observers[0])
    body = checklist_body(scene)
    body["answers"] = [answer]
    refused = observer.post("/observe/api/checklist", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["field"] == field
    assert db_session.scalar(select(func.count(ChecklistAnswer.id))) == 0


def test_a_report_key_reused_for_a_checklist_is_refused_and_a_resend_is_received_once(
        app, scene, db_session, clock):
    observer = _client(app, db_session, clock, scene.observers[0])
    key = str(uuid.uuid4())
    report = report_body(scene, key=key)
    assert observer.post("/observe/api/report", json=report).status_code == 201
    reused = observer.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True), key=key))
    assert reused.status_code == 409
    assert reused.get_json()["code"] == "key_reused"
    assert "jau ir izmantots citam ierakstam" in reused.get_json()["error"]
    assert db_session.scalar(select(func.count(ChecklistAnswer.id))) == 0
    # The same key for another report's text is refused too; the identical resend is the
    # first receipt, once.
    changed = dict(report, description="Cits teksts")
    assert observer.post("/observe/api/report", json=changed).status_code == 409
    again = observer.post("/observe/api/report", json=report)
    assert (again.status_code, again.get_json()["status"]) == (200, "already_received")
    assert _report_cases(db_session) == 1


def test_queue_lengths_within_the_tolerance_agree_and_protocol_figures_must_match(
        app, scene, db_session, clock, login_as):
    assert checklist(2).item("queue_length").tolerance == QUEUE_TOLERANCE
    assert checklist(2).item("protocol_voters").tolerance == 0
    one, two = (_client(app, db_session, clock, o) for o in scene.observers)
    assert one.post("/observe/api/checklist", json=checklist_body(
        scene, ("queue_length", 10), ("protocol_voters", 500))).status_code == 201
    assert two.post("/observe/api/checklist", json=checklist_body(
        scene, ("queue_length", 10 + QUEUE_TOLERANCE), ("protocol_voters", 501))).status_code \
        == 201
    client = login_as(scene.chair)
    page = _station_page(client, scene.referendum, scene.station)
    assert 'data-testid="station-conflict-count">1<' in page  # protocol figures only
    listed = re.search(r'data-testid="station-conflicts">(.*?)</ul>', page, re.S).group(1)
    assert "Vēlētāju skaits protokolā" in listed and "rindā" not in listed
    # One past the tolerance: the queue conflicts too.
    assert two.post("/observe/api/checklist", json=checklist_body(
        scene, ("queue_length", 10 + QUEUE_TOLERANCE + 1))).status_code == 201
    client = login_as(scene.chair)
    page = _station_page(client, scene.referendum, scene.station)
    assert 'data-testid="station-conflict-count">2<' in page


def test_a_field_deep_in_the_answers_is_named_with_its_number(app):
    from portal.refusal_texts import field_name

    with app.test_request_context(headers={"Accept-Language": "lv"}):
        assert field_name("answers[2].value") == "Atbilde (Nr. 3)"
        assert field_name("polling_station_id") == "Vēlēšanu iecirknis"
        assert field_name("something_else") == "„something_else”"
