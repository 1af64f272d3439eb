"""A portal with one of everything, on a clock the test moves: the accessibility sweep
(``tests/a11y``) and the user-guide screenshots (``tests/guide``) walk it as every role.

``start_tour`` serves the demo (``tests.browser.start_live_server``) on a ``FixedClock`` set to
2 March 2026 and adds officials of every role with their own TOTP keys, an accredited observer,
trustees (internet commission), four Ādaži residents on the voter list and, on request, one
object of every kind: a referendum on 14 March with trustees' keys and voting opened, an
observer's report, a message thread and two initiatives (one awaiting the decision, one
collecting signatures). ``Tour.sign_in`` signs a role in as a person would (password, then the
TOTP code of the server's time); voters use the one-time code the demo shows on screen.

Sessions outlive the clock's jumps between stages (idle and absolute limits raised), so a test
signs each role in once per module.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp

from referendum_core.clock import FixedClock
from tests.browser import LiveServer, require_chromium, start_live_server, submit
from tests.register_data import add_person, code_for
from tests.voting_support import riga

# The tour starts when the commission sets the referendum up: 19 working days or more before
# referendum day, as the Voter Register Law's deadlines require.
START = datetime(2026, 2, 16, 9, 0, tzinfo=UTC)
REFERENDUM_DAY = date(2026, 3, 14)
ONLINE = riga(date(2026, 3, 9), 10)        # Monday of the online week
POLLING_DAY = riga(REFERENDUM_DAY, 10)     # the polling stations are open
AFTER_CLOSE = riga(REFERENDUM_DAY, 20, 30)  # polls closed
BORN = date(1968, 4, 12)
ADAZI = "0023000"
# The council's own decision to hold the referendum (Art. 8(2)), within 2 months of the
# strategy's approval (Art. 6).
STRATEGY_APPROVED_ON = date(2026, 2, 2)
COUNCIL_DECIDED_ON = date(2026, 2, 12)
COUNCIL_DECISION_NUMBER = "Nr. 4/21"
COUNCIL_REASONS = "Dome nolēma jautāt iedzīvotājiem par stratēģijas grozījumiem."
QUESTION_LV = "Vai atbalstāt Ādažu novada attīstības stratēģijas grozījumus?"
QUESTION_EN = "Do you support the amendments to the Ādaži development strategy?"
TRUSTEE_PASSPHRASE = "trustee passphrase long enough"

# role key -> (e-mail, display name, Role value, where: "cvk", "internet", ATVK or "muni:<ATVK>")
OFFICIALS = {
    "cvk_admin": ("admin@tour.example.lv", "Ilze Admine", "cvk_admin", "cvk"),
    "cvk_officer": ("officer@tour.example.lv", "Pēteris Ozols", "cvk_officer", "cvk"),
    "commission_chair": ("chair@tour.example.lv", "Līga Liepa", "commission_chair", ADAZI),
    "commission_member": ("member@tour.example.lv", "Mārtiņš Egle", "commission_member", ADAZI),
    "commission_member2": ("member2@tour.example.lv", "Otra Locekle", "commission_member",
                           ADAZI),
    "observer": ("observer@tour.example.lv", "Andris Vītols", "observer", f"muni:{ADAZI}"),
    "trustee1": ("trustee1@tour.example.lv", "Pirmais Pilnvarotais",
                 "internet_commission_member", "internet"),
    "trustee2": ("trustee2@tour.example.lv", "Otrais Pilnvarotais",
                 "internet_commission_member", "internet"),
}
VOTER_NAMES = ("Anna Bērziņa", "Jānis Kalniņš", "Beāte Ozola", "Kārlis Zariņš")
VOTER_CODES = tuple(code_for(BORN, 700 + i) for i in range(len(VOTER_NAMES)))


@dataclass
class Tour:
    """The served portal, its clock and the ids of what was seeded."""

    live: LiveServer
    clock: FixedClock
    ids: dict[str, int] = field(default_factory=dict)
    trustee_secrets: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.live.url

    def email(self, role: str) -> str:
        return OFFICIALS[role][0]

    def work(self, fn: Any) -> Any:
        """Run ``fn(session, clock, keys)`` in the live app and commit."""
        app = self.live.app
        with app.app_context():
            session = app.extensions["portal_db"].new_session()
            try:
                result = fn(session, self.clock, app.extensions["keys"])
                session.commit()
                return result
            finally:
                session.close()

    def user(self, session: Any, role: str) -> Any:
        from portal.accounts.models import User

        return session.query(User).filter_by(email=self.email(role)).one()

    # Signing in -----------------------------------------------------------------------------

    def sign_in(self, page: Any, role: str, *, screenshots: Any = None) -> None:
        """Sign ``role`` (a key of ``OFFICIALS``) in: password, then TOTP at the server's time.
        ``screenshots(name)`` is called at each step when given (the guide's pictures)."""
        email = self.email(role)
        self.clock.advance(timedelta(seconds=31))  # every sign-in gets a fresh TOTP step
        page.goto(f"{self.url}/login")
        page.get_by_label("E-pasta adrese").fill(email)
        page.get_by_label("Parole").fill(self.live.demo_password)
        if screenshots:
            screenshots("login")
        submit(page, "Turpināt")
        if "/login/2fa" in page.url:
            code = pyotp.TOTP(self.live.totp_secrets[email]).at(self.clock.now())
            page.get_by_label("Kods no autentifikācijas lietotnes vai rezerves kods").fill(code)
            if screenshots:
                screenshots("two-factor")
            submit(page, "Pieteikties", last=True)
        assert "/login" not in page.url, f"{role} was not signed in: {page.url}"

    def sign_in_voter(self, page: Any, index: int = 0, *, screenshots: Any = None) -> None:
        """A resident signs in with the personal code and the one-time code shown on screen
        (the demo's stand-in for the text message)."""
        page.goto(f"{self.url}/voter/login")
        page.get_by_label("Personas kods").fill(VOTER_CODES[index])
        if screenshots:
            screenshots("voter-login")
        submit(page, "Sūtīt man kodu")
        notice = page.get_by_role("status").inner_text()
        code = "".join(ch for ch in notice.split("ir", 1)[1] if ch.isdigit())[:6]
        page.get_by_label("Saņemtais kods").fill(code)
        if screenshots:
            screenshots("voter-code")
        submit(page, "Pieteikties", last=True)
        assert "/voter" not in page.url, f"voter {index} was not signed in: {page.url}"


def start_tour(tmp_dir: Path, *, objects: bool = True, referendum: bool = True
               ) -> Iterator[Tour]:
    """Serve the portal on a clock at ``START`` with the tour's people (and, with ``objects``,
    a case, a thread and two initiatives; with ``referendum``, the referendum opened for
    voting); stop it afterwards."""
    require_chromium()
    clock = FixedClock(START)
    server = start_live_server(tmp_dir, clock=clock, SESSION_IDLE_MINUTES=60 * 24 * 60,
                               PERMANENT_SESSION_LIFETIME=timedelta(days=60))
    live = next(server)
    tour = Tour(live, clock)
    try:
        tour.work(lambda s, c, k: _add_people(tour, s, c, k))
        if referendum:
            tour.work(lambda s, c, k: _add_referendum(tour, s, c, k, open_it=True))
        if objects:
            tour.work(lambda s, c, k: _add_case_thread_initiatives(tour, s, c, k))
        yield tour
    finally:
        with contextlib.suppress(StopIteration):
            next(server)


def _add_people(tour: Tour, session: Any, clock: FixedClock, keys: Any) -> None:
    from sqlalchemy import select

    from portal.accounts import services
    from portal.accounts.models import Role
    from referendum_core.organisation import CommissionKind, Municipality, get_commission

    adazi = session.scalars(select(Municipality).where(Municipality.atvk_code == ADAZI)).one()
    # Small base figures so a handful of votes or signatures makes a valid outcome.
    adazi.voters_at_last_election, adazi.participants_at_last_election = 9, 6
    for name, code in zip(VOTER_NAMES, VOTER_CODES, strict=True):
        add_person(session, keys.personal_codes, code, born=BORN, municipality=adazi, name=name)
    for email, name, role, where in OFFICIALS.values():
        user = services.create_user(session, clock, None, email=email, display_name=name,
                                    password=tour.live.demo_password)
        scope: dict[str, Any] = {}
        if where == "cvk":
            scope["commission"] = get_commission(session, CommissionKind.CVK)
        elif where == "internet":
            scope["commission"] = get_commission(session, CommissionKind.INTERNET)
        elif where.startswith("muni:"):
            scope["municipality_id"] = adazi.id
        else:
            scope["commission"] = get_commission(session, CommissionKind.MUNICIPAL, adazi.id)
        services.grant_membership(session, clock, None, user, Role(role), **scope)
        if user.requires_two_factor:
            secret = pyotp.random_base32()
            services.enable_totp(session, clock, keys, user, secret,
                                 pyotp.TOTP(secret).at(clock.now()))
            tour.live.totp_secrets[email] = secret
    for name, code in zip(VOTER_NAMES, VOTER_CODES, strict=True):
        services.find_or_create_voter(session, clock, keys, code, name)
    session.flush()
    tour.ids["adazi"] = adazi.id


def _add_referendum(tour: Tour, session: Any, clock: FixedClock, keys: Any, *,
                    open_it: bool) -> None:
    from referendum_core.calendar import WorkingDayCalendar
    from referendum_core.crypto import generate_trustee_key
    from referendum_core.organisation import Municipality
    from referendum_core.voting import (
        add_trustee_key,
        choose_trustees,
        open_voting,
        setup_referendum,
    )
    from referendum_core.voting.preparation import CouncilDecision

    calendar = WorkingDayCalendar()
    chair = tour.user(session, "commission_chair")
    trustees = [tour.user(session, "trustee1"), tour.user(session, "trustee2")]
    council = CouncilDecision(
        subject="strategy", question_lv=QUESTION_LV, reasons=COUNCIL_REASONS,
        decided_on=COUNCIL_DECIDED_ON, number=COUNCIL_DECISION_NUMBER, votes_for=12,
        council_size=15, basis_date=STRATEGY_APPROVED_ON)
    referendum = setup_referendum(
        session, clock, calendar, chair, municipality=session.get(Municipality, tour.ids["adazi"]),
        council=council, question_en=QUESTION_EN, referendum_day=REFERENDUM_DAY)
    choose_trustees(session, clock, chair, referendum, trustees)
    for i, user in enumerate(trustees):
        secret, public = generate_trustee_key(referendum.election_id, OFFICIALS[
            f"trustee{i + 1}"][1])
        tour.trustee_secrets.append(secret)
        add_trustee_key(session, clock, user, referendum, json.dumps(public))
    if open_it:
        open_voting(session, clock, calendar, chair, referendum)
    session.flush()
    tour.ids["referendum"] = referendum.id


def _add_case_thread_initiatives(tour: Tour, session: Any, clock: FixedClock, keys: Any
                                 ) -> None:
    from sqlalchemy import select

    from messaging import services as messaging
    from messaging.rules import Target, TargetKind
    from referendum_core.calendar import WorkingDayCalendar
    from referendum_core.cases import services as cases
    from referendum_core.initiatives import decide_initiative, submit_initiative
    from referendum_core.organisation import Municipality, PollingStation

    adazi = session.get(Municipality, tour.ids["adazi"])
    station = session.scalars(select(PollingStation).where(
        PollingStation.municipality_id == adazi.id, PollingStation.number == 1)).one()
    tour.ids["station"] = station.id
    case = cases.file_observer_report(
        session, clock, tour.user(session, "observer"), polling_station_id=station.id,
        category="ballot_box", severity="high", description="Urnai nav plombes uz vāka.",
        is_accredited=lambda _m: True)
    tour.ids["case"] = case.id
    chair = tour.user(session, "commission_chair")
    thread = messaging.create_thread(session, clock, chair, subject="Iecirkņa telpas",
                                     text="Vai drīkst **pārcelt** 2. iecirkni uz sporta zāli?",
                                     targets=[Target(TargetKind.CVK)])
    session.flush()
    [message] = messaging.messages_of(session, thread)
    tour.ids["thread"], tour.ids["message"] = thread.id, message.id
    calendar = WorkingDayCalendar()
    resident = _voter(session, keys, 2)
    waiting = submit_initiative(
        session, clock, calendar, resident, municipality=adazi, subject="strategy",
        question="Vai atbalstāt jauna parka izveidi Gaujas krastā?",
        reasons="Iedzīvotājiem trūkst atpūtas vietu.", person_ref=resident.person_ref,
        basis_date=date(2026, 2, 1))
    collecting = submit_initiative(
        session, clock, calendar, _voter(session, keys, 3), municipality=adazi, subject="strategy",
        question="Vai atbalstāt velosipēdu ceļu uz Carnikavu?",
        reasons="Droša satiksme skolēniem.", person_ref=_voter(session, keys, 3).person_ref,
        basis_date=date(2026, 2, 1))
    session.flush()
    decide_initiative(session, clock, calendar, chair, collecting, can=True)
    tour.ids["initiative"], tour.ids["initiative_collecting"] = waiting.id, collecting.id


def _voter(session: Any, keys: Any, index: int) -> Any:
    from portal.accounts.models import User

    person_ref = keys.personal_codes.lookup_hash(VOTER_CODES[index])
    return session.query(User).filter_by(person_ref=person_ref).one()


# Stages of the referendum ---------------------------------------------------------------------

def publish_initiatives(tour: Tour) -> None:
    """Open the collection of decided initiatives (the Celery deadline job's work)."""
    from referendum_core.calendar import WorkingDayCalendar
    from referendum_core.initiatives import publish_due_initiatives

    tour.work(lambda s, c, k: publish_due_initiatives(s, c, WorkingDayCalendar()))


def cast_online(tour: Tour, index: int, choice: list[int]) -> None:
    """Voter ``index`` casts a ballot encrypted in Python (as the browser would)."""
    from referendum_core.crypto import encrypt_ballot
    from referendum_core.voting import alias_for, cast_ballot
    from referendum_core.voting.models import Referendum

    def work(session: Any, clock: FixedClock, keys: Any) -> None:
        referendum = session.get(Referendum, tour.ids["referendum"])
        voter = _voter(session, keys, index)
        alias = alias_for(session, clock, referendum, voter.person_ref)
        ballot = encrypt_ballot(referendum.manifest_dict, alias, choice).ballot
        cast_ballot(session, clock, voter, referendum, ballot)

    tour.work(work)


def close_and_tally(tour: Tour) -> None:
    """After 20:00: close the polls and add both trustees' partial decryptions."""
    from referendum_core.crypto import partial_decrypt
    from referendum_core.crypto.tally import aggregate_from_json, aggregate_to_json
    from referendum_core.voting import accept_trustee_share, close_polls
    from referendum_core.voting.models import Referendum

    def work(session: Any, clock: FixedClock, keys: Any) -> None:
        referendum = session.get(Referendum, tour.ids["referendum"])
        close_polls(session, clock, None, tour.user(session, "commission_chair"), referendum)
        session.flush()
        for i, secret in enumerate(tour.trustee_secrets):
            agg = aggregate_from_json(json.loads(referendum.aggregate or "[]"), 2)
            share = {"election_hash": referendum.election_hash, "trustee": i,
                     "name": secret.name, "public_key": secret.public_key.hex(),
                     "aggregate": aggregate_to_json(agg),
                     "shares": partial_decrypt(secret, bytes.fromhex(referendum.election_hash),
                                               agg)}
            accept_trustee_share(session, clock, tour.user(session, f"trustee{i + 1}"),
                                 referendum, json.dumps(share))

    tour.work(work)


def protocols_and_approve(tour: Tour) -> None:
    """Both stations' protocols entered and confirmed (nobody voted in person); approved."""
    from referendum_core.voting import approve_results, confirm_protocol, enter_protocol
    from referendum_core.voting.models import Referendum
    from referendum_core.voting.results import stations_of

    def work(session: Any, clock: FixedClock, keys: Any) -> None:
        referendum = session.get(Referendum, tour.ids["referendum"])
        first, second = (tour.user(session, "commission_member"),
                         tour.user(session, "commission_member2"))
        for station in stations_of(session, referendum):
            protocol = enter_protocol(session, clock, first, referendum, station,
                                      ballots_issued=0, votes_for=0, votes_against=0, invalid=0)
            confirm_protocol(session, clock, second, protocol)
        approve_results(session, clock, None, tour.user(session, "commission_chair"),
                        referendum)

    tour.work(work)


def new_context(browser: Any, *, phone: bool = False, storage_state: Any = None) -> Any:
    """A Latvian-locale browser context in Riga's time zone (phone-sized when asked)."""
    options: dict[str, Any] = {"locale": "lv-LV", "timezone_id": "Europe/Riga",
                               "accept_downloads": True}
    if phone:
        options.update(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                       device_scale_factor=1)
    else:
        options.update(viewport={"width": 1280, "height": 800})
    if storage_state is not None:
        options["storage_state"] = storage_state
    context = browser.new_context(**options)
    context.set_default_timeout(20000)
    return context
