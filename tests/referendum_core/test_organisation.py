"""Municipalities after the 2021 reform with ATVK codes, their commissions, CVK, internet commission."""
from __future__ import annotations

from sqlalchemy import func, select

from referendum_core.organisation import (
    Commission,
    CommissionKind,
    Municipality,
    MunicipalityKind,
    add_polling_station,
    load_municipality_data,
    sync_organisations,
)


def test_data_file_lists_43_municipalities_with_unique_atvk_codes():
    rows = load_municipality_data()
    assert len(rows) == 43
    assert len({r["atvk"] for r in rows}) == 43
    assert all(len(r["atvk"]) == 7 and r["atvk"].isdigit() for r in rows)
    assert sum(r["kind"] == "state_city" for r in rows) == 7
    assert {"Rīga", "Varakļānu novads", "Augšdaugavas novads"} <= {r["name"] for r in rows}
    # English names keep the Latvian letters of the place name (Riga aside, its English name).
    english = {r["atvk"]: r["name_en"] for r in rows}
    assert english["0023000"] == "Ādaži Municipality"
    assert english["0034000"] == "Ķekava Municipality" and english["0001000"] == "Riga"
    assert english["0042000"] == "Preiļi Municipality"


def test_sync_creates_commissions_and_is_idempotent(db_session):
    assert sync_organisations(db_session) == {"municipalities": 0, "commissions": 0}
    assert db_session.scalar(select(func.count()).select_from(Municipality)) == 43
    kinds = dict(db_session.execute(select(Commission.kind, func.count()).group_by(Commission.kind)).all())
    assert kinds == {CommissionKind.MUNICIPAL: 43, CommissionKind.CVK: 1, CommissionKind.INTERNET: 1}
    riga = db_session.scalars(select(Municipality).where(Municipality.atvk_code == "0001000")).one()
    assert riga.is_riga and riga.kind == MunicipalityKind.STATE_CITY


def test_polling_station_gets_its_commission(db_session):
    muni = db_session.scalars(select(Municipality).where(Municipality.atvk_code == "0023000")).one()
    station = add_polling_station(db_session, muni, 7, "Skola", "Iela 1")
    commission = db_session.scalars(select(Commission).where(
        Commission.polling_station_id == station.id)).one()
    assert commission.kind == CommissionKind.POLLING_STATION
    assert commission.municipality_id == muni.id
