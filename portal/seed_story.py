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
from referendum_core.cases.models import Case
from referendum_core.cases.workflows import Party
from referendum_core.clock import RIGA, Clock, FixedClock, demo_referendum_day, to_riga
from referendum_core.crypto import encrypt_ballot, generate_trustee_key
from referendum_core.crypto.file_names import TrusteeFiles
from referendum_core.crypto.secretfile import DEFAULT_KDF, dumps_sealed, seal_secret
from referendum_core.initiatives import (
    Initiative,
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
from referendum_core.voting.models import Referendum, Stage
from referendum_core.voting.preparation import CouncilDecision
from referendum_core.voting.results import stations_of
from referendum_core.voting.rules import INFORM_REGISTER_BY_WORKING_DAY_BEFORE
from referendum_core.voting.stations import voters_at_station

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
    return instance_dir / "demo" / TrusteeFiles(election_id).secret


def seed_story(session: Session, clock: Clock, calendar: WorkingDayCalendar, keys: Keys,
               instance_dir: Path) -> dict[str, Any]:
    """Make this week's story unless it exists; returns the ids of what it made."""
    now = clock.now()
    day = demo_referendum_day(now)
    adazi = session.scalars(select(Municipality).where(Municipality.atvk_code == ADAZI)).one()
    existing = _referendum_on(session, adazi, day)
    if existing is not None:
        return {"referendum": existing.id, "created": False}
    story = _Story(session, clock, calendar, _people(session, keys), adazi, instance_dir)
    counted_day = day - timedelta(days=7)
    last_week = _referendum_on(session, adazi, counted_day)
    if last_week is None:
        story.counted_referendum(counted_day)
    elif last_week.stage == Stage.VOTING:
        story.made["counted"] = last_week
        story.close_and_count(counted_day)
    story.current_referendum(day)
    story.initiative()
    story.cases_and_messages()
    story.run()
    out = {"created": True, **{k: v.id for k, v in story.made.items()
                               if k in ("referendum", "counted", "initiative")}}
    if "counted" in story.made:
        out["trustee_secret"] = str(trustee_secret_path(instance_dir,
                                                        story.made["counted"].election_id))
    return out


Step = tuple[datetime, Callable[[], Any]]


class _Story:
    """The story's steps, each at its moment; ``run`` plays them in time order on a clock that
    walks from the earliest to the latest (never past the real "now")."""

    def __init__(self, session: Session, clock: Clock, calendar: WorkingDayCalendar,
                 people: dict[str, User], municipality: Municipality, instance_dir: Path) -> None:
        self.session, self.real, self.calendar = session, clock, calendar
        self.people, self.municipality, self.instance_dir = people, municipality, instance_dir
        self.now = clock.now()
        self.clock = FixedClock(self.now)
        self.steps: list[Step] = []
        self.made: dict[str, Any] = {}

    def at(self, when: datetime, fn: Callable[[], Any], name: str | None = None) -> None:
        def step() -> None:
            made = fn()
            if name:
                self.made[name] = made

        self.steps.append((min(when, self.now), step))

    def ago(self, delta: timedelta, fn: Callable[[], Any], name: str | None = None) -> None:
        self.at(self.now - delta, fn, name)

    def run(self) -> None:
        for when, step in sorted(self.steps, key=lambda s: s[0]):
            self.clock.set(when)
            step()
            self.session.flush()

    # Referendums -------------------------------------------------------------------------

    def current_referendum(self, day: date) -> None:
        """This week's: decided by the council and set up on the last morning the Voter
        Register Law allows (12:00 of the 19th working day before), voting opened, online
        voting open now. That is less than 20 working days before last week's referendum day,
        so Art. 13(5) does not join the two."""
        self.at(self._setup_moment(day), lambda: self._new_referendum(day, QUESTION_NOW),
                "referendum")

    def counted_referendum(self, day: date) -> None:
        """Last week's: two online ballots, polls closed, both protocols confirmed; waiting for
        the trustee's partial decryption (Art. 20(1), 20(6))."""
        self.at(self._setup_moment(day),
                lambda: self._new_referendum(day, QUESTION_COUNTED), "counted")
        for minute, (voter, choice) in enumerate((("anna", YES), ("janis", NO))):
            self.at(riga(day - timedelta(days=4), 12, minute),
                    lambda voter=voter, choice=choice: self._cast(voter, choice))
        self.close_and_count(day)

    def close_and_count(self, day: date) -> None:
        """Polls closed at 20:30 on ``day`` and both stations' protocols confirmed: the count
        waits for the trustee (last week's referendum, also one a previous week's seed made)."""
        chair, member = self.people["chair"], self.people["member"]
        self.at(riga(day, 20, 30), lambda: close_polls(
            self.session, self.clock, self.calendar, chair, self.made["counted"]))

        def protocols() -> None:
            counted = self.made["counted"]
            for station in stations_of(self.session, counted):
                # Everyone marked at the station voted "par" on paper.
                issued = voters_at_station(self.session, counted, station.id)
                protocol = enter_protocol(self.session, self.clock, member, counted, station,
                                          ballots_issued=issued, votes_for=issued,
                                          votes_against=0, invalid=0)
                confirm_protocol(self.session, self.clock, chair, protocol)

        self.at(riga(day, 21, 15), protocols)

    def _cast(self, who: str, choice: list[int]) -> None:
        counted, voter = self.made["counted"], self.people[who]
        alias = alias_for(self.session, self.clock, counted, voter.person_ref)
        ballot = encrypt_ballot(counted.manifest_dict, alias, choice).ballot
        cast_ballot(self.session, self.clock, voter, counted, ballot)

    def _setup_moment(self, day: date) -> datetime:
        """10:00 of the 19th working day before ``day``: the council decides and the chair sets
        up the vote the morning the voter register must be informed by (VRL). So late that
        last week's referendum, already scheduled, is less than 20 working days after this
        week's decision and Art. 13(5) does not bind this week's to last week's day."""
        return riga(self.calendar.subtract_working_days(
            day, INFORM_REGISTER_BY_WORKING_DAY_BEFORE), 10)

    def _new_referendum(self, day: date, question: tuple[str, str]) -> Referendum:
        """The council's decision (Art. 8(2)) set up the same day, the demo trustee chosen,
        their key added (its sealed secret written for the trustee's offline tool) and the vote
        opened."""
        session, clock, calendar = self.session, self.clock, self.calendar
        chair, trustee = self.people["chair"], self.people["trustee"]
        # The council's own decision that day (Art. 8(2)), on a strategy approved ten days
        # before (Art. 6).
        decided_on = to_riga(clock.now()).date()
        council = CouncilDecision(
            subject="strategy", question_lv=question[0],
            reasons="Dome nolēma jautājumu nodot vēlētājiem.", decided_on=decided_on,
            number=f"Nr. {decided_on:%m}/{decided_on:%d}", votes_for=12, council_size=15,
            basis_date=decided_on - timedelta(days=10))
        referendum = setup_referendum(session, clock, calendar, chair,
                                      municipality=self.municipality, council=council,
                                      question_en=question[1], referendum_day=day)
        choose_trustees(session, clock, chair, referendum, [trustee])
        secret, public = generate_trustee_key(referendum.election_id, trustee.display_name)
        path = trustee_secret_path(self.instance_dir, referendum.election_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            fp.write(dumps_sealed(seal_secret(secret, TRUSTEE_PASSPHRASE, DEMO_KDF)))
        add_trustee_key(session, clock, trustee, referendum, json.dumps(public))
        open_voting(session, clock, calendar, chair, referendum)
        return referendum

    # Initiative --------------------------------------------------------------------------

    def initiative(self) -> None:
        """Submitted twelve days ago, decided "can" the next day, collecting since its
        publication on the 3rd working day after (Art. 10(4)-(8), 25(2))."""
        applicant = self.people["janis"]

        def submit() -> Initiative:
            submitted = to_riga(self.clock.now()).date()
            return submit_initiative(
                self.session, self.clock, self.calendar, applicant,
                municipality=self.municipality, subject="strategy",
                question="Vai atbalstāt gājēju un velosipēdu tilta būvi pār Gauju?",
                reasons="Carnikavas un Ādažu iedzīvotājiem vajadzīgs drošs ceļš uz skolu un "
                        "darbu.", person_ref=applicant.person_ref,
                basis_date=submitted - timedelta(days=20))

        self.ago(timedelta(days=12), submit, "initiative")
        self.ago(timedelta(days=11), lambda: decide_initiative(
            self.session, self.clock, self.calendar, self.people["chair"],
            self.made["initiative"], can=True))
        self.ago(timedelta(hours=6), lambda: publish_due_initiatives(
            self.session, self.clock, self.calendar))

    # Cases and messages ------------------------------------------------------------------

    def cases_and_messages(self) -> None:
        session, calendar, people = self.session, self.calendar, self.people
        chair, member, officer = people["chair"], people["member"], people["officer"]
        observer, anna = people["observer"], people["anna"]
        municipality = self.municipality
        station = session.scalars(select(PollingStation).where(
            PollingStation.municipality_id == municipality.id,
            PollingStation.number == 1)).one()
        commission = frozenset({Party.COMMISSION, Party.CHAIR})

        def with_thread(actor: User, case: Case) -> Case:
            case_threads.open_thread(session, self.clock, actor, case)
            return case

        def move(name: str, transition: str) -> Callable[[], Any]:
            return lambda: cases.transition_case(session, self.clock, member, self.made[name],
                                                 transition, None, parties=commission,
                                                 calendar=calendar)

        # Overdue: CVK answers commission queries within 5 working days; twelve days passed.
        self.ago(timedelta(days=12), lambda: with_thread(chair, cases.ask_cvk(
            session, self.clock, chair, municipality_id=municipality.id,
            title="Balsošanas vietas pārcelšana uz sporta zāli",
            question="Vai drīkstam 2. iecirkni pārcelt uz sporta zāli remonta dēļ?",
            parties=commission, calendar=calendar)), "query")
        self.ago(timedelta(days=4), lambda: with_thread(observer, cases.file_observer_report(
            session, self.clock, observer, polling_station_id=station.id,
            category="ballot_box", severity="high", description="Urnai nav plombes uz vāka.",
            referendum_id=self.made["referendum"].id, is_accredited=lambda _m: True,
            calendar=calendar)), "investigating")
        self.ago(timedelta(days=3, hours=22), move("investigating", "triage"))
        self.ago(timedelta(days=3), move("investigating", "investigate"))
        self.ago(timedelta(days=2), lambda: with_thread(anna, cases.file_complaint(
            session, self.clock, anna, municipality_id=municipality.id,
            grounds="commission_decision", applicant_kind="voter",
            contested="Komisijas lēmums par 2. iecirkņa darba laiku",
            contested_on=to_riga(self.clock.now()).date() - timedelta(days=1),
            summary="Iecirknis atvērts tikai līdz 18:00, kas neatbilst likumam.",
            calendar=calendar)), "complaint")
        self.ago(timedelta(days=1), move("complaint", "review"))
        self.ago(timedelta(hours=22), lambda: messaging.create_thread(
            session, self.clock, chair, subject="Vēlēšanu zīmju piegāde",
            text="Labdien! Kad varam saņemt vēlēšanu zīmes sestdienas referendumam?",
            targets=[Target(TargetKind.CVK)]), "thread")
        self.ago(timedelta(hours=3), lambda: messaging.post_message(
            session, self.clock, officer, self.made["thread"],
            "Zīmes piegādāsim ceturtdien līdz 12:00. Lūdzu, apstipriniet saņēmēju."))
        self.ago(timedelta(hours=1), lambda: messaging.post_message(
            session, self.clock, chair, self.made["thread"],
            "Paldies! Saņems komisijas priekšsēdētāja Līga Liepa."))
        self.ago(timedelta(hours=2, minutes=30), lambda: messaging.create_thread(
            session, self.clock, officer, subject="Atgādinājums: iecirkņu protokoli",
            text="Pagājušās sestdienas referenduma rezultāti jāapstiprina trīs darbdienu laikā.",
            targets=[Target(TargetKind.COMMISSION, municipality_id=municipality.id)]))
        self.ago(timedelta(minutes=40), lambda: with_thread(observer, cases.file_observer_report(
            session, self.clock, observer, polling_station_id=station.id,
            category="ballot_box", severity="critical",
            description="Iecirknī atrasta atvērta urna ar vēlēšanu zīmēm bez komisijas "
                        "klātbūtnes.", referendum_id=self.made["referendum"].id,
            is_accredited=lambda _m: True, calendar=calendar)))


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
