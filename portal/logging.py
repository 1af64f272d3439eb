"""Structured logs: one JSON object per line, each carrying the request id of its request.

The request id comes from a well-formed ``X-Request-ID`` header (nginx sets one, see
``docs/deploy/nginx.conf``) or is generated, and is returned in the response's ``X-Request-ID``.
Inside a Celery task the task id stands in for it.

Personal codes must never be logged. ``PersonalCodeFilter`` masks anything shaped like one in
every line as a second line of defence (the first is not putting them in log calls).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# A Latvian personal code: 6 + 5 digits, with or without the hyphen, not inside a longer number.
PERSONAL_CODE_RE = re.compile(r"(?<![0-9])[0-9]{6}-?[0-9]{5}(?![0-9])")
PERSONAL_CODE_MASK = "***********"
_HANDLER_MARK = "_portal_handler"
# Attributes every LogRecord has; anything else was passed in ``extra`` and goes into the line.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message", "asctime", "request_id"}


_request_log = logging.getLogger("portal.request")


def log_request(method: str, path: str, endpoint: str, status: int, seconds: float, *,
                request_id: str | None = None, level: int = logging.INFO) -> None:
    """The one log line of an answered HTTP request (``request_id`` when no request context
    holds it: the lean cast path answers outside Flask)."""
    extra: dict[str, Any] = {"method": method, "path": path, "endpoint": endpoint,
                             "status": status, "duration_ms": round(seconds * 1000, 2)}
    if request_id is not None:
        extra["request_id"] = request_id
    _request_log.log(level, "%s %s %s", method, path, status, extra=extra)


def mask_personal_codes(text: str) -> str:
    """``text`` with every personal-code-shaped number replaced by a mask."""
    return PERSONAL_CODE_RE.sub(PERSONAL_CODE_MASK, text)


def valid_request_id(value: str | None) -> str | None:
    """``value`` when it is a safe request id (8-128 of ``A-Za-z0-9._:-``, nothing shaped like a
    personal code, since log lines carry the id unmasked), else ``None``."""
    if value and _REQUEST_ID_RE.match(value) and not PERSONAL_CODE_RE.search(value):
        return value
    return None


def new_request_id() -> str:
    """A fresh random request id, never shaped like a personal code (about one random hex id
    in 45 holds eleven digits in a row; ``valid_request_id`` would refuse it)."""
    while True:
        value = uuid.uuid4().hex
        if not PERSONAL_CODE_RE.search(value):
            return value


# Where the request id goes while a line is masked: the id is put back afterwards, unmasked.
# It comes only from ``valid_request_id``, ``new_request_id`` or a Celery task id, never from
# personal data. A random hex id can hold eleven digits in a row (about one in 45); masked,
# it would no longer match the id the response returned.
_REQUEST_ID_SLOT = "@@request-id@@"


def _mask_all_but_request_id(line: str, slot: str, request_id: str) -> str:
    return mask_personal_codes(line).replace(slot, request_id, 1)


def current_request_id() -> str | None:
    """The id of the request (or Celery task) being handled, if any."""
    from flask import g, has_request_context

    if has_request_context():
        return g.get("request_id")
    task = sys.modules.get("celery")
    if task is not None:
        from celery import current_task

        request = getattr(current_task, "request", None)
        task_id = getattr(request, "id", None)
        if task_id:
            return str(task_id)
    return None


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``None`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


class PersonalCodeFilter(logging.Filter):
    """Masks personal-code-shaped numbers in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record as logging would
            return True
        masked = mask_personal_codes(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": _REQUEST_ID_SLOT,
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exc"] = "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            entry["exc"] = record.exc_text
        # The mask again over the whole line: tracebacks and extras can carry input too.
        return _mask_all_but_request_id(
            json.dumps(entry, ensure_ascii=False, default=str), json.dumps(_REQUEST_ID_SLOT),
            json.dumps(getattr(record, "request_id", None)))


class TextFormatter(logging.Formatter):
    """Readable lines for development, with the request id and the same masking."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request_id = _REQUEST_ID_SLOT
        try:
            return _mask_all_but_request_id(super().format(record), _REQUEST_ID_SLOT,
                                            str(request_id))
        finally:
            record.request_id = request_id


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (it may be replaced)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def make_handler(fmt: str = "json", stream: Any = None) -> logging.Handler:
    """A stream handler with the portal's filters and the chosen format (``json`` or ``text``)."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PersonalCodeFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure_logging(fmt: str = "json", level: str = "INFO", stream: Any = None) -> None:
    """Send the root logger's records through one portal handler (idempotent per process)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
    root.addHandler(make_handler(fmt, stream))
    root.setLevel(level.upper())
