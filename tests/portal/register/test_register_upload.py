"""Register extracts larger than the portal's global upload limit: only /register/import takes
them (REGISTER_IMPORT_MAX_BYTES), still behind its CSRF token; every other form keeps the limit."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from referendum_core.register import PersonRecord
from referendum_core.register_import import RegisterImport
from tests.conftest import csrf_token_from, municipality
from tests.register_data import POPULATION_HEADER, code_for

BORN = date(1980, 1, 1)
GLOBAL_LIMIT = 25 * 1024 * 1024


@pytest.fixture()
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def _big_extract(min_bytes: int) -> tuple[bytes, int]:
    """A valid CSV just over ``min_bytes``: few rows (quick to import), each name padded with
    whitespace that the import collapses."""
    pad = " " * 100_000
    lines = [",".join(POPULATION_HEADER)]
    size, n = 0, 0
    while size <= min_bytes:
        line = f"{code_for(BORN, n)},Persona {n}{pad},{BORN.isoformat()},LV,0023000"
        lines.append(line)
        size += len(line) + 1
        n += 1
    return ("\n".join(lines) + "\n").encode(), n


def _post_import(client, data: bytes, muni_id: int, token: str | None):
    form = {"source": "population", "municipality_id": muni_id, "file_format": "csv",
            "mode": "continue", "upload": (io.BytesIO(data), "extract.csv")}
    if token is not None:
        form["csrf_token"] = token
    return client.post("/register/import", data=form, content_type="multipart/form-data")


def test_import_accepts_an_extract_over_the_global_limit(app, login_as, people, db_session):
    assert app.config["MAX_CONTENT_LENGTH"] == GLOBAL_LIMIT
    assert app.config["REGISTER_IMPORT_MAX_BYTES"] > GLOBAL_LIMIT
    muni = municipality(db_session)
    client = login_as(people.chair())
    token = csrf_token_from(client.get("/register/import").get_data(as_text=True))
    data, rows = _big_extract(GLOBAL_LIMIT + 1024 * 1024)
    assert len(data) > GLOBAL_LIMIT
    response = _post_import(client, data, muni.id, token)
    assert response.status_code == 200
    assert 'data-testid="import-report"' in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(PersonRecord)) == rows
    assert "Persona 0" in set(db_session.scalars(select(PersonRecord.name)))  # padding gone


def test_large_import_still_needs_the_csrf_token(login_as, people, db_session):
    muni = municipality(db_session)
    client = login_as(people.chair())
    data, _ = _big_extract(GLOBAL_LIMIT + 1024 * 1024)
    response = _post_import(client, data, muni.id, token=None)
    assert 'data-testid="import-report"' not in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(RegisterImport)) == 0
    assert db_session.scalar(select(func.count()).select_from(PersonRecord)) == 0


def test_import_refuses_more_than_its_own_limit(app, login_as, people, db_session):
    app.config["REGISTER_IMPORT_MAX_BYTES"] = 1024 * 1024
    muni = municipality(db_session)
    client = login_as(people.chair())
    token = csrf_token_from(client.get("/register/import").get_data(as_text=True))
    data, _ = _big_extract(2 * 1024 * 1024)
    response = _post_import(client, data, muni.id, token)
    assert response.status_code == 413
    assert db_session.scalar(select(func.count()).select_from(PersonRecord)) == 0


def test_other_forms_keep_the_global_limit(login_as, people):
    client = login_as(people.voter())
    token = csrf_token_from(client.get("/initiatives/new").get_data(as_text=True))
    response = client.post("/initiatives/new", data={
        "csrf_token": token, "question": "Q?", "reasons": "x" * (GLOBAL_LIMIT + 1024)})
    assert response.status_code == 413
