"""CVK browses and filters the audit log and checks the chain against every signed checkpoint;
CVK and observers see and download the checkpoints (``docs/spec/checkpoints.md``)."""
from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

from flask import Blueprint, Response, render_template, request
from sqlalchemy import func, or_, select

from portal.audit.sentences import ACTION_GROUPS, OBJECT_FILTERS, describe
from portal.checkpoints import audit_public_key, known_checkpoints
from portal.permissions import Permission, permission_required
from portal.web import clock, db
from referendum_core.audit import AuditEntry, current_head
from referendum_core.checkpoints import checkpoints_of, valid_checkpoints, verify_audit_log
from referendum_core.clock import RIGA, to_riga
from referendum_core.crypto.checkpoint import AUDIT_LOG

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
    if action in ACTION_GROUPS:
        query = query.where(or_(*(AuditEntry.action.startswith(p, autoescape=True)
                                  for p in ACTION_GROUPS[action][1])))
    elif action:
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
                           sentences=describe(db(), entries), action_groups=ACTION_GROUPS,
                           object_filters=OBJECT_FILTERS,
                           pages=max(1, -(-total // PAGE_SIZE)), filters=args)


@bp.post("/verify")
@permission_required(Permission.VIEW_AUDIT_LOG)
def verify() -> Any:
    """Walk the chain and check it passes through every checkpoint the portal can see (the
    database's copy and the append-only file's)."""
    report = verify_audit_log(db(), known_checkpoints(db(), AUDIT_LOG), audit_public_key())
    return render_template("audit/verify.html", report=report, checked=report.checked,
                           problem=report.problem)


CHECKPOINTS_SHOWN = 50


@bp.get("/checkpoints")
@permission_required(Permission.DOWNLOAD_AUDIT_CHECKPOINTS)
def checkpoints() -> Any:
    """The signed checkpoints of the audit log (newest first) and the key that signs them."""
    stored = checkpoints_of(db(), AUDIT_LOG)
    return render_template("audit/checkpoints.html", key=audit_public_key(),
                           checkpoints=list(reversed(stored))[:CHECKPOINTS_SHOWN],
                           total=len(stored), head=current_head(db()))


@bp.get("/checkpoints.json")
@permission_required(Permission.DOWNLOAD_AUDIT_CHECKPOINTS)
def checkpoints_json() -> Any:
    """Every validly signed audit checkpoint the portal holds, as JSON to keep."""
    key = audit_public_key()
    good, _rejected = valid_checkpoints(known_checkpoints(db(), AUDIT_LOG), AUDIT_LOG, key)
    body = {"log": AUDIT_LOG, "key": key,
            "checkpoints": [cp.to_json() for cp in sorted(good, key=lambda c: (c.seq, c.at))]}
    stamp = to_riga(clock().now()).strftime("%Y%m%d-%H%M")
    return Response(json.dumps(body, indent=1), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="audit-checkpoints-{stamp}.json"'})
