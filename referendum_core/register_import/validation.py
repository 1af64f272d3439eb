"""Validating one row: the personal code first (a bad row with a valid code still keeps that
person's records from being removed), then the fields of its source."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from operator import mul
from typing import Any

from referendum_core.personal_code import InvalidPersonalCode, PersonalCodeProtector, normalise
from referendum_core.register import normalise_citizenship
from referendum_core.register_import.models import MAX_NAME_LENGTH, Problem, RegisterSource


class RowError(Exception):
    def __init__(self, kind: Problem, fld: str | None = None) -> None:
        self.kind, self.field = kind, fld


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RowError(Problem.INVALID_DATE, "birth_date") from None


def _birth_date_from_old_code(digits: str) -> date | None:
    """Old-format codes carry the birth date (DDMMYY + century digit); new ``32…`` do not."""
    if digits.startswith("32"):
        return None
    century = {"0": 1800, "1": 1900, "2": 2000}.get(digits[6])
    if century is None:
        return None
    try:
        return date(century + int(digits[4:6]), int(digits[2:4]), int(digits[0:2]))
    except ValueError:
        return None


def _row_hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()
                          ).hexdigest()


@dataclass
class ImportContext:
    source: RegisterSource
    protector: PersonalCodeProtector
    municipalities: dict[str, int]
    scope_id: int | None
    today: date


_CHECK_WEIGHTS = (10, 5, 8, 4, 2, 1, 6, 3, 7, 9)


def normalise_code(raw: str) -> str:
    """``personal_code.normalise`` with a fast path for the two spellings extracts use
    (``DDMMYYCNNNN`` and ``DDMMYY-CNNNN``): the same date and check-digit rules as python-stdnum,
    about ten times quicker. Anything the fast path does not accept goes through ``normalise``,
    which gives the verdict (and the error).

    Raises:
        InvalidPersonalCode: as ``normalise``.
    """
    digits = raw[:6] + raw[7:] if len(raw) == 12 and raw[6] == "-" else raw
    if len(digits) == 11 and digits.isascii() and digits.isdigit() and digits[0] <= "3":
        # ASCII digits are 48 + value; the ten weights add up to 55.
        check = (1 + sum(map(mul, _CHECK_WEIGHTS, digits.encode())) - 48 * 55) % 11 % 10
        if str(check) == digits[10]:
            if digits.startswith("32"):
                return digits
            try:
                date(1800 + int(digits[6]) * 100 + int(digits[4:6]), int(digits[2:4]),
                     int(digits[0:2]))
            except ValueError:
                pass
            else:
                return digits
    return normalise(raw)


def validate(ctx: ImportContext, row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """(person_ref, staged values) or raise RowError; the code is validated first so that a
    bad row with a valid code can still protect that person's records."""
    raw_code = (row.get("personal_code") or "").strip()
    if not raw_code:
        raise RowError(Problem.MISSING_FIELD, "personal_code")
    try:
        digits = normalise_code(raw_code)
    except InvalidPersonalCode:
        raise RowError(Problem.INVALID_CODE, "personal_code") from None
    ref = ctx.protector.lookup_hash_normalised(digits)
    try:
        return ref, {**_validate_rest(ctx, digits, row), "digits": digits}
    except RowError as err:
        err.ref = ref  # type: ignore[attr-defined]
        raise


def _municipality(ctx: ImportContext, value: str, *, required: bool) -> int | None:
    atvk = (value or "").strip()
    if not atvk:
        if required:
            raise RowError(Problem.MISSING_FIELD, "municipality")
        return None
    muni_id = ctx.municipalities.get(atvk)
    if muni_id is None:
        raise RowError(Problem.UNKNOWN_MUNICIPALITY, "municipality")
    return muni_id


def _validate_rest(ctx: ImportContext, digits: str, row: dict[str, str]) -> dict[str, Any]:
    if ctx.source == RegisterSource.POPULATION:
        name = " ".join((row.get("name") or "").split())
        if not name:
            raise RowError(Problem.MISSING_FIELD, "name")
        if len(name) > MAX_NAME_LENGTH:
            raise RowError(Problem.NAME_TOO_LONG, "name")
        if not (row.get("birth_date") or "").strip():
            raise RowError(Problem.MISSING_FIELD, "birth_date")
        born = _parse_date(row["birth_date"])
        if born > ctx.today:
            raise RowError(Problem.INVALID_DATE, "birth_date")
        from_code = _birth_date_from_old_code(digits)
        if from_code is not None and from_code != born:
            raise RowError(Problem.BIRTH_DATE_MISMATCH, "birth_date")
        try:
            citizenship = normalise_citizenship(row.get("citizenship") or "")
        except ValueError:
            raise RowError(Problem.INVALID_CITIZENSHIP, "citizenship") from None
        muni_id = _municipality(ctx, row.get("municipality") or "", required=False)
        if ctx.scope_id is not None and muni_id != ctx.scope_id:
            raise RowError(Problem.OTHER_MUNICIPALITY, "municipality")
        return {"name": name, "birth_date": born, "citizenship": citizenship,
                "municipality_id": muni_id,
                "row_hash": _row_hash(name, born.isoformat(), citizenship, muni_id)}
    cadastral = "".join((row.get("cadastral_number") or "").split())
    if not cadastral:
        raise RowError(Problem.MISSING_FIELD, "cadastral_number")
    if not cadastral.isdigit() or not 11 <= len(cadastral) <= 14:
        raise RowError(Problem.INVALID_CADASTRAL, "cadastral_number")
    muni_id = _municipality(ctx, row.get("municipality") or "", required=True)
    if ctx.scope_id is not None and muni_id != ctx.scope_id:
        raise RowError(Problem.OTHER_MUNICIPALITY, "municipality")
    return {"cadastral_number": cadastral, "municipality_id": muni_id,
            "row_hash": _row_hash(muni_id)}
