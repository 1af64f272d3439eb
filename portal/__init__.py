"""The web portal: app factory, accounts, permissions, audit views and the web UI."""
from __future__ import annotations

from typing import Any


def create_app(config: Any = None, **kwargs: Any) -> Any:
    """Build the Flask app (see ``portal.app.create_app``)."""
    from portal.app import create_app as _create_app

    return _create_app(config, **kwargs)
