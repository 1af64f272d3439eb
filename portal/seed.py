"""The demo: organisations, one account per role and two voters. Idempotent."""
from __future__ import annotations

from dataclasses import dataclass

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import services
from portal.accounts.models import Role, User
from portal.accounts.services import Keys
from referendum_core.clock import Clock, wall_time
from referendum_core.organisation import (
    CommissionKind,
    Municipality,
    PollingStation,
    add_polling_station,
    get_commission,
    sync_organisations,
)

DEMO_PASSWORD = "demo-parole-2026"  # noqa: S105 - a documented demo credential, never used in production
DEMO_DOMAIN = "demo.cvk.lv"
DEMO_VOTERS = (("161175-19997", "Anna Bērziņa"), ("328673-00679", "Jānis Kalniņš"))
# The demo voters' Population Register extract: residents of Ādažu novads, so they may sign
# initiatives and vote there (Art. 7).
DEMO_REGISTER_EXTRACT = (
    "personal_code,name,birth_date,citizenship,municipality\n"
    "161175-19997,Anna Bērziņa,1975-11-16,LV,0023000\n"
    "328673-00679,Jānis Kalniņš,1986-03-28,LV,0023000\n"
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    where: str  # "cvk", "internet", an ATVK code, or "muni:<atvk>" for observers


DEMO_ACCOUNTS = (
    DemoAccount(f"admin@{DEMO_DOMAIN}", "Ilze Admine (CVK)", Role.CVK_ADMIN, "cvk"),
    DemoAccount(f"officer@{DEMO_DOMAIN}", "Pēteris Ozols (CVK)", Role.CVK_OFFICER, "cvk"),
    DemoAccount(f"chair.adazi@{DEMO_DOMAIN}", "Līga Liepa", Role.COMMISSION_CHAIR, "0023000"),
    DemoAccount(f"member.adazi@{DEMO_DOMAIN}", "Mārtiņš Egle", Role.COMMISSION_MEMBER, "0023000"),
    DemoAccount(f"member.riga@{DEMO_DOMAIN}", "Dace Kļava", Role.COMMISSION_MEMBER, "0001000"),
    DemoAccount(f"observer.adazi@{DEMO_DOMAIN}", "Andris Vītols", Role.OBSERVER, "muni:0023000"),
    # Trustees are chosen from the internet polling-station commission (Art. 20(6)).
    DemoAccount(f"trustee@{DEMO_DOMAIN}", "Inese Bērza", Role.INTERNET_COMMISSION_MEMBER,
                "internet"),
)

DEMO_STATIONS = {
    "0023000": [(1, "Ādažu vidusskola", "Gaujas iela 30, Ādaži"),
                (2, "Carnikavas pamatskola", "Skolas iela 4, Carnikava")],
    "0001000": [(1, "Rīgas 1. vidusskola", "Krišjāņa Barona iela 1, Rīga")],
}
DEMO_BASE_FIGURES = {"0023000": (15600, 7020, 2025), "0001000": (425000, 172000, 2025)}


def seed_demo(session: Session, clock: Clock, keys: Keys) -> list[dict[str, str]]:
    """Create the demo if missing; returns what to print (accounts and their TOTP keys)."""
    from datetime import date

    sync_organisations(session)
    munis = {m.atvk_code: m for m in session.scalars(select(Municipality))}
    for atvk, stations in DEMO_STATIONS.items():
        muni = munis[atvk]
        have = {s.number for s in session.scalars(
            select(PollingStation).where(PollingStation.municipality_id == muni.id))}
        for number, name, address in stations:
            if number not in have:
                add_polling_station(session, muni, number, name, address)
        voters, participants, year = DEMO_BASE_FIGURES[atvk]
        if muni.voters_at_last_election is None:
            muni.voters_at_last_election = voters
            muni.participants_at_last_election = participants
            muni.council_elected_on = date(year, 6, 7)
    printed = []
    for acct in DEMO_ACCOUNTS:
        user = services.find_user_by_email(session, acct.email)
        if user is None:
            user = services.create_user(session, clock, None, email=acct.email,
                                        display_name=acct.name, password=DEMO_PASSWORD)
        if acct.where in ("cvk", "internet"):
            kind = CommissionKind.CVK if acct.where == "cvk" else CommissionKind.INTERNET
            services.grant_membership(session, clock, None, user, acct.role,
                                      commission=get_commission(session, kind))
        elif acct.where.startswith("muni:"):
            services.grant_membership(session, clock, None, user, acct.role,
                                      municipality_id=munis[acct.where[5:]].id)
        else:
            services.grant_membership(session, clock, None, user, acct.role, commission=get_commission(
                session, CommissionKind.MUNICIPAL, munis[acct.where].id))
        secret = None
        if user.requires_two_factor:
            if user.totp_secret_enc is None:
                secret = pyotp.random_base32()
                step = int(wall_time(clock).timestamp() // 30)
                services.enable_totp(session, clock, keys, user, secret, pyotp.TOTP(secret).at(
                    wall_time(clock)))
                user.totp_last_step = step - 2  # the demo user may sign in straight away
            else:
                secret = keys.open(services.TOTP_PURPOSE, user.totp_secret_enc).decode()
        printed.append({"email": acct.email, "role": str(acct.role), "totp_secret": secret or "-"})
    for code, name in DEMO_VOTERS:
        services.find_or_create_voter(session, clock, keys, code, name)
    _seed_register(session, clock, keys, munis["0023000"])
    session.flush()
    return printed


def demo_totp_code(session: Session, keys: Keys, clock: Clock, email: str) -> str:
    """The current TOTP code of a demo account (demo only: refuses other accounts)."""
    if not email.endswith("@" + DEMO_DOMAIN):
        raise ValueError("only demo accounts")
    user = session.scalars(select(User).where(User.email == email)).first()
    if user is None or user.totp_secret_enc is None:
        raise ValueError("no such demo account with two-step sign-in")
    secret = keys.open(services.TOTP_PURPOSE, user.totp_secret_enc).decode()
    return pyotp.TOTP(secret).at(wall_time(clock))


def _seed_register(session: Session, clock: Clock, keys: Keys, municipality: Municipality) -> None:
    """The demo voters in the Population Register (a diff import: unchanged on re-runs)."""
    import io

    from referendum_core.register import PersonRecord
    from referendum_core.register_import import import_register

    refs = [keys.personal_codes.lookup_hash(code) for code, _ in DEMO_VOTERS]
    if session.scalar(select(PersonRecord.person_ref).where(PersonRecord.person_ref.in_(refs))
                      .limit(1)) is not None:
        return
    import_register(session, clock, None, keys.personal_codes, "population",
                    io.BytesIO(DEMO_REGISTER_EXTRACT.encode()), file_format="csv", mode="abort",
                    municipality=municipality, filename="demo-register.csv")
