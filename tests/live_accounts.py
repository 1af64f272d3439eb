"""Fresh officials (with their own TOTP secrets), cases and threads on the shared live server, so
browser tests of cases and messaging need not sign in the demo accounts other browser tests use
(a TOTP time-step is accepted once per account)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pyotp
from sqlalchemy import select

from tests.browser import LiveServer


@dataclass(frozen=True)
class LiveOfficial:
    email: str
    user_id: int


def add_official(live: LiveServer, role: str, atvk: str | None = None) -> LiveOfficial:
    """Create a signed-up official or observer (``role`` a ``Role`` value; an observer is
    accredited to ``atvk``) with TOTP on ``live``; sign in with
    ``tests.browser.sign_in_official``."""
    from portal.accounts import services as accounts
    from portal.accounts.models import Role
    from referendum_core.clock import wall_time
    from referendum_core.organisation import (
        CommissionKind,
        Municipality,
        get_commission,
    )

    app = live.app
    email = f"{role}.{secrets.token_hex(4)}@a11y.example.lv"
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        clock, keys = app.extensions["clock"], app.extensions["keys"]
        try:
            user = accounts.create_user(session, clock, None, email=email,
                                        display_name=f"Tests {role.replace('_', ' ').title()}",
                                        password=live.demo_password)
            muni = None if atvk is None else session.scalars(select(Municipality).where(
                Municipality.atvk_code == atvk)).one()
            if Role(role) == Role.OBSERVER:
                accounts.grant_membership(session, clock, None, user, Role.OBSERVER,
                                          municipality_id=muni.id)
            else:
                commission = (get_commission(session, CommissionKind.CVK) if muni is None else
                              get_commission(session, CommissionKind.MUNICIPAL, muni.id))
                accounts.grant_membership(session, clock, None, user, Role(role),
                                          commission=commission)
            secret = pyotp.random_base32()
            real_now = wall_time(clock)  # TOTP counts real time, also on a demo clock
            accounts.enable_totp(session, clock, keys, user, secret,
                                 pyotp.TOTP(secret).at(real_now))
            user.totp_last_step = int(real_now.timestamp() // 30) - 2
            session.commit()
            user_id = user.id
        finally:
            session.close()
    live.totp_secrets[email] = secret
    return LiveOfficial(email, user_id)


def in_live_app(live: LiveServer, work: Any) -> Any:
    """Run ``work(session, clock)`` in the live app's context and commit."""
    app = live.app
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        try:
            result = work(session, app.extensions["clock"])
            session.commit()
            return result
        finally:
            session.close()
