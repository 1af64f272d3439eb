"""Shared fixtures of the observer pages' tests: a referendum being set up whose initiative
was applied for by the scenario's first voter."""
from __future__ import annotations

import re

import pyotp
import pytest

from referendum_core.initiatives import initiative_of_referendum
from tests.voting_support import build_scenario


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys, open_now=False)
    initiative_of_referendum(db_session, s.referendum.case_id).applicant_id = s.voters[0].id
    db_session.commit()
    return s


def nomination(s, name="Anna Bērziņa", email="anna@example.lv", station=None):
    return {"station_id": (station or s.station).id, "full_name": name, "email": email}


def invitation_links(html):
    """The demo's on-screen invitation links (a deployment only e-mails them)."""
    return re.findall(r"(/invitation/[A-Za-z0-9_-]{40,})", html)


def accept(client, clock, link, password="my own long passphrase"):
    page = client.get(link)
    if page.status_code != 200:
        return page
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.get_data(as_text=True)).group(1)
    return client.post(link, data={"password": password, "confirm": password,
                                   "code": pyotp.TOTP(secret).at(clock.now())})
