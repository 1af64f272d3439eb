"""``referendum-portal initiatives run-deadlines``: publish due initiatives and close ended
collections, telling organisers the count — the Celery beat step, for cron without Redis."""
from __future__ import annotations

import click


@click.group("initiatives")
def initiatives_cli() -> None:
    """Initiatives and signature collection."""


@initiatives_cli.command("run-deadlines")
def run_deadlines_command() -> None:
    """Publish initiatives whose day has come and close collections whose 30 days ended
    (Art. 25(2), 26); safe to run as often as wanted."""
    from portal.app import create_app
    from portal.initiatives.tasks import run_initiative_deadlines

    app = create_app()
    with app.app_context():
        done = run_initiative_deadlines()
    click.echo(f"published {done['published']}, closed {done['closed']}, "
               f"lapsed {done['lapsed']}")
