"""Flask extensions, created unbound and bound in ``create_app`` (Flask "Application Factories")."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import g, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
babel = Babel()
# Live delivery (messaging). Bound in create_app; with REDIS_URL every portal process shares one
# Redis message queue, so an emit on one process reaches clients connected to another.
socketio = SocketIO()


def select_locale() -> str:
    """Latvian unless the person chose English (session), or their account says so."""
    from flask import current_app

    return locale_of(current_app.config, session, current_user)


def locale_of(config: Mapping[str, Any], signed: Mapping[str, Any], user: Any) -> str:
    """``select_locale`` for the session ``signed`` and ``user`` (the lean signing path, which
    has them without Flask's request)."""
    languages = config["LANGUAGES"]
    chosen = signed.get("lang")
    if chosen in languages:
        return chosen
    if getattr(user, "is_authenticated", False) and user.locale in languages:
        return user.locale
    return config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return "Europe/Riga"


def current_locale() -> str:
    return g.get("locale") or select_locale()
