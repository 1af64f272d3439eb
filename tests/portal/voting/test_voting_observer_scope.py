"""An observer accredited to one referendum (``Membership.case_id``, a foreign key to cases)
follows that referendum's live turnout and not another's (Art. 18(3): observers are authorised
for their referendum)."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from portal.accounts import services
from portal.accounts.models import Membership, Role
from portal.extensions import socketio
from portal.permissions import Permission, Scope, has_permission
from tests.voting_support import ONLINE_MONDAY, build_scenario

NS = "/voting"


@pytest.fixture()
def two(db_session, clock, keys):
    first = build_scenario(db_session, clock, keys)
    second = build_scenario(db_session, clock, keys, atvk="0001000", station_number=812,
                            prefix="riga-")
    clock.set(ONLINE_MONDAY)
    db_session.commit()
    return first.referendum, second.referendum


@pytest.fixture()
def observer(db_session, clock, two):
    user = services.create_user(db_session, clock, None, email="observer@ref.example.lv",
                                display_name="Novērotāja", password=None)
    services.grant_membership(db_session, clock, None, user, Role.OBSERVER,
                              case_id=two[0].case_id)
    db_session.commit()
    return user


def test_art18_observer_accredited_to_one_referendum_holds_turnout_there_only(two, observer):
    mine, other = two
    assert has_permission(observer, Permission.VIEW_LIVE_TURNOUT,
                          Scope(mine.municipality_id, mine.case_id))
    assert not has_permission(observer, Permission.VIEW_LIVE_TURNOUT,
                              Scope(other.municipality_id, other.case_id))
    # Not the whole municipality either: the accreditation is to the referendum.
    assert not has_permission(observer, Permission.VIEW_LIVE_TURNOUT,
                              Scope(mine.municipality_id))


def test_art18_observer_sees_live_turnout_of_their_referendum_and_not_another(
        app, login_as, two, observer):
    mine, other = two
    client = login_as(observer)
    assert "online_voters" in client.get(f"/api/voting/{mine.id}/turnout").get_json()
    assert "online_voters" not in client.get(f"/api/voting/{other.id}/turnout").get_json()
    assert 'data-testid="live-turnout"' in client.get(
        f"/voting/{mine.id}/results").get_data(as_text=True)
    html = client.get(f"/voting/{other.id}/results").get_data(as_text=True)
    assert 'data-testid="live-turnout"' not in html and 'data-live="online_voters"' not in html
    sock = socketio.test_client(app, namespace=NS, flask_test_client=client)
    joined = sock.emit("join", {"referendum_id": mine.id}, callback=True, namespace=NS)
    assert f"referendum:{mine.id}:turnout" in joined["rooms"]
    joined = sock.emit("join", {"referendum_id": other.id}, callback=True, namespace=NS)
    assert joined["rooms"] == [f"referendum:{other.id}"]
    sock.disconnect(NS)


def test_membership_case_must_exist(db_session, clock, observer):
    db_session.add(Membership(user_id=observer.id, role=Role.OBSERVER, case_id=987_654,
                              created_at=clock.now()))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
