"""The settings and key service messaging runs with, configured once per process by the portal
(``portal.messages.setup``) or a CLI, and listeners told about new messages (the portal pushes
them to open pages after commit).

Domain functions take these as keyword arguments too; the configured ones are the defaults so
that workflow code can call ``post_system_message(session, clock, thread, text)`` plainly.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from messaging.exceptions import KeyNotFound
from messaging.keyring import ThreadKeys


@dataclass(frozen=True)
class Settings:
    """Plain values messaging needs (from the portal's ``Config``)."""

    edit_window: timedelta = timedelta(minutes=10)
    notify_unread_after: timedelta = timedelta(minutes=15)
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 5
    max_text_chars: int = 20_000
    max_subject_chars: int = 200
    base_url: str = "http://127.0.0.1:5000"
    notify_max_attempts: int = 8


_state: dict[str, Any] = {"settings": Settings(), "keys": None, "provider": None}
# Several apps in one process (tests, a live server thread) each bring their own settings and
# keys: a provider returns the current app's pair, or None to fall back to the configured one.
Provider = Callable[[], "tuple[Settings, ThreadKeys] | None"]
Listener = Callable[[str, dict[str, Any]], None]
_listeners: list[Listener] = []


def configure(*, settings: Settings | None = None, keys: ThreadKeys | None = None,
              provider: Provider | None = None) -> None:
    """Set the process-wide settings and/or key service (and the per-app provider)."""
    if provider is not None:
        _state["provider"] = provider
    if settings is not None:
        _state["settings"] = settings
    if keys is not None:
        _state["keys"] = keys


def settings() -> Settings:
    """The current app's settings, else the configured ones (defaults until configured)."""
    current = _current()
    return current[0] if current else _state["settings"]


def _current() -> tuple[Settings, ThreadKeys] | None:
    provider = _state["provider"]
    return provider() if provider is not None else None


def thread_keys() -> ThreadKeys:
    """The configured key service.

    Raises:
        KeyNotFound: messaging has not been configured with a GnuPG home.
    """
    current = _current()
    keys = current[1] if current else _state["keys"]
    if keys is None:
        raise KeyNotFound("messaging keys are not configured")
    return keys


def subscribe(listener: Listener) -> None:
    """Call ``listener(event, payload)`` for every messaging event (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def publish(event: str, payload: dict[str, Any]) -> None:
    """Tell listeners (payloads carry ids only, never text)."""
    for listener in list(_listeners):
        listener(event, payload)
