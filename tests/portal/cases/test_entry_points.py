"""Every case write has the same effects whichever entry point makes it.

Filing and each declared transition of the filed case types (observer report, complaint,
commission query) run through the case page and through the JSON API (cases have no CLI
command; the deadline task moves cases as the system, not for a person). Each run records what
it caused: the thread notices, the e-mail notifications owed, the audit entries, the live
(Socket.IO) events sent after the commit and the Celery tasks queued. Both entry points must
cause the same.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from celery import Task
from sqlalchemy import func, select

from messaging import services as messaging
from messaging.models import Message, Notification
from portal import realtime
from portal.cases import services as portal_services
from portal.cases import tokens
from referendum_core.audit import AuditEntry
from referendum_core.cases import services as domain
from referendum_core.cases.models import Case, CaseType
from referendum_core.cases.workflows import REGISTRY, Party
from tests.case_factories import report, station
from tests.conftest import municipality
from tests.voting_support import referendum_case

EVERY_PARTY = frozenset(Party)
FILED_TYPES = (CaseType.OBSERVER_REPORT, CaseType.COMPLAINT, CaseType.COMMISSION_QUERY)
NOTE = "Pamatojums"
# The complaint is about a commission decision three working days before the fixed clock.
CONTESTED_ON = date(2026, 2, 25)


def _path_to(workflow: Any, state: str) -> list[str]:
    """The shortest list of transition names leading from the initial state to ``state``."""
    seen, queue = {workflow.initial}, deque([(workflow.initial, [])])
    while queue:
        current, path = queue.popleft()
        if current == state:
            return path
        for move in workflow.outgoing(current):
            if move.target not in seen:
                seen.add(move.target)
                queue.append((move.target, [*path, move.name]))
    raise AssertionError(f"{workflow.case_type}: {state} cannot be reached")


def _every_transition() -> list[tuple[str, str, str]]:
    """(case type, transition, source state) for every transition of the filed types."""
    return [(str(kind), move.name, move.sources[0])
            for kind in FILED_TYPES for move in REGISTRY.get(kind).transitions]


class Cast:
    """The people of a run: who files each type, and who makes a move given its parties."""

    def __init__(self, session: Any, clock: Any, people: Any) -> None:
        self.session, self.clock = session, clock
        self.observer, self.voter = people.observer(), people.voter()
        self.member, self.chair, self.officer = people.member(), people.chair(), people.cvk_officer()
        self.headers: dict[int, dict[str, str]] = {}
        for person in (self.observer, self.voter, self.member, self.chair, self.officer):
            _row, plaintext = tokens.issue_service_token(session, clock, None, person, "IS",
                                                         ["cases:read", "cases:write"])
            self.headers[person.id] = {"Authorization": f"Bearer {plaintext}"}

    def filer(self, kind: str) -> Any:
        return {CaseType.OBSERVER_REPORT: self.observer, CaseType.COMPLAINT: self.voter,
                CaseType.COMMISSION_QUERY: self.member}[CaseType(kind)]

    def mover(self, kind: str, parties: frozenset[Party]) -> Any:
        if Party.COMMISSION in parties:
            return self.member
        if Party.CHAIR in parties:
            return self.chair
        if Party.CVK in parties:
            return self.officer
        return self.filer(kind)

    def file(self, kind: str) -> Case:
        """A case of ``kind`` filed by its usual filer, with its thread, as filing leaves it."""
        filer = self.filer(kind)
        muni = station(self.session).municipality_id
        if kind == CaseType.OBSERVER_REPORT:
            case = report(self.session, self.clock, filer)
        elif kind == CaseType.COMPLAINT:
            case = domain.file_complaint(
                self.session, self.clock, filer, municipality_id=muni,
                grounds="commission_decision", applicant_kind="voter",
                contested="Lēmums Nr. 4", contested_on=CONTESTED_ON, summary="Nepamatots")
        else:
            case = domain.ask_cvk(self.session, self.clock, filer, municipality_id=muni,
                                  title="Saraksti", question="Kā rīkoties?",
                                  parties={Party.COMMISSION, Party.REQUESTER})
        portal_services.open_thread(self.session, self.clock, filer, case)
        return case


@pytest.fixture()
def cast(db_session, clock, people) -> Cast:
    return Cast(db_session, clock, people)


@contextmanager
def effects(app: Any, session: Any, monkeypatch: Any) -> Iterator[dict[str, Any]]:
    """Record what the code run inside causes (filled in when the block ends)."""
    emitted: list[tuple[str, str]] = []
    queued: list[str] = []
    monkeypatch.setattr(realtime, "emit_now", lambda event, _payload, room, namespace=None:
                        emitted.append((event, room.split(":")[0], namespace or "/")))
    monkeypatch.setattr(Task, "apply_async", lambda task, *a, **kw: queued.append(task.name))
    session.commit()
    last_seq = session.scalar(select(func.max(AuditEntry.seq))) or 0
    last_message = session.scalar(select(func.max(Message.id))) or 0
    last_notification = session.scalar(select(func.max(Notification.id))) or 0
    found: dict[str, Any] = {}
    yield found
    session.expire_all()
    with app.app_context():
        notices = session.scalars(select(Message).where(
            Message.id > last_message, Message.author_id.is_(None)).order_by(Message.id)).all()
        found["notices"] = [messaging.text_of(session, m) for m in notices]
    found["messages"] = session.scalar(select(func.count(Message.id)).where(
        Message.id > last_message))
    found["notifications"] = sorted(
        (n.user_id, str(n.kind), str(n.status)) for n in session.scalars(
            select(Notification).where(Notification.id > last_notification)))
    found["audit"] = [(e.action, e.object_type, e.actor_id) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq))]
    found["live"] = sorted(emitted)
    found["tasks"] = sorted(queued)


def _move_through_page(client: Any, case: Case, name: str) -> None:
    response = client.post(f"/cases/{case.id}/transition",
                           data={"transition": name, "version": str(case.version), "note": NOTE})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _move_through_api(client: Any, headers: dict[str, str], case: Case, name: str) -> None:
    response = client.post(f"/api/v1/cases/{case.id}/transitions", headers=headers,
                           json={"transition": name, "expected_version": case.version,
                                 "note": NOTE})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(("kind", "name", "source"), _every_transition(),
                         ids=[f"{k}-{n}" for k, n, _s in _every_transition()])
def test_a_transition_has_the_same_effects_through_the_page_and_the_api(
        app, db_session, clock, cast, client, login_as, monkeypatch, kind, name, source):
    workflow = REGISTRY.get(kind)
    move = next(t for t in workflow.transitions if t.name == name)
    actor = cast.mover(kind, move.parties)
    found: dict[str, dict[str, Any]] = {}
    for entry in ("page", "api"):
        case = cast.file(kind)
        for step in _path_to(workflow, source):
            domain.transition_case(db_session, clock, None, case, step, None, NOTE,
                                   parties=EVERY_PARTY)
        login_as(actor)
        with effects(app, db_session, monkeypatch) as found[entry]:
            if entry == "page":
                _move_through_page(client, case, name)
            else:
                _move_through_api(client, cast.headers[actor.id], case, name)
        db_session.refresh(case)
        assert case.state == move.target, entry
    page, api = found["page"], found["api"]
    assert page == api
    assert len(page["notices"]) == 1 and actor.display_name in page["notices"][0]
    assert ("case.transition", "Case", actor.id) in page["audit"]
    assert ("message.new", "thread", "/") in page["live"]


def _file_through_page(client: Any, kind: str, muni: int, station_id: int) -> None:
    if kind == CaseType.OBSERVER_REPORT:
        url, data = "/cases/report", {"polling_station_id": str(station_id),
                                      "category": "ballot_box", "severity": "high",
                                      "description": "Urna nav aizzīmogota"}
    elif kind == CaseType.COMPLAINT:
        url, data = "/cases/complaint", {
            "municipality_id": str(muni), "grounds": "commission_decision",
            "applicant_kind": "voter", "contested": "Lēmums Nr. 4",
            "contested_on": CONTESTED_ON.isoformat(), "summary": "Nepamatots"}
    else:
        url, data = "/cases/query", {"municipality_id": str(muni), "title": "Saraksti",
                                     "question": "Kā rīkoties?"}
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _file_through_api(client: Any, headers: dict[str, str], kind: str, muni: int,
                      station_id: int) -> None:
    body: dict[str, Any] = {"type": str(kind)}
    if kind == CaseType.OBSERVER_REPORT:
        body |= {"polling_station_id": station_id, "category": "ballot_box",
                 "severity": "high", "summary": "Urna nav aizzīmogota"}
    elif kind == CaseType.COMPLAINT:
        body |= {"municipality_id": muni, "grounds": "commission_decision",
                 "applicant_kind": "voter", "contested": "Lēmums Nr. 4",
                 "contested_on": CONTESTED_ON.isoformat(), "summary": "Nepamatots"}
    else:
        body |= {"municipality_id": muni, "title": "Saraksti", "summary": "Kā rīkoties?"}
    response = client.post("/api/v1/cases", headers=headers, json=body)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("kind", [str(k) for k in FILED_TYPES])
def test_filing_has_the_same_effects_through_the_page_and_the_api(
        app, db_session, cast, client, login_as, monkeypatch, kind):
    filer = cast.filer(kind)
    ss = station(db_session)
    found: dict[str, dict[str, Any]] = {}
    for entry in ("page", "api"):
        login_as(filer)
        with effects(app, db_session, monkeypatch) as found[entry]:
            if entry == "page":
                _file_through_page(client, kind, ss.municipality_id, ss.id)
            else:
                _file_through_api(client, cast.headers[filer.id], kind, ss.municipality_id,
                                  ss.id)
        filed = db_session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert (filed.type, filed.created_by_id) == (kind, filer.id)
        assert portal_services.thread_id_for(db_session, filed) is not None, entry
    assert found["page"] == found["api"]
    assert ("case.opened", "Case", filer.id) in found["page"]["audit"]


def test_a_comment_has_the_same_effects_through_the_page_and_the_api(
        app, db_session, cast, client, login_as, monkeypatch):
    found: dict[str, dict[str, Any]] = {}
    for entry in ("page", "api"):
        case = cast.file(CaseType.OBSERVER_REPORT)
        login_as(cast.member)
        with effects(app, db_session, monkeypatch) as found[entry]:
            if entry == "page":
                response = client.post(f"/cases/{case.id}/comment", data={"text": "Skatām"})
                assert response.status_code == 302
            else:
                response = client.post(f"/api/v1/cases/{case.id}/comments",
                                       headers=cast.headers[cast.member.id],
                                       json={"text": "Skatām"})
                assert response.status_code == 201
    assert found["page"] == found["api"]
    assert ("case.commented", "Case", cast.member.id) in found["page"]["audit"]


def test_a_step_with_a_service_of_its_own_is_not_a_plain_transition(
        db_session, clock, cast, client, login_as):
    """Deciding an initiative (Art. 10) or opening the vote (which freezes the manifest) is
    done by its own service on its own page; the case page and the API neither offer nor
    make such a move, so no case reaches a state its step did not prepare."""
    referendum = referendum_case(db_session, clock, municipality(db_session), "strategy",
                                 "Vai atbalstāt?")
    initiative = db_session.scalars(select(Case).where(
        Case.type == CaseType.INITIATIVE).order_by(Case.id.desc())).first()
    chair = cast.chair
    for case, name in ((initiative, "approve"), (referendum, "open_voting")):
        before = case.state
        web = login_as(chair)
        assert f'data-testid="do-{name}"' not in web.get(f"/cases/{case.id}").get_data(
            as_text=True)
        page = web.post(f"/cases/{case.id}/transition",
                        data={"transition": name, "version": str(case.version), "note": NOTE})
        assert page.status_code == 403
        listed = client.get(f"/api/v1/cases/{case.id}", headers=cast.headers[chair.id])
        assert name not in {t["name"] for t in listed.get_json()["allowed_transitions"]}
        api = client.post(f"/api/v1/cases/{case.id}/transitions",
                          headers=cast.headers[chair.id],
                          json={"transition": name, "expected_version": case.version})
        assert api.status_code == 403
        db_session.expire_all()
        assert db_session.get(Case, case.id).state == before
        refusals = db_session.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.refused", AuditEntry.object_id == str(case.id))).all()
        assert len(refusals) == 2 and all("made_by" in e.detail for e in refusals)
