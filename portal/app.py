"""The application factory."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Flask, abort, g, redirect, render_template, request, session, url_for
from flask_babel import format_date, format_time, gettext
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.accounts.labels import ROLE_LABELS
from portal.accounts.models import session_signs_in, signed_in_user
from portal.accounts.services import Keys
from portal.articles import article_text
from portal.celery_app import init_celery
from portal.config import PROJECT_ROOT, Config, from_env
from portal.database import Database, get_session, init_sealing, rollback
from portal.dates import day_text, moment_text
from portal.extensions import (
    babel,
    csrf,
    limiter,
    login_manager,
    select_locale,
    select_timezone,
    socketio,
)
from portal.navigation import MAIN_NAV, TASKS, links_for
from portal.ops.runtime import socketio_async_mode
from portal.permissions import Permission, has_permission
from portal.refusal_texts import http_refusal, station_label
from portal.refusals import wants_json
from portal.security import (
    BoundedJSONProvider,
    DatabaseIdConverter,
    apply_security_headers,
    session_current,
    session_id_hash,
)
from portal.voting.question import question_versions
from portal.work import counts_by_endpoint
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.clock import (
    Clock,
    SystemClock,
    demo_clock,
    demo_referendum_day,
    to_riga,
    wall_time,
)

log = logging.getLogger(__name__)


def create_app(config: Config | dict[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build a portal app. ``config`` is a ``Config`` or overrides on top of the environment."""
    if config is None:
        cfg = from_env()
    elif isinstance(config, dict):
        cfg = from_env(**config)
    else:
        cfg = config
    cfg.validate()

    app = Flask(
        "portal",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "portal" / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.url_map.converters["int"] = DatabaseIdConverter
    app.json = BoundedJSONProvider(app)
    app.config.update(cfg.as_flask())
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "portal" / "translations")
    app.config["RATELIMIT_STORAGE_URI"] = cfg.RATELIMIT_STORAGE_URI
    from portal.initiatives.lean_sign import LeanSign
    from portal.voting.lean_cast import LeanCast

    # Inside ProxyFix: the lean cast and signing paths see the real address and scheme, as
    # Flask does.
    app.wsgi_app = LeanCast(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = LeanSign(app, app.wsgi_app)  # type: ignore[method-assign]
    if cfg.is_production:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    if clock is None and cfg.DEMO_CLOCK:
        clock = demo_clock(cfg.DEMO_CLOCK)
    app.extensions["clock"] = clock or SystemClock()
    app.extensions["calendar"] = WorkingDayCalendar()
    app.extensions["keys"] = Keys(cfg.DATA_KEY)
    init_sealing(app, cfg.DATA_KEY)
    Database().init_app(app)
    from portal.messages.setup import init_messaging

    init_messaging(app)
    # The SocketIO object is shared by every app of the process: forget the Redis queue manager
    # an earlier app made, or an app without REDIS_URL would publish to that one.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(app, message_queue=cfg.REDIS_URL, channel=cfg.SOCKETIO_CHANNEL,
                      async_mode=socketio_async_mode(), manage_session=False)
    from portal.messages.events import register_handlers

    register_handlers(socketio)
    from portal.voting.events import register_handlers as register_voting_handlers

    register_voting_handlers(socketio)
    from portal.initiatives.events import register_handlers as register_initiative_handlers

    register_initiative_handlers(socketio)
    from portal import refusals

    refusals.init_app(app, socketio)

    from portal.observation.views import init_app as init_observation

    init_observation(app)
    init_celery(app)
    _register_tasks()
    from portal.checkpoints import init_checkpoints

    init_checkpoints(app)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    from portal import templating

    templating.init_app(app)

    from portal.accounts.views import bp as accounts_bp
    from portal.admin.views import bp as admin_bp
    from portal.audit.views import bp as audit_bp
    from portal.cases.api import bp as cases_api_bp
    from portal.cases.dashboard import bp as case_dashboard_bp
    from portal.cases.views import bp as cases_bp
    from portal.initiatives.views import bp as initiatives_bp
    from portal.main.views import bp as main_bp
    from portal.messages.views import bp as messages_bp
    from portal.observation.views import bp as observation_bp
    from portal.observers.views import bp as observers_bp
    from portal.ops.views import bp as ops_bp
    from portal.register.views import bp as register_bp
    from portal.voting.api import bp as voting_api_bp
    from portal.voting.officials import bp as voting_admin_bp
    from portal.voting.views import bp as voting_bp

    for blueprint in (main_bp, accounts_bp, audit_bp, admin_bp, messages_bp, ops_bp, cases_bp,
                      case_dashboard_bp, cases_api_bp, register_bp, initiatives_bp, voting_bp,
                      voting_admin_bp, voting_api_bp, observers_bp, observation_bp):
        app.register_blueprint(blueprint)
    # The case API authenticates by bearer token only (no cookies), so CSRF does not apply.
    csrf.exempt(cases_api_bp)

    _register_hooks(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    return app


def _register_tasks() -> None:
    """Import every module that declares Celery tasks: each registers its tasks and its beat
    entries itself (the Celery app knows no area), as the blueprints below do their routes."""
    import portal.accounts.tasks
    import portal.cases.tasks
    import portal.checkpoints
    import portal.initiatives.tasks
    import portal.messages.tasks
    import portal.observation.tasks
    import portal.observers.tasks
    import portal.ops.tasks
    import portal.retention
    import portal.voting.tasks  # noqa: F401




@login_manager.user_loader
def _load_user(token: str) -> Any:
    """The user of a session that is theirs now: same epoch (not signed out everywhere), a
    session id, and that session not signed out (a copied cookie ends with the original)."""
    try:
        user_id, epoch = (int(part) for part in token.split(":", 1))
    except ValueError:
        return None
    sid_hash = session_id_hash(session)
    if sid_hash is None:
        return None
    row = get_session().execute(signed_in_user(), {"user_id": user_id,
                                                 "sid_hash": sid_hash}).first()
    if row is None:
        return None
    user, ended = row
    return user if session_signs_in(user.is_active, user.session_epoch, ended, epoch) else None


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_bytes() -> None:
        # No text field anywhere may hold NUL (PostgreSQL refuses it; nothing legitimate sends it).
        if "\x00" in request.path or any("\x00" in k or "\x00" in v
                                            for k, v in request.args.items(multi=True)):
            abort(400)

    @app.before_request
    def _session_expiry() -> Any:
        g.locale = select_locale()
        if request.endpoint in ("static", "main.healthz"):
            return None
        if not current_user.is_authenticated:
            return None
        clock: Clock = app.extensions["clock"]
        # Idle and absolute limits are the person's real time, also when a demo moves the clock.
        if not session_current(session, wall_time(clock).timestamp(), app.config,
                               app.permanent_session_lifetime.total_seconds()):
            logout_user()
            session.clear()
            session["flash_expired"] = True
            if request.path.startswith("/api/"):
                return None
            if _script_wants_json():
                return _sign_in_required()
            return redirect(url_for("accounts.login", next=request.full_path
                                    if request.method == "GET" else None))
        return None

    @app.after_request
    def _headers(response: Any) -> Any:
        return apply_security_headers(response, production=app.config["ENV"] == "production")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


def _script_wants_json() -> bool:
    """A script's request (JSON preferred or sent, ``X-Requested-With: fetch``): the rule of
    ``portal.refusals.wants_json``."""
    from portal.refusals import wants_json

    return wants_json()


def _sign_in_required() -> tuple[dict[str, Any], int]:
    """A script's request without a signed-in session (signed out, expired, or ended by
    someone else, e.g. when an observer's accreditation is revoked): a JSON 401 with its code,
    not the sign-in page (the observer app keeps what waits on the phone and asks to sign in)."""
    return {"error": gettext("Your session has ended. Please sign in again to continue."),
            "code": "sign_in_required", "status": 401}, 401


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    """``login_required`` without a signed-in session: JSON 401 to a script, else the sign-in
    page with the way back (Flask-Login's own answer)."""
    from flask_login.utils import login_url

    if _script_wants_json():
        return _sign_in_required()
    return redirect(login_url(login_manager.login_view, next_url=request.url))


def _register_error_handlers(app: Flask) -> None:
    def render_error(code: int, detail: str | None = None) -> Any:
        as_json = wants_json()
        key, message = http_refusal(code, json=as_json,
                                    limit=app.config.get("MAX_CONTENT_LENGTH"))
        message = detail or message
        if as_json:
            return {"error": message, "code": key, "status": code}, code
        # No work counts on an error page: its request's transaction may have failed.
        return render_template("errors/error.html", code=code, message=message,
                               is_error_page=True), code

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> Any:
        return render_error(400, gettext(
            "The form has expired or was sent from elsewhere. Reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        code = err.code or 500
        if code == 401 and _script_wants_json() and not request.path.startswith("/api/"):
            return _sign_in_required()
        if code == 401 and not _wants_json():
            return redirect(url_for("accounts.login", next=request.full_path
                                    if request.method == "GET" else None))
        return render_error(code)

    @app.errorhandler(DataError)
    def _data_error(err: DataError) -> Any:
        # A value the database cannot hold (a NUL byte, a number out of range): bad input,
        # answered as such; the request's transaction is rolled back by the 4xx status.
        log.info("refused input the database cannot store on %s %s", request.method, request.path)
        rollback()
        return render_error(400)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)


def _register_template_helpers(app: Flask) -> None:
    # One style for every date and moment on every page (STYLE: dates in one style):
    # ``|day`` 08.12.2026, ``|riga`` 08.12.2026 11:54 in Riga time. The old ``fmt`` argument is
    # accepted and ignored so that no template can bring a second style back.
    @app.template_filter("signed_time")
    def _signed_time(value: str) -> str:
        """A time as signed (RFC 3339 UTC, e.g. in a checkpoint) shown as every page shows
        times: Riga time, the portal's style; the exact signed text stays in ``datetime``."""
        try:
            return moment_text(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except (AttributeError, ValueError):
            return value

    @app.template_filter("deadline")
    def _deadline(value: datetime | None) -> str:
        """A deadline as a person reads it: the end of a day in Riga (midnight, or the day's
        last instant, as day ends are stored) reads "09.12.2026 24:00", as the law counts days,
        not "10.12.2026 00:00" or "09.12.2026 23:59"."""
        if not value:
            return ""
        local = to_riga(value)
        if local.time() == time.min:
            return f"{day_text(local.date() - timedelta(days=1))} 24:00"
        if local.time() == time.max:  # the last instant of the day, as day ends are stored
            return f"{day_text(local.date())} 24:00"
        return moment_text(value)

    @app.template_filter("riga")
    def _riga(value: datetime | date | None, fmt: str = "") -> str:
        if not value:
            return ""
        if not isinstance(value, datetime):
            return day_text(value)
        return moment_text(value)

    @app.template_filter("article")
    def _article(value: str | None) -> str:
        return article_text(value or "", g.get("locale", "lv"))

    @app.template_filter("day")
    def _day(value: date | None) -> str:
        return day_text(value) if value else ""

    @app.template_filter("station")
    def _station(station_id: int | str | None) -> str:
        """A polling station as every page names it (``1. Ādažu vidusskola``), never ``#id``."""
        return station_label(station_id)

    @app.template_filter("riga_long")
    def _riga_long(value: datetime) -> str:
        """A weekday, date and time to the minute (the demo banner's simulated moment)."""
        return f"{format_date(value, 'full')}, {format_time(value, 'HH:mm')}"

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "Permission": Permission,
            "question_versions": question_versions,
            "can": lambda perm, **scope: _can(perm, **scope),
            "current_locale": g.get("locale", "lv"),
            "role_names": ROLE_LABELS,
            "main_nav": links_for(current_user, MAIN_NAV),
            "tasks": links_for(current_user, TASKS),
            "demo_now": app.extensions["clock"].now() if app.config.get("DEMO_CLOCK") else None,
            # The banner offers only the jump away from the day now simulated.
            "demo_on_referendum_day": _demo_on_referendum_day,
            # Called by the page layout only (fragments skip the queries): portal.work.
            "work_counts": counts_by_endpoint,
        }

    def _demo_on_referendum_day() -> bool:
        portal_clock = app.extensions["clock"]
        return to_riga(portal_clock.now()).date() == demo_referendum_day(
            wall_time(portal_clock))

    def _can(perm: Permission, municipality_id: int | None = None, case_id: int | None = None) -> bool:
        from portal.permissions import Scope

        return has_permission(current_user, perm, Scope(municipality_id, case_id))
