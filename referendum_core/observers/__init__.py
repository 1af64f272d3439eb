"""Observers at polling stations: accreditation (Art. 18(3), 20(3)) and who observes where.

Other features read the accreditations through ``accredited_observers`` and
``observer_stations``, and ask what a person observes through ``observation_rights`` (per
referendum and station); the writes are in ``accreditation``.
"""
from __future__ import annotations

from referendum_core.observers.accreditation import (
    OBSERVER_ACCREDITATION_WORKFLOW,
    Nomination,
    approve_accreditation,
    link_account,
    record_observers,
    reject_accreditation,
    request_accreditation,
    revoke_accreditation,
    rights_window,
)
from referendum_core.observers.exceptions import AccreditationRefused
from referendum_core.observers.models import (
    MAX_OBSERVERS_PER_STATION_PER_INITIATOR,
    AccreditationStatus,
    ObserverAccreditation,
    ObserverKind,
)
from referendum_core.observers.queries import (
    accredited_observers,
    is_observer_at,
    nearest_first,
    observation_rights,
    observer_stations,
    stations_without_observers,
)
from referendum_core.observers.stations import StationRow, station_rows

__all__ = [
    "OBSERVER_ACCREDITATION_WORKFLOW", "AccreditationRefused", "Nomination",
    "approve_accreditation", "link_account", "record_observers", "reject_accreditation",
    "request_accreditation", "revoke_accreditation", "rights_window",
    "nearest_first", "MAX_OBSERVERS_PER_STATION_PER_INITIATOR", "AccreditationStatus", "ObserverAccreditation",
    "ObserverKind", "accredited_observers", "is_observer_at",
    "observation_rights", "observer_stations",
    "stations_without_observers", "StationRow", "station_rows",
]
