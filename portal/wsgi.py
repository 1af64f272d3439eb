"""The WSGI application for gunicorn: ``portal.wsgi:app`` (``referendum-portal serve`` uses it).

Built from the environment when the worker starts, after gevent's monkey-patching.
"""
from __future__ import annotations

from portal.app import create_app

app = create_app()
