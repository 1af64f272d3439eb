"""Work-queue filters from query strings (the list page, CSV export, API and dashboard links)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from referendum_core.cases.queries import SORTS, CaseFilter


def _is_id(value: str) -> bool:
    """Digits that fit a database id (a longer number overflows the column: 500, not "none")."""
    value = value.strip()
    return value.isdigit() and value.isascii() and len(value) <= 18


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if _is_id(v)][:50]


def filter_from_args(args: Any, user_id: int | None) -> tuple[CaseFilter, str]:
    """A ``CaseFilter`` and sort key from request args; unknown or malformed values are ignored."""
    flt = CaseFilter(
        types=[v for v in args.getlist("type") if v][:20],
        states=[v for v in args.getlist("state") if v][:20],
        municipality_ids=_ints(args.getlist("municipality")),
        overdue=args.get("overdue") == "1",
    )
    assignee = args.get("assignee", "")
    if assignee == "me":
        flt.assignee_id = user_id
    elif assignee == "none":
        flt.unassigned = True
    elif _is_id(assignee):
        flt.assignee_id = int(assignee)
    status = args.get("status", "")
    if status in ("open", "closed"):
        flt.is_open = status == "open"
    if args.get("returned") in ("0", "1"):
        flt.returned = args.get("returned") == "1"
    if args.get("mine") == "1":
        flt.created_by_id = user_id
    sort = args.get("sort", "newest")
    return flt, sort if sort in SORTS else "newest"


def query_string(args: Any, **changes: Any) -> str:
    """``args`` re-encoded with ``changes`` applied (``None`` removes a key)."""
    items = [(k, v) for k in args for v in args.getlist(k) if k not in changes]
    items += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(items)
