"""Facts about the server the portal runs in, for settings that must match it."""
from __future__ import annotations

import sys


def socketio_async_mode() -> str:
    """``gevent`` inside a gevent-patched gunicorn worker (``referendum-portal serve``), else
    ``threading`` (development server, tests, Celery).

    Socket.IO's threading mode under a gevent worker stalls a process's first connection while
    the Redis message-queue listener starts (it waits on a real thread that the patched
    standard library cannot switch to); the gevent mode answers at once.
    """
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return "gevent"
    return "threading"
