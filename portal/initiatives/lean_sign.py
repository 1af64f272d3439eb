"""The lean signing path: an online initiative signature sent by the initiative page's script
(``POST /initiatives/<id>/sign`` with ``X-Sign-Token``) taken without Flask's request
machinery when everything about it is in order; any other request, and any signature that is
refused, goes on to the full Flask app unchanged.

Why: during a collection the signature is the portal's hottest write, and about half of its
CPU was Flask's request around the view (the session cookie, Flask-Login, CSRF, flash, the
headers; ``bench/results.md``). Here the same checks run as plain calls on the WSGI environ,
and the signature itself is the same domain service the form's view calls
(``referendum_core.signatures.sign_online``: the register check of Art. 7, once per person of
Art. 11(1), the board entry, the audit entry), in one transaction of the app's own sessions.

The voter is identified by the page's signing token (``portal.initiatives.sign_token``) and
by the session cookie it was issued to, opened through Flask's public session interface; the
token also stands for the CSRF check (``portal.page_token``, SECURITY.md). What it checks, in
order:

- the token: genuine, for this initiative, not expired, issued to this request's session;
- the session's idle and absolute limits (``portal.security.session_current``, the app's own);
- the user, in one statement: active, at the token's session epoch, that session not signed
  out (``portal.accounts.models.session_signs_in``, as the app's user loader), a voter;
- the initiative: public and the voter may sign it (``access_initiative``, as the view);
- then ``sign_online``, committed.

Anything it does not take — a refusal of the domain (rolled back, nothing kept), a missing or
stale token or cookie, an unusual request, a database error before the commit — goes to the
full app with the body it read, which answers as it always did (it accepts the same token, or
the session and the form's CSRF token): refusals are audited and answered there by the one
refusal handler (``portal.refusals``: JSON to the script). This path only ever *takes* a
signature; ``tests/portal/initiatives/test_lean_sign.py`` holds it to the same effects as the
full app.
"""
from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, g
from flask_babel import force_locale, gettext
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from portal import metrics
from portal.accounts.models import session_signs_in, signed_in_user
from portal.database import writing
from portal.extensions import locale_of
from portal.initiatives.access import access_initiative
from portal.initiatives.sign_token import SIGN_TOKEN_ENVIRON, read_sign_token
from portal.logging import REQUEST_ID_HEADER, log_request, new_request_id, valid_request_id
from portal.permissions import Permission
from portal.security import apply_security_headers, session_current
from portal.web import authentication_of, flash_into
from referendum_core.audit import AuditContext
from referendum_core.clock import wall_time
from referendum_core.refusals import Refused
from referendum_core.signature_board import TAG_KEY_PURPOSE
from referendum_core.signatures import sign_online

path_log = logging.getLogger(__name__)

_PATH = re.compile(r"/initiatives/([0-9]{1,19})/sign")
_MAX_ID = 2**63 - 1  # portal.security.DatabaseIdConverter
_MAX_BODY = 4096  # the script sends an empty body; a form's is a CSRF token
SIGN_ENDPOINT = "initiatives.sign"
SHOW_ENDPOINT = "initiatives.show"

StartResponse = Callable[..., Any]


def signed_message() -> str:
    """The thank-you the page shows after a signature is taken, by either path."""
    return gettext("Thank you. Your signature is recorded.")


def signed_body(location: str) -> dict[str, Any]:
    """The answer to the script for a signature taken, by either path: where the page now
    shows the signature and its receipt."""
    return {"signed": True, "status": 201, "location": location}


class LeanSign:
    """WSGI middleware in front of the portal app (``create_app`` installs it inside ProxyFix,
    so it sees the real address and scheme). ``LEAN_SIGN = False`` turns it off."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        if (environ.get("REQUEST_METHOD") == "POST" and SIGN_TOKEN_ENVIRON in environ
                and self.app.config.get("LEAN_SIGN")):
            match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                response = self._accept(environ, int(match.group(1)))
                if response is not None:
                    return response(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _accept(self, environ: dict[str, Any], initiative_id: int) -> Response | None:
        """The taken signature's response, or ``None``: the full app answers (with the body)."""
        started = time.perf_counter()
        try:
            checked = self._check_and_sign(environ, initiative_id)
        except SQLAlchemyError:
            path_log.warning("lean signing path: database error, the full app answers",
                             exc_info=True)
            return None
        except Exception:  # a fault here must not cost the voter the signature
            path_log.exception("lean signing path failed before its commit; the full app "
                               "answers")
            return None
        if checked is None:
            return None
        request, session = checked
        return self._respond(environ, request, session, initiative_id, started)

    def _check_and_sign(self, environ: dict[str, Any], initiative_id: int
                        ) -> tuple[Request, Any] | None:
        """Every check, then the signature, committed; ``None`` when the full app answers."""
        app, config = self.app, self.app.config
        if initiative_id > _MAX_ID or environ.get("QUERY_STRING"):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "0")
        except ValueError:
            return None
        if not 0 <= length <= _MAX_BODY:
            return None
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # whoever answers next reads it again
        if len(body) != length:
            return None
        request = Request(environ)
        session = app.session_interface.open_session(app, request)  # type: ignore[arg-type]
        if session is None:
            return None
        # Session limits and the token's expiry count real time, as in the app's own check.
        clock = app.extensions["clock"]
        real_now = wall_time(clock).timestamp()
        grant = read_sign_token(app.secret_key, environ[SIGN_TOKEN_ENVIRON],  # type: ignore[arg-type]
                                initiative_id=initiative_id, session=session, now=real_now)
        if grant is None:
            return None
        session.accessed = True  # read, as through Flask's proxy: the answer varies by Cookie
        if not session_current(session, real_now, config,
                               app.permanent_session_lifetime.total_seconds()):
            return None
        database = app.extensions["portal_db"]
        # The app context gives the sealed columns this app's key, as in a request.
        with app.app_context(), writing(), database.new_session() as db:
            row = db.execute(signed_in_user(), {"user_id": grant.user_id,
                                     "sid_hash": grant.sid_hash}).first()
            if row is None:
                return None
            user, ended = row
            if (not session_signs_in(user.is_active, user.session_epoch, ended,
                                     grant.session_epoch) or not user.person_ref):
                return None  # signed out (here or everywhere), or not a voter
            try:
                initiative = access_initiative(db, user, initiative_id,
                                               Permission.SIGN_INITIATIVE)
                sign_online(db, clock, user, initiative, user.person_ref,
                            tag_key=app.extensions["keys"].derived_key(TAG_KEY_PURPOSE),
                            context=AuditContext(ip=request.remote_addr),
                            authentication=authentication_of(session))
            except (HTTPException, Refused):
                db.rollback()
                return None  # the full app answers: the same refusal, audited and translated
            db.commit()
            # The page the script goes to next says thank you, as after the form's post.
            g.locale = locale_of(config, session, user)
            with force_locale(g.locale):
                flash_into(session, "success", signed_message())
        return request, session

    def _respond(self, environ: dict[str, Any], request: Request, session: Any,
                 initiative_id: int, started: float) -> Response:
        """The full app's 201 answer to the script: where to look, the session cookie when it
        changed, the security headers, the request id; then the metrics and the log line."""
        app = self.app
        adapter = app.url_map.bind("", script_name=environ.get("SCRIPT_NAME") or "/")
        location = adapter.build(SHOW_ENDPOINT, {"initiative_id": initiative_id})
        response = app.json.response(signed_body(location))
        response.status_code = 201
        app.session_interface.save_session(app, session, response)  # type: ignore[arg-type]
        apply_security_headers(response, production=app.config["ENV"] == "production")
        request_id = valid_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        metrics.lean_sign_answered()
        seconds = time.perf_counter() - started
        metrics.observe_request(SIGN_ENDPOINT, "POST", 201, seconds)
        log_request("POST", environ.get("PATH_INFO", ""), SIGN_ENDPOINT, 201, seconds,
                    request_id=request_id)
        return response
