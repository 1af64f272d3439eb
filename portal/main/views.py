"""Home page, language switch and health check."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from portal.web import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Any:
    return render_template("main/index.html", user=current_user)


@bp.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@bp.post("/lang/<code>")
def set_language(code: str) -> Any:
    from flask import current_app

    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))
