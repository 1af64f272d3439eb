"""The audit log's signed checkpoints in the portal: beat signs them and copies each out (ops
log, append-only file); the audit page checks the chain against them; CVK and observers (and
no one else) see and download them (docs/spec/checkpoints.md)."""
from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from portal import checkpoints as portal_checkpoints
from referendum_core import audit
from referendum_core.audit import AuditEntry, AuditHead
from referendum_core.checkpoints import SignedCheckpoint
from referendum_core.crypto.checkpoint import parse_checkpoint, verify_checkpoint


def _file_lines(app) -> list[dict]:
    path = Path(app.config["CHECKPOINT_LOG_FILE"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _sign(app):
    with app.app_context():
        portal_checkpoints.sign_audit.delay()
    return _file_lines(app)[-1]


def test_beat_runs_both_checkpoint_tasks_often_enough(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["checkpoints-audit"]["task"] == "portal.checkpoints.sign_audit"
    assert schedule["checkpoints-audit"]["schedule"] <= 600  # at least every 10 minutes
    assert schedule["checkpoints-boards"]["schedule"] <= 300  # at least every 5 minutes


def test_a_checkpoint_is_kept_and_copied_out_after_commit(app, db_session, clock, caplog):
    audit.record(db_session, clock, None, "test.event")
    db_session.commit()
    with caplog.at_level(logging.INFO, logger="portal.checkpoints"):
        line = _sign(app)
    seq, head = audit.current_head(db_session)
    assert (line["log"], line["seq"], line["head"]) == ("audit", seq, head)
    with app.app_context():
        verify_checkpoint(parse_checkpoint(line), portal_checkpoints.audit_public_key())
    stored = db_session.scalars(select(SignedCheckpoint)).all()
    assert [row.checkpoint().to_json() for row in stored] == [line]
    [record] = [r for r in caplog.records if r.getMessage() == "checkpoint signed"]
    assert json.loads(base64.b64decode(record.checkpoint_b64)) == line
    assert record.checkpoint_seq == seq


def test_the_key_lives_in_the_configured_file_not_the_database(app, db_session):
    with app.app_context():
        master = portal_checkpoints.master_key()
    assert Path(app.config["CHECKPOINT_KEY_FILE"]).exists()
    _sign(app)
    dump = "\n".join(str(row.__dict__) for row in db_session.scalars(select(SignedCheckpoint)))
    assert master.hex() not in dump


def test_audit_page_catches_truncation_and_rechaining(app, client, people, login_as,
                                                      db_session, clock):
    admin = people.cvk_admin()
    for i in range(4):
        audit.record(db_session, clock, admin, "test.event", n=i)
    db_session.commit()
    checkpoint = _sign(app)
    login_as(admin)
    html = client.post("/audit/verify").get_data(as_text=True)
    assert "Nekas nav mainīts" in html
    # Truncation: the last two entries deleted and the head moved back; the database's copy
    # of the checkpoint deleted as well (the file's copy remains).
    keep = checkpoint["seq"] - 2
    db_session.execute(delete(AuditEntry).where(AuditEntry.seq > keep))
    db_session.execute(delete(SignedCheckpoint))
    head = db_session.get(AuditHead, 1)
    head.last_seq, head.last_hash = keep, db_session.get(AuditEntry, keep).entry_hash
    db_session.commit()
    assert audit.verify_chain(db_session)[1] is None
    html = client.post("/audit/verify").get_data(as_text=True)
    assert "Nekas nav mainīts" not in html and f"pie ieraksta {keep + 1}" in html


def test_a_torn_line_in_the_checkpoint_file_does_not_hide_the_others(app, client, people,
                                                                    login_as, db_session, clock):
    """A line cut short (a crash while appending, or bytes added to the file) is reported as a
    checkpoint that does not verify; the file's other checkpoints still catch a truncation
    whose database copies were deleted too."""
    admin = people.cvk_admin()
    for i in range(4):
        audit.record(db_session, clock, admin, "test.event", n=i)
    db_session.commit()
    checkpoint = _sign(app)
    with open(app.config["CHECKPOINT_LOG_FILE"], "a", encoding="ascii") as fp:
        fp.write('{"log": "audit", "seq": 9\n')
    keep = checkpoint["seq"] - 2
    db_session.execute(delete(AuditEntry).where(AuditEntry.seq > keep))
    db_session.execute(delete(SignedCheckpoint))
    head = db_session.get(AuditHead, 1)
    head.last_seq, head.last_hash = keep, db_session.get(AuditEntry, keep).entry_hash
    db_session.commit()
    login_as(admin)
    html = client.post("/audit/verify").get_data(as_text=True)
    assert "Nekas nav mainīts" not in html and f"pie ieraksta {keep + 1}" in html
    assert 'data-testid="rejected-checkpoints"' in html


def test_audit_page_catches_rechaining(app, client, people, login_as, db_session, clock):
    admin = people.cvk_admin()
    for i in range(4):
        audit.record(db_session, clock, admin, "test.event", n=i)
    db_session.commit()
    checkpoint = _sign(app)
    victim = checkpoint["seq"] - 1
    prev = audit.GENESIS
    for row in db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all():
        if row.seq == victim:
            row.detail = '{"n":"forged"}'
        row.prev_hash, row.entry_hash = prev, None
        row.entry_hash = audit.compute_hash(row)
        prev = row.entry_hash
    db_session.get(AuditHead, 1).last_hash = prev
    db_session.commit()
    assert audit.verify_chain(db_session)[1] is None
    login_as(admin)
    html = client.post("/audit/verify").get_data(as_text=True)
    assert f"pie ieraksta {checkpoint['seq']}" in html


@pytest.mark.parametrize("role", ["cvk_admin", "cvk_officer", "observer"])
def test_cvk_and_observers_download_the_checkpoints(app, client, people, login_as, role):
    line = _sign(app)
    login_as(getattr(people, role)())
    page = client.get("/audit/checkpoints")
    assert page.status_code == 200
    with app.app_context():
        key = portal_checkpoints.audit_public_key()
    html = page.get_data(as_text=True)
    assert key in html
    # Shown in Riga time in the portal's style; the signed UTC text stays in the datetime.
    signed_at = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', html)
    assert signed_at and signed_at.group(1).endswith("Z") and "T" not in signed_at.group(2)
    download = client.get("/audit/checkpoints.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    body = download.get_json()
    assert body["key"] == key and line in body["checkpoints"]


@pytest.mark.parametrize("role", ["member", "chair", "voter"])
def test_others_may_not_see_the_checkpoints(client, people, login_as, role):
    login_as(getattr(people, role)())
    assert client.get("/audit/checkpoints").status_code == 403
    assert client.get("/audit/checkpoints.json").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get("/audit/checkpoints.json").status_code in (302, 401)
