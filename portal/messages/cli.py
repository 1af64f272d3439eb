"""``referendum-portal messaging …``: archive key creation and rotation, due notifications."""
from __future__ import annotations

import click

from portal.command import command_app


@click.group("messaging")
def messaging_cli() -> None:
    """Secure messaging: keys and notifications."""


@messaging_cli.command("init-keys")
def init_keys() -> None:
    """Create the portal archive/signing key in PORTAL_GNUPGHOME if it is missing."""
    from portal.config import from_env
    from portal.gnupg import pgp_for

    home = from_env().PORTAL_GNUPGHOME
    pgp = pgp_for(home)
    existed = pgp.has_archive_key()
    fingerprint = pgp.ensure_archive_key()
    click.echo(f"archive key {fingerprint} {'already present' if existed else 'created'} in {home}")


@messaging_cli.command("rotate-key")
@click.option("--delete-old", is_flag=True, help="Remove the retired secret key afterwards.")
def rotate_key(delete_old: bool) -> None:
    """Generate a new archive key and re-wrap every thread data key under it (message bodies
    are not re-encrypted). Audited."""
    from messaging.keyring import rotate_archive_key

    app = command_app()
    with app.app_context():
        keys = app.extensions["messaging_keys"]
        session = app.extensions["portal_db"].new_session()
        try:
            old, new, count = rotate_archive_key(session, app.extensions["clock"], keys,
                                                 delete_old=delete_old)
        except Exception as exc:
            session.rollback()
            raise click.ClickException(f"rotation failed, nothing changed: {exc}") from exc
        finally:
            session.close()
    click.echo(f"re-wrapped {count} thread keys: {old} -> {new}")


@messaging_cli.command("send-notifications")
def send_notifications() -> None:
    """Send the notification e-mails that are due (for cron when no Celery beat runs)."""
    from portal.messages.tasks import send_due_notifications

    app = command_app()
    with app.app_context():
        outcomes = send_due_notifications.apply().get()
    click.echo(", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())) or "nothing due")
