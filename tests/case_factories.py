"""Row factories for case tests (domain and portal): polling stations, photos, filed cases."""
from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core.cases import services
from referendum_core.cases.workflows import Party
from referendum_core.organisation import Municipality, PollingStation, add_polling_station

# A 1x1 PNG and a tiny JPEG (header and a 1x1 frame header): real magic numbers, so type sniffing accepts them.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffc0000b080001000101011100ffd9")
NOT_AN_IMAGE = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"

COMMISSION = frozenset({Party.COMMISSION})
CHAIR = frozenset({Party.COMMISSION, Party.CHAIR})
CVK = frozenset({Party.CVK})
REQUESTER = frozenset({Party.REQUESTER})


def station(session: Session, atvk: str = "0023000", number: int = 1) -> PollingStation:
    """A polling station of the municipality (created once per transaction)."""
    muni = session.scalars(select(Municipality).where(Municipality.atvk_code == atvk)).one()
    found = session.scalars(select(PollingStation).where(
        PollingStation.municipality_id == muni.id, PollingStation.number == number)).first()
    if found is not None:
        return found
    return add_polling_station(session, muni, number, f"Skola {number}", f"Skolas iela {number}")


def report(session: Session, clock: Any, observer: Any, at: PollingStation | None = None,
           **kw: Any) -> Any:
    """File an observer report as ``observer`` (accredited everywhere unless told otherwise)."""
    at = at or station(session)
    args: dict[str, Any] = dict(polling_station_id=at.id, category="ballot_box",
                                severity="high", description="Urna nav aizzīmogota",
                                is_accredited=lambda _m: True)
    args.update(kw)
    return services.file_observer_report(session, clock, observer, **args)
