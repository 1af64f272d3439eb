"""Shared fixtures of the voting pages' tests."""
from __future__ import annotations

import time
from typing import Any

import pytest

from portal.voting.live import last_pushes
from referendum_core.voting.casting import election_context
from tests.cast_support import cast_url, lean_count, page_tokens
from tests.conftest import login
from tests.voting_support import ONLINE_MONDAY, build_scenario


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    db_session.commit()
    return s


@pytest.fixture()
def ready(app, login_as, db_session, clock, keys):
    """A referendum in online voting, its context parsed and its live push just sent (as after
    the first cast in a process: the lean cast path may answer), and ``sign_in(voter)``: a
    client signed in as the voter with the voting page's CSRF and cast tokens."""
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    db_session.commit()
    election_context(s.referendum)
    last_pushes(app)[s.referendum.id] = time.monotonic() + 3600

    def sign_in(voter: Any, client: Any = None) -> tuple[Any, str, str]:
        """The fixture's client signed in as ``voter``, or ``client`` (a session of its own)."""
        if client is None:
            client = login_as(voter)
        else:
            login(client, voter, clock)
        return (client, *page_tokens(client, s.referendum.id))

    s.sign_in = sign_in
    s.lean_base = lean_count()
    s.url = cast_url(s.referendum.id)
    s.lean_answered = lambda: lean_count() - s.lean_base
    return s
