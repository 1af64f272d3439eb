"""An accredited observer's rights start and end with the referendum's days (Art. 18(3),
20(3)), checked against the portal's injected clock: tests at the boundaries."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.observers import services
from portal.permissions import Permission, Scope, has_permission, municipalities_for
from referendum_core.observers import Nomination, request_accreditation, rights_window

SECOND = timedelta(seconds=1)


@pytest.fixture()
def observer(app, scenario, db_session, clock, keys):
    s = scenario
    case = request_accreditation(db_session, clock, s.voters[0], s.referendum,
                                 [Nomination(s.station.id, "Anna Bērziņa", "anna@example.lv")])
    services.accredit(db_session, clock, keys, s.members[0], case, lifetime=timedelta(hours=72))
    db_session.commit()
    return db_session.scalars(select(User).where(User.email == "anna@example.lv")).one()


def _can_report(app, user, municipality_id):
    with app.app_context():
        return has_permission(user, Permission.FILE_OBSERVER_REPORT,
                              Scope(municipality_id=municipality_id))


def test_art18_3_art20_3_rights_start_on_the_referendums_first_day(app, scenario, observer,
                                                                   clock):
    start, _end = rights_window(scenario.referendum)
    clock.set(start - SECOND)
    assert not _can_report(app, observer, scenario.municipality.id)
    clock.set(start)
    assert _can_report(app, observer, scenario.municipality.id)


def test_art18_3_art20_3_rights_end_after_the_count_on_the_day_after(app, scenario, observer,
                                                                     clock):
    _start, end = rights_window(scenario.referendum)
    clock.set(end - SECOND)
    assert _can_report(app, observer, scenario.municipality.id)
    clock.set(end)
    assert not _can_report(app, observer, scenario.municipality.id)
    with app.app_context():
        assert municipalities_for(observer, Permission.FILE_OBSERVER_REPORT) == set()


def test_art18_3_rights_hold_only_in_the_referendums_municipality(app, scenario, observer,
                                                                   clock):
    start, _end = rights_window(scenario.referendum)
    clock.set(start)
    assert not _can_report(app, observer, scenario.municipality.id + 1000)
    with app.app_context():
        assert municipalities_for(observer, Permission.FILE_OBSERVER_REPORT) == {
            scenario.municipality.id}


def test_a_time_limited_membership_grants_nothing_without_a_clock(scenario, observer):
    assert not has_permission(observer, Permission.FILE_OBSERVER_REPORT,
                              Scope(municipality_id=scenario.municipality.id))


def test_art18_3_the_report_page_opens_only_within_the_referendums_days(
        app, client, login_as, scenario, observer, clock):
    start, end = rights_window(scenario.referendum)
    observer.totp_enabled_at = clock.now()  # as after accepting the invitation
    for moment, status in ((start - SECOND, 403), (start + SECOND, 200), (end - SECOND, 200),
                           (end, 403)):
        clock.set(moment)
        login_as(observer)  # a fresh sign-in at that moment (sessions expire meanwhile)
        assert client.get("/cases/report").status_code == status, moment


def test_memberships_without_limits_are_unchanged(app, people, clock):
    standing = people.observer()
    clock.set(clock.now() + timedelta(days=3650))
    assert _can_report(app, standing, standing.memberships[0].municipality_id)
