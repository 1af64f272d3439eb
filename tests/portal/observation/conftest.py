"""A referendum in Ādaži with a polling station, two observers and the commission."""
from __future__ import annotations

import re
import uuid

import pytest

from referendum_core.voting import setup_referendum
from tests.voting_support import (
    CALENDAR,
    REFERENDUM_DAY,
    SET_UP_AT,
    build_scenario,
    referendum_case,
)


@pytest.fixture()
def scene(db_session, clock, keys, people):
    scenario = build_scenario(db_session, clock, keys, voters=1, trustees=1, open_now=False)
    scenario.observers = [people.observer() for _ in range(2)]
    scenario.observers[1].display_name = "Otrais novērotājs"
    db_session.commit()
    return scenario


def observer_client(app, db_session, clock, observer):
    """A test client signed in as ``observer`` (what the test set up committed first)."""
    from tests.conftest import login

    db_session.commit()
    client = app.test_client()
    login(client, observer, clock)
    return client


def shown_count(html, testid):
    """The number a page shows in the element ``data-testid=testid``."""
    return int(re.search(rf'data-testid="{testid}">(\d+)<', html).group(1))


def checklist_body(scene, *answers, key=None):
    return {"key": key or str(uuid.uuid4()), "referendum_id": scene.referendum.id,
            "polling_station_id": scene.station.id, "filled_at": "2026-03-02T09:00:00+00:00",
            "answers": [{"item": item, "value": value} for item, value in answers]}


def report_body(scene, key=None, **kw):
    body = {"key": key or str(uuid.uuid4()), "referendum_id": scene.referendum.id,
            "polling_station_id": scene.station.id, "category": "ballot_box",
            "severity": "critical", "description": "Urnai nav plombes"}
    body.update(kw)
    return body


@pytest.fixture()
def second(scene, db_session):
    """A second referendum in the same municipality, on the same day, same station."""
    now = scene.clock.now()
    scene.clock.set(SET_UP_AT)
    case = referendum_case(db_session, scene.clock, scene.municipality, "dismissal",
                           "Vai atsaukt domi?")
    referendum = setup_referendum(db_session, scene.clock, CALENDAR, scene.chair, case=case,
                                  question_en="Dismiss the council?",
                                  referendum_day=REFERENDUM_DAY)
    scene.clock.set(now)
    db_session.commit()
    return referendum
