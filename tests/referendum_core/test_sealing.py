"""The sealing scheme (AES-256-GCM, version 1) and the sealed columns of case texts."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from referendum_core import sealing
from referendum_core.cases.models import Case, CaseEvent

KEY = sealing.derive_key("a data key of the test", sealing.COLUMN_KEY_PURPOSE)


def test_a_sealed_value_opens_only_with_its_key_and_its_associated_data():
    aad = sealing.column_aad("cases", "title")
    sealed = sealing.seal_text(KEY, "Urna nav aizzīmogota", aad)
    assert sealed[0] == sealing.VERSION and b"Urna" not in sealed
    assert sealing.open_text(KEY, sealed, aad) == "Urna nav aizzīmogota"
    with pytest.raises(sealing.SealingError):
        sealing.open_text(KEY, sealed, sealing.column_aad("cases", "summary"))
    with pytest.raises(sealing.SealingError):
        sealing.open_text(sealing.new_data_key(), sealed, aad)
    with pytest.raises(sealing.SealingError):
        sealing.open_text(KEY, sealed[:-1] + bytes([sealed[-1] ^ 1]), aad)
    with pytest.raises(sealing.SealingError):
        sealing.open_text(KEY, b"\x02" + sealed[1:], aad)
    with pytest.raises(sealing.SealingError):
        sealing.seal(b"short", b"x", aad)


def test_the_same_text_seals_differently_each_time():
    aad = sealing.column_aad("cases", "title")
    assert sealing.seal_text(KEY, "same", aad) != sealing.seal_text(KEY, "same", aad)


def test_derived_keys_differ_by_purpose_and_secret():
    assert sealing.derive_key("a", b"one") != sealing.derive_key("a", b"two")
    assert sealing.derive_key("a", b"one") != sealing.derive_key("b", b"one")
    assert len(sealing.derive_key("a", b"one")) == sealing.KEY_BYTES


def test_the_column_sealer_keeps_empty_values_empty():
    sealer = sealing.ColumnSealer(KEY)
    aad = sealing.column_aad("case_events", "note")
    assert sealer.seal(aad, b"") == b"" and sealer.open(aad, b"") == b""
    assert sealer.open(aad, sealer.seal(aad, b"note")) == b"note"


def test_without_a_configured_key_sealed_columns_refuse(monkeypatch):
    monkeypatch.setitem(sealing._state, "sealer", None)
    monkeypatch.setitem(sealing._state, "provider", None)
    with pytest.raises(sealing.SealingError):
        sealing.SealedText("cases", "title").process_bind_param("x", None)


def test_a_value_moved_to_another_row_column_does_not_open(db_session, clock):
    """A sealed title copied into a timeline note (another column) is refused, not shown."""
    case = Case(type="commission_query", state="submitted", title="Slepens", summary="",
                municipality_id=None, opened_at=clock.now(), updated_at=clock.now())
    db_session.add(case)
    db_session.flush()
    db_session.add(CaseEvent(case_id=case.id, at=clock.now(), kind="comment", note="x"))
    db_session.flush()
    stored = db_session.execute(sa.select(sa.cast(Case.__table__.c.title, sa.LargeBinary)).where(
        Case.id == case.id)).scalar_one()
    assert stored[0] == sealing.VERSION and b"Slepens" not in stored
    db_session.execute(sa.update(CaseEvent.__table__).where(CaseEvent.case_id == case.id)
                       .values(note=sa.literal(stored, sa.LargeBinary)))
    db_session.expire_all()
    with pytest.raises(sealing.SealingError, match="does not authenticate"):
        db_session.scalars(sa.select(CaseEvent.note).where(CaseEvent.case_id == case.id)).one()


def test_blank_texts_stay_a_query(db_session, clock):
    """Retention finds blank notes by comparing with the empty text."""
    case = Case(type="commission_query", state="submitted", title="T", summary="",
                municipality_id=None, opened_at=clock.now(), updated_at=clock.now())
    db_session.add(case)
    db_session.flush()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Case).where(
        Case.id == case.id, Case.summary == "")) == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Case).where(
        Case.id == case.id, Case.title == "")) == 0


def test_sealed_columns_refuse_searching_and_sorting_in_sql():
    """A search or sort on a sealed column would run on ciphertext: refused when written."""
    for attempt in (lambda: Case.title.like("%x%"), lambda: Case.title == "x",
                    lambda: Case.title.desc(), lambda: CaseEvent.note.contains("x"),
                    lambda: Case.summary > ""):
        with pytest.raises(sealing.SealingError):
            attempt()
    assert str(Case.summary != "").endswith("!= :summary_1")
    assert "IS NULL" in str(Case.title.is_(None))
