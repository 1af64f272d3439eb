"""Organisations the law names: municipalities, their election commissions, polling stations,
the internet polling-station commission and the Central Election Commission (CVK)."""
from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from importlib import resources

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from referendum_core.db import Base


class MunicipalityKind(StrEnum):
    STATE_CITY = "state_city"
    NOVADS = "novads"


class CommissionKind(StrEnum):
    CVK = "cvk"
    MUNICIPAL = "municipal"
    POLLING_STATION = "polling_station"
    INTERNET = "internet"


class Municipality(Base):
    """A local government after the 2021 administrative-territorial reform."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    atvk_code: Mapped[str] = mapped_column(String(7), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    kind: Mapped[MunicipalityKind] = mapped_column(String(16))
    # Art. 8(1) and 22: the base figures from the last council elections.
    voters_at_last_election: Mapped[int | None]
    participants_at_last_election: Mapped[int | None]
    # Art. 6: dismissal is not possible in the council's first or last year.
    council_elected_on: Mapped[date | None]

    polling_stations: Mapped[list[PollingStation]] = relationship(
        back_populates="municipality", order_by="PollingStation.number"
    )

    @property
    def is_riga(self) -> bool:
        return self.atvk_code == RIGA_ATVK

    def display_name(self, locale: str = "lv") -> str:
        return self.name_en if locale == "en" else self.name


class PollingStation(Base):
    """A polling station (vēlēšanu iecirknis) of a municipality."""

    __tablename__ = "polling_stations"
    __table_args__ = (UniqueConstraint("municipality_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))

    municipality: Mapped[Municipality] = relationship(back_populates="polling_stations")


class Commission(Base):
    """An election commission: CVK, a municipal one, a polling station's, or the internet one."""

    __tablename__ = "commissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CommissionKind] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    polling_station_id: Mapped[int | None] = mapped_column(
        ForeignKey("polling_stations.id"), unique=True
    )

    municipality: Mapped[Municipality | None] = relationship()
    polling_station: Mapped[PollingStation | None] = relationship()

    def display_name(self, locale: str = "lv") -> str:
        return self.name_en if locale == "en" else self.name


RIGA_ATVK = "0001000"


def load_municipality_data() -> list[dict[str, str]]:
    """The municipalities shipped with the portal (``referendum_core/data/municipalities.json``)."""
    text = resources.files("referendum_core.data").joinpath("municipalities.json").read_text("utf-8")
    return json.loads(text)["municipalities"]


def sync_organisations(session: Session) -> dict[str, int]:
    """Create or update municipalities, their commissions, CVK and the internet commission.

    Idempotent: running it again changes nothing unless the data file changed.
    Returns counts of rows created.
    """
    created = {"municipalities": 0, "commissions": 0}
    existing = {m.atvk_code: m for m in session.scalars(select(Municipality))}
    commissions = {
        c.municipality_id: c
        for c in session.scalars(select(Commission).where(Commission.kind == CommissionKind.MUNICIPAL))
    }
    for row in load_municipality_data():
        muni = existing.get(row["atvk"])
        if muni is None:
            muni = Municipality(atvk_code=row["atvk"], name=row["name"], name_en=row["name_en"],
                                kind=MunicipalityKind(row["kind"]))
            session.add(muni)
            session.flush()
            created["municipalities"] += 1
        else:
            muni.name, muni.name_en, muni.kind = row["name"], row["name_en"], MunicipalityKind(row["kind"])
        name = f"{row['genitive']} vēlēšanu komisija"
        name_en = f"{muni.name_en} election commission"
        commission = commissions.get(muni.id)
        if commission is None:
            session.add(Commission(kind=CommissionKind.MUNICIPAL, municipality_id=muni.id,
                                   name=name, name_en=name_en))
            created["commissions"] += 1
        else:
            commission.name, commission.name_en = name, name_en
    for kind, name, name_en in (
        (CommissionKind.CVK, "Centrālā vēlēšanu komisija", "Central Election Commission"),
        (CommissionKind.INTERNET, "Interneta vēlēšanu iecirkņa komisija",
         "Internet polling-station commission"),
    ):
        if session.scalar(select(Commission).where(Commission.kind == kind)) is None:
            session.add(Commission(kind=kind, name=name, name_en=name_en))
            created["commissions"] += 1
    session.flush()
    return created


def add_polling_station(session: Session, municipality: Municipality, number: int, name: str,
                        address: str) -> PollingStation:
    """Create a polling station and its commission."""
    station = PollingStation(municipality=municipality, number=number, name=name, address=address)
    session.add(station)
    session.flush()
    session.add(Commission(
        kind=CommissionKind.POLLING_STATION, municipality_id=municipality.id,
        polling_station_id=station.id,
        name=f"{number}. iecirkņa komisija ({name})", name_en=f"Polling station {number} commission ({name})",
    ))
    session.flush()
    return station


def get_commission(session: Session, kind: CommissionKind, municipality_id: int | None = None
                   ) -> Commission | None:
    """The single CVK / internet commission, or a municipality's election commission."""
    query = select(Commission).where(Commission.kind == kind)
    if municipality_id is not None:
        query = query.where(Commission.municipality_id == municipality_id)
    return session.scalars(query).first()
