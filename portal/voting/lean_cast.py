"""The lean path of ballot casts: ``POST /api/voting/<id>/ballots`` answered without Flask's
request machinery when everything about it is in order; any other request, and any cast that
is not accepted, goes on to the full Flask app unchanged.

Why: a cast is the election's hottest request, and on the 2-core machine of ``bench/`` the
Flask request around it (request context, Flask-Login's user load, the ORM, the session,
CSRF, signals, the commit) cost several times the CPU of its proof checks
(``bench/results.md``). Here the same checks run as plain function calls on the WSGI environ,
with two statements on one connection: the person, the referendum and the voter's standing in
one, and the board write (``record_on_board``) in the other.

It relies on no framework's private workings. The voter is identified by the voting page's
cast token (``portal.voting.cast_token``: voter, session epoch, session, referendum, expiry,
signed by the app's secret under a salt of its own), sent in ``X-Cast-Token``, and by the
session cookie it was issued to, opened through Flask's public session interface. The token
also stands for the CSRF check: a cross-site request cannot carry it, since it is not a cookie
and only the portal's own script can put it in a header (the reasoning in full is in
``cast_token`` and SECURITY.md). What it checks, in order:

- the token: genuine, for this referendum, not expired, issued to this request's session;
- the session's idle and absolute limits (``portal.security.session_current``, the app's own);
- the user: active, at the token's session epoch, that session not signed out
  (``portal.accounts.models.session_signs_in``, as the app's user loader), a voter;
- the per-voter ballot limit (``BallotCounts``, counted once: a request handed on carries the
  count, ``ballot_limits.COUNTED``);
- the referendum, the window and the voter's standing (``check_standing``), the ballot's
  proofs (``verify_ballot``) and the board write (``record_on_board``).

Anything it does not accept — a refusal, a missing or stale token or cookie, an unusual
request, the election context not parsed yet in this process, the live push due, a database
error before the commit — goes to the full app with the body it read, which answers as it
always did (it accepts the same token, or the session and CSRF token): refusals are audited,
translated and counted there. This path only ever *accepts*; the tests hold it to answering
exactly as the full app would (``tests/portal/voting/test_lean_cast.py``), and the permission,
CSRF and fault tests run through it.
"""
from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, select, true
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import MapAdapter
from werkzeug.wrappers import Request, Response

from portal import metrics
from portal.accounts.models import User, session_ended_column, session_signs_in
from portal.database import writing
from portal.logging import REQUEST_ID_HEADER, log_request, new_request_id, valid_request_id
from portal.security import security_headers, session_current
from portal.voting.api import CAST_ENDPOINT, RECEIPT_ENDPOINT, receipt_body, receipt_url_values
from portal.voting.ballot_limits import COUNTED, BallotCounts
from portal.voting.cast_token import CAST_TOKEN_ENVIRON, CastGrant, read_cast_token
from portal.voting.live import push_due
from referendum_core.clock import wall_time
from referendum_core.crypto import CryptoError, verify_ballot
from referendum_core.db import DriverStatement
from referendum_core.voting.board import record_on_board
from referendum_core.voting.casting import (
    MAX_BALLOT_BYTES,
    CastReceipt,
    cached_election_context,
    parse_ballot,
    stored_ballot,
)
from referendum_core.voting.eligibility import VoterStanding, check_standing, standing_columns
from referendum_core.voting.exceptions import VotingError
from referendum_core.voting.models import Referendum
from referendum_core.voting.rules import rfc3339

path_log = logging.getLogger(__name__)

_PATH = re.compile(r"/api/voting/([0-9]{1,19})/ballots")
_MAX_ID = 2**63 - 1  # portal.security.DatabaseIdConverter
_JSON = "application/json"

# The person, the referendum and the person's standing in it: one statement.
_LOAD = (select(User.is_active, User.session_epoch, User.person_ref, session_ended_column(),
                Referendum.case_id, Referendum.stage, Referendum.online_opens_at,
                Referendum.online_closes_at, Referendum.election_hash,
                *(column.label(name) for column, name in zip(
                    standing_columns(Referendum.case_id, Referendum.id, User.person_ref),
                    ("listed", "voted_in_person", "alias"), strict=True)))
         .select_from(User).join(Referendum, true())  # one row of each: no join condition
         .where(User.id == bindparam("user_id"), Referendum.id == bindparam("referendum_id")))

StartResponse = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class _Target:
    """The referendum columns ``check_standing`` reads."""

    id: int
    stage: str
    online_opens_at: datetime | None
    online_closes_at: datetime | None

    @property
    def has_online_voting(self) -> bool:
        return self.online_opens_at is not None  # as Referendum.has_online_voting


class LeanCast:
    """WSGI middleware in front of the portal app (``create_app`` installs it inside ProxyFix,
    so it sees the real address and scheme). ``LEAN_CAST = False`` turns it off."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._driver_load: DriverStatement | None = None
        self._adapters: dict[str, MapAdapter] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        if (environ.get("REQUEST_METHOD") == "POST" and CAST_TOKEN_ENVIRON in environ
                and self.app.config.get("LEAN_CAST")):
            match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                response = self._accept(environ, int(match.group(1)))
                if response is not None:
                    return response(environ, start_response)
        return self.wsgi_app(environ, start_response)

    # ------------------------------------------------------------------ the checks, in order

    def _accept(self, environ: dict[str, Any], referendum_id: int) -> Response | None:
        """The accepted cast's response, or ``None``: the full app answers (with the body)."""
        started = time.perf_counter()
        try:
            checked = self._check_and_store(environ, referendum_id)
        except SQLAlchemyError:
            # The full app meets the same database and answers as it does (a replay refusal,
            # if this commit did land: the voting page then finds the ballot on the board).
            path_log.warning("lean cast path: database error, the full app answers",
                             exc_info=True)
            return None
        except Exception:  # a fault here must not cost the voter the cast: the full app answers
            path_log.exception("lean cast path failed before its commit; the full app answers")
            return None
        if checked is None:
            return None
        request, session, receipt = checked
        return self._respond(environ, request, session, referendum_id, receipt, started)

    def _check_and_store(self, environ: dict[str, Any], referendum_id: int
                         ) -> tuple[Request, Any, CastReceipt] | None:
        """Every check, then the board write, committed; ``None`` when the full app answers."""
        app, config = self.app, self.app.config
        if (referendum_id > _MAX_ID or environ.get("QUERY_STRING")
                or environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() != _JSON
                or push_due(app, referendum_id)):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 < length <= min(MAX_BALLOT_BYTES, config.get("MAX_CONTENT_LENGTH") or length):
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # whoever answers next reads it again
        if len(body) != length:
            return None
        request = Request(environ)
        session = app.session_interface.open_session(app, request)  # type: ignore[arg-type]
        if session is None:
            return None
        # Session limits and the token's expiry count real time, as in the app's own check (a
        # demo clock may differ).
        real_now = wall_time(app.extensions["clock"]).timestamp()
        grant = read_cast_token(app.secret_key, environ[CAST_TOKEN_ENVIRON],  # type: ignore[arg-type]
                                referendum_id=referendum_id, session=session, now=real_now)
        if grant is None:
            return None
        session.accessed = True  # read, as through Flask's proxy: the answer varies by Cookie
        if not session_current(session, real_now, config,
                               app.permanent_session_lifetime.total_seconds()):
            return None
        now = app.extensions["clock"].now()
        with writing(), self._transaction() as (connection, commit, on_driver):
            receipt = self._cast(environ, connection, grant, now, body, on_driver)
            if receipt is None:
                return None
            commit()
        return request, session, receipt

    def _load(self, connection: Connection, params: dict[str, Any], on_driver: bool) -> Any:
        """The ``_LOAD`` row: on the driver's cursor in autocommit (``DriverStatement``)."""
        if not on_driver:
            return connection.execute(_LOAD, params).first()
        if self._driver_load is None or self._driver_load.dialect is not connection.dialect:
            self._driver_load = DriverStatement(_LOAD, connection.dialect)
        return self._driver_load.first(connection, params)

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Connection, Callable[[], None], bool]]:
        """A connection for the cast and how to commit it; leaving without committing rolls
        back. On PostgreSQL in autocommit: each of the two statements is its own transaction
        (no BEGIN and COMMIT round trips), and the board write is one atomic statement
        (``record_on_board``), stored whole or not at all; what a refused write claimed it
        gives back itself. Both statements then run on the driver's cursor (the third value
        yielded: ``referendum_core.db.DriverStatement``). Otherwise (SQLite, or sessions bound to one connection as in the
        tests) one transaction of the app's own sessions, begun IMMEDIATE on SQLite."""
        database = self.app.extensions["portal_db"]
        bind = database.sessionmaker.kw.get("bind")
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                yield connection, connection.commit, True
            return
        with database.new_session() as session:
            yield session.connection(), session.commit, False

    def _cast(self, environ: dict[str, Any], connection: Connection, grant: CastGrant,
              now: datetime, body: bytes, on_driver: bool) -> CastReceipt | None:
        """``cast_ballot``'s steps, for a voter whose ballot is accepted; ``None`` otherwise,
        with nothing left written (the caller rolls back, or in autocommit the refused board
        write gave back what it claimed)."""
        referendum_id = grant.referendum_id
        row = self._load(connection, {"user_id": grant.user_id, "referendum_id": referendum_id,
                                      "sid_hash": grant.sid_hash}, on_driver)
        if (row is None or not session_signs_in(row.is_active, row.session_epoch,
                                                row.session_ended, grant.session_epoch)
                or not row.person_ref):
            return None  # signed out (here or everywhere), unknown referendum, or not a voter
        config = self.app.config
        if config.get("RATELIMIT_ENABLED"):
            counts: BallotCounts = self.app.extensions["voting_ballot_counts"]
            wait = counts.hit(f"voter:{grant.user_id}", config["VOTER_BALLOT_RATE_LIMIT"])
            environ[COUNTED] = wait  # from here on, the full app does not count it again
            if wait is not None:
                return None
        context = cached_election_context(referendum_id, row.election_hash)
        if context is None:  # the full app parses the manifest and caches it
            return None
        target = _Target(referendum_id, row.stage, row.online_opens_at, row.online_closes_at)
        standing = VoterStanding(bool(row.listed), bool(row.voted_in_person), row.alias)
        try:
            alias = check_standing(now, target, row.person_ref, standing)
            if alias is None:  # no alias yet: the full app makes it
                return None
            ballot = parse_ballot(body.decode("utf-8", "replace"))
            tracker = verify_ballot(context, alias, ballot)
            cast_at = now.replace(microsecond=0)
            placed = record_on_board(
                connection, [choice["alpha"] for choice in ballot["choices"]],
                {"referendum_id": referendum_id, "alias": alias, "tracker": tracker,
                 "ballot": stored_ballot(ballot), "cast_at": cast_at}, on_driver=on_driver)
        except (VotingError, CryptoError):
            return None
        if placed is None:
            return None
        seq, head, _online_voters = placed
        return CastReceipt(seq=seq, tracker=tracker, cast_at=rfc3339(cast_at), board_head=head)

    def _respond(self, environ: dict[str, Any], request: Request, session: Any,
                 referendum_id: int, receipt: CastReceipt, started: float) -> Response:
        """The full app's 201 answer: the receipt, the session cookie when it changed, the
        security headers, the request id; then the metrics and the request's log line."""
        app = self.app
        script_name = environ.get("SCRIPT_NAME") or "/"
        adapter = self._adapters.get(script_name)
        if adapter is None:  # (building a URL leaves the adapter as it was: kept per mount)
            adapter = self._adapters[script_name] = app.url_map.bind("", script_name=script_name)
        url = adapter.build(RECEIPT_ENDPOINT, receipt_url_values(referendum_id, receipt))
        response = app.json.response(receipt_body(receipt, url))
        response.status_code = 201
        # The app's security headers (``apply_security_headers``); the answer has none yet.
        response.headers.extend(security_headers(
            response.mimetype, production=app.config["ENV"] == "production"))
        app.session_interface.save_session(app, session, response)  # type: ignore[arg-type]
        request_id = valid_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        metrics.ballot_accepted()
        metrics.lean_cast_answered()  # tests and operators see which path answered
        seconds = time.perf_counter() - started
        metrics.observe_request(CAST_ENDPOINT, "POST", 201, seconds)
        log_request("POST", environ.get("PATH_INFO", ""), CAST_ENDPOINT, 201, seconds,
                    request_id=request_id)
        return response
