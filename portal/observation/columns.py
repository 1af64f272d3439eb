"""The observation columns of the polling-station table (``portal.observers.station_table``):
checklist progress and conflicts between observers, per station of each referendum."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.observers.station_table import StationColumn, register_station_column
from referendum_core.observation import queries
from referendum_core.observation.checklists import checklist
from referendum_core.observation.models import ChecklistAnswer
from referendum_core.observation.services import pinned_version
from referendum_core.observers import StationRow


def checklist_progress(session: Session, rows: Sequence[StationRow]
                       ) -> Mapping[tuple[int, int], Any]:
    """``answered/total`` questions of each station's checklist."""
    referendum_ids = sorted({row.referendum_id for row in rows})
    if not referendum_ids:
        return {}
    answered = {(r, s): n for r, s, n in session.execute(select(
        ChecklistAnswer.referendum_id, ChecklistAnswer.polling_station_id,
        func.count(func.distinct(ChecklistAnswer.item_key))).where(
        ChecklistAnswer.referendum_id.in_(referendum_ids)).group_by(
        ChecklistAnswer.referendum_id, ChecklistAnswer.polling_station_id))}
    totals = {r: len(checklist(pinned_version(session, r)).items()) for r in referendum_ids}
    return {row.key: f"{answered.get(row.key, 0)}/{totals[row.referendum_id]}" for row in rows}


def conflict_counts(session: Session, rows: Sequence[StationRow]
                    ) -> Mapping[tuple[int, int], Any]:
    """How many questions the station's observers currently answer differently."""
    counts: Counter[tuple[int, int]] = Counter()
    for referendum_id in sorted({row.referendum_id for row in rows}):
        for conflict in queries.conflicts(session, referendum_id=referendum_id):
            counts[(conflict.referendum_id, conflict.polling_station_id)] += 1
    return {row.key: counts.get(row.key, 0) for row in rows}


PROGRESS = StationColumn("checklist_progress", _l("Checklist answered"), checklist_progress)
CONFLICTS = StationColumn("observer_conflicts", _l("Observers disagree"), conflict_counts)


def register() -> None:
    """Add the columns to the table (harmless when called again)."""
    register_station_column(PROGRESS)
    register_station_column(CONFLICTS)
