"""The bulletin board's head has one definition (spec section 6), ``crypto.board_head``; the
board write computes it in SQL on PostgreSQL (``board.board_head_sql``). These tests compute
both on the same data and compare them: on PostgreSQL when ``PORTAL_TEST_DATABASE_URL`` names
one (CI sets it), and they say why they skip otherwise."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from referendum_core.crypto import board_head
from referendum_core.crypto.board import EMPTY_HEAD, chain_heads
from referendum_core.voting import alias_for
from referendum_core.voting.board import board_head_sql, record_on_board
from referendum_core.voting.models import BoardEntry, Referendum
from tests.voting_support import ONLINE_MONDAY, build_scenario

NEEDS_POSTGRES = ("the SQL head runs only on PostgreSQL (sha256, decode); set "
                  "PORTAL_TEST_DATABASE_URL=postgresql+psycopg://… to compare it with Python")


@pytest.fixture()
def postgres(db_session):
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip(NEEDS_POSTGRES)
    return db_session


def test_the_sql_head_is_the_python_head(postgres):
    """Spec section 6: ``head_n = SHA-256(frame("board-v1") ‖ frame(head_{n-1}) ‖
    frame(tracker_n))``, the same bytes from both, for the empty head, the extremes and
    random values."""
    rng = random.Random(6)
    pairs = [(EMPTY_HEAD, bytes(32)), (b"\xff" * 32, b"\xff" * 32), (EMPTY_HEAD, b"\xff" * 32)]
    pairs += [(rng.randbytes(32), rng.randbytes(32)) for _ in range(200)]
    statement = text(f"SELECT {board_head_sql(':previous', ':tracker')}")
    for previous, tracker in pairs:
        in_sql = postgres.scalar(statement, {"previous": previous.hex(),
                                             "tracker": tracker.hex()})
        assert in_sql == board_head(previous, tracker).hex(), (previous.hex(), tracker.hex())


def test_a_board_written_in_sql_verifies_in_python(postgres, clock, keys):
    """Ballots appended by the board write (one SQL statement on PostgreSQL): every entry's
    head, and the referendum's, are the Python chain over the trackers in ``seq`` order."""
    s = build_scenario(postgres, clock, keys)
    clock.set(ONLINE_MONDAY)
    referendum = s.referendum
    aliases = [alias_for(postgres, clock, referendum, voter.person_ref) for voter in s.voters]
    rng = random.Random(7)
    trackers = [rng.randbytes(32) for _ in range(12)]
    for n, tracker in enumerate(trackers):
        placed = record_on_board(postgres.connection(), [rng.randbytes(32).hex()], {
            "referendum_id": referendum.id, "alias": aliases[n % len(aliases)],
            "tracker": tracker.hex(), "ballot": "{}",
            "cast_at": datetime(2026, 3, 9, 10, n, tzinfo=UTC)})
        assert placed is not None and placed[0] == n + 1
        assert placed[1] == chain_heads(trackers[:n + 1], EMPTY_HEAD).hex()
    heads = postgres.scalars(select(BoardEntry.head).where(
        BoardEntry.referendum_id == referendum.id).order_by(BoardEntry.seq)).all()
    assert heads == [chain_heads(trackers[:n + 1]).hex() for n in range(len(trackers))]
    assert postgres.scalar(select(Referendum.board_head).where(
        Referendum.id == referendum.id)) == chain_heads(trackers).hex()
