"""Verb-named writes on cases, in one place for callers. Each checks the rule, writes, appends
a timeline event, audits, and raises a domain exception when refused (nothing is written then).

The functions live by subdomain and are re-exported here so callers keep importing
``referendum_core.cases.services``:

* ``lifecycle`` — opening any case type, the timeline, states, workflow effects;
* ``filing`` — observer reports (photos), complaints, commission queries;
* ``handling`` — transitions, assignment, comments, photos, service-level deadlines;
* ``saved_filters`` — a person's named work-queue filters.
"""
from __future__ import annotations

from referendum_core.cases.filing import (
    ALLOWED_PHOTO_TYPES,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS_PER_CASE,
    ReportCategory,
    Severity,
    ask_cvk,
    complaint_filing_deadline,
    file_complaint,
    file_observer_report,
    referendum_of_station,
)
from referendum_core.cases.handling import (
    DEADLINE_MOVERS,
    add_photo,
    assign_case,
    change_deadline,
    comment_on_case,
    deadline_is_movable,
    record_message,
    resolve_transition,
    transition_case,
)
from referendum_core.cases.lifecycle import (
    EFFECTS,
    MAX_DRAFT_AGE,
    MAX_TEXT,
    OFFICIAL_PARTIES,
    Effect,
    Parties,
    add_event,
    open_case,
    register_effect,
)
from referendum_core.cases.saved_filters import delete_filter, save_filter

__all__ = [
    "ALLOWED_PHOTO_TYPES", "DEADLINE_MOVERS", "EFFECTS", "MAX_DRAFT_AGE", "MAX_PHOTOS_PER_CASE", "MAX_PHOTO_BYTES",
    "MAX_TEXT", "OFFICIAL_PARTIES", "Effect", "Parties", "ReportCategory", "Severity",
    "add_event", "add_photo", "referendum_of_station", "ask_cvk", "assign_case", "change_deadline", "comment_on_case",
    "complaint_filing_deadline", "deadline_is_movable", "delete_filter", "file_complaint", "file_observer_report",
    "open_case", "record_message", "register_effect", "resolve_transition", "save_filter",
    "transition_case",
]
