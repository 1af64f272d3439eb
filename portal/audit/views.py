"""CVK browses and filters the audit log, and checks the chain."""
from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from portal.permissions import Permission, permission_required
from portal.web import db
from referendum_core.audit import AuditEntry, verify_chain
from referendum_core.clock import RIGA

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50


def _parse_day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=RIGA)


@bp.get("/")
@permission_required(Permission.VIEW_AUDIT_LOG)
def index() -> Any:
    args = request.args
    query = select(AuditEntry)
    action = (args.get("action") or "").strip()[:80]
    actor = (args.get("actor") or "").strip()[:200]
    object_type = (args.get("object_type") or "").strip()[:60]
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor_label.contains(actor, autoescape=True))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if (since := _parse_day(args.get("since"))) is not None:
        query = query.where(AuditEntry.at >= since)
    if (until := _parse_day(args.get("until"), end=True)) is not None:
        query = query.where(AuditEntry.at <= until)
    try:
        page = min(max(1, int(args.get("page", 1))), 10**9)  # an OFFSET the database takes
    except ValueError:
        page = 1
    total = db().scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = db().scalars(query.order_by(AuditEntry.seq.desc())
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return render_template("audit/index.html", entries=entries, page=page, total=total,
                           pages=max(1, -(-total // PAGE_SIZE)), filters=args)


@bp.post("/verify")
@permission_required(Permission.VIEW_AUDIT_LOG)
def verify() -> Any:
    checked, problem = verify_chain(db())
    return render_template("audit/verify.html", checked=checked, problem=problem)
