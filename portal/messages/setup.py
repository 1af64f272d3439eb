"""Binding messaging to an app: settings, the OpenPGP home and the key service."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, has_app_context

from messaging import runtime
from messaging.keyring import ThreadKeys
from portal.gnupg import pgp_for


def settings_from(config: dict) -> runtime.Settings:  # type: ignore[type-arg]
    """Messaging settings from the app's configuration."""
    return runtime.Settings(
        edit_window=timedelta(minutes=config["MESSAGE_EDIT_WINDOW_MINUTES"]),
        notify_unread_after=timedelta(minutes=config["NOTIFY_UNREAD_AFTER_MINUTES"]),
        max_attachment_bytes=config["MAX_ATTACHMENT_BYTES"],
        base_url=config["BASE_URL"],
    )


def init_messaging(app: Flask) -> None:
    """Configure messaging for this process. Outside production a missing archive key is
    generated (development and tests); production requires ``messaging init-keys``."""
    pgp = pgp_for(app.config["PORTAL_GNUPGHOME"])
    if app.config["ENV"] != "production":
        pgp.ensure_archive_key()
    # Thread keys are also sealed under a key derived from DATA_KEY, so that a process opens a
    # thread it has not seen yet without running gpg (messaging.keyring).
    keys = ThreadKeys(pgp, server_key=app.extensions["keys"].derived_key(
        b"referendum-portal/messaging/thread-keys/v1"))
    settings = settings_from(app.config)
    app.extensions["messaging_keys"] = keys
    app.extensions["messaging_settings"] = settings
    runtime.configure(settings=settings, keys=keys, provider=_current_app_messaging)


def _current_app_messaging() -> tuple[runtime.Settings, ThreadKeys] | None:
    """The running app's messaging settings and keys (None outside an app context)."""
    if not has_app_context():
        return None
    ext = current_app.extensions
    if "messaging_keys" not in ext:
        return None
    return ext["messaging_settings"], ext["messaging_keys"]
