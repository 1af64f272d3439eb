"""An outside judge's attacks on the observer's rights window (Art. 18(3), 20(3)): reports
filed a second before and after it, across the daylight-saving changes in Riga, after a refused
or withdrawn request, and at polling stations the observer is not accredited to."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.observers import services
from referendum_core.cases.models import Case, CaseType
from referendum_core.cases.services import transition_case
from referendum_core.cases.workflows import Party
from referendum_core.observers import (
    Nomination,
    reject_accreditation,
    request_accreditation,
    rights_window,
)
from referendum_core.voting.models import Referendum
from referendum_core.voting.rules import online_window, polling_hours
from tests.voting_support import add_polling_station, build_scenario

SECOND = timedelta(seconds=1)


def _referendum(day: date, online: bool = True) -> Referendum:
    window = online_window(day, "strategy") if online else None
    opens, closes = polling_hours(day)
    return Referendum(referendum_day=day, online_opens_at=window[0] if window else None,
                      polls_open_at=opens, polls_close_at=closes)


@pytest.mark.parametrize(("day", "start", "end"), [
    # Autumn: summer time ends on Sunday 25 October 2026, the day after referendum day.
    (date(2026, 10, 24), datetime(2026, 10, 18, 21, tzinfo=UTC),
     datetime(2026, 10, 25, 22, tzinfo=UTC)),
    # Spring: summer time starts on Sunday 28 March 2027.
    (date(2027, 3, 27), datetime(2027, 3, 21, 22, tzinfo=UTC),
     datetime(2027, 3, 28, 21, tzinfo=UTC)),
])
def test_art18_3_art20_3_rights_window_across_daylight_saving_changes(day, start, end):
    assert day.weekday() == 5  # referendum day is a Saturday (Art. 16(1))
    assert rights_window(_referendum(day)) == (start, end)


def test_art18_3_art20_3_without_online_voting_rights_start_on_referendum_day():
    start, _end = rights_window(_referendum(date(2026, 10, 24), online=False))
    assert start == datetime(2026, 10, 23, 21, tzinfo=UTC)


def _report(client, station, text="Urna nav aizzīmogota."):
    return client.post("/cases/report", data={
        "polling_station_id": station.id, "category": "other", "severity": "medium",
        "description": text})


def _reports(db_session):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Case).where(
        Case.type == CaseType.OBSERVER_REPORT))


def _accredited(db_session, clock, keys, s, email="anna@example.lv", station=None):
    case = request_accreditation(db_session, clock, s.voters[0], s.referendum,
                                 [Nomination((station or s.station).id, "Anna", email)])
    services.accredit(db_session, clock, keys, s.members[0], case, lifetime=timedelta(hours=72))
    db_session.commit()
    user = db_session.scalars(select(User).where(User.email == email)).one()
    user.totp_enabled_at = clock.now()
    return user


def test_art18_3_art20_3_report_a_second_before_and_after_the_window_is_refused(
        client, login_as, scenario, db_session, clock, keys):
    s = scenario
    observer = _accredited(db_session, clock, keys, s)
    start, end = rights_window(s.referendum)
    for moment, allowed in ((start - SECOND, False), (start, True), (end - SECOND, True),
                            (end, False)):
        clock.set(moment)
        login_as(observer)
        before = _reports(db_session)
        response = _report(client, s.station)
        assert (response.status_code == 302) == allowed, (moment, response.status_code)
        assert _reports(db_session) == before + (1 if allowed else 0)


def test_art18_3_no_rights_after_a_refused_or_withdrawn_request(
        client, login_as, scenario, db_session, clock, people):
    s = scenario
    refused = request_accreditation(db_session, clock, s.voters[0], s.referendum,
                                    [Nomination(s.station.id, "Anna", "anna@example.lv")])
    reject_accreditation(db_session, clock, s.members[0], refused, "Nav pilnvaras.",
                         parties={Party.COMMISSION})
    withdrawn = request_accreditation(db_session, clock, s.voters[0], s.referendum,
                                      [Nomination(s.station.id, "Berta", "berta@example.lv")])
    transition_case(db_session, clock, s.voters[0], withdrawn, "withdraw", withdrawn.version,
                    parties={Party.REQUESTER})
    db_session.commit()
    assert db_session.scalars(select(User).where(
        User.email.in_(("anna@example.lv", "berta@example.lv")))).all() == []
    # Nobody got an account, so there is nobody to sign in as: a voter posing is refused.
    clock.set(rights_window(s.referendum)[0] + SECOND)
    login_as(s.voters[1])
    assert _report(client, s.station).status_code == 403
    assert _reports(db_session) == 0


def test_art18_3_no_report_at_another_municipalitys_station(
        client, login_as, scenario, db_session, clock, keys):
    s = scenario
    other = build_scenario(db_session, clock, keys, open_now=False, atvk="0001000",
                           prefix="other-", station_number=902)
    observer = _accredited(db_session, clock, keys, s)
    clock.set(rights_window(s.referendum)[0] + SECOND)
    login_as(observer)
    assert _report(client, other.station).status_code in (403, 422)
    assert _reports(db_session) == 0


def test_art18_3_no_report_at_a_station_the_observer_is_not_accredited_to(
        client, login_as, scenario, db_session, clock, keys):
    s = scenario
    elsewhere = add_polling_station(db_session, s.municipality, 805, "Bibliotēka", "Iela 5")
    observer = _accredited(db_session, clock, keys, s)
    clock.set(rights_window(s.referendum)[0] + SECOND)
    login_as(observer)
    assert _report(client, elsewhere).status_code in (403, 422)
    assert _reports(db_session) == 0
    assert _report(client, s.station).status_code == 302
