"""``/readyz``, ``/metrics`` and the per-request id, metrics and log line of every request.

``/healthz`` (process up) stays in ``portal.main``. ``/readyz`` answers 200 when every configured
dependency answers and 503 otherwise, and says nothing else: it is public. ``/readyz/details``
adds one JSON entry per check (key ids, versions), and like ``/metrics`` (for Prometheus) it is
only for the addresses in ``METRICS_ALLOW`` and, when ``METRICS_TOKEN`` is set, requests that
carry ``Authorization: Bearer <token>``.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    request,
    request_finished,
    request_started,
)

from portal import metrics
from portal.logging import (
    REQUEST_ID_HEADER,
    configure_logging,
    log_request,
    new_request_id,
    valid_request_id,
)
from portal.ops.checks import is_ready, run_checks

bp = Blueprint("ops", __name__)
_QUIET_ENDPOINTS = frozenset({"main.healthz", "ops.readyz", "ops.readyz_details", "ops.metrics",
                              "static"})


@bp.record_once
def _setup(state: Any) -> None:
    app: Flask = state.app
    if app.config.get("LOG_FORMAT") and not app.testing:
        configure_logging(app.config["LOG_FORMAT"], app.config.get("LOG_LEVEL", "INFO"))
    # Signals, not before/after_request hooks: ``request_started`` comes before every other hook
    # (CSRF, rate limits) and ``request_finished`` after all of them, the commit included, with
    # the final response, error pages too.
    request_started.connect(_on_request_started, app)
    request_finished.connect(_on_request_finished, app)


def request_id() -> str:
    """The current request's id (from a valid ``X-Request-ID`` or generated)."""
    if "request_id" not in g:
        g.request_id = valid_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
    return g.request_id


def _on_request_started(sender: Flask, **_extra: Any) -> None:
    g.request_started = time.perf_counter()
    request_id()


def _on_request_finished(sender: Flask, response: Response, **_extra: Any) -> None:
    response.headers[REQUEST_ID_HEADER] = request_id()
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
    metrics.observe_request(endpoint, request.method, response.status_code, seconds)
    log_request(request.method, request.path, endpoint, response.status_code, seconds,
                level=logging.DEBUG if endpoint in _QUIET_ENDPOINTS else logging.INFO)


@bp.get("/readyz")
def readyz() -> Any:
    """For the load balancer, and so for anyone: 200 when the database, Redis, the archive key
    and Celery answer, 503 if not, and nothing more (no key ids, versions or check names)."""
    ready = is_ready(run_checks(current_app._get_current_object()))  # type: ignore[attr-defined]
    response = jsonify({"status": "ready" if ready else "not ready"})
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz/details", endpoint="readyz_details")
def readyz_details() -> Any:
    """The same answer with one entry per check, for whoever may read ``/metrics``."""
    if not metrics_allowed():
        abort(403)
    results = run_checks(current_app._get_current_object())  # type: ignore[attr-defined]
    ready = is_ready(results)
    response = jsonify({"status": "ready" if ready else "not ready",
                        "checks": {r.name: r.as_dict() for r in results}})
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def metrics_allowed() -> bool:
    """Is this request allowed to read ``/metrics`` (address allow-list and bearer token)?"""
    allowed = current_app.config.get("METRICS_ALLOW") or ()
    if allowed:
        try:
            address = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            return False
        networks = (ipaddress.ip_network(net, strict=False) for net in allowed)
        if not any(address in network for network in networks):
            return False
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return False
    return True


@bp.get("/metrics", endpoint="metrics")
def metrics_view() -> Any:
    """Prometheus exposition of this portal process (all its workers in multiprocess mode)."""
    if not metrics_allowed():
        abort(403)
    body, content_type = metrics.exposition(current_app.config.get("REDIS_URL"),
                                            current_app.config.get("CELERY_QUEUE", "portal"))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
