"""Deadlines run by themselves: publication on the 3rd working day (Art. 25(2)) and the close of
the 30-day collection with the organiser told the count (Art. 10(8), 26) run on the Celery beat
schedule, and as ``referendum-portal initiatives run-deadlines`` for cron without Redis."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from portal.celery_app import celery
from portal.cli import main
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.clock import FixedClock
from referendum_core.initiatives import Initiative, Subject, submit_initiative
from referendum_core.organisation import Municipality, sync_organisations
from tests.register_data import add_person, code_for


def test_deadline_step_is_on_the_beat_schedule(app):
    entry = celery.conf.beat_schedule["initiatives-run-deadlines"]
    assert entry["task"] == "portal.initiatives.tasks.run_initiative_deadlines"
    assert entry["schedule"] <= 3600
    assert "portal.initiatives.tasks.run_initiative_deadlines" in celery.tasks


@pytest.fixture()
def cli_app(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert CliRunner().invoke(main, ["migrate"], catch_exceptions=False).exit_code == 0
    from portal.app import create_app

    return create_app()


def test_run_deadlines_command_publishes_and_closes(cli_app):
    from portal.database import in_transaction
    from portal.initiatives import services

    # Decided "can" two months ago (the command runs on the real clock): by now the initiative
    # is due for publication and its 30-day collection has ended.
    past = FixedClock(datetime.now(UTC) - timedelta(days=60))
    calendar = WorkingDayCalendar()

    def decided(session):
        sync_organisations(session)
        muni = session.scalars(select(Municipality).where(
            Municipality.atvk_code == "0023000")).one()
        muni.voters_at_last_election = 100
        applicant = add_person(session, cli_app.extensions["keys"].personal_codes,
                               code_for(date(1980, 1, 1), 1), born=date(1980, 1, 1),
                               municipality=muni)
        initiative = submit_initiative(
            session, past, calendar, None, municipality=muni, subject=Subject.STRATEGY,
            question="Vai atbalstāt?", reasons="Tāpēc.",
            basis_date=past.now().date() - timedelta(days=10),
            person_ref=applicant.person_ref)
        services.decide(session, past, calendar, None, initiative, can=True)
        return initiative.id

    with cli_app.app_context():
        initiative_id = in_transaction(decided)
    result = CliRunner().invoke(main, ["initiatives", "run-deadlines"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "published 1, closed 1" in result.output
    with cli_app.app_context():
        state, counted = in_transaction(lambda s: (
            s.get(Initiative, initiative_id).case.state,
            s.get(Initiative, initiative_id).signatures_at_close))
    # No signature: below the threshold, the initiative ends at the close (Art. 11(2)).
    assert state == "not_reached" and counted == 0
    again = CliRunner().invoke(main, ["initiatives", "run-deadlines"], catch_exceptions=False)
    assert "published 0, closed 0" in again.output  # idempotent
