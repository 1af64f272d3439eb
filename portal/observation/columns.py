"""The observation columns of the polling-station table (``portal.observers.station_table``):
checklist progress (answered and questions, two numbers) and conflicts between observers, per station of each referendum."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.observers.station_table import StationColumn, register_station_column
from referendum_core.observation import queries
from referendum_core.observation.checklists import checklist
from referendum_core.observation.services import pinned_version
from referendum_core.observers import StationRow


def _progress(session: Session, rows: Sequence[StationRow]
              ) -> Mapping[tuple[int, int], tuple[int, int]]:
    """(answered, total) questions of each station's checklist."""
    rows = [row for row in rows if row.referendum_id is not None]
    referendum_ids = sorted({row.referendum_id for row in rows if row.referendum_id})
    if not referendum_ids:
        return {}
    # The answers of an observer whose accreditation there is revoked no longer count.
    found = queries.progress_of(session, referendum_ids)
    totals = {r: len(checklist(pinned_version(session, r)).items()) for r in referendum_ids}
    return {row.key: (found[row.key].answered if row.key in found else 0,
                      totals[row.referendum_id]) for row in rows}


def checklist_answered(session: Session, rows: Sequence[StationRow]
                       ) -> Mapping[tuple[int, int], Any]:
    """How many questions of each station's checklist are answered (a number of its own,
    not "3/12", which a spreadsheet reads as a date)."""
    return {key: answered for key, (answered, _total) in _progress(session, rows).items()}


def checklist_questions(session: Session, rows: Sequence[StationRow]
                        ) -> Mapping[tuple[int, int], Any]:
    """How many questions each station's checklist has."""
    return {key: total for key, (_answered, total) in _progress(session, rows).items()}


def conflict_counts(session: Session, rows: Sequence[StationRow]
                    ) -> Mapping[tuple[int, int], Any]:
    """How many questions the station's observers currently answer differently."""
    counts: Counter[tuple[int, int]] = Counter()
    rows = [row for row in rows if row.referendum_id is not None]
    for referendum_id in sorted({row.referendum_id for row in rows if row.referendum_id}):
        for conflict in queries.conflicts(session, referendum_id=referendum_id):
            counts[(conflict.referendum_id, conflict.polling_station_id)] += 1
    return {row.key: counts.get(row.key, 0) for row in rows}


def unassigned_incidents(session: Session, rows: Sequence[StationRow]
                         ) -> Mapping[tuple[int | None, int], Any]:
    """Open observer reports at each station that belong to no referendum: on the station's
    row of no referendum (``station_rows``), once per station; 0 on its referendums' rows,
    whose ``open_incidents`` count only their own."""
    return {row.key: row.open_incidents if row.referendum_id is None else 0 for row in rows}


UNASSIGNED = StationColumn("open_incidents_no_referendum",
                           _l("Open reports not assigned to a referendum (per station)"),
                           unassigned_incidents)
ANSWERED = StationColumn("checklist_answered", _l("Checklist answered"), checklist_answered)
QUESTIONS = StationColumn("checklist_questions", _l("Checklist questions"), checklist_questions)
CONFLICTS = StationColumn("observer_conflicts", _l("Observers disagree"), conflict_counts)


def register() -> None:
    """Add the columns to the table (harmless when called again)."""
    register_station_column(UNASSIGNED)
    register_station_column(ANSWERED)
    register_station_column(QUESTIONS)
    register_station_column(CONFLICTS)
