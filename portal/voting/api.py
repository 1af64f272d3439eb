"""JSON endpoints the voting page's script calls. Under ``/api/`` so errors come back as JSON;
CSRF-protected (the script sends the token in ``X-CSRFToken``; a cast may instead carry the
voting page's cast token, ``portal.voting.cast_token``). The server never sees a choice: only
encrypted ballots, and openings of ballots the voter chose to audit (never cast)."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask_babel import gettext
from flask_login import current_user

from portal import metrics
from portal.database import on_commit
from portal.extensions import csrf
from portal.page_token import page_token_or_csrf
from portal.permissions import Permission
from portal.refusals import on_refusal
from portal.voting.access import (
    access_referendum,
    access_referendum_to_cast,
    can,
    get_referendum,
)
from portal.voting.ballot_limits import COUNTED, NOT_COUNTED, BallotCounts
from portal.voting.cast_token import CAST_TOKEN_HEADER, read_cast_token
from portal.voting.live import push_live
from portal.voting.views import TRACKER
from portal.web import audit_context, clock, db
from referendum_core.voting import (
    alias_for,
    cast_ballot,
    check_may_vote_online,
    live_turnout,
    record_audited_ballot,
)
from referendum_core.voting.board import find_on_board
from referendum_core.voting.casting import (
    MAX_BALLOT_BYTES,
    CastReceipt,
    audit_refused_ballot,
    receipt_of,
)
from referendum_core.voting.exceptions import BallotRefused, VotingError
from referendum_core.voting.models import Referendum
from referendum_core.voting.second_device import entries_by_tracker


def _ballot_limited(view: Callable[..., Any]) -> Callable[..., Any]:
    """At most ``VOTER_BALLOT_RATE_LIMIT`` casts and audits together per signed-in voter
    (``portal.voting.ballot_limits``); beyond it 429 with ``Retry-After``, nothing checked."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_app.config.get("RATELIMIT_ENABLED"):
            # The lean cast path counted this ballot already when it handed the request on.
            wait = request.environ.pop(COUNTED, NOT_COUNTED)
            if wait is NOT_COUNTED:
                counts: BallotCounts = current_app.extensions["voting_ballot_counts"]
                wait = counts.hit(f"voter:{current_user.id}",
                                  current_app.config["VOTER_BALLOT_RATE_LIMIT"])
            if wait is not None:
                metrics.ballot_refused("rate_limited")
                response = jsonify({"error": gettext(
                    "Too many attempts. Wait a little and try again."), "status": 429})
                response.headers["Retry-After"] = str(wait)
                return response, 429
        return view(*args, **kwargs)

    return wrapped


bp = Blueprint("voting_api", __name__, url_prefix="/api/voting")
CAST_ENDPOINT = "voting_api.cast"


def _cast_token_or_csrf() -> None:
    """The cast's CSRF check: a valid cast token stands for the CSRF token
    (``portal.page_token.page_token_or_csrf``)."""
    if request.endpoint == CAST_ENDPOINT and request.method == "POST":
        page_token_or_csrf(read_cast_token, CAST_TOKEN_HEADER, "referendum_id")


@bp.record_once
def _set_up(state: Any) -> None:
    state.app.extensions.setdefault("voting_ballot_counts", BallotCounts())
    # An app-wide hook, so that it runs where Flask-WTF's own check would: before the session
    # expiry hook (registered later by the factory), which a stale session answers with 401.
    state.app.before_request(_cast_token_or_csrf)


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Like ``login_required``, but a missing or expired session answers 401 JSON (the portal's
    error handler for ``/api/``) instead of redirecting a script to the sign-in page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    return wrapped


def _body(referendum: Referendum, action: str) -> Any:
    """The ballot as sent; one too large to read is refused (and audited) unread."""
    if request.content_length is None or request.content_length <= MAX_BALLOT_BYTES:
        data = request.get_data(cache=False, as_text=True)
        if len(data) <= MAX_BALLOT_BYTES:
            return data
    refusal = BallotRefused("too_large", "", "the ballot is too large")
    audit_refused_ballot(db(), clock(), current_user, referendum, refusal, audit_context(),
                         action)
    raise refusal


@bp.get("/<int:referendum_id>/election")
@signed_in
def election(referendum_id: int) -> Any:
    """What the browser needs to encrypt: the frozen manifest, its hash and the voter's alias."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.VOTE)
    on_refusal(status=403)  # the voter may not vote online (now)
    check_may_vote_online(db(), clock(), referendum, current_user.person_ref)
    alias = alias_for(db(), clock(), referendum, current_user.person_ref)
    return jsonify({"election_hash": referendum.election_hash,
                    "manifest": referendum.manifest_dict, "alias": alias})


@bp.post("/<int:referendum_id>/ballots")
@signed_in
@_ballot_limited
def cast(referendum_id: int) -> Any:
    """Cast an encrypted ballot; answers the tracker and where to look it up."""
    referendum, standing = access_referendum_to_cast(db(), current_user, referendum_id,
                                                   Permission.VOTE)
    # No retry on SQLite's "database is locked": a POST's transaction takes the write lock
    # when it begins (portal.database), so a cast waits for another instead of failing.
    try:
        receipt = cast_ballot(db(), clock(), current_user, referendum,
                              _body(referendum, "voting.ballot_refused"),
                              context=audit_context(), standing=standing)
    except VotingError as err:
        metrics.ballot_refused(err.reason or err.code)
        raise  # answered by portal.refusals
    on_commit(metrics.ballot_accepted)
    push_live(referendum)
    return jsonify(receipt_body(receipt, _receipt_url(referendum.id, receipt))), 201


csrf.exempt(cast)  # checked by ``_cast_token_or_csrf`` instead


@bp.get("/<int:referendum_id>/board/<tracker>")
def board_entry(referendum_id: int, tracker: str) -> Any:
    """Is a tracker on the bulletin board? Public, like the board page. The voting page asks
    when a cast's answer was lost (connection cut, gateway error) or refused as a replay of its
    own resend: if the ballot is there, the voter gets its receipt instead of an error."""
    referendum = get_referendum(referendum_id)
    if not TRACKER.match(tracker):
        return jsonify({"error": gettext("A tracker has 64 characters 0-9 and a-f."),
                        "status": 422}), 422
    entry = find_on_board(db(), referendum.id, tracker)
    if entry is None:
        return jsonify({"error": gettext("This tracker is not on the board."),
                        "status": 404}), 404
    receipt = receipt_of(entry)
    return jsonify(receipt_body(receipt, _receipt_url(referendum.id, receipt)))


def receipt_body(receipt: CastReceipt, receipt_url: str) -> dict[str, Any]:
    """What the voting page shows and where it sends the voter: the receipt (the lean cast
    path answers the same)."""
    return {"tracker": receipt.tracker, "seq": receipt.seq, "cast_at": receipt.cast_at,
            "board_head": receipt.board_head, "receipt_url": receipt_url}


def _receipt_url(referendum_id: int, receipt: CastReceipt) -> str:
    return url_for(RECEIPT_ENDPOINT, **receipt_url_values(referendum_id, receipt))


RECEIPT_ENDPOINT = "voting.board"


def receipt_url_values(referendum_id: int, receipt: CastReceipt) -> dict[str, Any]:
    """The receipt page's URL values (the board, at the ballot's tracker)."""
    return {"referendum_id": referendum_id, "tracker": receipt.tracker, "cast": 1}


@bp.post("/<int:referendum_id>/audits")
@signed_in
@_ballot_limited
def audit_ballot(referendum_id: int) -> Any:
    """Publish a Benaloh-audited ballot (checked; never counted, never castable)."""
    referendum = access_referendum(db(), current_user, referendum_id, Permission.VOTE)
    row = record_audited_ballot(db(), clock(), current_user, referendum,
                                _body(referendum, "voting.audit_refused"),
                                context=audit_context())
    return jsonify({"tracker": row.tracker,
                    "board_url": url_for("voting.board", referendum_id=referendum.id,
                                         tracker=row.tracker)}), 201


@bp.get("/<int:referendum_id>/manifest")
def manifest(referendum_id: int) -> Any:
    """The frozen manifest and its hash: public, for anyone who checks ballots (the voter's
    second device among them)."""
    referendum = get_referendum(referendum_id)
    if referendum.manifest is None:
        return jsonify({"error": gettext("This referendum has no online vote."),
                        "status": 404}), 404
    return jsonify({"election_hash": referendum.election_hash,
                    "manifest": referendum.manifest_dict})


@bp.get("/<int:referendum_id>/board-entries")
def board_entries(referendum_id: int) -> Any:
    """Public board entries by tracker or its first 8+ characters, with whether each counts:
    what the verification page opens with the voter's randomness (which stays on the device)."""
    referendum = get_referendum(referendum_id)
    prefix = (request.args.get("tracker") or "").strip().lower()
    try:
        entries = entries_by_tracker(db(), referendum, prefix)
    except ValueError:
        return jsonify({"error": gettext("Give at least the first 8 characters of the tracker "
                                         "(0-9, a-f)."), "status": 422}), 422
    return jsonify({"entries": [e.as_json() for e in entries]})


@bp.get("/<int:referendum_id>/turnout")
def turnout(referendum_id: int) -> Any:
    """Live turnout (never choices) and the board head. The head is public; the figures are
    for those who may follow turnout (observers, commissions, CVK)."""
    referendum = get_referendum(referendum_id)
    body: dict[str, Any] = {"board_seq": referendum.board_seq,
                            "board_head": referendum.board_head, "stage": referendum.stage}
    if can(Permission.VIEW_LIVE_TURNOUT, referendum):
        t = live_turnout(db(), referendum)
        body.update(eligible=t.eligible, online_voters=t.online_voters, in_person=t.in_person,
                    participants=t.participants)
    return jsonify(body)
