"""The app of a ``referendum-portal`` command. The entry point (``portal.cli``) puts the app
factory into the command's context as Flask's ``ScriptInfo``; an area's command takes the app
from there, built once per invocation, so no area imports the app factory."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import ScriptInfo

from portal.config import ConfigError


def command_app() -> Flask:
    """The portal app of the running command.

    Raises:
        click.ClickException: the configuration is refused.
    """
    try:
        return click.get_current_context().ensure_object(ScriptInfo).load_app()
    except ConfigError as exc:
        raise click.ClickException(f"configuration refused: {exc}") from exc
