"""One way a domain refusal becomes an answer.

Views call the services and let a refusal (``referendum_core.refusals.Refused``) propagate.
The handlers registered here end the transaction (everything rolled back, the refusal's audit
entries and the writes it keeps, ``Refused.keeping``, done again in a short transaction of their
own: ``rollback_keeping_refusals``) and
answer with the sentence and status of the text registry (``portal.refusal_texts``):

* under ``/api/`` or to a script (``X-Requested-With: fetch``, JSON preferred, a page token
  sent): JSON,
  ``{"error", "code", "reason", "status"}`` and the refusal's ``answer_detail()``;
* to a Socket.IO event: the same object with ``"ok": false`` as its acknowledgement;
* to a page: the page the view named with ``on_refusal`` (its form shown again with the
  sentence, or a flash and a redirect), else the standard error page.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, flash, g, redirect, render_template, request
from flask_login import current_user
from flask_socketio import SocketIO

from portal.database import rollback_keeping_refusals
from portal.page_token import carries_page_token
from portal.refusal_texts import reason_of
from portal.web import audit_context, clock, db
from referendum_core import audit
from referendum_core.refusals import Refused

Page = Callable[[str, int], Any]


@dataclass(frozen=True)
class Answer:
    """What every kind of answer says about a refusal."""

    message: str
    code: str
    reason: str
    status: int
    detail: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The JSON body (the Socket.IO acknowledgement adds ``"ok": false``)."""
        return {"error": self.message, "code": self.code, "reason": self.reason,
                "status": self.status, **self.detail}


@dataclass(frozen=True)
class _Plan:
    page: Page | None
    status: int | None
    obj: Any
    attempted: str | None
    actor: Any


def on_refusal(page: Page | None = None, *, status: int | None = None, obj: Any = None,
               attempted: str | None = None, actor: Any = None) -> None:
    """Say how this request answers a refusal: ``page(message, status)`` renders the view's
    page (its form with the sentence, or a flash and redirect); ``status`` replaces the
    registry's. A refusal that could not be audited in the rolled-back transaction
    (``Refused.is_audited``) is audited as by ``actor`` (default: the signed-in user), on
    ``obj``, ``attempted`` naming the action."""
    g.refusal_plan = _Plan(page, status, obj, attempted, actor)


def flash_and_redirect(url: str, code: int = 303) -> Page:
    """A ``page`` for ``on_refusal``: flash the sentence as an error and go to ``url``."""

    def page(message: str, _status: int) -> Any:
        flash(message, "error")
        return redirect(url, code)

    return page


def answer_for(err: Refused) -> Answer:
    """The answer to ``err`` in the request's language (``on_refusal``'s status, if given)."""
    plan = g.get("refusal_plan")
    reason = reason_of(err)
    status = plan.status if plan is not None and plan.status else reason.status
    return Answer(str(reason.text(err)), err.code, err.reason or err.code, status,
                  err.answer_detail())


def settle(err: Refused) -> Answer:
    """End the transaction of a refused request (only the refusal's audit and the writes it
    keeps are kept) and return its answer."""
    g.refusal = err
    rollback_keeping_refusals(err.kept)
    if not err.is_audited:
        plan = g.get("refusal_plan") or _Plan(None, None, None, None, None)
        actor = plan.actor or (
            current_user if getattr(current_user, "is_authenticated", False) else None)
        audit.record(db(), clock(), actor, f"{err.area}.refused", obj=plan.obj,
                     object_type=type(plan.obj).__name__ if plan.obj is not None else None,
                     context=audit_context(), attempted=plan.attempted,
                     reason=type(err).__name__)
        db().commit()
    return answer_for(err)


def answering() -> Refused | None:
    """The refusal the request is answering (for a ``page`` that places the sentence by the
    form field the refusal concerns)."""
    return g.get("refusal")


def wants_json() -> bool:
    """Does the request come from a script that reads JSON?"""
    return (request.path.startswith("/api/")
            or request.is_json  # it sent JSON: it reads JSON
            or request.headers.get("X-Requested-With") == "fetch"
            or carries_page_token(request.headers)
            or request.accept_mimetypes.best == "application/json")


def answer_page(err: Refused) -> Any:
    """Settle ``err`` and answer the request: JSON, the view's page or the error page."""
    answer = settle(err)
    if wants_json():
        return answer.body(), answer.status
    plan = g.get("refusal_plan")
    if plan is not None and plan.page is not None:
        return plan.page(answer.message, answer.status)
    return render_template("errors/error.html", code=answer.status,
                           message=answer.message), answer.status


def answer_socket(err: Exception) -> dict[str, Any]:
    """The acknowledgement of a refused Socket.IO event (its transaction already settled by
    ``portal.database.transactional``); any other error goes on up."""
    if not isinstance(err, Refused):
        raise err
    return {"ok": False, **answer_for(err).body()}


def init_app(app: Flask, socketio: SocketIO) -> None:
    """Register the page/JSON handler and the Socket.IO handler of refusals."""
    app.register_error_handler(Refused, answer_page)
    socketio.on_error_default(answer_socket)
