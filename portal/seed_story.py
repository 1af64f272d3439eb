"""The living demo: a week of work dated relative to the portal's "now" (README "Try it in ten
minutes"). Everything is made through the domain services on a clock that walks from the past
to now, so audit entries, case timelines, threads and deadlines are the real ones.

Around the referendum day of "now"'s week (a Saturday, Art. 16(1)):

- this week's referendum in Ādaži, online voting Monday to Wednesday (Art. 15(1)), the demo
  voters on its list, the demo trustee's key in;
- last week's referendum in Ādaži, counted (two online ballots, both stations' protocols in),
  waiting for the demo trustee's partial decryption; the trustee's sealed secret is written
  under ``instance/demo/``;
- an initiative collecting signatures (Art. 10(8));
- cases in several states: a commission query to CVK past its deadline, a critical observer
  report, a complaint under review awaiting the chair's decision, a report being investigated;
- unread messages between CVK and the Ādaži commission.

Idempotent: a week's story is made once (keyed by its referendum day).
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging import services as messaging
from messaging.rules import Target, TargetKind
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.accounts.services import Keys
from portal.cases import services as case_threads
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases import services as cases
from referendum_core.cases.workflows import Party
from referendum_core.clock import RIGA, Clock, FixedClock, demo_referendum_day
from referendum_core.crypto import encrypt_ballot, generate_trustee_key
from referendum_core.crypto.secretfile import DEFAULT_KDF, dumps_sealed, seal_secret
from referendum_core.initiatives import (
    decide_initiative,
    publish_due_initiatives,
    submit_initiative,
)
from referendum_core.organisation import Municipality, PollingStation
from referendum_core.voting import (
    add_trustee_key,
    alias_for,
    cast_ballot,
    choose_trustees,
    close_polls,
    confirm_protocol,
    enter_protocol,
    open_voting,
    setup_referendum,
)
from referendum_core.voting.models import Referendum
from referendum_core.voting.results import stations_of

ADAZI = "0023000"
DEMO_DOMAIN = "demo.cvk.lv"
# The demo trustee's passphrase for the sealed secret the seed writes (a documented demo value).
TRUSTEE_PASSPHRASE = "demo-pilnvarotais-2026"  # noqa: S105
# The lightest key derivation the secret file accepts: the demo secret protects nothing real.
DEMO_KDF = dict(DEFAULT_KDF, memory_cost_kib=64 * 1024, time_cost=2)
QUESTION_NOW = ("Vai atbalstāt Ādažu novada attīstības stratēģijas grozījumus par jaunu skolu?",
                "Do you support the amendments to the Ādaži development strategy for a new school?")
QUESTION_COUNTED = ("Vai atbalstāt Ādažu novada attīstības stratēģijas grozījumus par sporta centru?",
                    "Do you support the amendments to the Ādaži development strategy for a sports "
                    "centre?")
YES, NO = [1, 0], [0, 1]


def riga(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=RIGA)


def trustee_secret_path(instance_dir: Path, election_id: str) -> Path:
    """Where the seed keeps the demo trustee's sealed secret for one referendum."""
    return instance_dir / "demo" / f"trustee-{election_id}.json"


def seed_story(session: Session, clock: Clock, calendar: WorkingDayCalendar, keys: Keys,
               instance_dir: Path) -> dict[str, Any]:
    """Make this week's story unless it exists; returns what the CLI prints (ids, paths)."""
    now = clock.now()
    day = demo_referendum_day(now)
    adazi = session.scalars(select(Municipality).where(Municipality.atvk_code == ADAZI)).one()
    people = _people(session, keys)
    existing = _referendum_on(session, adazi, day)
    if existing is not None:
        return {"referendum": existing.id, "created": False}
    walk = _Walk(clock)
    out: dict[str, Any] = {"created": True}
    counted_day = day - timedelta(days=7)
    if _referendum_on(session, adazi, counted_day) is None:
        walk.to(riga(counted_day - timedelta(days=19), 10))
        counted = _new_referendum(session, walk.clock, calendar, people, adazi, counted_day,
                                  QUESTION_COUNTED, instance_dir)
        out["counted"] = counted.id
    else:
        counted = None
    walk.to(min(riga(day - timedelta(days=19), 10), now - timedelta(hours=2)))
    current = _new_referendum(session, walk.clock, calendar, people, adazi, day, QUESTION_NOW,
                              instance_dir)
    out["referendum"] = current.id
    if counted is not None:
        walk.to(riga(counted_day - timedelta(days=4), 12))
        for voter, choice in ((people["anna"], YES), (people["janis"], NO)):
            alias = alias_for(session, walk.clock, counted, voter.person_ref)
            ballot = encrypt_ballot(counted.manifest_dict, alias, choice).ballot
            cast_ballot(session, walk.clock, voter, counted, ballot)
        walk.to(riga(counted_day, 20, 30))
        close_polls(session, walk.clock, calendar, people["chair"], counted)
        walk.to(riga(counted_day, 21, 15))
        for station in stations_of(session, counted):
            protocol = enter_protocol(session, walk.clock, people["member"], counted, station,
                                      ballots_issued=0, votes_for=0, votes_against=0, invalid=0)
            confirm_protocol(session, walk.clock, people["chair"], protocol)
    out["initiative"] = _initiative(session, walk, calendar, people, adazi, now)
    _cases_and_messages(session, walk, calendar, people, adazi, now)
    session.flush()
    return out


class _Walk:
    """A clock that only moves forward from the story's first step to the real "now"."""

    def __init__(self, real: Clock) -> None:
        self.real = real
        self.clock = FixedClock(real.now() - timedelta(days=30))

    def to(self, when: datetime) -> None:
        self.clock.set(max(min(when, self.real.now()), self.clock.now()))


def _people(session: Session, keys: Keys) -> dict[str, User]:
    def by_email(local: str) -> User:
        user = accounts.find_user_by_email(session, f"{local}@{DEMO_DOMAIN}")
        assert user is not None, local
        return user

    def voter(code: str) -> User:
        ref = keys.personal_codes.lookup_hash(code)
        return session.scalars(select(User).where(User.person_ref == ref)).one()

    return {"chair": by_email("chair.adazi"), "member": by_email("member.adazi"),
            "officer": by_email("officer"), "observer": by_email("observer.adazi"),
            "trustee": by_email("trustee"), "anna": voter("161175-19997"),
            "janis": voter("328673-00679")}


def _referendum_on(session: Session, municipality: Municipality, day: date) -> Referendum | None:
    return session.scalars(select(Referendum).where(
        Referendum.municipality_id == municipality.id, Referendum.referendum_day == day)).first()


def _new_referendum(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                    people: dict[str, User], municipality: Municipality, day: date,
                    question: tuple[str, str], instance_dir: Path) -> Referendum:
    """Set up, choose the demo trustee, add their key (its sealed secret written for the
    trustee's offline tool) and open the vote."""
    chair, trustee = people["chair"], people["trustee"]
    referendum = setup_referendum(session, clock, calendar, chair, municipality=municipality,
                                  subject="strategy", question_lv=question[0],
                                  question_en=question[1], referendum_day=day)
    choose_trustees(session, clock, chair, referendum, [trustee])
    secret, public = generate_trustee_key(referendum.election_id, trustee.display_name)
    path = trustee_secret_path(instance_dir, referendum.election_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fp:
        fp.write(dumps_sealed(seal_secret(secret, TRUSTEE_PASSPHRASE, DEMO_KDF)))
    add_trustee_key(session, clock, trustee, referendum, json.dumps(public))
    open_voting(session, clock, calendar, chair, referendum)
    return referendum


def _initiative(session: Session, walk: _Walk, calendar: WorkingDayCalendar,
                people: dict[str, User], municipality: Municipality, now: datetime) -> int:
    """Submitted twelve days ago, decided "can" the next day, collecting since its publication
    (Art. 10(4)-(8), 25(2))."""
    walk.to(now - timedelta(days=12))
    applicant = people["janis"]
    submitted = walk.clock.now().astimezone(RIGA).date()
    initiative = submit_initiative(
        session, walk.clock, calendar, applicant, municipality=municipality, subject="strategy",
        question="Vai atbalstāt gājēju un velosipēdu tilta būvi pār Gauju?",
        reasons="Carnikavas un Ādažu iedzīvotājiem vajadzīgs drošs ceļš uz skolu un darbu.",
        person_ref=applicant.person_ref, basis_date=submitted - timedelta(days=20))
    walk.to(now - timedelta(days=11))
    decide_initiative(session, walk.clock, calendar, people["chair"], initiative, can=True)
    walk.to(now - timedelta(hours=6))
    publish_due_initiatives(session, walk.clock, calendar)
    return initiative.id


def _cases_and_messages(session: Session, walk: _Walk, calendar: WorkingDayCalendar,
                        people: dict[str, User], municipality: Municipality,
                        now: datetime) -> None:
    chair, member, officer = people["chair"], people["member"], people["officer"]
    station = session.scalars(select(PollingStation).where(
        PollingStation.municipality_id == municipality.id, PollingStation.number == 1)).one()
    commission = frozenset({Party.COMMISSION, Party.CHAIR})

    def at(delta: timedelta, make: Callable[[], Any]) -> Any:
        walk.to(now - delta)
        return make()

    # Overdue: CVK's service level is 5 working days and nobody has answered in twelve days.
    query = at(timedelta(days=12), lambda: cases.ask_cvk(
        session, walk.clock, chair, municipality_id=municipality.id,
        title="Balsošanas vietas pārcelšana uz sporta zāli",
        question="Vai drīkstam 2. iecirkni pārcelt uz sporta zāli remonta dēļ?",
        parties=commission, calendar=calendar))
    case_threads.open_thread(session, walk.clock, chair, query)
    investigating = at(timedelta(days=4), lambda: cases.file_observer_report(
        session, walk.clock, people["observer"], polling_station_id=station.id,
        category="ballot_box", severity="high", description="Urnai nav plombes uz vāka.",
        is_accredited=lambda _m: True, calendar=calendar))
    case_threads.open_thread(session, walk.clock, people["observer"], investigating)
    at(timedelta(days=4) - timedelta(hours=2), lambda: cases.transition_case(
        session, walk.clock, member, investigating, "triage", None, parties=commission,
        calendar=calendar))
    at(timedelta(days=3), lambda: cases.transition_case(
        session, walk.clock, member, investigating, "investigate", None, parties=commission,
        calendar=calendar))
    complaint = at(timedelta(days=2), lambda: cases.file_complaint(
        session, walk.clock, people["anna"], municipality_id=municipality.id,
        grounds="commission_decision", applicant_kind="voter",
        contested="Komisijas lēmums par 2. iecirkņa darba laiku",
        contested_on=(now - timedelta(days=3)).astimezone(RIGA).date(),
        summary="Iecirknis atvērts tikai līdz 18:00, kas neatbilst likumam.",
        calendar=calendar))
    case_threads.open_thread(session, walk.clock, people["anna"], complaint)
    at(timedelta(days=1), lambda: cases.transition_case(
        session, walk.clock, member, complaint, "review", None, parties=commission,
        calendar=calendar))
    thread = at(timedelta(days=1, hours=-2), lambda: messaging.create_thread(
        session, walk.clock, chair, subject="Vēlēšanu zīmju piegāde",
        text="Labdien! Kad varam saņemt vēlēšanu zīmes sestdienas referendumam?",
        targets=[Target(TargetKind.CVK)]))
    at(timedelta(hours=3), lambda: messaging.post_message(
        session, walk.clock, officer, thread,
        "Zīmes piegādāsim ceturtdien līdz 12:00. Lūdzu, apstipriniet saņēmēju."))
    at(timedelta(hours=2, minutes=30), lambda: messaging.create_thread(
        session, walk.clock, officer, subject="Atgādinājums: iecirkņu protokoli",
        text="Pagājušās sestdienas referenduma rezultāti jāapstiprina trīs darbdienu laikā.",
        targets=[Target(TargetKind.COMMISSION, municipality_id=municipality.id)]))
    critical = at(timedelta(minutes=40), lambda: cases.file_observer_report(
        session, walk.clock, people["observer"], polling_station_id=station.id,
        category="ballot_box", severity="critical",
        description="Iecirknī atrasta atvērta urna ar vēlēšanu zīmēm bez komisijas klātbūtnes.",
        is_accredited=lambda _m: True, calendar=calendar))
    case_threads.open_thread(session, walk.clock, people["observer"], critical)
