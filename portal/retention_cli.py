"""``referendum-portal retention run [--dry-run]``: the daily retention job for cron (kept apart
from ``portal.retention`` so the command line starts without importing the whole portal)."""
from __future__ import annotations

import click


@click.group("retention")
def retention_cli() -> None:
    """Deleting personal data past its retention period."""


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def run_command(dry_run: bool) -> None:
    """Apply the retention periods now (for cron when no Celery beat runs)."""
    from portal.command import command_app
    from portal.retention import run_retention_now

    app = command_app()
    with app.app_context():
        try:
            results = run_retention_now(dry_run=dry_run)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    verb = "would delete" if dry_run else "deleted"
    for kind, counts in results.items():
        detail = ", ".join(f"{name} {count}" for name, count in counts.items())
        click.echo(f"{kind}: {verb} {detail}")
