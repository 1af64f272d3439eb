"""Shared fixtures of the voting pages' tests."""
from __future__ import annotations

import pytest

from tests.voting_support import ONLINE_MONDAY, build_scenario


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    db_session.commit()
    return s
