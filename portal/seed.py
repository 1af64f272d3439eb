"""The demo: organisations, one account per role and two voters. Idempotent."""
from __future__ import annotations

from dataclasses import dataclass

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import services
from portal.accounts.models import Role, User
from portal.accounts.services import Keys
from referendum_core.clock import Clock
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
        if acct.where == "cvk":
            services.grant_membership(session, clock, None, user, acct.role,
                                      commission=get_commission(session, CommissionKind.CVK))
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
                step = int(clock.now().timestamp() // 30)
                services.enable_totp(session, clock, keys, user, secret, pyotp.TOTP(secret).at(
                    clock.now()))
                user.totp_last_step = step - 2  # the demo user may sign in straight away
            else:
                secret = keys.open(services.TOTP_PURPOSE, user.totp_secret_enc).decode()
        printed.append({"email": acct.email, "role": str(acct.role), "totp_secret": secret or "-"})
    for code, name in DEMO_VOTERS:
        services.find_or_create_voter(session, clock, keys, code, name)
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
    return pyotp.TOTP(secret).at(clock.now())

