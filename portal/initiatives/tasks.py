"""Celery tasks for initiatives: the commission's signature check (a progress bar reads
``checked`` / ``check_total``) and the daily publication/closing step. Tasks take ids, commit
after each batch and resume where they stopped, so a retry or restart is safe."""
from __future__ import annotations

from flask import current_app

from portal.celery_app import celery, in_transaction
from portal.initiatives import services
from referendum_core.signature_board import PUBLISH_EVERY_SECONDS

BATCH = 1000
# Publication (3rd working day) and the end of a 30-day collection come by themselves: beat runs
# the step every few minutes (``referendum-portal initiatives run-deadlines`` for cron).
DEADLINES_EVERY = 300.0  # seconds


def _one_batch(initiative_id: int) -> bool:
    app = current_app
    return in_transaction(lambda session: services.check_signature_batch(
        session, app.extensions["clock"], app.extensions["calendar"], initiative_id, BATCH))


@celery.task(name="portal.initiatives.tasks.check_initiative_signatures")
def check_initiative_signatures(initiative_id: int) -> int:
    """Run the Art. 13 check to the end, one committed batch at a time; returns batches run."""
    batches = 1
    while not _one_batch(initiative_id):
        batches += 1
    return batches


@celery.task(name="portal.initiatives.tasks.run_initiative_deadlines")
def run_initiative_deadlines() -> dict[str, int]:
    """Publish due initiatives and close ended collections (run by beat, or the CLI)."""
    app = current_app
    return in_transaction(lambda session: services.run_due_steps(
        session, app.extensions["clock"], app.extensions["calendar"]))


@celery.task(name="portal.initiatives.tasks.publish_signature_boards")
def publish_signature_boards() -> int:
    """Publish the batches waiting on every initiative's board, shuffled, and checkpoint the
    heads (run by beat, or the CLI). Returns the entries published."""
    app = current_app
    return in_transaction(lambda session: services.publish_signature_boards(
        session, app.extensions["clock"]))


celery.add_periodic_task(DEADLINES_EVERY, run_initiative_deadlines,
                         name="initiatives-run-deadlines")
# Every 5 minutes: a batch that has reached its size waits at most that long (spec §6).
celery.add_periodic_task(PUBLISH_EVERY_SECONDS, publish_signature_boards,
                         name="initiatives-publish-signature-boards")
