"""Home page, language switch and health check."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from portal.permissions import Permission, require
from portal.web import clock, safe_next
from portal.work import items_for_home
from referendum_core.clock import DEMO_ONLINE, DEMO_POLLING, OffsetClock, demo_now, to_riga

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Any:
    return render_template("main/index.html", user=current_user, work=items_for_home(),
                           now=clock().now())


@bp.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@bp.post("/lang/<code>")
def set_language(code: str) -> Any:
    from flask import current_app

    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))


@bp.post("/demo/clock")
def demo_clock_jump() -> Any:
    """Move the demo clock to this week's online-voting Tuesday or to its referendum day (demo
    only: without a demo clock there is nothing here). Only an election official moves it
    (``Permission.MOVE_DEMO_CLOCK``): 401 signed out, 403 for a voter or an observer."""
    from flask import current_app

    portal_clock = clock()
    phase = request.form.get("phase")
    if not current_app.config.get("DEMO_CLOCK") or not isinstance(portal_clock, OffsetClock) \
            or phase not in (DEMO_ONLINE, DEMO_POLLING):
        abort(404)
    require(Permission.MOVE_DEMO_CLOCK)
    # From the wall clock, as the demo clock started: back on Tuesday it is the real time of
    # day again, so nothing the seed made (relative to real time) lies in the future.
    # Already on that day and later than the jump would set it: the clock stays (a jump never
    # turns it back within the day, so nothing done since lies in the future).
    target, shown = demo_now(portal_clock.real_now(), phase), portal_clock.now()
    if to_riga(shown).date() != to_riga(target).date() or shown < target:
        portal_clock.jump_to(target)
    flash(gettext("The demo clock now shows online voting (Tuesday), for everyone using this "
                  "demo.") if phase == DEMO_ONLINE
          else gettext("The demo clock now shows referendum day (Saturday), polling stations "
                       "open, for everyone using this demo."), "success")
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))
