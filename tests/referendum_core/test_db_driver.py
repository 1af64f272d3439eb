"""``DriverStatement``: a Core statement run on the driver's cursor answers as
``Connection.execute`` does, with the column types' conversions, and fails as it fails."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, literal, select
from sqlalchemy.exc import DBAPIError

from portal.accounts.models import User
from referendum_core.db import DriverStatement
from referendum_core.voting.models import Referendum


def _user(connection, name: str = "Driver Test") -> int:
    return connection.execute(insert(User).values(
        email="driver@example.lv", display_name=name, password_hash="x",
        created_at=datetime(2026, 3, 2, 10, tzinfo=UTC)).returning(User.id)).scalar_one()


def test_a_row_is_read_as_execute_reads_it(connection):
    user_id = _user(connection)
    statement = (select(User.id, User.display_name, User.created_at, User.is_active,
                        literal("voting").label("constant"))
                 .where(User.id == bindparam("user_id")))
    driver = DriverStatement(statement, connection.dialect)
    row = driver.first(connection, {"user_id": user_id})
    expected = connection.execute(statement, {"user_id": user_id}).first()
    assert tuple(row) == tuple(expected)
    assert row.display_name == "Driver Test" and row.constant == "voting"
    assert row.created_at.tzinfo is UTC  # UTCDateTime's own conversion of the value read
    assert driver.first(connection, {"user_id": user_id + 1000}) is None


def test_a_bound_value_is_converted_by_its_column_type(connection):
    user_id = _user(connection)
    statement = (select(User.id).where(User.id == bindparam("user_id"),
                                       User.created_at == bindparam("at", type_=User.created_at.type)))
    driver = DriverStatement(statement, connection.dialect)
    riga = timezone(timedelta(hours=2))
    same_moment = datetime(2026, 3, 2, 12, tzinfo=riga)
    assert driver.first(connection, {"user_id": user_id, "at": same_moment}).id == user_id
    with pytest.raises(ValueError, match="naive"):  # UTCDateTime refuses a naive value
        driver.first(connection, {"user_id": user_id, "at": datetime(2026, 3, 2, 10)})


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(connection):
    statement = select(Referendum.id).where(Referendum.id == bindparam("referendum_id"))
    driver = DriverStatement(statement, connection.dialect)
    driver.sql = driver.sql.replace("voting_referendums", "no_such_table")
    savepoint = connection.begin_nested()  # the failed statement aborts only the savepoint
    with pytest.raises(DBAPIError):
        driver.first(connection, {"referendum_id": 1})
    savepoint.rollback()
