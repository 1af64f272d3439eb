"""Signed checkpoints of the audit log and of the bulletin boards (``docs/spec/checkpoints.md``):
the signing key from the configuration, the Celery beat tasks, the stage-change hook, and the
copies made outside the database once a checkpoint is committed.

* The audit log is checkpointed every ``AUDIT_EVERY`` seconds (beat) and after every commit that
  changes a referendum's stage; a board is checkpointed every ``BOARD_EVERY`` seconds while its
  referendum takes ballots and after each stage change (so at the close).
* Each checkpoint is copied out: a structured ops-log line (``checkpoint_b64``: the JSON line in
  base64, which the log's personal-code mask never touches), one line appended to
  ``CHECKPOINT_LOG_FILE``, and, when ``CHECKPOINT_TSA_URL`` is set, an RFC 3161 time-stamp
  (``portal.timestamping``). Board checkpoints also go over Socket.IO to the referendum's
  public room (event ``referendum.checkpoint``).
"""
from __future__ import annotations

import base64
import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from portal.celery_app import celery, in_transaction
from portal.database import on_commit
from portal.realtime import VOTING_NAMESPACE, emit_now, referendum_room
from referendum_core.checkpoints import (
    checkpoints_of,
    referendums_taking_ballots,
    sign_audit_checkpoint,
    sign_board_checkpoint,
)
from referendum_core.crypto.checkpoint import (
    AUDIT_LOG,
    Checkpoint,
    CheckpointSigner,
    InvalidCheckpoint,
    board_log,
    read_checkpoints,
)
from referendum_core.voting.models import Referendum

log = logging.getLogger("portal.checkpoints")

AUDIT_EVERY = 300.0  # seconds; at least every 10 minutes even if a beat run is missed
BOARD_EVERY = 120.0  # seconds; at least every 5 minutes while voting
CHECKPOINT_EVENT = "referendum.checkpoint"


def master_key(app: Flask | None = None) -> bytes:
    """The master signing key of ``CHECKPOINT_KEY_FILE`` (made in development if missing)."""
    from referendum_core.crypto.checkpoint import load_master_key

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    key = app.extensions.get("checkpoint_master")
    if key is None:
        key = load_master_key(app.config["CHECKPOINT_KEY_FILE"],
                              create=app.config["ENV"] != "production")
        app.extensions["checkpoint_master"] = key
    return key


def signer(log_name: str, app: Flask | None = None) -> CheckpointSigner:
    """The signer of one log (its key derived from the master key)."""
    return CheckpointSigner.derive(master_key(app), log_name)


def audit_public_key(app: Flask | None = None) -> str:
    """The published key of the audit log's checkpoints (hex)."""
    return signer(AUDIT_LOG, app).public_key


def election_public_key(election_id: str) -> str:
    """The key that will sign an election's board checkpoints (goes into its manifest)."""
    return signer(board_log(election_id)).public_key


# --------------------------------------------------------------------------- copies out


def append_line(path: str | Path, line: str) -> None:
    """Append one line to an append-only file and flush it to disk."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_out(checkpoint: Checkpoint, app: Flask | None = None) -> None:
    """Copy a committed checkpoint out of the database: ops log, append-only file and, when
    configured, an RFC 3161 time-stamp. A failing copy is logged; the others still happen."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    line = checkpoint.line()
    log.info("checkpoint signed", extra={
        "checkpoint_log": checkpoint.log, "checkpoint_seq": checkpoint.seq,
        "checkpoint_at": checkpoint.at,
        "checkpoint_b64": base64.b64encode(line.encode("ascii")).decode("ascii")})
    try:
        append_line(app.config["CHECKPOINT_LOG_FILE"], line)
    except OSError:
        log.exception("could not append the checkpoint to %s", app.config["CHECKPOINT_LOG_FILE"])
    url = app.config.get("CHECKPOINT_TSA_URL")
    if url:
        from portal.timestamping import TimestampError, request_timestamp

        try:
            token = request_timestamp(url, checkpoint.message(),
                                      timeout=float(app.config.get("CHECKPOINT_TSA_TIMEOUT", 10)))
            append_line(app.config["CHECKPOINT_LOG_FILE"] + ".tsr", base64.b64encode(
                token).decode("ascii") + " " + checkpoint.signature)
        except (TimestampError, OSError):
            log.exception("the time-stamping service did not stamp checkpoint %s of %s",
                          checkpoint.seq, checkpoint.log)


def file_checkpoints(app: Flask | None = None) -> list[Any]:
    """The raw checkpoints of the append-only file, one per line (``[]`` when it does not exist
    yet). A line that is not JSON (cut short by a crash while appending, or bytes added to the
    file) is kept as its text, which the checker counts as a checkpoint that does not verify:
    one bad line must neither hide the file's other checkpoints nor pass unnoticed."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    path = Path(app.config["CHECKPOINT_LOG_FILE"])
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return []
    raw: list[Any] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            raw += read_checkpoints(line)
        except InvalidCheckpoint:
            raw.append(line)
    return raw


def known_checkpoints(session: Session, log_name: str) -> list[Any]:
    """Every checkpoint of ``log_name`` the portal can see: the database's and the
    append-only file's (unparsed: the checker parses and counts bad ones)."""
    raw: list[Any] = [cp.to_json() for cp in checkpoints_of(session, log_name)]
    raw += file_checkpoints()
    seen: set[str] = set()
    unique = []
    for item in raw:
        mark = item.get("signature") if isinstance(item, dict) else None
        if isinstance(mark, str) and mark in seen:
            continue
        if isinstance(mark, str):
            seen.add(mark)
        unique.append(item)
    return unique


def _publish_board(checkpoint: Checkpoint, referendum_id: int) -> None:
    copy_out(checkpoint)
    emit_now(CHECKPOINT_EVENT, {"referendum_id": referendum_id, **checkpoint.to_json()},
             referendum_room(referendum_id), VOTING_NAMESPACE)


# --------------------------------------------------------------------------- signing


def checkpoint_audit(session: Session) -> Checkpoint:
    """Sign the audit log's head in ``session``; copied out after the commit."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checkpoint = sign_audit_checkpoint(session, app.extensions["clock"], signer(AUDIT_LOG))
    on_commit(lambda: copy_out(checkpoint, app))
    return checkpoint


def checkpoint_board(session: Session, referendum: Referendum) -> Checkpoint:
    """Sign a referendum's board head in ``session``; published after the commit."""
    checkpoint = sign_board_checkpoint(session, current_app.extensions["clock"],
                                       signer(board_log(referendum.election_id)), referendum)
    on_commit(lambda: _publish_board(checkpoint, referendum.id))
    return checkpoint


@celery.task(name="portal.checkpoints.sign_audit", ignore_result=True)
def sign_audit() -> None:
    """Beat: a checkpoint of the audit log."""
    in_transaction(checkpoint_audit)


@celery.task(name="portal.checkpoints.sign_boards", ignore_result=True)
def sign_boards() -> None:
    """Beat: a checkpoint of every board still taking ballots."""
    def run(session: Session) -> None:
        for referendum in referendums_taking_ballots(session):
            checkpoint_board(session, referendum)

    in_transaction(run)


celery.add_periodic_task(AUDIT_EVERY, sign_audit, name="checkpoints-audit")
celery.add_periodic_task(BOARD_EVERY, sign_boards, name="checkpoints-boards")


@celery.task(name="portal.checkpoints.sign_after_stage_change", ignore_result=True)
def sign_after_stage_change(referendum_ids: list[int]) -> None:
    """After a commit that changed referendums' stages: the audit log (which recorded the
    change) and each of those boards that has a manifest (so the board at the close)."""
    def run(session: Session) -> None:
        for referendum_id in referendum_ids:
            referendum = session.get(Referendum, referendum_id)
            if referendum is not None and referendum.manifest is not None:
                checkpoint_board(session, referendum)
        checkpoint_audit(session)

    in_transaction(run)


# --------------------------------------------------------------------------- stage hook

_STAGE_CHANGES = "checkpoint_stage_changes"


def _note_stage_changes(session: Session, _flush_context: Any) -> None:
    for obj in list(session.dirty) + list(session.new):
        if isinstance(obj, Referendum) and attributes.get_history(obj, "stage").has_changes():
            session.info.setdefault(_STAGE_CHANGES, set()).add(obj.id)


def _after_commit(session: Session) -> None:
    # SQLAlchemy fires ``after_commit`` for a savepoint's release too; the stage change is
    # committed (and another connection can write the checkpoint) only at the outermost commit.
    if session.in_nested_transaction():
        return
    changed = session.info.pop(_STAGE_CHANGES, None)
    if changed:
        try:
            sign_after_stage_change.delay(sorted(changed))
        except Exception:  # the stage change is committed; the next beat run checkpoints it
            log.exception("could not queue the stage-change checkpoint")


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended (committed or not)
        session.info.pop(_STAGE_CHANGES, None)


def init_checkpoints(app: Flask) -> None:
    """Watch the app's sessions for referendum stage changes (checkpointed after commit)."""
    maker = app.extensions["portal_db"].sessionmaker
    event.listen(maker, "after_flush", _note_stage_changes)
    event.listen(maker, "after_commit", _after_commit)
    event.listen(maker, "after_transaction_end", _after_transaction_end)
