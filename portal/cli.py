"""``referendum-portal``: migrate, seed, audit, demo helpers; serve, worker, beat, check."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import ScriptInfo

from portal.command import command_app
from portal.config import from_env
from portal.ops.cli import beat, check, serve, worker


def _create_app() -> Flask:
    from portal.app import create_app

    return create_app()


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Municipal referendum portal administration."""
    # Every command, the areas' too, builds the app through this factory (portal.command).
    ctx.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False)


@main.command()
def migrate() -> None:
    """Bring the database schema to the newest version."""
    from portal.migrate import upgrade

    url = from_env().DATABASE_URL
    upgrade(url)
    click.echo("database is at the newest schema")


@main.command()
def seed() -> None:
    """Create the demo organisations, accounts and voters (idempotent)."""
    from portal.seed import DEMO_PASSWORD, DEMO_VOTERS, seed_demo

    app = command_app()
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        printed = seed_demo(session, app.extensions["clock"], app.extensions["keys"])
        session.commit()
        story = _seed_story(app, session)
    click.echo(f"\nDemo accounts (password for all: {DEMO_PASSWORD}):")
    for row in printed:
        click.echo(f"  {row['role']:<18} {row['email']:<32} TOTP key {row['totp_secret']}")
    click.echo("  Current two-step code of a demo account: referendum-portal demo-code EMAIL")
    click.echo("Demo voters (sign in at /voter/login; the one-time code is shown on screen):")
    for code, name in DEMO_VOTERS:
        click.echo(f"  {name:<18} personal code {code}")
    _print_story(app, story)
    if app.config["ENV"] != "production":
        from portal.pades import commission_key, test_ca_path

        with app.app_context():
            key = commission_key(app)
        click.echo(f"Results protocols and signature-check decisions are signed (PAdES) as "
                   f"{key.subject}; to validate them, trust the local test CA "
                   f"{test_ca_path(app.config['COMMISSION_SIGNING_PKCS12'])}")


def _seed_story(app, session):  # type: ignore[no-untyped-def]
    """This week's living demo (portal.seed_story), in a transaction of its own."""
    from portal.config import instance_dir
    from portal.seed_story import seed_story

    story = seed_story(session, app.extensions["clock"], app.extensions["calendar"],
                       app.extensions["keys"], instance_dir())
    session.commit()
    return story


def _print_story(app, story) -> None:  # type: ignore[no-untyped-def]
    from portal.config import instance_dir
    from portal.seed_story import TRUSTEE_PASSPHRASE

    now = app.extensions["clock"].now()
    if app.config.get("DEMO_CLOCK"):
        click.echo(f"Demo clock on (DEMO_CLOCK={app.config['DEMO_CLOCK']}): the portal's time is "
                   f"{now:%Y-%m-%d %H:%M} UTC.")
    click.echo("This week's story (README 'Try it in ten minutes'): online voting open, an "
               "initiative collecting signatures, last week's referendum waiting for the trustee.")
    click.echo(f"The trustee's sealed key shares are in {instance_dir() / 'demo'} "
               f"(passphrase {TRUSTEE_PASSPHRASE}).")
    if story.get("trustee_secret"):
        click.echo(f"  last week's referendum (id {story['counted']}): {story['trustee_secret']}")


@main.command("demo-code")
@click.argument("email")
def demo_code(email: str) -> None:
    """Print the current two-step sign-in code of a demo account (development only)."""
    from portal.seed import demo_totp_code

    app = command_app()
    if app.config["ENV"] == "production":
        raise click.ClickException("not available in production")
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        try:
            click.echo(demo_totp_code(session, app.extensions["keys"], app.extensions["clock"], email))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--head", "head", default=None,
              help="A head printed earlier by 'audit head' (SEQ:HASH) the log must still contain.")
@click.option("--checkpoints", "checkpoint_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Signed checkpoints (the append-only JSON-lines file, or a download from "
                   "/audit/checkpoints): the log must pass through each (repeatable).")
def audit_verify(head: str | None, checkpoint_files: tuple[str, ...]) -> None:
    """Check the whole audit chain; exit 1 at the first edited or deleted entry, at a
    checkpoint the log no longer passes through, or on a bad or contradicting checkpoint.
    The checkpoints the portal itself holds (the database's and the configured append-only
    file's) are always checked, as on the audit page; ``--checkpoints`` adds copies kept
    elsewhere."""
    from portal.checkpoints import audit_public_key, known_checkpoints
    from referendum_core.checkpoints import verify_audit_log
    from referendum_core.crypto.checkpoint import AUDIT_LOG, InvalidCheckpoint, read_checkpoints

    raw: list[object] = []
    if head:
        try:
            seq, digest = head.split(":", 1)
            expected = (int(seq), digest.strip().lower())
        except ValueError as exc:
            raise click.BadParameter("expected SEQ:HASH") from exc
    else:
        expected = None
    for path in checkpoint_files:
        try:
            with open(path, encoding="utf-8") as fp:
                raw += read_checkpoints(fp.read())
        except (OSError, UnicodeDecodeError, InvalidCheckpoint) as exc:
            raise click.ClickException(f"cannot read checkpoints {path}: {exc}") from exc
    app = command_app()
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        raw += known_checkpoints(session, AUDIT_LOG)
        report = verify_audit_log(session, raw, audit_public_key(app), expected_head=expected)
    for position, reason in report.rejected:
        click.echo(f"BAD CHECKPOINT #{position + 1}: {reason}", err=True)
    for found in report.contradictions:
        click.echo(found.render(), err=True)
    if report.problem is not None:
        click.echo(f"FAILED after {report.checked} good entries: {report.problem}", err=True)
    if not report.ok:
        sys.exit(1)
    suffix = f", through {report.checkpoints} signed checkpoints" if report.checkpoints else ""
    click.echo(f"OK: {report.checked} entries verify{suffix}")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the audit log now and copy it out (beat does this every few
    minutes; for cron where no beat runs). Prints the checkpoint."""
    from portal.celery_app import in_transaction
    from portal.checkpoints import checkpoint_audit

    app = command_app()
    with app.app_context():
        checkpoint = in_transaction(checkpoint_audit)
    click.echo(checkpoint.line())


@audit.command("checkpoint-key")
def audit_checkpoint_key() -> None:
    """Print the public key (hex) that signs the audit log's checkpoints, to publish."""
    from portal.checkpoints import audit_public_key

    click.echo(audit_public_key(command_app()))


@audit.command("head")
def audit_head() -> None:
    """Print the chain head (SEQ:HASH) to copy out of the system for later comparison."""
    from referendum_core.audit import current_head

    app = command_app()
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        seq, digest = current_head(session)
    click.echo(f"{seq}:{digest}")


# The processes of a deployment (portal.ops.cli, docs/deploy.md).
for _command in (serve, worker, beat, check):
    main.add_command(_command)


# Secure messaging: archive key, rotation, due notifications (portal.messages.cli).
from portal.messages.cli import messaging_cli  # noqa: E402

main.add_command(messaging_cli)

# Retention of personal data (portal.retention; the daily Celery beat task does the same).
from portal.retention_cli import retention_cli  # noqa: E402

main.add_command(retention_cli)

# The voter register import and the initiatives' deadline step (portal.register, .initiatives).
from portal.initiatives.cli import initiatives_cli  # noqa: E402
from portal.register.cli import register_cli  # noqa: E402

main.add_command(register_cli)
main.add_command(initiatives_cli)


if __name__ == "__main__":
    main()
