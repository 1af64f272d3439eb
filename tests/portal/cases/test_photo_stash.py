"""An observer's photos survive a report form that comes back with an error: they are kept
(encrypted, for a short while, for that person only) and sent with the corrected report."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from portal.cases.photo_stash import stash_photos, take_photos
from referendum_core.cases.models import Case
from tests.case_factories import NOT_AN_IMAGE, PNG, station


def _post(client, station_id, **extra):
    data = {"polling_station_id": str(station_id), "category": "ballot_box", "severity": "high",
            "description": "", "started": "1772444000"}
    data.update(extra)
    return client.post("/cases/report", data=data, content_type="multipart/form-data")


def _kept_token(html: str) -> str:
    return re.search(r'name="kept_photos" type="hidden" value="([^"]*)"', html).group(1)


def test_a_photo_is_kept_when_the_report_comes_back_with_an_error(db_session, people, login_as):
    observer = people.observer()
    ss = station(db_session)
    client = login_as(observer)
    answer = _post(client, ss.id, photos=[(io.BytesIO(PNG), "p.png")])
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and 'data-testid="kept-photos"' in html
    assert "1 pievienotā fotogrāfija ir saglabāta" in html
    token = _kept_token(html)
    assert token
    sent = _post(client, ss.id, description="Urna nav aizzīmogota", kept_photos=token)
    assert sent.status_code == 302
    case = db_session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert len(case.photos) == 1 and case.photos[0].data == PNG


def test_a_file_that_is_not_an_image_is_not_kept(db_session, people, login_as):
    client = login_as(people.observer())
    ss = station(db_session)
    html = _post(client, ss.id, photos=[(io.BytesIO(NOT_AN_IMAGE), "x.png")]).get_data(
        as_text=True)
    assert 'data-testid="kept-photos"' not in html and _kept_token(html) == ""


def test_a_kept_photo_is_for_its_owner_only_and_only_once(tmp_path):
    token = stash_photos([PNG], 7, tmp_path, "secret")
    assert all(PNG not in p.read_bytes() for p in tmp_path.iterdir())  # encrypted on disk
    assert take_photos(token, 8, tmp_path, "secret") == []
    assert take_photos(token, 7, tmp_path, "another secret") == []
    assert take_photos(token + "x", 7, tmp_path, "secret") == []
    assert take_photos(token, 7, tmp_path, "secret") == [PNG]
    assert take_photos(token, 7, tmp_path, "secret") == []  # used up


def test_kept_photos_expire(tmp_path, monkeypatch):
    import time

    token = stash_photos([PNG], 7, tmp_path, "secret")
    later = time.time() + timedelta(hours=1).total_seconds()
    monkeypatch.setattr(time, "time", lambda: later)
    assert take_photos(token, 7, tmp_path, "secret") == []


def test_a_photo_is_kept_when_the_rule_refuses_the_report(db_session, people, login_as):
    """A refusal by the domain rule (a station the observer is not accredited for) rolls the
    request back; the page still keeps the photo for the corrected report."""
    client = login_as(people.observer())
    elsewhere = station(db_session, "0001000", 4)
    db_session.commit()
    answer = _post(client, elsewhere.id, description="Urna nav aizzīmogota",
                   photos=[(io.BytesIO(PNG), "p.png")])
    html = answer.get_data(as_text=True)
    assert answer.status_code == 403 and 'data-testid="kept-photos"' in html
    sent = _post(client, station(db_session).id, description="Urna nav aizzīmogota",
                 kept_photos=_kept_token(html))
    assert sent.status_code == 302
    case = db_session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert len(case.photos) == 1
