"""Helpers for register tests: valid personal codes, register rows and extract files."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session
from stdnum.lv.pvn import calc_check_digit_pers

from referendum_core.organisation import Municipality
from referendum_core.personal_code import PersonalCodeProtector
from referendum_core.register import LandOwnerRecord, PersonRecord, normalise_citizenship

POPULATION_HEADER = ("personal_code", "name", "birth_date", "citizenship", "municipality")
LAND_HEADER = ("personal_code", "cadastral_number", "municipality")


def code_for(born: date, serial: int = 123) -> str:
    """A valid old-format code (DDMMYY-CNNNN) for someone born on ``born``."""
    century = {18: "0", 19: "1", 20: "2"}[born.year // 100]
    body = f"{born:%d%m%y}{century}{serial % 1000:03d}"
    return f"{body[:6]}-{body[6:]}{calc_check_digit_pers(body)}"


def new_code(n: int) -> str:
    """A valid new-format code (``32…``, no birth date)."""
    body = f"32{n % 10**8:08d}"
    return body + calc_check_digit_pers(body)


def add_person(session: Session, protector: PersonalCodeProtector, code: str, *,
               born: date, citizenship: str = "LV", municipality: Municipality | None,
               name: str = "Jānis Bērziņš") -> PersonRecord:
    person = PersonRecord(person_ref=protector.lookup_hash(code),
                          personal_code_enc=protector.encrypt(code), name=name, birth_date=born,
                          citizenship=normalise_citizenship(citizenship),
                          residence_municipality_id=municipality.id if municipality else None,
                          row_hash="x", updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(person)
    session.flush()
    return person


def add_land(session: Session, protector: PersonalCodeProtector, code: str, *,
             municipality: Municipality, cadastral: str = "80440010001") -> LandOwnerRecord:
    record = LandOwnerRecord(person_ref=protector.lookup_hash(code),
                             personal_code_enc=protector.encrypt(code),
                             cadastral_number=cadastral, municipality_id=municipality.id,
                             row_hash="x", updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(record)
    session.flush()
    return record


def csv_bytes(rows: Iterable[Sequence[object]], header: Sequence[str] = POPULATION_HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def json_array_bytes(rows: Iterable[Sequence[object]],
                     header: Sequence[str] = POPULATION_HEADER) -> bytes:
    objects = [dict(zip(header, map(str, row), strict=True)) for row in rows]
    return ("[\n" + ",\n".join(json.dumps(o, ensure_ascii=False) for o in objects) + "\n]\n"
            ).encode()


def json_lines_bytes(rows: Iterable[Sequence[object]],
                     header: Sequence[str] = POPULATION_HEADER) -> bytes:
    return "".join(json.dumps(dict(zip(header, map(str, row), strict=True)),
                              ensure_ascii=False) + "\n" for row in rows).encode()


def person_row(born: date, serial: int, *, atvk: str = "0023000", citizenship: str = "LV",
               name: str | None = None) -> tuple[str, str, str, str, str]:
    return (code_for(born, serial), name or f"Persona {serial}", born.isoformat(), citizenship,
            atvk)


def referendum_case(session: Session, clock: object, municipality: Municipality) -> int:
    """A referendum case to mark voters in (opened through the case services)."""
    from referendum_core.cases.models import CaseType
    from referendum_core.cases.services import open_case
    from referendum_core.voting.workflow import ensure_registered

    ensure_registered()
    case = open_case(session, clock, None, case_type=CaseType.REFERENDUM,  # type: ignore[arg-type]
                     title="Vai atbalstāt?", municipality_id=municipality.id)
    return case.id
