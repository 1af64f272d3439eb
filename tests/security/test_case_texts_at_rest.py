"""Case texts are sealed at rest: a copy of the database holds none of what people typed into a
case (observer reports, complaints, commission queries, comments and other timeline notes,
photos, home-voting addresses and reasons, initiatives' texts).

Every text goes in through the portal's pages with a unique marker; the database (committed,
on a database of the test's own) is then dumped and searched for each marker as it is, in hex
and in base64. On SQLite the dump is every column of every table plus the database file itself;
on PostgreSQL it is ``pg_dump``.
"""
from __future__ import annotations

import base64
import io
import os
import shutil
import struct
import subprocess
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.database import make_engine
from portal.migrate import upgrade
from referendum_core.cases.models import Case
from referendum_core.clock import RIGA, FixedClock
from referendum_core.initiatives import Initiative
from referendum_core.organisation import sync_organisations
from referendum_core.voting.home_voting import request_for_person
from tests.case_factories import PNG, station
from tests.conftest import People, login, make_test_app, municipality
from tests.register_data import add_person, code_for
from tests.voting_support import build_scenario

pytestmark = pytest.mark.uses_db



def _png_with(marker: str) -> bytes:
    """A valid PNG carrying ``marker`` in a text chunk before its end chunk."""
    body = b"tEXt" + b"Comment\x00" + marker.encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    return PNG[:-12] + chunk + PNG[-12:]

def _marker(field: str) -> str:
    return f"MRK{uuid.uuid4().hex[:16].upper()}{field}"


def write_markers(app: Any, session: Session, clock: FixedClock) -> dict[str, str]:
    """Put a marker into every case text through the portal's pages; returns them by field."""
    keys = app.extensions["keys"]
    people = People(session, clock, keys)
    client = app.test_client()
    m = {name: _marker(name) for name in (
        "report", "photo", "photo2", "comment", "note", "deadline", "contested", "complaint",
        "query_title", "query", "answer", "address", "reason", "refusal", "question", "reasons")}

    def as_(user: Any) -> Any:
        session.commit()
        login(client, user, clock)
        # Reading the user began a transaction: end it so the next read sees the app's writes.
        session.commit()
        return client

    def ok(response: Any) -> None:
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    muni = municipality(session)
    code = code_for(date(1970, 1, 1), 7)
    add_person(session, keys.personal_codes, code, born=date(1970, 1, 1), municipality=muni)
    resident = people.voter(code, "Iniciatīvas Iesniedzējs")
    ok(as_(resident).post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": m["question"], "reasons": m["reasons"]}))

    observer, member, chair = people.observer(), people.member(), people.chair()
    complainant, officer = people.voter(), people.cvk_officer()
    at = station(session)
    photo = _png_with(m["photo"])
    ok(as_(observer).post("/cases/report", data={
        "polling_station_id": str(at.id), "category": "ballot_box", "severity": "high",
        "description": m["report"], "photos": [(io.BytesIO(photo), "p.png")]},
        content_type="multipart/form-data"))
    report = session.scalars(sa.select(Case).order_by(Case.id.desc())).first()
    ok(client.post(f"/cases/{report.id}/photos", data={
        "photo": (io.BytesIO(_png_with(m["photo2"])), "q.png")},
        content_type="multipart/form-data"))
    ok(as_(member).post(f"/cases/{report.id}/comment", data={"text": m["comment"]}))
    session.expire_all()
    ok(client.post(f"/cases/{report.id}/transition", data={
        "transition": "triage", "version": str(session.get(Case, report.id).version),
        "note": m["note"]}))
    new = (clock.now() + timedelta(days=9)).astimezone(RIGA).strftime("%Y-%m-%dT%H:%M")
    ok(as_(chair).post(f"/cases/{report.id}/deadline",
                       data={"deadline": new, "reason": m["deadline"]}))

    ok(as_(complainant).post("/cases/complaint", data={
        "municipality_id": str(muni.id), "grounds": "count_protocol", "applicant_kind": "voter",
        "contested": m["contested"], "contested_on": "2026-02-28", "summary": m["complaint"]}))
    ok(as_(member).post("/cases/query", data={
        "municipality_id": str(muni.id), "title": m["query_title"], "question": m["query"]}))
    query = session.scalars(sa.select(Case).order_by(Case.id.desc())).first()
    ok(as_(officer).post(f"/cases/{query.id}/transition", data={
        "transition": "answer", "version": str(query.version), "note": m["answer"]}))

    session.commit()  # a SQLite reader whose snapshot is older than the app's writes cannot write
    scenario = build_scenario(session, clock, keys)
    ref = scenario.referendum
    ok(as_(scenario.voters[0]).post(f"/voting/{ref.id}/home-voting", data={
        "station_id": scenario.station.id, "address": m["address"], "reason": m["reason"]}))
    home = request_for_person(session, ref, scenario.voters[0].person_ref)
    assert home is not None
    ok(as_(scenario.members[0]).post(f"/voting/{ref.id}/home-voting/{home.id}/refuse",
                                     data={"note": m["refusal"]}))
    session.commit()

    # The portal still reads every text back in the clear.
    session.expire_all()
    page = as_(member).get(f"/cases/{report.id}").get_data(as_text=True)
    assert m["report"] in page and m["comment"] in page and m["note"] in page
    # The scenario brings initiatives of its own: the marker's is one of them.
    assert m["question"] in [i.question for i in session.scalars(sa.select(Initiative))]
    shown = client.get(f"/cases/{report.id}/photos/{session.get(Case, report.id).photos[0].id}")
    assert m["photo"].encode() in shown.get_data()
    return m


def forms_of(marker: str) -> list[bytes]:
    """The marker as it is, in hex (both cases) and in base64 at each of the three alignments
    (the characters that depend on the marker's bytes alone)."""
    raw = marker.encode()
    found = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw)
        found.append(encoded[4 if pad else 0:-4])
    return found


def assert_absent(dump: bytes, markers: dict[str, str]) -> None:
    leaks = {name: form for name, marker in markers.items() for form in forms_of(marker)
             if form in dump}
    assert not leaks, f"case texts found in the database dump: {leaks}"


def every_cell(engine: Any) -> bytes:
    """Every column of every row of every table, as bytes (blobs as they are)."""
    parts: list[bytes] = []
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):  # noqa: S608
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value))
                    elif value is not None:
                        parts.append(str(value).encode())
    return b"\n".join(parts)


@pytest.fixture()
def scratch_app(database_url: str, gnupg_home: Any, tmp_path: Any) -> Iterator[
        Callable[[str], tuple[Any, Session, FixedClock]]]:
    """An app on a database of its own whose requests really commit."""
    made: list[tuple[Any, Session]] = []

    def make(url: str) -> tuple[Any, Session, FixedClock]:
        upgrade(url)
        clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
        app = make_test_app(url, clock, PORTAL_GNUPGHOME=str(gnupg_home))
        session = app.extensions["portal_db"].new_session()
        sync_organisations(session)
        session.commit()
        made.append((app, session))
        return app, session, clock

    yield make
    for app, session in made:
        session.close()
        app.extensions["portal_db"].engine.dispose()


def test_sqlite_file_and_every_column_hold_no_case_text(scratch_app, tmp_path):
    path = tmp_path / "dump.sqlite3"
    app, session, clock = scratch_app(f"sqlite:///{path}")
    markers = write_markers(app, session, clock)
    session.close()
    engine = app.extensions["portal_db"].engine
    assert_absent(every_cell(engine), markers)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("dump.sqlite3")]
    assert_absent(b"".join(p.read_bytes() for p in files), markers)


@pytest.mark.postgres
def test_pg_dump_holds_no_case_text(scratch_app):
    base = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("PORTAL_TEST_DATABASE_URL is not a PostgreSQL database")
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    name = f"sealed_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name)
    try:
        app, session, clock = scratch_app(url.render_as_string(hide_password=False))
        markers = write_markers(app, session, clock)
        session.close()
        engine = app.extensions["portal_db"].engine
        assert_absent(every_cell(engine), markers)
        engine.dispose()
        env = {**os.environ, "PGPASSWORD": url.password or ""}
        dump = subprocess.run(  # noqa: S603 - fixed arguments
            [pg_dump, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
             "-U", url.username or "postgres", "--data-only", name],
            capture_output=True, check=True, env=env, timeout=120).stdout
        assert b"COPY public.cases" in dump
        assert_absent(dump, markers)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
