"""A referendum with one polling station and two observers accredited to its municipality."""
from __future__ import annotations

import pytest

from portal.accounts import services
from portal.accounts.models import Role
from tests.voting_support import build_scenario


@pytest.fixture()
def scene(db_session, clock, keys):
    scenario = build_scenario(db_session, clock, keys, voters=1, trustees=1, open_now=False)
    scenario.observers = []
    for i in range(2):
        user = services.create_user(db_session, clock, None,
                                    email=f"observer{i}@observe.example.lv",
                                    display_name=f"Observer {i}", password=None)
        services.grant_membership(db_session, clock, None, user, Role.OBSERVER,
                                  municipality_id=scenario.municipality.id)
        scenario.observers.append(user)
    db_session.flush()
    return scenario
