"""The world the permission matrix runs in: one object of each kind in Ādaži (ATVK 0023000),
a user per role (the internet polling-station commission's too: "trustee" is its member chosen as
the referendum's trustee, "internet_chair" its chair, a trustee of nothing), and request helpers that run each request inside a savepoint rolled back
afterwards (so one role's allowed POST cannot change what the next role sees)."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule

from messaging import services as messaging
from messaging.rules import Target, TargetKind
from messaging.services import Upload
from portal.accounts.models import User
from portal.cases.tokens import issue_service_token
from portal.observers import services as observer_services
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.saved_filters import save_filter
from referendum_core.cases.workflows import Party
from referendum_core.initiatives import decide_initiative, submit_initiative
from referendum_core.observation.services import AnswerInput, submit_checklist
from referendum_core.observers import Nomination, ObserverAccreditation
from referendum_core.voting import cast_ballot
from tests.case_factories import PNG, report, station
from tests.conftest import login, municipality
from tests.voting_support import ONLINE_MONDAY, YES_VOTE, build_scenario

ROLES = ("anonymous", "voter", "observer", "member", "member_other", "chair", "officer", "admin",
         "trustee", "internet_chair")
AUTHENTICATED = frozenset(ROLES) - {"anonymous"}
EVERYONE = frozenset(ROLES)
PDF = (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\nxref\n0 1\n0000000000 65535 f \n"
       b"startxref\n0\n%%EOF\n")


@dataclass
class World:
    """Users by role and the URL values of the objects made for them."""

    users: dict[str, User | None]
    values: dict[str, Any]
    service_token: str
    extra: dict[str, Any] = field(default_factory=dict)


def build_world(app: Flask, session: Any, clock: Any, keys: Any, people: Any) -> World:
    """One object of each kind in Ādaži, made by the people who would make them."""
    ada = municipality(session)
    ada.voters_at_last_election = 10
    calendar = WorkingDayCalendar()
    # The voter is on the referendum's list (a resident of Ādaži) and submitted the initiative.
    scenario = build_scenario(session, clock, keys, prefix="matrix-", station_number=901)
    ada.voters_at_last_election = 10
    voter = scenario.voters[0]
    observer, member = people.observer(), people.member()
    member_other, chair = people.member("0001000"), people.chair()
    officer, admin = people.cvk_officer(), people.cvk_admin()
    trustee, internet_chair = scenario.trustees[0], people.internet_chair()

    case = report(session, clock, observer, at=station(session), photos=[PNG])
    thread = messaging.create_thread(session, clock, member, subject="Matricas sarakste",
                                     text="Pirmā ziņa", targets=[Target(TargetKind.CVK)],
                                     uploads=[Upload("protokols.pdf", PDF)])
    session.flush()
    message = messaging.messages_of(session, thread)[0]
    attachment = message.attachments[0]
    initiative = submit_initiative(session, clock, calendar, voter, municipality=ada,
                                   subject="strategy", question="Vai atbalstāt?",
                                   reasons="Tāpēc.", person_ref=voter.person_ref,
                                   basis_date=date(2026, 2, 1))
    decide_initiative(session, clock, calendar, chair, initiative, can=True,
                      question="Vai atbalstāt?", expected_version=initiative.case.version)
    saved = save_filter(session, clock, member, "Mani", "state:submitted")
    token_row, token = issue_service_token(session, clock, admin, chair, "matrica",
                                           ["cases:read", "cases:write"])
    # A ballot on the bulletin board (another voter's), for the public tracker look-up.
    before = clock.now()
    clock.set(ONLINE_MONDAY)
    receipt = cast_ballot(session, clock, scenario.voters[1], scenario.referendum,
                          scenario.ballot(scenario.voters[1], YES_VOTE))
    clock.set(before)
    answered = submit_checklist(
        session, clock, observer, referendum_id=scenario.referendum.id,
        polling_station_id=scenario.station.id, key=str(uuid.uuid4()),
        answers=[AnswerInput("seals_intact", True, PNG)], may_observe=lambda _r, _s: True)
    # An observer the commission recorded (approved at once), for the revocation page.
    _case, _invitations = observer_services.record(
        session, clock, keys, chair, scenario.referendum, "commission_member",
        [Nomination(scenario.station.id, "Matricas Novērotājs", "matrix-observer@example.lv")],
        parties={Party.COMMISSION}, lifetime=timedelta(hours=72))
    accredited = session.scalars(select(ObserverAccreditation).where(
        ObserverAccreditation.email == "matrix-observer@example.lv")).one()
    session.flush()
    users: dict[str, User | None] = {
        "anonymous": None, "voter": voter, "observer": observer, "member": member,
        "member_other": member_other, "chair": chair, "officer": officer, "admin": admin,
        "trustee": trustee, "internet_chair": internet_chair}
    values = {
        "case_id": case.id, "photo_id": case.photos[0].id, "thread_id": thread.id,
        "message_id": message.id, "attachment_id": attachment.id,
        "membership_id": member_other.memberships[0].id, "user_id": member_other.id,
        "filter_id": saved.id, "token_id": token_row.id, "initiative_id": initiative.id,
        "token": "not-an-invitation",
        "referendum_id": scenario.referendum.id, "protocol_id": 1, "code": "en",
        "filename": "favicon.svg", "tracker": receipt.tracker, "provider": "latvija",
        "station_id": scenario.station.id, "answer_id": answered.submission.answers[0].id,
        "accreditation_id": accredited.id,
    }
    session.commit()
    return World(users, values, token, extra={"scenario": scenario, "case": case,
                                               "thread": thread})


def routes(app: Flask) -> list[tuple[str, str, Rule]]:
    """Every (method, endpoint, rule) the app answers, HEAD and OPTIONS aside."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule.endpoint, rule))
    return sorted(found, key=lambda item: (item[1], item[0]))


def urls_for(rule: Rule, values: dict[str, Any]) -> list[str]:
    """The rule's URL(s) with parameters from ``values`` (each choice of an ``any`` converter)."""
    choices: list[dict[str, Any]] = [{}]
    for arg in sorted(rule.arguments):
        converter = rule._converters[arg]  # noqa: SLF001 - werkzeug keeps converters here
        if hasattr(converter, "items"):
            options = sorted(converter.items)
        else:
            if arg not in values:
                raise KeyError(f"no fixture value for URL parameter <{arg}> of {rule.rule}")
            options = [values[arg]]
        choices = [{**c, arg: option} for c in choices for option in options]
    built = []
    for choice in choices:
        url = rule.rule
        for arg, value in choice.items():
            url = re.sub(r"<(?:[^:<>]+:)?" + arg + r"(?:\([^)]*\))?>", str(value), url)
        built.append(url)
    return built


OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}  # not the operator's network (/metrics is local)


def client_for(app: Flask, user: User | None, clock: Any, token: str | None = None) -> Any:
    """A test client from an outside address, signed in as ``user`` or carrying ``token``."""
    client = app.test_client()
    client.environ_base.update(OUTSIDE)
    if token is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if user is not None:
        login(client, user, clock)
    return client
