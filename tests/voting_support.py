"""Helpers for voting tests: a referendum set up with voters on its list, trustees with keys,
a polling station and commission members; ballots built with the Python crypto core."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from portal.accounts import services
from portal.accounts.models import Role, User
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case, CaseType
from referendum_core.cases.services import open_case
from referendum_core.clock import RIGA, FixedClock
from referendum_core.crypto import encrypt_ballot, generate_trustee_key, partial_decrypt
from referendum_core.crypto.keys import TrusteeSecret
from referendum_core.crypto.tally import aggregate_from_json, aggregate_to_json
from referendum_core.initiatives import Initiative, open_referendum
from referendum_core.organisation import (
    CommissionKind,
    Municipality,
    PollingStation,
    add_polling_station,
    get_commission,
)
from referendum_core.voting import (
    add_trustee_key,
    choose_trustees,
    open_voting,
    setup_referendum,
)
from referendum_core.voting.models import Referendum
from tests.register_data import add_person, code_for

REFERENDUM_DAY = date(2026, 3, 14)  # a Saturday; online Mon 9 - Wed 11 March
BORN = date(1970, 6, 1)
CALENDAR = WorkingDayCalendar()
YES_VOTE, NO_VOTE = [1, 0], [0, 1]


def riga(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant given in Riga time, as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=RIGA).astimezone(UTC)


ONLINE_MONDAY = riga(date(2026, 3, 9), 10)
SET_UP_AT = riga(date(2026, 2, 16), 10)  # before 12:00 on 17 February, the 19th working day
POLLS_OPEN = riga(REFERENDUM_DAY, 7)
AFTER_CLOSE = riga(REFERENDUM_DAY, 20, 30)


@dataclass
class Scenario:
    """Everything a voting test needs, made in one session."""

    session: Session
    clock: FixedClock
    keys: services.Keys
    municipality: Municipality
    referendum: Referendum
    station: PollingStation
    chair: User
    members: list[User]
    trustees: list[User]
    secrets: list[TrusteeSecret] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    voters: list[User] = field(default_factory=list)
    _n: int = 0

    def ballot(self, voter: User, choice: list[int]) -> dict[str, Any]:
        """An encrypted ballot for ``voter`` (their alias made on the way)."""
        from referendum_core.voting import alias_for

        alias = alias_for(self.session, self.clock, self.referendum, voter.person_ref)
        return encrypt_ballot(self.referendum.manifest_dict, alias, choice).ballot

    def encrypted(self, voter: User, choice: list[int]) -> Any:
        from referendum_core.voting import alias_for

        alias = alias_for(self.session, self.clock, self.referendum, voter.person_ref)
        return encrypt_ballot(self.referendum.manifest_dict, alias, choice)

    def partial(self, index: int) -> dict[str, Any]:
        """What ``referendum-trustee decrypt`` writes for trustee ``index``."""
        ref = self.referendum
        agg = aggregate_from_json(json.loads(ref.aggregate or "[]"), 2)
        return {"election_hash": ref.election_hash, "trustee": index,
                "name": self.secrets[index].name,
                "public_key": self.secrets[index].public_key.hex(),
                "aggregate": aggregate_to_json(agg),
                "shares": partial_decrypt(self.secrets[index], bytes.fromhex(ref.election_hash),
                                          agg)}


def official(session: Session, clock: FixedClock, name: str, role: Role, commission: Any
             ) -> User:
    user = services.create_user(session, clock, None, email=f"{name}@voting.example.lv",
                                display_name=name.title(), password=None)
    services.grant_membership(session, clock, None, user, role, commission=commission)
    session.flush()
    return user


def referendum_case(session: Session, clock: FixedClock, muni: Municipality, subject: str,
                    question: str, decided_on: date = date(2026, 2, 13)) -> Case:
    """A factory: the scheduled referendum case of an initiative that reached its threshold on
    ``decided_on`` (the initiative's own steps are tested in ``test_initiatives`` and
    ``test_signatures``), so voting tests can set up any subject, a dismissal included."""
    case = open_case(session, clock, None, case_type=CaseType.INITIATIVE, title=question,
                     municipality_id=muni.id, calendar=CALENDAR)
    initiative = Initiative(
        case=case, municipality_id=muni.id, subject=subject, initiator="residents",
        question=question, reasons="Pamatojums.", submitted_at=clock.now(),
        decision_due_on=decided_on, decision="can")
    session.add(initiative)
    session.flush()
    referendum = open_referendum(session, clock, CALENDAR, None, initiative,
                                 decided_on=decided_on)
    session.flush()
    return referendum


def build_scenario(session: Session, clock: FixedClock, keys: services.Keys, *,
                   subject: str = "strategy", voters: int = 4, trustees: int = 2,
                   atvk: str = "0023000", open_now: bool = True, prefix: str = "",
                   station_number: int = 801, upload_keys: bool = True) -> Scenario:
    """Set up a referendum on 14 March 2026 (clock on 2 March) with ``voters`` people on the
    list, trustees with uploaded keys, one polling station; voting opened (manifest frozen)."""
    muni = session.query(Municipality).filter_by(atvk_code=atvk).one()
    muni.voters_at_last_election = 9
    muni.participants_at_last_election = 6
    protector = keys.personal_codes
    codes = [code_for(BORN, (station_number % 100) * 20 + i) for i in range(voters)]
    for i, code in enumerate(codes):
        add_person(session, protector, code, born=BORN, municipality=muni, name=f"Vēlētājs {i}")
    municipal = get_commission(session, CommissionKind.MUNICIPAL, muni.id)
    internet = get_commission(session, CommissionKind.INTERNET)
    chair = official(session, clock, f"{prefix}chair", Role.COMMISSION_CHAIR, municipal)
    members = [official(session, clock, f"{prefix}member{i}", Role.COMMISSION_MEMBER, municipal)
               for i in range(2)]
    trustee_users = [official(session, clock, f"{prefix}trustee{i}",
                              Role.INTERNET_COMMISSION_MEMBER, internet)
                     for i in range(trustees)]
    station = add_polling_station(session, muni, station_number, "Skola", "Gaujas iela 1")
    # The commission set the referendum up in time for the Voter Register Law's deadlines
    # (by 12:00 of the 19th working day before referendum day); the test goes on from its
    # own clock.
    now = clock.now()
    clock.set(SET_UP_AT)
    case = referendum_case(session, clock, muni, subject,
                           "Vai jūs atbalstāt stratēģijas grozījumus?")
    referendum = setup_referendum(
        session, clock, CALENDAR, chair, case=case,
        question_en="Do you support the amendments to the strategy?",
        referendum_day=REFERENDUM_DAY)
    clock.set(now)
    scenario = Scenario(session, clock, keys, muni, referendum, station, chair, members,
                        trustee_users, codes=codes)
    if referendum.has_online_voting:
        choose_trustees(session, clock, chair, referendum, trustee_users)
        for i, user in enumerate(trustee_users if upload_keys else ()):
            secret, public = generate_trustee_key(referendum.election_id, f"Trustee {i}")
            scenario.secrets.append(secret)
            add_trustee_key(session, clock, user, referendum, json.dumps(public))
    scenario.voters = [services.find_or_create_voter(session, clock, keys, code,
                                                     f"Vēlētājs {i}")
                       for i, code in enumerate(codes)]
    if open_now:
        open_voting(session, clock, CALENDAR, chair, referendum)
    session.flush()
    return scenario


def dkg_deadlines(start: datetime, last: timedelta = timedelta(days=1)) -> dict[str, datetime]:
    """Key-generation deadlines from ``start``: the five rounds evenly up to ``start + last``."""
    from referendum_core.voting.key_generation_rounds import ROUNDS

    return {r: start + last * (k + 1) / len(ROUNDS) for k, r in enumerate(ROUNDS)}
