"""The voter register: Population Register and Land Register extracts, eligibility (Art. 7)
and the voter list frozen on the day a referendum or initiative is decided.

Personal codes never sit in clear in these tables: ``person_ref`` is the keyed lookup hash
(``PersonalCodeProtector.lookup_hash``) and ``personal_code_enc`` the ciphertext shown only to
those allowed to see it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    Select,
    String,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock
from referendum_core.db import Base
from referendum_core.organisation import Municipality

# Art. 7(1): EU citizens registered in the Population Register vote in local referendums.
EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# The Population Register writes ISO 3166 alpha-3; extracts in alpha-2 are accepted as well.
ALPHA3_TO_ALPHA2 = {
    "AUT": "AT", "BEL": "BE", "BGR": "BG", "CYP": "CY", "CZE": "CZ", "DEU": "DE", "DNK": "DK",
    "EST": "EE", "ESP": "ES", "FIN": "FI", "FRA": "FR", "GRC": "GR", "HRV": "HR", "HUN": "HU",
    "IRL": "IE", "ITA": "IT", "LTU": "LT", "LUX": "LU", "LVA": "LV", "MLT": "MT", "NLD": "NL",
    "POL": "PL", "PRT": "PT", "ROU": "RO", "SWE": "SE", "SVN": "SI", "SVK": "SK",
}
LATVIA = "LV"
VOTING_AGE = 18


def normalise_citizenship(value: str) -> str:
    """An upper-case country code; EU alpha-3 codes become alpha-2 (``LVA`` -> ``LV``).

    Other values (e.g. ``XXA`` for Latvian non-citizens, third countries) are kept as given.

    Raises:
        ValueError: empty or longer than three letters.
    """
    code = (value or "").strip().upper()
    if not code or len(code) > 3 or not code.isalpha():
        raise ValueError("citizenship must be a two- or three-letter country code")
    return ALPHA3_TO_ALPHA2.get(code, code)


class PersonRecord(Base):
    """One person from the Population Register extract (one row per person)."""

    __tablename__ = "register_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_ref: Mapped[str] = mapped_column(String(64), unique=True)
    personal_code_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    citizenship: Mapped[str] = mapped_column(String(3))
    # Declared residence; None when the person has none in Latvia.
    residence_municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipalities.id"), index=True)
    # Hash of the content fields: a re-import updates only rows whose hash changed.
    row_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


def person_names(session: Session, refs: list[str]) -> dict[str, str]:
    """Names from the Population Register extract by ``person_ref`` (one query); people not
    in the extract are left out. Callers show them only to those entitled to the person."""
    if not refs:
        return {}
    return dict(session.execute(select(PersonRecord.person_ref, PersonRecord.name).where(
        PersonRecord.person_ref.in_(sorted(set(refs))))).all())


class LandOwnerRecord(Base):
    """One owner of one real estate from the Land Register extract."""

    __tablename__ = "register_land_owners"
    __table_args__ = (UniqueConstraint("person_ref", "cadastral_number"),
                      Index("ix_register_land_owners_muni_ref", "municipality_id", "person_ref"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_ref: Mapped[str] = mapped_column(String(64), index=True)
    personal_code_enc: Mapped[bytes] = mapped_column(LargeBinary)
    cadastral_number: Mapped[str] = mapped_column(String(14))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"))
    row_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class IneligibilityReason(StrEnum):
    """Why a person may not vote or sign in a municipality (Art. 7)."""

    NOT_IN_REGISTER = "not_in_register"
    NOT_CITIZEN = "not_citizen"
    UNDER_AGE = "under_age"
    NO_TIE = "no_tie"
    NOT_ON_LIST = "not_on_list"  # not on the list frozen on the decision day (Art. 7(2))


class Basis(StrEnum):
    """The tie to the municipality (Art. 7(1)): declared residence and/or real estate."""

    RESIDENCE = "residence"
    REAL_ESTATE = "real_estate"


@dataclass(frozen=True)
class Eligibility:
    """The answer to "may this person vote here on that day?" with the reasons if not."""

    reasons: tuple[IneligibilityReason, ...] = ()
    basis: tuple[Basis, ...] = ()

    @property
    def is_eligible(self) -> bool:
        return not self.reasons


def age_cutoff(on_day: date) -> date:
    """The latest birth date of a person who is 18 on ``on_day`` (Art. 7(1)).

    A person born on 29 February becomes 18 on 1 March in a common year.
    """
    try:
        return on_day.replace(year=on_day.year - VOTING_AGE)
    except ValueError:  # on_day is 29 February, 18 years earlier is a common year
        return date(on_day.year - VOTING_AGE, 2, 28)


def assess(person: PersonRecord | None, municipality_id: int, on_day: date, *,
           owns_land: bool) -> Eligibility:
    """Art. 7(1)-(2): Latvian citizen or EU citizen in the Population Register, 18 or older on
    ``on_day``, declared residence or registered real estate in the municipality."""
    if person is None:
        return Eligibility(reasons=(IneligibilityReason.NOT_IN_REGISTER,))
    reasons: list[IneligibilityReason] = []
    if person.citizenship not in EU_MEMBER_STATES:
        reasons.append(IneligibilityReason.NOT_CITIZEN)
    if person.birth_date > age_cutoff(on_day):
        reasons.append(IneligibilityReason.UNDER_AGE)
    basis: list[Basis] = []
    if person.residence_municipality_id == municipality_id:
        basis.append(Basis.RESIDENCE)
    if owns_land:
        basis.append(Basis.REAL_ESTATE)
    if not basis:
        reasons.append(IneligibilityReason.NO_TIE)
    return Eligibility(reasons=tuple(reasons), basis=tuple(basis))


def find_person(session: Session, person_ref: str) -> PersonRecord | None:
    """The Population Register row of a person (by keyed hash)."""
    return session.scalars(select(PersonRecord).where(PersonRecord.person_ref == person_ref)).first()


def owns_land_in(session: Session, person_ref: str, municipality_id: int) -> bool:
    """Does the Land Register list the person as an owner of real estate in the municipality?"""
    return session.scalar(select(exists().where(
        LandOwnerRecord.person_ref == person_ref,
        LandOwnerRecord.municipality_id == municipality_id))) or False


@lru_cache(maxsize=1)
def _person_and_land() -> Select[tuple[PersonRecord, bool]]:
    """Built once and executed with parameters: every signature asks it."""
    owns_land = exists().where(LandOwnerRecord.person_ref == bindparam("person_ref"),
                               LandOwnerRecord.municipality_id == bindparam("municipality_id"))
    return select(PersonRecord, owns_land.label("owns_land")).where(
        PersonRecord.person_ref == bindparam("person_ref")).limit(1)


def eligibility(session: Session, person_ref: str, municipality_id: int, on_day: date
                ) -> Eligibility:
    """Art. 7 against the register as it stands now, with age counted on ``on_day``: the
    person and their land in the municipality read in one statement (a person not in the
    Population Register is not eligible whatever land they own)."""
    row = session.execute(_person_and_land(), {"person_ref": person_ref,
                                               "municipality_id": municipality_id}).first()
    if row is None:
        return assess(None, municipality_id, on_day, owns_land=False)
    return assess(row[0], municipality_id, on_day, owns_land=bool(row[1]))


# The frozen voter list --------------------------------------------------------------------

class VoterList(Base):
    """The voters of one municipality fixed on the day a referendum (or initiative) is decided
    (Art. 7(2)); later register changes do not alter it."""

    __tablename__ = "voter_lists"
    __table_args__ = (UniqueConstraint("case_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    # The case (initiative or referendum) the list belongs to.
    case_id: Mapped[int | None] = mapped_column(index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    decision_day: Mapped[date] = mapped_column(Date)
    frozen_at: Mapped[datetime]
    voter_count: Mapped[int]


class VoterListEntry(Base):
    """One voter on a frozen list."""

    __tablename__ = "voter_list_entries"
    __table_args__ = (UniqueConstraint("voter_list_id", "person_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voter_list_id: Mapped[int] = mapped_column(ForeignKey("voter_lists.id", ondelete="CASCADE"))
    person_ref: Mapped[str] = mapped_column(String(64))
    by_residence: Mapped[bool]
    by_real_estate: Mapped[bool]


class VoterListFrozen(Exception):
    """A voter list for this case and purpose already exists; it is never recomputed."""


def freeze_voter_list(session: Session, clock: Clock, actor: Actor | None,
                      municipality: Municipality, decision_day: date, *, case_id: int | None,
                      purpose: str = "referendum", context: AuditContext | None = None
                      ) -> VoterList:
    """Copy the eligible voters of ``municipality`` on ``decision_day`` into a frozen list
    (Art. 7(2)), set-based in SQL so a large municipality takes seconds.

    Raises:
        VoterListFrozen: the case already has a list for this purpose.
    """
    if case_id is not None and session.scalar(select(VoterList.id).where(
            VoterList.case_id == case_id, VoterList.purpose == purpose)) is not None:
        raise VoterListFrozen()
    voter_list = VoterList(municipality_id=municipality.id, case_id=case_id, purpose=purpose,
                           decision_day=decision_day, frozen_at=clock.now(), voter_count=0)
    session.add(voter_list)
    session.flush()
    land = select(LandOwnerRecord.person_ref).where(
        LandOwnerRecord.municipality_id == municipality.id)
    owns = exists().where(LandOwnerRecord.person_ref == PersonRecord.person_ref,
                          LandOwnerRecord.municipality_id == municipality.id)
    resident = PersonRecord.residence_municipality_id == municipality.id
    chosen = select(
        literal(voter_list.id), PersonRecord.person_ref,
        case((resident, True), else_=False), case((owns, True), else_=False),
    ).where(
        PersonRecord.citizenship.in_(sorted(EU_MEMBER_STATES)),
        PersonRecord.birth_date <= age_cutoff(decision_day),
        or_(resident, PersonRecord.person_ref.in_(land)),
    )
    result = session.connection().execute(insert(VoterListEntry).from_select(
        ["voter_list_id", "person_ref", "by_residence", "by_real_estate"], chosen)
        .execution_options(preserve_rowcount=True))
    session.flush()
    voter_list.voter_count = result.rowcount if result.rowcount is not None and \
        result.rowcount >= 0 else session.scalar(select(func.count()).where(
            VoterListEntry.voter_list_id == voter_list.id)) or 0
    audit.record(session, clock, actor, "register.voter_list_frozen", obj=voter_list,
                 context=context, case_id=case_id, purpose=purpose,
                 decision_day=decision_day.isoformat(), voters=voter_list.voter_count)
    return voter_list


def voter_list_for(session: Session, case_id: int, purpose: str = "referendum"
                   ) -> VoterList | None:
    """The frozen list of a case, if one was made."""
    return session.scalars(select(VoterList).where(
        VoterList.case_id == case_id, VoterList.purpose == purpose)).first()


def on_voter_list(session: Session, voter_list: VoterList, person_ref: str) -> bool:
    """Is the person on the frozen list?"""
    return session.scalar(select(exists().where(and_(
        VoterListEntry.voter_list_id == voter_list.id,
        VoterListEntry.person_ref == person_ref)))) or False
