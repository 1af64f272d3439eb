"""``referendum-portal initiatives run-deadlines | publish-boards``: publish due initiatives,
close ended collections telling organisers the count, and publish the signature boards — the
Celery beat steps, for cron without Redis."""
from __future__ import annotations

import click

from portal.command import command_app


@click.group("initiatives")
def initiatives_cli() -> None:
    """Initiatives and signature collection."""


@initiatives_cli.command("run-deadlines")
def run_deadlines_command() -> None:
    """Publish initiatives whose day has come and close collections whose 30 days ended
    (Art. 25(2), 26); safe to run as often as wanted."""
    from portal.initiatives.tasks import run_initiative_deadlines

    app = command_app()
    with app.app_context():
        done = run_initiative_deadlines()
    click.echo(f"published {done['published']}, closed {done['closed']}, "
               f"lapsed {done['lapsed']}")


@initiatives_cli.command("publish-boards")
def publish_boards_command() -> None:
    """Publish the batches waiting on the public signature boards, shuffled, sign a checkpoint
    of each board published to and tell its open pages (the Celery beat step, for cron: run
    every few minutes)."""
    from portal.initiatives.tasks import publish_signature_boards

    app = command_app()
    with app.app_context():
        published = publish_signature_boards()
    click.echo(f"published {published}")
